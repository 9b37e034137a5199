/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — branch-free single-precision math that compilers vectorise, with IEEE special cases kept.
 *
 * cordon__vexp(x): e^x.
 *   Range reduction x = k·ln2 + r with |r| <= ln2/2 (ln2 split in two parts so k·ln2_hi is exact), a
 *   degree-6 polynomial for e^r (the classic minimax coefficients of the Cephes library), and 2^k applied
 *   in two halves so that results in the subnormal range are rounded once, not flushed.
 *   Error: at most 2 ulp over [-104, 89] (results in the subnormal range: ulps of 2^-149), against f64
 *   exp on a sweep of every 1009th float of that range and on random arguments
 *   (tests/test_compute_math.c); measured 0.96 ulp without FMA contraction. The bound leaves room for
 *   the contracted (AVX2/AVX-512) builds of the same code. Special cases: NaN → NaN, +inf and
 *   x > 88.72284 → +inf, -inf and x < -103.97208 → +0 exactly. No floating-point conversion of NaN to an integer happens (the
 *   integer k is read from the bits of a rounded float), so there is no undefined behaviour for any x.
 * Used by softmax, SiLU and the sigmoid in the scalar and NEON tables, and by SiLU and the sigmoid in
 * every table; the AVX2 and AVX-512 exponential rows and softmax use a table variant of this algorithm
 * (rows_avx2.c, rows_avx512.c) within the same bound. */
#ifndef CORDON_COMPUTE_CPU_VMATH_H
#define CORDON_COMPUTE_CPU_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float cordon__bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint32_t cordon__f32_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float cordon__vexp(float x) {
    const float hi = 88.72283935546875f;  /* above: +inf */
    const float lo = -103.97208f;         /* below: +0 */
    float xc = x > hi ? hi : x;
    xc = xc < lo ? lo : xc;               /* NaN passes both (comparisons are false) */
    const float magic = 12582912.0f;      /* 1.5·2^23: adding it rounds to an integer in the low bits */
    float t = xc * 1.44269504088896341f + magic;
    float kf = t - magic;
    int32_t k = (int32_t)(cordon__f32_to_bits(t) - cordon__f32_to_bits(magic)); /* in [-150, 128] */
    float r = xc - kf * 0.693359375f;
    r = r - kf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    /* 2^k = 2^k1 · 2^k2 with both halves in the normal range. */
    int32_t k1 = k / 2;
    int32_t k2 = k - k1;
    float s1 = cordon__bits_to_f32((uint32_t)(k1 + 127) << 23);
    float s2 = cordon__bits_to_f32((uint32_t)(k2 + 127) << 23);
    float e = p * s1 * s2;
    /* The clamped lo itself rounds to the smallest subnormal: below it (and for -inf) the result must
     * be +0, so that a masked element (-inf) weighs exactly nothing. */
    e = x < lo ? 0.0f : e;
    return x > hi ? INFINITY : e;
}

/* 1 / (1 + e^-x), with sigmoid(+inf) = 1, sigmoid(-inf) = 0, NaN → NaN. */
static inline float cordon__vsigmoid(float x) {
    return 1.0f / (1.0f + cordon__vexp(-x));
}

#endif /* CORDON_COMPUTE_CPU_VMATH_H */
