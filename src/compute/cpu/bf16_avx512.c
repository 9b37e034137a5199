/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — AVX-512 kernels with bf16 weights: dot and axpy whose second operand is bf16 (compiled with
 * the AVX-512 flags only; placed in the avx512 table).
 *
 * A bf16 is the upper half of an f32, so 16 of them widen exactly with a zero-extension to 32 bits and a
 * 16-bit left shift; the arithmetic after that is cordon__dot_avx512's and cordon__axpy_avx512's,
 * operation for operation and in the same order (rows_avx512.c), so a product on bf16 weights equals the
 * f32 product on the widened weights bit for bit. What changes is the bytes read: half, which is what
 * decode (one activation row against the whole weight matrix, memory-bound) is limited by.
 * The AVX-512 BF16 dot-product instruction is deliberately not used: it needs the activation rounded to
 * bf16 too and it flushes subnormals whatever the caller's settings (docs/compute.md, "BF16 weights"). */
#if defined(__x86_64__) || defined(__i386__)
#  include <stddef.h>
#  include <stdint.h>

#  include "compute/cpu/kernels.h"

static inline __mmask16 tail_mask(size_t rem) {
    return rem >= 16 ? (__mmask16)0xFFFFu : (__mmask16)((1u << rem) - 1u);
}

static inline __m512 widen16(const uint16_t *p) {
    __m256i h = _mm256_loadu_si256((const __m256i *)(const void *)p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The first `k` of 16 elements; the others read as +0 and nothing past them is touched. */
static inline __m512 widen16_masked(__mmask16 k, const uint16_t *p) {
    __m256i h = _mm256_maskz_loadu_epi16(k, p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* The same tree as rows_avx512.c's hsum16. */
static inline float hsum16(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

float cordon__dot_bf16_avx512(const float *a, const uint16_t *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), widen16(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), widen16(b + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), widen16(b + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), widen16(b + i + 48), s3);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, a + i), widen16_masked(k, b + i), s0);
    }
    return hsum16(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void cordon__axpy_bf16_avx512(float *y, float s, const uint16_t *x, size_t n) {
    const __m512 vs = _mm512_set1_ps(s);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(vs, widen16(x + i), _mm512_loadu_ps(y + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(vs, widen16(x + i + 16), _mm512_loadu_ps(y + i + 16)));
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, k, _mm512_fmadd_ps(vs, widen16_masked(k, x + i), _mm512_maskz_loadu_ps(k, y + i)));
    }
}
/* Four rows of x at once: for each element, y = fma(s0, x0, y), then s1·x1, s2·x2, s3·x3, in that
 * order: the four single-row calls' arithmetic exactly (no intermediate is rounded differently), with y
 * loaded and stored once instead of four times. */
void cordon__axpy4_bf16_avx512(float *y, const float *s, const uint16_t *x, size_t ldx, size_t n) {
    const __m512 v0 = _mm512_set1_ps(s[0]), v1 = _mm512_set1_ps(s[1]), v2 = _mm512_set1_ps(s[2]),
                 v3 = _mm512_set1_ps(s[3]);
    const uint16_t *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = _mm512_loadu_ps(y + i), b = _mm512_loadu_ps(y + i + 16);
        a = _mm512_fmadd_ps(v0, widen16(x0 + i), a);
        b = _mm512_fmadd_ps(v0, widen16(x0 + i + 16), b);
        a = _mm512_fmadd_ps(v1, widen16(x1 + i), a);
        b = _mm512_fmadd_ps(v1, widen16(x1 + i + 16), b);
        a = _mm512_fmadd_ps(v2, widen16(x2 + i), a);
        b = _mm512_fmadd_ps(v2, widen16(x2 + i + 16), b);
        a = _mm512_fmadd_ps(v3, widen16(x3 + i), a);
        b = _mm512_fmadd_ps(v3, widen16(x3 + i + 16), b);
        _mm512_storeu_ps(y + i, a);
        _mm512_storeu_ps(y + i + 16, b);
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 a = _mm512_maskz_loadu_ps(k, y + i);
        a = _mm512_fmadd_ps(v0, widen16_masked(k, x0 + i), a);
        a = _mm512_fmadd_ps(v1, widen16_masked(k, x1 + i), a);
        a = _mm512_fmadd_ps(v2, widen16_masked(k, x2 + i), a);
        a = _mm512_fmadd_ps(v3, widen16_masked(k, x3 + i), a);
        _mm512_mask_storeu_ps(y + i, k, a);
    }
}

/* Four dot products against rows b, b + ldb, b + 2·ldb, b + 3·ldb, each in cordon__dot_bf16_avx512's
 * order (its four accumulators, tail, tree), sharing the loads of a: sixteen independent chains. */
void cordon__dot4_bf16_avx512(const float *a, const uint16_t *b, size_t ldb, size_t n, float *out) {
    __m512 s[4][4];
    for (int r = 0; r < 4; r++) {
        for (int q = 0; q < 4; q++) {
            s[r][q] = _mm512_setzero_ps();
        }
    }
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a0 = _mm512_loadu_ps(a + i), a1 = _mm512_loadu_ps(a + i + 16), a2 = _mm512_loadu_ps(a + i + 32),
               a3 = _mm512_loadu_ps(a + i + 48);
        for (int r = 0; r < 4; r++) {
            const uint16_t *br = b + (size_t)r * ldb + i;
            s[r][0] = _mm512_fmadd_ps(a0, widen16(br), s[r][0]);
            s[r][1] = _mm512_fmadd_ps(a1, widen16(br + 16), s[r][1]);
            s[r][2] = _mm512_fmadd_ps(a2, widen16(br + 32), s[r][2]);
            s[r][3] = _mm512_fmadd_ps(a3, widen16(br + 48), s[r][3]);
        }
    }
    for (; i < n; i += 16) {
        __mmask16 k = tail_mask(n - i);
        __m512 av = _mm512_maskz_loadu_ps(k, a + i);
        for (int r = 0; r < 4; r++) {
            s[r][0] = _mm512_fmadd_ps(av, widen16_masked(k, b + (size_t)r * ldb + i), s[r][0]);
        }
    }
    for (int r = 0; r < 4; r++) {
        out[r] = hsum16(_mm512_add_ps(_mm512_add_ps(s[r][0], s[r][1]), _mm512_add_ps(s[r][2], s[r][3])));
    }
}
#else
typedef int cordon__bf16_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
