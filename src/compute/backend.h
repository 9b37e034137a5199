/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what a device kind provides: one table of kernels over validated descriptors.
 *
 * The ops layer (ops_*.c) acquires the operands, checks every argument and fills a descriptor; only
 * then does it call the device's backend. A backend may assume everything the descriptor's comment
 * says was checked (shapes fit, outputs writable and not aliased except as allowed, all operands on
 * its device) and never re-validates. Adding a device kind means adding a table, never touching the
 * validation. Views are right-aligned to 4 dimensions (see compute_internal.h). */
#ifndef CORDON_COMPUTE_BACKEND_H
#define CORDON_COMPUTE_BACKEND_H

#include "compute/compute_internal.h"
#include "cordon/ops.h"

/* C[b] = alpha·op(A[b])·op(B[b]) + beta·C[b] for every batch index b of C (dimensions 0 and 1), with A
 * and B broadcast (stride 0 where their extent is 1). A and C are F32; B is F32 or, on a backend with
 * `bf16`, BF16 (b.dtype), each element widened exactly to f32. Transposes are folded into the views: a, b here
 * are op(A), op(B), of shapes (…, M, K) and (…, K, N). alpha = 0: A and B are not read; beta = 0: C is
 * not read. */
typedef struct cordon__matmul_desc {
    cordon__view c, a, b;
    float alpha, beta;
    uint64_t m, n, k;
} cordon__matmul_desc;

/* The LoRA adapter fused: y = s·(x·A)·B + beta·y over every row of x (dimensions 0..2, y of the same
 * leading shape), x (…, in), A (in, r), B (r, out), all F32 (beta = 0: y is not read). */
typedef struct cordon__lora_desc {
    cordon__view y, x, a, b;
    float s, beta;
} cordon__lora_desc;

/* Row-wise softmax over the last dimension of x into y (same shape; y may be x). mask: present or not,
 * broadcast to x's shape (stride 0 where broadcast). causal: column j of row i (of R rows per matrix,
 * C columns) is removed when j > i + (C - R). */
typedef struct cordon__softmax_desc {
    cordon__view y, x, mask;
    float scale;
    bool causal;
} cordon__softmax_desc;

/* dx = scale·y⊙(dy − Σ dy⊙y), rows of the last dimension; dx may be dy. */
typedef struct cordon__softmax_bwd_desc {
    cordon__view dx, y, dy;
    float scale;
} cordon__softmax_bwd_desc;

/* Normalisation over the last dimension (n). rms: weight present; layer: gamma/beta optional. */
typedef struct cordon__norm_desc {
    cordon__view y, x, weight, bias;
    float eps;
    bool layer; /* LayerNorm (else RMSNorm) */
} cordon__norm_desc;

/* Norm gradients: dx required; dweight / dbias optional (overwritten, summed over rows). */
typedef struct cordon__norm_bwd_desc {
    cordon__view dx, dweight, dbias, dy, x, weight;
    float eps;
    bool layer;
} cordon__norm_bwd_desc;

/* Attention (see ops.h): q/out (B, Hq, Tq, D), k (B, Hkv, Tk, D), v (B, Hkv, Tk, Dv), mask broadcast to
 * (B, Hq, Tq, Tk). For backward, dq/dk/dv have the shapes of q/k/v and dout that of out. */
typedef struct cordon__attention_desc {
    cordon__view out, q, k, v, mask;
    cordon__view dq, dk, dv, dout; /* backward only */
    float scale;                  /* resolved: never 0 */
    bool causal;
} cordon__attention_desc;

typedef enum cordon__ew_kind {
    CORDON__EW_ADD = 1,   /* y = a + b */
    CORDON__EW_MUL,       /* y = a ⊙ b */
    CORDON__EW_SCALE,     /* y = s·a */
    CORDON__EW_SILU,      /* y = silu(a) */
    CORDON__EW_SILU_BWD,  /* y = a (dy) ⊙ silu'(b (x)) */
    CORDON__EW_GELU_ERF,
    CORDON__EW_GELU_TANH,
    CORDON__EW_GELU_ERF_BWD,  /* y = a (dy) ⊙ gelu'(b (x)) */
    CORDON__EW_GELU_TANH_BWD
} cordon__ew_kind;

/* Elementwise: y has the full shape; a and b (b absent for unary kinds) broadcast to it. y may be the
 * same view as a or b. */
typedef struct cordon__ew_desc {
    cordon__view y, a, b;
    cordon__ew_kind kind;
    float s;
} cordon__ew_desc;

/* Rotary embedding of x (…, T, D) into y (same shape, may be x); inverse rotates by −angle. */
typedef struct cordon__rope_desc {
    cordon__view y, x;
    cordon_rope_layout layout;
    double base;
    uint64_t position0;
    bool inverse;
} cordon__rope_desc;

struct cordon__backend {
    const char *kind;
    /* Tensor storage is host memory that kernels and cordon_tensor_read/write may address directly
     * (block->data); otherwise block->handle names device memory and only the backend touches it. */
    bool host_memory;
    /* Holds BF16 tensors (storage, transfers, copies) and runs matmul with a BF16 B (cordon__matmul_desc:
     * b.dtype). A kind without it never sees a BF16 view: cordon_tensor_create refuses them. */
    bool bf16;
    /* What this kind would run on here (for cordon_device_kinds); available false when it cannot. */
    void (*describe)(cordon_device_kind *out);
    /* Device lifetime. create fills the backend's part of dev from the validated options (threads,
     * isa, matmul, deterministic, storage and the kind-specific state); on failure it leaves nothing
     * behind. destroy runs once no tensor is left; on failure (the OS refused a release) the device stays
     * usable. info fills the backend's fields of the device's info. */
    cordon_status (*create)(cordon__device *dev, const cordon_device_options *opt);
    cordon_status (*destroy)(cordon__device *dev);
    void (*info)(cordon__device *dev, cordon_device_info *info);
    /* Storage: a block of at least `bytes` bytes with refs = 1 and `fresh` telling whether it still reads
     * as zero; release gives it back. Scratch for one call comes from the same place. */
    cordon_status (*alloc)(cordon__device *dev, uint64_t bytes, cordon__block **out);
    void (*release)(cordon__device *dev, cordon__block *b);
    /* Zeroes the first `bytes` bytes of a block. */
    cordon_status (*zero)(cordon__device *dev, cordon__block *b, uint64_t bytes);
    /* Moves a view's elements from or to a packed row-major host buffer. */
    cordon_status (*upload)(cordon__device *dev, const cordon__view *v, const void *src);
    cordon_status (*download)(cordon__device *dev, const cordon__view *v, void *dst);
    /* Waits for every operation submitted to the device. */
    cordon_status (*sync)(cordon__device *dev);
    cordon_status (*matmul)(cordon__device *dev, const cordon__matmul_desc *d);
    cordon_status (*softmax)(cordon__device *dev, const cordon__softmax_desc *d);
    cordon_status (*softmax_backward)(cordon__device *dev, const cordon__softmax_bwd_desc *d);
    cordon_status (*norm)(cordon__device *dev, const cordon__norm_desc *d);
    cordon_status (*norm_backward)(cordon__device *dev, const cordon__norm_bwd_desc *d);
    cordon_status (*attention)(cordon__device *dev, const cordon__attention_desc *d);
    cordon_status (*attention_backward)(cordon__device *dev, const cordon__attention_desc *d);
    cordon_status (*elementwise)(cordon__device *dev, const cordon__ew_desc *d);
    cordon_status (*rope)(cordon__device *dev, const cordon__rope_desc *d);
    /* Whether lora_adapter runs these operands (a pure check, made before any side effect); when not
     * (or NULL), the caller composes the adapter from matmuls. */
    bool (*lora_fuses)(const cordon__device *dev, const cordon__lora_desc *d);
    cordon_status (*lora_adapter)(cordon__device *dev, const cordon__lora_desc *d);
    /* dst = src, same shape, different devices allowed (both views pinned); may not overlap. */
    cordon_status (*copy)(cordon__device *dev, const cordon__view *dst, const cordon__view *src);
};

/* The CPU backend (cpu/device_cpu.c, cpu/backend_cpu.c). */
extern const cordon__backend cordon__backend_cpu;
#if defined(CORDON_HAVE_OPENCL) && CORDON_HAVE_OPENCL
/* The OpenCL backend (opencl/). */
extern const cordon__backend cordon__backend_opencl;
#endif

#endif /* CORDON_COMPUTE_BACKEND_H */
