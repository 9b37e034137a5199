#!/bin/sh
# THE CORDON, compile-time proof: for each library source outside src/sys/, a scratch copy compiles with
# the exact command the build used; the same copy with a planted OS call does not, and the compiler
# names the poisoned call. Further plants (other calls, a forbidden include, errno, malloc) are tried on
# the first file.
# Usage: plant-violation.sh <cordon-manifest.txt> <compile_commands.json> <scratch-dir>
set -eu
manifest=$1
ccjson=$2
scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"

# The compile command of one file from compile_commands.json (CMake writes one key per line).
command_for() {
    awk -v want="$1" '
        /"command":/ { cmd = $0; sub(/^[^:]*: *"/, "", cmd); sub(/",? *$/, "", cmd) }
        /"file":/    { f = $0; sub(/^[^:]*: *"/, "", f); sub(/",? *$/, "", f); if (f == want) { print cmd; exit } }
    ' "$ccjson" | sed 's/\\"/"/g; s/\\\\/\\/g'
}

# compile <source-it-stands-for> <file-to-compile> <log>: exit status of the compiler.
compile() {
    cmd=$(command_for "$1")
    [ -n "$cmd" ] || { echo "no compile command for $1 in $ccjson"; exit 2; }
    obj="$scratch/out.o"
    # Replace the object output and the source; keep every flag; search the original's directory for
    # its quoted includes.
    cmd=$(printf '%s\n' "$cmd" | sed "s# -o [^ ]*# -o $obj#")
    cmd=$(printf '%s\n' "$cmd" | awk -v orig="$1" -v new="$2" '{ i = index($0, orig); if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(orig)); print }')
    dir=$(dirname "$1")
    eval "$cmd -iquote $dir" > "$3" 2>&1
}

plant() { # plant <source> <name> <code>
    src=$1
    name=$2
    base=$(basename "$src" .c)
    copy="$scratch/$base.$name.c"
    cp "$src" "$copy"
    printf '\n%s\n' "$3" >> "$copy"
    if compile "$src" "$copy" "$scratch/$base.$name.log"; then
        echo "FAIL: $src with planted $name compiled; the cordon did not stop it"
        return 1
    fi
    if ! grep -q 'poison' "$scratch/$base.$name.log"; then
        echo "FAIL: $src with planted $name failed to compile, but not because of the cordon:"
        cat "$scratch/$base.$name.log"
        return 1
    fi
    return 0
}

status=0
files=0
first=""
for src in $(awk '$1 == "safe_source" {print $2}' "$manifest"); do
    files=$((files + 1))
    [ -n "$first" ] || first=$src
    base=$(basename "$src" .c)
    cp "$src" "$scratch/$base.control.c"
    if ! compile "$src" "$scratch/$base.control.c" "$scratch/$base.control.log"; then
        echo "FAIL: the unmodified copy of $src does not compile; the test proves nothing:"
        cat "$scratch/$base.control.log"
        status=1
        continue
    fi
    plant "$src" mmap 'void *cordon__planted(void); void *cordon__planted(void) { return mmap(0, 4096, 3, 0x22, -1, 0); }' || status=1
done
[ -n "$first" ] || { echo "no safe sources listed"; exit 1; }

plant "$first" include_mman '#include <sys/mman.h>' || status=1
plant "$first" syscall 'long cordon__planted(void); long cordon__planted(void) { return syscall(202, 0, 0, 0); }' || status=1
plant "$first" pthread 'int cordon__planted(void); int cordon__planted(void) { return pthread_create(0, 0, 0, 0); }' || status=1
plant "$first" errno 'int cordon__planted(void); int cordon__planted(void) { return errno; }' || status=1
plant "$first" malloc 'void *cordon__planted(void); void *cordon__planted(void) { return malloc(16); }' || status=1
plant "$first" dlopen 'void *cordon__planted(void); void *cordon__planted(void) { return dlopen("x", 1); }' || status=1
plant "$first" opencl 'int cordon__planted(void); int cordon__planted(void) { return clFinish(0); }' || status=1

if [ $status -eq 0 ]; then
    echo "planted OS calls refused in all $files safe sources (and 7 more plant kinds in $(basename "$first"))"
    sed -n '1,4p' "$scratch/$(basename "$first" .c).mmap.log"
fi
exit $status
