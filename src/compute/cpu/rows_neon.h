/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what the NEON row kernels share (rows_neon.c, rows_bwd_neon.c, bf16_neon.c; aarch64 only).
 *
 * NEON has no masked loads: a row's last partial vector goes through a 4-float buffer, padded with
 * zeros, and is masked (keep_below) where a pad would count. The dot and axpy bodies are written once
 * here, parameterised by how the second operand's four lanes are loaded, so the f32 and bf16 kernels
 * perform the same operations in the same order (tests/test_compute_bf16.c relies on that). */
#ifndef CORDON_COMPUTE_CPU_ROWS_NEON_H
#define CORDON_COMPUTE_CPU_ROWS_NEON_H
#if defined(__aarch64__)
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

/* The first rem (< 4) floats of x, zeros after. */
static inline float32x4_t load_part(const float *x, size_t rem) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    memcpy(t, x, rem * sizeof(float));
    return vld1q_f32(t);
}

static inline void store_part(float *y, float32x4_t v, size_t rem) {
    float t[4];
    vst1q_f32(t, v);
    memcpy(y, t, rem * sizeof(float));
}

/* Four floats from x, or the first rem (< 4) of them and zeros; the store of the same lanes. */
static inline float32x4_t load_n(const float *x, size_t rem) {
    return rem == 4 ? vld1q_f32(x) : load_part(x, rem);
}

static inline void store_n(float *y, float32x4_t v, size_t rem) {
    if (rem == 4) {
        vst1q_f32(y, v);
    } else {
        store_part(y, v, rem);
    }
}

/* All ones in lanes below rem. */
static inline uint32x4_t lanes_below(size_t rem) {
    static const uint32_t idx[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32((uint32_t)rem));
}

/* v in lanes below rem, +0 above. */
static inline float32x4_t keep_below(float32x4_t v, size_t rem) {
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), lanes_below(rem)));
}

/* Σ x[i] in four accumulators over 16 columns, the rest into the first, combined in a fixed tree (the
 * LayerNorm kernels' first moment). */
static inline float sum4x4(const float *x, size_t n) {
    float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = vaddq_f32(s0, vld1q_f32(x + i));
        s1 = vaddq_f32(s1, vld1q_f32(x + i + 4));
        s2 = vaddq_f32(s2, vld1q_f32(x + i + 8));
        s3 = vaddq_f32(s3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) {
        s0 = vaddq_f32(s0, vld1q_f32(x + i));
    }
    if (i < n) {
        s0 = vaddq_f32(s0, load_part(x + i, n - i));
    }
    return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

/* Defines `float NAME(const float *a, const BT *b, size_t n)` = Σ a[i]·b[i]: four accumulators over 16
 * columns, the rest into the first, combined in a fixed tree. LOAD4(p) gives four lanes of b at p,
 * LOADPART(p, rem) the first rem and zeros. */
#  define CORDON__NEON_DOT(NAME, BT, LOAD4, LOADPART)                                                   \
      float NAME(const float *a, const BT *b, size_t n) {                                               \
          float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;                                \
          size_t i = 0;                                                                                 \
          for (; i + 16 <= n; i += 16) {                                                                \
              s0 = vfmaq_f32(s0, vld1q_f32(a + i), LOAD4(b + i));                                       \
              s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), LOAD4(b + i + 4));                               \
              s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), LOAD4(b + i + 8));                               \
              s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), LOAD4(b + i + 12));                             \
          }                                                                                             \
          for (; i + 4 <= n; i += 4) {                                                                  \
              s0 = vfmaq_f32(s0, vld1q_f32(a + i), LOAD4(b + i));                                       \
          }                                                                                             \
          if (i < n) {                                                                                  \
              s0 = vfmaq_f32(s0, load_part(a + i, n - i), LOADPART(b + i, n - i));                      \
          }                                                                                             \
          return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));                           \
      }

/* Defines `void NAME(float *y, float s, const XT *x, size_t n)`: y[i] += s·x[i], one FMA per element. */
#  define CORDON__NEON_AXPY(NAME, XT, LOAD4, LOADPART)                                                  \
      void NAME(float *y, float s, const XT *x, size_t n) {                                             \
          const float32x4_t vs = vdupq_n_f32(s);                                                        \
          size_t i = 0;                                                                                 \
          for (; i + 8 <= n; i += 8) {                                                                  \
              vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), vs, LOAD4(x + i)));                          \
              vst1q_f32(y + i + 4, vfmaq_f32(vld1q_f32(y + i + 4), vs, LOAD4(x + i + 4)));              \
          }                                                                                             \
          for (; i + 4 <= n; i += 4) {                                                                  \
              vst1q_f32(y + i, vfmaq_f32(vld1q_f32(y + i), vs, LOAD4(x + i)));                          \
          }                                                                                             \
          if (i < n) {                                                                                  \
              store_part(y + i, vfmaq_f32(load_part(y + i, n - i), vs, LOADPART(x + i, n - i)), n - i); \
          }                                                                                             \
      }

/* Four of those at once: for each element y = fma(s0, x0, y), then s1·x1, s2·x2, s3·x3, in that order,
 * the single call's arithmetic four times exactly, with y loaded and stored once. */
#  define CORDON__NEON_AXPY4(NAME, XT, LOAD4, LOADPART)                                                 \
      void NAME(float *y, const float *s, const XT *x, size_t ldx, size_t n) {                          \
          const float32x4_t v0 = vdupq_n_f32(s[0]), v1 = vdupq_n_f32(s[1]), v2 = vdupq_n_f32(s[2]),     \
                            v3 = vdupq_n_f32(s[3]);                                                     \
          const XT *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;                        \
          size_t i = 0;                                                                                 \
          for (; i + 4 <= n; i += 4) {                                                                  \
              float32x4_t a = vld1q_f32(y + i);                                                         \
              a = vfmaq_f32(a, v0, LOAD4(x0 + i));                                                      \
              a = vfmaq_f32(a, v1, LOAD4(x1 + i));                                                      \
              a = vfmaq_f32(a, v2, LOAD4(x2 + i));                                                      \
              a = vfmaq_f32(a, v3, LOAD4(x3 + i));                                                      \
              vst1q_f32(y + i, a);                                                                      \
          }                                                                                             \
          if (i < n) {                                                                                  \
              size_t r = n - i;                                                                         \
              float32x4_t a = load_part(y + i, r);                                                      \
              a = vfmaq_f32(a, v0, LOADPART(x0 + i, r));                                                \
              a = vfmaq_f32(a, v1, LOADPART(x1 + i, r));                                                \
              a = vfmaq_f32(a, v2, LOADPART(x2 + i, r));                                                \
              a = vfmaq_f32(a, v3, LOADPART(x3 + i, r));                                                \
              store_part(y + i, a, r);                                                                  \
          }                                                                                             \
      }

#endif /* __aarch64__ */
#endif /* CORDON_COMPUTE_CPU_ROWS_NEON_H */
