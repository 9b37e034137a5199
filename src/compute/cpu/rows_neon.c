/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — NEON row kernels (aarch64): the exponential, softmax, RMSNorm, LayerNorm, dot and axpy, written
 * with intrinsics (placed in the neon table).
 *
 * The exponential is vmath.h's algorithm on 4 lanes, FMA-evaluated, with 2^k applied in two halves
 * built from the exponent bits exactly as vmath.h does (so subnormal results are rounded once); same
 * special cases and the same 2 ulp bound (tests/test_compute_math.c checks every table). Reductions use
 * a fixed set of accumulators combined in a fixed tree; row tails go through rows_neon.h's helpers. */
#if defined(__aarch64__)
#  include <math.h>
#  include <stdbool.h>
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

#  include "compute/cpu/kernels.h"
#  include "compute/cpu/rows_neon.h"

static inline float32x4_t exp4(float32x4_t x) {
    const float32x4_t hi = vdupq_n_f32(88.72283935546875f);
    const float32x4_t lo = vdupq_n_f32(-103.97208f);
    float32x4_t xc = vminq_f32(hi, vmaxq_f32(lo, x)); /* NaN stays NaN (FMAX/FMIN propagate it) */
    float32x4_t kf = vrndnq_f32(vmulq_f32(xc, vdupq_n_f32(1.44269504088896341f)));
    float32x4_t r = vfmsq_f32(xc, kf, vdupq_n_f32(0.693359375f));
    r = vfmsq_f32(r, kf, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t p = vdupq_n_f32(1.9875691500e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), p, r);
    p = vfmaq_f32(r, vmulq_f32(p, r), r);
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    /* k in [-150, 128] (NaN converts to 0; the product stays NaN). 2^k = 2^k1 · 2^k2, k1 = k/2 rounded
     * toward zero, both halves normal. */
    int32x4_t k = vcvtnq_s32_f32(kf);
    int32x4_t k1 = vshrq_n_s32(vaddq_s32(k, vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(k), 31))), 1);
    int32x4_t k2 = vsubq_s32(k, k1);
    const int32x4_t bias = vdupq_n_s32(127);
    float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k1, bias), 23));
    float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k2, bias), 23));
    float32x4_t e = vmulq_f32(vmulq_f32(p, s1), s2);
    e = vbslq_f32(vcltq_f32(x, lo), vdupq_n_f32(0.0f), e); /* x < lo (and -inf): +0; NaN compares false */
    return vbslq_f32(vcgtq_f32(x, hi), vdupq_n_f32(INFINITY), e);
}

void cordon__exp_row_neon(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        vst1q_f32(y + i, exp4(vld1q_f32(x + i)));
    }
    if (i < n) {
        store_part(y + i, exp4(load_part(x + i, n - i)), n - i);
    }
}

/* scale·x + mask for 4 columns from i (rem < 4: the first rem of them, zeros after). */
static inline float32x4_t sm_in(float32x4_t vs, const float *x, const float *mask, size_t i, size_t rem) {
    float32x4_t xv = rem == 4 ? vld1q_f32(x + i) : load_part(x + i, rem);
    if (mask == NULL) {
        return vmulq_f32(vs, xv);
    }
    return vfmaq_f32(rem == 4 ? vld1q_f32(mask + i) : load_part(mask + i, rem), vs, xv);
}

void cordon__softmax_row_neon(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next) {
    (void)next;
    if (valid > n) {
        valid = n;
    }
    const float32x4_t vs = vdupq_n_f32(scale);
    const float32x4_t ninf = vdupq_n_f32(-INFINITY);
    float32x4_t mx0 = ninf, mx1 = ninf;
    uint32x4_t nan = vdupq_n_u32(0);
    size_t i = 0;
    for (; i + 8 <= valid; i += 8) {
        float32x4_t a = sm_in(vs, x, mask, i, 4), b = sm_in(vs, x, mask, i + 4, 4);
        nan = vorrq_u32(nan, vorrq_u32(vmvnq_u32(vceqq_f32(a, a)), vmvnq_u32(vceqq_f32(b, b))));
        mx0 = vmaxq_f32(mx0, a);
        mx1 = vmaxq_f32(mx1, b);
    }
    for (; i < valid; i += 4) {
        size_t rem = valid - i < 4 ? valid - i : 4;
        float32x4_t a = vbslq_f32(lanes_below(rem), sm_in(vs, x, mask, i, rem), ninf);
        nan = vorrq_u32(nan, vmvnq_u32(vceqq_f32(a, a)));
        mx0 = vmaxq_f32(mx0, a);
    }
    bool has_nan = vmaxvq_u32(nan) != 0;
    float m = has_nan ? NAN : vmaxvq_f32(vmaxq_f32(mx0, mx1));
    if (has_nan || m == -INFINITY || m == INFINITY) {
        cordon__softmax_special(y, x, mask, n, valid, scale, has_nan, m);
        return;
    }
    const float32x4_t vm = vdupq_n_f32(m);
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0;
    i = 0;
    for (; i + 8 <= valid; i += 8) {
        float32x4_t e0 = exp4(vsubq_f32(sm_in(vs, x, mask, i, 4), vm));
        float32x4_t e1 = exp4(vsubq_f32(sm_in(vs, x, mask, i + 4, 4), vm));
        vst1q_f32(y + i, e0);
        vst1q_f32(y + i + 4, e1);
        s0 = vaddq_f32(s0, e0);
        s1 = vaddq_f32(s1, e1);
    }
    for (; i < valid; i += 4) {
        size_t rem = valid - i < 4 ? valid - i : 4;
        float32x4_t e = exp4(vsubq_f32(sm_in(vs, x, mask, i, rem), vm));
        e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), lanes_below(rem)));
        store_part(y + i, e, rem);
        s0 = vaddq_f32(s0, e);
    }
    const float32x4_t inv = vdupq_n_f32(1.0f / vaddvq_f32(vaddq_f32(s0, s1)));
    i = 0;
    for (; i + 4 <= valid; i += 4) {
        vst1q_f32(y + i, vmulq_f32(vld1q_f32(y + i), inv));
    }
    if (i < valid) {
        store_part(y + i, vmulq_f32(load_part(y + i, valid - i), inv), valid - i);
    }
    for (size_t j = valid; j < n; j++) {
        y[j] = 0.0f;
    }
}

CORDON__NEON_DOT(cordon__dot_neon, float, vld1q_f32, load_part)

CORDON__NEON_AXPY(cordon__axpy_neon, float, vld1q_f32, load_part)
CORDON__NEON_AXPY4(cordon__axpy4_neon, float, vld1q_f32, load_part)

void cordon__rms_norm_row_neon(float *y, const float *x, const float *w, size_t n, float eps) {
    float r = 1.0f / sqrtf(cordon__dot_neon(x, x, n) / (float)n + eps);
    const float32x4_t vr = vdupq_n_f32(r);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        vst1q_f32(y + i, vmulq_f32(vmulq_f32(vld1q_f32(x + i), vr), vld1q_f32(w + i)));
    }
    if (i < n) {
        store_part(y + i, vmulq_f32(vmulq_f32(load_part(x + i, n - i), vr), load_part(w + i, n - i)), n - i);
    }
}

void cordon__layer_norm_row_neon(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next) {
    (void)next;
    float m0 = sum4x4(x, n) / (float)n;
    const float32x4_t vm0 = vdupq_n_f32(m0);
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, q0 = a0, q1 = a0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        float32x4_t d0 = vsubq_f32(vld1q_f32(x + i), vm0);
        float32x4_t d1 = vsubq_f32(vld1q_f32(x + i + 4), vm0);
        a0 = vaddq_f32(a0, d0);
        a1 = vaddq_f32(a1, d1);
        q0 = vfmaq_f32(q0, d0, d0);
        q1 = vfmaq_f32(q1, d1, d1);
    }
    for (; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        float32x4_t xv = rem == 4 ? vld1q_f32(x + i) : load_part(x + i, rem);
        float32x4_t d = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vsubq_f32(xv, vm0)), lanes_below(rem)));
        a0 = vaddq_f32(a0, d);
        q0 = vfmaq_f32(q0, d, d);
    }
    float s1 = vaddvq_f32(vaddq_f32(a0, a1)), s2 = vaddvq_f32(vaddq_f32(q0, q1));
    float c = s1 / (float)n;
    float var = (s2 - s1 * c) / (float)n;
    var = var > 0.0f ? var : 0.0f;
    const float32x4_t vc = vdupq_n_f32(c), vr = vdupq_n_f32(1.0f / sqrtf(var + eps));
    const float32x4_t one = vdupq_n_f32(1.0f), zero = vdupq_n_f32(0.0f);
    for (i = 0; i < n; i += 4) {
        size_t rem = n - i < 4 ? n - i : 4;
        bool full = rem == 4;
        float32x4_t xv = full ? vld1q_f32(x + i) : load_part(x + i, rem);
        float32x4_t v = vmulq_f32(vsubq_f32(vsubq_f32(xv, vm0), vc), vr);
        float32x4_t gv = g == NULL ? one : full ? vld1q_f32(g + i) : load_part(g + i, rem);
        float32x4_t bv = b == NULL ? zero : full ? vld1q_f32(b + i) : load_part(b + i, rem);
        float32x4_t out = vfmaq_f32(bv, v, gv);
        if (full) {
            vst1q_f32(y + i, out);
        } else {
            store_part(y + i, out, rem);
        }
    }
}
#else
typedef int cordon__rows_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
