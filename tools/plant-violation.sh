#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
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

extra_kinds=0
plant() { # plant <source> <name> <code>
    src=$1
    [ "$2" = mmap ] || extra_kinds=$((extra_kinds + 1))
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

case $(command_for "$first") in
    *mingw32*) plant "$first" include_windows '#include <windows.h>' || status=1 ;; # no <sys/mman.h> there
    *) plant "$first" include_mman '#include <sys/mman.h>' || status=1 ;;
esac
# Assembly: a syscall instruction, an asm label renaming a function to an OS call, either spelling.
plant "$first" asm_syscall 'long cordon__planted(void); long cordon__planted(void) { long r; __asm__ __volatile__("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory"); return r; }' || status=1
plant "$first" asm_label 'long cordon__planted_w(int, const void *, unsigned long) __asm__("write"); long cordon__planted(void); long cordon__planted(void) { return cordon__planted_w(2, "x", 1); }' || status=1
plant "$first" asm_plain 'void cordon__planted(void); void cordon__planted(void) { __asm("nop"); }' || status=1
# Fortify and stack-protector entry points, and builtins that end the process.
plant "$first" stack_chk 'void __stack_chk_fail(void); void cordon__planted(void); void cordon__planted(void) { __stack_chk_fail(); }' || status=1
plant "$first" memcpy_chk 'void *cordon__planted(void *d, const void *s); void *cordon__planted(void *d, const void *s) { return __builtin___memcpy_chk(d, s, 16, 1); }' || status=1
plant "$first" builtin_trap 'void cordon__planted(void); void cordon__planted(void) { __builtin_trap(); }' || status=1
# src/sys/'s private headers and functions, however they are reached.
plant "$first" define_sys_internal '#define CORDON_SYS_INTERNAL 1
#include "sys/sys_internal.h"' || status=1
plant "$first" include_fault '#include "sys/fault.h"' || status=1
# Compiler builtins that reach the compiler runtime, and calls added to src/sys/ since the first list.
plant "$first" builtin_cpu 'int cordon__planted(void); int cordon__planted(void) { return __builtin_cpu_supports("avx2"); }' || status=1
plant "$first" secure_getenv 'char *secure_getenv(const char *n); const char *cordon__planted(void); const char *cordon__planted(void) { return secure_getenv("HOME"); }' || status=1
plant "$first" include_setjmp '#include <setjmp.h>' || status=1
plant "$first" sys_errno 'int cordon__sys_errno(void); int cordon__planted(void); int cordon__planted(void) { return cordon__sys_errno(); }' || status=1
plant "$first" syscall 'long cordon__planted(void); long cordon__planted(void) { return syscall(202, 0, 0, 0); }' || status=1
plant "$first" pthread 'int cordon__planted(void); int cordon__planted(void) { return pthread_create(0, 0, 0, 0); }' || status=1
plant "$first" errno 'int cordon__planted(void); int cordon__planted(void) { return errno; }' || status=1
plant "$first" malloc 'void *cordon__planted(void); void *cordon__planted(void) { return malloc(16); }' || status=1
plant "$first" dlopen 'void *cordon__planted(void); void *cordon__planted(void) { return dlopen("x", 1); }' || status=1
plant "$first" opencl 'int cordon__planted(void); int cordon__planted(void) { return clFinish(0); }' || status=1
# Win32 calls (src/sys/win32/), declared by hand as a safe file could: poisoned on every OS, so a
# Windows call in safe code stops the native build too, not only the Windows one.
plant "$first" virtualalloc 'void *VirtualAlloc(void *a, unsigned long long n, unsigned long t, unsigned long p); void *cordon__planted(void); void *cordon__planted(void) { return VirtualAlloc(0, 65536, 0x2000, 1); }' || status=1
plant "$first" waitonaddress 'int WaitOnAddress(volatile void *a, void *c, unsigned long long n, unsigned long ms); int cordon__planted(unsigned *w); int cordon__planted(unsigned *w) { unsigned c = 0; return WaitOnAddress(w, &c, 4, 0); }' || status=1
plant "$first" mapviewoffile 'void *MapViewOfFile(void *h, unsigned long a, unsigned long hi, unsigned long lo, unsigned long long n); void *cordon__planted(void *h); void *cordon__planted(void *h) { return MapViewOfFile(h, 4, 0, 0, 0); }' || status=1
plant "$first" getprocaddress 'void *LoadLibraryA(const char *n); void *GetProcAddress(void *m, const char *n); void *cordon__planted(void); void *cordon__planted(void) { return GetProcAddress(LoadLibraryA("kernel32.dll"), "VirtualAlloc"); }' || status=1
# Found while porting: the wide-character file calls and the UTF-8 conversion (the Win32 path of model
# files), a vectored exception handler (how the Windows trap catches faults), and the compiler's own
# non-local jump (how it resumes): each stays inside src/sys/win32/.
plant "$first" createfilew 'void *CreateFileW(const unsigned short *n, unsigned long a, unsigned long s, void *sa, unsigned long c, unsigned long f, void *t); void *cordon__planted(const unsigned short *n); void *cordon__planted(const unsigned short *n) { return CreateFileW(n, 0x80000000u, 1, 0, 3, 0, 0); }' || status=1
plant "$first" multibytetowidechar 'int MultiByteToWideChar(unsigned c, unsigned long f, const char *s, int n, unsigned short *w, int m); int cordon__planted(unsigned short *w); int cordon__planted(unsigned short *w) { return MultiByteToWideChar(65001, 8, "x", -1, w, 2); }' || status=1
plant "$first" vectored_handler 'void *AddVectoredExceptionHandler(unsigned long first, long (*h)(void *)); long cordon__planted_h(void *e); long cordon__planted_h(void *e) { (void)e; return 0; } void *cordon__planted(void); void *cordon__planted(void) { return AddVectoredExceptionHandler(1, cordon__planted_h); }' || status=1
plant "$first" builtin_longjmp 'void cordon__planted(void **buf); void cordon__planted(void **buf) { __builtin_longjmp(buf, 1); }' || status=1
# Found while moving pool workers off their caller's processor: the affinity and processor-number calls.
plant "$first" sched_setaffinity 'int sched_setaffinity(int pid, unsigned long n, const void *m); int cordon__planted(const void *m); int cordon__planted(const void *m) { return sched_setaffinity(0, 128, m); }' || status=1
plant "$first" sched_getcpu 'int sched_getcpu(void); int cordon__planted(void); int cordon__planted(void) { return sched_getcpu(); }' || status=1

# --- The object-level check (tools/check-link.sh), proven on its own ---------------------------------------
# Each plant below is compiled with the first safe file's command but WITHOUT cordon_safe.h, as if the
# compile-time poison had a gap, and added to a scratch manifest as a safe object: check-link.sh must
# refuse it and say why. The weakref plant is compiled WITH the poison, which it passes (the OS name is
# a string): only the object check stops it.
ccjson_first_cmd=$(command_for "$first")
link_plant() { # link_plant <name> <expected message> <with-poison: 0|1> <code> [<code of a second object>]
    name=$1
    want=$2
    poison=$3
    objs=""
    i=0
    shift 3
    for code in "$@"; do
        i=$((i + 1))
        src="$scratch/link.$name.$i.c"
        printf '%s\n' "$code" > "$src"
        cmd=$(printf '%s\n' "$ccjson_first_cmd" | sed "s# -o [^ ]*# -o $scratch/link.$name.$i.o#")
        [ "$poison" -eq 1 ] || cmd=$(printf '%s\n' "$cmd" | sed 's# -include [^ ]*cordon_safe\.h##')
        cmd=$(printf '%s\n' "$cmd" | awk -v orig="$first" -v new="$src" '{ i = index($0, orig); if (i) $0 = substr($0, 1, i - 1) new substr($0, i + length(orig)); print }')
        if ! eval "$cmd" > "$scratch/link.$name.$i.cc.log" 2>&1; then
            echo "FAIL: link plant $name ($i) did not compile, so it proves nothing:"
            cat "$scratch/link.$name.$i.cc.log"
            return 1
        fi
        objs="$objs $scratch/link.$name.$i.o"
    done
    cp "$manifest" "$scratch/link.$name.manifest"
    for o in $objs; do echo "safe_object $o" >> "$scratch/link.$name.manifest"; done
    if sh "$checklink" "$scratch/link.$name.manifest" "$allowlist" > "$scratch/link.$name.log" 2>&1; then
        echo "FAIL: tools/check-link.sh accepted the planted $name"
        return 1
    fi
    if ! grep -q "$want" "$scratch/link.$name.log"; then
        echo "FAIL: tools/check-link.sh refused the planted $name, but not for the expected reason ($want):"
        cat "$scratch/link.$name.log"
        return 1
    fi
    return 0
}
here=$(cd "$(dirname "$0")" && pwd)
checklink="$here/check-link.sh"
allowlist="$here/pure-c-allowlist.txt"
link_plants=0
# The target's architecture (a cross build's objects are not the host's), from the first safe object.
objdump=$(awk '$1 == "objdump" {print $2}' "$manifest")
arch=$(uname -m)
first_obj=$(awk '$1 == "safe_object" {print $2; exit}' "$manifest")
if [ -n "$objdump" ] && [ -n "$first_obj" ] && [ -f "$first_obj" ]; then
    arch=$("$objdump" -f "$first_obj" | sed -n 's/^architecture: *\([^,]*\).*/\1/p')
fi
case $arch in
    x86_64 | x86-64 | i?86 | i386*)
        link_plant asm_syscall 'contains a system-call instruction' 0 'long cordon__planted(void); long cordon__planted(void) { long r; __asm__ __volatile__("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory"); return r; }' || status=1
        link_plant text_bytes 'contains a system-call instruction' 0 '__attribute__((section(".text"))) const unsigned char cordon__planted_code[] = {0x0f, 0x05, 0xc3};' || status=1
        link_plants=$((link_plants + 2)) ;;
    aarch64 | arm64)
        link_plant asm_svc 'contains a system-call instruction' 0 'long cordon__planted(void); long cordon__planted(void) { register long x8 __asm__("x8") = 172; register long x0 __asm__("x0"); __asm__ __volatile__("svc #0" : "=r"(x0) : "r"(x8) : "memory"); return x0; }' || status=1
        link_plants=$((link_plants + 1)) ;;
esac
link_plant global_mmap "defines the global symbol 'mmap'" 0 'void *cordon__p(void *, unsigned long, int, int, int, long) __asm__("mmap"); void *cordon__p(void *a, unsigned long b, int c, int d, int e, long f) { (void)b; (void)c; (void)d; (void)e; (void)f; return a; }' || status=1
link_plant local_write "imports 'write'" 0 'static long cordon__w(int, const void *, unsigned long) __asm__("write"); static long cordon__w(int a, const void *b, unsigned long c) { (void)b; return a + (long)c; } long cordon__planted_a(void); long cordon__planted_a(void) { return cordon__w(1, 0, 0); }' \
    'long write(int, const void *, unsigned long); long cordon__planted_b(void); long cordon__planted_b(void) { return write(2, "x", 1); }' || status=1
link_plant private_sys "a private function of src/sys/" 0 'int cordon__sys_errno(void); int cordon__planted(void); int cordon__planted(void) { return cordon__sys_errno(); }' || status=1
case $arch in
    x86_64 | x86-64 | i?86 | i386*) # x86's CPU-feature builtins read the compiler runtime's table
        link_plant builtin_cpu "imports '__cpu_model'" 0 'int cordon__planted(void); int cordon__planted(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx2"); }' || status=1
        link_plants=$((link_plants + 1)) ;;
esac
link_plant weakref "imports 'mmap'" 1 'static void *cordon__wr(void) __attribute__((weakref("mmap"))); void *cordon__planted(void); void *cordon__planted(void) { return cordon__wr(); }' || status=1
link_plants=$((link_plants + 4))

if [ $status -eq 0 ]; then
    echo "planted OS calls refused in all $files safe sources, $extra_kinds more plant kinds in $(basename "$first"), and $link_plants object-level plants refused by tools/check-link.sh"
    sed -n '1,4p' "$scratch/$(basename "$first" .c).mmap.log"
fi
exit $status
