/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — AVX2 kernels with bf16 weights: dot and axpy whose second operand is bf16 (compiled with the
 * AVX2 flags only; placed in the avx2 table). Eight bf16 widen exactly to f32 with a zero-extension and
 * a 16-bit shift; the arithmetic after that is cordon__dot_avx2's and cordon__axpy_avx2's in the same
 * order (rows_avx2.c), so the result equals the f32 kernel's on the widened values bit for bit. AVX2
 * has no masked 16-bit load: a row's last partial vector is copied into a zeroed buffer first. */
#if defined(__x86_64__) || defined(__i386__)
#  include <stdbool.h>
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

#  include "compute/cpu/avx2_inline.h"
#  include "compute/cpu/kernels.h"

#  define tail_mask8 cordon__avx2_tail_mask
#  define widen8 cordon__avx2_widen8
#  define widen8_tail cordon__avx2_widen8_tail

#  define hsum8 cordon__avx2_hsum8

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

/* Four axpys at once (kernels.h axpy4_bf16): y += s[r]·x[r·ldx + ·] for r = 0..3 in turn, each element
 * the four FMAs of four cordon__axpy_bf16_avx2 calls in the same order, y loaded and stored once; the
 * four rows stream from memory side by side. */
void cordon__axpy4_bf16_avx2(float *y, const float *s, const uint16_t *x, size_t ldx, size_t n) {
    const __m256 v0 = _mm256_set1_ps(s[0]), v1 = _mm256_set1_ps(s[1]), v2 = _mm256_set1_ps(s[2]),
                 v3 = _mm256_set1_ps(s[3]);
    const uint16_t *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = _mm256_loadu_ps(y + i), b = _mm256_loadu_ps(y + i + 8);
        a = _mm256_fmadd_ps(v0, widen8(x0 + i), a);
        b = _mm256_fmadd_ps(v0, widen8(x0 + i + 8), b);
        a = _mm256_fmadd_ps(v1, widen8(x1 + i), a);
        b = _mm256_fmadd_ps(v1, widen8(x1 + i + 8), b);
        a = _mm256_fmadd_ps(v2, widen8(x2 + i), a);
        b = _mm256_fmadd_ps(v2, widen8(x2 + i + 8), b);
        a = _mm256_fmadd_ps(v3, widen8(x3 + i), a);
        b = _mm256_fmadd_ps(v3, widen8(x3 + i + 8), b);
        _mm256_storeu_ps(y + i, a);
        _mm256_storeu_ps(y + i + 8, b);
    }
    for (; i < n; i += 8) {
        size_t rem = n - i;
        bool full = rem >= 8;
        __m256i k = tail_mask8(rem);
        __m256 a = full ? _mm256_loadu_ps(y + i) : _mm256_maskload_ps(y + i, k);
        a = _mm256_fmadd_ps(v0, full ? widen8(x0 + i) : widen8_tail(x0 + i, rem), a);
        a = _mm256_fmadd_ps(v1, full ? widen8(x1 + i) : widen8_tail(x1 + i, rem), a);
        a = _mm256_fmadd_ps(v2, full ? widen8(x2 + i) : widen8_tail(x2 + i, rem), a);
        a = _mm256_fmadd_ps(v3, full ? widen8(x3 + i) : widen8_tail(x3 + i, rem), a);
        if (full) {
            _mm256_storeu_ps(y + i, a);
        } else {
            _mm256_maskstore_ps(y + i, k, a);
        }
    }
}

/* Two of cordon__dot_bf16_avx2 at once (avx2_inline.h). */
CORDON__AVX2_DOT2_FN(dot2_bf16, uint16_t, cordon__avx2_part_bf16)

/* kernels.h dot4_bf16: out[r] = cordon__dot_bf16_avx2(a, b + r·ldb, n), two rows per pass. */
void cordon__dot4_bf16_avx2(const float *a, const uint16_t *b, size_t ldb, size_t n, float *out) {
    dot2_bf16(a, b, b + ldb, n, out);
    dot2_bf16(a, b + 2 * ldb, b + 3 * ldb, n, out + 2);
}
#else
typedef int cordon__bf16_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
