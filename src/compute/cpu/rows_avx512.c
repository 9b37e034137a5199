/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — AVX-512 row kernels: the exponential, softmax, RMSNorm, LayerNorm, dot and axpy, written with
 * intrinsics (compiled with the AVX-512 flags only, src/compute/module.cmake; placed in the avx512 table,
 * so never run on a processor without AVX-512 F/BW/VL/DQ).
 *
 * The exponential (exp16_core below) is a table variant of vmath.h's: the argument is reduced by ln2/16
 * (not ln2), 2^(j/16) read from a 16-entry table held in one register, and e^r on |r| <= ln2/32 is a
 * degree-3 polynomial; 2^k is applied by vscalefps, which rounds once, so subnormal results are rounded,
 * not flushed (under FTZ they flush as any arithmetic does), and overflow and underflow need no compare.
 * Special cases as vmath.h (NaN → NaN, x > 88.72284 → +inf, x < -103.97208 → +0). Measured worst 0.99
 * ulp over the dense sweep (bound: the 2 ulp of vmath.h, checked on every table by
 * tests/test_compute_math.c); about 13 vector operations per 16 lanes against vmath.h's 20.
 *
 * Reductions: a fixed number of 16-lane accumulators combined in a fixed tree; the order depends on n
 * only. Row tails use masked loads and stores, so no element outside [0, n) is read or written. */
#if defined(__x86_64__) || defined(__i386__)
#  include <math.h>
#  include <stddef.h>
#  include <stdint.h>

#  include "compute/cpu/kernels.h"

static inline __mmask16 tail_mask(size_t rem) {
    return rem >= 16 ? (__mmask16)0xFFFFu : (__mmask16)((1u << rem) - 1u);
}

/* e^x on 16 lanes, from the clamped argument xc (NaN passes the clamps): x = (16·k' + j)·ln2/16 + r with
 * |r| <= ln2/32, e^x = 2^k' · 2^(j/16) · e^r. 2^(j/16) is a 16-entry table held in one register (vpermps
 * indexes it with the low four bits of the integer 16·k' + j, read from the bits of a rounded float), e^r
 * is 1 + r + r²/2 + r³/6 + r⁴/24, added to the table entry with one rounding: T + T·(e^r − 1); 2^k' is applied
 * by vscalefps, which takes the floor of (16·k' + j)/16 and rounds once, so subnormal results are rounded,
 * overflow gives +inf and underflow +0 without a compare. The clamps keep the reduction exact: below
 * -110 every result is +0, above 100 +inf, as for the unclamped argument. */
static inline __m512 exp16_core(__m512 xc) {
    const __m512 table = _mm512_setr_ps(1.000000000e+00f, 1.044273734e+00f, 1.090507746e+00f, 1.138788581e+00f,
                                        1.189207077e+00f, 1.241857767e+00f, 1.296839595e+00f, 1.354255557e+00f,
                                        1.414213538e+00f, 1.476826191e+00f, 1.542210817e+00f, 1.610490322e+00f,
                                        1.681792855e+00f, 1.756252170e+00f, 1.834008098e+00f, 1.915206552e+00f);
    const __m512 magic = _mm512_set1_ps(12582912.0f); /* 1.5·2^23: t's low bits hold the rounded integer */
    __m512 t = _mm512_fmadd_ps(xc, _mm512_set1_ps(23.0831206542234f), magic);
    __m512 kf = _mm512_sub_ps(t, magic);
    /* ln2/16 in two parts; |kf| <= 2539, so xc − kf·hi is exact under FMA */
    __m512 r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(0.0433216989040374756f), xc);
    r = _mm512_fnmadd_ps(kf, _mm512_set1_ps(-1.19040888e-10f), r);
    __m512 tj = _mm512_permutexvar_ps(_mm512_castps_si512(t), table);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.66666672e-1f), r, _mm512_set1_ps(0.500016190f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_mul_ps(p, r);
    return _mm512_scalef_ps(_mm512_fmadd_ps(tj, p, tj), _mm512_mul_ps(kf, _mm512_set1_ps(0.0625f)));
}

/* e^x for any x: NaN → NaN, +inf and x > 88.72284 → +inf, -inf and x < -103.97208 → +0. */
static inline __m512 exp16(__m512 x) {
    /* max(lo, x), min(hi, ·): the second operand is returned for NaN, so NaN passes through. */
    return exp16_core(_mm512_min_ps(_mm512_set1_ps(100.0f), _mm512_max_ps(_mm512_set1_ps(-110.0f), x)));
}

/* e^x for x <= 0 or NaN (softmax's x − max): only the lower clamp is needed. */
static inline __m512 exp16_nonpos(__m512 x) {
    return exp16_core(_mm512_max_ps(_mm512_set1_ps(-110.0f), x));
}

void cordon__exp_row_avx512(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm512_storeu_ps(y + i, exp16(_mm512_loadu_ps(x + i)));
    }
    if (i < n) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, exp16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

/* Σ of the 16 lanes in vmath's fixed tree: halves, then quarters… */
static inline float hsum16(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* scale·x (+ mask) of one vector; the same expression in every pass, so a value equals the row maximum
 * exactly where it did in the maximum pass. */
static inline __m512 sm_in(__m512 vs, const float *x, const float *mask, size_t i, __mmask16 k) {
    __m512 xv = _mm512_maskz_loadu_ps(k, x + i);
    return mask != NULL ? _mm512_fmadd_ps(vs, xv, _mm512_maskz_loadu_ps(k, mask + i)) : _mm512_mul_ps(vs, xv);
}

/* The exponential pass: y = e^(scale·x (+ mask) − m) and its sum, in two accumulators (lane l of
 * accumulator q sums elements 32·t + 16·q + l; the tail's vectors go to accumulator 0). `masked` is a
 * constant at each call site; without a mask scale·x − m is one fused operation. */
static inline float sm_exp_pass(float *y, const float *x, const float *mask, size_t valid, __m512 vs, __m512 vm,
                                const float *pf, bool masked) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= valid; i += 32) {
        __m512 a, b;
        if (masked) {
            a = _mm512_sub_ps(_mm512_fmadd_ps(vs, _mm512_loadu_ps(x + i), _mm512_loadu_ps(mask + i)), vm);
            b = _mm512_sub_ps(_mm512_fmadd_ps(vs, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(mask + i + 16)), vm);
        } else {
            a = _mm512_fmsub_ps(vs, _mm512_loadu_ps(x + i), vm);
            b = _mm512_fmsub_ps(vs, _mm512_loadu_ps(x + i + 16), vm);
        }
        _mm_prefetch((const char *)(pf + i), _MM_HINT_T0);
        _mm_prefetch((const char *)(pf + i + 16), _MM_HINT_T0);
        __m512 e0 = exp16_nonpos(a), e1 = exp16_nonpos(b);
        _mm512_storeu_ps(y + i, e0);
        _mm512_storeu_ps(y + i + 16, e1);
        s0 = _mm512_add_ps(s0, e0);
        s1 = _mm512_add_ps(s1, e1);
    }
    for (; i < valid; i += 16) {
        __mmask16 k = tail_mask(valid - i);
        __m512 xv = _mm512_maskz_loadu_ps(k, x + i);
        __m512 a = masked ? _mm512_sub_ps(_mm512_fmadd_ps(vs, xv, _mm512_maskz_loadu_ps(k, mask + i)), vm)
                          : _mm512_fmsub_ps(vs, xv, vm);
        __m512 e = exp16_nonpos(a);
        _mm512_mask_storeu_ps(y + i, k, e);
        s0 = _mm512_mask_add_ps(s0, k, s0, e);
    }
    return hsum16(_mm512_add_ps(s0, s1));
}

/* Three passes over the row: the maximum, the exponentials and their sum, the scaling; after the first
 * the row is in L1 (a 4096-float row is 16 KiB). A NaN never enters the running maximum (vmaxps returns
 * its second operand, the maximum so far, when the first is NaN); it is found as a NaN sum instead (every
 * other term is in [0, 1]), and a row whose maximum is ±inf goes to the rare path before anything is
 * written, as y may be x. */
void cordon__softmax_row_avx512(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next) {
    if (valid > n) {
        valid = n;
    }
    const __m512 vs = _mm512_set1_ps(scale);
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mx0 = ninf, mx1 = ninf;
    size_t i = 0;
    for (; i + 32 <= valid; i += 32) {
        mx0 = _mm512_max_ps(sm_in(vs, x, mask, i, 0xFFFFu), mx0);
        mx1 = _mm512_max_ps(sm_in(vs, x, mask, i + 16, 0xFFFFu), mx1);
    }
    for (; i < valid; i += 16) {
        __mmask16 k = tail_mask(valid - i);
        mx0 = _mm512_mask_max_ps(mx0, k, sm_in(vs, x, mask, i, k), mx0);
    }
    float m = _mm512_reduce_max_ps(_mm512_max_ps(mx0, mx1));
    if (m == -INFINITY || m == INFINITY) {
        cordon__softmax_special(y, x, mask, n, valid, scale, cordon__softmax_has_nan(x, mask, valid, scale), m);
        return;
    }
    const __m512 vm = _mm512_set1_ps(m);
    /* The next row is fetched while the exponentials keep the core busy (no next row: x itself, in L1). */
    const float *pf = next != NULL ? next : x;
    float sum = mask != NULL ? sm_exp_pass(y, x, mask, valid, vs, vm, pf, true)
                             : sm_exp_pass(y, x, NULL, valid, vs, vm, pf, false);
    if (sum != sum) {
        for (size_t j = 0; j < n; j++) {
            y[j] = NAN;
        }
        return;
    }
    const __m512 inv = _mm512_set1_ps(1.0f / sum);
    i = 0;
    for (; i + 16 <= valid; i += 16) {
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), inv));
    }
    if (i < valid) {
        __mmask16 k = tail_mask(valid - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, y + i), inv));
    }
    for (size_t j = valid; j < n; j++) {
        y[j] = 0.0f;
    }
}

/* Σ a·b with four accumulators (lane l of accumulator q sums elements 64·t + 16·q + l). */
float cordon__dot_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + i), _mm512_maskz_loadu_ps(k, b + i), s0);
    }
    return hsum16(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void cordon__axpy_avx512(float *y, float s, const float *x, size_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(vs, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(vs, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_fmadd_ps(vs, _mm512_maskz_loadu_ps(k, x + i), _mm512_maskz_loadu_ps(k, y + i)));
    }
}

/* Four rows of x at once: for each element, y = fma(s0, x0, y), then s1·x1, s2·x2, s3·x3, in that
 * order: cordon__axpy_avx512's arithmetic four times exactly, with y loaded and stored once. */
void cordon__axpy4_avx512(float *y, const float *s, const float *x, size_t ldx, size_t n) {
    const __m512 v0 = _mm512_set1_ps(s[0]), v1 = _mm512_set1_ps(s[1]), v2 = _mm512_set1_ps(s[2]),
                 v3 = _mm512_set1_ps(s[3]);
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = _mm512_loadu_ps(y + i), b = _mm512_loadu_ps(y + i + 16);
        a = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0 + i), a);
        b = _mm512_fmadd_ps(v0, _mm512_loadu_ps(x0 + i + 16), b);
        a = _mm512_fmadd_ps(v1, _mm512_loadu_ps(x1 + i), a);
        b = _mm512_fmadd_ps(v1, _mm512_loadu_ps(x1 + i + 16), b);
        a = _mm512_fmadd_ps(v2, _mm512_loadu_ps(x2 + i), a);
        b = _mm512_fmadd_ps(v2, _mm512_loadu_ps(x2 + i + 16), b);
        a = _mm512_fmadd_ps(v3, _mm512_loadu_ps(x3 + i), a);
        b = _mm512_fmadd_ps(v3, _mm512_loadu_ps(x3 + i + 16), b);
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 a = _mm512_maskz_loadu_ps(k, y + i);
        a = _mm512_fmadd_ps(v0, _mm512_maskz_loadu_ps(k, x0 + i), a);
        a = _mm512_fmadd_ps(v1, _mm512_maskz_loadu_ps(k, x1 + i), a);
        a = _mm512_fmadd_ps(v2, _mm512_maskz_loadu_ps(k, x2 + i), a);
        a = _mm512_fmadd_ps(v3, _mm512_maskz_loadu_ps(k, x3 + i), a);
        _mm512_mask_storeu_ps(y + i, k, a);
    }
}

static float sum16x4(const float *x, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(x + i));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(x + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(x + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i < n; i += 16) {
        s0 = _mm512_add_ps(s0, _mm512_maskz_loadu_ps(tail_mask(n - i), x + i));
    }
    return hsum16(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void cordon__rms_norm_row_avx512(float *y, const float *x, const float *w, size_t n, float eps) {
    float r = 1.0f / sqrtf(cordon__dot_avx512(x, x, n) / (float)n + eps);
    const __m512 vr = _mm512_set1_ps(r);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i), vr), _mm512_loadu_ps(w + i)));
        _mm512_storeu_ps(y + i + 16,
                         _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + i + 16), vr), _mm512_loadu_ps(w + i + 16)));
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k,
                              _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + i), vr), _mm512_maskz_loadu_ps(k, w + i)));
    }
}

/* Σ(x − m0) and Σ(x − m0)² with four accumulators each (lane l of accumulator q sums elements
 * 64·t + 16·q + l), combined as (0 + 1) + (2 + 3): the order depends on n only. */
static inline void ln_moments(const float *x, size_t n, __m512 vm0, float *s1, float *s2) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm0);
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm0);
        __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), vm0);
        __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 48), vm0);
        a0 = _mm512_add_ps(a0, d0);
        a1 = _mm512_add_ps(a1, d1);
        a2 = _mm512_add_ps(a2, d2);
        a3 = _mm512_add_ps(a3, d3);
        q0 = _mm512_fmadd_ps(d0, d0, q0);
        q1 = _mm512_fmadd_ps(d1, d1, q1);
        q2 = _mm512_fmadd_ps(d2, d2, q2);
        q3 = _mm512_fmadd_ps(d3, d3, q3);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), vm0);
        a0 = _mm512_add_ps(a0, d);
        q0 = _mm512_fmadd_ps(d, d, q0);
    }
    *s1 = hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    *s2 = hsum16(_mm512_add_ps(_mm512_add_ps(q0, q1), _mm512_add_ps(q2, q3)));
}

/* One vector of the LayerNorm output: ((x − m0) − c)·rstd·γ + β (γ, β absent: 1, 0). */
static inline void ln_out16(float *y, const float *x, const float *g, const float *b, size_t i, __mmask16 k, __m512 vm0,
                            __m512 vc, __m512 vr) {
    __m512 v = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), vm0), vc), vr);
    __m512 gv = g != NULL ? _mm512_maskz_loadu_ps(k, g + i) : _mm512_set1_ps(1.0f);
    __m512 bv = b != NULL ? _mm512_maskz_loadu_ps(k, b + i) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(y + i, k, _mm512_fmadd_ps(v, gv, bv));
}

/* The shift of a row's moments: the mean of its first min(n, 16) elements, a cheap estimate of the mean. */
static inline float ln_shift(const float *x, size_t n) {
    size_t k = n < 16 ? n : 16;
    return hsum16(_mm512_maskz_loadu_ps(tail_mask(k), x)) / (float)k;
}

/* c = s1/n and the variance (s2 − s1·c)/n from the moments about a shift; false when c² > variance (the
 * shift further than one standard deviation from the mean, where the cancellation in s2 − s1·c would
 * lose digits: the moments are then taken about Σx/n instead). NaN compares false: no retry. */
static inline bool ln_finish(float s1, float s2, size_t n, float *c_out, float *var_out) {
    float c = s1 / (float)n;
    float var = (s2 - s1 * c) / (float)n;
    var = var > 0.0f ? var : 0.0f;
    *c_out = c;
    *var_out = var;
    return !(c * c > var);
}

/* LayerNorm in two passes over the row: the moments s1 = Σ(x − s), s2 = Σ(x − s)² about the shift s (one
 * pass), the output with deviations formed as (x − s) − c, c = s1/n. With |c| at most the standard
 * deviation, the variance's relative error is about twice that of the corrected two-pass form about the
 * mean (the reference table's); a row whose shift is further off (an outlier among its first 16
 * elements) takes that form: m0 = Σx/n, then the moments about m0 (one pass more, the row in L1). */
static inline void ln_stats(const float *x, size_t n, float *s_out, float *c_out, float *var_out) {
    float s = ln_shift(x, n), s1, s2, c, var;
    ln_moments(x, n, _mm512_set1_ps(s), &s1, &s2);
    if (!ln_finish(s1, s2, n, &c, &var)) {
        s = sum16x4(x, n) / (float)n;
        ln_moments(x, n, _mm512_set1_ps(s), &s1, &s2);
        (void)ln_finish(s1, s2, n, &c, &var);
    }
    *s_out = s;
    *c_out = c;
    *var_out = var;
}

void cordon__layer_norm_row_avx512(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next) {
    float s, c, var;
    ln_stats(x, n, &s, &c, &var);
    const __m512 vm0 = _mm512_set1_ps(s), vc = _mm512_set1_ps(c), vr = _mm512_set1_ps(1.0f / sqrtf(var + eps));
    const float *pf = next != NULL ? next : x; /* the next row, fetched during the output pass */
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_prefetch((const char *)(pf + i), _MM_HINT_T0);
        ln_out16(y, x, g, b, i, 0xFFFFu, vm0, vc, vr);
    }
    if (i < n) {
        ln_out16(y, x, g, b, i, tail_mask(n - i), vm0, vc, vr);
    }
}

/* Backward kernels. Each computes its row's statistics exactly as the forward kernel above does (the
 * same accumulators in the same order), so a backward pass sees the forward pass's mean and rstd bit
 * for bit, and makes as few passes over a row as the formulas allow:
 *   softmax: one dot product, one output pass;
 *   RMSNorm: one pass for Σx² and Σ dy·w·x together, one output pass (with dw);
 *   LayerNorm: Σ(x − m0), Σ(x − m0)², Σ gi and Σ gi·(x − m0) together (gi = dy·γ, m0 the forward's
 *   shift, and its retry about Σx/n when the forward retries); one output pass (with dγ, dβ).
 *   mean(gi·x̂) = rstd·(Σ gi·(x − m0) − c·Σ gi)/n, the same quantity as the reference table's
 *   Σ gi·((x − m0) − c)·rstd / n, in one pass fewer. */
void cordon__softmax_bwd_row_avx512(float *dx, const float *y, const float *dy, size_t n, float scale) {
    const __m512 vd = _mm512_set1_ps(cordon__dot_avx512(dy, y, n));
    const __m512 vs = _mm512_set1_ps(scale);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = _mm512_mul_ps(_mm512_mul_ps(vs, _mm512_loadu_ps(y + i)), _mm512_sub_ps(_mm512_loadu_ps(dy + i), vd));
        __m512 b = _mm512_mul_ps(_mm512_mul_ps(vs, _mm512_loadu_ps(y + i + 16)),
                                 _mm512_sub_ps(_mm512_loadu_ps(dy + i + 16), vd));
        _mm512_storeu_ps(dx + i, a);
        _mm512_storeu_ps(dx + i + 16, b);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 a = _mm512_mul_ps(_mm512_mul_ps(vs, _mm512_maskz_loadu_ps(k, y + i)),
                                 _mm512_sub_ps(_mm512_maskz_loadu_ps(k, dy + i), vd));
        _mm512_mask_storeu_ps(dx + i, k, a);
    }
}

/* RMSNorm backward statistics of one row: r = rsqrt(mean(x²) + eps) (Σx² in cordon__dot_avx512's order,
 * the forward kernel's r) and c = Σ(dy·w·x)·r³/n, its sum beside it. */
static inline void rms_bwd_stats(const float *dy, const float *x, const float *w, size_t n, float eps, float *r_out,
                                 float *c_out) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
        __m512 x2 = _mm512_loadu_ps(x + i + 32), x3 = _mm512_loadu_ps(x + i + 48);
        s0 = _mm512_fmadd_ps(x0, x0, s0);
        s1 = _mm512_fmadd_ps(x1, x1, s1);
        s2 = _mm512_fmadd_ps(x2, x2, s2);
        s3 = _mm512_fmadd_ps(x3, x3, s3);
        t0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dy + i), _mm512_loadu_ps(w + i)), x0, t0);
        t1 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dy + i + 16), _mm512_loadu_ps(w + i + 16)), x1, t1);
        t2 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dy + i + 32), _mm512_loadu_ps(w + i + 32)), x2, t2);
        t3 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(dy + i + 48), _mm512_loadu_ps(w + i + 48)), x3, t3);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 xv = _mm512_maskz_loadu_ps(k, x + i);
        s0 = _mm512_fmadd_ps(xv, xv, s0);
        t0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, dy + i), _mm512_maskz_loadu_ps(k, w + i)), xv, t0);
    }
    float ss = hsum16(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    float sd = hsum16(_mm512_add_ps(_mm512_add_ps(t0, t1), _mm512_add_ps(t2, t3)));
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    *r_out = r;
    *c_out = sd * r * r * r / (float)n;
}

/* One row's columns [i, i + 16) from its loaded x and dy: dx (returned), and its dw term added to acc. */
static inline __m512 rms_bwd_dx16(__m512 xv, __m512 dv, __m512 wv, __m512 vr, __m512 vc, __m512 *acc, bool dw) {
    if (dw) {
        *acc = _mm512_fmadd_ps(_mm512_mul_ps(dv, xv), vr, *acc);
    }
    return _mm512_fnmadd_ps(vc, xv, _mm512_mul_ps(_mm512_mul_ps(vr, wv), dv));
}

/* The output pass over one or two rows: dx, and dw's terms added in row order. Every load of a column
 * comes before its first store (rows 4 KiB apart share their low address bits, and a load behind a
 * store with the same low bits waits for it). `two` and `dw` are constants at each call site, so each
 * variant is compiled without branches in its loop. */
static inline void rms_bwd_pass2(float *dx0, float *dx1, float *dw_acc, const float *dy0, const float *dy1,
                                 const float *x0, const float *x1, const float *w, size_t n, bool two, bool dw,
                                 __m512 vr0, __m512 vc0, __m512 vr1, __m512 vc1) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 wv = _mm512_maskz_loadu_ps(k, w + i);
        __m512 acc = dw ? _mm512_maskz_loadu_ps(k, dw_acc + i) : _mm512_setzero_ps();
        __m512 a0 = _mm512_maskz_loadu_ps(k, x0 + i), d0 = _mm512_maskz_loadu_ps(k, dy0 + i);
        if (two) {
            __m512 a1 = _mm512_maskz_loadu_ps(k, x1 + i), d1 = _mm512_maskz_loadu_ps(k, dy1 + i);
            __m512 o0 = rms_bwd_dx16(a0, d0, wv, vr0, vc0, &acc, dw);
            __m512 o1 = rms_bwd_dx16(a1, d1, wv, vr1, vc1, &acc, dw);
            _mm512_mask_storeu_ps(dx0 + i, k, o0);
            _mm512_mask_storeu_ps(dx1 + i, k, o1);
        } else {
            _mm512_mask_storeu_ps(dx0 + i, k, rms_bwd_dx16(a0, d0, wv, vr0, vc0, &acc, dw));
        }
        if (dw) {
            _mm512_mask_storeu_ps(dw_acc + i, k, acc);
        }
    }
}

void cordon__rms_norm_bwd_rows_avx512(float *const *dx, float *dw_acc, const float *const *dy, const float *const *x,
                                      const float *w, size_t rows, size_t n, float eps) {
    float r[2] = {0.0f, 0.0f}, c[2] = {0.0f, 0.0f};
    for (size_t q = 0; q < rows; q++) {
        rms_bwd_stats(dy[q], x[q], w, n, eps, &r[q], &c[q]);
    }
    const __m512 vr0 = _mm512_set1_ps(r[0]), vc0 = _mm512_set1_ps(c[0]);
    const __m512 vr1 = _mm512_set1_ps(r[1]), vc1 = _mm512_set1_ps(c[1]);
    float *dx0 = dx[0], *dx1 = rows == 2 ? dx[1] : dx[0];
    const float *dy0 = dy[0], *dy1 = rows == 2 ? dy[1] : dy[0], *x0 = x[0], *x1 = rows == 2 ? x[1] : x[0];
    if (rows == 2) {
        if (dw_acc != NULL) {
            rms_bwd_pass2(dx0, dx1, dw_acc, dy0, dy1, x0, x1, w, n, true, true, vr0, vc0, vr1, vc1);
        } else {
            rms_bwd_pass2(dx0, dx1, dw_acc, dy0, dy1, x0, x1, w, n, true, false, vr0, vc0, vr1, vc1);
        }
    } else if (dw_acc != NULL) {
        rms_bwd_pass2(dx0, dx1, dw_acc, dy0, dy1, x0, x1, w, n, false, true, vr0, vc0, vr1, vc1);
    } else {
        rms_bwd_pass2(dx0, dx1, dw_acc, dy0, dy1, x0, x1, w, n, false, false, vr0, vc0, vr1, vc1);
    }
}

void cordon__rms_norm_bwd_row_avx512(float *dx, float *dw_acc, const float *dy, const float *x, const float *w,
                                     size_t n, float eps) {
    cordon__rms_norm_bwd_rows_avx512(&dx, dw_acc, &dy, &x, w, 1, n, eps);
}

/* Σ(x − m0), Σ(x − m0)², Σ gi and Σ gi·(x − m0) of one row (gi = dy·γ): the first two in ln_moments's
 * order (the forward kernel's sums bit for bit), the others in the same order. */
static inline void ln_bwd_sums(const float *dy, const float *x, const float *g, size_t n, __m512 vm0, float *sums) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, q0 = a0, q1 = a0, q2 = a0, q3 = a0;
    __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0, e0 = a0, e1 = a0, e2 = a0, e3 = a0;
    size_t i = 0;
#  define LN_BWD_STEP(a, q, bs, e, o)                                                                               \
      do {                                                                                                          \
          __m512 d_ = _mm512_sub_ps(_mm512_loadu_ps(x + i + (o)), vm0);                                             \
          __m512 g_ = _mm512_loadu_ps(dy + i + (o));                                                                \
          if (g != NULL) {                                                                                          \
              g_ = _mm512_mul_ps(g_, _mm512_loadu_ps(g + i + (o)));                                                 \
          }                                                                                                         \
          a = _mm512_add_ps(a, d_);                                                                                 \
          q = _mm512_fmadd_ps(d_, d_, q);                                                                           \
          bs = _mm512_add_ps(bs, g_);                                                                               \
          e = _mm512_fmadd_ps(g_, d_, e);                                                                           \
      } while (0)
    for (; i + 64 <= n; i += 64) {
        LN_BWD_STEP(a0, q0, b0, e0, 0);
        LN_BWD_STEP(a1, q1, b1, e1, 16);
        LN_BWD_STEP(a2, q2, b2, e2, 32);
        LN_BWD_STEP(a3, q3, b3, e3, 48);
    }
#  undef LN_BWD_STEP
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + i), vm0);
        __m512 gi = _mm512_maskz_loadu_ps(k, dy + i);
        if (g != NULL) {
            gi = _mm512_mul_ps(gi, _mm512_maskz_loadu_ps(k, g + i));
        }
        a0 = _mm512_add_ps(a0, d);
        q0 = _mm512_fmadd_ps(d, d, q0);
        b0 = _mm512_add_ps(b0, gi);
        e0 = _mm512_fmadd_ps(gi, d, e0);
    }
    sums[0] = hsum16(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    sums[1] = hsum16(_mm512_add_ps(_mm512_add_ps(q0, q1), _mm512_add_ps(q2, q3)));
    sums[2] = hsum16(_mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3)));
    sums[3] = hsum16(_mm512_add_ps(_mm512_add_ps(e0, e1), _mm512_add_ps(e2, e3)));
}

/* LayerNorm backward statistics of one row (the forward kernel's shift, c and rstd, bit for bit: the same
 * shift, the same sums, the same retry about Σx/n): st[0..4] = shift, c, rstd, mean(gi), mean(gi·x̂). */
static inline void ln_bwd_stats(const float *dy, const float *x, const float *g, size_t n, float eps, float *st) {
    float s = ln_shift(x, n), sums[4], c, var;
    ln_bwd_sums(dy, x, g, n, _mm512_set1_ps(s), sums);
    if (!ln_finish(sums[0], sums[1], n, &c, &var)) {
        s = sum16x4(x, n) / (float)n;
        ln_bwd_sums(dy, x, g, n, _mm512_set1_ps(s), sums);
        (void)ln_finish(sums[0], sums[1], n, &c, &var);
    }
    float sg = sums[2], sgd = sums[3];
    float rstd = 1.0f / sqrtf(var + eps);
    float mg = sg / (float)n, mgx = rstd * (sgd - c * sg) / (float)n;
    st[0] = s;
    st[1] = c;
    st[2] = rstd;
    st[3] = mg;
    st[4] = mgx;
}

/* A row's statistics as vectors: m0, c, rstd, mean(gi), mean(gi·x̂). */
typedef struct ln_bwd_vec {
    __m512 m0, c, r, mg, mgx;
} ln_bwd_vec;

/* One row's columns [i, i + 16) (lanes k): dx, and its terms added to dga, dba. */
static inline void ln_bwd_row16(float *dx, const float *dy, const float *x, const float *g, __m512 gv, size_t i,
                                __mmask16 k, const ln_bwd_vec *v, __m512 *dga, __m512 *dba) {
    __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + i), v->m0), v->c), v->r);
    __m512 dv = _mm512_maskz_loadu_ps(k, dy + i);
    *dga = _mm512_fmadd_ps(dv, xh, *dga);
    *dba = _mm512_add_ps(*dba, dv);
    __m512 gi = g != NULL ? _mm512_mul_ps(dv, gv) : dv;
    /* rstd·((gi − mg) − x̂·mgx) */
    _mm512_mask_storeu_ps(dx + i, k, _mm512_mul_ps(v->r, _mm512_fnmadd_ps(xh, v->mgx, _mm512_sub_ps(gi, v->mg))));
}

/* Columns [i, i + 16) (lanes k) of one or two rows: dx, and dγ's and dβ's terms added in row order. */
static inline void ln_bwd_out16(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                const float *const *x, const float *g, bool two, size_t i, __mmask16 k,
                                const ln_bwd_vec *v0, const ln_bwd_vec *v1) {
    __m512 gv = g != NULL ? _mm512_maskz_loadu_ps(k, g + i) : _mm512_setzero_ps();
    __m512 dga = dg_acc != NULL ? _mm512_maskz_loadu_ps(k, dg_acc + i) : _mm512_setzero_ps();
    __m512 dba = db_acc != NULL ? _mm512_maskz_loadu_ps(k, db_acc + i) : _mm512_setzero_ps();
    ln_bwd_row16(dx[0], dy[0], x[0], g, gv, i, k, v0, &dga, &dba);
    if (two) {
        ln_bwd_row16(dx[1], dy[1], x[1], g, gv, i, k, v1, &dga, &dba);
    }
    if (dg_acc != NULL) {
        _mm512_mask_storeu_ps(dg_acc + i, k, dga);
    }
    if (db_acc != NULL) {
        _mm512_mask_storeu_ps(db_acc + i, k, dba);
    }
}

/* One row's columns from its loaded x and dy: dx (returned), and its dγ and dβ terms added. */
static inline __m512 ln_bwd_dx16(__m512 xv, __m512 dv, const float *g, __m512 gv, const ln_bwd_vec *v, __m512 *dga,
                                 __m512 *dba) {
    __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_sub_ps(xv, v->m0), v->c), v->r);
    *dga = _mm512_fmadd_ps(dv, xh, *dga);
    *dba = _mm512_add_ps(*dba, dv);
    __m512 gi = g != NULL ? _mm512_mul_ps(dv, gv) : dv;
    /* rstd·((gi − mg) − x̂·mgx) */
    return _mm512_mul_ps(v->r, _mm512_fnmadd_ps(xh, v->mgx, _mm512_sub_ps(gi, v->mg)));
}

/* The output pass over one or two rows: dx, and dγ's and dβ's terms added in row order; every load of
 * a column before its first store (as rms_bwd_pass2). `two` and `acc` (dγ or dβ wanted) are constants at
 * each call site (acc: both dγ and dβ wanted). */
static inline void ln_bwd_pass2(float *dx0, float *dx1, float *dg_acc, float *db_acc, const float *dy0,
                                const float *dy1, const float *x0, const float *x1, const float *g, size_t n, bool two,
                                bool acc, const ln_bwd_vec *v0, const ln_bwd_vec *v1) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 gv = g != NULL ? _mm512_maskz_loadu_ps(k, g + i) : _mm512_setzero_ps();
        __m512 dga = acc ? _mm512_maskz_loadu_ps(k, dg_acc + i) : _mm512_setzero_ps();
        __m512 dba = acc ? _mm512_maskz_loadu_ps(k, db_acc + i) : _mm512_setzero_ps();
        __m512 a0 = _mm512_maskz_loadu_ps(k, x0 + i), d0 = _mm512_maskz_loadu_ps(k, dy0 + i);
        __m512 o0 = ln_bwd_dx16(a0, d0, g, gv, v0, &dga, &dba);
        if (two) {
            __m512 a1 = _mm512_maskz_loadu_ps(k, x1 + i), d1 = _mm512_maskz_loadu_ps(k, dy1 + i);
            __m512 o1 = ln_bwd_dx16(a1, d1, g, gv, v1, &dga, &dba);
            _mm512_mask_storeu_ps(dx0 + i, k, o0);
            _mm512_mask_storeu_ps(dx1 + i, k, o1);
        } else {
            _mm512_mask_storeu_ps(dx0 + i, k, o0);
        }
        if (acc) {
            _mm512_mask_storeu_ps(dg_acc + i, k, dga);
            _mm512_mask_storeu_ps(db_acc + i, k, dba);
        }
    }
}

void cordon__layer_norm_bwd_rows_avx512(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                        const float *const *x, const float *g, size_t rows, size_t n, float eps) {
    float st[2][5] = {{0.0f}};
    for (size_t q = 0; q < rows; q++) {
        ln_bwd_stats(dy[q], x[q], g, n, eps, st[q]);
    }
    ln_bwd_vec v[2];
    for (size_t q = 0; q < 2; q++) {
        v[q] = (ln_bwd_vec){_mm512_set1_ps(st[q][0]), _mm512_set1_ps(st[q][1]), _mm512_set1_ps(st[q][2]),
                            _mm512_set1_ps(st[q][3]), _mm512_set1_ps(st[q][4])};
    }
    bool two = rows == 2;
    float *dx0 = dx[0], *dx1 = two ? dx[1] : dx[0];
    const float *dy0 = dy[0], *dy1 = two ? dy[1] : dy[0], *x0 = x[0], *x1 = two ? x[1] : x[0];
    bool both = dg_acc != NULL && db_acc != NULL;
    if (both && two) {
        ln_bwd_pass2(dx0, dx1, dg_acc, db_acc, dy0, dy1, x0, x1, g, n, true, true, &v[0], &v[1]);
    } else if (both) {
        ln_bwd_pass2(dx0, dx1, dg_acc, db_acc, dy0, dy1, x0, x1, g, n, false, true, &v[0], &v[1]);
    } else if (dg_acc == NULL && db_acc == NULL && two) {
        ln_bwd_pass2(dx0, dx1, NULL, NULL, dy0, dy1, x0, x1, g, n, true, false, &v[0], &v[1]);
    } else if (dg_acc == NULL && db_acc == NULL) {
        ln_bwd_pass2(dx0, dx1, NULL, NULL, dy0, dy1, x0, x1, g, n, false, false, &v[0], &v[1]);
    } else {
        /* Only one of dγ, dβ: the general output pass with per-vector tests. */
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            ln_bwd_out16(dx, dg_acc, db_acc, dy, x, g, two, i, 0xFFFFu, &v[0], &v[1]);
        }
        if (i < n) {
            ln_bwd_out16(dx, dg_acc, db_acc, dy, x, g, two, i, tail_mask(n - i), &v[0], &v[1]);
        }
    }
}

void cordon__layer_norm_bwd_row_avx512(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                       const float *g, size_t n, float eps) {
    cordon__layer_norm_bwd_rows_avx512(&dx, dg_acc, db_acc, &dy, &x, g, 1, n, eps);
}
#else
typedef int cordon__rows_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
