#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The SAFETY audit of a build whose own `cordon` tool cannot run it (the Windows build: the audit reads
# the objects with the cross nm named in the manifest, which a Windows program under Wine cannot
# start): builds the audit for the build machine with its C compiler, then checks that every call site
# of this build's src/sys/ objects has its complete SAFETY comment, writing the audit beside.
# Usage: check-audit-host.sh <host-c-compiler> <source-dir> <cordon-manifest.txt> <scratch-dir> <audit-out.md>
set -eu
cc=$1
src=$2
manifest=$3
scratch=$4
out=$5
rm -rf "$scratch"
mkdir -p "$scratch"
printf '#include "cordon_cli.h"\nint main(int argc, char **argv) { return cordon_cli_audit(argc - 1, argv + 1); }\n' \
    > "$scratch/main.c"
"$cc" -O1 -I "$src/tools/cordon" -o "$scratch/audit" "$src/tools/cordon/audit.c" "$scratch/main.c" || {
    echo "FAIL: the audit does not build with the host compiler $cc"; exit 1; }
exec "$scratch/audit" --manifest "$manifest" --write "$out"
