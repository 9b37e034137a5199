#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cordon audit` is not a rubber stamp: with the SAFETY comment of one call site removed from a scratch
# copy of src/sys/, it must exit non-zero and name the call; with one comment's text changed, the
# committed audit must be reported stale; an OS call written inside a #define counts as a call site;
# a safe object that defines a symbol src/sys/ imports (interposing on it) is refused.
# Usage: check-audit-detects.sh <cordon-cli> <cordon-manifest.txt> <scratch-dir> <c-compiler>
set -eu
cli=$1
manifest=$2
scratch=$3
cc=$4
emu=${CORDON_TEST_EMULATOR:-} # the emulator that runs target programs in a cross build
rm -rf "$scratch"
mkdir -p "$scratch/src/sys"
# Scratch manifest: same objects, sources copied into the scratch tree.
: > "$scratch/manifest.txt"
while read -r key val; do
    case $key in
        sys_source)
            cp "$val" "$scratch/src/sys/"
            echo "sys_source $scratch/src/sys/$(basename "$val")" >> "$scratch/manifest.txt" ;;
        source_dir)
            mkdir -p "$scratch/tools"
            cp "$val/tools/pure-c-allowlist.txt" "$scratch/tools/"
            echo "source_dir $scratch" >> "$scratch/manifest.txt" ;;
        *) echo "$key $val" >> "$scratch/manifest.txt" ;;
    esac
done < "$manifest"

$emu "$cli" audit --manifest "$scratch/manifest.txt" --write "$scratch/AUDIT.md" > "$scratch/clean.log" || {
    echo "FAIL: the unmodified scratch copy does not pass the audit"; cat "$scratch/clean.log"; exit 1; }

# 1. Remove the SAFETY comment of the uname call: the audit must fail and name it.
sed -i 's/SAFETY: uname --/NOTE: uname --/' "$scratch/src/sys/info.c"
if $emu "$cli" audit --manifest "$scratch/manifest.txt" > "$scratch/missing.log"; then
    echo "FAIL: audit passed with a SAFETY comment removed"; cat "$scratch/missing.log"; exit 1
fi
grep -q "uname used in cordon__sys_os_identity without a SAFETY" "$scratch/missing.log" || {
    echo "FAIL: audit did not name the uncommented call"; cat "$scratch/missing.log"; exit 1; }
sed -i 's/NOTE: uname --/SAFETY: uname --/' "$scratch/src/sys/info.c"

# 2. Change the text of a comment: the audit written before is now stale.
sed -i 's/read the monotonic clock/read the monotonic clock (changed)/' "$scratch/src/sys/info.c"
if $emu "$cli" audit --manifest "$scratch/manifest.txt" --check "$scratch/AUDIT.md" > "$scratch/stale.log"; then
    echo "FAIL: audit --check passed against a stale audit"; cat "$scratch/stale.log"; exit 1
fi
grep -q "is stale" "$scratch/stale.log" || { echo "FAIL: stale audit not reported"; cat "$scratch/stale.log"; exit 1; }

# 3. A comment without its 'Relies on:' part is incomplete.
sed -i 's/Relies on: ts is a local/Because ts is a local/' "$scratch/src/sys/info.c"
if $emu "$cli" audit --manifest "$scratch/manifest.txt" > "$scratch/incomplete.log"; then
    echo "FAIL: audit passed an incomplete SAFETY comment"; cat "$scratch/incomplete.log"; exit 1
fi
sed -i 's/Because ts is a local/Relies on: ts is a local/' "$scratch/src/sys/info.c"
sed -i 's/read the monotonic clock (changed)/read the monotonic clock/' "$scratch/src/sys/info.c"

# 4. An OS call inside a macro definition, with no SAFETY comment, is a call site without its comment.
printf '\n#define CORDON__PLANTED_IDENTITY(buf) uname(buf)\n' >> "$scratch/src/sys/info.c"
if $emu "$cli" audit --manifest "$scratch/manifest.txt" > "$scratch/macro.log"; then
    echo "FAIL: audit passed an OS call written in a #define without a SAFETY comment"; cat "$scratch/macro.log"; exit 1
fi
grep -q "uname used in .* without a SAFETY" "$scratch/macro.log" || {
    echo "FAIL: audit did not name the call inside the #define"; cat "$scratch/macro.log"; exit 1; }
sed -i '/CORDON__PLANTED_IDENTITY/d' "$scratch/src/sys/info.c"

# 5. A safe object that defines a global symbol src/sys/ imports interposes on it: refused, not "stale".
printf 'void *mmap(void *a, unsigned long b, int c, int d, int e, long f);\nvoid *mmap(void *a, unsigned long b, int c, int d, int e, long f) { (void)b; (void)c; (void)d; (void)e; (void)f; return a; }\n' \
    > "$scratch/interpose.c"
"$cc" -c -o "$scratch/interpose.o" "$scratch/interpose.c"
cp "$scratch/manifest.txt" "$scratch/interpose-manifest.txt"
echo "safe_object $scratch/interpose.o" >> "$scratch/interpose-manifest.txt"
if $emu "$cli" audit --manifest "$scratch/interpose-manifest.txt" > "$scratch/interpose.log"; then
    echo "FAIL: audit passed with a safe object defining mmap"; cat "$scratch/interpose.log"; exit 1
fi
grep -q "mmap: imported by src/sys/ and defined by safe code" "$scratch/interpose.log" || {
    echo "FAIL: audit did not name the interposed symbol"; cat "$scratch/interpose.log"; exit 1; }
$emu "$cli" audit --manifest "$scratch/manifest.txt" --check "$scratch/AUDIT.md" > "$scratch/restored.log" || {
    echo "FAIL: the restored scratch copy does not match its audit again"; cat "$scratch/restored.log"; exit 1; }
echo "audit refuses a missing comment, an incomplete comment, a stale SAFETY_AUDIT.md, an uncommented call in a #define and an interposing safe object"
