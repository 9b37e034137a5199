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
#  include <stdbool.h>
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

/* ---------------------------------------------------------------------------------------------------
 * Small products (kernels.h gemm_small_k, gemm_small_n): no packing, no micro-tile padding.
 *
 * Small K (a rank-k update such as a LoRA adapter's (x·A)·B, k <= 16): two rows of C × 64 columns in
 * eight accumulators; per p two broadcasts of A, four loads of B (in L1: at most 16 rows) and eight
 * FMAs. Each element's sum runs over p in order, then alpha·sum (+ beta·c) is stored.
 *
 * Small N (x·A of a LoRA adapter, n <= 16): per row of A, up to eight columns at a time as dot products
 * over k in sixteen-lane accumulators (one per column), each reduced by hsum16's fixed tree: the order
 * depends on k only. Columns past n reuse column 0's operand and are discarded. */

static inline __mmask16 tail_mask16(size_t rem) {
    return rem >= 16 ? (__mmask16)0xFFFFu : (__mmask16)((1u << rem) - 1u);
}

static inline __m512 small_out(__m512 acc, const float *c, __mmask16 k, __m512 va, float beta) {
    if (beta == 0.0f) {
        return _mm512_mul_ps(va, acc);
    }
    return _mm512_fmadd_ps(va, acc, _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(k, c)));
}

void cordon__gemm_small_k_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b,
                                 size_t brs, size_t m, size_t k, size_t n, float alpha, float beta) {
    const __m512 va = _mm512_set1_ps(alpha);
    for (size_t i = 0; i < m; i += 2) {
        bool two = i + 1 < m;
        const float *a0 = a + i * ars, *a1 = two ? a0 + ars : a0;
        float *c0 = c + i * crs, *c1 = c0 + crs;
        for (size_t j0 = 0; j0 < n; j0 += 64) {
            size_t w = n - j0;
            __mmask16 m0 = tail_mask16(w), m1 = tail_mask16(w > 16 ? w - 16 : 0);
            __mmask16 m2 = tail_mask16(w > 32 ? w - 32 : 0), m3 = tail_mask16(w > 48 ? w - 48 : 0);
            __m512 p00 = _mm512_setzero_ps(), p01 = p00, p02 = p00, p03 = p00;
            __m512 p10 = p00, p11 = p00, p12 = p00, p13 = p00;
            for (size_t p = 0; p < k; p++) {
                const float *bp = b + p * brs + j0;
                __m512 b0 = _mm512_maskz_loadu_ps(m0, bp), b1 = _mm512_maskz_loadu_ps(m1, bp + 16);
                __m512 b2 = _mm512_maskz_loadu_ps(m2, bp + 32), b3 = _mm512_maskz_loadu_ps(m3, bp + 48);
                __m512 x0 = _mm512_set1_ps(a0[p * acs]), x1 = _mm512_set1_ps(a1[p * acs]);
                p00 = _mm512_fmadd_ps(x0, b0, p00);
                p01 = _mm512_fmadd_ps(x0, b1, p01);
                p02 = _mm512_fmadd_ps(x0, b2, p02);
                p03 = _mm512_fmadd_ps(x0, b3, p03);
                p10 = _mm512_fmadd_ps(x1, b0, p10);
                p11 = _mm512_fmadd_ps(x1, b1, p11);
                p12 = _mm512_fmadd_ps(x1, b2, p12);
                p13 = _mm512_fmadd_ps(x1, b3, p13);
            }
            float *o = c0 + j0;
            _mm512_mask_storeu_ps(o, m0, small_out(p00, o, m0, va, beta));
            _mm512_mask_storeu_ps(o + 16, m1, small_out(p01, o + 16, m1, va, beta));
            _mm512_mask_storeu_ps(o + 32, m2, small_out(p02, o + 32, m2, va, beta));
            _mm512_mask_storeu_ps(o + 48, m3, small_out(p03, o + 48, m3, va, beta));
            if (two) {
                o = c1 + j0;
                _mm512_mask_storeu_ps(o, m0, small_out(p10, o, m0, va, beta));
                _mm512_mask_storeu_ps(o + 16, m1, small_out(p11, o + 16, m1, va, beta));
                _mm512_mask_storeu_ps(o + 32, m2, small_out(p12, o + 32, m2, va, beta));
                _mm512_mask_storeu_ps(o + 48, m3, small_out(p13, o + 48, m3, va, beta));
            }
        }
    }
}

static inline float hsum16_tree(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

void cordon__gemm_small_n_avx512(float *c, size_t crs, size_t ccs, const float *a, size_t ars, const float *bt,
                                 size_t btrs, size_t m, size_t k, size_t n, float alpha, float beta) {
    for (size_t j0 = 0; j0 < n; j0 += 8) {
        size_t g = n - j0 < 8 ? n - j0 : 8;
        const float *b[8];
        for (size_t j = 0; j < 8; j++) {
            b[j] = bt + (j < g ? j0 + j : j0) * btrs;
        }
        for (size_t i = 0; i < m; i++) {
            const float *ai = a + i * ars;
            __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
            for (size_t p = 0; p < k; p += 16) {
                __mmask16 km = tail_mask16(k - p);
                __m512 x = _mm512_maskz_loadu_ps(km, ai + p);
                s0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[0] + p), s0);
                s1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[1] + p), s1);
                s2 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[2] + p), s2);
                s3 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[3] + p), s3);
                s4 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[4] + p), s4);
                s5 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[5] + p), s5);
                s6 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[6] + p), s6);
                s7 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(km, b[7] + p), s7);
            }
            float sums[8] = {hsum16_tree(s0), hsum16_tree(s1), hsum16_tree(s2), hsum16_tree(s3),
                             hsum16_tree(s4), hsum16_tree(s5), hsum16_tree(s6), hsum16_tree(s7)};
            float *ci = c + i * crs + j0 * ccs;
            for (size_t j = 0; j < g; j++) {
                float *e = ci + j * ccs;
                *e = beta == 0.0f ? alpha * sums[j] : alpha * sums[j] + beta * *e;
            }
        }
    }
}
#else
typedef int cordon__gemm_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
