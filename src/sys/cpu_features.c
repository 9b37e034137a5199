/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what the processor can run, for the compute kernels' instruction-set dispatch: the same on
 * every OS (the compiler runtime reads cpuid; on Linux/aarch64 the kernel's capability bits). */
#include <stdint.h>
#if defined(__aarch64__) && defined(__linux__)
#  include <sys/auxv.h>
#endif

#include "sys/sys_internal.h"

uint32_t cordon__sys_cpu_features(void) {
    uint32_t f = 0;
#if defined(__x86_64__) || defined(__i386__)
    /* SAFETY: __builtin_cpu_init -- fill the compiler runtime's table of processor features (cpuid,
     * and xgetbv for the register state the OS saves).
     * Relies on: idempotent and thread-safe in libgcc and compiler-rt (it fills a static table once and
     * later calls return at once); takes no arguments.
     * On failure: cannot fail; on a processor without cpuid every feature reads as absent. */
    __builtin_cpu_init();
    /* SAFETY: __builtin_cpu_supports -- read one feature bit from the table filled above.
     * Relies on: __builtin_cpu_init ran first (just above); the feature names are literals the compiler
     * checks; AVX/AVX-512 bits are only set when the OS also saves those registers (XCR0), so a
     * feature reported here cannot raise SIGILL.
     * On failure: cannot fail; an unknown feature is a compile error. */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        f |= CORDON__CPU_AVX2;
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && (f & CORDON__CPU_AVX2) != 0) {
        f |= CORDON__CPU_AVX512;
    }
    /* SAFETY: __builtin_cpu_supports -- read the AVX-512 BF16 bit (cpuid leaf 7, subleaf 1, EAX bit 5).
     * Relies on: __builtin_cpu_init ran first (above); like the other AVX-512 bits it is only set when
     * the OS saves the AVX-512 registers (XCR0); reported only together with the AVX-512 level.
     * On failure: cannot fail; a compiler runtime that does not know the bit reports it absent. */
    if ((f & CORDON__CPU_AVX512) != 0 && __builtin_cpu_supports("avx512bf16")) {
        f |= CORDON__CPU_AVX512_BF16;
    }
#elif defined(__aarch64__)
    f |= CORDON__CPU_NEON; /* Advanced SIMD is part of the AArch64 base architecture */
#  if defined(__linux__)
    /* SAFETY: getauxval -- read the kernel's hardware capability bits for this process.
     * Relies on: AT_HWCAP always exists on Linux/aarch64; the value is a plain bit mask.
     * On failure: returns 0 (no bits), which only hides optional features. */
    unsigned long hw = getauxval(AT_HWCAP);
    (void)hw; /* no optional feature is used yet */
#  endif
#endif
    return f;
}
