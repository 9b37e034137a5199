/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — softmax, RMSNorm, LayerNorm (forward and backward): describe, validate, dispatch (ops.h). */
#include "cordon/ops.h"

#include "compute/ops_internal.h"

void cordon_softmax_params_init(cordon_softmax_params *p) {
    if (p != NULL) {
        *p = (cordon_softmax_params){.scale = 1.0f, .mask = CORDON_TENSOR_NONE, .causal = false};
    }
}

void cordon__scratch_view(cordon__block *b, unsigned ndim, uint64_t s0, uint64_t s1, uint64_t s2, uint64_t s3,
                          cordon__view *out) {
    cordon__view v = {0};
    v.storage = b;
    v.offset = 0;
    v.ndim = ndim;
    uint64_t sh[4] = {s0, s1, s2, s3};
    uint64_t s = 1;
    for (unsigned i = 4; i-- > 0;) {
        v.shape[i] = sh[i];
        v.strides[i] = sh[i] == 1 && i < 4 - ndim ? 0 : s;
        s *= sh[i];
    }
    v.present = true;
    *out = v;
}

cordon_status cordon__check_param(const cordon__view *v, uint64_t n) {
    if (!v->present) {
        return CORDON_OK;
    }
    return v->ndim == 1 && v->shape[3] == n ? CORDON_OK : CORDON_SHAPE_MISMATCH;
}

cordon_status cordon_softmax(cordon_tensor y, cordon_tensor x, const cordon_softmax_params *p) {
    cordon_softmax_params prm;
    cordon_softmax_params_init(&prm);
    if (p != NULL) {
        prm = *p;
    }
    cordon__operands ops;
    cordon_tensor list[3] = {y, x, prm.mask};
    cordon_status st = cordon__operands_acquire(&ops, list, 3, 1u << 2);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__softmax_desc d = {.y = ops.v[0], .x = ops.v[1], .mask = ops.v[2], .scale = prm.scale, .causal = prm.causal};
    if (!cordon__finite(prm.scale)) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&d.y, &d.x)) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (d.mask.present) {
        st = cordon__check_broadcast(&d.mask, &d.x);
    }
    if (st == CORDON_OK && !cordon__view_writable(&d.y)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.x, true);
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.mask, false);
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->softmax(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_softmax_backward(cordon_tensor dx, cordon_tensor y, cordon_tensor dy, float scale) {
    cordon__operands ops;
    cordon_tensor list[3] = {dx, y, dy};
    cordon_status st = cordon__operands_acquire(&ops, list, 3, 0);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__softmax_bwd_desc d = {.dx = ops.v[0], .y = ops.v[1], .dy = ops.v[2], .scale = scale};
    if (!cordon__finite(scale)) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&d.dx, &d.y) || !cordon__same_shape(&d.dx, &d.dy)) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (!cordon__view_writable(&d.dx)) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        st = cordon__check_alias(&d.dx, &d.dy, true);
        if (st == CORDON_OK) {
            st = cordon__check_alias(&d.dx, &d.y, false);
        }
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->softmax_backward(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

/* Forward norm: y, x, weight (required for RMS), bias. */
static cordon_status norm_forward(cordon_tensor y, cordon_tensor x, cordon_tensor w, cordon_tensor b, float eps,
                                  bool layer) {
    cordon__operands ops;
    cordon_tensor list[4] = {y, x, w, b};
    cordon_status st = cordon__operands_acquire(&ops, list, 4, layer ? (1u << 2) | (1u << 3) : (1u << 3));
    if (st != CORDON_OK) {
        return st;
    }
    cordon__norm_desc d = {.y = ops.v[0], .x = ops.v[1], .weight = ops.v[2], .bias = ops.v[3], .eps = eps, .layer = layer};
    uint64_t n = d.x.shape[3];
    if (!cordon__finite(eps) || eps < 0.0f) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&d.y, &d.x)) {
        st = CORDON_SHAPE_MISMATCH;
    } else {
        st = cordon__check_param(&d.weight, n);
        if (st == CORDON_OK) {
            st = cordon__check_param(&d.bias, n);
        }
    }
    if (st == CORDON_OK && !cordon__view_writable(&d.y)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.x, true);
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.weight, false);
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.bias, false);
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->norm(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_rms_norm(cordon_tensor y, cordon_tensor x, cordon_tensor weight, float eps) {
    return norm_forward(y, x, weight, CORDON_TENSOR_NONE, eps, false);
}

cordon_status cordon_layer_norm(cordon_tensor y, cordon_tensor x, cordon_tensor gamma, cordon_tensor beta, float eps) {
    return norm_forward(y, x, gamma, beta, eps, true);
}

static cordon_status norm_backward(cordon_tensor dx, cordon_tensor dw, cordon_tensor db, cordon_tensor dy,
                                   cordon_tensor x, cordon_tensor w, float eps, bool layer) {
    cordon__operands ops;
    cordon_tensor list[6] = {dx, dw, db, dy, x, w};
    unsigned optional = (1u << 1) | (1u << 2) | (layer ? (1u << 5) : 0u);
    cordon_status st = cordon__operands_acquire(&ops, list, 6, optional);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__norm_bwd_desc d = {.dx = ops.v[0], .dweight = ops.v[1], .dbias = ops.v[2], .dy = ops.v[3], .x = ops.v[4],
                               .weight = ops.v[5], .eps = eps, .layer = layer};
    uint64_t n = d.x.shape[3];
    if (!cordon__finite(eps) || eps < 0.0f) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&d.dx, &d.x) || !cordon__same_shape(&d.dy, &d.x)) {
        st = CORDON_SHAPE_MISMATCH;
    } else {
        st = cordon__check_param(&d.weight, n);
        if (st == CORDON_OK) {
            st = cordon__check_param(&d.dweight, n);
        }
        if (st == CORDON_OK) {
            st = cordon__check_param(&d.dbias, n);
        }
    }
    /* Outputs: dx (may be dy), dweight, dbias: writable, disjoint from every other operand. */
    const cordon__view *outs[3] = {&d.dx, &d.dweight, &d.dbias};
    const cordon__view *all[6] = {&d.dx, &d.dweight, &d.dbias, &d.dy, &d.x, &d.weight};
    for (unsigned o = 0; o < 3 && st == CORDON_OK; o++) {
        if (!outs[o]->present) {
            continue;
        }
        if (!cordon__view_writable(outs[o])) {
            st = CORDON_INVALID_ARGUMENT;
            break;
        }
        for (unsigned i = 0; i < 6 && st == CORDON_OK; i++) {
            if (i != o) {
                st = cordon__check_alias(outs[o], all[i], o == 0 && i == 3);
            }
        }
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->norm_backward(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_rms_norm_backward(cordon_tensor dx, cordon_tensor dweight, cordon_tensor dy, cordon_tensor x,
                                       cordon_tensor weight, float eps) {
    return norm_backward(dx, dweight, CORDON_TENSOR_NONE, dy, x, weight, eps, false);
}

cordon_status cordon_layer_norm_backward(cordon_tensor dx, cordon_tensor dgamma, cordon_tensor dbeta, cordon_tensor dy,
                                         cordon_tensor x, cordon_tensor gamma, float eps) {
    return norm_backward(dx, dgamma, dbeta, dy, x, gamma, eps, true);
}
