/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the NEON kernels (aarch64 only, where Advanced SIMD is part of the base architecture).
 * Micro-tile 8×12: twenty-four 4-lane accumulators of thirty-two registers. */
#if defined(__aarch64__)
#  define K_TABLE cordon__kernels_neon
#  define K_ISA CORDON_ISA_NEON
#  define K_NAME "neon"
#  define K_MR 8
#  define K_NR 12
#  include "compute/cpu/kernels_generic.inc"
#else
typedef int cordon__kernels_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
