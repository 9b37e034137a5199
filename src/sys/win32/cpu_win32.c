/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what the processor can run, and the process environment's settings, on Windows (the Win32
 * counterpart of cpu.c). */
#define WIN32_LEAN_AND_MEAN

#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

uint32_t cordon__sys_cpu_features(void) {
    uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
    /* SAFETY: __builtin_cpu_init -- fill the compiler runtime's table of processor features (cpuid,
     * and xgetbv for the register state the OS saves).
     * Relies on: idempotent and thread-safe in libgcc (a static table filled once); no arguments.
     * On failure: cannot fail; on a processor without cpuid every feature reads as absent. */
    __builtin_cpu_init();
    /* SAFETY: __builtin_cpu_supports -- read one feature bit from the table filled above.
     * Relies on: __builtin_cpu_init ran first; the names are literals the compiler checks; AVX and
     * AVX-512 bits are set only when the OS saves those registers (XCR0), as Windows 7 SP1 and later
     * do for AVX and Windows 10 for AVX-512.
     * On failure: cannot fail. */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        f |= CORDON__CPU_AVX2;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && (f & CORDON__CPU_AVX2) != 0) {
        f |= CORDON__CPU_AVX512;
    }
    /* SAFETY: __builtin_cpu_supports -- read the AVX-512 BF16 bit (cpuid leaf 7, subleaf 1, EAX bit 5).
     * Relies on: __builtin_cpu_init ran first (above); set only when the OS saves the AVX-512 registers
     * (XCR0); reported only together with the AVX-512 level.
     * On failure: cannot fail; a compiler runtime that does not know the bit reports it absent. */
    if ((f & CORDON__CPU_AVX512) != 0 && __builtin_cpu_supports("avx512bf16")) {
        f |= CORDON__CPU_AVX512_BF16;
    }
#endif
    return f;
}

cordon_status cordon__sys_env_get(const char *name, char *buf, size_t len, bool *found_out) {
    if (name == NULL || buf == NULL || len == 0 || found_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    char value[1024];
    /* SAFETY: GetEnvironmentVariableA -- read one setting from the process environment.
     * Relies on: name is NUL-terminated; value is a local array whose size is passed, and the call
     * copies at most that many characters (with the NUL), returning the length without it, or the
     * size needed (greater than the array) when it does not fit, or 0 when the variable is absent.
     * Windows has no set-user-ID programs, so the environment is the user's own.
     * On failure: 0 means absent (ERROR_ENVVAR_NOT_FOUND) or empty: both read as not set. */
    DWORD n = GetEnvironmentVariableA(name, value, (DWORD)sizeof value);
    if (n == 0) {
        *found_out = false;
        buf[0] = '\0';
        return CORDON_OK;
    }
    if (n >= sizeof value || (size_t)n >= len) {
        return CORDON_LIMIT_EXCEEDED;
    }
    memcpy(buf, value, (size_t)n + 1u);
    *found_out = true;
    return CORDON_OK;
}
