/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the scalar (reference) kernels: portable C, compiled without vectorisation or FMA contraction
 * (src/compute/module.cmake). Every other level is tested against this one. */
#define K_TABLE cordon__kernels_scalar
#define K_ISA CORDON_ISA_SCALAR
#define K_NAME "scalar"
#define K_MR 4
#define K_NR 8
#include "compute/cpu/kernels_generic.inc"
