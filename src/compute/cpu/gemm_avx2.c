/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the AVX2 + FMA SGEMM micro-kernel (compiled with -mavx2 -mfma only; placed in the avx2
 * table). C(6 × 16) += alpha · Σ_p a[p·6 + i] · b[p·16 + j], from panels packed by backend_cpu.c.
 *
 * Register use: 12 accumulators (6 rows × two 8-lane vectors), two B vectors, one broadcast: 15 of the
 * 16 ymm registers; per p 2 loads, 6 broadcasts and 12 FMAs. Each element's sum runs over p in order,
 * then alpha·sum is added to C with one FMA. */
#if defined(__x86_64__) || defined(__i386__)
#  include <stddef.h>

#  include "compute/cpu/kernels.h"

#  define ROW(i)                                                                                                    \
      do {                                                                                                          \
          __m256 ai = _mm256_broadcast_ss(a + (i));                                                                 \
          c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                                                               \
          c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                                                               \
      } while (0)

#  define STORE(i)                                                                                                  \
      do {                                                                                                          \
          float *ci = c + (size_t)(i) * ldc;                                                                        \
          _mm256_storeu_ps(ci, _mm256_fmadd_ps(va, c##i##0, _mm256_loadu_ps(ci)));                                  \
          _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(va, c##i##1, _mm256_loadu_ps(ci + 8)));                          \
      } while (0)

void cordon__gemm_micro_c_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (size_t p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        ROW(0);
        ROW(1);
        ROW(2);
        ROW(3);
        ROW(4);
        ROW(5);
        a += 6;
        b += 16;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
}
#else
typedef int cordon__gemm_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
