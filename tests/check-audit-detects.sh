#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `cordon audit` is not a rubber stamp: with the SAFETY comment of one call site removed from a scratch
# copy of src/sys/, it must exit non-zero and name the call; with one comment's text changed, the
# committed audit must be reported stale; an OS call written inside a #define counts as a call site;
# a safe object that defines a symbol src/sys/ imports (interposing on it) is refused. The Win32 files,
# audited from src/sys/win32/imports.txt on a host that does not build them, are held to the same rule.
# Usage: check-audit-detects.sh <cordon-cli> <cordon-manifest.txt> <scratch-dir> <c-compiler>
set -eu
cli=$1
manifest=$2
scratch=$3
cc=$4
emu=${CORDON_TEST_EMULATOR:-} # the emulator that runs target programs in a cross build
rm -rf "$scratch"
mkdir -p "$scratch/src/sys"
# Scratch manifest: same objects, sources (and the other platforms' import lists) copied into the
# scratch tree at their place under the source directory.
: > "$scratch/manifest.txt"
src_dir=$(awk '$1 == "source_dir" {print $2}' "$manifest")
copy_in() { # copy_in <file under src_dir>: prints the copy's path
    rel=${1#"$src_dir"/}
    mkdir -p "$scratch/$(dirname "$rel")"
    cp "$1" "$scratch/$rel"
    echo "$scratch/$rel"
}
while read -r key val; do
    case $key in
        sys_source)
            echo "sys_source $(copy_in "$val")" >> "$scratch/manifest.txt" ;;
        other_source|other_imports)
            platform=${val%% *}
            echo "$key $platform $(copy_in "${val#* }")" >> "$scratch/manifest.txt" ;;
        source_dir)
            mkdir -p "$scratch/tools"
            cp "$val/tools/pure-c-allowlist.txt" "$scratch/tools/"
            echo "source_dir $scratch" >> "$scratch/manifest.txt" ;;
        *) echo "$key $val" >> "$scratch/manifest.txt" ;;
    esac
done < "$manifest"

$emu "$cli" audit --manifest "$scratch/manifest.txt" --write "$scratch/AUDIT.md" > "$scratch/clean.log" || {
    echo "FAIL: the unmodified scratch copy does not pass the audit"; cat "$scratch/clean.log"; exit 1; }

# refused <log name> <pattern> <what>: the audit of the scratch copy fails, and its report matches the
# pattern (names the offending call).
refused() {
    if $emu "$cli" audit --manifest "$scratch/manifest.txt" > "$scratch/$1"; then
        echo "FAIL: audit passed $3"; cat "$scratch/$1"; exit 1
    fi
    grep -q "$2" "$scratch/$1" || { echo "FAIL: audit did not name $3"; cat "$scratch/$1"; exit 1; }
}

# 1. Remove the SAFETY comment of the uname call: the audit must fail and name it.
sed -i 's/SAFETY: uname --/NOTE: uname --/' "$scratch/src/sys/info.c"
refused missing.log "uname used in cordon__sys_os_identity without a SAFETY" "a call whose SAFETY comment was removed"
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
refused macro.log "uname used in .* without a SAFETY" "an OS call written in a #define without a SAFETY comment"
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
# 6. and 7. The Win32 files, whatever the host: a Win32 call whose SAFETY comment is removed, and one
# planted without a comment, are each named. (On a host that builds them they are this build's files.)
win32_pages="$scratch/src/sys/win32/pages_win32.c"
if grep -q "^other_source win32 .*pages_win32.c\|^sys_source .*pages_win32.c" "$scratch/manifest.txt"; then
    sed -i 's/SAFETY: VirtualAlloc -- reserve address space/NOTE: VirtualAlloc -- reserve address space/' "$win32_pages"
    refused win32-missing.log \
        "src/sys/win32/pages_win32.c:[0-9]*: VirtualAlloc used in cordon__sys_pages_reserve without a SAFETY" \
        "a Win32 call whose SAFETY comment was removed"
    sed -i 's/NOTE: VirtualAlloc -- reserve address space/SAFETY: VirtualAlloc -- reserve address space/' "$win32_pages"
    printf '\nstatic int planted_release(void *p) {\n    return VirtualFree(p, 0, MEM_RELEASE) ? 0 : -1;\n}\n' >> "$win32_pages"
    refused win32-planted.log "VirtualFree used in planted_release without a SAFETY" \
        "a Win32 call planted without a SAFETY comment"
    cp "$src_dir/src/sys/win32/pages_win32.c" "$win32_pages"
else
    echo "FAIL: the manifest names no Win32 source (other_source win32 …): the Win32 files are not audited"; exit 1
fi

$emu "$cli" audit --manifest "$scratch/manifest.txt" --check "$scratch/AUDIT.md" > "$scratch/restored.log" || {
    echo "FAIL: the restored scratch copy does not match its audit again"; cat "$scratch/restored.log"; exit 1; }
echo "audit refuses a missing comment, an incomplete comment, a stale SAFETY_AUDIT.md, an uncommented call in a #define, an interposing safe object, and a Win32 call without its comment"
