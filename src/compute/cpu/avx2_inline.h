/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — small AVX2 helpers shared by the AVX2 kernel files (rows_avx2.c, bf16_avx2.c, gemm_avx2.c).
 * Include only from a file compiled with the AVX2 flags (src/compute/module.cmake). */
#ifndef CORDON_COMPUTE_CPU_AVX2_INLINE_H
#define CORDON_COMPUTE_CPU_AVX2_INLINE_H

#include <immintrin.h>
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

/* Σ of 8 lanes in a fixed tree: (l0+l4)+(l2+l6) + ((l1+l5)+(l3+l7)). */
static inline float cordon__avx2_hsum8(__m256 v) {
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 s = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

#endif
