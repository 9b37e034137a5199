/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — shape, broadcast and aliasing checks shared by every operation (compute_internal.h). */
#include "compute/compute_internal.h"

uint64_t cordon__view_elements(const cordon__view *v) {
    uint64_t n = 1;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        n *= v->shape[i];
    }
    return n;
}

bool cordon__view_contiguous(const cordon__view *v) {
    uint64_t s = 1;
    for (unsigned i = CORDON__MAX_DIMS; i-- > 0;) {
        if (v->shape[i] != 1 && v->strides[i] != s) {
            return false;
        }
        s *= v->shape[i];
    }
    return true;
}

void cordon__view_span(const cordon__view *v, uint64_t *first, uint64_t *last) {
    /* Strides are non-negative, so the first element is the offset and the last is the sum of the
     * largest index times the stride; views were checked at creation to fit the storage. */
    uint64_t l = v->offset;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        l += (v->shape[i] - 1) * v->strides[i];
    }
    *first = v->offset;
    *last = l;
}

bool cordon__views_overlap(const cordon__view *a, const cordon__view *b) {
    if (!a->present || !b->present || a->storage != b->storage) {
        return false;
    }
    uint64_t a0, a1, b0, b1;
    cordon__view_span(a, &a0, &a1);
    cordon__view_span(b, &b0, &b1);
    return a0 <= b1 && b0 <= a1;
}

bool cordon__views_same(const cordon__view *a, const cordon__view *b) {
    if (a->storage != b->storage || a->offset != b->offset) {
        return false;
    }
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        if (a->shape[i] != b->shape[i] || (a->shape[i] != 1 && a->strides[i] != b->strides[i])) {
            return false;
        }
    }
    return true;
}

bool cordon__view_writable(const cordon__view *v) {
    /* Sort the dimensions with extent > 1 by stride; each stride must exceed the span of all the
     * smaller-stride dimensions together, so that no two index tuples reach one element. */
    unsigned idx[CORDON__MAX_DIMS];
    unsigned n = 0;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        if (v->shape[i] > 1) {
            idx[n++] = i;
        }
    }
    for (unsigned i = 1; i < n; i++) {
        for (unsigned j = i; j > 0 && v->strides[idx[j]] < v->strides[idx[j - 1]]; j--) {
            unsigned t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    }
    uint64_t reach = 0; /* the largest offset the smaller dimensions reach */
    for (unsigned i = 0; i < n; i++) {
        uint64_t s = v->strides[idx[i]];
        if (s == 0 || s <= reach) {
            return false;
        }
        reach += (v->shape[idx[i]] - 1) * s;
    }
    return true;
}

cordon_status cordon__check_alias(const cordon__view *out, const cordon__view *in, bool in_place_ok) {
    if (!cordon__views_overlap(out, in)) {
        return CORDON_OK;
    }
    return in_place_ok && cordon__views_same(out, in) ? CORDON_OK : CORDON_INVALID_ARGUMENT;
}

cordon_status cordon__check_broadcast(const cordon__view *from, const cordon__view *to) {
    if (from->ndim > to->ndim) {
        return CORDON_SHAPE_MISMATCH;
    }
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        if (from->shape[i] != to->shape[i] && from->shape[i] != 1) {
            return CORDON_SHAPE_MISMATCH;
        }
    }
    return CORDON_OK;
}

bool cordon__same_shape(const cordon__view *a, const cordon__view *b) {
    if (a->ndim != b->ndim) {
        return false;
    }
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        if (a->shape[i] != b->shape[i]) {
            return false;
        }
    }
    return true;
}
