#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The external symbols the Win32 build's src/sys/ objects import, as `cordon audit` reads them from
# src/sys/win32/imports.txt on a host that does not compile the Win32 files. Run in the windows build,
# it compares that list with the objects (so the committed list cannot miss a call), or rewrites it.
# The list holds what the audit would take from nm: undefined in a src/sys/ object, defined by no
# library object, not on the allow-list; a `__imp_` prefix (a DLL import) is dropped, since the source
# names the function without it.
# Usage: win32-imports.sh <cordon-manifest.txt> <pure-c-allowlist.txt> <imports.txt> [--write]
set -eu
manifest=$1
allowlist=$2
list=$3
mode=${4:-check}
nm=$(awk '$1 == "nm" {print $2}' "$manifest")
sys_objs=$(awk '$1 == "sys_object" {print $2}' "$manifest")
all_objs=$(awk '$1 == "sys_object" || $1 == "safe_object" {print $2}' "$manifest")
[ -n "$sys_objs" ] || { echo "no src/sys/ objects listed in $manifest"; exit 1; }
tmp=${TMPDIR:-/tmp}/cordon-win32-imports.$$
trap 'rm -f "$tmp".*' EXIT INT TERM

# shellcheck disable=SC2086
"$nm" -P -g --defined-only $all_objs | awk 'NF >= 2 && $1 !~ /:$/ {print $1}' | sort -u > "$tmp.defined"
# shellcheck disable=SC2086
"$nm" -P -u $sys_objs | awk 'NF >= 1 && $1 !~ /:$/ {print $1}' | sort -u > "$tmp.undefined"
grep -v '^[[:space:]]*#' "$allowlist" | grep -v '^[[:space:]]*$' > "$tmp.allow"

: > "$tmp.list"
while read -r sym; do
    grep -qxF "$sym" "$tmp.defined" && continue
    allowed=0
    while read -r pat; do
        # shellcheck disable=SC2254
        case $sym in $pat) allowed=1; break ;; esac
    done < "$tmp.allow"
    [ $allowed -eq 1 ] && continue
    echo "${sym#__imp_}" >> "$tmp.list"
done < "$tmp.undefined"
{
    echo "# The external symbols the Win32 build's src/sys/ objects import (see tools/win32-imports.sh, which"
    echo "# writes this file from the windows build: tools/win32-imports.sh build/windows/cordon-manifest.txt"
    echo "# tools/pure-c-allowlist.txt src/sys/win32/imports.txt --write). Read by \`cordon audit\` on other hosts."
    sort -u "$tmp.list"
} > "$tmp.out"

if [ "$mode" = "--write" ]; then
    cp "$tmp.out" "$list"
    echo "wrote $list ($(grep -vc '^#' "$tmp.out") symbols)"
    exit 0
fi
if ! diff -u "$list" "$tmp.out"; then
    echo "FAIL: $list differs from what the Win32 src/sys/ objects import (lines + above are the objects');"
    echo "regenerate it: sh tools/win32-imports.sh <windows build>/cordon-manifest.txt tools/pure-c-allowlist.txt $list --write"
    exit 1
fi
echo "$list lists exactly the $(grep -vc '^#' "$list") symbols the Win32 src/sys/ objects import"
