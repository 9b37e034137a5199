/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the AVX2 + FMA product kernels (compiled with -mavx2 -mfma only; placed in the avx2 table): the
 * SGEMM micro-kernel, the few-row products (gemm_rows, gemm_rows_bf16) and the fused LoRA adapter
 * (lora_rows). The micro-kernel: C(6 × 16) += alpha · Σ_p a[p·6 + i] · b[p·16 + j], from panels packed by
 * backend_cpu.c.
 *
 * Register use: 12 accumulators (6 rows × two 8-lane vectors), two B vectors, one broadcast: 15 of the
 * 16 ymm registers; per p 2 loads, 6 broadcasts and 12 FMAs. Each element's sum runs over p in order,
 * then alpha·sum is added to C with one FMA. */
#if defined(__x86_64__) || defined(__i386__)
#  include <stdbool.h>
#  include <stddef.h>
#  include <stdint.h>

#  include "compute/cpu/avx2_inline.h"
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

#  define STEP()                                                                                                    \
      do {                                                                                                          \
          __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);                                              \
          ROW(0);                                                                                                   \
          ROW(1);                                                                                                   \
          ROW(2);                                                                                                   \
          ROW(3);                                                                                                   \
          ROW(4);                                                                                                   \
          ROW(5);                                                                                                   \
          a += 6;                                                                                                   \
          b += 16;                                                                                                  \
      } while (0)

/* The B micro-panel streams from L2: its lines are prefetched eight steps (512 bytes) ahead, one line
 * per two steps; C's six rows are fetched at the start, for the update at the end. Four steps per loop
 * turn. */
#  define MICRO_PF_B 128u

void cordon__gemm_micro_c_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (size_t i = 0; i < 6; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
    size_t p = 0;
    for (; p + 4 <= kc; p += 4) {
        _mm_prefetch((const char *)(b + MICRO_PF_B), _MM_HINT_T0);
        STEP();
        STEP();
        _mm_prefetch((const char *)(b + MICRO_PF_B), _MM_HINT_T0);
        STEP();
        STEP();
    }
    for (; p < kc; p++) {
        STEP();
    }
    const __m256 va = _mm256_set1_ps(alpha);
    STORE(0);
    STORE(1);
    STORE(2);
    STORE(3);
    STORE(4);
    STORE(5);
}

/* kernels.h pack_bt for NR = 16: whole panels in blocks of 8 × 8, each eight rows of W loaded, transposed
 * in registers (unpack, shuffle, lane permute) and stored as eight consecutive panel rows; the last rows
 * of K and partial panels element by element. A copy, so the panel is the generic kernel's. */
void cordon__pack_bt_avx2(float *dst, const float *w, size_t ldw, size_t kc, size_t cols) {
    size_t p = 0;
    if (cols == 16) {
        for (; p + 8 <= kc; p += 8) {
            for (size_t h = 0; h < 16; h += 8) {
                const float *s = w + h * ldw + p;
                __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + ldw);
                __m256 r2 = _mm256_loadu_ps(s + 2 * ldw), r3 = _mm256_loadu_ps(s + 3 * ldw);
                __m256 r4 = _mm256_loadu_ps(s + 4 * ldw), r5 = _mm256_loadu_ps(s + 5 * ldw);
                __m256 r6 = _mm256_loadu_ps(s + 6 * ldw), r7 = _mm256_loadu_ps(s + 7 * ldw);
                __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
                __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
                __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
                __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
                __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
                __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
                __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
                float *o = dst + p * 16 + h;
                _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u4, 0x20));
                _mm256_storeu_ps(o + 16, _mm256_permute2f128_ps(u1, u5, 0x20));
                _mm256_storeu_ps(o + 32, _mm256_permute2f128_ps(u2, u6, 0x20));
                _mm256_storeu_ps(o + 48, _mm256_permute2f128_ps(u3, u7, 0x20));
                _mm256_storeu_ps(o + 64, _mm256_permute2f128_ps(u0, u4, 0x31));
                _mm256_storeu_ps(o + 80, _mm256_permute2f128_ps(u1, u5, 0x31));
                _mm256_storeu_ps(o + 96, _mm256_permute2f128_ps(u2, u6, 0x31));
                _mm256_storeu_ps(o + 112, _mm256_permute2f128_ps(u3, u7, 0x31));
            }
        }
    }
    for (; p < kc; p++) {
        for (size_t j = 0; j < 16; j++) {
            dst[p * 16 + j] = j < cols ? w[j * ldw + p] : 0.0f;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Few-row products with B streamed (kernels.h gemm_rows, gemm_rows_bf16): decode with a handful of rows
 * (M = 2..16) reads each element of B once from memory and uses it for every row. The register tile is
 * up to 4 rows × 16 columns of C (eight accumulators of the sixteen ymm registers) over the call's k rows
 * of B: per row of B two loads (a whole 64-byte line of f32, or two widened bf16 loads), one broadcast
 * per row from the scaled-A buffer and two FMAs per row. The columns go in chunks of ROWS_CHUNK, each
 * chunk in slices of ROWS_KS rows of B, and each slice by rows 0-3 and then rows 4-7 (the second group
 * reads the slice's B, 8 rows × 256 columns, from L1 where the first left it). Slices of 8 rows: with
 * the call's 32 rows at once, 32 streams 16 KiB apart (a 4096-column B), the loads waited on memory
 * (Zen 3: M = 8 took 11.6-11.8 ms against 8.8-9.3 ms in 8-row slices, probe); 8 streams, each read
 * along a chunk, are what the hardware prefetchers follow. Each accumulator starts from C and adds
 * (alpha·a[i,p])·b[p,j] for p in order with one FMA per term: cordon__axpy_avx2's arithmetic row after
 * row, so the result is the axpy path's bit for bit. Each row's lines are also prefetched a few tiles
 * ahead (without it: 10.9-11.6 ms). Whole vectors use plain loads and stores, a row's last partial
 * one masked loads and a masked store (masked stores are microcoded on AMD cores). The accumulators are
 * named registers, not an array (GCC kept an array of them in memory, storing each on every step), and
 * the tile is always inlined, so its shape is a constant and the unused accumulators vanish. */

#  define ROWS_PF_BYTES 512u
#  define ROWS_CHUNK 256u
#  ifndef ROWS_KS
#    define ROWS_KS 8u
#  endif

#  define ROWS_ACC4(X) X(0) X(1) X(2) X(3)
/* Row i's two accumulators: columns j..j+7 (whole when `two`) and j+8.. (the last vector when `two`);
 * with one vector only the first, which is then the last. */
#  define ROWS_ACC_LOAD(i)                                                                                     \
      __m256 a##i##0 = _mm256_setzero_ps(), a##i##1 = _mm256_setzero_ps();                                     \
      if ((i) < mm) {                                                                                          \
          a##i##0 = cordon__avx2_part_f32(c + (i) * crs + j, two || lastfull, rem, km);                        \
          if (two) {                                                                                           \
              a##i##1 = cordon__avx2_part_f32(c + (i) * crs + j + 8, lastfull, rem, km);                       \
          }                                                                                                    \
      }
#  define ROWS_ACC_FMA(i)                                                                                      \
      if ((i) < mm) {                                                                                          \
          __m256 si = _mm256_broadcast_ss(s + (i));                                                            \
          a##i##0 = _mm256_fmadd_ps(si, b0, a##i##0);                                                          \
          if (two) {                                                                                           \
              a##i##1 = _mm256_fmadd_ps(si, b1, a##i##1);                                                      \
          }                                                                                                    \
      }
#  define ROWS_ACC_STORE(i)                                                                                    \
      if ((i) < mm) {                                                                                          \
          cordon__avx2_store(c + (i) * crs + j, two || lastfull, km, a##i##0);                                 \
          if (two) {                                                                                           \
              cordon__avx2_store(c + (i) * crs + j + 8, lastfull, km, a##i##1);                                \
          }                                                                                                    \
      }

/* One tile: mm rows (<= 4) of C from row 0 of c, sa the group's scalars (sa[p·8 + i]), at column j: two
 * vectors (`two`) or one; the last of them whole (`lastfull`) or its first rem lanes (mask km). */
#  define ROWS_TILE_FN(NAME, BT, LOADB)                                                                        \
      static inline __attribute__((always_inline)) void NAME(size_t mm, bool two, bool lastfull, float *c,      \
                                                             size_t crs, const float *sa, const BT *b,          \
                                                             size_t brs, size_t k, size_t j, size_t rem,        \
                                                             __m256i km) {                                      \
          ROWS_ACC4(ROWS_ACC_LOAD)                                                                               \
          for (size_t p = 0; p < k; p++) {                                                                       \
              const BT *bp = b + p * brs + j;                                                                    \
              __m256 b0 = LOADB(bp, two || lastfull, rem, km);                                                   \
              __m256 b1 = two ? LOADB(bp + 8, lastfull, rem, km) : _mm256_setzero_ps();                          \
              _mm_prefetch((const char *)(uintptr_t)((uintptr_t)bp + ROWS_PF_BYTES), _MM_HINT_T0);               \
              const float *s = sa + p * 8;                                                                       \
              ROWS_ACC4(ROWS_ACC_FMA)                                                                            \
          }                                                                                                      \
          ROWS_ACC4(ROWS_ACC_STORE)                                                                              \
      }

ROWS_TILE_FN(rows_tile_f32, float, cordon__avx2_part_f32)
ROWS_TILE_FN(rows_tile_bf16, uint16_t, cordon__avx2_part_bf16)

/* The tiles of columns [j0, j1) for a group of MM rows (a constant at the call). */
#  define ROWS_GROUP(TILE, MM, cg, sg, j0, j1)                                                                 \
      do {                                                                                                       \
          const __m256i all_ = _mm256_set1_epi32(-1);                                                            \
          size_t j = (j0);                                                                                       \
          for (; j + 16 <= (j1); j += 16) {                                                                      \
              TILE(MM, true, true, cg, crs, sg, b, brs, k, j, 8, all_);                                          \
          }                                                                                                      \
          size_t left = (j1) - j;                                                                                \
          if (left > 8) {                                                                                        \
              TILE(MM, true, left == 16, cg, crs, sg, b, brs, k, j, left - 8, cordon__avx2_tail_mask(left - 8)); \
          } else if (left == 8) {                                                                                \
              TILE(MM, false, true, cg, crs, sg, b, brs, k, j, 8, all_);                                         \
          } else if (left > 0) {                                                                                 \
              TILE(MM, false, false, cg, crs, sg, b, brs, k, j, left, cordon__avx2_tail_mask(left));             \
          }                                                                                                      \
      } while (0)

#  define ROWS_GROUP_ANY(TILE, mm, cg, sg, j0, j1)                                                             \
      do {                                                                                                       \
          switch (mm) {                                                                                          \
          case 1: ROWS_GROUP(TILE, 1, cg, sg, j0, j1); break;                                                    \
          case 2: ROWS_GROUP(TILE, 2, cg, sg, j0, j1); break;                                                    \
          case 3: ROWS_GROUP(TILE, 3, cg, sg, j0, j1); break;                                                    \
          default: ROWS_GROUP(TILE, 4, cg, sg, j0, j1); break;                                                   \
          }                                                                                                      \
      } while (0)

/* Chunks of columns; in each, slices of ROWS_KS rows of B (ROWS_KS streams through memory, each read
 * along the chunk: what the hardware prefetchers follow), and for each slice rows 0-3, then rows
 * 4..m-1 of C (the chunk's C, 8 rows × 256 columns, stays in L1 across the slices). */
#  define ROWS_SWEEP(TILE)                                                                                     \
      do {                                                                                                       \
          const size_t kall = k;                                                                                 \
          const __typeof__(b) ball = b;                                                                          \
          for (size_t c0 = 0; c0 < n; c0 += ROWS_CHUNK) {                                                        \
              size_t c1 = n - c0 < ROWS_CHUNK ? n : c0 + ROWS_CHUNK;                                             \
              for (size_t p0 = 0; p0 < kall; p0 += ROWS_KS) {                                                    \
                  k = kall - p0 < ROWS_KS ? kall - p0 : ROWS_KS;                                                 \
                  b = ball + p0 * brs;                                                                           \
                  const float *sp = sa + p0 * 8;                                                                 \
                  ROWS_GROUP_ANY(TILE, m < 4 ? m : 4, c, sp, c0, c1);                                            \
                  if (m > 4) {                                                                                   \
                      ROWS_GROUP_ANY(TILE, m - 4, c + 4 * crs, sp + 4, c0, c1);                                  \
                  }                                                                                              \
              }                                                                                                  \
          }                                                                                                      \
      } while (0)

void cordon__gemm_rows_avx2(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                            size_t m, size_t k, size_t n, float alpha) {
    float sa[CORDON__GEMM_ROWS_KC * 8];
    cordon__gemm_rows_scale_a(sa, a, ars, acs, m, k, alpha);
    ROWS_SWEEP(rows_tile_f32);
}

void cordon__gemm_rows_bf16_avx2(float *c, size_t crs, const float *a, size_t ars, size_t acs, const uint16_t *b,
                                 size_t brs, size_t m, size_t k, size_t n, float alpha) {
    float sa[CORDON__GEMM_ROWS_KC * 8];
    cordon__gemm_rows_scale_a(sa, a, ars, acs, m, k, alpha);
    ROWS_SWEEP(rows_tile_bf16);
}

/* ---------------------------------------------------------------------------------------------------
 * The fused LoRA adapter (kernels.h lora_rows), on CORDON__LORA_ROWS = 8 rows (rows past m repeat the
 * last and are not stored). x·A: one accumulator of r lanes per row (r <= 8; two per row and four rows
 * at a time for r up to 16), per p one load of A's row and an FMA per row with x[i, p] broadcast from
 * memory: eight independent chains hide the FMA latency; each lane sums over p in order. (x·A)·B: per 8
 * columns, the eight rows' sums advance together, one load of each of B's r rows shared by the eight and
 * one FMA per row, the r scalars of each row broadcast from the stored x·A; each sum over q in order. */

/* The eight rows' accumulators are named registers, not an array: GCC kept an array of them in memory,
 * storing every accumulator on every step. */
#  define LORA_ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* x·A, r <= 8 (`full`: r == 8, A's rows loaded whole; a constant at each call). */
static inline void lora_first8_body(float *t, const float *const *xr, const float *a, size_t ars, size_t in, bool full,
                                    __m256i kr) {
#  define LORA_F8_DECL(i) __m256 acc##i = _mm256_setzero_ps();
#  define LORA_F8_FMA(i) acc##i = _mm256_fmadd_ps(_mm256_broadcast_ss(x##i + p), ap, acc##i);
#  define LORA_F8_STORE(i) _mm256_storeu_ps(t + (i) * CORDON__LORA_R_MAX, acc##i);
    const float *x0 = xr[0], *x1 = xr[1], *x2 = xr[2], *x3 = xr[3], *x4 = xr[4], *x5 = xr[5], *x6 = xr[6],
                *x7 = xr[7];
    LORA_ROWS8(LORA_F8_DECL)
    for (size_t p = 0; p < in; p++) {
        const __m256 ap = cordon__avx2_load(a + p * ars, full, kr);
        LORA_ROWS8(LORA_F8_FMA)
    }
    LORA_ROWS8(LORA_F8_STORE)
#  undef LORA_F8_DECL
#  undef LORA_F8_FMA
#  undef LORA_F8_STORE
}

/* x·A, 8 < r <= 16: lanes 0-7 and 8..r-1 of four rows at a time. */
static void lora_first16(float *t, const float *const *xr, const float *a, size_t ars, size_t in, size_t r) {
    const __m256i kh = cordon__avx2_tail_mask(r - 8);
    for (size_t h = 0; h < CORDON__LORA_ROWS; h += 4) {
        const float *x0 = xr[h], *x1 = xr[h + 1], *x2 = xr[h + 2], *x3 = xr[h + 3];
        __m256 l0 = _mm256_setzero_ps(), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
        for (size_t p = 0; p < in; p++) {
            const __m256 al = _mm256_loadu_ps(a + p * ars), ah = _mm256_maskload_ps(a + p * ars + 8, kh);
            __m256 v0 = _mm256_broadcast_ss(x0 + p), v1 = _mm256_broadcast_ss(x1 + p);
            __m256 v2 = _mm256_broadcast_ss(x2 + p), v3 = _mm256_broadcast_ss(x3 + p);
            l0 = _mm256_fmadd_ps(v0, al, l0);
            h0 = _mm256_fmadd_ps(v0, ah, h0);
            l1 = _mm256_fmadd_ps(v1, al, l1);
            h1 = _mm256_fmadd_ps(v1, ah, h1);
            l2 = _mm256_fmadd_ps(v2, al, l2);
            h2 = _mm256_fmadd_ps(v2, ah, h2);
            l3 = _mm256_fmadd_ps(v3, al, l3);
            h3 = _mm256_fmadd_ps(v3, ah, h3);
        }
        float *th = t + h * CORDON__LORA_R_MAX;
        _mm256_storeu_ps(th, l0);
        _mm256_storeu_ps(th + 8, h0);
        _mm256_storeu_ps(th + CORDON__LORA_R_MAX, l1);
        _mm256_storeu_ps(th + CORDON__LORA_R_MAX + 8, h1);
        _mm256_storeu_ps(th + 2 * CORDON__LORA_R_MAX, l2);
        _mm256_storeu_ps(th + 2 * CORDON__LORA_R_MAX + 8, h2);
        _mm256_storeu_ps(th + 3 * CORDON__LORA_R_MAX, l3);
        _mm256_storeu_ps(th + 3 * CORDON__LORA_R_MAX + 8, h3);
    }
}

/* One block of 8 columns (`full`) or the last, partial one of (x·A)·B on the eight rows, the first m
 * stored: y = s·u (beta = 0: y not read) or s·u + beta·y. */
static inline void lora_second8_block(float *y, size_t yrs, const float *t, const float *b, size_t brs, size_t m,
                                      size_t r, size_t j, bool full, __m256i kj, __m256 vs, float beta) {
#  define LORA_S8_INIT(i) __m256 u##i = _mm256_mul_ps(_mm256_broadcast_ss(t + (i) * CORDON__LORA_R_MAX), b0);
#  define LORA_S8_FMA(i) u##i = _mm256_fmadd_ps(_mm256_broadcast_ss(t + (i) * CORDON__LORA_R_MAX + q), bq, u##i);
#  define LORA_S8_STORE(i)                                                                                     \
      if ((i) < m) {                                                                                           \
          float *yi = y + (i) * yrs + j;                                                                       \
          __m256 v = beta == 0.0f ? _mm256_mul_ps(vs, u##i)                                                    \
                                  : _mm256_fmadd_ps(vs, u##i, _mm256_mul_ps(_mm256_set1_ps(beta),              \
                                                                            cordon__avx2_load(yi, full, kj)));         \
          if (full) {                                                                                          \
              _mm256_storeu_ps(yi, v);                                                                         \
          } else {                                                                                             \
              _mm256_maskstore_ps(yi, kj, v);                                                                  \
          }                                                                                                    \
      }
    const __m256 b0 = cordon__avx2_load(b + j, full, kj);
    LORA_ROWS8(LORA_S8_INIT)
    for (size_t q = 1; q < r; q++) {
        const __m256 bq = cordon__avx2_load(b + q * brs + j, full, kj);
        LORA_ROWS8(LORA_S8_FMA)
    }
    LORA_ROWS8(LORA_S8_STORE)
#  undef LORA_S8_INIT
#  undef LORA_S8_FMA
#  undef LORA_S8_STORE
}

void cordon__lora_rows_avx2(float *y, size_t yrs, const float *x, size_t xrs, const float *a, size_t ars,
                            const float *b, size_t brs, size_t m, size_t in, size_t r, size_t out, float s,
                            float beta) {
    const float *xr[CORDON__LORA_ROWS];
    for (size_t i = 0; i < CORDON__LORA_ROWS; i++) {
        xr[i] = x + (i < m ? i : m - 1) * xrs;
    }
    float t[CORDON__LORA_ROWS * CORDON__LORA_R_MAX];
    if (r == 8) {
        lora_first8_body(t, xr, a, ars, in, true, _mm256_set1_epi32(-1));
    } else if (r < 8) {
        lora_first8_body(t, xr, a, ars, in, false, cordon__avx2_tail_mask(r));
    } else {
        lora_first16(t, xr, a, ars, in, r);
    }
    const __m256 vs = _mm256_set1_ps(s), all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
    size_t j = 0;
    for (; j + 8 <= out; j += 8) {
        lora_second8_block(y, yrs, t, b, brs, m, r, j, true, _mm256_castps_si256(all), vs, beta);
    }
    if (j < out) {
        lora_second8_block(y, yrs, t, b, brs, m, r, j, false, cordon__avx2_tail_mask(out - j), vs, beta);
    }
}
#else
typedef int cordon__gemm_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
