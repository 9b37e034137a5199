/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the NEON kernels (aarch64 only, where Advanced SIMD is part of the base architecture).
 * Micro-tile 8×12 (gemm_neon.c): twenty-four 4-lane accumulators of thirty-two registers. The row
 * kernels with intrinsics are in rows_neon.c, rows_bwd_neon.c and bf16_neon.c; the rest is the generic
 * C compiled for this level. */
#if defined(__aarch64__)
#  define K_TABLE cordon__kernels_neon
#  define K_ISA CORDON_ISA_NEON
#  define K_NAME "neon"
#  define K_MR 8
#  define K_NR 12
#  define K_SOFTMAX_ROW cordon__softmax_row_neon
#  define K_RMS_NORM_ROW cordon__rms_norm_row_neon
#  define K_LAYER_NORM_ROW cordon__layer_norm_row_neon
#  define K_DOT cordon__dot_neon
#  define K_AXPY cordon__axpy_neon
#  define K_AXPY4 cordon__axpy4_neon
#  define K_DOT_BF16 cordon__dot_bf16_neon
#  define K_AXPY_BF16 cordon__axpy_bf16_neon
#  define K_GEMM_MICRO_C cordon__gemm_micro_c_neon
#  define K_EXP_ROW cordon__exp_row_neon
#  define K_SOFTMAX_BWD_ROW cordon__softmax_bwd_row_neon
#  define K_RMS_NORM_BWD_ROW cordon__rms_norm_bwd_row_neon
#  define K_LAYER_NORM_BWD_ROW cordon__layer_norm_bwd_row_neon
#  include "compute/cpu/kernels_generic.inc"
#else
typedef int cordon__kernels_neon_not_built; /* not an aarch64 target: an empty unit is not ISO C */
#endif
