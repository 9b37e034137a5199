/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — AVX2 + FMA row kernels: the exponential, softmax, RMSNorm, LayerNorm, dot and axpy, written
 * with intrinsics (compiled with -mavx2 -mfma only, src/compute/module.cmake; placed in the avx2 table).
 *
 * The exponential: a vector whose lanes are all in [-87, 88] (every result normal) takes a table form
 * (exp8_core: reduction by ln2/8, 2^(j/8) from an 8-entry table in one register, a degree-4 polynomial,
 * 2^k added to the exponent bits; about 15 operations per 8 lanes); any other vector (NaN, ±inf,
 * overflow, subnormal or zero results) vmath.h's algorithm, FMA-evaluated, with 2^k applied in two
 * halves built from the exponent bits exactly as vmath.h does (so subnormal results are rounded once).
 * Same special cases and the same 2 ulp bound (tests/test_compute_math.c checks every table). Reductions use
 * a fixed set of accumulators combined in a fixed tree; row tails use masked loads and stores. */
#if defined(__x86_64__) || defined(__i386__)
#  include <math.h>
#  include <stdbool.h>
#  include <stddef.h>
#  include <stdint.h>

#  include "compute/cpu/avx2_inline.h"
#  include "compute/cpu/kernels.h"

#  define tail_mask8 cordon__avx2_tail_mask

/* Any x: vmath.h's algorithm. */
static inline __m256 exp8_wide(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.72283935546875f);
    const __m256 lo = _mm256_set1_ps(-103.97208f);
    __m256 xc = _mm256_min_ps(hi, _mm256_max_ps(lo, x)); /* NaN passes (second operand) */
    __m256 kf = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(0.693359375f), xc);
    r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    /* k in [-150, 128] (NaN: some integer; the product stays NaN). 2^k = 2^k1 · 2^k2, k1 = k/2 rounded
     * toward zero, both halves normal. */
    __m256i k = _mm256_cvtps_epi32(kf);
    __m256i k1 = _mm256_srai_epi32(_mm256_add_epi32(k, _mm256_srli_epi32(k, 31)), 1);
    __m256i k2 = _mm256_sub_epi32(k, k1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, bias), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, bias), 23));
    __m256 e = _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
    e = _mm256_and_ps(e, _mm256_cmp_ps(x, lo, _CMP_NLT_UQ)); /* x < lo (and -inf): +0 */
    return _mm256_blendv_ps(e, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, hi, _CMP_GT_OQ));
}

/* x in [-87, 88] (every result normal): x = (8·k' + j)·ln2/8 + r with |r| <= ln2/16, e^x = 2^k' · 2^(j/8)
 * · e^r; 2^(j/8) from an 8-entry table held in one register (vpermps indexes it with the low three bits
 * of the integer 8·k' + j, read from the bits of a rounded float), e^r − 1 a degree-4 polynomial added to
 * the table entry with one rounding, 2^k' added to the exponent bits. Measured worst 0.99 ulp. */
static inline __m256 exp8_core(__m256 x) {
    const __m256 table = _mm256_setr_ps(1.000000000e+00f, 1.090507746e+00f, 1.189207077e+00f, 1.296839595e+00f,
                                        1.414213538e+00f, 1.542210817e+00f, 1.681792855e+00f, 1.834008098e+00f);
    const __m256 magic = _mm256_set1_ps(12582912.0f); /* 1.5·2^23: t's low bits hold the rounded integer */
    __m256 t = _mm256_fmadd_ps(x, _mm256_set1_ps(11.5415603271117f), magic);
    __m256 kf = _mm256_sub_ps(t, magic);
    /* ln2/8 in two parts; |kf| <= 1016, so x − kf·hi is exact under FMA */
    __m256 r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(0.0866433978080749512f), x);
    r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(-2.38081777e-10f), r);
    __m256i ti = _mm256_castps_si256(t);
    __m256 tj = _mm256_permutevar8x32_ps(table, ti);
    __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(4.16666679e-2f), r, _mm256_set1_ps(1.66666672e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_mul_ps(p, r);
    __m256i v = _mm256_castps_si256(_mm256_fmadd_ps(tj, p, tj));
    /* bits(t) << 20 is (8·k' + j) << 20 (magic's low 12 bits are zero); masking j off leaves k' << 23 */
    __m256i e = _mm256_and_si256(_mm256_slli_epi32(ti, 20), _mm256_set1_epi32((int)0xFF800000u));
    return _mm256_castsi256_ps(_mm256_add_epi32(v, e));
}

/* exp8_wide out of line: the rare vectors' path keeps its constants out of the hot loops' registers. */
__attribute__((noinline, cold)) static __m256 exp8_wide_cold(__m256 x) {
    return exp8_wide(x);
}

/* Any x: the table form when every lane is in its range (NaN is not), else exp8_wide. */
static inline __m256 exp8(__m256 x) {
    __m256 out = _mm256_or_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_NGE_UQ),
                              _mm256_cmp_ps(x, _mm256_set1_ps(88.0f), _CMP_NLE_UQ));
    return _mm256_movemask_ps(out) != 0 ? exp8_wide_cold(x) : exp8_core(x);
}

/* x <= 0 or NaN (softmax's x − max): only the lower end is tested. */
static inline __m256 exp8_nonpos(__m256 x) {
    return _mm256_movemask_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_NGE_UQ)) != 0 ? exp8_wide_cold(x) : exp8_core(x);
}

void cordon__exp_row_avx2(float *y, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, k, exp8(_mm256_maskload_ps(x + i, k)));
    }
}

#  define hsum8 cordon__avx2_hsum8

/* SiLU on 8 lanes: x·σ(x), σ = 1 / (1 + e^-x) (vmath.h's cordon__vsigmoid with this level's exponential);
 * x = -inf gives -0 (x·0 would be NaN). */
static inline __m256 silu8(__m256 x, __m256 *sg_out) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 sg = _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    *sg_out = sg;
    __m256 v = _mm256_mul_ps(x, sg);
    return _mm256_blendv_ps(v, _mm256_set1_ps(-0.0f), _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ));
}

/* silu'(x) = σ·(1 + x·(1 − σ)); +inf gives 1, -inf 0 (the formula's inf·0 would be NaN). */
static inline __m256 silu_grad8(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 sg;
    (void)silu8(x, &sg);
    __m256 d = _mm256_mul_ps(sg, _mm256_add_ps(one, _mm256_mul_ps(x, _mm256_sub_ps(one, sg))));
    d = _mm256_blendv_ps(d, one, _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ));
    return _mm256_blendv_ps(d, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-INFINITY), _CMP_EQ_OQ));
}

void cordon__silu_row_avx2(float *y, const float *x, size_t n) {
    __m256 sg;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, silu8(_mm256_loadu_ps(x + i), &sg));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, k, silu8(_mm256_maskload_ps(x + i, k), &sg));
    }
}

void cordon__silu_bwd_row_avx2(float *y, const float *dy, const float *x, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), silu_grad8(_mm256_loadu_ps(x + i))));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, k, _mm256_mul_ps(_mm256_maskload_ps(dy + i, k), silu_grad8(_mm256_maskload_ps(x + i, k))));
    }
}

static inline __m256 sm_in(__m256 vs, const float *x, const float *mask, size_t i, __m256i k, bool full) {
    __m256 xv = full ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, k);
    if (mask == NULL) {
        return _mm256_mul_ps(vs, xv);
    }
    return _mm256_fmadd_ps(vs, xv, full ? _mm256_loadu_ps(mask + i) : _mm256_maskload_ps(mask + i, k));
}

/* The exponential pass: y = e^(scale·x (+ mask) − m) and its sum in two accumulators. `masked` is a
 * constant at each call site; without a mask scale·x − m is one fused operation (as rows_avx512.c). */
static inline float sm_exp_pass(float *y, const float *x, const float *mask, size_t valid, __m256 vs, __m256 vm,
                                const float *pf, bool masked) {
    const __m256i all = _mm256_set1_epi32(-1);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    size_t i = 0;
    for (; i + 16 <= valid; i += 16) {
        _mm_prefetch((const char *)(pf + i), _MM_HINT_T0);
        __m256 a, b;
        if (masked) {
            a = _mm256_sub_ps(sm_in(vs, x, mask, i, all, true), vm);
            b = _mm256_sub_ps(sm_in(vs, x, mask, i + 8, all, true), vm);
        } else {
            a = _mm256_fmsub_ps(vs, _mm256_loadu_ps(x + i), vm);
            b = _mm256_fmsub_ps(vs, _mm256_loadu_ps(x + i + 8), vm);
        }
        __m256 e0 = exp8_nonpos(a), e1 = exp8_nonpos(b);
        _mm256_storeu_ps(y + i, e0);
        _mm256_storeu_ps(y + i + 8, e1);
        s0 = _mm256_add_ps(s0, e0);
        s1 = _mm256_add_ps(s1, e1);
    }
    for (; i < valid; i += 8) {
        __m256i k = tail_mask8(valid - i);
        __m256 a = masked ? _mm256_sub_ps(sm_in(vs, x, mask, i, k, false), vm)
                          : _mm256_fmsub_ps(vs, _mm256_maskload_ps(x + i, k), vm);
        __m256 e = _mm256_and_ps(exp8_nonpos(a), _mm256_castsi256_ps(k));
        if (valid - i >= 8) {
            _mm256_storeu_ps(y + i, e);
        } else {
            _mm256_maskstore_ps(y + i, k, e);
        }
        s0 = _mm256_add_ps(s0, e);
    }
    return hsum8(_mm256_add_ps(s0, s1));
}

/* Three passes over the row, as rows_avx512.c: the maximum, the exponentials and their sum, the scaling.
 * A NaN never enters the running maximum (vmaxps returns its second operand, the maximum so far, when
 * the first is NaN); it is found as a NaN sum instead (every other term is in [0, 1]), and a row whose
 * maximum is ±inf goes to the rare path before anything is written, as y may be x. */
void cordon__softmax_row_avx2(float *y, const float *x, const float *mask, size_t n, size_t valid, float scale,
                              const float *next) {
    if (valid > n) {
        valid = n;
    }
    const __m256 vs = _mm256_set1_ps(scale);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256i all = _mm256_set1_epi32(-1);
    __m256 mx0 = ninf, mx1 = ninf;
    size_t i = 0;
    for (; i + 16 <= valid; i += 16) {
        mx0 = _mm256_max_ps(sm_in(vs, x, mask, i, all, true), mx0);
        mx1 = _mm256_max_ps(sm_in(vs, x, mask, i + 8, all, true), mx1);
    }
    for (; i < valid; i += 8) {
        __m256i k = tail_mask8(valid - i);
        __m256 a = _mm256_blendv_ps(ninf, sm_in(vs, x, mask, i, k, false), _mm256_castsi256_ps(k));
        mx0 = _mm256_max_ps(a, mx0);
    }
    __m256 mv = _mm256_max_ps(mx0, mx1);
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mv), _mm256_extractf128_ps(mv, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    float m = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
    if (m == -INFINITY || m == INFINITY) {
        cordon__softmax_special(y, x, mask, n, valid, scale, cordon__softmax_has_nan(x, mask, valid, scale), m);
        return;
    }
    const __m256 vm = _mm256_set1_ps(m);
    const float *pf = next != NULL ? next : x; /* the next row, fetched during the exponentials */
    float sum = mask != NULL ? sm_exp_pass(y, x, mask, valid, vs, vm, pf, true)
                             : sm_exp_pass(y, x, NULL, valid, vs, vm, pf, false);
    if (sum != sum) {
        for (size_t j = 0; j < n; j++) {
            y[j] = NAN;
        }
        return;
    }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    i = 0;
    for (; i + 8 <= valid; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), inv));
    }
    if (i < valid) {
        __m256i k = tail_mask8(valid - i);
        _mm256_maskstore_ps(y + i, k, _mm256_mul_ps(_mm256_maskload_ps(y + i, k), inv));
    }
    for (size_t j = valid; j < n; j++) {
        y[j] = 0.0f;
    }
}

float cordon__dot_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, k), _mm256_maskload_ps(b + i, k), s0);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

/* Two of cordon__dot_avx2 at once (avx2_inline.h). */
CORDON__AVX2_DOT2_FN(dot2, float, cordon__avx2_part_f32)

/* kernels.h dot4: out[r] = cordon__dot_avx2(a, b + r·ldb, n), two rows per pass. */
void cordon__dot4_avx2(const float *a, const float *b, size_t ldb, size_t n, float *out) {
    dot2(a, b, b + ldb, n, out);
    dot2(a, b + 2 * ldb, b + 3 * ldb, n, out + 2);
}

void cordon__axpy_avx2(float *y, float s, const float *x, size_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vs, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(vs, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, k, _mm256_fmadd_ps(vs, _mm256_maskload_ps(x + i, k), _mm256_maskload_ps(y + i, k)));
    }
}

/* Four rows of x at once: for each element, y = fma(s0, x0, y), then s1·x1, s2·x2, s3·x3, in that
 * order: cordon__axpy_avx2's arithmetic four times exactly, with y loaded and stored once. */
void cordon__axpy4_avx2(float *y, const float *s, const float *x, size_t ldx, size_t n) {
    const __m256 v0 = _mm256_set1_ps(s[0]), v1 = _mm256_set1_ps(s[1]), v2 = _mm256_set1_ps(s[2]),
                 v3 = _mm256_set1_ps(s[3]);
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(y + i), b = _mm256_loadu_ps(y + i + 8);
        a = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0 + i), a);
        b = _mm256_fmadd_ps(v0, _mm256_loadu_ps(x0 + i + 8), b);
        a = _mm256_fmadd_ps(v1, _mm256_loadu_ps(x1 + i), a);
        b = _mm256_fmadd_ps(v1, _mm256_loadu_ps(x1 + i + 8), b);
        a = _mm256_fmadd_ps(v2, _mm256_loadu_ps(x2 + i), a);
        b = _mm256_fmadd_ps(v2, _mm256_loadu_ps(x2 + i + 8), b);
        a = _mm256_fmadd_ps(v3, _mm256_loadu_ps(x3 + i), a);
        b = _mm256_fmadd_ps(v3, _mm256_loadu_ps(x3 + i + 8), b);
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        __m256 a = _mm256_maskload_ps(y + i, k);
        a = _mm256_fmadd_ps(v0, _mm256_maskload_ps(x0 + i, k), a);
        a = _mm256_fmadd_ps(v1, _mm256_maskload_ps(x1 + i, k), a);
        a = _mm256_fmadd_ps(v2, _mm256_maskload_ps(x2 + i, k), a);
        a = _mm256_fmadd_ps(v3, _mm256_maskload_ps(x3 + i, k), a);
        _mm256_maskstore_ps(y + i, k, a);
    }
}

static float sum8x4(const float *x, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + i));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i < n; i += 8) {
        s0 = _mm256_add_ps(s0, _mm256_maskload_ps(x + i, tail_mask8(n - i)));
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void cordon__rms_norm_row_avx2(float *y, const float *x, const float *w, size_t n, float eps) {
    float r = 1.0f / sqrtf(cordon__dot_avx2(x, x, n) / (float)n + eps);
    const __m256 vr = _mm256_set1_ps(r);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(w + i)));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, k,
                            _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(x + i, k), vr), _mm256_maskload_ps(w + i, k)));
    }
}

/* Σ(x − m0) and Σ(x − m0)² with two accumulators each, combined as 0 + 1. */
static inline void ln_moments8(const float *x, size_t n, __m256 vm0, float *s1, float *s2) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, q0 = a0, q1 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm0);
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm0);
        a0 = _mm256_add_ps(a0, d0);
        a1 = _mm256_add_ps(a1, d1);
        q0 = _mm256_fmadd_ps(d0, d0, q0);
        q1 = _mm256_fmadd_ps(d1, d1, q1);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vm0), _mm256_castsi256_ps(k));
        a0 = _mm256_add_ps(a0, d);
        q0 = _mm256_fmadd_ps(d, d, q0);
    }
    *s1 = hsum8(_mm256_add_ps(a0, a1));
    *s2 = hsum8(_mm256_add_ps(q0, q1));
}

/* The shift of a row's moments: the mean of its first min(n, 8) elements (rows_avx512.c gives the
 * scheme: moments about it, corrected by c; retried about Σx/n when c² exceeds the variance). */
static inline float ln_shift8(const float *x, size_t n) {
    size_t k = n < 8 ? n : 8;
    return hsum8(_mm256_maskload_ps(x, tail_mask8(k))) / (float)k;
}

static inline bool ln_finish8(float s1, float s2, size_t n, float *c_out, float *var_out) {
    float c = s1 / (float)n;
    float var = (s2 - s1 * c) / (float)n;
    var = var > 0.0f ? var : 0.0f;
    *c_out = c;
    *var_out = var;
    return !(c * c > var);
}

void cordon__layer_norm_row_avx2(float *y, const float *x, const float *g, const float *b, size_t n, float eps,
                              const float *next) {
    float m0 = ln_shift8(x, n), s1, s2, c, var;
    ln_moments8(x, n, _mm256_set1_ps(m0), &s1, &s2);
    if (!ln_finish8(s1, s2, n, &c, &var)) {
        m0 = sum8x4(x, n) / (float)n;
        ln_moments8(x, n, _mm256_set1_ps(m0), &s1, &s2);
        (void)ln_finish8(s1, s2, n, &c, &var);
    }
    const __m256 vm0 = _mm256_set1_ps(m0);
    size_t i;
    const __m256 vc = _mm256_set1_ps(c), vr = _mm256_set1_ps(1.0f / sqrtf(var + eps));
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    const float *pf = next != NULL ? next : x; /* the next row, fetched during the output pass */
    /* Whole vectors with plain loads and stores: a masked store (vmaskmovps) is cheap on Intel cores but
     * microcoded on AMD's (Zen 2/3: about ten cycles each), so only the tail takes one. */
    for (i = 0; i + 8 <= n; i += 8) {
        _mm_prefetch((const char *)(pf + i), _MM_HINT_T0);
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm0), vc), vr);
        __m256 gv = g != NULL ? _mm256_loadu_ps(g + i) : one;
        __m256 bv = b != NULL ? _mm256_loadu_ps(b + i) : zero;
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(v, gv, bv));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vm0), vc), vr);
        __m256 gv = g != NULL ? _mm256_maskload_ps(g + i, k) : one;
        __m256 bv = b != NULL ? _mm256_maskload_ps(b + i, k) : zero;
        _mm256_maskstore_ps(y + i, k, _mm256_fmadd_ps(v, gv, bv));
    }
}

/* Backward kernels: the forward kernels' statistics in the same accumulator order, and as few passes
 * as the formulas allow (rows_avx512.c gives the scheme). */
void cordon__softmax_bwd_row_avx2(float *dx, const float *y, const float *dy, size_t n, float scale) {
    const __m256 vd = _mm256_set1_ps(cordon__dot_avx2(dy, y, n));
    const __m256 vs = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_mul_ps(vs, _mm256_loadu_ps(y + i)),
                                               _mm256_sub_ps(_mm256_loadu_ps(dy + i), vd)));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        _mm256_maskstore_ps(dx + i, k, _mm256_mul_ps(_mm256_mul_ps(vs, _mm256_maskload_ps(y + i, k)),
                                                     _mm256_sub_ps(_mm256_maskload_ps(dy + i, k), vd)));
    }
}

void cordon__rms_norm_bwd_row_avx2(float *dx, float *dw_acc, const float *dy, const float *x, const float *w,
                                   size_t n, float eps) {
    /* Σx² in cordon__dot_avx2's order (the forward kernel's r), Σ dy·w·x beside it. */
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, t0 = s0, t1 = s0, t2 = s0, t3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 x0 = _mm256_loadu_ps(x + i), x1 = _mm256_loadu_ps(x + i + 8);
        __m256 x2 = _mm256_loadu_ps(x + i + 16), x3 = _mm256_loadu_ps(x + i + 24);
        s0 = _mm256_fmadd_ps(x0, x0, s0);
        s1 = _mm256_fmadd_ps(x1, x1, s1);
        s2 = _mm256_fmadd_ps(x2, x2, s2);
        s3 = _mm256_fmadd_ps(x3, x3, s3);
        t0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i), _mm256_loadu_ps(w + i)), x0, t0);
        t1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i + 8), _mm256_loadu_ps(w + i + 8)), x1, t1);
        t2 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i + 16), _mm256_loadu_ps(w + i + 16)), x2, t2);
        t3 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(dy + i + 24), _mm256_loadu_ps(w + i + 24)), x3, t3);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        __m256 xv = _mm256_maskload_ps(x + i, k);
        s0 = _mm256_fmadd_ps(xv, xv, s0);
        t0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_maskload_ps(dy + i, k), _mm256_maskload_ps(w + i, k)), xv, t0);
    }
    float ss = hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    float sd = hsum8(_mm256_add_ps(_mm256_add_ps(t0, t1), _mm256_add_ps(t2, t3)));
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    const __m256 vr = _mm256_set1_ps(r), vc = _mm256_set1_ps(sd * r * r * r / (float)n);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i), dv = _mm256_loadu_ps(dy + i);
        if (dw_acc != NULL) {
            _mm256_storeu_ps(dw_acc + i, _mm256_fmadd_ps(_mm256_mul_ps(dv, xv), vr, _mm256_loadu_ps(dw_acc + i)));
        }
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(vr, _mm256_loadu_ps(w + i)), dv);
        _mm256_storeu_ps(dx + i, _mm256_fnmadd_ps(vc, xv, v));
    }
    if (i < n) {
        __m256i k = tail_mask8(n - i);
        __m256 xv = _mm256_maskload_ps(x + i, k), dv = _mm256_maskload_ps(dy + i, k);
        if (dw_acc != NULL) {
            _mm256_maskstore_ps(dw_acc + i, k,
                                _mm256_fmadd_ps(_mm256_mul_ps(dv, xv), vr, _mm256_maskload_ps(dw_acc + i, k)));
        }
        __m256 v = _mm256_mul_ps(_mm256_mul_ps(vr, _mm256_maskload_ps(w + i, k)), dv);
        _mm256_maskstore_ps(dx + i, k, _mm256_fnmadd_ps(vc, xv, v));
    }
}

/* One vector of the LayerNorm backward output pass (k: the lanes in the row). */
static inline void ln_bwd8(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x, const float *g,
                           size_t i, __m256i k, bool full, __m256 vm0, __m256 vc, __m256 vr, __m256 vmg, __m256 vmgx) {
    __m256 xv = full ? _mm256_loadu_ps(x + i) : _mm256_maskload_ps(x + i, k);
    __m256 dv = full ? _mm256_loadu_ps(dy + i) : _mm256_maskload_ps(dy + i, k);
    __m256 xh = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(xv, vm0), vc), vr);
    if (dg_acc != NULL) {
        __m256 acc = cordon__avx2_load(dg_acc + i, full, k);
        cordon__avx2_store(dg_acc + i, full, k, _mm256_fmadd_ps(dv, xh, acc));
    }
    if (db_acc != NULL) {
        __m256 acc = cordon__avx2_load(db_acc + i, full, k);
        cordon__avx2_store(db_acc + i, full, k, _mm256_add_ps(acc, dv));
    }
    __m256 gi = dv;
    if (g != NULL) {
        gi = _mm256_mul_ps(dv, full ? _mm256_loadu_ps(g + i) : _mm256_maskload_ps(g + i, k));
    }
    __m256 out = _mm256_mul_ps(vr, _mm256_fnmadd_ps(xh, vmgx, _mm256_sub_ps(gi, vmg)));
    if (full) {
        _mm256_storeu_ps(dx + i, out);
    } else {
        _mm256_maskstore_ps(dx + i, k, out);
    }
}

/* Σ(x − m0), Σ(x − m0)² (ln_moments8's order: the forward's sums bit for bit), Σ gi, Σ gi·(x − m0). */
static inline void ln_bwd_sums8(const float *dy, const float *x, const float *g, size_t n, __m256 vm0, float *sums) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, q0 = a0, q1 = a0, b0 = a0, b1 = a0, e0 = a0, e1 = a0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm0);
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm0);
        __m256 g0 = _mm256_loadu_ps(dy + i), g1 = _mm256_loadu_ps(dy + i + 8);
        if (g != NULL) {
            g0 = _mm256_mul_ps(g0, _mm256_loadu_ps(g + i));
            g1 = _mm256_mul_ps(g1, _mm256_loadu_ps(g + i + 8));
        }
        a0 = _mm256_add_ps(a0, d0);
        a1 = _mm256_add_ps(a1, d1);
        q0 = _mm256_fmadd_ps(d0, d0, q0);
        q1 = _mm256_fmadd_ps(d1, d1, q1);
        b0 = _mm256_add_ps(b0, g0);
        b1 = _mm256_add_ps(b1, g1);
        e0 = _mm256_fmadd_ps(g0, d0, e0);
        e1 = _mm256_fmadd_ps(g1, d1, e1);
    }
    for (; i < n; i += 8) {
        __m256i k = tail_mask8(n - i);
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, k), vm0), _mm256_castsi256_ps(k));
        __m256 gi = _mm256_maskload_ps(dy + i, k);
        if (g != NULL) {
            gi = _mm256_mul_ps(gi, _mm256_maskload_ps(g + i, k));
        }
        a0 = _mm256_add_ps(a0, d);
        q0 = _mm256_fmadd_ps(d, d, q0);
        b0 = _mm256_add_ps(b0, gi);
        e0 = _mm256_fmadd_ps(gi, d, e0);
    }
    sums[0] = hsum8(_mm256_add_ps(a0, a1));
    sums[1] = hsum8(_mm256_add_ps(q0, q1));
    sums[2] = hsum8(_mm256_add_ps(b0, b1));
    sums[3] = hsum8(_mm256_add_ps(e0, e1));
}

/* One row's backward statistics, broadcast: the shift m0, c, rstd, mean(gi) and mean(gi·x̂)·… as the
 * output pass uses them. */
typedef struct ln_bwd_st8 {
    __m256 m0, c, r, mg, mgx;
} ln_bwd_st8;

static ln_bwd_st8 ln_bwd_stats8(const float *dy, const float *x, const float *g, size_t n, float eps) {
    float m0 = ln_shift8(x, n), sums[4], c, var;
    ln_bwd_sums8(dy, x, g, n, _mm256_set1_ps(m0), sums);
    if (!ln_finish8(sums[0], sums[1], n, &c, &var)) {
        m0 = sum8x4(x, n) / (float)n;
        ln_bwd_sums8(dy, x, g, n, _mm256_set1_ps(m0), sums);
        (void)ln_finish8(sums[0], sums[1], n, &c, &var);
    }
    float sg = sums[2], sgd = sums[3];
    float rstd = 1.0f / sqrtf(var + eps);
    float mg = sg / (float)n, mgx = rstd * (sgd - c * sg) / (float)n;
    return (ln_bwd_st8){_mm256_set1_ps(m0), _mm256_set1_ps(c), _mm256_set1_ps(rstd), _mm256_set1_ps(mg),
                        _mm256_set1_ps(mgx)};
}

void cordon__layer_norm_bwd_row_avx2(float *dx, float *dg_acc, float *db_acc, const float *dy, const float *x,
                                     const float *g, size_t n, float eps) {
    const ln_bwd_st8 st = ln_bwd_stats8(dy, x, g, n, eps);
    size_t i;
    const __m256i all = _mm256_set1_epi32(-1);
    for (i = 0; i + 8 <= n; i += 8) {
        ln_bwd8(dx, dg_acc, db_acc, dy, x, g, i, all, true, st.m0, st.c, st.r, st.mg, st.mgx);
    }
    if (i < n) {
        ln_bwd8(dx, dg_acc, db_acc, dy, x, g, i, tail_mask8(n - i), false, st.m0, st.c, st.r, st.mg, st.mgx);
    }
}

/* One vector column of two rows' output pass (kernels.h layer_norm_bwd_rows): every load of the column
 * first, then dγ and dβ get row 0's term and then row 1's (the row kernel called for row 0, then row 1,
 * bit for bit), with the accumulators read and written once for both rows. */
static inline void ln_bwd8_two(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                               const float *const *x, const float *g, size_t i, __m256i k, bool full,
                               const ln_bwd_st8 *s0, const ln_bwd_st8 *s1) {
    __m256 x0 = full ? _mm256_loadu_ps(x[0] + i) : _mm256_maskload_ps(x[0] + i, k);
    __m256 x1 = full ? _mm256_loadu_ps(x[1] + i) : _mm256_maskload_ps(x[1] + i, k);
    __m256 d0 = full ? _mm256_loadu_ps(dy[0] + i) : _mm256_maskload_ps(dy[0] + i, k);
    __m256 d1 = full ? _mm256_loadu_ps(dy[1] + i) : _mm256_maskload_ps(dy[1] + i, k);
    __m256 xh0 = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(x0, s0->m0), s0->c), s0->r);
    __m256 xh1 = _mm256_mul_ps(_mm256_sub_ps(_mm256_sub_ps(x1, s1->m0), s1->c), s1->r);
    __m256 g0 = d0, g1 = d1;
    if (g != NULL) {
        __m256 gv = full ? _mm256_loadu_ps(g + i) : _mm256_maskload_ps(g + i, k);
        g0 = _mm256_mul_ps(d0, gv);
        g1 = _mm256_mul_ps(d1, gv);
    }
    if (dg_acc != NULL) {
        __m256 acc = cordon__avx2_load(dg_acc + i, full, k);
        cordon__avx2_store(dg_acc + i, full, k, _mm256_fmadd_ps(d1, xh1, _mm256_fmadd_ps(d0, xh0, acc)));
    }
    if (db_acc != NULL) {
        __m256 acc = cordon__avx2_load(db_acc + i, full, k);
        cordon__avx2_store(db_acc + i, full, k, _mm256_add_ps(_mm256_add_ps(acc, d0), d1));
    }
    __m256 o0 = _mm256_mul_ps(s0->r, _mm256_fnmadd_ps(xh0, s0->mgx, _mm256_sub_ps(g0, s0->mg)));
    __m256 o1 = _mm256_mul_ps(s1->r, _mm256_fnmadd_ps(xh1, s1->mgx, _mm256_sub_ps(g1, s1->mg)));
    if (full) {
        _mm256_storeu_ps(dx[0] + i, o0);
        _mm256_storeu_ps(dx[1] + i, o1);
    } else {
        _mm256_maskstore_ps(dx[0] + i, k, o0);
        _mm256_maskstore_ps(dx[1] + i, k, o1);
    }
}

/* kernels.h layer_norm_bwd_rows: two rows share one output pass (the dγ and dβ rows read and written once
 * for both, as the AVX-512 kernel does); one row goes to the row kernel. */
void cordon__layer_norm_bwd_rows_avx2(float *const *dx, float *dg_acc, float *db_acc, const float *const *dy,
                                      const float *const *x, const float *g, size_t rows, size_t n, float eps) {
    if (rows < 2) {
        cordon__layer_norm_bwd_row_avx2(dx[0], dg_acc, db_acc, dy[0], x[0], g, n, eps);
        return;
    }
    const ln_bwd_st8 s0 = ln_bwd_stats8(dy[0], x[0], g, n, eps), s1 = ln_bwd_stats8(dy[1], x[1], g, n, eps);
    const __m256i all = _mm256_set1_epi32(-1);
    size_t i;
    for (i = 0; i + 8 <= n; i += 8) {
        ln_bwd8_two(dx, dg_acc, db_acc, dy, x, g, i, all, true, &s0, &s1);
    }
    if (i < n) {
        ln_bwd8_two(dx, dg_acc, db_acc, dy, x, g, i, tail_mask8(n - i), false, &s0, &s1);
    }
}
#else
typedef int cordon__rows_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
