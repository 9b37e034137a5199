/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — NEON dot and axpy with bf16 weights (aarch64; placed in the neon table). Each bf16 is widened
 * exactly (its bits shifted into the high half of an f32) and the arithmetic is that of rows_neon.c's
 * f32 dot and axpy, in the same order: a product on bf16 weights is bit for bit the f32 product on the
 * widened weights (tests/test_compute_bf16.c). */
#if defined(__aarch64__)
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

#  include "compute/cpu/kernels.h"

static inline float32x4_t widen4(const uint16_t *h) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h), 16));
}

/* The first rem (< 4) values, zeros after (a zero bf16 widens to +0). */
static inline float32x4_t widen_part(const uint16_t *h, size_t rem) {
    uint16_t t[4] = {0, 0, 0, 0};
    memcpy(t, h, rem * sizeof(uint16_t));
    return widen4(t);
}

static inline float32x4_t load_part(const float *x, size_t rem) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, x, rem * sizeof(float));
    return vld1q_f32(t);
}

float cordon__dot_bf16_neon(const float *a, const uint16_t *b, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), widen4(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), widen4(b + i + 4));
        s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), widen4(b + i + 8));
        s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), widen4(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), widen4(b + i));
    }
    if (i < n) {
        s0 = vfmaq_f32(s0, load_part(a + i, n - i), widen_part(b + i, n - i));
    }
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

void cordon__axpy_bf16_neon(float *y, float s, const uint16_t *x, size_t n) {
    const float32x4_t vs = vdupq_n_f32(s);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), vs, widen4(x + i)));
        vst1q_f32(y + i + 4, vfmaq_f32(vld1q_f32(y + i + 4), vs, widen4(x + i + 4)));
    }
    for (; i + 4 <= n; i += 4) {
        vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), vs, widen4(x + i)));
    }
    if (i < n) {
        float t[4];
        vst1q_f32(t, vfmaq_f32(load_part(y + i, n - i), vs, widen_part(x + i, n - i)));
        memcpy(y + i, t, (n - i) * sizeof(float));
    }
}
#else
typedef int cordon__bf16_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
