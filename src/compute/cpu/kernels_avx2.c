/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the AVX2 + FMA kernels (x86-64 only; compiled with -mavx2 -mfma, chosen at run time only when
 * the processor and OS support them). Micro-tile 6×16: twelve 8-lane accumulators of sixteen registers. */
#if defined(__x86_64__) || defined(__i386__)
#  define K_TABLE cordon__kernels_avx2
#  define K_ISA CORDON_ISA_AVX2
#  define K_NAME "avx2"
#  define K_MR 6
#  define K_NR 16
#  define K_SOFTMAX_ROW cordon__softmax_row_avx2
#  define K_RMS_NORM_ROW cordon__rms_norm_row_avx2
#  define K_LAYER_NORM_ROW cordon__layer_norm_row_avx2
#  define K_DOT cordon__dot_avx2
#  define K_AXPY cordon__axpy_avx2
#  define K_AXPY4 cordon__axpy4_avx2
#  define K_DOT4 cordon__dot4_avx2
#  define K_DOT_BF16 cordon__dot_bf16_avx2
#  define K_AXPY_BF16 cordon__axpy_bf16_avx2
#  define K_AXPY4_BF16 cordon__axpy4_bf16_avx2
#  define K_DOT4_BF16 cordon__dot4_bf16_avx2
#  define K_GEMM_MICRO_C cordon__gemm_micro_c_avx2
#  define K_PACK_BT cordon__pack_bt_avx2
#  define K_GEMM_ROWS cordon__gemm_rows_avx2
#  define K_GEMM_ROWS_BF16 cordon__gemm_rows_bf16_avx2
#  define K_LORA_ROWS cordon__lora_rows_avx2
#  define K_EXP_ROW cordon__exp_row_avx2
#  define K_SILU_ROW cordon__silu_row_avx2
#  define K_SILU_BWD_ROW cordon__silu_bwd_row_avx2
#  define K_SOFTMAX_BWD_ROW cordon__softmax_bwd_row_avx2
#  define K_RMS_NORM_BWD_ROW cordon__rms_norm_bwd_row_avx2
#  define K_LAYER_NORM_BWD_ROW cordon__layer_norm_bwd_row_avx2
#  define K_LAYER_NORM_BWD_ROWS cordon__layer_norm_bwd_rows_avx2
#  include "compute/cpu/kernels_generic.inc"
#else
typedef int cordon__kernels_avx2_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
