/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — matmul: describe, validate, dispatch (ops.h). */
#include "cordon/ops.h"

#include "compute/backend.h"
#include "compute/ops_internal.h"

void cordon_matmul_params_init(cordon_matmul_params *p) {
    if (p != NULL) {
        *p = (cordon_matmul_params){.alpha = 1.0f, .beta = 0.0f, .trans_a = false, .trans_b = false};
    }
}

/* Swaps the last two dimensions of a view (a transpose folded into the layout). */
void cordon__view_transpose(cordon__view *v) {
    uint64_t s = v->shape[2];
    v->shape[2] = v->shape[3];
    v->shape[3] = s;
    uint64_t t = v->strides[2];
    v->strides[2] = v->strides[3];
    v->strides[3] = t;
}

cordon_status cordon__matmul_describe(const cordon__view *c, const cordon__view *a, const cordon__view *b, float alpha,
                                      float beta, bool trans_a, bool trans_b, cordon__matmul_desc *d) {
    if (a->ndim < 2 || b->ndim < 2 || c->ndim < 2) {
        return CORDON_SHAPE_MISMATCH;
    }
    *d = (cordon__matmul_desc){.c = *c, .a = *a, .b = *b, .alpha = alpha, .beta = beta};
    if (trans_a) {
        cordon__view_transpose(&d->a);
    }
    if (trans_b) {
        cordon__view_transpose(&d->b);
    }
    d->m = d->a.shape[2];
    d->k = d->a.shape[3];
    d->n = d->b.shape[3];
    if (d->b.shape[2] != d->k || c->shape[2] != d->m || c->shape[3] != d->n) {
        return CORDON_SHAPE_MISMATCH;
    }
    for (unsigned i = 0; i < 2; i++) {
        uint64_t ai = d->a.shape[i], bi = d->b.shape[i], ci = c->shape[i];
        uint64_t want = ai > bi ? ai : bi;
        if ((ai != 1 && ai != ci) || (bi != 1 && bi != ci) || ci != want) {
            return CORDON_SHAPE_MISMATCH;
        }
    }
    return CORDON_OK;
}

cordon_status cordon__matmul_run(cordon__device *dev, const cordon__matmul_desc *d) {
    if (!cordon__view_writable(&d->c)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = cordon__check_alias(&d->c, &d->a, false);
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d->c, &d->b, false);
    }
    if (st != CORDON_OK) {
        return st;
    }
    return dev->backend->matmul(dev, d);
}

cordon_status cordon_matmul(cordon_tensor c, cordon_tensor a, cordon_tensor b, const cordon_matmul_params *p) {
    cordon_matmul_params prm;
    cordon_matmul_params_init(&prm);
    if (p != NULL) {
        prm = *p;
    }
    cordon__operands ops;
    cordon_tensor list[3] = {c, a, b};
    /* B (operand 2) may hold bf16 weights on a device that has them; A and C are F32. */
    cordon_status st = cordon__operands_acquire_bf16(&ops, list, 3, 0, 1u << 2);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__matmul_desc d;
    st = cordon__matmul_describe(&ops.v[0], &ops.v[1], &ops.v[2], prm.alpha, prm.beta, prm.trans_a, prm.trans_b, &d);
    if (st == CORDON_OK) {
        st = cordon__matmul_run(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}
