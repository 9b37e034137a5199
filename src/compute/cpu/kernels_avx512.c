/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the AVX-512 kernels (x86-64 only; compiled with -mavx512f -mavx512bw -mavx512vl -mavx512dq
 * -mfma, chosen at run time only when the processor and OS support them). Micro-tile 12×32
 * (gemm_avx512.c): twenty-four 16-lane accumulators of thirty-two registers. */
#if defined(__x86_64__) || defined(__i386__)
#  define K_TABLE cordon__kernels_avx512
#  define K_ISA CORDON_ISA_AVX512
#  define K_NAME "avx512"
#  define K_MR 12
#  define K_NR 32
#  define K_SOFTMAX_ROW cordon__softmax_row_avx512
#  define K_RMS_NORM_ROW cordon__rms_norm_row_avx512
#  define K_LAYER_NORM_ROW cordon__layer_norm_row_avx512
#  define K_DOT cordon__dot_avx512
#  define K_AXPY cordon__axpy_avx512
#  define K_AXPY4 cordon__axpy4_avx512
#  define K_DOT_BF16 cordon__dot_bf16_avx512
#  define K_AXPY_BF16 cordon__axpy_bf16_avx512
#  define K_AXPY4_BF16 cordon__axpy4_bf16_avx512
#  define K_DOT4_BF16 cordon__dot4_bf16_avx512
#  define K_GEMM_MICRO_C cordon__gemm_micro_c_avx512
#  define K_GEMM_SMALL_K cordon__gemm_small_k_avx512
#  define K_GEMM_ROWS cordon__gemm_rows_avx512
#  define K_LORA_ROWS cordon__lora_rows_avx512
#  define K_GEMM_ROWS_BF16 cordon__gemm_rows_bf16_avx512
#  define K_GEMM_SMALL_N cordon__gemm_small_n_avx512
#  define K_EXP_ROW cordon__exp_row_avx512
#  define K_SOFTMAX_BWD_ROW cordon__softmax_bwd_row_avx512
#  define K_RMS_NORM_BWD_ROW cordon__rms_norm_bwd_row_avx512
#  define K_LAYER_NORM_BWD_ROW cordon__layer_norm_bwd_row_avx512
#  define K_RMS_NORM_BWD_ROWS cordon__rms_norm_bwd_rows_avx512
#  define K_LAYER_NORM_BWD_ROWS cordon__layer_norm_bwd_rows_avx512
#  include "compute/cpu/kernels_generic.inc"
#else
typedef int cordon__kernels_avx512_not_built; /* not an x86 target: an empty unit is not ISO C */
#endif
