/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — tensor operations for transformer workloads, forward and backward.
 *
 * Conventions for every operation here:
 *  - Outputs come first and are tensors the caller created; an operation allocates nothing. Every
 *    operand must be F32 (the one exception: cordon_matmul's B may be BF16) and live on the same device;
 *    a BF16 tensor anywhere else gives CORDON_UNSUPPORTED and changes nothing.
 *  - Describe, validate, then run: all checks happen before the first byte is written, so a refused call
 *    returns a status and every tensor is as it was. Order: handles (CORDON_STALE), invalid values and
 *    mixed devices or dtypes (CORDON_INVALID_ARGUMENT, CORDON_UNSUPPORTED for a dtype without kernels),
 *    shapes (CORDON_SHAPE_MISMATCH), aliasing (CORDON_INVALID_ARGUMENT).
 *  - Aliasing: an output may not share storage bytes with another operand or with itself (a stride-0
 *    view as output) unless the operation names the in-place form it allows; an allowed in-place form
 *    means the output is the very same view as that input (same storage, offset, shape and strides).
 *    Overlap is judged on each tensor's span of storage, so two interleaved views that never touch the
 *    same element are refused too: copy one first.
 *  - Any strides are accepted (transposed and sliced views); contiguous rows are the fast path.
 *  - Broadcast, where allowed, follows NumPy: shapes are aligned at their last dimension and an extent
 *    of 1 (or a missing leading dimension) stretches to the other operand's.
 *  - Accumulation is in f32 at least for every reduction; where f64 is used it is said. Results are
 *    independent of the thread count (see device.h, "Determinism").
 *  - NaN and infinities propagate as IEEE arithmetic does, unless an operation says otherwise.
 *  - Subnormals: kernels neither flush nor change the floating-point environment; the caller's FTZ/DAZ
 *    settings are left exactly as they were, and apply to what the kernels compute on every thread of
 *    the call (the calling thread's flush-to-zero, denormals-are-zero and rounding-mode bits are carried
 *    to the pool workers for the call's length), so a result never depends on which thread computed it.
 *  - Accuracy is stated per operation as the largest error against a double-precision reference that
 *    the tests allow (tests/test_compute_ops.c, test_compute_props.c), mostly as |error| <= tol·M where
 *    M is the operation's expression evaluated on absolute values (the scale of f32 rounding errors:
 *    Σ|a·b| for a product, for example). The worst case measured over the tests at every instruction set
 *    follows in parentheses.
 * Thread safety: any operation may run concurrently with any other on distinct outputs (see tensor.h). */
#ifndef CORDON_OPS_H
#define CORDON_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"
#include "cordon/tensor.h"

CORDON_BEGIN_DECLS

/* ------------------------------------------------------------------------------------------------
 * Matrix products */

typedef struct cordon_matmul_params {
    float alpha;  /* C = alpha·op(A)·op(B) + beta·C */
    float beta;
    bool trans_a; /* op(A) = Aᵀ (the last two dimensions swapped) */
    bool trans_b;
} cordon_matmul_params;

/* alpha 1, beta 0, no transposes. */
CORDON_API void cordon_matmul_params_init(cordon_matmul_params *p);

/* C = alpha·op(A)·op(B) + beta·C over the last two dimensions: op(A) is M×K, op(B) is K×N, C is M×N.
 * Leading (batch) dimensions broadcast between A and B, and C has the broadcast batch shape. 1-D
 * operands are not promoted: use a view of shape (1, K). p NULL means the defaults.
 * Semantics that BLAS libraries disagree on, fixed here: beta = 0 never reads C (a NaN already in C
 * does not reach the result); alpha = 0 never reads A or B (C = beta·C, NaN in A or B ignored); K = 0
 * is impossible (extents are >= 1). M = 1 uses a matrix-vector path (the decode case).
 * Accuracy: |error| <= 1e-5 · (|alpha|·Σ_k |a_ik·b_kj| + |beta·c_ij|) (measured 2.9e-7; f32 accumulation,
 * blocked, K up to 1000 in the tests).
 * Aliasing: C may overlap neither A nor B.
 * BF16 weights: B may be a BF16 tensor (any strides, transposed or not), A and C F32. Each element of B is
 * widened exactly to f32 and the product runs as above (f32 products, f32 accumulation): the result is
 * the f32 matmul of the bf16 values, within the bound above of the exact product with the bf16-rounded
 * B. Against an f32 B that was rounded to bf16 (cordon_bf16_from_f32: |b' − b| <= 2^-8·|b|), the
 * rounding adds at most 2^-8·|alpha|·Σ_k |a_ik·b_kj| per element (|error| <= (2^-8 + 1e-5)·(|alpha|·
 * Σ_k |a_ik·b_kj|) + 1e-5·|beta·c_ij| in all; on random data the error is far below, since the
 * per-weight errors are independent: about 2^-9·sqrt(Σ_k (a_ik·b_kj)²); measured 1.6e-3·M on the
 * tests' shapes, 1.2e-4·M at K = 4096, and 2.3e-7·M against the product of the rounded weights). The activation A is never
 * rounded to bf16 (docs/compute.md, "BF16 weights", says why the AVX-512 BF16 dot-product instruction is
 * not used). The BLAS engine has no bf16 product: a BF16 B runs on the built-in kernels there too.
 * Only devices that hold BF16 tensors (the CPU) get here. */
CORDON_API CORDON_NODISCARD cordon_status cordon_matmul(cordon_tensor c, cordon_tensor a, cordon_tensor b,
                                                        const cordon_matmul_params *p);

/* ------------------------------------------------------------------------------------------------
 * Softmax over the last dimension */

typedef struct cordon_softmax_params {
    /* y = softmax(scale·x + mask), with -inf where causal masking applies. */
    float scale;
    /* Optional additive mask (CORDON_TENSOR_NONE: none), broadcast to x's shape; -INFINITY removes an
     * element. */
    cordon_tensor mask;
    /* Causal masking over the last two dimensions (rows i, columns j, R rows, C columns): element (i, j)
     * is removed when j > i + (C - R), so the last row sees every column (the key/value-cache layout). */
    bool causal;
} cordon_softmax_params;

/* scale 1, no mask, not causal. */
CORDON_API void cordon_softmax_params_init(cordon_softmax_params *p);

/* y = softmax(scale·x + mask) along the last dimension, computed stably (the row maximum subtracted).
 * A row whose every element is removed (all -inf after scale and mask) gives zeros, not NaN. A row
 * containing NaN gives NaN in every element; +inf in a row gives 1/n over the +inf elements (n of them)
 * and 0 elsewhere. Removed elements are exactly +0. Accuracy: |error| <= 1e-5·|y| + 2e-6 per element
 * against f64 (measured 0.43 of that bound: the absolute term covers the relative error of tiny
 * elements, whose exponent argument carries the rounding of scale·x + mask − max). In place: y may be x. */
CORDON_API CORDON_NODISCARD cordon_status cordon_softmax(cordon_tensor y, cordon_tensor x,
                                                         const cordon_softmax_params *p);

/* dx = scale · y ⊙ (dy - sum(dy ⊙ y)) per row, from the forward output y (masked elements, where y is 0,
 * get dx = 0; a fully masked row gets a zero gradient). Accuracy: |error| <= 1e-5·|scale|·|y|·(|dy| +
 * Σ|dy⊙y|) (measured 2.1e-7). In place: dx may be dy. */
CORDON_API CORDON_NODISCARD cordon_status cordon_softmax_backward(cordon_tensor dx, cordon_tensor y, cordon_tensor dy,
                                                                  float scale);

/* ------------------------------------------------------------------------------------------------
 * Normalisation over the last dimension (width n) */

/* y = x / sqrt(mean(x²) + eps) ⊙ weight. weight has shape (n). eps >= 0 and finite. The sum of squares
 * accumulates in 16 interleaved f32 partial sums, added pairwise at the end. Accuracy: relative error
 * <= 2e-6 per element (measured 2.5e-7 for n <= 1000). In place: y may be x. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rms_norm(cordon_tensor y, cordon_tensor x, cordon_tensor weight,
                                                          float eps);

/* Gradients of rms_norm: dx (required) and dweight (optional: CORDON_TENSOR_NONE skips it; it is
 * overwritten, summed over every row). Accuracy: |error| <= 1e-5·M with M = r·|w·dy| + |x|·r³/n·Σ|dy·w·x|
 * for dx (r = 1/rms) and Σ_rows r·|dy·x| for dweight (measured 4.7e-7 and 2.2e-7). In place: dx may be dy. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rms_norm_backward(cordon_tensor dx, cordon_tensor dweight,
                                                                   cordon_tensor dy, cordon_tensor x,
                                                                   cordon_tensor weight, float eps);

/* y = (x - mean) / sqrt(var + eps) ⊙ gamma + beta, with the variance computed as the mean of squared
 * deviations from the mean (the corrected two-pass method: the first pass's rounded mean is corrected by
 * the deviations' own sum, so a large mean beside a small spread costs no accuracy; never E[x²] - mean²).
 * gamma and beta have shape (n) and are each optional (NONE: 1 and 0). eps >= 0 and finite. Accuracy:
 * |error| <= 1e-5·((|x̂| + 1)·|gamma| + |beta|), x̂ the normalised input (measured 1.7e-7, means up to
 * 1000 times the spread). In place: y may be x. */
CORDON_API CORDON_NODISCARD cordon_status cordon_layer_norm(cordon_tensor y, cordon_tensor x, cordon_tensor gamma,
                                                            cordon_tensor beta, float eps);

/* Gradients of layer_norm: dx (required), dgamma and dbeta (optional, overwritten, summed over rows).
 * gamma as in the forward call (NONE: 1). Accuracy: |error| <= 1e-5·M, M for dx = rstd·(|g| + mean|g| +
 * (|x̂| + 1)·mean|g·x̂|) with g = dy⊙gamma, for dgamma Σ|dy|·(|x̂| + 1), for dbeta Σ|dy| (measured
 * 1.5e-7, 9e-8, 1.9e-7). In place: dx may be dy. */
CORDON_API CORDON_NODISCARD cordon_status cordon_layer_norm_backward(cordon_tensor dx, cordon_tensor dgamma,
                                                                     cordon_tensor dbeta, cordon_tensor dy,
                                                                     cordon_tensor x, cordon_tensor gamma, float eps);

/* ------------------------------------------------------------------------------------------------
 * Attention */

typedef struct cordon_attention_params {
    /* Scores are scale·Q·Kᵀ; 0 means 1/sqrt(head dimension). */
    float scale;
    bool causal; /* as cordon_softmax_params.causal, over (query, key) positions */
    /* Optional additive mask broadcast to (batch, q_heads, Tq, Tk); NONE: none. */
    cordon_tensor mask;
} cordon_attention_params;

/* scale 0 (1/sqrt(d)), not causal, no mask. */
CORDON_API void cordon_attention_params_init(cordon_attention_params *p);

/* Scaled dot-product attention: out = softmax(scale·Q·Kᵀ + mask)·V, per batch and head.
 * Q and out: (B, Hq, Tq, D); K: (B, Hkv, Tk, D); V: (B, Hkv, Tk, Dv) with out (B, Hq, Tq, Dv). Grouped-
 * query attention: Hq must be a multiple of Hkv, and query head h uses key/value head h / (Hq / Hkv).
 * A query whose every key is masked gets an output of zeros. Accuracy: |error| <= 1e-5·Σ_j p_j·|v_j|·(1 +
 * |s_j|), p the attention weights and |s_j| = scale·Σ|q·k_j| (measured 2e-7). Aliasing: out may overlap no
 * input. */
CORDON_API CORDON_NODISCARD cordon_status cordon_attention(cordon_tensor out, cordon_tensor q, cordon_tensor k,
                                                           cordon_tensor v, const cordon_attention_params *p);

/* Gradients of attention with respect to Q, K and V (each required; the same shapes as q, k, v), from
 * dout. The attention weights are recomputed (nothing is kept from the forward call). K/V heads shared by
 * several query heads receive the sum of their gradients; a fully masked query, and a key no query
 * sees, get zero gradients. Accuracy: |error| <= 1e-5·M, M each gradient's expression on absolute
 * values with the scores' rounding carried as (1 + |s|) (measured 8e-8 dq, 7e-8 dk, 2.5e-7 dv).
 * Outputs may overlap no input or each other. */
CORDON_API CORDON_NODISCARD cordon_status cordon_attention_backward(cordon_tensor dq, cordon_tensor dk, cordon_tensor dv,
                                                                    cordon_tensor dout, cordon_tensor q, cordon_tensor k,
                                                                    cordon_tensor v, const cordon_attention_params *p);

/* ------------------------------------------------------------------------------------------------
 * LoRA linear layer */

/* How the adapter's product is scaled. Named explicitly: there is no default. */
typedef enum cordon_lora_scaling {
    CORDON_LORA_SCALE_STANDARD = 1, /* alpha / r */
    CORDON_LORA_SCALE_RSLORA = 2    /* alpha / sqrt(r) (rank-stabilised) */
} cordon_lora_scaling;

typedef struct cordon_lora_params {
    float alpha;
    cordon_lora_scaling scaling;
} cordon_lora_params;

/* y = x·W + bias + s·(x·A)·B, with s from params and r = A's last extent. x: (…, in), W: (in, out) or
 * NONE (the adapter alone: y = s·(x·A)·B + bias), bias: (out) or NONE, A: (in, r), B: (r, out), y: (…, out).
 * On the CPU device the adapter is one fused pass when the rows of x, y, A and B are contiguous and
 * r <= 16 (x·A stays in registers); otherwise x·A is computed once per call (scratch from the device).
 * Accuracy: |error| <= 1e-5·(Σ|x·W| + |bias| + |s|·Σ_r (Σ|x·A|_r)·|B_r|) (measured 2.4e-7). Aliasing: y may
 * overlap no input. The backward pass needs W (a frozen zero W stands for an adapter alone). */
CORDON_API CORDON_NODISCARD cordon_status cordon_lora_linear(cordon_tensor y, cordon_tensor x, cordon_tensor w,
                                                             cordon_tensor bias, cordon_tensor a, cordon_tensor b,
                                                             const cordon_lora_params *params);

/* Gradients of lora_linear with W (and bias) frozen: dA = s·xᵀ·(dy·Bᵀ), dB = s·(x·A)ᵀ·dy (both summed over
 * the leading dimensions, overwritten), dx = dy·Wᵀ + s·(dy·Bᵀ)·Aᵀ (optional: NONE skips it). Accuracy:
 * |error| <= 1e-5·M, M each product on absolute values (measured 2.1e-7 dA, 1.7e-7 dB, 2e-7 dx). */
CORDON_API CORDON_NODISCARD cordon_status cordon_lora_linear_backward(cordon_tensor dx, cordon_tensor da, cordon_tensor db,
                                                                      cordon_tensor dy, cordon_tensor x, cordon_tensor w,
                                                                      cordon_tensor a, cordon_tensor b,
                                                                      const cordon_lora_params *params);

/* w_out = W + s·A·B, in f32: the merged weight, whose plain x·w_out equals the adapter's forward up to
 * rounding (both within 1e-5·M of the f64 forward; merge measured 1.3e-7 of |W| + |s|·Σ|A·B|).
 * w_out may be W (merge in place). */
CORDON_API CORDON_NODISCARD cordon_status cordon_lora_merge(cordon_tensor w_out, cordon_tensor w, cordon_tensor a,
                                                            cordon_tensor b, const cordon_lora_params *params);

/* ------------------------------------------------------------------------------------------------
 * Elementwise operations. In place: y may be any of the inputs of the same shape as y.
 * Accuracy: add, mul and scale are the correctly rounded f32 operations, exactly. SiLU and its gradient:
 * |error| <= 2e-6·M with M = |y| (SiLU) and |dy|·σ(x)·(1 + |x|·(1 − σ(x))) (measured 1.7e-7 and 1e-6).
 * GELU (both forms) and its gradient: |error| <= 2e-6·M with M = |x|/2·(1 + |erf(x/√2)|) (or the tanh
 * form's 1 + |tanh u|) and for the gradient |dy|·((1 + |erf|)/2 + |x|·φ(x)) (tanh form: (1 + |t|)/2 +
 * |x|/2·√(2/π)·(1 + 0.134145·x²)·(1 + t²)) (measured 1.5e-7): for x below about −3 that is an absolute
 * error near 2^-24·|x|, as PyTorch's f32 formula gives, not a relative one. */

/* y = a + b, with broadcast of a and b to y's shape. */
CORDON_API CORDON_NODISCARD cordon_status cordon_add(cordon_tensor y, cordon_tensor a, cordon_tensor b);
/* y = a ⊙ b, with broadcast. */
CORDON_API CORDON_NODISCARD cordon_status cordon_mul(cordon_tensor y, cordon_tensor a, cordon_tensor b);
/* y = s·x. */
CORDON_API CORDON_NODISCARD cordon_status cordon_scale(cordon_tensor y, cordon_tensor x, float s);
/* y = x·sigmoid(x). Large negative x gives -0 or a tiny negative, never NaN; ±inf gives +inf / -0. */
CORDON_API CORDON_NODISCARD cordon_status cordon_silu(cordon_tensor y, cordon_tensor x);
/* dx = dy · sigmoid(x)·(1 + x·(1 - sigmoid(x))). */
CORDON_API CORDON_NODISCARD cordon_status cordon_silu_backward(cordon_tensor dx, cordon_tensor dy, cordon_tensor x);

/* GELU comes in two forms, named explicitly (no default). */
typedef enum cordon_gelu_mode {
    CORDON_GELU_ERF = 1, /* x·Φ(x) = x/2·(1 + erf(x/√2)), exact */
    CORDON_GELU_TANH = 2 /* x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the approximation */
} cordon_gelu_mode;

CORDON_API CORDON_NODISCARD cordon_status cordon_gelu(cordon_tensor y, cordon_tensor x, cordon_gelu_mode mode);
CORDON_API CORDON_NODISCARD cordon_status cordon_gelu_backward(cordon_tensor dx, cordon_tensor dy, cordon_tensor x,
                                                               cordon_gelu_mode mode);

/* Rotary position embedding layouts, named explicitly (no default). */
typedef enum cordon_rope_layout {
    CORDON_ROPE_INTERLEAVED = 1, /* rotates pairs (x[2i], x[2i+1]) (GPT-J, the original RoPE paper) */
    CORDON_ROPE_HALF = 2         /* rotates pairs (x[i], x[i + d/2]) (GPT-NeoX, Llama in Hugging Face form) */
} cordon_rope_layout;

typedef struct cordon_rope_params {
    cordon_rope_layout layout;
    float base;         /* frequency base θ (10000 in most models); > 0 and finite */
    uint64_t position0; /* position of the first row along the sequence dimension */
} cordon_rope_params;

/* Rotary embedding over x of shape (…, T, D) with D even: row t (position position0 + t), pair i rotated
 * by angle pos·base^(-2i/D). Angles are computed in f64 and rounded once. Accuracy: |error| <= 1e-6·(|x0·c|
 * + |x1·s|) per element of a rotated pair (measured 1.5e-7). In place: y may be x. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rope(cordon_tensor y, cordon_tensor x, const cordon_rope_params *p);
/* The gradient of rope: the inverse rotation applied to dy. In place: dx may be dy. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rope_backward(cordon_tensor dx, cordon_tensor dy,
                                                               const cordon_rope_params *p);

CORDON_END_DECLS

#endif /* CORDON_OPS_H */
