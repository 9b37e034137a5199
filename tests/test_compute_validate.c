/* SPDX-License-Identifier: Apache-2.0 */
/* Compute operations: every documented refusal returns its status and leaves the output bytes as they
 * were (wrong rank, shape mismatch, mixed devices, stale operands, writing a broadcast view, forbidden
 * aliasing), the allowed in-place forms work and equal the out-of-place result, and in deterministic
 * mode every operation gives bit-identical results for 1, 2, 3 and 4 threads at every level. */
#include "compute_check.h"

static cordon_device dev_make(unsigned threads) {
    ct_cfg c = {CORDON_ISA_AUTO, threads, CORDON_MATMUL_BUILTIN, false};
    return ct_device(c);
}

/* A tensor of the given shape filled with a recognisable pattern. */
static cordon_tensor pat(cordon_device dev, unsigned ndim, const uint64_t *shape, float base) {
    uint64_t n = ct_count(ndim, shape);
    float *p = ct_falloc((size_t)n);
    for (uint64_t i = 0; i < n; i++) p[i] = base + 0.25f * (float)(i % 13) - 1.0f;
    cordon_tensor t = ct_tensor(dev, ndim, shape, p);
    free(p);
    return t;
}
#define P1(dev, a, base) pat(dev, 1, (uint64_t[]){a}, base)
#define P2(dev, a, b, base) pat(dev, 2, (uint64_t[]){a, b}, base)
#define P3(dev, a, b, c, base) pat(dev, 3, (uint64_t[]){a, b, c}, base)
#define P4(dev, a, b, c, d, base) pat(dev, 4, (uint64_t[]){a, b, c, d}, base)

/* expr must return `status` and leave every byte of `watch` (a live tensor: the output, or the
 * storage parent of a view used as output) as it was. */
#define REFUSED(watch, expr, status)                                                                       \
    do {                                                                                                   \
        float *snap_ = ct_read(watch);                                                                     \
        CHECK_STATUS(expr, status);                                                                        \
        float *after_ = ct_read(watch);                                                                    \
        CHECK_MSG(memcmp(snap_, after_, (size_t)ct_elements(watch) * sizeof(float)) == 0,                  \
                  "%s was refused but changed its output", #expr);                                         \
        free(snap_);                                                                                       \
        free(after_);                                                                                      \
    } while (0)

/* A view with stride 0 along dimension 0: every row is the same storage (not writable). */
static cordon_tensor broadcast_rows(cordon_tensor parent, uint64_t rows, uint64_t cols) {
    cordon_tensor v = {0};
    CHECK_OK(cordon_tensor_view(parent, 2, (uint64_t[]){rows, cols}, (uint64_t[]){0, 1}, 0, &v));
    return v;
}

/* A (rows, cols) view of a 1-D parent starting at element `off`. */
static cordon_tensor window(cordon_tensor parent, uint64_t rows, uint64_t cols, uint64_t off) {
    cordon_tensor v = {0};
    CHECK_OK(cordon_tensor_view(parent, 2, (uint64_t[]){rows, cols}, (uint64_t[]){cols, 1}, off, &v));
    return v;
}

/* A tensor that was destroyed (its handle is stale). */
static cordon_tensor stale(cordon_device dev, unsigned ndim, const uint64_t *shape) {
    cordon_tensor t = pat(dev, ndim, shape, 0);
    CHECK_OK(cordon_tensor_destroy(t));
    return t;
}

TEST(matmul_refusals_leave_c_unchanged) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor a = P2(d, 4, 5, 1), b = P2(d, 5, 6, 2), c = P2(d, 4, 6, 3);
    cordon_matmul_params p;
    cordon_matmul_params_init(&p);
    REFUSED(c, cordon_matmul(c, P1(d, 5, 0), b, &p), CORDON_SHAPE_MISMATCH);          /* rank 1 */
    REFUSED(c, cordon_matmul(c, a, P2(d, 4, 6, 0), &p), CORDON_SHAPE_MISMATCH);       /* K differs */
    REFUSED(c, cordon_matmul(c, a, P2(d, 6, 5, 0), &p), CORDON_SHAPE_MISMATCH);       /* K differs, unless trans_b */
    cordon_tensor c3 = P3(d, 3, 4, 6, 0);
    REFUSED(c3, cordon_matmul(c3, P3(d, 2, 4, 5, 0), b, &p), CORDON_SHAPE_MISMATCH);  /* batch 2 vs C's 3 */
    REFUSED(c3, cordon_matmul(c3, a, b, &p), CORDON_SHAPE_MISMATCH);                  /* C batch, no operand's */
    REFUSED(c, cordon_matmul(c, a, P2(d2, 5, 6, 0), &p), CORDON_INVALID_ARGUMENT);    /* mixed devices */
    REFUSED(c, cordon_matmul(c, a, stale(d, 2, (uint64_t[]){5, 6}), &p), CORDON_STALE);
    cordon_tensor bc = broadcast_rows(c, 4, 6);
    REFUSED(c, cordon_matmul(bc, a, b, &p), CORDON_INVALID_ARGUMENT);                 /* broadcast output */
    cordon_tensor sq = P2(d, 5, 5, 1), sb = P2(d, 5, 5, 2);
    REFUSED(sq, cordon_matmul(sq, sq, sb, &p), CORDON_INVALID_ARGUMENT);              /* C is A */
    REFUSED(sq, cordon_matmul(sq, sb, sq, &p), CORDON_INVALID_ARGUMENT);              /* C is B */
    cordon_tensor flat = P1(d, 60, 1), left = window(flat, 5, 5, 0), right = window(flat, 5, 5, 20);
    REFUSED(flat, cordon_matmul(right, left, sb, &p), CORDON_INVALID_ARGUMENT);       /* overlapping spans */
    p.trans_b = true;
    CHECK_OK(cordon_matmul(c, a, P2(d, 6, 5, 0), &p));                                 /* the transposed form fits */
    CHECK_OK(cordon_matmul(c, a, b, NULL));                                            /* NULL params: defaults */
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(softmax_refusals_leave_y_unchanged_and_in_place_works) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor x = P2(d, 4, 7, 1), y = P2(d, 4, 7, 2), m = P2(d, 4, 7, 0);
    cordon_softmax_params p;
    cordon_softmax_params_init(&p);
    REFUSED(y, cordon_softmax(P2(d, 4, 8, 0), x, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_softmax(P3(d, 1, 4, 7, 0), x, &p), CORDON_SHAPE_MISMATCH);   /* rank differs */
    p.mask = P2(d, 4, 3, 0);
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_SHAPE_MISMATCH);                   /* mask not broadcastable */
    p.mask = P3(d, 2, 4, 7, 0);
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_SHAPE_MISMATCH);                   /* mask of higher rank */
    p.mask = P2(d2, 4, 7, 0);
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_INVALID_ARGUMENT);                 /* mixed devices */
    p.mask = stale(d, 2, (uint64_t[]){4, 7});
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_STALE);
    p.mask = m;
    REFUSED(m, cordon_softmax(m, x, &p), CORDON_INVALID_ARGUMENT);                 /* y is the mask */
    p.mask = CORDON_TENSOR_NONE;
    p.scale = NAN;
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_INVALID_ARGUMENT);
    p.scale = INFINITY;
    REFUSED(y, cordon_softmax(y, x, &p), CORDON_INVALID_ARGUMENT);
    p.scale = 0.5f;
    REFUSED(y, cordon_softmax(broadcast_rows(y, 4, 7), x, &p), CORDON_INVALID_ARGUMENT);
    cordon_tensor flat = P1(d, 40, 1);
    REFUSED(flat, cordon_softmax(window(flat, 4, 7, 3), window(flat, 4, 7, 0), &p), CORDON_INVALID_ARGUMENT);
    /* In place equals out of place. */
    CHECK_OK(cordon_softmax(y, x, &p));
    CHECK_OK(cordon_softmax(x, x, &p));
    float *a = ct_read(y), *b = ct_read(x);
    CT_SAME_BITS("softmax in place", a, b, 28);
    free(a), free(b);
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(softmax_backward_refusals_and_in_place_on_dy) {
    cordon_device d = dev_make(1);
    cordon_tensor y = P2(d, 3, 9, 0.1f), dy = P2(d, 3, 9, 1), dx = P2(d, 3, 9, 2);
    REFUSED(dx, cordon_softmax_backward(dx, y, P2(d, 3, 8, 0), 1.0f), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_softmax_backward(dx, P2(d, 9, 3, 0), dy, 1.0f), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_softmax_backward(dx, y, dy, NAN), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_softmax_backward(y, y, dy, 1.0f), CORDON_INVALID_ARGUMENT);   /* dx may not be y */
    REFUSED(dx, cordon_softmax_backward(broadcast_rows(dx, 3, 9), y, dy, 1.0f), CORDON_INVALID_ARGUMENT);
    REFUSED(dx, cordon_softmax_backward(dx, y, stale(d, 2, (uint64_t[]){3, 9}), 1.0f), CORDON_STALE);
    CHECK_OK(cordon_softmax_backward(dx, y, dy, 0.5f));
    CHECK_OK(cordon_softmax_backward(dy, y, dy, 0.5f));
    float *a = ct_read(dx), *b = ct_read(dy);
    CT_SAME_BITS("softmax_backward in place", a, b, 27);
    free(a), free(b);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(norm_refusals_leave_y_unchanged_and_in_place_works) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor x = P2(d, 3, 8, 1), y = P2(d, 3, 8, 2), w = P1(d, 8, 1), b = P1(d, 8, 0);
    REFUSED(y, cordon_rms_norm(y, x, P1(d, 9, 1), 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_rms_norm(y, x, P2(d, 1, 8, 1), 1e-5f), CORDON_SHAPE_MISMATCH);  /* weight must be 1-D */
    REFUSED(y, cordon_rms_norm(y, x, CORDON_TENSOR_NONE, 1e-5f), CORDON_STALE);      /* weight required */
    REFUSED(y, cordon_rms_norm(P2(d, 3, 9, 0), x, w, 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_rms_norm(y, x, w, -1e-5f), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_rms_norm(y, x, w, NAN), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_rms_norm(y, x, P1(d2, 8, 1), 1e-5f), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_rms_norm(y, stale(d, 2, (uint64_t[]){3, 8}), w, 1e-5f), CORDON_STALE);
    REFUSED(y, cordon_rms_norm(broadcast_rows(y, 3, 8), x, w, 1e-5f), CORDON_INVALID_ARGUMENT);
    cordon_tensor wy = P1(d, 24, 1), wview = {0};
    CHECK_OK(cordon_tensor_view(wy, 1, (uint64_t[]){8}, (uint64_t[]){1}, 0, &wview));
    REFUSED(wy, cordon_rms_norm(window(wy, 3, 8, 0), x, wview, 1e-5f), CORDON_INVALID_ARGUMENT); /* y overlaps weight */
    REFUSED(y, cordon_layer_norm(y, x, P1(d, 7, 1), b, 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_layer_norm(y, x, w, P1(d, 9, 0), 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_layer_norm(y, x, w, b, INFINITY), CORDON_INVALID_ARGUMENT);
    REFUSED(b, cordon_layer_norm(window(b, 1, 8, 0), P2(d, 1, 8, 0), w, b, 1e-5f), CORDON_INVALID_ARGUMENT);
    /* In place (y is x) equals out of place. */
    cordon_tensor x2 = P2(d, 3, 8, 1);
    CHECK_OK(cordon_rms_norm(y, x, w, 1e-5f));
    CHECK_OK(cordon_rms_norm(x2, x2, w, 1e-5f));
    float *u = ct_read(y), *v = ct_read(x2);
    CT_SAME_BITS("rms_norm in place", u, v, 24);
    free(u), free(v);
    cordon_tensor x3 = P2(d, 3, 8, 1);
    CHECK_OK(cordon_layer_norm(y, x, w, b, 1e-5f));
    CHECK_OK(cordon_layer_norm(x3, x3, w, b, 1e-5f));
    u = ct_read(y), v = ct_read(x3);
    CT_SAME_BITS("layer_norm in place", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(norm_backward_refusals_and_in_place_on_dy) {
    cordon_device d = dev_make(1);
    cordon_tensor x = P2(d, 3, 8, 1), dy = P2(d, 3, 8, 0.5f), dx = P2(d, 3, 8, 2), w = P1(d, 8, 1);
    cordon_tensor dw = P1(d, 8, 3), db = P1(d, 8, 4);
    REFUSED(dw, cordon_rms_norm_backward(dx, P1(d, 9, 0), dy, x, w, 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_rms_norm_backward(dx, dw, P2(d, 3, 7, 0), x, w, 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_rms_norm_backward(dx, dw, dy, x, w, -1.0f), CORDON_INVALID_ARGUMENT);
    REFUSED(x, cordon_rms_norm_backward(x, dw, dy, x, w, 1e-5f), CORDON_INVALID_ARGUMENT);   /* dx may not be x */
    REFUSED(w, cordon_rms_norm_backward(dx, w, dy, x, w, 1e-5f), CORDON_INVALID_ARGUMENT);   /* dweight is weight */
    REFUSED(dx, cordon_rms_norm_backward(dx, dw, dy, x, stale(d, 1, (uint64_t[]){8}), 1e-5f), CORDON_STALE);
    REFUSED(dw, cordon_layer_norm_backward(dx, dw, dw, dy, x, w, 1e-5f), CORDON_INVALID_ARGUMENT); /* dgamma is dbeta */
    REFUSED(db, cordon_layer_norm_backward(dx, dw, P1(d, 7, 0), dy, x, w, 1e-5f), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_layer_norm_backward(dx, dw, db, dy, x, P1(d, 9, 1), 1e-5f), CORDON_SHAPE_MISMATCH);
    cordon_tensor flat = P1(d, 40, 1);
    REFUSED(flat, cordon_layer_norm_backward(window(flat, 3, 8, 0), CORDON_TENSOR_NONE, CORDON_TENSOR_NONE,
                                             window(flat, 3, 8, 8), x, w, 1e-5f), CORDON_INVALID_ARGUMENT);
    /* dx may be dy, with the same result. */
    cordon_tensor dy2 = P2(d, 3, 8, 0.5f), dy3 = P2(d, 3, 8, 0.5f);
    CHECK_OK(cordon_rms_norm_backward(dx, dw, dy, x, w, 1e-5f));
    CHECK_OK(cordon_rms_norm_backward(dy2, CORDON_TENSOR_NONE, dy2, x, w, 1e-5f));
    float *u = ct_read(dx), *v = ct_read(dy2);
    CT_SAME_BITS("rms_norm_backward in place", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_layer_norm_backward(dx, dw, db, dy, x, w, 1e-5f));
    CHECK_OK(cordon_layer_norm_backward(dy3, CORDON_TENSOR_NONE, CORDON_TENSOR_NONE, dy3, x, w, 1e-5f));
    u = ct_read(dx), v = ct_read(dy3);
    CT_SAME_BITS("layer_norm_backward in place", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(attention_refusals_leave_outputs_unchanged) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor q = P4(d, 1, 4, 3, 8, 1), k = P4(d, 1, 2, 5, 8, 0.5f), v = P4(d, 1, 2, 5, 6, 0);
    cordon_tensor o = P4(d, 1, 4, 3, 6, 2);
    cordon_attention_params p;
    cordon_attention_params_init(&p);
    REFUSED(o, cordon_attention(o, q, P4(d, 1, 3, 5, 8, 0), P4(d, 1, 3, 5, 6, 0), &p), CORDON_SHAPE_MISMATCH); /* 4 % 3 */
    REFUSED(o, cordon_attention(o, q, P4(d, 1, 2, 5, 7, 0), v, &p), CORDON_SHAPE_MISMATCH);   /* D differs */
    REFUSED(o, cordon_attention(o, q, k, P4(d, 1, 2, 4, 6, 0), &p), CORDON_SHAPE_MISMATCH);   /* Tk differs */
    REFUSED(o, cordon_attention(o, q, k, P4(d, 2, 2, 5, 6, 0), &p), CORDON_SHAPE_MISMATCH);   /* batch differs */
    REFUSED(o, cordon_attention(P4(d, 1, 4, 3, 5, 0), q, k, v, &p), CORDON_SHAPE_MISMATCH);   /* out's Dv */
    REFUSED(o, cordon_attention(o, P2(d, 3, 8, 0), k, v, &p), CORDON_SHAPE_MISMATCH);         /* rank 2 */
    p.mask = P2(d, 3, 4, 0);
    REFUSED(o, cordon_attention(o, q, k, v, &p), CORDON_SHAPE_MISMATCH);                      /* mask Tk */
    p.mask = P2(d2, 3, 5, 0);
    REFUSED(o, cordon_attention(o, q, k, v, &p), CORDON_INVALID_ARGUMENT);
    p.mask = CORDON_TENSOR_NONE;
    p.scale = NAN;
    REFUSED(o, cordon_attention(o, q, k, v, &p), CORDON_INVALID_ARGUMENT);
    p.scale = 0.0f;
    REFUSED(o, cordon_attention(o, q, stale(d, 4, (uint64_t[]){1, 2, 5, 8}), v, &p), CORDON_STALE);
    cordon_tensor q6 = P4(d, 1, 4, 3, 6, 1), k6 = P4(d, 1, 2, 5, 6, 0.5f);
    REFUSED(q6, cordon_attention(q6, q6, k6, v, &p), CORDON_INVALID_ARGUMENT);                /* out is q */
    /* Backward */
    cordon_tensor dq = P4(d, 1, 4, 3, 8, 3), dk = P4(d, 1, 2, 5, 8, 4), dv = P4(d, 1, 2, 5, 6, 5);
    cordon_tensor go = P4(d, 1, 4, 3, 6, 1);
    REFUSED(dq, cordon_attention_backward(dq, dk, P4(d, 1, 2, 5, 7, 0), go, q, k, v, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(dq, cordon_attention_backward(P4(d, 1, 4, 3, 7, 0), dk, dv, go, q, k, v, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(dq, cordon_attention_backward(dq, dk, dv, P4(d, 1, 4, 3, 5, 0), q, k, v, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(go, cordon_attention_backward(dq, dk, go, go, q6, k6, P4(d, 1, 2, 5, 6, 0), &p), CORDON_SHAPE_MISMATCH);
    cordon_tensor dk6 = P4(d, 1, 2, 5, 6, 4), v6 = P4(d, 1, 2, 5, 6, 0), dq6 = P4(d, 1, 4, 3, 6, 0);
    REFUSED(dk6, cordon_attention_backward(dq6, dk6, dk6, q6, q6, k6, v6, &p), CORDON_INVALID_ARGUMENT); /* dk is dv */
    REFUSED(q6, cordon_attention_backward(q6, dk6, P4(d, 1, 2, 5, 6, 0), go, q6, k6, v6, &p), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_attention(o, q, k, v, NULL));
    CHECK_OK(cordon_attention_backward(dq, dk, dv, go, q, k, v, NULL));
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(lora_refusals_leave_outputs_unchanged) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor x = P2(d, 4, 6, 1), w = P2(d, 6, 5, 0.5f), a = P2(d, 6, 2, 0), b = P2(d, 2, 5, 0.25f);
    cordon_tensor y = P2(d, 4, 5, 3), bias = P1(d, 5, 0);
    cordon_lora_params p = {4.0f, CORDON_LORA_SCALE_STANDARD};
    cordon_lora_params bad = {4.0f, (cordon_lora_scaling)0};
    REFUSED(y, cordon_lora_linear(y, x, w, bias, a, b, &bad), CORDON_INVALID_ARGUMENT);        /* scaling unnamed */
    REFUSED(y, cordon_lora_linear(y, x, w, bias, a, b, NULL), CORDON_INVALID_ARGUMENT);
    bad = (cordon_lora_params){NAN, CORDON_LORA_SCALE_RSLORA};
    REFUSED(y, cordon_lora_linear(y, x, w, bias, a, b, &bad), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_lora_linear(y, x, P3(d, 1, 6, 5, 0), bias, a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_lora_linear(y, x, w, bias, P2(d, 7, 2, 0), b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_lora_linear(y, x, w, bias, a, P2(d, 3, 5, 0), &p), CORDON_SHAPE_MISMATCH);  /* rank differs */
    REFUSED(y, cordon_lora_linear(y, x, w, P1(d, 4, 0), a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_lora_linear(P2(d, 3, 5, 0), x, w, bias, a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_lora_linear(y, x, w, bias, a, P2(d2, 2, 5, 0), &p), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_lora_linear(y, x, w, bias, stale(d, 2, (uint64_t[]){6, 2}), b, &p), CORDON_STALE);
    REFUSED(y, cordon_lora_linear(broadcast_rows(y, 4, 5), x, w, bias, a, b, &p), CORDON_INVALID_ARGUMENT);
    cordon_tensor sq = P2(d, 5, 5, 1), w55 = P2(d, 5, 5, 0), a52 = P2(d, 5, 2, 0);
    REFUSED(sq, cordon_lora_linear(sq, sq, w55, CORDON_TENSOR_NONE, a52, b, &p), CORDON_INVALID_ARGUMENT); /* y is x */
    /* Backward */
    cordon_tensor dx = P2(d, 4, 6, 1), da = P2(d, 6, 2, 2), db = P2(d, 2, 5, 3), dy = P2(d, 4, 5, 0.5f);
    REFUSED(da, cordon_lora_linear_backward(dx, P2(d, 6, 3, 0), db, dy, x, w, a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(db, cordon_lora_linear_backward(dx, da, P2(d, 5, 2, 0), dy, x, w, a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(dx, cordon_lora_linear_backward(P2(d, 4, 5, 0), da, db, dy, x, w, a, b, &p), CORDON_SHAPE_MISMATCH);
    REFUSED(a, cordon_lora_linear_backward(dx, a, db, dy, x, w, a, b, &p), CORDON_INVALID_ARGUMENT);  /* dA is A */
    REFUSED(da, cordon_lora_linear_backward(dx, da, db, dy, x, w, a, b, &bad), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_lora_linear_backward(CORDON_TENSOR_NONE, da, db, dy, x, w, a, b, &p)); /* dx optional */
    /* Merge */
    cordon_tensor wo = P2(d, 6, 5, 9);
    REFUSED(wo, cordon_lora_merge(wo, w, a, P2(d, 2, 4, 0), &p), CORDON_SHAPE_MISMATCH);
    REFUSED(wo, cordon_lora_merge(P2(d, 5, 6, 0), w, a, b, &p), CORDON_SHAPE_MISMATCH);
    cordon_tensor flat = P1(d, 60, 1);
    REFUSED(flat, cordon_lora_merge(window(flat, 6, 5, 0), w, window(flat, 6, 2, 20), b, &p), CORDON_INVALID_ARGUMENT);
    cordon_tensor w2 = P2(d, 6, 5, 0.5f);
    CHECK_OK(cordon_lora_merge(wo, w, a, b, &p));
    CHECK_OK(cordon_lora_merge(w2, w2, a, b, &p)); /* in place */
    float *u = ct_read(wo), *v = ct_read(w2);
    CT_SAME_BITS("lora_merge in place", u, v, 30);
    free(u), free(v);
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(elementwise_refusals_leave_y_unchanged_and_in_place_works) {
    cordon_device d = dev_make(1), d2 = dev_make(1);
    cordon_tensor a = P2(d, 3, 8, 1), b = P1(d, 8, 2), y = P2(d, 3, 8, 3);
    REFUSED(y, cordon_add(y, a, P1(d, 7, 0)), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_add(P2(d, 1, 8, 0), a, b), CORDON_SHAPE_MISMATCH);                /* y not the broadcast shape */
    REFUSED(y, cordon_mul(P3(d, 2, 3, 8, 0), a, b), CORDON_SHAPE_MISMATCH);             /* y larger than it */
    REFUSED(y, cordon_mul(y, a, P3(d, 1, 3, 8, 0)), CORDON_SHAPE_MISMATCH);             /* operand of higher rank */
    REFUSED(y, cordon_add(y, a, P1(d2, 8, 0)), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_add(y, stale(d, 2, (uint64_t[]){3, 8}), b), CORDON_STALE);
    REFUSED(y, cordon_add(broadcast_rows(y, 3, 8), a, b), CORDON_INVALID_ARGUMENT);
    cordon_tensor flat = P1(d, 40, 1);
    REFUSED(flat, cordon_add(window(flat, 3, 8, 1), window(flat, 3, 8, 0), b), CORDON_INVALID_ARGUMENT); /* shifted */
    cordon_tensor b2 = P2(d, 3, 8, 0);
    REFUSED(b2, cordon_add(b2, a, window(b2, 1, 8, 0)), CORDON_INVALID_ARGUMENT);      /* y overlaps a broadcast b */
    REFUSED(y, cordon_scale(y, a, NAN), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_scale(y, a, INFINITY), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_silu(y, P2(d, 8, 3, 0)), CORDON_SHAPE_MISMATCH);
    REFUSED(y, cordon_silu_backward(y, a, P1(d, 8, 0)), CORDON_SHAPE_MISMATCH);         /* no broadcast in gradients */
    REFUSED(y, cordon_gelu(y, a, (cordon_gelu_mode)0), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_gelu(y, stale(d, 2, (uint64_t[]){3, 8}), (cordon_gelu_mode)0), CORDON_STALE); /* handles first */
    REFUSED(y, cordon_gelu_backward(y, a, a, (cordon_gelu_mode)7), CORDON_INVALID_ARGUMENT);
    /* In place on either full-shape input equals out of place. */
    cordon_tensor a2 = P2(d, 3, 8, 1), c = P2(d, 3, 8, -2), c2 = P2(d, 3, 8, -2);
    CHECK_OK(cordon_add(y, a, b));
    CHECK_OK(cordon_add(a2, a2, b));
    float *u = ct_read(y), *v = ct_read(a2);
    CT_SAME_BITS("add in place", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_mul(y, a, c));
    CHECK_OK(cordon_mul(c2, a, c2));
    u = ct_read(y), v = ct_read(c2);
    CT_SAME_BITS("mul in place on b", u, v, 24);
    free(u), free(v);
    cordon_tensor x3 = P2(d, 3, 8, -2);
    CHECK_OK(cordon_silu_backward(y, a, c));
    CHECK_OK(cordon_silu_backward(x3, a, x3)); /* dx is x */
    u = ct_read(y), v = ct_read(x3);
    CT_SAME_BITS("silu_backward in place on x", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_device_destroy(d2));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(rope_refusals_leave_y_unchanged_and_in_place_works) {
    cordon_device d = dev_make(1);
    cordon_tensor x = P2(d, 3, 8, 1), y = P2(d, 3, 8, 2);
    cordon_rope_params p = {CORDON_ROPE_HALF, 10000.0f, 2};
    REFUSED(y, cordon_rope(y, x, NULL), CORDON_INVALID_ARGUMENT);
    cordon_tensor x7 = P2(d, 3, 7, 0), y7 = P2(d, 3, 7, 0);
    REFUSED(y7, cordon_rope(y7, x7, &p), CORDON_SHAPE_MISMATCH);                          /* odd D */
    cordon_tensor x1 = P1(d, 8, 0), y1 = P1(d, 8, 0);
    REFUSED(y1, cordon_rope(y1, x1, &p), CORDON_SHAPE_MISMATCH);                          /* rank 1 */
    REFUSED(y, cordon_rope(P2(d, 3, 6, 0), x, &p), CORDON_SHAPE_MISMATCH);
    cordon_rope_params q = p;
    q.layout = (cordon_rope_layout)3;
    REFUSED(y, cordon_rope(y, x, &q), CORDON_INVALID_ARGUMENT);
    q = p, q.base = 0.0f;
    REFUSED(y, cordon_rope(y, x, &q), CORDON_INVALID_ARGUMENT);
    q = p, q.base = -2.0f;
    REFUSED(y, cordon_rope_backward(y, x, &q), CORDON_INVALID_ARGUMENT);
    q = p, q.base = NAN;
    REFUSED(y, cordon_rope(y, x, &q), CORDON_INVALID_ARGUMENT);
    q = p, q.position0 = (UINT64_C(1) << 53) + 1;
    REFUSED(y, cordon_rope(y, x, &q), CORDON_INVALID_ARGUMENT);
    REFUSED(y, cordon_rope(y, stale(d, 2, (uint64_t[]){3, 8}), &p), CORDON_STALE);
    REFUSED(y, cordon_rope(broadcast_rows(y, 3, 8), x, &p), CORDON_INVALID_ARGUMENT);
    cordon_tensor flat = P1(d, 40, 1);
    REFUSED(flat, cordon_rope(window(flat, 3, 8, 2), window(flat, 3, 8, 0), &p), CORDON_INVALID_ARGUMENT);
    cordon_tensor x2 = P2(d, 3, 8, 1);
    CHECK_OK(cordon_rope(y, x, &p));
    CHECK_OK(cordon_rope(x2, x2, &p));
    float *u = ct_read(y), *v = ct_read(x2);
    CT_SAME_BITS("rope in place", u, v, 24);
    free(u), free(v);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(deterministic_device_refuses_blas) {
    ct_cfg c = {CORDON_ISA_AUTO, 2, CORDON_MATMUL_BLAS, true};
    cordon_device dev = {0};
    CHECK_STATUS(ct_device_create(c, &dev), CORDON_WRONG_STATE);
    CHECK(dev.handle == 0);
}

/* ------------------------------------------------------------------------------------------------
 * Deterministic mode: every op bit-identical for 1, 2, 3 and 4 threads, at every level. */

enum { DET_OUTS = 32 };

typedef struct det_run {
    float *out[DET_OUTS];
    size_t n[DET_OUTS];
    unsigned count;
} det_run;

static void keep(det_run *run, cordon_tensor t) {
    run->n[run->count] = (size_t)ct_elements(t);
    run->out[run->count++] = ct_read(t);
}

static cordon_tensor pat_from(cordon_device dev, const float *buf, const uint64_t *shape, size_t ndim) {
    return ct_tensor(dev, (unsigned)ndim, shape, buf);
}

/* Every operation at shapes large enough to be split across threads. */
static void det_all_ops(cordon_device dev, det_run *run) {
    ct_rng r = {0xde7e};
    uint64_t M = 70, N = 150, K = 300;
    float *buf = ct_falloc(200000);
#define FILLED(...) (ct_fill(&r, buf, 200000, -1, 1), pat_from(dev, buf, (uint64_t[]){__VA_ARGS__}, \
                     sizeof((uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t)))
    cordon_tensor a = FILLED(M, K), b = FILLED(K, N), c = FILLED(M, N), g1 = FILLED(1, K), gy = FILLED(1, N);
    cordon_matmul_params mp = {1.0f, 0.5f, false, false};
    CHECK_OK(cordon_matmul(c, a, b, &mp));
    keep(run, c);
    CHECK_OK(cordon_matmul(gy, g1, b, &mp));
    keep(run, gy);
    cordon_tensor x = FILLED(130, 400), y = FILLED(130, 400), dy = FILLED(130, 400), w = FILLED(400), bb = FILLED(400);
    cordon_tensor dw = FILLED(400), db = FILLED(400);
    cordon_softmax_params sp;
    cordon_softmax_params_init(&sp);
    sp.causal = true;
    CHECK_OK(cordon_softmax(y, x, &sp));
    keep(run, y);
    CHECK_OK(cordon_softmax_backward(dy, y, dy, 1.0f)); /* in place */
    keep(run, dy);
    CHECK_OK(cordon_rms_norm(y, x, w, 1e-5f));
    keep(run, y);
    CHECK_OK(cordon_rms_norm_backward(y, dw, dy, x, w, 1e-5f));
    keep(run, y), keep(run, dw);
    CHECK_OK(cordon_layer_norm(y, x, w, bb, 1e-5f));
    keep(run, y);
    CHECK_OK(cordon_layer_norm_backward(y, dw, db, dy, x, w, 1e-5f));
    keep(run, y), keep(run, dw), keep(run, db);
    cordon_tensor q = FILLED(1, 4, 40, 32), k = FILLED(1, 2, 50, 32), v = FILLED(1, 2, 50, 24), o = FILLED(1, 4, 40, 24);
    cordon_tensor dq = FILLED(1, 4, 40, 32), dk = FILLED(1, 2, 50, 32), dv = FILLED(1, 2, 50, 24);
    cordon_attention_params ap;
    cordon_attention_params_init(&ap);
    ap.causal = true;
    CHECK_OK(cordon_attention(o, q, k, v, &ap));
    keep(run, o);
    CHECK_OK(cordon_attention_backward(dq, dk, dv, o, q, k, v, &ap));
    keep(run, dq), keep(run, dk), keep(run, dv);
    cordon_tensor lx = FILLED(2, 60, 100), lw = FILLED(100, 90), la = FILLED(100, 8), lb = FILLED(8, 90);
    cordon_tensor ly = FILLED(2, 60, 90), lbias = FILLED(90), ldx = FILLED(2, 60, 100), lda = FILLED(100, 8),
                  ldb = FILLED(8, 90);
    cordon_lora_params lp = {16.0f, CORDON_LORA_SCALE_STANDARD};
    CHECK_OK(cordon_lora_linear(ly, lx, lw, lbias, la, lb, &lp));
    keep(run, ly);
    CHECK_OK(cordon_lora_linear_backward(ldx, lda, ldb, ly, lx, lw, la, lb, &lp));
    keep(run, ldx), keep(run, lda), keep(run, ldb);
    CHECK_OK(cordon_lora_merge(lw, lw, la, lb, &lp));
    keep(run, lw);
    CHECK_OK(cordon_add(y, x, w));
    keep(run, y);
    CHECK_OK(cordon_mul(y, x, dy));
    keep(run, y);
    CHECK_OK(cordon_scale(y, x, 0.3f));
    keep(run, y);
    CHECK_OK(cordon_silu(y, x));
    keep(run, y);
    CHECK_OK(cordon_silu_backward(y, dy, x));
    keep(run, y);
    CHECK_OK(cordon_gelu(y, x, CORDON_GELU_ERF));
    keep(run, y);
    CHECK_OK(cordon_gelu_backward(y, dy, x, CORDON_GELU_TANH));
    keep(run, y);
    cordon_rope_params rp = {CORDON_ROPE_INTERLEAVED, 10000.0f, 9};
    CHECK_OK(cordon_rope(y, x, &rp));
    keep(run, y);
    free(buf);
#undef FILLED
}

TEST(deterministic_mode_is_bit_identical_for_1_2_3_4_threads) {
    static const cordon_isa isas[4] = {CORDON_ISA_SCALAR, CORDON_ISA_AVX2, CORDON_ISA_AVX512, CORDON_ISA_NEON};
    char skipped[128] = "";
    for (int i = 0; i < 4; i++) {
        det_run runs[4];
        memset(runs, 0, sizeof runs);
        bool available = true;
        for (unsigned t = 1; t <= 4 && available; t++) {
            ct_cfg c = {isas[i], t, CORDON_MATMUL_AUTO, true};
            cordon_device dev = {0};
            cordon_status st = ct_device_create(c, &dev);
            if (st == CORDON_UNSUPPORTED) {
                fprintf(stderr, "compute test: SKIPPING level %s: the CPU lacks it\n", cordon_isa_name(isas[i]));
                snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), " %s", cordon_isa_name(isas[i]));
                available = false;
                break;
            }
            CHECK_OK(st);
            det_all_ops(dev, &runs[t - 1]);
            CHECK_OK(cordon_device_destroy(dev));
        }
        if (!available) continue;
        for (unsigned t = 2; t <= 4; t++) {
            CHECK_EQ_U64(runs[t - 1].count, runs[0].count);
            for (unsigned o = 0; o < runs[0].count; o++) {
                char label[96];
                snprintf(label, sizeof label, "%s: output %u, threads 1 vs %u", cordon_isa_name(isas[i]), o, t);
                CT_SAME_BITS(label, runs[0].out[o], runs[t - 1].out[o], runs[0].n[o]);
            }
        }
        for (unsigned t = 0; t < 4; t++)
            for (unsigned o = 0; o < runs[t].count; o++) free(runs[t].out[o]);
    }
    if (skipped[0] != '\0') {
        /* compute_ops.isa_<level>_is_exercised reports the level SKIPPED. */
        fprintf(stderr, "compute test: every available level passed; NOT RUN:%s\n", skipped);
    }
}
