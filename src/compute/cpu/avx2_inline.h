/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — small AVX2 helpers shared by the AVX2 kernel files (rows_avx2.c, bf16_avx2.c, gemm_avx2.c).
 * Include only from a file compiled with the AVX2 flags (src/compute/module.cmake). */
#ifndef CORDON_COMPUTE_CPU_AVX2_INLINE_H
#define CORDON_COMPUTE_CPU_AVX2_INLINE_H

#include <immintrin.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Lanes [0, min(rem, 8)) set: the mask of a row's last, partial vector (vmaskmovps). Masked loads are
 * cheap everywhere; masked stores are microcoded on AMD cores (Zen 2/3: about ten cycles), so kernels
 * store whole vectors plainly and mask only a row's tail. */
static inline __m256i cordon__avx2_tail_mask(size_t rem) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rem >= 8 ? 8 : rem)), idx);
}

/* A whole vector (`full`) plainly, or the lanes of mask k of a row's last one. */
static inline __m256 cordon__avx2_load(const float *p, int full, __m256i k) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, k);
}

static inline void cordon__avx2_store(float *p, int full, __m256i k, __m256 v) {
    if (full) {
        _mm256_storeu_ps(p, v);
    } else {
        _mm256_maskstore_ps(p, k, v);
    }
}

/* Eight bf16 widened exactly to f32: zero-extension and a 16-bit shift. */
static inline __m256 cordon__avx2_widen8(const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *)(const void *)p);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* The first `rem` (< 8) bf16 elements widened; the others read as +0 and nothing past them is touched
 * (AVX2 has no masked 16-bit load). */
static inline __m256 cordon__avx2_widen8_tail(const uint16_t *p, size_t rem) {
    uint16_t buf[8] = {0};
    memcpy(buf, p, rem * sizeof(uint16_t));
    return cordon__avx2_widen8(buf);
}

/* One vector of a row whose elements are f32 or bf16 (widened): whole (`full`), or its first `rem` (< 8)
 * lanes, the others +0 (f32 through mask k, bf16 through a zeroed copy). The same signature for both, so
 * one loop body serves either element type. */
static inline __m256 cordon__avx2_part_f32(const float *p, bool full, size_t rem, __m256i k) {
    (void)rem;
    return cordon__avx2_load(p, full, k);
}

static inline __m256 cordon__avx2_part_bf16(const uint16_t *p, bool full, size_t rem, __m256i k) {
    (void)k;
    return full ? cordon__avx2_widen8(p) : cordon__avx2_widen8_tail(p, rem);
}

/* Σ of 8 lanes in a fixed tree: (l0+l4)+(l2+l6) + ((l1+l5)+(l3+l7)). */
static inline float cordon__avx2_hsum8(__m256 v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/* NAME(a, b0, b1, n, out): two dot products of a with rows b0 and b1 (elements of type T, read with
 * LOAD, one of the part loaders above) at once, each with the single dot kernel's four accumulators in its
 * order (each result is that kernel's bit for bit), a's loads shared: eight accumulators and a's four
 * vectors fit the sixteen registers, where four rows' sixteen accumulators would not. The dot4 kernels
 * (rows_avx2.c, bf16_avx2.c) make two such passes. */
#define CORDON__AVX2_DOT2_FN(NAME, T, LOAD)                                                               \
    static void NAME(const float *a, const T *b0, const T *b1, size_t n, float *out) {                    \
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;   \
        const __m256i all = _mm256_set1_epi32(-1);                                                        \
        size_t i = 0;                                                                                     \
        for (; i + 32 <= n; i += 32) {                                                                    \
            __m256 a0 = _mm256_loadu_ps(a + i), a1 = _mm256_loadu_ps(a + i + 8);                          \
            __m256 a2 = _mm256_loadu_ps(a + i + 16), a3 = _mm256_loadu_ps(a + i + 24);                    \
            p0 = _mm256_fmadd_ps(a0, LOAD(b0 + i, true, 8, all), p0);                                     \
            q0 = _mm256_fmadd_ps(a0, LOAD(b1 + i, true, 8, all), q0);                                     \
            p1 = _mm256_fmadd_ps(a1, LOAD(b0 + i + 8, true, 8, all), p1);                                 \
            q1 = _mm256_fmadd_ps(a1, LOAD(b1 + i + 8, true, 8, all), q1);                                 \
            p2 = _mm256_fmadd_ps(a2, LOAD(b0 + i + 16, true, 8, all), p2);                                \
            q2 = _mm256_fmadd_ps(a2, LOAD(b1 + i + 16, true, 8, all), q2);                                \
            p3 = _mm256_fmadd_ps(a3, LOAD(b0 + i + 24, true, 8, all), p3);                                \
            q3 = _mm256_fmadd_ps(a3, LOAD(b1 + i + 24, true, 8, all), q3);                                \
        }                                                                                                 \
        for (; i < n; i += 8) {                                                                           \
            size_t rem = n - i;                                                                           \
            __m256i k = cordon__avx2_tail_mask(rem);                                                      \
            __m256 av = _mm256_maskload_ps(a + i, k);                                                     \
            p0 = _mm256_fmadd_ps(av, LOAD(b0 + i, rem >= 8, rem, k), p0);                                 \
            q0 = _mm256_fmadd_ps(av, LOAD(b1 + i, rem >= 8, rem, k), q0);                                 \
        }                                                                                                 \
        out[0] = cordon__avx2_hsum8(_mm256_add_ps(_mm256_add_ps(p0, p1), _mm256_add_ps(p2, p3)));         \
        out[1] = cordon__avx2_hsum8(_mm256_add_ps(_mm256_add_ps(q0, q1), _mm256_add_ps(q2, q3)));         \
    }

#endif
