/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the AVX-512 SGEMM micro-kernel (compiled with the AVX-512 flags only; placed in the avx512
 * table). C(12 × 32) += alpha · Σ_p a[p·12 + i] · b[p·32 + j], from panels packed by backend_cpu.c.
 *
 * Register use: 24 accumulators (12 rows × two 16-lane vectors), two B vectors, one broadcast of A:
 * 27 of the 32 zmm registers. Per p: 2 vector loads, 12 broadcasts (load-port operations) and 24 FMAs,
 * so the two FMA pipes stay the bottleneck, and 24 independent chains cover the FMA latency (4 cycles ×
 * 2 pipes = 8 needed). Each element's sum runs over p in order, then alpha·sum is added to C with one
 * FMA; the result does not depend on the blocking around the kernel. */
#if defined(__x86_64__) || defined(__i386__)
#  include <stddef.h>

#  include "compute/cpu/kernels.h"

#  define ROW(i)                                                                                                    \
      do {                                                                                                          \
          __m512 ai = _mm512_set1_ps(a[i]);                                                                         \
          c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                                               \
          c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                                                               \
      } while (0)

#  define STORE(i)                                                                                                  \
      do {                                                                                                          \
          float *ci = c + (size_t)(i) * ldc;                                                                        \
          _mm512_storeu_ps(ci, _mm512_fmadd_ps(va, c##i##0, _mm512_loadu_ps(ci)));                                  \
          _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(va, c##i##1, _mm512_loadu_ps(ci + 16)));                        \
      } while (0)

void cordon__gemm_micro_c_avx512(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    __m512 c80 = c00, c81 = c00, c90 = c00, c91 = c00;
    /* rows 10 and 11: named ca, cb */
    __m512 ca0 = c00, ca1 = c00, cb0 = c00, cb1 = c00;
    for (size_t p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        _mm_prefetch((const char *)(b + 32 * 8), _MM_HINT_T0);
        ROW(0);
        ROW(1);
        ROW(2);
        ROW(3);
        ROW(4);
        ROW(5);
        ROW(6);
        ROW(7);
        ROW(8);
        ROW(9);
        {
            __m512 ai = _mm512_set1_ps(a[10]);
            ca0 = _mm512_fmadd_ps(ai, b0, ca0);
            ca1 = _mm512_fmadd_ps(ai, b1, ca1);
            ai = _mm512_set1_ps(a[11]);
            cb0 = _mm512_fmadd_ps(ai, b0, cb0);
            cb1 = _mm512_fmadd_ps(ai, b1, cb1);
        }
        a += 12;
        b += 32;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
    STORE(6);
    STORE(7);
    STORE(8);
    STORE(9);
    {
        float *ci = c + 10 * ldc;
        _mm512_storeu_ps(ci, _mm512_fmadd_ps(va, ca0, _mm512_loadu_ps(ci)));
        _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(va, ca1, _mm512_loadu_ps(ci + 16)));
        ci += ldc;
        _mm512_storeu_ps(ci, _mm512_fmadd_ps(va, cb0, _mm512_loadu_ps(ci)));
        _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(va, cb1, _mm512_loadu_ps(ci + 16)));
    }
}
#else
typedef int cordon__gemm_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
