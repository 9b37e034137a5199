/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — AVX2 kernels with bf16 weights: dot and axpy whose second operand is bf16 (compiled with the
 * AVX2 flags only; placed in the avx2 table). Eight bf16 widen exactly to f32 with a zero-extension and
 * a 16-bit shift; the arithmetic after that is cordon__dot_avx2's and cordon__axpy_avx2's in the same
 * order (rows_avx2.c), so the result equals the f32 kernel's on the widened values bit for bit. AVX2
 * has no masked 16-bit load: a row's last partial vector is copied into a zeroed buffer first. */
#if defined(__x86_64__) || defined(__i386__)
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

#  include "compute/cpu/kernels.h"

static inline __m256i tail_mask8(size_t rem) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rem >= 8 ? 8 : rem)), idx);
}

static inline __m256 widen8(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The first `rem` (< 8) elements; the others read as +0 and nothing past them is touched. */
static inline __m256 widen8_tail(const uint16_t *p, size_t rem) {
    uint16_t buf[8] = {0};
    memcpy(buf, p, rem * sizeof(uint16_t));
    return widen8(buf);
}

/* The same tree as rows_avx2.c's hsum8. */
static inline float hsum8(__m256 v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

float cordon__dot_bf16_avx2(const float *a, const uint16_t *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), widen8(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), widen8(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), widen8(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), widen8(b + i + 24), s3);
    }
    for (; i < n; i += 8) {
        size_t rem = n - i;
        __m256i k = tail_mask8(rem);
        __m256 w = rem >= 8 ? widen8(b + i) : widen8_tail(b + i, rem);
        s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, k), w, s0);
    }
    return hsum8(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void cordon__axpy_bf16_avx2(float *y, float s, const uint16_t *x, size_t n) {
    const __m256 vs = _mm256_set1_ps(s);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(vs, widen8(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(vs, widen8(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i < n; i += 8) {
        size_t rem = n - i;
        __m256i k = tail_mask8(rem);
        __m256 w = rem >= 8 ? widen8(x + i) : widen8_tail(x + i, rem);
        _mm256_maskstore_ps(y + i, k, _mm256_fmadd_ps(vs, w, _mm256_maskload_ps(y + i, k)));
    }
}
#else
typedef int cordon__bf16_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
