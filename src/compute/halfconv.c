/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — f16/bf16 ⇄ f32 (see halfconv.h). */
#include "compute/halfconv.h"

#include <string.h>

uint32_t cordon__f16_to_f32_bits(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t frac = h & 0x3FFu;
    if (exp == 0x1Fu) {
        return sign | 0x7F800000u | (frac << 13); /* infinity, or NaN with its payload */
    }
    if (exp != 0) {
        return sign | ((exp + (127u - 15u)) << 23) | (frac << 13);
    }
    if (frac == 0) {
        return sign; /* ±0 */
    }
    /* Subnormal: frac·2^-24. Shift the leading 1 up to the implicit-bit position (bit 10); each shift
     * lowers the exponent by one from that of the smallest normal, 2^-14 (f32 exponent field 113). */
    uint32_t e = 113u;
    do {
        frac <<= 1;
        e--;
    } while ((frac & 0x400u) == 0);
    return sign | (e << 23) | ((frac & 0x3FFu) << 13);
}

uint32_t cordon__bf16_to_f32_bits(uint16_t h) {
    return (uint32_t)h << 16;
}

uint16_t cordon__f32_bits_to_f16(uint32_t u) {
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7FFFFFFFu;
    if (a > 0x7F800000u) {
        /* NaN: the top 10 payload bits, quiet bit forced. */
        return (uint16_t)(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
    }
    if (a >= 0x477FF000u) {
        /* >= 65520 (halfway between 65504 and 2^16, which ties to the even 2^16) and infinity. */
        return (uint16_t)(sign | 0x7C00u);
    }
    if (a >= 0x38800000u) {
        /* Normal in f16 (>= 2^-14): rebias the exponent, round the 13 dropped bits; a carry out of the
         * fraction correctly bumps the exponent (at most to 0x7BFF here, given the bound above). */
        uint32_t h = (a >> 13) - ((127u - 15u) << 10);
        uint32_t rest = a & 0x1FFFu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) {
            h++;
        }
        return (uint16_t)(sign | h);
    }
    if (a < 0x33000000u) {
        return sign; /* below 2^-25, half the smallest subnormal (a tie at 2^-25 goes to the even 0) */
    }
    /* Subnormal result: round(x·2^24) = round(m·2^(e-126)) with m the 24-bit significand. 102 <= e <= 112,
     * so the shift is 14..24. A result of 0x400 is the smallest normal, encoded correctly as it is. */
    uint32_t e = a >> 23;
    uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
    uint32_t shift = 126u - e;
    uint32_t h = m >> shift;
    uint32_t rest = m & ((1u << shift) - 1u);
    uint32_t halfway = 1u << (shift - 1u);
    if (rest > halfway || (rest == halfway && (h & 1u) != 0)) {
        h++;
    }
    return (uint16_t)(sign | h);
}

uint16_t cordon__f32_bits_to_bf16(uint32_t u) {
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
        return (uint16_t)((u >> 16) | 0x0040u); /* NaN: sign and top payload bits, quiet */
    }
    /* Round to nearest even on the 16 dropped bits; the largest finite values carry into infinity. */
    uint32_t lsb = (u >> 16) & 1u;
    return (uint16_t)((u + 0x7FFFu + lsb) >> 16);
}

float cordon__f16_to_f32(uint16_t h) {
    uint32_t u = cordon__f16_to_f32_bits(h);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float cordon__bf16_to_f32(uint16_t h) {
    uint32_t u = cordon__bf16_to_f32_bits(h);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t cordon__f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return cordon__f32_bits_to_f16(u);
}

uint16_t cordon__f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return cordon__f32_bits_to_bf16(u);
}
