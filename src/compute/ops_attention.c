/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — scaled dot-product attention, forward and backward: describe, validate, dispatch (ops.h). */
#include <math.h>

#include "cordon/ops.h"

#include "compute/ops_internal.h"

void cordon_attention_params_init(cordon_attention_params *p) {
    if (p != NULL) {
        *p = (cordon_attention_params){.scale = 0.0f, .causal = false, .mask = CORDON_TENSOR_NONE};
    }
}

/* Shapes of q (B, Hq, Tq, D), k (B, Hkv, Tk, D), v (B, Hkv, Tk, Dv), out (B, Hq, Tq, Dv), mask. */
static cordon_status check_shapes(const cordon__attention_desc *d, const cordon__view *out) {
    const cordon__view *q = &d->q, *k = &d->k, *v = &d->v;
    if (q->ndim < 3 || k->ndim < 3 || v->ndim < 3 || out->ndim < 3) {
        return CORDON_SHAPE_MISMATCH;
    }
    if (k->shape[0] != q->shape[0] || k->shape[3] != q->shape[3] || k->shape[1] == 0 ||
        q->shape[1] % k->shape[1] != 0 || v->shape[0] != k->shape[0] || v->shape[1] != k->shape[1] ||
        v->shape[2] != k->shape[2]) {
        return CORDON_SHAPE_MISMATCH;
    }
    if (out->shape[0] != q->shape[0] || out->shape[1] != q->shape[1] || out->shape[2] != q->shape[2] ||
        out->shape[3] != v->shape[3]) {
        return CORDON_SHAPE_MISMATCH;
    }
    if (d->mask.present) {
        cordon__view target = d->q;
        target.ndim = 4;
        target.shape[3] = k->shape[2];
        return cordon__check_broadcast(&d->mask, &target);
    }
    return CORDON_OK;
}

static cordon_status resolve(const cordon_attention_params *p, uint64_t dim, float *scale) {
    if (!cordon__finite(p->scale)) {
        return CORDON_INVALID_ARGUMENT;
    }
    *scale = p->scale != 0.0f ? p->scale : (float)(1.0 / sqrt((double)dim));
    return CORDON_OK;
}

cordon_status cordon_attention(cordon_tensor out, cordon_tensor q, cordon_tensor k, cordon_tensor v,
                               const cordon_attention_params *p) {
    cordon_attention_params prm;
    cordon_attention_params_init(&prm);
    if (p != NULL) {
        prm = *p;
    }
    cordon__operands ops;
    cordon_tensor list[5] = {out, q, k, v, prm.mask};
    cordon_status st = cordon__operands_acquire(&ops, list, 5, 1u << 4);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__attention_desc d = {.out = ops.v[0], .q = ops.v[1], .k = ops.v[2], .v = ops.v[3], .mask = ops.v[4],
                                .causal = prm.causal};
    st = resolve(&prm, d.q.shape[3], &d.scale);
    if (st == CORDON_OK) {
        st = check_shapes(&d, &d.out);
    }
    if (st == CORDON_OK && !cordon__view_writable(&d.out)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    for (unsigned i = 1; i < 5 && st == CORDON_OK; i++) {
        st = cordon__check_alias(&d.out, &ops.v[i], false);
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->attention(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_attention_backward(cordon_tensor dq, cordon_tensor dk, cordon_tensor dv, cordon_tensor dout,
                                        cordon_tensor q, cordon_tensor k, cordon_tensor v,
                                        const cordon_attention_params *p) {
    cordon_attention_params prm;
    cordon_attention_params_init(&prm);
    if (p != NULL) {
        prm = *p;
    }
    cordon__operands ops;
    cordon_tensor list[8] = {dq, dk, dv, dout, q, k, v, prm.mask};
    cordon_status st = cordon__operands_acquire(&ops, list, 8, 1u << 7);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__attention_desc d = {.dq = ops.v[0], .dk = ops.v[1], .dv = ops.v[2], .dout = ops.v[3], .q = ops.v[4],
                                .k = ops.v[5], .v = ops.v[6], .mask = ops.v[7], .causal = prm.causal};
    st = resolve(&prm, d.q.shape[3], &d.scale);
    if (st == CORDON_OK) {
        st = check_shapes(&d, &d.dout);
    }
    if (st == CORDON_OK && (!cordon__same_shape(&d.dq, &d.q) || !cordon__same_shape(&d.dk, &d.k) ||
                            !cordon__same_shape(&d.dv, &d.v))) {
        st = CORDON_SHAPE_MISMATCH;
    }
    for (unsigned o = 0; o < 3 && st == CORDON_OK; o++) {
        if (!cordon__view_writable(&ops.v[o])) {
            st = CORDON_INVALID_ARGUMENT;
        }
        for (unsigned i = 0; i < 8 && st == CORDON_OK; i++) {
            if (i != o) {
                st = cordon__check_alias(&ops.v[o], &ops.v[i], false);
            }
        }
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->attention_backward(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}
