/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the CPU backend's kernel entry points (backend_cpu.c), gathered into the backend table by
 * device_cpu.c. */
#ifndef CORDON_COMPUTE_CPU_INTERNAL_H
#define CORDON_COMPUTE_CPU_INTERNAL_H

#include "compute/backend.h"

cordon_status cordon__cpu_matmul(cordon__device *dev, const cordon__matmul_desc *d);
cordon_status cordon__cpu_softmax(cordon__device *dev, const cordon__softmax_desc *d);
cordon_status cordon__cpu_softmax_backward(cordon__device *dev, const cordon__softmax_bwd_desc *d);
cordon_status cordon__cpu_norm(cordon__device *dev, const cordon__norm_desc *d);
cordon_status cordon__cpu_norm_backward(cordon__device *dev, const cordon__norm_bwd_desc *d);
cordon_status cordon__cpu_attention(cordon__device *dev, const cordon__attention_desc *d);
cordon_status cordon__cpu_attention_backward(cordon__device *dev, const cordon__attention_desc *d);
cordon_status cordon__cpu_elementwise(cordon__device *dev, const cordon__ew_desc *d);
cordon_status cordon__cpu_rope(cordon__device *dev, const cordon__rope_desc *d);
bool cordon__cpu_lora_fuses(const cordon__device *dev, const cordon__lora_desc *d);
cordon_status cordon__cpu_lora_adapter(cordon__device *dev, const cordon__lora_desc *d);
cordon_status cordon__cpu_copy(cordon__device *dev, const cordon__view *dst, const cordon__view *src);

#endif /* CORDON_COMPUTE_CPU_INTERNAL_H */
