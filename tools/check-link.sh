#!/bin/sh
# THE CORDON, link-time half: every undefined symbol of every library object file outside src/sys/ must
# be either defined by another library object (cordon's own code) or match a line of the allow-list.
# Usage: check-link.sh <cordon-manifest.txt> <pure-c-allowlist.txt>
# This reads the compiled objects, so no macro, declaration or alias in the source can get around it.
set -eu
manifest=$1
allowlist=$2
nm=$(awk '$1 == "nm" {print $2}' "$manifest")
sys_objs=$(awk '$1 == "sys_object" {print $2}' "$manifest")
safe_objs=$(awk '$1 == "safe_object" {print $2}' "$manifest")
[ -n "$safe_objs" ] || { echo "no safe objects listed in $manifest"; exit 1; }
tmp=${TMPDIR:-/tmp}/cordon-link.$$
trap 'rm -f "$tmp".*' EXIT INT TERM
# Symbols the library defines itself (in any object).
# shellcheck disable=SC2086
"$nm" -P --defined-only $sys_objs $safe_objs | awk 'NF >= 2 && $2 != "U" {print $1}' | sort -u > "$tmp.defined"
grep -v '^[[:space:]]*#' "$allowlist" | grep -v '^[[:space:]]*$' > "$tmp.allow"
status=0
count=0
for obj in $safe_objs; do
    for sym in $("$nm" -P -u "$obj" | awk '{print $1}'); do
        count=$((count + 1))
        if grep -qx "$sym" "$tmp.defined"; then
            continue
        fi
        ok=0
        while IFS= read -r pattern; do
            # shellcheck disable=SC2254
            case $sym in $pattern) ok=1; break ;; esac
        done < "$tmp.allow"
        if [ $ok -eq 0 ]; then
            rel=${obj##*/src/}
            echo "cordon rule broken: ${rel} imports '$sym', which is neither cordon's own nor on the allow-list."
            echo "  OS and foreign calls belong in src/sys/ behind src/sys/sys.h."
            status=1
        fi
    done
done
n=$(echo "$safe_objs" | wc -w)
[ $status -eq 0 ] && echo "checked $count imports of $n safe object files: all allowed"
exit $status
