/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — elementwise operations and RoPE: describe, validate, dispatch (ops.h). */
#include "cordon/ops.h"

#include "compute/ops_internal.h"

/* y = f(a[, b]) with a and b broadcast to y; y may be the same view as a or b. */
static cordon_status elementwise(cordon_tensor y, cordon_tensor a, cordon_tensor b, bool binary, cordon__ew_kind kind,
                                 float s, bool same_shape) {
    cordon__operands ops;
    cordon_tensor list[3] = {y, a, b};
    cordon_status st = cordon__operands_acquire(&ops, list, binary ? 3u : 2u, 0);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__ew_desc d = {.y = ops.v[0], .a = ops.v[1], .kind = kind, .s = s};
    if (binary) {
        d.b = ops.v[2];
    }
    if (!cordon__finite(s)) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (same_shape) {
        /* Gradients and unary maps: every operand has y's shape. */
        if (!cordon__same_shape(&d.y, &d.a) || (binary && !cordon__same_shape(&d.y, &d.b))) {
            st = CORDON_SHAPE_MISMATCH;
        }
    } else {
        /* y must be exactly the broadcast shape of a and b. */
        for (unsigned i = 0; i < CORDON__MAX_DIMS && st == CORDON_OK; i++) {
            uint64_t ai = d.a.shape[i], bi = binary ? d.b.shape[i] : 1, want = ai > bi ? ai : bi;
            if ((ai != 1 && ai != d.y.shape[i]) || (bi != 1 && bi != d.y.shape[i]) || d.y.shape[i] != want) {
                st = CORDON_SHAPE_MISMATCH;
            }
        }
        if (st == CORDON_OK && (d.a.ndim > d.y.ndim || (binary && d.b.ndim > d.y.ndim))) {
            st = CORDON_SHAPE_MISMATCH;
        }
    }
    if (st == CORDON_OK && !cordon__view_writable(&d.y)) {
        st = CORDON_INVALID_ARGUMENT;
    }
    if (st == CORDON_OK) {
        st = cordon__check_alias(&d.y, &d.a, true);
    }
    if (st == CORDON_OK && binary) {
        st = cordon__check_alias(&d.y, &d.b, true);
    }
    if (st == CORDON_OK) {
        st = ops.device->backend->elementwise(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_add(cordon_tensor y, cordon_tensor a, cordon_tensor b) {
    return elementwise(y, a, b, true, CORDON__EW_ADD, 1.0f, false);
}

cordon_status cordon_mul(cordon_tensor y, cordon_tensor a, cordon_tensor b) {
    return elementwise(y, a, b, true, CORDON__EW_MUL, 1.0f, false);
}

cordon_status cordon_scale(cordon_tensor y, cordon_tensor x, float s) {
    return elementwise(y, x, CORDON_TENSOR_NONE, false, CORDON__EW_SCALE, s, true);
}

cordon_status cordon_silu(cordon_tensor y, cordon_tensor x) {
    return elementwise(y, x, CORDON_TENSOR_NONE, false, CORDON__EW_SILU, 1.0f, true);
}

cordon_status cordon_silu_backward(cordon_tensor dx, cordon_tensor dy, cordon_tensor x) {
    return elementwise(dx, dy, x, true, CORDON__EW_SILU_BWD, 1.0f, true);
}

cordon_status cordon_gelu(cordon_tensor y, cordon_tensor x, cordon_gelu_mode mode) {
    if (mode != CORDON_GELU_ERF && mode != CORDON_GELU_TANH) {
        /* Handles first: a stale operand is reported before a bad mode. */
        cordon__operands ops;
        cordon_tensor list[2] = {y, x};
        cordon_status st = cordon__operands_acquire(&ops, list, 2, 0);
        if (st != CORDON_OK) {
            return st;
        }
        cordon__operands_release(&ops);
        return CORDON_INVALID_ARGUMENT;
    }
    return elementwise(y, x, CORDON_TENSOR_NONE, false, mode == CORDON_GELU_ERF ? CORDON__EW_GELU_ERF : CORDON__EW_GELU_TANH,
                       1.0f, true);
}

cordon_status cordon_gelu_backward(cordon_tensor dx, cordon_tensor dy, cordon_tensor x, cordon_gelu_mode mode) {
    if (mode != CORDON_GELU_ERF && mode != CORDON_GELU_TANH) {
        cordon__operands ops;
        cordon_tensor list[3] = {dx, dy, x};
        cordon_status st = cordon__operands_acquire(&ops, list, 3, 0);
        if (st != CORDON_OK) {
            return st;
        }
        cordon__operands_release(&ops);
        return CORDON_INVALID_ARGUMENT;
    }
    return elementwise(dx, dy, x, true, mode == CORDON_GELU_ERF ? CORDON__EW_GELU_ERF_BWD : CORDON__EW_GELU_TANH_BWD,
                       1.0f, true);
}

static cordon_status rope(cordon_tensor y, cordon_tensor x, const cordon_rope_params *p, bool inverse) {
    cordon__operands ops;
    cordon_tensor list[2] = {y, x};
    cordon_status st = cordon__operands_acquire(&ops, list, 2, 0);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__rope_desc d = {.y = ops.v[0], .x = ops.v[1], .inverse = inverse};
    if (p == NULL || (p->layout != CORDON_ROPE_INTERLEAVED && p->layout != CORDON_ROPE_HALF) ||
        !cordon__finite(p->base) || p->base <= 0.0f || p->position0 > (UINT64_C(1) << 53)) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&d.y, &d.x) || d.x.ndim < 2 || d.x.shape[3] % 2 != 0) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (!cordon__view_writable(&d.y)) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        st = cordon__check_alias(&d.y, &d.x, true);
    }
    if (st == CORDON_OK) {
        d.layout = p->layout;
        d.base = (double)p->base;
        d.position0 = p->position0;
        st = ops.device->backend->rope(ops.device, &d);
    }
    cordon__operands_release(&ops);
    return st;
}

cordon_status cordon_rope(cordon_tensor y, cordon_tensor x, const cordon_rope_params *p) {
    return rope(y, x, p, false);
}

cordon_status cordon_rope_backward(cordon_tensor dx, cordon_tensor dy, const cordon_rope_params *p) {
    return rope(dx, dy, p, true);
}
