/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — helpers shared by the ops entry points (ops_*.c): composing one operation from others
 * (LoRA from matmuls) without going back through the public API's handle lookups. */
#ifndef CORDON_COMPUTE_OPS_INTERNAL_H
#define CORDON_COMPUTE_OPS_INTERNAL_H

#include "compute/backend.h"

/* Swaps the last two dimensions of a view. */
void cordon__view_transpose(cordon__view *v);

/* Fills a matmul descriptor for C = alpha·op(A)·op(B) + beta·C and checks the shapes (SHAPE_MISMATCH). */
cordon_status cordon__matmul_describe(const cordon__view *c, const cordon__view *a, const cordon__view *b, float alpha,
                                      float beta, bool trans_a, bool trans_b, cordon__matmul_desc *d);
/* Checks C's writability and aliasing, then runs the product on the device. */
cordon_status cordon__matmul_run(cordon__device *dev, const cordon__matmul_desc *d);

/* A contiguous view of shape (s0, s1, s2, s3) (right-aligned, ndim dimensions) over a scratch block. */
void cordon__scratch_view(cordon__block *b, unsigned ndim, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3,
                          cordon__view *out);

/* The view of a 1-D parameter of n elements: OK when v is absent (optional) or has ndim 1 and extent n. */
cordon_status cordon__check_param(const cordon__view *v, uint64_t n);

/* Is f finite? (no isfinite macro games with -Wconversion) */
static inline bool cordon__finite(float f) {
    return f == f && f - f == 0.0f;
}

#endif /* CORDON_COMPUTE_OPS_INTERNAL_H */
