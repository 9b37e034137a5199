#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/torch_refs.bin: inputs and PyTorch's outputs for a fixed set of small cases of every
operation in include/cordon/ops.h, forward and backward, so that tests/test_compute_torch.c compares
cordon against an implementation nobody here wrote. The C test needs no Python: it reads the committed
file.

How to regenerate (Debian 12; the first python3 on PATH may be a pyenv one that does not see Debian's
packages, hence /usr/bin/python3; torch is a generator dependency only, never a test dependency, so it
is not in tools/deps.sh):

    apt-get install -y python3-torch
    /usr/bin/python3 tests/make_torch_refs.py        # from the repository root

The output is deterministic for a given torch version (fixed seed, CPU generator); the version used is
stored in the file (entry "meta/torch_version") and printed by the test.

What each case holds
  * Inputs are float32, drawn with torch's CPU generator from a fixed seed.
  * Every output is stored twice: "<name>32", torch computing in float32 on the CPU as a user would
    run it, and "<name>64", torch computing in float64 from the same float32 inputs (cast exactly).
    Parameters (scale, alpha, eps, base) are float32 values, used as exactly that value in float64 too.
    The C test checks cordon against the float64 outputs under the tolerances ops.h documents; the
    float32 outputs are reported beside them (add, mul and scale, which cordon computes correctly
    rounded, are compared with torch's float32 bit for bit).
  * Backward outputs come from torch.autograd (float64 graph for "64", float32 graph for "32").
  * Ops torch 1.13 lacks (RMSNorm, scaled dot-product attention, RoPE) are written out explicitly in
    torch operations below; where a newer torch has a function for one, the formula is the same.

Container format (all integers little-endian, no padding or alignment):

    file    := magic "CTORCH01" (8 bytes) · count (u32) · entry × count
    entry   := name_len (u16) · name (ASCII, name_len bytes) · kind (u8) · ndim (u8, 1..4)
               · shape (u32 × ndim) · data (product(shape) elements, row-major)
    kind    := 1 float32 (4 bytes each) | 2 float64 (8 bytes each) | 3 text (1 byte each, UTF-8)

Entry names are "<family>/<case>/<field>"; a case's parameters are float64 entries of shape (1). The
families and their fields:

    matmul        a b c trans_a trans_b alpha beta          -> out     (C = alpha·op(A)·op(B) + beta·c)
    softmax       x [mask] scale causal                      -> y
    softmax_bwd   y dy scale (y: the float64 forward rounded to float32, as cordon takes it) -> dx
    rms_norm      x w eps                                    -> y
    rms_norm_bwd  x w dy eps                                 -> dx dw
    layer_norm    x [gamma] [beta] eps                       -> y
    layer_norm_bwd x [gamma] dy eps                          -> dx dgamma dbeta
    attention     q k v [mask] scale (0: 1/sqrt(D)) causal   -> out
    attention_bwd q k v dout [mask] scale causal             -> dq dk dv
    lora          x w [bias] a b alpha scaling (1 alpha/r, 2 alpha/sqrt(r)) -> y
    lora_bwd      x w a b dy alpha scaling                   -> dx da db   (W frozen)
    silu          x -> y;            silu_bwd  x dy -> dx
    gelu          x mode (1 erf, 2 tanh) -> y;   gelu_bwd  x dy mode -> dx
    rope          x layout (1 interleaved, 2 half) base position0 -> y
    rope_bwd      dy layout base position0 -> dx
    elementwise   a [b] op (1 add, 2 mul, 3 scale) [s]       -> y   (broadcast to y's shape)
"""
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240913
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_refs.bin")

KIND_F32, KIND_F64, KIND_TEXT = 1, 2, 3

entries = []


def f32(v):
    """The float32 value of v, as a Python float."""
    return float(np.float32(v))


def put(name, t):
    t = t.detach().cpu().contiguous()
    if t.dtype == torch.float32:
        kind = KIND_F32
    elif t.dtype == torch.float64:
        kind = KIND_F64
    else:
        raise TypeError(name)
    shape = list(t.shape) or [1]
    assert 1 <= len(shape) <= 4, name
    entries.append((name, kind, shape, t.numpy().astype("<f4" if kind == KIND_F32 else "<f8").tobytes()))


def put_param(name, v):
    put(name, torch.tensor([float(v)], dtype=torch.float64))


def put_text(name, s):
    b = s.encode()
    entries.append((name, KIND_TEXT, [len(b)], b))


def rand(shape, lo=-1.0, hi=1.0):
    return (torch.rand(shape, dtype=torch.float32) * (hi - lo) + lo).to(torch.float32)


def put_pair(prefix, field, fn, *inputs):
    """Stores fn evaluated in float32 and in float64 (inputs cast exactly)."""
    put(prefix + field + "32", fn(torch.float32, *[t.to(torch.float32) if t is not None else None for t in inputs]))
    put(prefix + field + "64", fn(torch.float64, *[t.to(torch.float64) if t is not None else None for t in inputs]))


def grads(dt, fn, inputs, wrt, dout):
    """Gradients of sum(fn(*inputs) ⊙ dout) with respect to inputs[i] for i in wrt, in dtype dt."""
    xs = [t.to(dt).clone().requires_grad_(i in wrt) if t is not None else None for i, t in enumerate(inputs)]
    y = fn(*xs)
    gs = torch.autograd.grad(y, [xs[i] for i in wrt], dout.to(dt))
    return [g.detach() for g in gs]


def put_grads(prefix, names, fn, inputs, wrt, dout):
    for dt, suffix in ((torch.float32, "32"), (torch.float64, "64")):
        for n, g in zip(names, grads(dt, fn, inputs, wrt, dout)):
            put(prefix + n + suffix, g)


# ---------------------------------------------------------------------------------------------------
# matmul: alpha/beta through torch.addmm (2-D) and torch.baddbmm (3-D, equal batches); broadcast batches
# through torch.matmul with alpha and beta applied after.

def matmul_cases():
    cases = [
        # name, stored A shape, stored B shape, C shape, ta, tb, alpha, beta
        ("m17n33k65", (17, 65), (65, 33), (17, 33), False, False, 1.0, 0.0),
        ("m31n16k15_ta", (15, 31), (15, 16), (31, 16), True, False, 0.5, 0.25),
        ("m5n63k33_tb", (5, 33), (63, 33), (5, 63), False, True, -1.5, 1.0),
        ("m1n65k64_ta_tb", (64, 1), (65, 64), (1, 65), True, True, 1.0, 0.0),
        ("m64n1k17", (64, 17), (17, 1), (64, 1), False, False, 2.0, -1.0),
        ("batch3_m9n7k17", (3, 9, 17), (3, 17, 7), (3, 9, 7), False, False, 2.0, -1.0),
        ("batch2_m32n9k16_ta_tb", (2, 16, 32), (2, 9, 16), (2, 32, 9), True, True, 1.0, 0.5),
        ("bcast_2x1_1x3_m7n9k12", (2, 1, 7, 12), (1, 3, 12, 9), (2, 3, 7, 9), False, False, 1.0, 0.0),
        ("bcast_1_4_m5n1k33_tb", (1, 5, 33), (4, 1, 33), (4, 5, 1), False, True, 0.75, 0.5),
        ("bcast_3_1_m1n20k40", (3, 1, 40), (40, 20), (3, 1, 20), False, False, 1.0, 0.0),
    ]
    for name, ash, bsh, csh, ta, tb, alpha, beta in cases:
        p = "matmul/" + name + "/"
        a, b, c = rand(ash), rand(bsh), rand(csh)
        alpha, beta = f32(alpha), f32(beta)
        put(p + "a", a), put(p + "b", b), put(p + "c", c)
        put_param(p + "trans_a", ta), put_param(p + "trans_b", tb)
        put_param(p + "alpha", alpha), put_param(p + "beta", beta)

        def fn(dt, a, b, c, ta=ta, tb=tb, alpha=alpha, beta=beta, bsh=bsh, ash=ash):
            oa = a.transpose(-1, -2) if ta else a
            ob = b.transpose(-1, -2) if tb else b
            if a.dim() == 2 and b.dim() == 2:
                return torch.addmm(c, oa, ob, beta=beta, alpha=alpha)
            if a.dim() == 3 and b.dim() == 3 and ash[0] == bsh[0]:
                return torch.baddbmm(c, oa, ob, beta=beta, alpha=alpha)
            prod = torch.matmul(oa, ob)
            return alpha * prod + (beta * c if beta != 0 else 0)

        put_pair(p, "out", fn, a, b, c)


# ---------------------------------------------------------------------------------------------------
# softmax

def causal_keep(R, C):
    """True where (i, j) is kept: j <= i + (C - R) (ops.h, cordon_softmax_params.causal)."""
    return torch.ones(R, C, dtype=torch.bool).tril(diagonal=C - R)


def sm_forward(x, mask, scale, causal):
    z = x * scale
    if mask is not None:
        z = z + mask
    if causal:
        R, C = z.shape[-2], z.shape[-1]
        z = z.masked_fill(~causal_keep(R, C), float("-inf"))
    return torch.softmax(z, dim=-1)


def make_mask(shape, p_inf=0.2):
    m = rand(shape, -2.0, 2.0)
    m[torch.rand(shape) < p_inf] = float("-inf")
    m[..., 0] = rand(m[..., 0].shape, -2.0, 2.0)  # column 0: every row keeps an element
    return m


def softmax_cases():
    cases = [
        # name, x shape, mask shape or None, scale, causal, input range
        ("r3c1", (3, 1), None, 1.0, False, 4.0),
        ("r4c17", (4, 17), None, 1.0, False, 4.0),
        ("b2r3c33_scale_mask", (2, 3, 33), (3, 33), 0.125, False, 8.0),
        ("b2q5k16_causal", (2, 5, 16), None, 0.5, True, 4.0),
        ("b1h2q7k65_causal_mask", (1, 2, 7, 65), (7, 65), 1.0, True, 3.0),
        ("r6c64_wide", (6, 64), None, 1.0, False, 20.0),
        ("r2c31_mask_row", (2, 31), (31,), 2.0, False, 2.0),
        ("q16k16_causal", (16, 16), None, 1.0, True, 4.0),
    ]
    for name, xsh, msh, scale, causal, rng in cases:
        p = "softmax/" + name + "/"
        x = rand(xsh, -rng, rng)
        scale = f32(scale)
        mask = make_mask(msh) if msh is not None else None
        put(p + "x", x)
        if mask is not None:
            put(p + "mask", mask)
        put_param(p + "scale", scale), put_param(p + "causal", causal)
        put_pair(p, "y", lambda dt, x, m, s=scale, c=causal: sm_forward(x, m, s, c), x, mask)

    bwd = [
        ("r4c17", (4, 17), None, 1.0, False),
        ("b2q5k33_causal_scale", (2, 5, 33), None, 0.25, True),
        ("r3c64_mask", (3, 64), (64,), 1.5, False),
        ("r2c65", (2, 65), None, 1.0, False),
    ]
    for name, xsh, msh, scale, causal in bwd:
        p = "softmax_bwd/" + name + "/"
        x = rand(xsh, -4.0, 4.0)
        dy = rand(xsh)
        scale = f32(scale)
        mask = make_mask(msh) if msh is not None else None
        y64 = sm_forward(x.double(), mask.double() if mask is not None else None, scale, causal)
        put(p + "y", y64.to(torch.float32))
        put(p + "dy", dy)
        put_param(p + "scale", scale)
        put_grads(p, ["dx"], lambda x, m, s=scale, c=causal: sm_forward(x, m, s, c), [x, mask], [0], dy)


# ---------------------------------------------------------------------------------------------------
# RMSNorm: x · rsqrt(mean(x²) + eps) · w, written out (torch 1.13 has no rms_norm).

def rms(x, w, eps):
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def rms_cases():
    for name, xsh, eps in [("r3c1", (3, 1), 1e-5), ("r3c7", (3, 7), 1e-5), ("r2c16", (2, 16), 1e-6),
                           ("b2r2c33", (2, 2, 33), 1e-5), ("r2c64", (2, 64), 1e-6), ("r3c65", (3, 65), 0.0),
                           ("r2c129", (2, 129), 1e-5)]:
        p = "rms_norm/" + name + "/"
        x, w = rand(xsh, -3.0, 3.0), rand(xsh[-1:], -2.0, 2.0)
        eps = f32(eps)
        put(p + "x", x), put(p + "w", w), put_param(p + "eps", eps)
        put_pair(p, "y", lambda dt, x, w, e=eps: rms(x, w, e), x, w)
    for name, xsh, eps in [("r3c7", (3, 7), 1e-5), ("r4c33", (4, 33), 1e-5), ("b2r2c65", (2, 2, 65), 1e-6),
                           ("r5c16", (5, 16), 1e-5)]:
        p = "rms_norm_bwd/" + name + "/"
        x, w, dy = rand(xsh, -3.0, 3.0), rand(xsh[-1:], -2.0, 2.0), rand(xsh)
        eps = f32(eps)
        put(p + "x", x), put(p + "w", w), put(p + "dy", dy), put_param(p + "eps", eps)
        put_grads(p, ["dx", "dw"], lambda x, w, e=eps: rms(x, w, e), [x, w], [0, 1], dy)


# ---------------------------------------------------------------------------------------------------
# LayerNorm: torch.nn.functional.layer_norm.

def layer_cases():
    for name, xsh, g, b, eps, off in [("r3c7", (3, 7), True, True, 1e-5, 0.0),
                                      ("r2c16_nogamma_nobeta", (2, 16), False, False, 1e-5, 0.0),
                                      ("b2r2c33_nobeta", (2, 2, 33), True, False, 1e-6, 0.0),
                                      ("r2c64_mean100", (2, 64), True, True, 1e-5, 100.0),
                                      ("r3c65", (3, 65), True, True, 1e-5, 0.0),
                                      ("r2c2", (2, 2), True, True, 1e-5, 0.0)]:
        p = "layer_norm/" + name + "/"
        x = rand(xsh, off - 3.0, off + 3.0)
        gamma = rand(xsh[-1:], -2.0, 2.0) if g else None
        beta = rand(xsh[-1:]) if b else None
        eps = f32(eps)
        put(p + "x", x), put_param(p + "eps", eps)
        if gamma is not None:
            put(p + "gamma", gamma)
        if beta is not None:
            put(p + "beta", beta)
        put_pair(p, "y", lambda dt, x, g, b, e=eps: F.layer_norm(x, x.shape[-1:], g, b, e), x, gamma, beta)
    for name, xsh, g, eps in [("r3c7", (3, 7), True, 1e-5), ("r4c33_nogamma", (4, 33), False, 1e-5),
                              ("b2r2c65", (2, 2, 65), True, 1e-6), ("r5c16", (5, 16), True, 1e-5)]:
        p = "layer_norm_bwd/" + name + "/"
        x, dy = rand(xsh, -3.0, 3.0), rand(xsh)
        gamma = rand(xsh[-1:], -2.0, 2.0) if g else torch.ones(xsh[-1:], dtype=torch.float32)
        beta = torch.zeros(xsh[-1:], dtype=torch.float32)
        eps = f32(eps)
        put(p + "x", x), put(p + "dy", dy), put_param(p + "eps", eps)
        if g:
            put(p + "gamma", gamma)
        put_grads(p, ["dx", "dgamma", "dbeta"], lambda x, g, b, e=eps: F.layer_norm(x, x.shape[-1:], g, b, e),
                  [x, gamma, beta], [0, 1, 2], dy)


# ---------------------------------------------------------------------------------------------------
# Scaled dot-product attention, written out (torch 1.13 has no scaled_dot_product_attention): K/V heads
# repeated with repeat_interleave for grouped-query attention, causal as in softmax.

def attention(q, k, v, mask, scale, causal):
    g = q.shape[1] // k.shape[1]
    kk = k.repeat_interleave(g, dim=1)
    vv = v.repeat_interleave(g, dim=1)
    s = torch.matmul(q, kk.transpose(-1, -2)) * scale
    if mask is not None:
        s = s + mask
    if causal:
        s = s.masked_fill(~causal_keep(s.shape[-2], s.shape[-1]), float("-inf"))
    return torch.matmul(torch.softmax(s, dim=-1), vv)


ATT_CASES = [
    # name, B, Hq, Hkv, Tq, Tk, D, Dv, causal, mask shape or None, scale (0: 1/sqrt(D))
    ("b1h2_t5_d8", 1, 2, 2, 5, 5, 8, 8, False, None, 0.0),
    ("b2h4kv2_q3k9_d16_causal", 2, 4, 2, 3, 9, 16, 12, True, None, 0.3),
    ("b1h6kv1_t7_d33_causal", 1, 6, 1, 7, 7, 33, 17, True, None, 0.0),
    ("b1h2_q4k17_d64_mask", 1, 2, 2, 4, 17, 64, 33, False, (1, 1, 4, 17), 0.0),
    ("b2h4kv1_q1k31_d32_causal", 2, 4, 1, 1, 31, 32, 16, True, None, 0.0),
    ("b1h2kv1_q6k10_d15_causal_mask", 1, 2, 1, 6, 10, 15, 7, True, (6, 10), 0.5),
]

ATT_BWD_CASES = [
    ("b1h2_t5_d8", 1, 2, 2, 5, 5, 8, 8, False, None, 0.0),
    ("b2h4kv2_q3k9_d16_causal", 2, 4, 2, 3, 9, 16, 12, True, None, 0.3),
    ("b1h4kv1_t7_d33_causal", 1, 4, 1, 7, 7, 33, 17, True, None, 0.0),
    ("b1h2_q4k17_d20_mask", 1, 2, 2, 4, 17, 20, 9, False, (1, 1, 4, 17), 0.0),
    ("b1h2kv1_q6k10_d15_causal_mask", 1, 2, 1, 6, 10, 15, 7, True, (6, 10), 0.5),
    ("b1h2kv1_q1k20_d16_causal", 1, 2, 1, 1, 20, 16, 16, True, None, 0.0),
]


def attention_cases():
    for fam, cases in (("attention", ATT_CASES), ("attention_bwd", ATT_BWD_CASES)):
        for name, B, Hq, Hkv, Tq, Tk, D, Dv, causal, msh, scale in cases:
            p = fam + "/" + name + "/"
            q, k, v = rand((B, Hq, Tq, D), -1.5, 1.5), rand((B, Hkv, Tk, D), -1.5, 1.5), rand((B, Hkv, Tk, Dv))
            mask = make_mask(msh, 0.15) if msh is not None else None
            used = f32(scale) if scale != 0.0 else f32(1.0 / math.sqrt(D))
            put(p + "q", q), put(p + "k", k), put(p + "v", v)
            if mask is not None:
                put(p + "mask", mask)
            put_param(p + "scale", f32(scale)), put_param(p + "causal", causal)
            if fam == "attention":
                put_pair(p, "out", lambda dt, q, k, v, m, s=used, c=causal: attention(q, k, v, m, s, c), q, k, v, mask)
            else:
                dout = rand((B, Hq, Tq, Dv))
                put(p + "dout", dout)
                put_grads(p, ["dq", "dk", "dv"], lambda q, k, v, m, s=used, c=causal: attention(q, k, v, m, s, c),
                          [q, k, v, mask], [0, 1, 2], dout)


# ---------------------------------------------------------------------------------------------------
# LoRA linear: x·W + bias + s·(x·A)·B, s = alpha/r (1) or alpha/sqrt(r) (2), rounded to float32.

def lora_scale(alpha, r, scaling):
    return f32(alpha / r) if scaling == 1 else f32(alpha / math.sqrt(r))


def lora(x, w, bias, a, b, s):
    y = torch.matmul(x, w) + s * torch.matmul(torch.matmul(x, a), b)
    return y + bias if bias is not None else y


def lora_cases():
    for name, xsh, out, r, bias, alpha, scaling in [("r5_in17_out33_r4_bias_std", (5, 17), 33, 4, True, 8.0, 1),
                                                    ("b2x3_in64_out15_r8_rslora", (2, 3, 64), 15, 8, False, 16.0, 2),
                                                    ("r1_in65_out20_r1_bias_rslora", (1, 65), 20, 1, True, 1.0, 2),
                                                    ("4d_in31_out16_r16_std", (2, 2, 3, 31), 16, 16, False, 32.0, 1)]:
        p = "lora/" + name + "/"
        n_in = xsh[-1]
        x, w = rand(xsh), rand((n_in, out), -0.5, 0.5)
        a, b = rand((n_in, r), -0.5, 0.5), rand((r, out), -0.5, 0.5)
        bv = rand((out,)) if bias else None
        alpha = f32(alpha)
        s = lora_scale(alpha, r, scaling)
        put(p + "x", x), put(p + "w", w), put(p + "a", a), put(p + "b", b)
        if bv is not None:
            put(p + "bias", bv)
        put_param(p + "alpha", alpha), put_param(p + "scaling", scaling)
        put_pair(p, "y", lambda dt, x, w, bb, a, b, s=s: lora(x, w, bb, a, b, s), x, w, bv, a, b)
    for name, xsh, out, r, alpha, scaling in [("r5_in17_out33_r4_std", (5, 17), 33, 4, 8.0, 1),
                                              ("b2x3_in64_out15_r8_rslora", (2, 3, 64), 15, 8, 16.0, 2),
                                              ("r5_in33_out17_r2_rslora", (5, 33), 17, 2, 4.0, 2)]:
        p = "lora_bwd/" + name + "/"
        n_in = xsh[-1]
        x, w = rand(xsh), rand((n_in, out), -0.5, 0.5)
        a, b = rand((n_in, r), -0.5, 0.5), rand((r, out), -0.5, 0.5)
        dy = rand(xsh[:-1] + (out,))
        alpha = f32(alpha)
        s = lora_scale(alpha, r, scaling)
        put(p + "x", x), put(p + "w", w), put(p + "a", a), put(p + "b", b), put(p + "dy", dy)
        put_param(p + "alpha", alpha), put_param(p + "scaling", scaling)
        # W frozen: gradients only for x, A and B.
        put_grads(p, ["dx", "da", "db"], lambda x, w, a, b, s=s: lora(x, w, None, a, b, s), [x, w, a, b], [0, 2, 3], dy)


# ---------------------------------------------------------------------------------------------------
# SiLU and GELU (torch.nn.functional.silu / gelu with approximate='none' or 'tanh').

def activation_cases():
    for name, xsh, rng in [("r3c65", (3, 65), 10.0), ("n17", (17,), 30.0)]:
        p = "silu/" + name + "/"
        x = rand(xsh, -rng, rng)
        put(p + "x", x)
        put_pair(p, "y", lambda dt, x: F.silu(x), x)
        p = "silu_bwd/" + name + "/"
        x, dy = rand(xsh, -rng, rng), rand(xsh)
        put(p + "x", x), put(p + "dy", dy)
        put_grads(p, ["dx"], lambda x: F.silu(x), [x], [0], dy)
    for mode, approx in ((1, "none"), (2, "tanh")):
        for name, xsh, rng in [("r3c65", (3, 65), 8.0), ("n33", (33,), 3.0)]:
            p = "gelu/" + approx + "_" + name + "/"
            x = rand(xsh, -rng, rng)
            put(p + "x", x), put_param(p + "mode", mode)
            put_pair(p, "y", lambda dt, x, a=approx: F.gelu(x, approximate=a), x)
            p = "gelu_bwd/" + approx + "_" + name + "/"
            x, dy = rand(xsh, -rng, rng), rand(xsh)
            put(p + "x", x), put(p + "dy", dy), put_param(p + "mode", mode)
            put_grads(p, ["dx"], lambda x, a=approx: F.gelu(x, approximate=a), [x], [0], dy)


# ---------------------------------------------------------------------------------------------------
# RoPE, written out: row t of (…, T, D) at position position0 + t, pair i rotated by
# (position0 + t)·base^(-2i/D); pairs (x[2i], x[2i+1]) (interleaved, 1) or (x[i], x[i + D/2]) (half, 2).
# The float64 output takes its angles in float64. The float32 output computes them the way common float32
# model code does (inverse frequencies and angles in float32), which loses accuracy at large positions:
# the test reports that difference, and checks cordon against float64.

def rope(x, layout, base, p0, dt_angles):
    T, D = x.shape[-2], x.shape[-1]
    h = D // 2
    inv = 1.0 / (base ** (torch.arange(0, D, 2, dtype=dt_angles) / D))
    pos = torch.arange(p0, p0 + T, dtype=dt_angles)
    ang = pos[:, None] * inv[None, :]
    c, s = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    if layout == 1:
        x0, x1 = x[..., 0::2], x[..., 1::2]
        y0, y1 = x0 * c - x1 * s, x0 * s + x1 * c
        return torch.stack((y0, y1), dim=-1).reshape(x.shape)
    x0, x1 = x[..., :h], x[..., h:]
    return torch.cat((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)


def rope_cases():
    cases = [
        # name, shape, layout, base, position0
        ("b2h3t5d8_inter", (2, 3, 5, 8), 1, 10000.0, 0),
        ("b2h3t5d8_half", (2, 3, 5, 8), 2, 10000.0, 0),
        ("t7d64_inter_p4093", (7, 64), 1, 10000.0, 4093),
        ("t7d64_half_p4093", (7, 64), 2, 10000.0, 4093),
        ("b1h2t9d34_half_base5e5_p12", (1, 2, 9, 34), 2, 500000.0, 12),
        ("t3d2_inter_base10_p1", (3, 2), 1, 10.0, 1),
    ]
    for fam in ("rope", "rope_bwd"):
        for name, xsh, layout, base, p0 in cases[:4] if fam == "rope_bwd" else cases:
            p = fam + "/" + name + "/"
            x = rand(xsh, -2.0, 2.0)
            base = f32(base)
            put(p + ("x" if fam == "rope" else "dy"), x)
            put_param(p + "layout", layout), put_param(p + "base", base), put_param(p + "position0", p0)
            if fam == "rope":
                put(p + "y32", rope(x, layout, base, p0, torch.float32))
                put(p + "y64", rope(x.double(), layout, base, p0, torch.float64))
            else:
                for dt, suffix in ((torch.float32, "32"), (torch.float64, "64")):
                    (g,) = grads(dt, lambda t, l=layout, b=base, q=p0, d=dt: rope(t, l, b, q, d), [torch.zeros(xsh)], [0], x)
                    put(p + "dx" + suffix, g)


# ---------------------------------------------------------------------------------------------------
# add, mul (broadcast) and scale

def elementwise_cases():
    for name, ash, bsh, op, s in [("add_3x1x17_4x1", (3, 1, 17), (4, 1), 1, None),
                                  ("mul_2x3x33_33", (2, 3, 33), (33,), 2, None),
                                  ("add_5x16_5x16", (5, 16), (5, 16), 1, None),
                                  ("mul_1x65_7x1", (1, 65), (7, 1), 2, None),
                                  ("add_2x1x4x1_1x3x1x5", (2, 1, 4, 1), (1, 3, 1, 5), 1, None),
                                  ("scale_7x9", (7, 9), None, 3, 0.3)]:
        p = "elementwise/" + name + "/"
        a = rand(ash, -4.0, 4.0)
        b = rand(bsh, -4.0, 4.0) if bsh is not None else None
        put(p + "a", a)
        if b is not None:
            put(p + "b", b)
        put_param(p + "op", op)
        if s is not None:
            s = f32(s)
            put_param(p + "s", s)
        put_pair(p, "y", lambda dt, a, b, op=op, s=s: a + b if op == 1 else a * b if op == 2 else s * a, a, b)


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    put_text("meta/torch_version", torch.__version__)
    matmul_cases()
    softmax_cases()
    rms_cases()
    layer_cases()
    attention_cases()
    lora_cases()
    activation_cases()
    rope_cases()
    elementwise_cases()
    blob = bytearray(b"CTORCH01")
    blob += struct.pack("<I", len(entries))
    for name, kind, shape, data in entries:
        nb = name.encode("ascii")
        blob += struct.pack("<H", len(nb)) + nb + struct.pack("<BB", kind, len(shape))
        blob += struct.pack("<%dI" % len(shape), *shape)
        blob += data
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(blob)
    cases = sorted({"/".join(e[0].split("/")[:2]) for e in entries if not e[0].startswith("meta/")})
    print("torch %s: %d cases, %d entries, %d bytes -> %s" % (torch.__version__, len(cases), len(entries), len(blob),
                                                              OUT))


if __name__ == "__main__":
    main()
