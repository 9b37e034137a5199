#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The shared library exports exactly the public API: every defined dynamic symbol is a public cordon_
# function (never an internal cordon__ one), and the public entry points are there.
# Usage: check-exports.sh <nm> <library.so>    (ELF: the dynamic symbol table)
#        check-exports.sh <objdump> <library.dll>  (a Windows DLL: its export table, objdump -p)
set -eu
tool=$1
lib=$2
case "$lib" in
*.dll)
    # "[   3] cordon_name" lines of the export table's name pointer table
    syms=$("$tool" -p "$lib" | sed -n '/^\[Ordinal\/Name Pointer\] Table/,/^$/p' |
           sed -n 's/^[[:space:]]*\[ *[0-9]*\] \(.*\)$/\1/p' | tr -d '\r' | sort -u)
    [ -n "$syms" ] || { echo "no export table read from $lib"; exit 1; }
    ;;
*)
    syms=$("$tool" -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
    ;;
esac
bad=$(printf '%s\n' "$syms" | grep -v '^cordon_[a-z0-9]' || true)
internal=$(printf '%s\n' "$syms" | grep '^cordon__' || true)
if [ -n "$bad$internal" ]; then
    echo "non-public symbols exported from $lib:"
    printf '%s\n' $bad $internal
    exit 1
fi
for required in cordon_status_str cordon_last_os_error cordon_version_string cordon_system_info_get; do
    if ! printf '%s\n' "$syms" | grep -qx "$required"; then
        echo "public symbol $required is not exported"
        exit 1
    fi
done
echo "$(printf '%s\n' "$syms" | wc -l) exported symbols, all public"
