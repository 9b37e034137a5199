/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the NEON SGEMM micro-kernel (aarch64, where Advanced SIMD and its FMA are part of the base
 * architecture; placed in the neon table). C(8 × 12) += alpha · Σ_p a[p·8 + i] · b[p·12 + j], from panels
 * packed by backend_cpu.c.
 *
 * Register use: 24 accumulators (8 rows × three 4-lane vectors), three B vectors and two A vectors whose
 * lanes are the row multipliers (FMLA by element): 29 of the 32 vector registers; per p 5 loads and 24
 * FMAs. Each element's sum runs over p in order, then alpha·sum is added to C with one FMA. */
#if defined(__aarch64__)
#  include <stddef.h>

#  include "compute/cpu/kernels.h"

#  define ROW(i, av, lane)                                                                                          \
      do {                                                                                                          \
          c##i##0 = vfmaq_laneq_f32(c##i##0, b0, av, lane);                                                         \
          c##i##1 = vfmaq_laneq_f32(c##i##1, b1, av, lane);                                                         \
          c##i##2 = vfmaq_laneq_f32(c##i##2, b2, av, lane);                                                         \
      } while (0)

#  define STORE(i)                                                                                                  \
      do {                                                                                                          \
          float *ci = c + (size_t)(i) * ldc;                                                                        \
          vst1q_f32(ci, vfmaq_f32(vld1q_f32(ci), va, c##i##0));                                                     \
          vst1q_f32(ci + 4, vfmaq_f32(vld1q_f32(ci + 4), va, c##i##1));                                             \
          vst1q_f32(ci + 8, vfmaq_f32(vld1q_f32(ci + 8), va, c##i##2));                                             \
      } while (0)

void cordon__gemm_micro_c_neon(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha) {
    float32x4_t c00 = vdupq_n_f32(0.0f), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    float32x4_t c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    float32x4_t c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (size_t p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        ROW(0, a0, 0);
        ROW(1, a0, 1);
        ROW(2, a0, 2);
        ROW(3, a0, 3);
        ROW(4, a1, 0);
        ROW(5, a1, 1);
        ROW(6, a1, 2);
        ROW(7, a1, 3);
        a += 8;
        b += 12;
    }
    const float32x4_t va = vdupq_n_f32(alpha);
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
    STORE(6);
    STORE(7);
}
#else
typedef int cordon__gemm_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
