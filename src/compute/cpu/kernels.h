/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the CPU kernels of one instruction-set level.
 *
 * Each level is one table, built from one file per level (kernels_scalar.c, kernels_avx2.c,
 * kernels_avx512.c, kernels_neon.c) compiled with that level's flags; the device picks a table at create
 * from the features src/sys/ reports (cordon__sys_cpu_features), so no instruction is ever executed on
 * a processor that lacks it. The scalar table is the reference every other table is tested against.
 *
 * Kernels work on contiguous rows (unit stride); the backend (backend_cpu.c) gathers strided operands
 * into scratch first. They are pure computation: no allocation, no locks, no OS call. Every reduction
 * accumulates in f32 lanes in a fixed order that depends only on n and the table, never on threads. */
#ifndef CORDON_COMPUTE_CPU_KERNELS_H
#define CORDON_COMPUTE_CPU_KERNELS_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/device.h"

/* The GEMM micro-tile: the largest MR and NR of any table (tile buffers are sized by them). */
#define CORDON__GEMM_MR_MAX 16u
#define CORDON__GEMM_NR_MAX 32u
/* The small-product kernels' limits (gemm_small_k, gemm_small_n). */
#define CORDON__GEMM_SMALL_K 16u
#define CORDON__GEMM_SMALL_N 16u
/* gemm_rows: the most rows of A per call, and the most rows of B (k). */
#define CORDON__GEMM_ROWS_MR 8u
#define CORDON__GEMM_ROWS_KC 32u
/* lora_rows: the most rows per call and the largest rank. */
#define CORDON__LORA_ROWS 8u
#define CORDON__LORA_R_MAX 16u
/* The most rows of one rms_norm_bwd_rows / layer_norm_bwd_rows call (two rows of 4096 and their
 * gradient rows stay in a 48 KiB L1 between the passes). */
#define CORDON__NORM_BWD_ROWS 2u

/* gemm_rows kernels' scalars: sa[p·8 + i] = alpha·a[i·ars + p·acs] (m <= 8 rows, k <= CORDON__GEMM_ROWS_KC),
 * what the axpy path would broadcast, computed once per call. */
static inline void cordon__gemm_rows_scale_a(float *sa, const float *a, size_t ars, size_t acs, size_t m, size_t k,
                                             float alpha) {
    for (size_t p = 0; p < k; p++) {
        for (size_t i = 0; i < m; i++) {
            sa[p * 8 + i] = alpha * a[i * ars + p * acs];
        }
    }
}

/* softmax_row's rare rows, the same at every level (the vector kernels find them by the row's maximum
 * or a NaN sum and call this before writing anything, as y may be x): a NaN among the valid inputs gives
 * a NaN row; nothing valid (maximum -inf) a zero row; a +inf maximum shares the mass equally among the
 * +inf elements. Columns >= valid are never read. */
static inline bool cordon__softmax_has_nan(const float *x, const float *mask, size_t valid, float scale) {
    bool has_nan = false;
    for (size_t j = 0; j < valid; j++) {
        float v = scale * x[j] + (mask != NULL ? mask[j] : 0.0f);
        has_nan |= v != v;
    }
    return has_nan;
}

static inline void cordon__softmax_special(float *y, const float *x, const float *mask, size_t n, size_t valid,
                                           float scale, bool has_nan, float m) {
    if (has_nan) {
        for (size_t j = 0; j < n; j++) {
            y[j] = NAN;
        }
        return;
    }
    if (m == -INFINITY) {
        for (size_t j = 0; j < n; j++) {
            y[j] = 0.0f;
        }
        return;
    }
    float count = 0.0f;
    for (size_t j = 0; j < valid; j++) {
        float v = scale * x[j] + (mask != NULL ? mask[j] : 0.0f);
        count += v == INFINITY ? 1.0f : 0.0f;
    }
    /* Read every input before writing: y may be x. */
    for (size_t j = 0; j < n; j++) {
        float v = j < valid ? scale * x[j] + (mask != NULL ? mask[j] : 0.0f) : 0.0f;
        y[j] = j < valid && v == INFINITY ? 1.0f / count : 0.0f;
    }
}

struct cordon__cpu_kernels {
    cordon_isa isa;
    const char *name;
    /* GEMM micro-kernel: tile[i·nr + j] = Σ_{p<kc} a[p·mr + i] · b[p·nr + j] for i < mr, j < nr, from
     * panels packed by the framework (a: kc × mr, b: kc × nr, both 64-byte aligned). */
    unsigned mr, nr;
    void (*gemm_micro)(size_t kc, const float *a, const float *b, float *tile);
    /* The same product added into C directly: c[i·ldc + j] += alpha·Σ_p a[p·mr + i]·b[p·nr + j] (one
     * rounding of alpha·sum + c per element where the level has FMA). NULL: the framework uses
     * gemm_micro and adds the tile itself. */
    void (*gemm_micro_c)(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha);
    /* Small products, one call per block of m rows, operands addressed by strides (in elements):
     * gemm_small_k (k <= CORDON__GEMM_SMALL_K, B rows and C rows contiguous):
     *   c[i·crs + j] = alpha·Σ_{p<k} a[i·ars + p·acs]·b[p·brs + j] + beta·c[i·crs + j], the sum over p in
     *   order (beta = 0: C is not read);
     * gemm_small_n (n <= CORDON__GEMM_SMALL_N, A rows contiguous, B given transposed: bt row j holds
     *   column j of B, contiguous): c[i·crs + j·ccs] = alpha·Σ_p a[i·ars + p]·bt[j·btrs + p] + beta·c,
     *   the sum in a fixed order that depends on k only. alpha is never 0 here. */
    void (*gemm_small_k)(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                         size_t m, size_t k, size_t n, float alpha, float beta);
    void (*gemm_small_n)(float *c, size_t crs, size_t ccs, const float *a, size_t ars, const float *bt, size_t btrs,
                         size_t m, size_t k, size_t n, float alpha, float beta);
    /* Few-row products with B read in place, each element of B loaded once per call for every row
     * (m <= CORDON__GEMM_ROWS_MR, k <= CORDON__GEMM_ROWS_KC, B rows and C rows contiguous):
     *   c[i·crs + j] += Σ_{p<k} (alpha·a[i·ars + p·acs])·b[p·brs + j], the terms added to c in p order
     * exactly as axpy(c row i, alpha·a[i, p], b row p) called for p in order would (the bf16 form on the
     * exactly widened B, as axpy_bf16). NULL: the level has none and the framework calls axpy. */
    void (*gemm_rows)(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                      size_t m, size_t k, size_t n, float alpha);
    void (*gemm_rows_bf16)(float *c, size_t crs, const float *a, size_t ars, size_t acs, const uint16_t *b, size_t brs,
                           size_t m, size_t k, size_t n, float alpha);
    /* A LoRA adapter on m rows (m <= CORDON__LORA_ROWS, r <= CORDON__LORA_R_MAX; rows of x, A, B and y
     * contiguous): t[q] = Σ_{p<in} x[i·xrs + p]·a[p·ars + q] (p in order), then
     *   y[i·yrs + j] = s·Σ_{q<r} t[q]·b[q·brs + j] (q in order) + beta·y[i·yrs + j]
     * (beta = 0: y is not read). x·A stays in registers or L1: the fused form of the two products. */
    void (*lora_rows)(float *y, size_t yrs, const float *x, size_t xrs, const float *a, size_t ars, const float *b,
                      size_t brs, size_t m, size_t in, size_t r, size_t out, float s, float beta);
    /* One packed panel of a transposed B (the GEMM's op(B) = Wᵀ with W's rows contiguous): dst[p·nr + j]
     * = w[j·ldw + p] for j < cols, p < kc, and 0 for cols <= j < nr (nr: this table's; cols <= nr). A
     * copy: every level gives the same panel. */
    void (*pack_bt)(float *dst, const float *w, size_t ldw, size_t kc, size_t cols);
    /* Σ a[i]·b[i]. */
    float (*dot)(const float *a, const float *b, size_t n);
    /* y[i] += s·x[i]. */
    void (*axpy)(float *y, float s, const float *x, size_t n);
    /* Four axpys at once, each exactly as the single call (the same operations in the same order):
     * y += s[r]·x[r·ldx + ·] for r = 0..3 in turn. For f32 decode: y stays in registers across four rows
     * of B, and the four rows stream from memory side by side instead of one after another. */
    void (*axpy4)(float *y, const float *s, const float *x, size_t ldx, size_t n);
    /* Four dots at once, each exactly as the single call: out[r] = dot(a, b + r·ldb, n). Attention's
     * scores (one query row against four keys): a's loads and the call shared. */
    void (*dot4)(const float *a, const float *b, size_t ldb, size_t n, float *out);
    /* dot and axpy with the second operand in bf16 (BF16 weights, ops.h cordon_matmul): each bf16
     * element is widened exactly to f32 (a 16-bit shift), then the arithmetic is the f32 kernel's, in
     * the same order; the result equals dot/axpy on the widened values. */
    float (*dot_bf16)(const float *a, const uint16_t *b, size_t n);
    void (*axpy_bf16)(float *y, float s, const uint16_t *x, size_t n);
    /* Four of those at once, each exactly as the single call (the same operations in the same order):
     * axpy4_bf16 does y += s[r]·x[r·ldx + ·] for r = 0..3 in turn, dot4_bf16 out[r] = dot_bf16(a,
     * b + r·ldb, n). Decode is bound by bytes read, so keeping y in registers across four rows and
     * sharing a's loads across four dots is what lets bf16 run at the memory's speed. */
    void (*axpy4_bf16)(float *y, const float *s, const uint16_t *x, size_t ldx, size_t n);
    void (*dot4_bf16)(const float *a, const uint16_t *b, size_t ldb, size_t n, float *out);
    /* y = softmax(scale·x + mask) over n columns, where columns >= valid are removed (causal); mask may be
     * NULL. y may be x. A row with nothing left gives zeros. next (may be NULL) is the row of x the caller
     * passes next, n elements: a kernel may prefetch it while it works on this one, never read it. */
    void (*softmax_row)(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next);
    /* dx = scale·y⊙(dy − Σ dy⊙y). dx may be dy. */
    void (*softmax_bwd_row)(float *dx, const float *y, const float *dy, size_t n, float scale);
    /* RMSNorm: y = x·rsqrt(mean(x²) + eps)⊙w. y may be x. */
    void (*rms_norm_row)(float *y, const float *x, const float *w, size_t n, float eps);
    /* dx for RMSNorm; dw_acc (may be NULL) += dy⊙x·rstd. dx may be dy. */
    void (*rms_norm_bwd_row)(float *dx, float *dw_acc, const float *dy, const float *x, const float *w, size_t n,
                             float eps);
    /* LayerNorm: y = (x − mean)·rstd⊙g + b (g, b may be NULL: 1, 0). y may be x. next: as softmax_row's. */
    void (*layer_norm_row)(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next);
    /* dx for LayerNorm; dg_acc += dy⊙x̂, db_acc += dy (each may be NULL). dx may be dy. */
    void (*layer_norm_bwd_row)(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                               const float *g, size_t n, float eps);
    /* The two backward kernels above for `rows` rows at once (1 <= rows <= CORDON__NORM_BWD_ROWS; row q at
     * dx[q], dy[q], x[q]): the parameter gradients get each row's terms in row order, so every result
     * is bit for bit that of calling the row kernel for each row in turn; the gradient rows are read and
     * written once per call instead of once per row. */
    void (*rms_norm_bwd_rows)(float *const *dx, float *dw_acc, const float *const *dy, const float *const *x,
                              const float *w, size_t rows, size_t n, float eps);
    void (*layer_norm_bwd_rows)(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                const float *const *x, const float *g, size_t rows, size_t n, float eps);
    /* Elementwise on n contiguous elements (kind from backend.h's cordon__ew_kind; a, b as described
     * there; b NULL for unary kinds). y may be a or b. */
    void (*elementwise)(int kind, float *y, const float *a, const float *b, size_t n, float s);
    /* y[i] = e^x[i] (vmath.h's algorithm and bound at this level). y may be x. */
    void (*exp_row)(float *y, const float *x, size_t n);
};

extern const struct cordon__cpu_kernels cordon__kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const struct cordon__cpu_kernels cordon__kernels_avx2;
extern const struct cordon__cpu_kernels cordon__kernels_avx512;
/* Intrinsic kernels placed in those tables (rows_<level>.c, gemm_<level>.c). */
void cordon__gemm_micro_c_avx2(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha);
void cordon__pack_bt_avx2(float *dst, const float *w, size_t ldw, size_t kc, size_t cols);
void cordon__gemm_rows_avx2(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                            size_t m, size_t k, size_t n, float alpha);
void cordon__gemm_rows_bf16_avx2(float *c, size_t crs, const float *a, size_t ars, size_t acs, const uint16_t *b,
                                 size_t brs, size_t m, size_t k, size_t n, float alpha);
void cordon__lora_rows_avx2(float *y, size_t yrs, const float *x, size_t xrs, const float *a, size_t ars,
                            const float *b, size_t brs, size_t m, size_t in, size_t r, size_t out, float s,
                            float beta);
void cordon__gemm_micro_c_avx512(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha);
void cordon__gemm_rows_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b, size_t brs,
                              size_t m, size_t k, size_t n, float alpha);
void cordon__gemm_rows_bf16_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const uint16_t *b,
                                   size_t brs, size_t m, size_t k, size_t n, float alpha);
void cordon__lora_rows_avx512(float *y, size_t yrs, const float *x, size_t xrs, const float *a, size_t ars,
                              const float *b, size_t brs, size_t m, size_t in, size_t r, size_t out, float s,
                              float beta);
void cordon__gemm_small_k_avx512(float *c, size_t crs, const float *a, size_t ars, size_t acs, const float *b,
                                 size_t brs, size_t m, size_t k, size_t n, float alpha, float beta);
void cordon__gemm_small_n_avx512(float *c, size_t crs, size_t ccs, const float *a, size_t ars, const float *bt,
                                 size_t btrs, size_t m, size_t k, size_t n, float alpha, float beta);
void cordon__exp_row_avx2(float *y, const float *x, size_t n);
/* SiLU and its gradient on n contiguous elements (kernels.h elementwise, CORDON__EW_SILU and _BWD):
 * sigmoid = 1 / (1 + e^-x) with the level's exponential; silu(-inf) = -0, silu'(+inf) = 1,
 * silu'(-inf) = 0, NaN → NaN. y may be a or b. */
void cordon__silu_row_avx2(float *y, const float *x, size_t n);
void cordon__silu_bwd_row_avx2(float *y, const float *dy, const float *x, size_t n);
void cordon__softmax_row_avx2(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next);
float cordon__dot_avx2(const float *a, const float *b, size_t n);
void cordon__axpy_avx2(float *y, float s, const float *x, size_t n);
void cordon__axpy4_avx2(float *y, const float *s, const float *x, size_t ldx, size_t n);
void cordon__dot4_avx2(const float *a, const float *b, size_t ldb, size_t n, float *out);
float cordon__dot_bf16_avx2(const float *a, const uint16_t *b, size_t n);
void cordon__axpy_bf16_avx2(float *y, float s, const uint16_t *x, size_t n);
void cordon__axpy4_bf16_avx2(float *y, const float *s, const uint16_t *x, size_t ldx, size_t n);
void cordon__dot4_bf16_avx2(const float *a, const uint16_t *b, size_t ldb, size_t n, float *out);
void cordon__rms_norm_row_avx2(float *y, const float *x, const float *w, size_t n, float eps);
void cordon__layer_norm_row_avx2(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next);
void cordon__softmax_bwd_row_avx2(float *dx, const float *y, const float *dy, size_t n, float scale);
void cordon__rms_norm_bwd_row_avx2(float *dx, float *dw_acc, const float *dy, const float *x, const float *w, size_t n,
                                   float eps);
void cordon__layer_norm_bwd_row_avx2(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                     const float *g, size_t n, float eps);
void cordon__layer_norm_bwd_rows_avx2(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                      const float *const *x, const float *g, size_t rows, size_t n, float eps);
void cordon__exp_row_avx512(float *y, const float *x, size_t n);
void cordon__softmax_row_avx512(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next);
float cordon__dot_avx512(const float *a, const float *b, size_t n);
void cordon__axpy_avx512(float *y, float s, const float *x, size_t n);
void cordon__axpy4_avx512(float *y, const float *s, const float *x, size_t ldx, size_t n);
float cordon__dot_bf16_avx512(const float *a, const uint16_t *b, size_t n);
void cordon__axpy_bf16_avx512(float *y, float s, const uint16_t *x, size_t n);
void cordon__axpy4_bf16_avx512(float *y, const float *s, const uint16_t *x, size_t ldx, size_t n);
void cordon__dot4_bf16_avx512(const float *a, const uint16_t *b, size_t ldb, size_t n, float *out);
void cordon__rms_norm_row_avx512(float *y, const float *x, const float *w, size_t n, float eps);
void cordon__layer_norm_row_avx512(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next);
void cordon__softmax_bwd_row_avx512(float *dx, const float *y, const float *dy, size_t n, float scale);
void cordon__rms_norm_bwd_row_avx512(float *dx, float *dw_acc, const float *dy, const float *x, const float *w,
                                     size_t n, float eps);
void cordon__layer_norm_bwd_row_avx512(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                       const float *g, size_t n, float eps);
void cordon__rms_norm_bwd_rows_avx512(float *const *dx, float *dw_acc, const float *const *dy, const float *const *x,
                                      const float *w, size_t rows, size_t n, float eps);
void cordon__layer_norm_bwd_rows_avx512(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                        const float *const *x, const float *g, size_t rows, size_t n, float eps);
#endif
#if defined(__aarch64__)
extern const struct cordon__cpu_kernels cordon__kernels_neon;
/* Intrinsic kernels placed in that table (rows_neon.c, rows_bwd_neon.c, gemm_neon.c, bf16_neon.c). */
float cordon__dot_bf16_neon(const float *a, const uint16_t *b, size_t n);
void cordon__axpy_bf16_neon(float *y, float s, const uint16_t *x, size_t n);
void cordon__gemm_micro_c_neon(size_t kc, const float *a, const float *b, float *c, size_t ldc, float alpha);
void cordon__exp_row_neon(float *y, const float *x, size_t n);
void cordon__softmax_row_neon(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next);
float cordon__dot_neon(const float *a, const float *b, size_t n);
void cordon__axpy_neon(float *y, float s, const float *x, size_t n);
void cordon__axpy4_neon(float *y, const float *s, const float *x, size_t ldx, size_t n);
void cordon__rms_norm_row_neon(float *y, const float *x, const float *w, size_t n, float eps);
void cordon__layer_norm_row_neon(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next);
void cordon__softmax_bwd_row_neon(float *dx, const float *y, const float *dy, size_t n, float scale);
void cordon__rms_norm_bwd_row_neon(float *dx, float *dw_acc, const float *dy, const float *x, const float *w, size_t n,
                                   float eps);
void cordon__layer_norm_bwd_row_neon(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                     const float *g, size_t n, float eps);
#endif

#endif /* CORDON_COMPUTE_CPU_KERNELS_H */
