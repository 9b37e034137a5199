/* SPDX-License-Identifier: Apache-2.0 */
/* BF16 weights (include/cordon/tensor.h, ops.h cordon_matmul): the public f32 ⇄ bf16 conversions at their
 * edge values, BF16 tensors (create, raw and converted transfers, views, copies), matmul with a BF16 B
 * at every instruction-set level, thread count and engine (bit for bit the f32 product of the widened
 * weights; against f64 references of the rounded and of the original weights, within the documented
 * bounds), and the refusals: every other operation, and matmul with a BF16 A or C, return
 * CORDON_UNSUPPORTED and change nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_check.h"

#define SEED 0xbf16beefu

/* The documented bound against the original f32 weights (ops.h): bf16 rounding, unit roundoff 2^-8 per
 * weight, plus the f32 product's own 1e-5, both relative to M = |alpha|·Σ|a·b| + |beta·c|. */
#define TOL_BF16_WEIGHTS (1.0 / 256.0 + TOL_MATMUL)

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint16_t to_bf16(float f) {
    uint16_t h = 0;
    CHECK_OK(cordon_bf16_from_f32(&h, &f, 1));
    return h;
}

static float from_bf16(uint16_t h) {
    float f = 0;
    CHECK_OK(cordon_bf16_to_f32(&f, &h, 1));
    return f;
}

/* ------------------------------------------------------------------------------------------------
 * Conversions */

TEST(bf16_from_f32_rounds_ties_to_even) {
    CHECK_EQ_U64(to_bf16(float_of(0x3F808000u)), 0x3F80u); /* tie, even below */
    CHECK_EQ_U64(to_bf16(float_of(0x3F818000u)), 0x3F82u); /* tie, odd below: up to even */
    CHECK_EQ_U64(to_bf16(float_of(0x3F808001u)), 0x3F81u); /* just above the tie */
    CHECK_EQ_U64(to_bf16(float_of(0x3F807FFFu)), 0x3F80u); /* just below the tie */
    CHECK_EQ_U64(to_bf16(float_of(0xBF818000u)), 0xBF82u); /* negative: symmetric */
    CHECK_EQ_U64(to_bf16(float_of(0x3FFF8000u)), 0x4000u); /* carry into the exponent */
    CHECK_EQ_U64(to_bf16(1.0f), 0x3F80u);
    CHECK_EQ_U64(to_bf16(-0.0f), 0x8000u);
    CHECK_EQ_U64(to_bf16(0.0f), 0x0000u);
}

TEST(bf16_from_f32_keeps_nan_inf_subnormals_and_rounds_overflow_to_inf) {
    CHECK_EQ_U64(to_bf16(INFINITY), 0x7F80u);
    CHECK_EQ_U64(to_bf16(-INFINITY), 0xFF80u);
    CHECK_EQ_U64(to_bf16(float_of(0x7F800001u)), 0x7FC0u); /* payload cut to zero: still a NaN */
    CHECK_EQ_U64(to_bf16(float_of(0xFF800001u)), 0xFFC0u); /* sign kept */
    CHECK_EQ_U64(to_bf16(float_of(0x7FA00000u)), 0x7FE0u); /* signalling: top payload kept, quiet set */
    CHECK_EQ_U64(to_bf16(float_of(0x7F7FFFFFu)), 0x7F80u); /* FLT_MAX rounds to infinity */
    CHECK_EQ_U64(to_bf16(float_of(0x7F7F7FFFu)), 0x7F7Fu); /* below the halfway point: largest finite */
    CHECK_EQ_U64(to_bf16(float_of(0x7F7F8000u)), 0x7F80u); /* the halfway point ties to even: infinity */
    CHECK_EQ_U64(to_bf16(float_of(0x00010000u)), 0x0001u); /* smallest bf16 subnormal, exact */
    CHECK_EQ_U64(to_bf16(float_of(0x00008000u)), 0x0000u); /* half of it: tie to even zero */
    CHECK_EQ_U64(to_bf16(float_of(0x00018000u)), 0x0002u); /* 1.5 of it: tie up to even */
    CHECK_EQ_U64(to_bf16(float_of(0x00008001u)), 0x0001u); /* above half: up, not flushed */
    CHECK_EQ_U64(to_bf16(float_of(0x00000001u)), 0x0000u); /* smallest f32 subnormal: down to +0 */
    CHECK_EQ_U64(to_bf16(float_of(0x807FFFFFu)), 0x8080u); /* largest f32 subnormal rounds to -2^-126 */
}

TEST(bf16_to_f32_is_exact_and_round_trips_every_pattern) {
    for (uint32_t p = 0; p <= 0xFFFFu; p++) {
        uint16_t h = (uint16_t)p;
        float f = from_bf16(h);
        CHECK_MSG(bits_of(f) == p << 16, "0x%04x widened to 0x%08x", p, bits_of(f));
        bool nan = (p & 0x7F80u) == 0x7F80u && (p & 0x7Fu) != 0;
        if (nan) {
            CHECK_MSG(isnan(from_bf16(to_bf16(f))), "0x%04x: NaN lost", p);
        } else {
            CHECK_MSG(to_bf16(f) == h, "0x%04x did not round-trip", p);
        }
    }
}

TEST(bf16_conversion_error_is_at_most_2_to_minus_8_relative) {
    ct_rng r = {cordon_test_seed()};
    double worst = 0;
    for (int i = 0, n = cordon_test_rounds(200000, 20000); i < n; i++) {
        float x = float_of((uint32_t)ct_range(&r, 0x00800000u, 0x7F7F7FFFu)); /* normal, no overflow */
        double e = fabs((double)from_bf16(to_bf16(x)) - (double)x) / fabs((double)x);
        worst = e > worst ? e : worst;
    }
    printf("measured bf16 rounding: worst relative error %.6g (bound 2^-8 = %.6g)\n", worst, 1.0 / 256.0);
    CHECK(worst <= 1.0 / 256.0);
    CHECK(worst > 1.0 / 512.0); /* the bound is not loose by a factor of 2 */
}

TEST(bf16_conversions_refuse_null_pointers) {
    float f = 1.0f;
    uint16_t h = 0x1234u;
    CHECK_STATUS(cordon_bf16_from_f32(NULL, &f, 1), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_bf16_from_f32(&h, NULL, 1), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_bf16_to_f32(NULL, &h, 1), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_bf16_to_f32(&f, NULL, 1), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_bf16_from_f32(NULL, NULL, 0));
    CHECK_OK(cordon_bf16_to_f32(NULL, NULL, 0));
    CHECK(h == 0x1234u && f == 1.0f);
}

/* ------------------------------------------------------------------------------------------------
 * BF16 tensors */

static cordon_device cpu_device(unsigned threads) {
    return ct_device((ct_cfg){CORDON_ISA_AUTO, threads, CORDON_MATMUL_BUILTIN, false});
}

static cordon_tensor bf16_tensor(cordon_device d, unsigned ndim, const uint64_t *shape) {
    cordon_tensor t = {0};
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_BF16, ndim, shape, &t));
    return t;
}

TEST(bf16_tensor_is_zero_filled_two_bytes_per_element) {
    cordon_device d = cpu_device(1);
    uint64_t sh[2] = {3, 5};
    cordon_tensor t = bf16_tensor(d, 2, sh);
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(t, &info));
    CHECK(info.dtype == CORDON_DTYPE_BF16);
    CHECK_EQ_U64(info.elements, 15);
    CHECK_EQ_U64(info.bytes, 30);
    uint16_t raw[15];
    memset(raw, 0xAB, sizeof raw);
    CHECK_OK(cordon_tensor_read(t, raw, sizeof raw));
    for (int i = 0; i < 15; i++) {
        CHECK(raw[i] == 0);
    }
    CHECK_STATUS(cordon_tensor_read(t, raw, 15 * sizeof(float)), CORDON_SHAPE_MISMATCH);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(bf16_tensor_write_f32_rounds_and_read_f32_widens) {
    cordon_device d = cpu_device(1);
    uint64_t sh[2] = {2, 4};
    cordon_tensor t = bf16_tensor(d, 2, sh);
    const float in[8] = {1.0f, float_of(0x3F818000u), -3.0f, INFINITY, NAN, float_of(0x00018000u), 1e-3f, 65504.0f};
    CHECK_OK(cordon_tensor_write_f32(t, in, 8));
    uint16_t raw[8], want[8];
    CHECK_OK(cordon_tensor_read(t, raw, sizeof raw));
    CHECK_OK(cordon_bf16_from_f32(want, in, 8));
    float back[8];
    CHECK_OK(cordon_tensor_read_f32(t, back, 8));
    for (int i = 0; i < 8; i++) {
        CHECK_MSG(raw[i] == want[i], "element %d: 0x%04x, want 0x%04x", i, raw[i], want[i]);
        CHECK_MSG(bits_of(back[i]) == (uint32_t)want[i] << 16, "element %d widened to 0x%08x", i, bits_of(back[i]));
    }
    /* Raw writes store the bits as given. */
    const uint16_t bits[8] = {0x7F80u, 0xFFC1u, 0x0001u, 0x8000u, 0x3F80u, 0x4049u, 0x7F7Fu, 0xC040u};
    CHECK_OK(cordon_tensor_write(t, bits, sizeof bits));
    CHECK_OK(cordon_tensor_read_f32(t, back, 8));
    for (int i = 0; i < 8; i++) {
        CHECK(bits_of(back[i]) == (uint32_t)bits[i] << 16);
    }
    /* An F32 tensor moves f32 values unchanged through the same calls. */
    cordon_tensor f = ct_t2(d, 2, 4, NULL);
    CHECK_OK(cordon_tensor_write_f32(f, in, 8));
    CHECK_OK(cordon_tensor_read_f32(f, back, 8));
    CHECK(memcmp(back, in, sizeof in) == 0);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(bf16_refused_transfers_change_nothing) {
    cordon_device d = cpu_device(1);
    uint64_t sh[1] = {4};
    cordon_tensor t = bf16_tensor(d, 1, sh);
    const float in[4] = {1, 2, 3, 4};
    CHECK_OK(cordon_tensor_write_f32(t, in, 4));
    const float other[5] = {9, 9, 9, 9, 9};
    float out[5] = {0};
    CHECK_STATUS(cordon_tensor_write_f32(t, other, 5), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_write_f32(t, other, 3), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_write_f32(t, NULL, 4), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_write(t, other, 4 * sizeof(float)), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_read_f32(t, out, 5), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_read_f32(t, NULL, 4), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_write_f32((cordon_tensor){0}, in, 4), CORDON_STALE);
    CHECK_OK(cordon_tensor_read_f32(t, out, 4));
    CHECK(memcmp(out, in, sizeof in) == 0);
    /* A broadcast view cannot be written (its elements share storage). */
    uint64_t bsh[2] = {3, 4}, bst[2] = {0, 1};
    cordon_tensor bc;
    CHECK_OK(cordon_tensor_view(t, 2, bsh, bst, 0, &bc));
    float twelve[12] = {0};
    CHECK_STATUS(cordon_tensor_write_f32(bc, twelve, 12), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_tensor_read_f32(t, out, 4));
    CHECK(memcmp(out, in, sizeof in) == 0);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(bf16_views_and_copies_move_two_byte_elements) {
    cordon_device d = cpu_device(2);
    uint64_t sh[2] = {3, 4};
    cordon_tensor t = bf16_tensor(d, 2, sh);
    float in[12];
    for (int i = 0; i < 12; i++) {
        in[i] = (float)(i + 1);
    }
    CHECK_OK(cordon_tensor_write_f32(t, in, 12));
    cordon_tensor tr, sl;
    CHECK_OK(cordon_tensor_transpose(t, 0, 1, &tr));
    float got[12];
    CHECK_OK(cordon_tensor_read_f32(tr, got, 12));
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++) {
            CHECK(got[i * 3 + j] == in[j * 4 + i]);
        }
    }
    CHECK_OK(cordon_tensor_slice(t, 1, 1, 2, &sl)); /* columns 1 and 2 */
    CHECK_OK(cordon_tensor_read_f32(sl, got, 6));
    for (int i = 0; i < 3; i++) {
        CHECK(got[i * 2] == in[i * 4 + 1] && got[i * 2 + 1] == in[i * 4 + 2]);
    }
    /* Copy a transposed BF16 view into a contiguous BF16 tensor: the bits move, transposed. */
    uint64_t tsh[2] = {4, 3};
    cordon_tensor dst = bf16_tensor(d, 2, tsh);
    CHECK_OK(cordon_tensor_copy(dst, tr));
    uint16_t raw[12], src_raw[12];
    CHECK_OK(cordon_tensor_read(dst, raw, sizeof raw));
    CHECK_OK(cordon_tensor_read(tr, src_raw, sizeof src_raw));
    CHECK(memcmp(raw, src_raw, sizeof raw) == 0);
    /* No conversion by copy: BF16 into F32 is refused and the F32 tensor is unchanged. */
    cordon_tensor f = ct_t2(d, 4, 3, in);
    CHECK_STATUS(cordon_tensor_copy(f, tr), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_tensor_read(f, got, sizeof got));
    CHECK(memcmp(got, in, sizeof in) == 0);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(f16_tensors_are_still_refused) {
    cordon_device d = cpu_device(1);
    uint64_t sh[1] = {4};
    cordon_tensor t = {7};
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F16, 1, sh, &t), CORDON_UNSUPPORTED);
    CHECK_EQ_U64(t.handle, 7);
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * Refusals: every operation but matmul's B */

static bool unchanged(cordon_tensor t, const float *want, size_t n) {
    float *got = ct_read(t);
    bool same = memcmp(got, want, n * sizeof(float)) == 0;
    free(got);
    return same;
}

TEST(every_other_operation_refuses_bf16_operands_and_changes_nothing) {
    cordon_device d = cpu_device(2);
    float init[32];
    for (int i = 0; i < 32; i++) {
        init[i] = 0.25f * (float)(i % 7) - 0.5f;
    }
    uint64_t s2[2] = {4, 8}, s1[1] = {8};
    cordon_tensor y = ct_t2(d, 4, 8, init), x = ct_t2(d, 4, 8, init), w1 = ct_t1(d, 8, init);
    cordon_tensor xb = bf16_tensor(d, 2, s2), wb = bf16_tensor(d, 1, s1);
    CHECK_OK(cordon_tensor_write_f32(xb, init, 32));
    CHECK_OK(cordon_tensor_write_f32(wb, init, 8));
    cordon_softmax_params sp;
    cordon_softmax_params_init(&sp);
    CHECK_STATUS(cordon_softmax(y, xb, &sp), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_softmax(xb, x, &sp), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_softmax_backward(y, x, xb, 1.0f), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_rms_norm(y, x, wb, 1e-5f), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_rms_norm(y, xb, w1, 1e-5f), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_layer_norm(y, x, wb, CORDON_TENSOR_NONE, 1e-5f), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_add(y, x, xb), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_mul(y, xb, x), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_scale(y, xb, 2.0f), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_silu(y, xb), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_gelu(y, xb, CORDON_GELU_ERF), CORDON_UNSUPPORTED);
    CHECK(unchanged(y, init, 32));
    /* LoRA: a BF16 base weight is not taken (only cordon_matmul's B is). */
    uint64_t ws[2] = {8, 8};
    cordon_tensor wbig = bf16_tensor(d, 2, ws), a = ct_t2(d, 8, 2, NULL), bm = ct_t2(d, 2, 8, NULL);
    cordon_lora_params lp = {16.0f, CORDON_LORA_SCALE_STANDARD};
    CHECK_STATUS(cordon_lora_linear(y, x, wbig, CORDON_TENSOR_NONE, a, bm, &lp), CORDON_UNSUPPORTED);
    CHECK(unchanged(y, init, 32));
    /* Attention with BF16 keys. */
    uint64_t q4[4] = {1, 1, 4, 8};
    cordon_tensor q = ct_t4(d, 1, 1, 4, 8, init), out = ct_t4(d, 1, 1, 4, 8, init), kb = bf16_tensor(d, 4, q4);
    cordon_attention_params ap;
    cordon_attention_params_init(&ap);
    CHECK_STATUS(cordon_attention(out, q, kb, q, &ap), CORDON_UNSUPPORTED);
    CHECK(unchanged(out, init, 32));
    /* matmul: only B may be BF16; a BF16 A or C is refused and C keeps its values. */
    cordon_tensor c = ct_t2(d, 4, 4, init), b = ct_t2(d, 8, 4, init);
    uint64_t c2[2] = {4, 4};
    cordon_tensor cb = bf16_tensor(d, 2, c2);
    cordon_matmul_params mp;
    cordon_matmul_params_init(&mp);
    CHECK_STATUS(cordon_matmul(c, xb, b, &mp), CORDON_UNSUPPORTED);
    CHECK(unchanged(c, init, 16));
    uint16_t craw[16];
    CHECK_STATUS(cordon_matmul(cb, x, b, &mp), CORDON_UNSUPPORTED);
    CHECK_OK(cordon_tensor_read(cb, craw, sizeof craw));
    for (int i = 0; i < 16; i++) {
        CHECK(craw[i] == 0);
    }
    /* A BF16 B of the wrong shape is a shape error, C untouched. */
    CHECK_STATUS(cordon_matmul(c, x, wbig, &mp), CORDON_SHAPE_MISMATCH);
    CHECK(unchanged(c, init, 16));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(safetensors_save_refuses_bf16_tensors) {
    cordon_device d = cpu_device(1);
    uint64_t sh[1] = {4};
    cordon_tensor t = bf16_tensor(d, 1, sh);
    cordon_safetensors_item item = {"w", t};
    CHECK_STATUS(cordon_safetensors_save("/nonexistent-dir/never-written.safetensors", &item, 1, NULL, 0, 0),
                 CORDON_UNSUPPORTED);
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * matmul with BF16 weights */

typedef enum b_layout { B_CONTIG = 0, B_TRANSPOSED = 1, B_SLICED = 2 } b_layout;

/* The stored B (shape bsh, right-aligned 4-vector, nd dims) in the given layout and dtype, holding the
 * row-major values `vals` (written through write_f32, so a BF16 B holds them rounded). */
typedef struct b_view {
    cordon_tensor t, parent;
} b_view;

static b_view make_b(cordon_device d, cordon_dtype dt, unsigned nd, const uint64_t *bsh4, b_layout lay,
                     const float *vals) {
    b_view v = {{0}, {0}};
    uint64_t sh[4];
    memcpy(sh, bsh4 + 4 - nd, nd * sizeof *sh);
    uint64_t n = ct_count(nd, sh);
    if (lay == B_CONTIG) {
        CHECK_OK(cordon_tensor_create(d, dt, nd, sh, &v.t));
    } else if (lay == B_TRANSPOSED) {
        uint64_t ps[4];
        memcpy(ps, sh, sizeof ps);
        ps[nd - 1] = sh[nd - 2];
        ps[nd - 2] = sh[nd - 1];
        CHECK_OK(cordon_tensor_create(d, dt, nd, ps, &v.parent));
        CHECK_OK(cordon_tensor_transpose(v.parent, nd - 2, nd - 1, &v.t));
    } else {
        uint64_t ps[4];
        memcpy(ps, sh, sizeof ps);
        ps[nd - 1] += 5;
        CHECK_OK(cordon_tensor_create(d, dt, nd, ps, &v.parent));
        CHECK_OK(cordon_tensor_slice(v.parent, nd - 1, 3, sh[nd - 1], &v.t));
    }
    CHECK_OK(cordon_tensor_write_f32(v.t, vals, (size_t)n));
    return v;
}

static void free_b(b_view *v) {
    ct_destroy(v->t);
    ct_destroy(v->parent);
}

typedef struct bcase {
    uint64_t M, N, K;
    bool ta, tb;
    float alpha, beta;
    b_layout lb;
    unsigned nbatch;     /* 0 or 2 batch dimensions */
    uint64_t ab[2], bb[2], cb[2];
    bool nan_in_c;       /* C0 holds NaN (beta = 0 must not read it) */
} bcase;

/* One product on bf16 weights on `dev`: bit for bit the f32 product on the widened weights (built-in
 * engine; the BLAS engine's bf16 product is checked bit for bit against `builtin`, the same level's
 * built-in device), within TOL_MATMUL of the f64 product of the rounded weights, and within the
 * documented bound of the f64 product of the original f32 weights. */
static void check_bf16_case(cordon_device dev, cordon_device builtin, ct_cfg cfg, ct_rng *r, const bcase *c) {
    unsigned nd = 2 + c->nbatch;
    uint64_t ash[4] = {1, 1, c->ta ? c->K : c->M, c->ta ? c->M : c->K};
    uint64_t bsh[4] = {1, 1, c->tb ? c->N : c->K, c->tb ? c->K : c->N};
    uint64_t csh[4] = {1, 1, c->M, c->N};
    for (unsigned i = 0; i < c->nbatch; i++) {
        ash[i] = c->ab[i];
        bsh[i] = c->bb[i];
        csh[i] = c->cb[i];
    }
    size_t na = (size_t)ct_count(4, ash), nb = (size_t)ct_count(4, bsh), nc = (size_t)ct_count(4, csh);
    float *a = ct_falloc(na), *b = ct_falloc(nb), *bq = ct_falloc(nb), *c0 = ct_falloc(nc);
    ct_fill(r, a, na, -1, 1);
    ct_fill(r, b, nb, -1, 1);
    ct_fill(r, c0, nc, -1, 1);
    if (c->nan_in_c) {
        c0[nc / 2] = NAN;
    }
    uint16_t *h = malloc(nb * sizeof *h);
    CHECK_OK(cordon_bf16_from_f32(h, b, nb));
    CHECK_OK(cordon_bf16_to_f32(bq, h, nb));
    free(h);
    cordon_tensor ta = ct_tensor(dev, nd, ash + 4 - nd, a);
    cordon_tensor c16 = ct_tensor(dev, nd, csh + 4 - nd, c0), c32 = ct_tensor(dev, nd, csh + 4 - nd, c0);
    b_view b16 = make_b(dev, CORDON_DTYPE_BF16, nd, bsh, c->lb, b);
    b_view b32 = make_b(dev, CORDON_DTYPE_F32, nd, bsh, c->lb, bq);
    cordon_matmul_params p = {c->alpha, c->beta, c->ta, c->tb};
    CHECK_OK(cordon_matmul(c16, ta, b16.t, &p));
    CHECK_OK(cordon_matmul(c32, ta, b32.t, &p));
    float *got = ct_read(c16), *want = ct_read(c32);
    char label[160];
    snprintf(label, sizeof label, "%s M%" PRIu64 " N%" PRIu64 " K%" PRIu64 " ta%d tb%d a%g b%g L%d batch%u",
             ct_cfg_name(cfg), c->M, c->N, c->K, c->ta, c->tb, (double)c->alpha, (double)c->beta, c->lb, c->nbatch);
    if (cfg.engine == CORDON_MATMUL_BUILTIN) {
        CT_SAME_BITS(label, got, want, nc);
    } else {
        /* BLAS has no bf16 product: the same level's built-in kernels ran, bit for bit. */
        cordon_tensor a2 = ct_tensor(builtin, nd, ash + 4 - nd, a), cc = ct_tensor(builtin, nd, csh + 4 - nd, c0);
        b_view b2 = make_b(builtin, CORDON_DTYPE_BF16, nd, bsh, c->lb, b);
        CHECK_OK(cordon_matmul(cc, a2, b2.t, &p));
        float *bi = ct_read(cc);
        CT_SAME_BITS(label, got, bi, nc);
        free(bi);
        ct_destroy(a2), ct_destroy(cc), free_b(&b2);
    }
    double *ad = ct_to_f64(a, na), *bqd = ct_to_f64(bq, nb), *bd = ct_to_f64(b, nb);
    double *refq = ct_to_f64(c0, nc), *ref = ct_to_f64(c0, nc), *magq = ct_dalloc(nc), *mag = ct_dalloc(nc);
    ref_matmul(refq, magq, csh, ad, ash, c->ta, bqd, bsh, c->tb, c->alpha, c->beta);
    ref_matmul(ref, mag, csh, ad, ash, c->ta, bd, bsh, c->tb, c->alpha, c->beta);
    CT_CLOSE("bf16 vs rounded weights", label, got, refq, magq, nc, TOL_MATMUL, FLOOR_TINY);
    CT_CLOSE("bf16 vs f32 weights", label, got, ref, mag, nc, TOL_BF16_WEIGHTS, FLOOR_TINY);
    free(a), free(b), free(bq), free(c0), free(got), free(want);
    free(ad), free(bqd), free(bd), free(refq), free(ref), free(magq), free(mag);
    ct_destroy(ta), ct_destroy(c16), ct_destroy(c32);
    free_b(&b16), free_b(&b32);
}

static const bcase bf16_cases[] = {
    /* Decode, M = 1: B (K × N) with contiguous rows (the axpy path) and Wᵀ of a row-major W (dots). */
    {.M = 1, .N = 130, .K = 300, .alpha = 1},
    {.M = 1, .N = 45, .K = 70, .tb = true, .alpha = 1},
    {.M = 1, .N = 77, .K = 1000, .tb = true, .alpha = 0.5f, .beta = 1},
    {.M = 1, .N = 1, .K = 1, .alpha = 1},
    {.M = 1, .N = 17, .K = 7, .tb = true, .lb = B_SLICED, .alpha = 1},
    {.M = 1, .N = 33, .K = 65, .lb = B_TRANSPOSED, .alpha = -1, .beta = 0.5f},
    /* Few rows (skinny, M <= 16) and the packed GEMM (odd sizes, partial tiles, several K slices). */
    {.M = 3, .N = 45, .K = 70, .alpha = 1},
    {.M = 8, .N = 130, .K = 300, .tb = true, .alpha = 1},
    {.M = 8, .N = 130, .K = 300, .alpha = 1},
    {.M = 16, .N = 77, .K = 70, .alpha = -1, .beta = 0.5f},
    {.M = 12, .N = 17, .K = 100, .tb = true, .alpha = 1},
    {.M = 9, .N = 45, .K = 300, .alpha = 1, .beta = 0.25f},
    {.M = 37, .N = 130, .K = 300, .ta = true, .alpha = 1},
    {.M = 37, .N = 61, .K = 520, .tb = true, .lb = B_SLICED, .alpha = 2, .beta = -1},
    /* Two column chunks of the few-row kernels and every tail, the four-row one-row kernels' tails. */
    {.M = 6, .N = 300, .K = 45, .alpha = 1, .beta = 0.5f},
    {.M = 1, .N = 300, .K = 45, .alpha = 1},
    {.M = 1, .N = 13, .K = 300, .tb = true, .lb = B_TRANSPOSED, .alpha = 1},
    {.M = 200, .N = 70, .K = 270, .alpha = 1},
    {.M = 200, .N = 33, .K = 100, .tb = true, .lb = B_TRANSPOSED, .alpha = 1},
    /* Shapes the f32 small-product kernels take (K <= 16, N <= 16): a bf16 B must not reach them. */
    {.M = 20, .N = 40, .K = 12, .alpha = 1},
    {.M = 20, .N = 9, .K = 50, .alpha = 1, .beta = 0.5f},
    {.M = 20, .N = 9, .K = 50, .tb = true, .alpha = 1},
    /* alpha = 0 reads no B; beta = 0 reads no C (a NaN there does not reach the result). */
    {.M = 5, .N = 20, .K = 30, .alpha = 0, .beta = 0.5f},
    {.M = 1, .N = 64, .K = 64, .alpha = 1, .beta = 0, .nan_in_c = true},
    /* Batches: a shared B (folded into one product) and a B per batch broadcast over heads. */
    {.M = 3, .N = 40, .K = 50, .alpha = 1, .nbatch = 2, .ab = {2, 3}, .bb = {1, 1}, .cb = {2, 3}},
    {.M = 1, .N = 40, .K = 50, .tb = true, .alpha = 1, .nbatch = 2, .ab = {2, 3}, .bb = {2, 1}, .cb = {2, 3}},
    {.M = 20, .N = 40, .K = 50, .alpha = 1, .nbatch = 2, .ab = {1, 3}, .bb = {2, 1}, .cb = {2, 3}},
};

TEST(matmul_bf16_weights_match_the_f32_product_of_the_widened_weights_at_every_level) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        cordon_device builtin = {0};
        if (it.cfg.engine == CORDON_MATMUL_BLAS) {
            builtin = ct_device((ct_cfg){it.cfg.isa, it.cfg.threads, CORDON_MATMUL_BUILTIN, false});
        }
        for (size_t i = 0; i < sizeof bf16_cases / sizeof bf16_cases[0]; i++) {
            check_bf16_case(it.dev, builtin, it.cfg, &r, &bf16_cases[i]);
        }
        if (builtin.handle != 0) {
            CHECK_OK(cordon_device_destroy(builtin));
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* The decode shape of the benchmark, K = N = 4096 (one level per run: every level in turn). */
TEST(matmul_bf16_decode_4096_is_within_the_bound_at_every_level) {
    if (cordon_test_slow()) {
        SKIP(cordon_test_emulator() != NULL
                 ? "K = N = 4096 against an f64 reference is too slow under the emulator; the small shapes ran"
                 : "K = N = 4096 against an f64 reference is too slow under valgrind; the small shapes ran");
    }
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED + 1};
        bcase c = {.M = 1, .N = 4096, .K = 4096, .tb = it.cfg.threads == 2, .alpha = 1};
        check_bf16_case(it.dev, it.dev, it.cfg, &r, &c);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(matmul_bf16_weights_are_not_read_when_alpha_is_zero) {
    cordon_device d = cpu_device(1);
    uint64_t bs[2] = {4, 3};
    cordon_tensor b = bf16_tensor(d, 2, bs);
    const float nan4[12] = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    CHECK_OK(cordon_tensor_write_f32(b, nan4, 12));
    const float av[8] = {1, 2, 3, 4, 5, 6, 7, 8}, cv[6] = {1, 2, 3, 4, 5, 6};
    cordon_tensor a = ct_t2(d, 2, 4, av), c = ct_t2(d, 2, 3, cv);
    cordon_matmul_params p = {0.0f, 2.0f, false, false};
    CHECK_OK(cordon_matmul(c, a, b, &p));
    float got[6];
    CHECK_OK(cordon_tensor_read(c, got, sizeof got));
    for (int i = 0; i < 6; i++) {
        CHECK(got[i] == 2.0f * cv[i]);
    }
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * The AVX-512 BF16 feature bit (detected, reported by cordon_device_kinds, not used by the kernels) */

#if defined(__x86_64__)
static bool cpuinfo_has(const char *flag) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) {
        return false;
    }
    char line[8192];
    bool found = false;
    size_t fl = strlen(flag);
    while (!found && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "flags", 5) != 0) {
            continue;
        }
        for (char *p = strstr(line, flag); p != NULL; p = strstr(p + 1, flag)) {
            if ((p == line || p[-1] == ' ') && (p[fl] == ' ' || p[fl] == '\n' || p[fl] == '\0')) {
                found = true;
                break;
            }
        }
    }
    fclose(f);
    return found;
}
#endif

TEST(avx512_bf16_is_reported_exactly_when_the_processor_has_it) {
#if !defined(__x86_64__)
    SKIP("AVX-512 BF16 is an x86-64 feature");
#else
    cordon_device_kind kinds[8];
    size_t n = 0;
    CHECK_OK(cordon_device_kinds(kinds, 8, &n));
    const char *desc = NULL;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (strcmp(kinds[i].name, "cpu") == 0) {
            desc = kinds[i].description;
        }
    }
    CHECK(desc != NULL);
    bool reported = strstr(desc, "+AVX512_BF16") != NULL;
    bool has = cpuinfo_has("avx512_bf16");
    printf("cpu: %s; /proc/cpuinfo avx512_bf16: %s\n", desc, has ? "yes" : "no");
    if (reported) {
        CHECK_MSG(has, "AVX512_BF16 reported but /proc/cpuinfo lacks avx512_bf16");
    }
    cordon_device d = {0};
    cordon_status st = ct_device_create((ct_cfg){CORDON_ISA_AVX512, 1, CORDON_MATMUL_BUILTIN, false}, &d);
    if (st == CORDON_UNSUPPORTED) {
        SKIP("no AVX-512 level here (or valgrind's emulated CPU): the bit is only reported with it");
    }
    CHECK_OK(st);
    CHECK_OK(cordon_device_destroy(d));
    CHECK_MSG(reported == has, "AVX512_BF16: reported %d, /proc/cpuinfo %d", reported, has);
#endif
}
