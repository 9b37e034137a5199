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
#  include <stdint.h>
#  include <string.h>

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

/* ---------------------------------------------------------------------------------------------------
 * Few-row products with B streamed (kernels.h gemm_rows, gemm_rows_bf16): decode with a handful of
 * rows (M = 2..16) reads each B element once from memory and uses it for every row. The tile is MM
 * rows (at most 8) × 32 columns of C held in registers (16 accumulators) over the call's k rows of B;
 * per row of B: two B loads (or widened bf16 loads), MM broadcasts from the scaled-A buffer (load-port
 * operands of the FMAs) and 2·MM FMAs. Each accumulator starts from C and adds (alpha·a[i,p])·b[p,j] for
 * p in order with one FMA per term: the arithmetic of cordon__axpy_avx512 applied row after row, so the
 * result is that of the axpy path bit for bit, whatever the blocking.
 * The k rows are k streams through memory, each advancing by a tile; every row's next lines are
 * prefetched a few tiles ahead, since the hardware prefetchers do not follow that many interleaved
 * streams. */

#  define ROWS_PF_BYTES 512u /* four tiles ahead of the f32 stream, eight of the bf16 one */

static inline __m512 rows_load_f32(__mmask16 k, const float *p) {
    return _mm512_maskz_loadu_ps(k, p);
}

static inline __m512 rows_load_bf16(__mmask16 k, const uint16_t *p) {
    __m256i h = _mm256_maskz_loadu_epi16(k, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

static inline void rows_prefetch(const void *p, size_t bytes) {
    _mm_prefetch((const char *)(uintptr_t)((uintptr_t)p + bytes), _MM_HINT_T0);
}

/* One tile of MM rows at column j: two vectors (masks k0, k1) or, when `two` is false, one (k0). */
#  define ROWS_TILE_FN(NAME, BT, LOADB, PF_SECOND)                                                             \
      static inline void NAME(size_t mm, bool two, float *c, size_t crs, const float *sa, const BT *b, size_t brs,  \
                              size_t k, size_t j, __mmask16 k0, __mmask16 k1) {                                  \
          __m512 acc0[8], acc1[8];                                                                               \
          for (size_t i = 0; i < mm; i++) {                                                                      \
              acc0[i] = _mm512_maskz_loadu_ps(k0, c + i * crs + j);                                              \
              acc1[i] = two ? _mm512_maskz_loadu_ps(k1, c + i * crs + j + 16) : _mm512_setzero_ps();             \
          }                                                                                                      \
          for (size_t p = 0; p < k; p++) {                                                                       \
              const BT *bp = b + p * brs + j;                                                                    \
              __m512 b0 = LOADB(k0, bp);                                                                         \
              __m512 b1 = two ? LOADB(k1, bp + 16) : _mm512_setzero_ps();                                        \
              rows_prefetch(bp, ROWS_PF_BYTES);                                                                  \
              if (PF_SECOND) {                                                                                   \
                  rows_prefetch(bp, ROWS_PF_BYTES + 64u);                                                        \
              }                                                                                                  \
              const float *s = sa + p * 8;                                                                       \
              for (size_t i = 0; i < mm; i++) {                                                                  \
                  __m512 si = _mm512_set1_ps(s[i]);                                                              \
                  acc0[i] = _mm512_fmadd_ps(si, b0, acc0[i]);                                                    \
                  if (two) {                                                                                     \
                      acc1[i] = _mm512_fmadd_ps(si, b1, acc1[i]);                                                \
                  }                                                                                              \
              }                                                                                                  \
          }                                                                                                      \
          for (size_t i = 0; i < mm; i++) {                                                                      \
              _mm512_mask_storeu_ps(c + i * crs + j, k0, acc0[i]);                                               \
              if (two) {                                                                                         \
                  _mm512_mask_storeu_ps(c + i * crs + j + 16, k1, acc1[i]);                                      \
              }                                                                                                  \
          }                                                                                                      \
      }

ROWS_TILE_FN(rows_tile_f32, float, rows_load_f32, true)
ROWS_TILE_FN(rows_tile_bf16, uint16_t, rows_load_bf16, false)

static inline __mmask16 rows_mask(size_t rem) {
    return rem >= 16 ? (__mmask16)0xFFFFu : (__mmask16)((1u << rem) - 1u);
}

/* Every tile of the n columns, for a row count MM known at the call. */
#  define ROWS_SWEEP(TILE, MM)                                                                                 \
      do {                                                                                                       \
          size_t j = 0;                                                                                          \
          for (; j + 32 <= n; j += 32) {                                                                         \
              TILE(MM, true, c, crs, sa, b, brs, k, j, (__mmask16)0xFFFFu, (__mmask16)0xFFFFu);                  \
          }                                                                                                      \
          if (n - j > 16) {                                                                                      \
              TILE(MM, true, c, crs, sa, b, brs, k, j, (__mmask16)0xFFFFu, rows_mask(n - j - 16));              \
          } else if (n > j) {                                                                                    \
              TILE(MM, false, c, crs, sa, b, brs, k, j, rows_mask(n - j), (__mmask16)0);                         \
          }                                                                                                      \
      } while (0)

#  define ROWS_DISPATCH(TILE)                                                                                  \
      do {                                                                                                       \
          switch (m) {                                                                                           \
          case 1: ROWS_SWEEP(TILE, 1); break;                                                                    \
          case 2: ROWS_SWEEP(TILE, 2); break;                                                                    \
          case 3: ROWS_SWEEP(TILE, 3); break;                                                                    \
          case 4: ROWS_SWEEP(TILE, 4); break;                                                                    \
          case 5: ROWS_SWEEP(TILE, 5); break;                                                                    \
          case 6: ROWS_SWEEP(TILE, 6); break;                                                                    \
          case 7: ROWS_SWEEP(TILE, 7); break;                                                                    \
          default: ROWS_SWEEP(TILE, 8); break;                                                                   \
          }                                                                                                      \
      } while (0)


void cordon__gemm_rows_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                              size_t m, size_t k, size_t n, float alpha) {
    float sa[CORDON__GEMM_ROWS_KC * 8];
    cordon__gemm_rows_scale_a(sa, a, ars, acs, m, k, alpha);
    ROWS_DISPATCH(rows_tile_f32);
}

void cordon__gemm_rows_bf16_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const uint16_t *b,
                                   size_t brs, size_t m, size_t k, size_t n, float alpha) {
    float sa[CORDON__GEMM_ROWS_KC * 8];
    cordon__gemm_rows_scale_a(sa, a, ars, acs, m, k, alpha);
    ROWS_DISPATCH(rows_tile_bf16);
}

/* ---------------------------------------------------------------------------------------------------
 * The fused LoRA adapter (kernels.h lora_rows). x·A: eight rows at once (rows past m repeat the last
 * and are discarded), one accumulator of r lanes per row, per p one load of A's row and eight FMAs
 * with x broadcast from memory: eight independent chains hide the FMA latency. (x·A)·B: per 16 columns,
 * B's r rows are loaded once and used for every row, the r scalars of each row broadcast from the
 * stored x·A. Each sum runs in the order kernels.h gives, independent of any blocking. */

static inline __m512 lora_out(__m512 u, const float *y, __mmask16 k, __m512 vs, float beta) {
    if (beta == 0.0f) {
        return _mm512_mul_ps(vs, u);
    }
    return _mm512_fmadd_ps(vs, u, _mm512_mul_ps(_mm512_set1_ps(beta), _mm512_maskz_loadu_ps(k, y)));
}

/* (x·A)·B for a rank R known at the call (B's rows held in registers across the rows). */
static inline void lora_second(size_t R, float *y, size_t yrs, const float *t, const float *b, size_t brs, size_t m,
                               size_t out, float s, float beta) {
    const __m512 vs = _mm512_set1_ps(s);
    for (size_t j = 0; j < out; j += 16) {
        __mmask16 kj = tail_mask16(out - j);
        __m512 bq[CORDON__LORA_R_MAX];
        for (size_t q = 0; q < CORDON__LORA_R_MAX; q++) {
            bq[q] = q < R ? _mm512_maskz_loadu_ps(kj, b + q * brs + j) : _mm512_setzero_ps();
        }
        for (size_t i = 0; i < m; i++) {
            const float *ti = t + i * CORDON__LORA_R_MAX;
            __m512 u = _mm512_mul_ps(_mm512_set1_ps(ti[0]), bq[0]);
            for (size_t q = 1; q < R && q < CORDON__LORA_R_MAX; q++) {
                u = _mm512_fmadd_ps(_mm512_set1_ps(ti[q]), bq[q], u);
            }
            float *yi = y + i * yrs + j;
            _mm512_mask_storeu_ps(yi, kj, lora_out(u, yi, kj, vs, beta));
        }
    }
}

/* (x·A)·B for rank 8 on all CORDON__LORA_ROWS rows: the rows' sums advance together, one FMA of each per
 * row of B, so their dependent chains interleave instead of running one row after another (one row's
 * chain is eight operations long). Each element gets lora_second's operations in lora_second's order. */
static void lora_second_r8_rows(float *y, size_t yrs, const float *t, const float *b, size_t brs, size_t out,
                                float s, float beta) {
    const __m512 vs = _mm512_set1_ps(s);
    for (size_t j = 0; j < out; j += 16) {
        __mmask16 kj = tail_mask16(out - j);
        __m512 u[CORDON__LORA_ROWS];
        const __m512 b0 = _mm512_maskz_loadu_ps(kj, b + j);
        for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
            u[i] = _mm512_mul_ps(_mm512_set1_ps(t[i * CORDON__LORA_R_MAX]), b0);
        }
        for (size_t q = 1; q < 8; q++) {
            const __m512 bq = _mm512_maskz_loadu_ps(kj, b + q * brs + j);
            for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
                u[i] = _mm512_fmadd_ps(_mm512_set1_ps(t[i * CORDON__LORA_R_MAX + q]), bq, u[i]);
            }
        }
        for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
            float *yi = y + i * yrs + j;
            _mm512_mask_storeu_ps(yi, kj, lora_out(u[i], yi, kj, vs, beta));
        }
    }
}

/* x·A for rank 8 with A's rows contiguous: two rows of A (p, p + 1) fill one vector, interleaved by one
 * permute (lane 2c: A[p, c], lane 2c + 1: A[p + 1, c]) and shared by the eight rows, whose x[p], x[p + 1]
 * come as one 64-bit broadcast: every lane of every FMA does useful work. Lane 2c sums the even p,
 * lane 2c + 1 the odd p; t[c] is their sum (an order that depends on `in` only). */
static void lora_first_r8(float *t, const float *const *xr, const float *a, size_t in) {
    const __m512i inter = _mm512_setr_epi32(0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15);
    __m512 acc[CORDON__LORA_ROWS];
    for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
        acc[i] = _mm512_setzero_ps();
    }
    size_t p = 0;
    for (; p + 2 <= in; p += 2) {
        __m512 ap = _mm512_permutexvar_ps(inter, _mm512_loadu_ps(a + p * 8));
        for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
            double pair;
            memcpy(&pair, xr[i] + p, sizeof pair);
            acc[i] = _mm512_fmadd_ps(_mm512_castpd_ps(_mm512_set1_pd(pair)), ap, acc[i]);
        }
    }
    if (p < in) {
        /* The last, odd p: its row in the even lanes, zeros in the odd ones. */
        __m512 ap = _mm512_permutexvar_ps(inter, _mm512_maskz_loadu_ps((__mmask16)0x00FFu, a + p * 8));
        for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
            acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(xr[i][p]), ap, acc[i]);
        }
    }
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
    for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
        __m512 sum = _mm512_add_ps(acc[i], _mm512_permute_ps(acc[i], 0xB1));
        _mm512_storeu_ps(t + i * CORDON__LORA_R_MAX, _mm512_permutexvar_ps(evens, sum));
    }
}

static void lora_first(float *t, const float *const *xr, const float *a, size_t ars, size_t in, size_t r);

void cordon__lora_rows_avx512(float *y, size_t yrs, const float *x, size_t xrs, const float *a, size_t ars,
                              const float *b, size_t brs, size_t m, size_t in, size_t r, size_t out, float s,
                              float beta) {
    const float *xr[CORDON__LORA_ROWS];
    for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
        xr[i] = x + (i < m ? i : m - 1) * xrs;
    }
    float t[CORDON__LORA_ROWS * CORDON__LORA_R_MAX];
    if (r == 8 && ars == 8) {
        lora_first_r8(t, xr, a, in);
    } else {
        lora_first(t, xr, a, ars, in, r);
    }
    if (r == 8 && m == CORDON__LORA_ROWS) {
        lora_second_r8_rows(y, yrs, t, b, brs, out, s, beta);
        return;
    }
    switch (r) {
    case 4: lora_second(4, y, yrs, t, b, brs, m, out, s, beta); break;
    case 8: lora_second(8, y, yrs, t, b, brs, m, out, s, beta); break;
    case 16: lora_second(16, y, yrs, t, b, brs, m, out, s, beta); break;
    default: lora_second(r, y, yrs, t, b, brs, m, out, s, beta); break;
    }
}

/* x·A for any rank r <= 16: per p one load of A's row (r lanes) and eight FMAs. */
static void lora_first(float *t, const float *const *xr, const float *a, size_t ars, size_t in, size_t r) {
    __mmask16 kr = tail_mask16(r);
    __m512 t0 = _mm512_setzero_ps(), t1 = t0, t2 = t0, t3 = t0, t4 = t0, t5 = t0, t6 = t0, t7 = t0;
    for (size_t p = 0; p < in; p++) {
        __m512 ap = _mm512_maskz_loadu_ps(kr, a + p * ars);
        t0 = _mm512_fmadd_ps(_mm512_set1_ps(xr[0][p]), ap, t0);
        t1 = _mm512_fmadd_ps(_mm512_set1_ps(xr[1][p]), ap, t1);
        t2 = _mm512_fmadd_ps(_mm512_set1_ps(xr[2][p]), ap, t2);
        t3 = _mm512_fmadd_ps(_mm512_set1_ps(xr[3][p]), ap, t3);
        t4 = _mm512_fmadd_ps(_mm512_set1_ps(xr[4][p]), ap, t4);
        t5 = _mm512_fmadd_ps(_mm512_set1_ps(xr[5][p]), ap, t5);
        t6 = _mm512_fmadd_ps(_mm512_set1_ps(xr[6][p]), ap, t6);
        t7 = _mm512_fmadd_ps(_mm512_set1_ps(xr[7][p]), ap, t7);
    }
    _mm512_storeu_ps(t + 0 * CORDON__LORA_R_MAX, t0);
    _mm512_storeu_ps(t + 1 * CORDON__LORA_R_MAX, t1);
    _mm512_storeu_ps(t + 2 * CORDON__LORA_R_MAX, t2);
    _mm512_storeu_ps(t + 3 * CORDON__LORA_R_MAX, t3);
    _mm512_storeu_ps(t + 4 * CORDON__LORA_R_MAX, t4);
    _mm512_storeu_ps(t + 5 * CORDON__LORA_R_MAX, t5);
    _mm512_storeu_ps(t + 6 * CORDON__LORA_R_MAX, t6);
    _mm512_storeu_ps(t + 7 * CORDON__LORA_R_MAX, t7);
}
#else
typedef int cordon__gemm_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
