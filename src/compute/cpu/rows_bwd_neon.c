/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — NEON backward row kernels (aarch64; placed in the neon table): softmax, RMSNorm (with dw) and
 * LayerNorm (with dγ, dβ).
 *
 * Each computes its row's statistics exactly as rows_neon.c's forward kernel does (the same
 * accumulators over the same columns, combined in the same tree), so a backward pass sees the forward
 * pass's mean and rstd bit for bit, and the result depends on n only, never on the thread count. The
 * passes are those of the other levels (rows_avx512.c gives the scheme):
 *   softmax: one dot product, one output pass;
 *   RMSNorm: one pass for Σx² (cordon__dot_neon's accumulators) and Σ dy·w·x beside it, one output pass
 *   (with dw);
 *   LayerNorm: Σx (sum4x4); then Σ(x − m0), Σ(x − m0)² (the forward kernel's two accumulators over 8
 *   columns), Σ gi and Σ gi·(x − m0) beside them (gi = dy·γ); one output pass (with dγ, dβ), where
 *   mean(gi·x̂) = rstd·(Σ gi·(x − m0) − c·Σ gi)/n. */
#if defined(__aarch64__)
#  include <math.h>
#  include <stddef.h>

#  include "compute/cpu/kernels.h"
#  include "compute/cpu/rows_neon.h"

void cordon__softmax_bwd_row_neon(float *dx, const float *y, const float *dy, size_t n, float scale) {
    const float32x4_t vd = vdupq_n_f32(cordon__dot_neon(dy, y, n));
    const float32x4_t vs = vdupq_n_f32(scale);
    for (size_t i = 0; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t v = vmulq_f32(vmulq_f32(vs, load_n(y + i, rem)), vsubq_f32(load_n(dy + i, rem), vd));
        store_n(dx + i, v, rem);
    }
}

void cordon__rms_norm_bwd_row_neon(float *dx, float *dw_acc, const float *dy, const float *x, const float *w,
                                   size_t n, float eps) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t x0 = vld1q_f32(x + i), x1 = vld1q_f32(x + i + 4);
        float32x4_t x2 = vld1q_f32(x + i + 8), x3 = vld1q_f32(x + i + 12);
        s0 = vfmaq_f32(s0, x0, x0);
        s1 = vfmaq_f32(s1, x1, x1);
        s2 = vfmaq_f32(s2, x2, x2);
        s3 = vfmaq_f32(s3, x3, x3);
        t0 = vfmaq_f32(t0, vmulq_f32(vld1q_f32(dy + i), vld1q_f32(w + i)), x0);
        t1 = vfmaq_f32(t1, vmulq_f32(vld1q_f32(dy + i + 4), vld1q_f32(w + i + 4)), x1);
        t2 = vfmaq_f32(t2, vmulq_f32(vld1q_f32(dy + i + 8), vld1q_f32(w + i + 8)), x2);
        t3 = vfmaq_f32(t3, vmulq_f32(vld1q_f32(dy + i + 12), vld1q_f32(w + i + 12)), x3);
    }
    for (; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t xv = load_n(x + i, rem);
        s0 = vfmaq_f32(s0, xv, xv);
        t0 = vfmaq_f32(t0, vmulq_f32(load_n(dy + i, rem), load_n(w + i, rem)), xv);
    }
    float ss = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    float sd = vaddvq_f32(vaddq_f32(vaddq_f32(t0, t1), vaddq_f32(t2, t3)));
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    const float32x4_t vr = vdupq_n_f32(r), vc = vdupq_n_f32(sd * r * r * r / (float)n);
    for (i = 0; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t xv = load_n(x + i, rem), dv = load_n(dy + i, rem);
        if (dw_acc != NULL) {
            store_n(dw_acc + i, vfmaq_f32(load_n(dw_acc + i, rem), vmulq_f32(dv, xv), vr), rem);
        }
        float32x4_t v = vmulq_f32(vmulq_f32(vr, load_n(w + i, rem)), dv);
        store_n(dx + i, vfmsq_f32(v, vc, xv), rem);
    }
}

void cordon__layer_norm_bwd_row_neon(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                     const float *g, size_t n, float eps) {
    float m0 = sum4x4(x, n) / (float)n;
    const float32x4_t vm0 = vdupq_n_f32(m0);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, q0 = a0, q1 = a0, b0 = a0, b1 = a0, e0 = a0, e1 = a0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t d0 = vsubq_f32(vld1q_f32(x + i), vm0);
        float32x4_t d1 = vsubq_f32(vld1q_f32(x + i + 4), vm0);
        float32x4_t g0 = vld1q_f32(dy + i), g1 = vld1q_f32(dy + i + 4);
        if (g != NULL) {
            g0 = vmulq_f32(g0, vld1q_f32(g + i));
            g1 = vmulq_f32(g1, vld1q_f32(g + i + 4));
        }
        a0 = vaddq_f32(a0, d0);
        a1 = vaddq_f32(a1, d1);
        q0 = vfmaq_f32(q0, d0, d0);
        q1 = vfmaq_f32(q1, d1, d1);
        b0 = vaddq_f32(b0, g0);
        b1 = vaddq_f32(b1, g1);
        e0 = vfmaq_f32(e0, g0, d0);
        e1 = vfmaq_f32(e1, g1, d1);
    }
    for (; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t d = keep_below(vsubq_f32(load_n(x + i, rem), vm0), rem);
        float32x4_t gi = load_n(dy + i, rem); /* pads are +0 */
        if (g != NULL) {
            gi = vmulq_f32(gi, load_n(g + i, rem));
        }
        a0 = vaddq_f32(a0, d);
        q0 = vfmaq_f32(q0, d, d);
        b0 = vaddq_f32(b0, gi);
        e0 = vfmaq_f32(e0, gi, d);
    }
    float s1 = vaddvq_f32(vaddq_f32(a0, a1)), s2 = vaddvq_f32(vaddq_f32(q0, q1));
    float sg = vaddvq_f32(vaddq_f32(b0, b1)), sgd = vaddvq_f32(vaddq_f32(e0, e1));
    float c = s1 / (float)n;
    float var = (s2 - s1 * c) / (float)n;
    var = var > 0.0f ? var : 0.0f;
    float rstd = 1.0f / sqrtf(var + eps);
    float mg = sg / (float)n, mgx = rstd * (sgd - c * sg) / (float)n;
    const float32x4_t vc = vdupq_n_f32(c), vr = vdupq_n_f32(rstd);
    const float32x4_t vmg = vdupq_n_f32(mg), vmgx = vdupq_n_f32(mgx);
    for (i = 0; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t dv = load_n(dy + i, rem);
        float32x4_t xh = vmulq_f32(vsubq_f32(vsubq_f32(load_n(x + i, rem), vm0), vc), vr);
        if (dg_acc != NULL) {
            store_n(dg_acc + i, vfmaq_f32(load_n(dg_acc + i, rem), dv, xh), rem);
        }
        if (db_acc != NULL) {
            store_n(db_acc + i, vaddq_f32(load_n(db_acc + i, rem), dv), rem);
        }
        float32x4_t gi = g != NULL ? vmulq_f32(dv, load_n(g + i, rem)) : dv;
        store_n(dx + i, vmulq_f32(vr, vfmsq_f32(vsubq_f32(gi, vmg), xh, vmgx)), rem);
    }
}
#else
typedef int cordon__rows_bwd_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
