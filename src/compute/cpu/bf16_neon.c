/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — NEON dot and axpy with bf16 weights (aarch64; placed in the neon table). Each bf16 is widened
 * exactly (its bits shifted into the high half of an f32) and the arithmetic is that of rows_neon.c's
 * f32 dot and axpy, in the same order (the same rows_neon.h bodies with another load): a product on
 * bf16 weights is bit for bit the f32 product on the widened weights (tests/test_compute_bf16.c). */
#if defined(__aarch64__)
#  include <stddef.h>
#  include <stdint.h>
#  include <string.h>

#  include "compute/cpu/kernels.h"
#  include "compute/cpu/rows_neon.h"

static inline float32x4_t widen4(const uint16_t *h) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h), 16));
}

/* The first rem (< 4) values, zeros after (a zero bf16 widens to +0). */
static inline float32x4_t widen_part(const uint16_t *h, size_t rem) {
    uint16_t t[4] = {0, 0, 0, 0};
    memcpy(t, h, rem * sizeof(uint16_t));
    return widen4(t);
}

CORDON__NEON_DOT(cordon__dot_bf16_neon, uint16_t, widen4, widen_part)

CORDON__NEON_AXPY(cordon__axpy_bf16_neon, uint16_t, widen4, widen_part)
#else
typedef int cordon__bf16_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
