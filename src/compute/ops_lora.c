/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the LoRA linear layer, its gradients and the merge, composed from matmuls on the device
 * (ops.h). x·A is computed once per call into scratch from the device's arena. */
#include <math.h>

#include "cordon/ops.h"

#include "compute/ops_internal.h"

/* The adapter's scale s from the params and the rank r. */
static cordon_status lora_scale(const cordon_lora_params *p, uint64_t r, float *s) {
    if (p == NULL || !cordon__finite(p->alpha) || r == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (p->scaling == CORDON_LORA_SCALE_STANDARD) {
        *s = (float)((double)p->alpha / (double)r);
    } else if (p->scaling == CORDON_LORA_SCALE_RSLORA) {
        *s = (float)((double)p->alpha / sqrt((double)r));
    } else {
        return CORDON_INVALID_ARGUMENT;
    }
    return CORDON_OK;
}

/* Shapes: x (…, in), w (in, out) or absent, a (in, r), b (r, out), y (…, out) with x's leading extents. */
static cordon_status check_lora(const cordon__view *y, const cordon__view *x, const cordon__view *w,
                                const cordon__view *a, const cordon__view *b, const cordon__view *bias) {
    if ((w->present && w->ndim != 2) || a->ndim != 2 || b->ndim != 2) {
        return CORDON_SHAPE_MISMATCH;
    }
    uint64_t in = w->present ? w->shape[2] : a->shape[2], out = w->present ? w->shape[3] : b->shape[3];
    uint64_t r = a->shape[3];
    if (x->shape[3] != in || a->shape[2] != in || b->shape[2] != r || b->shape[3] != out || y->shape[3] != out ||
        y->ndim != x->ndim) {
        return CORDON_SHAPE_MISMATCH;
    }
    for (unsigned i = 0; i < 3; i++) {
        if (y->shape[i] != x->shape[i]) {
            return CORDON_SHAPE_MISMATCH;
        }
    }
    return cordon__check_param(bias, out);
}

/* A view of at least 2 dimensions (1-D x and y are one row). */
static cordon__view as_matrix(cordon__view v) {
    if (v.ndim < 2) {
        v.ndim = 2;
    }
    return v;
}

cordon_status cordon_lora_linear(cordon_tensor y, cordon_tensor x, cordon_tensor w, cordon_tensor bias,
                                 cordon_tensor a, cordon_tensor b, const cordon_lora_params *params) {
    cordon__operands ops;
    cordon_tensor list[6] = {y, x, w, bias, a, b};
    cordon_status st = cordon__operands_acquire(&ops, list, 6, (1u << 2) | (1u << 3));
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device *dev = ops.device;
    cordon__view vy = as_matrix(ops.v[0]), vx = as_matrix(ops.v[1]), vw = ops.v[2], vbias = ops.v[3], va = ops.v[4],
                 vb = ops.v[5];
    float s = 0.0f;
    st = lora_scale(params, va.shape[3], &s);
    if (st == CORDON_OK) {
        st = check_lora(&vy, &vx, &vw, &va, &vb, &vbias);
    }
    if (st == CORDON_OK && !cordon__view_writable(&vy)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    for (unsigned i = 1; i < 6 && st == CORDON_OK; i++) {
        if (ops.v[i].present) {
            st = cordon__check_alias(&vy, &ops.v[i], false);
        }
    }
    cordon__matmul_desc d;
    /* The adapter fused (x·A kept in registers) when the backend takes these operands; otherwise x·A
     * goes to scratch, taken before anything is written so that a refused call changes nothing. */
    cordon__lora_desc ld = {.y = vy, .x = vx, .a = va, .b = vb, .s = s, .beta = vw.present ? 1.0f : 0.0f};
    bool fused = st == CORDON_OK && dev->backend->lora_fuses != NULL && dev->backend->lora_fuses(dev, &ld);
    cordon__block *xa_block = NULL;
    cordon__view vxa;
    if (st == CORDON_OK && !fused) {
        uint64_t rows = vx.shape[0] * vx.shape[1] * vx.shape[2];
        st = cordon__scratch_get(dev, rows * va.shape[3] * sizeof(float), &xa_block);
        if (st == CORDON_OK) {
            cordon__scratch_view(xa_block, vx.ndim, vx.shape[0], vx.shape[1], vx.shape[2], va.shape[3], &vxa);
            /* xa = x·A */
            st = cordon__matmul_describe(&vxa, &vx, &va, 1.0f, 0.0f, false, false, &d);
        }
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
    }
    /* The base output: y = x·W + bias, then the adapter added (beta = 1); without W the adapter writes
     * y (beta = 0) and the bias is added after it. */
    if (st == CORDON_OK && vw.present) {
        st = cordon__matmul_describe(&vy, &vx, &vw, 1.0f, 0.0f, false, false, &d);
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
        if (st == CORDON_OK && vbias.present) {
            cordon__ew_desc e = {.y = vy, .a = vy, .b = vbias, .kind = CORDON__EW_ADD, .s = 1.0f};
            st = dev->backend->elementwise(dev, &e);
        }
    }
    if (st == CORDON_OK && fused) {
        /* y = s·(x·A)·B + beta·y in one pass */
        st = dev->backend->lora_adapter(dev, &ld);
    } else if (st == CORDON_OK) {
        /* y = s·xa·B + beta·y */
        st = cordon__matmul_describe(&vy, &vxa, &vb, s, ld.beta, false, false, &d);
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
    }
    if (st == CORDON_OK && !vw.present && vbias.present) {
        cordon__ew_desc e = {.y = vy, .a = vy, .b = vbias, .kind = CORDON__EW_ADD, .s = 1.0f};
        st = dev->backend->elementwise(dev, &e);
    }
    cordon__scratch_put(dev, xa_block);
    cordon__operands_release(&ops);
    return st;
}

/* Can rows (dimensions 0..2) of v be addressed as one dimension with stride strides[2]? */
static bool rows_mergeable(const cordon__view *v) {
    bool ok1 = v->shape[1] == 1 || v->strides[1] == v->shape[2] * v->strides[2];
    bool ok0 = v->shape[0] == 1 || v->strides[0] == v->shape[1] * v->shape[2] * v->strides[2];
    return ok0 && ok1;
}

/* v as a (1, 1, rows, n) matrix: itself when mergeable, else a contiguous copy into scratch. */
static cordon_status as_rows(cordon__device *dev, const cordon__view *v, cordon__block **copy, cordon__view *out) {
    uint64_t rows = v->shape[0] * v->shape[1] * v->shape[2];
    if (rows_mergeable(v)) {
        *out = *v;
        out->shape[0] = out->shape[1] = 1;
        out->strides[0] = out->strides[1] = 0;
        out->shape[2] = rows;
        out->ndim = 2;
        return CORDON_OK;
    }
    cordon_status st = cordon__scratch_get(dev, rows * v->shape[3] * sizeof(float), copy);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__view full;
    cordon__scratch_view(*copy, v->ndim, v->shape[0], v->shape[1], v->shape[2], v->shape[3], &full);
    st = dev->backend->copy(dev, &full, v);
    cordon__scratch_view(*copy, 2, 1, 1, rows, v->shape[3], out);
    return st;
}

cordon_status cordon_lora_linear_backward(cordon_tensor dx, cordon_tensor da, cordon_tensor db, cordon_tensor dy,
                                          cordon_tensor x, cordon_tensor w, cordon_tensor a, cordon_tensor b,
                                          const cordon_lora_params *params) {
    cordon__operands ops;
    cordon_tensor list[8] = {dx, da, db, dy, x, w, a, b};
    cordon_status st = cordon__operands_acquire(&ops, list, 8, 1u << 0);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device *dev = ops.device;
    cordon__view vdx = as_matrix(ops.v[0]), vda = ops.v[1], vdb = ops.v[2], vdy = as_matrix(ops.v[3]),
                 vx = as_matrix(ops.v[4]), vw = ops.v[5], va = ops.v[6], vb = ops.v[7];
    cordon__view none = {0};
    float s = 0.0f;
    st = lora_scale(params, va.shape[3], &s);
    if (st == CORDON_OK) {
        st = check_lora(&vdy, &vx, &vw, &va, &vb, &none);
    }
    if (st == CORDON_OK && (!cordon__same_shape(&vda, &va) || !cordon__same_shape(&vdb, &vb) ||
                            (vdx.present && !cordon__same_shape(&vdx, &vx)))) {
        st = CORDON_SHAPE_MISMATCH;
    }
    for (unsigned o = 0; o < 3 && st == CORDON_OK; o++) {
        if (!ops.v[o].present) {
            continue;
        }
        if (!cordon__view_writable(&ops.v[o])) {
            st = CORDON_INVALID_ARGUMENT;
        }
        for (unsigned i = 0; i < 8 && st == CORDON_OK; i++) {
            if (i != o) {
                st = cordon__check_alias(&ops.v[o], &ops.v[i], false);
            }
        }
    }
    uint64_t rows = vx.shape[0] * vx.shape[1] * vx.shape[2], r = va.shape[3];
    cordon__block *dxa_block = NULL, *xa_block = NULL, *xcopy = NULL, *dycopy = NULL;
    cordon__view vdxa, vxa, x2, dy2, dxa2, xa2;
    cordon__matmul_desc d;
    if (st == CORDON_OK) {
        st = cordon__scratch_get(dev, rows * r * sizeof(float), &dxa_block);
    }
    if (st == CORDON_OK) {
        st = cordon__scratch_get(dev, rows * r * sizeof(float), &xa_block);
    }
    if (st == CORDON_OK) {
        cordon__scratch_view(dxa_block, vx.ndim, vx.shape[0], vx.shape[1], vx.shape[2], r, &vdxa);
        cordon__scratch_view(xa_block, vx.ndim, vx.shape[0], vx.shape[1], vx.shape[2], r, &vxa);
        cordon__scratch_view(dxa_block, 2, 1, 1, rows, r, &dxa2);
        cordon__scratch_view(xa_block, 2, 1, 1, rows, r, &xa2);
        /* dxa = dy·Bᵀ; xa = x·A */
        st = cordon__matmul_describe(&vdxa, &vdy, &vb, 1.0f, 0.0f, false, true, &d);
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
        if (st == CORDON_OK) {
            st = cordon__matmul_describe(&vxa, &vx, &va, 1.0f, 0.0f, false, false, &d);
        }
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
    }
    if (st == CORDON_OK) {
        st = as_rows(dev, &vx, &xcopy, &x2);
    }
    if (st == CORDON_OK) {
        st = as_rows(dev, &vdy, &dycopy, &dy2);
    }
    if (st == CORDON_OK) {
        /* dA = s·Xᵀ·dXA; dB = s·XAᵀ·dY (sums over every row) */
        st = cordon__matmul_describe(&vda, &x2, &dxa2, s, 0.0f, true, false, &d);
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
        if (st == CORDON_OK) {
            st = cordon__matmul_describe(&vdb, &xa2, &dy2, s, 0.0f, true, false, &d);
        }
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
    }
    if (st == CORDON_OK && vdx.present) {
        /* dx = dy·Wᵀ + s·dXA·Aᵀ */
        st = cordon__matmul_describe(&vdx, &vdy, &vw, 1.0f, 0.0f, false, true, &d);
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
        if (st == CORDON_OK) {
            st = cordon__matmul_describe(&vdx, &vdxa, &va, s, 1.0f, false, true, &d);
        }
        if (st == CORDON_OK) {
            st = dev->backend->matmul(dev, &d);
        }
    }
    cordon__scratch_put(dev, dycopy);
    cordon__scratch_put(dev, xcopy);
    cordon__scratch_put(dev, xa_block);
    cordon__scratch_put(dev, dxa_block);
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_lora_merge(cordon_tensor w_out, cordon_tensor w, cordon_tensor a, cordon_tensor b,
                                const cordon_lora_params *params) {
    cordon__operands ops;
    cordon_tensor list[4] = {w_out, w, a, b};
    cordon_status st = cordon__operands_acquire(&ops, list, 4, 0);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device *dev = ops.device;
    cordon__view vo = ops.v[0], vw = ops.v[1], va = ops.v[2], vb = ops.v[3];
    float s = 0.0f;
    st = lora_scale(params, va.shape[3], &s);
    if (st == CORDON_OK && (vw.ndim != 2 || va.ndim != 2 || vb.ndim != 2 || !cordon__same_shape(&vo, &vw) ||
                            va.shape[2] != vw.shape[2] || vb.shape[2] != va.shape[3] || vb.shape[3] != vw.shape[3])) {
        st = CORDON_SHAPE_MISMATCH;
    }
    if (st == CORDON_OK && !cordon__view_writable(&vo)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&vo, &vw, true);
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&vo, &va, false);
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&vo, &vb, false);
    }
    if (st == CORDON_OK && !cordon__views_same(&vo, &vw)) {
        st = dev->backend->copy(dev, &vo, &vw);
    }
    cordon__matmul_desc d;
    if (st == CORDON_OK) {
        st = cordon__matmul_describe(&vo, &va, &vb, s, 1.0f, false, false, &d);
    }
    if (st == CORDON_OK) {
        st = dev->backend->matmul(dev, &d);
    }
    cordon__operands_release(&ops);
    return st;
}
