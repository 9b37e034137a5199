#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# THE CORDON, object-level half. It reads the compiled objects, so no macro, declaration, alias or asm
# label in the source can get around it. Rules:
#   imports      every undefined symbol of a safe object (outside src/sys/) is either
#                  - defined GLOBALLY by a library object, in cordon's namespace (cordon_* / cordon__*);
#                    when src/sys/ defines it, it is part of the contract (named in src/sys/sys.h) or
#                    the public API (cordon_<lowercase>), never a private src/sys/ function; or
#                  - on the allow-list (pure C library functions, compiler runtime).
#                A local (static) symbol never counts as "defined": `static int write(…) __asm__("write")`
#                cannot hide an import.
#   definitions  a safe object defines no global symbol outside cordon's namespace (a global `mmap`
#                defined in safe code would interpose on src/sys/'s own import), and no global symbol is
#                defined by two library objects.
#   instructions no executable section of a safe object contains a system-call instruction (x86
#                syscall / sysenter / int 0x80, Arm svc), whatever produced it.
# Usage: check-link.sh <cordon-manifest.txt> <pure-c-allowlist.txt>
set -eu
manifest=$1
allowlist=$2
nm=$(awk '$1 == "nm" {print $2}' "$manifest")
objdump=$(awk '$1 == "objdump" {print $2}' "$manifest")
source_dir=$(awk '$1 == "source_dir" {print $2}' "$manifest")
sys_objs=$(awk '$1 == "sys_object" {print $2}' "$manifest")
safe_objs=$(awk '$1 == "safe_object" {print $2}' "$manifest")
[ -n "$safe_objs" ] || { echo "no safe objects listed in $manifest"; exit 1; }
contract_header="$source_dir/src/sys/sys.h"
[ -f "$contract_header" ] || { echo "no contract header at $contract_header"; exit 1; }
tmp=${TMPDIR:-/tmp}/cordon-link.$$
trap 'rm -f "$tmp".*' EXIT INT TERM

# Global definitions, one "symbol object" line each (nm -P -g --defined-only: "sym TYPE value size").
globals() { # globals <object>…
    for o in "$@"; do
        "$nm" -P -g --defined-only "$o" | awk -v o="$o" 'NF >= 2 && $1 !~ /:$/ {print $1, o}'
    done
}
# shellcheck disable=SC2086
globals $sys_objs > "$tmp.sysdefs"
# shellcheck disable=SC2086
globals $safe_objs > "$tmp.safedefs"
grep -o 'cordon__[A-Za-z0-9_]*' "$contract_header" | sort -u > "$tmp.contract"
grep -v '^[[:space:]]*#' "$allowlist" | grep -v '^[[:space:]]*$' > "$tmp.allow"

status=0
rel() { echo "${1##*/src/}"; }

# --- definitions ---------------------------------------------------------------------------------------
while read -r sym obj; do
    case $sym in
        cordon_*) ;;
        # MinGW: the address slot of a symbol (.refptr.<symbol>) and the control block of a thread-local
        # variable (__emutls_v.<variable>), named after cordon's own symbol.
        .refptr.cordon_* | __emutls_v.cordon_* | .refptr.__emutls_v.cordon_*) ;;
        *)
            echo "cordon rule broken: $(rel "$obj") defines the global symbol '$sym', outside cordon's namespace."
            echo "  Safe code defines only cordon_* / cordon__* globals; a global named like an OS call interposes on it."
            status=1
            ;;
    esac
done < "$tmp.safedefs"
# (.refptr.* slots are link-once copies, one per object that needs one: not definitions that compete.)
cat "$tmp.sysdefs" "$tmp.safedefs" | grep -v '^\.refptr\.' |
    awk '{n[$1]++; w[$1] = w[$1] " " $2} END {for (s in n) if (n[s] > 1) print s, w[s]}' > "$tmp.dups"
while read -r sym objs; do
    echo "cordon rule broken: the global symbol '$sym' is defined by more than one library object:$objs"
    status=1
done < "$tmp.dups"

# --- imports -------------------------------------------------------------------------------------------
count=0
for obj in $safe_objs; do
    for sym in $("$nm" -P -u "$obj" | awk '$1 !~ /:$/ {print $1}'); do
        count=$((count + 1))
        if awk -v s="$sym" '$1 == s {found = 1} END {exit !found}' "$tmp.safedefs"; then
            continue
        fi
        if awk -v s="$sym" '$1 == s {found = 1} END {exit !found}' "$tmp.sysdefs"; then
            case $sym in
                cordon__*)
                    if grep -qx "$sym" "$tmp.contract"; then
                        continue
                    fi
                    echo "cordon rule broken: $(rel "$obj") imports '$sym', a private function of src/sys/."
                    echo "  Safe code calls src/sys/ only through the contract, src/sys/sys.h."
                    status=1
                    continue
                    ;;
                cordon_*) continue ;;
            esac
        fi
        ok=0
        while IFS= read -r pattern; do
            # shellcheck disable=SC2254
            case $sym in $pattern) ok=1; break ;; esac
        done < "$tmp.allow"
        if [ $ok -eq 0 ]; then
            echo "cordon rule broken: $(rel "$obj") imports '$sym', which is neither cordon's own nor on the allow-list."
            echo "  OS and foreign calls belong in src/sys/ behind src/sys/sys.h."
            status=1
        fi
    done
done

# --- instructions --------------------------------------------------------------------------------------
if [ -n "$objdump" ] && command -v "$objdump" > /dev/null 2>&1; then
    for obj in $safe_objs; do
        # Every section that is code or will be linked into code (.text*, .init*, .fini*, or flagged CODE),
        # disassembled whole (-D), so that bytes placed there by a section attribute count too.
        secs=$("$objdump" -h "$obj" | awk '
            $1 ~ /^[0-9]+$/ { name = $2; if (name ~ /^\.(text|init|fini)/) print name; next }
            name != "" && /CODE/ { print name }' | sort -u | sed 's/^/-j /')
        [ -n "$secs" ] || continue
        # shellcheck disable=SC2086
        "$objdump" -D --no-show-raw-insn $secs "$obj" 2> /dev/null |
            grep -E '^[[:space:]]*[0-9a-f]+:[[:space:]]+(syscall|sysenter|sysexit|int[[:space:]]+\$?0x80|svc|hvc|smc)\b' \
            > "$tmp.insn" || true
        if [ -s "$tmp.insn" ]; then
            echo "cordon rule broken: $(rel "$obj") contains a system-call instruction:"
            sed 's/^/    /' "$tmp.insn" | head -n 5
            status=1
        fi
    done
else
    echo "check-link: no objdump in the manifest; the instruction rule was not checked"
    status=1
fi

n=$(echo "$safe_objs" | wc -w)
[ $status -eq 0 ] && echo "checked $count imports, $(wc -l < "$tmp.safedefs") global definitions and the instructions of $n safe object files: all allowed"
exit $status
