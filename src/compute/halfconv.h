/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — conversions between f32 and the two 16-bit float formats, bit by bit (no floating-point
 * arithmetic, so the caller's rounding mode and FTZ/DAZ settings do not change the results).
 *
 * f16 (IEEE 754 binary16): 1 sign, 5 exponent (bias 15), 10 fraction bits.
 * bf16 (bfloat16): the upper half of an f32: 1 sign, 8 exponent (bias 127), 7 fraction bits.
 *
 * Widening (to f32) is exact for every one of the 65,536 patterns: subnormal f16 become normal f32,
 * infinities stay infinities, and a NaN keeps its sign and payload (its fraction shifted to the top of
 * the f32 fraction), so a signalling NaN stays signalling.
 * Narrowing (from f32) rounds to nearest, ties to even; values beyond the largest finite value round to
 * infinity as IEEE rounding says (f16: |x| >= 65520); a NaN stays a NaN with its sign and the top bits of
 * its payload, with the quiet bit set (so a payload cut to zero never turns it into an infinity). */
#ifndef CORDON_COMPUTE_HALFCONV_H
#define CORDON_COMPUTE_HALFCONV_H

#include <stdint.h>

uint32_t cordon__f16_to_f32_bits(uint16_t h);
uint32_t cordon__bf16_to_f32_bits(uint16_t h);
uint16_t cordon__f32_bits_to_f16(uint32_t u);
uint16_t cordon__f32_bits_to_bf16(uint32_t u);

float cordon__f16_to_f32(uint16_t h);
float cordon__bf16_to_f32(uint16_t h);
uint16_t cordon__f32_to_f16(float f);
uint16_t cordon__f32_to_bf16(float f);

#endif /* CORDON_COMPUTE_HALFCONV_H */
