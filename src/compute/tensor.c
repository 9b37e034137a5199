/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — tensors (handles with table tag 6): create, views, read, write, copy, destroy. */
#include "cordon/tensor.h"

#include "compute/backend.h"
#include "compute/halfconv.h"
#include "core/handle.h"
#include "core/objpool.h"
#include "sys/sys.h"

static cordon__handle_table tensors = CORDON__HANDLE_TABLE_INIT(6);
static cordon__objpool tensor_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__tensor));

/* The largest byte size of a tensor: 2^62, so that offsets and spans in bytes never overflow. */
#define MAX_BYTES (UINT64_C(1) << 62)

size_t cordon_dtype_size(cordon_dtype dtype) {
    switch (dtype) {
    case CORDON_DTYPE_F32: return 4;
    case CORDON_DTYPE_BF16: return 2;
    case CORDON_DTYPE_F16: return 2;
    }
    return 0;
}

const char *cordon_dtype_name(cordon_dtype dtype) {
    switch (dtype) {
    case CORDON_DTYPE_F32: return "f32";
    case CORDON_DTYPE_BF16: return "bf16";
    case CORDON_DTYPE_F16: return "f16";
    }
    return "unknown";
}

/* ---------------------------------------------------------------------------------------------------
 * Acquire / release */

cordon_status cordon__tensor_acquire(cordon_tensor t, cordon__tensor **out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&tensors, t.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    cordon__tensor *tt = obj;
    cordon__pin(&tt->pins);
    void *again = NULL;
    if (cordon__handle_lookup(&tensors, t.handle, &again) != CORDON_OK || again != obj) {
        cordon__unpin(&tt->pins);
        return CORDON_STALE;
    }
    *out = tt;
    return CORDON_OK;
}

void cordon__tensor_release(cordon__tensor *t) {
    cordon__unpin(&t->pins);
}

void cordon__view_of(const cordon__tensor *t, cordon__view *out) {
    cordon__view v = {0};
    v.storage = t->storage;
    v.offset = t->offset;
    v.ndim = t->ndim;
    unsigned pad = CORDON__MAX_DIMS - t->ndim;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        if (i < pad) {
            v.shape[i] = 1;
            v.strides[i] = 0;
        } else {
            v.shape[i] = t->shape[i - pad];
            v.strides[i] = t->strides[i - pad];
        }
    }
    v.present = true;
    v.dtype = t->dtype;
    *out = v;
}

cordon_status cordon__operands_acquire(cordon__operands *ops, const cordon_tensor *list, unsigned n, unsigned optional) {
    return cordon__operands_acquire_bf16(ops, list, n, optional, 0);
}

cordon_status cordon__operands_acquire_bf16(cordon__operands *ops, const cordon_tensor *list, unsigned n,
                                            unsigned optional, unsigned bf16_ok) {
    ops->count = 0;
    ops->device = NULL;
    if (n > CORDON__MAX_OPERANDS) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = CORDON_OK;
    /* Handles first, all of them, so that a stale operand is reported before any other fault. */
    for (unsigned i = 0; i < n; i++) {
        ops->t[i] = NULL;
        ops->v[i] = (cordon__view){0};
        if (list[i].handle == 0 && (optional & (1u << i)) != 0) {
            continue;
        }
        st = cordon__tensor_acquire(list[i], &ops->t[i]);
        if (st != CORDON_OK) {
            ops->count = i;
            cordon__operands_release(ops);
            return st;
        }
        cordon__view_of(ops->t[i], &ops->v[i]);
    }
    ops->count = n;
    for (unsigned i = 0; i < n; i++) {
        if (ops->t[i] == NULL) {
            continue;
        }
        if (ops->device == NULL) {
            ops->device = ops->t[i]->device;
        } else if (ops->t[i]->device != ops->device) {
            st = CORDON_INVALID_ARGUMENT;
        }
        bool bf16 = ops->t[i]->dtype == CORDON_DTYPE_BF16 && (bf16_ok & (1u << i)) != 0 &&
                    ops->t[i]->device->backend->bf16;
        if (st == CORDON_OK && ops->t[i]->dtype != CORDON_DTYPE_F32 && !bf16) {
            st = CORDON_UNSUPPORTED;
        }
    }
    if (st == CORDON_OK && ops->device == NULL) {
        st = CORDON_INVALID_ARGUMENT; /* only absent operands */
    }
    if (st != CORDON_OK) {
        cordon__operands_release(ops);
    }
    return st;
}

void cordon__operands_release(cordon__operands *ops) {
    for (unsigned i = 0; i < ops->count; i++) {
        if (ops->t[i] != NULL) {
            cordon__tensor_release(ops->t[i]);
            ops->t[i] = NULL;
        }
    }
    ops->count = 0;
}

/* ---------------------------------------------------------------------------------------------------
 * Create / destroy */

static void link_tensor(cordon__device *dev, cordon__tensor *t) {
    cordon__lock(&dev->tensors_lock);
    t->prev = NULL;
    t->next = dev->tensors;
    if (dev->tensors != NULL) {
        dev->tensors->prev = t;
    }
    dev->tensors = t;
    dev->tensor_count++;
    cordon__unlock(&dev->tensors_lock);
}

static void unlink_tensor(cordon__device *dev, cordon__tensor *t) {
    cordon__lock(&dev->tensors_lock);
    if (t->prev != NULL) {
        t->prev->next = t->next;
    } else {
        dev->tensors = t->next;
    }
    if (t->next != NULL) {
        t->next->prev = t->prev;
    }
    t->prev = t->next = NULL;
    dev->tensor_count--;
    cordon__unlock(&dev->tensors_lock);
}

static void storage_unref(cordon__device *dev, cordon__block *b) {
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        dev->backend->release(dev, b);
    }
}

/* A new tensor object over storage (whose reference the caller transfers), linked and given a handle. */
static cordon_status make_tensor(cordon__device *dev, cordon__block *storage, cordon_dtype dtype, unsigned ndim,
                                 const uint64_t *shape, const uint64_t *strides, uint64_t offset, cordon_tensor *out) {
    void *obj = NULL;
    cordon_status st = cordon__objpool_get(&tensor_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__tensor *t = obj;
    t->handle = 0;
    t->device = dev;
    t->storage = storage;
    t->dtype = dtype;
    t->ndim = ndim;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        t->shape[i] = i < ndim ? shape[i] : 1;
        t->strides[i] = i < ndim ? strides[i] : 1;
    }
    t->offset = offset;
    t->prev = t->next = NULL;
    link_tensor(dev, t);
    st = cordon__handle_insert(&tensors, t, &t->handle);
    if (st != CORDON_OK) {
        unlink_tensor(dev, t);
        cordon__objpool_put(&tensor_pool, t);
        return st;
    }
    out->handle = t->handle;
    return CORDON_OK;
}

/* Elements of a shape, or OVERFLOW past 2^62 bytes of `elem` bytes each. */
static cordon_status shape_elements(unsigned ndim, const uint64_t *shape, size_t elem, uint64_t *out) {
    uint64_t n = 1;
    for (unsigned i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            return CORDON_INVALID_ARGUMENT;
        }
        if (n > MAX_BYTES / elem / shape[i]) {
            return CORDON_OVERFLOW;
        }
        n *= shape[i];
    }
    *out = n;
    return CORDON_OK;
}

cordon_status cordon_tensor_create(cordon_device device, cordon_dtype dtype, unsigned ndim, const uint64_t *shape,
                                   cordon_tensor *out) {
    cordon__device *dev = NULL;
    cordon_status st = cordon__device_acquire(device, &dev);
    if (st != CORDON_OK) {
        return st;
    }
    size_t elem = cordon_dtype_size(dtype);
    uint64_t n = 0;
    if (shape == NULL || out == NULL || ndim == 0 || ndim > CORDON__MAX_DIMS || elem == 0) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (dtype != CORDON_DTYPE_F32 && !(dtype == CORDON_DTYPE_BF16 && dev->backend->bf16)) {
        st = CORDON_UNSUPPORTED;
    } else {
        st = shape_elements(ndim, shape, elem, &n);
    }
    cordon__block *b = NULL;
    if (st == CORDON_OK) {
        st = dev->backend->alloc(dev, n * elem, &b);
    }
    if (st == CORDON_OK && !b->fresh) {
        st = dev->backend->zero(dev, b, n * elem); /* a reused block: new tensors read as zero */
        if (st != CORDON_OK) {
            dev->backend->release(dev, b);
        }
    }
    if (st == CORDON_OK) {
        b->device = dev;
        b->bytes = n * elem;
        uint64_t strides[CORDON__MAX_DIMS];
        uint64_t s = 1;
        for (unsigned i = ndim; i-- > 0;) {
            strides[i] = s;
            s *= shape[i];
        }
        st = make_tensor(dev, b, dtype, ndim, shape, strides, 0, out);
        if (st != CORDON_OK) {
            dev->backend->release(dev, b);
        }
    }
    cordon__device_release(dev);
    return st;
}

/* Claims, drains and releases a tensor whose handle the caller has claimed. */
static void retire_tensor(cordon__tensor *t) {
    cordon__pins_drain(&t->pins);
    cordon__device *dev = t->device;
    unlink_tensor(dev, t);
    storage_unref(dev, t->storage);
    t->storage = NULL;
    cordon__handle_finish(&tensors, t->handle);
    cordon__objpool_put(&tensor_pool, t);
}

cordon_status cordon_tensor_destroy(cordon_tensor t) {
    void *obj = NULL;
    cordon_status st = cordon__handle_claim(&tensors, t.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    retire_tensor(obj);
    return CORDON_OK;
}

void cordon__device_destroy_tensors(cordon__device *dev);
void cordon__device_destroy_tensors(cordon__device *dev) {
    for (;;) {
        cordon__lock(&dev->tensors_lock);
        cordon__tensor *t = dev->tensors;
        uint64_t handle = t != NULL ? t->handle : 0;
        cordon__unlock(&dev->tensors_lock);
        if (t == NULL) {
            return;
        }
        void *obj = NULL;
        if (cordon__handle_claim(&tensors, handle, &obj) == CORDON_OK) {
            retire_tensor(obj);
        } else {
            /* A concurrent cordon_tensor_destroy holds the claim: let it finish unlinking. */
            cordon__sys_thread_yield();
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Info, read, write, copy */

static bool contiguous(const cordon__tensor *t) {
    uint64_t s = 1;
    for (unsigned i = t->ndim; i-- > 0;) {
        if (t->shape[i] != 1 && t->strides[i] != s) {
            return false;
        }
        s *= t->shape[i];
    }
    return true;
}

static uint64_t elements_of(const cordon__tensor *t) {
    uint64_t n = 1;
    for (unsigned i = 0; i < t->ndim; i++) {
        n *= t->shape[i];
    }
    return n;
}

cordon_status cordon_tensor_info_get(cordon_tensor t, cordon_tensor_info *out) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL) {
        cordon__tensor_release(tt);
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_tensor_info info = {0};
    info.device.handle = tt->device->handle;
    info.dtype = tt->dtype;
    info.ndim = tt->ndim;
    for (unsigned i = 0; i < CORDON__MAX_DIMS; i++) {
        info.shape[i] = tt->shape[i];
        info.strides[i] = tt->strides[i];
    }
    info.offset = tt->offset;
    info.elements = elements_of(tt);
    info.bytes = info.elements * cordon_dtype_size(tt->dtype);
    info.contiguous = contiguous(tt);
    cordon__tensor_release(tt);
    *out = info;
    return CORDON_OK;
}

static cordon_status transfer(cordon_tensor t, void *buf, size_t bytes, bool to_host) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    if (buf == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else if ((uint64_t)bytes != elements_of(tt) * cordon_dtype_size(tt->dtype)) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (!to_host) {
        cordon__view v;
        cordon__view_of(tt, &v);
        if (!cordon__view_writable(&v)) {
            st = CORDON_INVALID_ARGUMENT; /* a broadcast view: its elements share storage */
        }
    }
    if (st == CORDON_OK) {
        cordon__view v;
        cordon__view_of(tt, &v);
        st = to_host ? tt->device->backend->download(tt->device, &v, buf) : tt->device->backend->upload(tt->device, &v, buf);
    }
    cordon__tensor_release(tt);
    return st;
}

cordon_status cordon_tensor_write(cordon_tensor t, const void *src, size_t bytes) {
    /* The buffer is only read on this path (to_host = false). */
    return transfer(t, (void *)(uintptr_t)src, bytes, false);
}

cordon_status cordon_tensor_read(cordon_tensor t, void *dst, size_t bytes) {
    return transfer(t, dst, bytes, true);
}

cordon_status cordon_bf16_from_f32(uint16_t *dst, const float *src, size_t n) {
    if (n != 0 && (dst == NULL || src == NULL)) {
        return CORDON_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        dst[i] = cordon__f32_to_bf16(src[i]);
    }
    return CORDON_OK;
}

cordon_status cordon_bf16_to_f32(float *dst, const uint16_t *src, size_t n) {
    if (n != 0 && (dst == NULL || src == NULL)) {
        return CORDON_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < n; i++) {
        dst[i] = cordon__bf16_to_f32(src[i]);
    }
    return CORDON_OK;
}

/* write_f32/read_f32 of a tensor that is not F32: through a staging buffer of its own dtype, so that
 * the transfer itself (and its validation) is cordon_tensor_write/read's. */
static cordon_status transfer_f32(cordon_tensor t, float *buf, size_t count, bool to_host) {
    cordon_tensor_info info;
    cordon_status st = cordon_tensor_info_get(t, &info);
    if (st != CORDON_OK) {
        return st;
    }
    if (buf == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    if ((uint64_t)count != info.elements) {
        return CORDON_SHAPE_MISMATCH;
    }
    if (count > SIZE_MAX / sizeof(float)) {
        return CORDON_OVERFLOW;
    }
    if (info.dtype == CORDON_DTYPE_F32) {
        return to_host ? cordon_tensor_read(t, buf, count * sizeof(float))
                       : cordon_tensor_write(t, buf, count * sizeof(float));
    }
    if (info.dtype != CORDON_DTYPE_BF16) {
        return CORDON_UNSUPPORTED;
    }
    void *stage = NULL;
    st = cordon__sys_alloc(count * sizeof(uint16_t), &stage);
    if (st != CORDON_OK) {
        return st;
    }
    uint16_t *h = stage;
    if (to_host) {
        st = cordon_tensor_read(t, h, count * sizeof(uint16_t));
        if (st == CORDON_OK) {
            for (size_t i = 0; i < count; i++) {
                buf[i] = cordon__bf16_to_f32(h[i]);
            }
        }
    } else {
        for (size_t i = 0; i < count; i++) {
            h[i] = cordon__f32_to_bf16(buf[i]);
        }
        st = cordon_tensor_write(t, h, count * sizeof(uint16_t));
    }
    cordon__sys_free(stage);
    return st;
}

cordon_status cordon_tensor_write_f32(cordon_tensor t, const float *src, size_t count) {
    /* The buffer is only read on this path (to_host = false). */
    return transfer_f32(t, (float *)(uintptr_t)src, count, false);
}

cordon_status cordon_tensor_read_f32(cordon_tensor t, float *dst, size_t count) {
    return transfer_f32(t, dst, count, true);
}

/* dst = src between any two devices: directly when both are host memory or share a device, else staged
 * through a host buffer (read from src's device, written to dst's). */
static cordon_status copy_views(cordon__device *ddev, const cordon__view *dv, cordon__device *sdev,
                                const cordon__view *sv) {
    if (ddev == sdev || (ddev->backend->host_memory && sdev->backend->host_memory)) {
        return ddev->backend->copy(ddev, dv, sv);
    }
    uint64_t bytes = cordon__view_elements(sv) * cordon__view_elem_size(sv);
    void *buf = NULL;
    cordon_status st = cordon__sys_alloc((size_t)bytes, &buf);
    if (st != CORDON_OK) {
        return st;
    }
    st = sdev->backend->download(sdev, sv, buf);
    if (st == CORDON_OK) {
        st = ddev->backend->upload(ddev, dv, buf);
    }
    cordon__sys_free(buf);
    return st;
}

cordon_status cordon_tensor_copy(cordon_tensor dst, cordon_tensor src) {
    cordon__tensor *d = NULL, *s = NULL;
    cordon_status st = cordon__tensor_acquire(dst, &d);
    if (st != CORDON_OK) {
        return st;
    }
    st = cordon__tensor_acquire(src, &s);
    if (st != CORDON_OK) {
        cordon__tensor_release(d);
        return st;
    }
    cordon__view dv, sv;
    cordon__view_of(d, &dv);
    cordon__view_of(s, &sv);
    if (d->dtype != s->dtype) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__same_shape(&dv, &sv)) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (!cordon__view_writable(&dv)) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (!cordon__views_same(&dv, &sv)) {
        st = cordon__check_alias(&dv, &sv, false);
        if (st == CORDON_OK) {
            st = copy_views(d->device, &dv, s->device, &sv);
        }
    }
    cordon__tensor_release(s);
    cordon__tensor_release(d);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Views */

/* A view of t with the given layout, checked to lie inside t's storage. */
static cordon_status new_view(cordon__tensor *t, unsigned ndim, const uint64_t *shape, const uint64_t *strides,
                              uint64_t offset, cordon_tensor *out) {
    size_t elem = cordon_dtype_size(t->dtype);
    uint64_t cap = t->storage->bytes / elem;
    /* The last element's index: offset + Σ (shape_i − 1)·stride_i, each step overflow-checked. */
    uint64_t last = offset;
    for (unsigned i = 0; i < ndim; i++) {
        if (shape[i] == 0) {
            return CORDON_INVALID_ARGUMENT;
        }
        uint64_t span = shape[i] - 1;
        if (span != 0 && strides[i] > (UINT64_MAX - last) / span) {
            return CORDON_OUT_OF_BOUNDS;
        }
        last += span * strides[i];
    }
    if (last >= cap) {
        return CORDON_OUT_OF_BOUNDS;
    }
    atomic_fetch_add_explicit(&t->storage->refs, 1, memory_order_relaxed);
    cordon_status st = make_tensor(t->device, t->storage, t->dtype, ndim, shape, strides, offset, out);
    if (st != CORDON_OK) {
        storage_unref(t->device, t->storage);
    }
    return st;
}

cordon_status cordon_tensor_view(cordon_tensor t, unsigned ndim, const uint64_t *shape, const uint64_t *strides,
                                 uint64_t offset, cordon_tensor *out) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    if (shape == NULL || strides == NULL || out == NULL || ndim == 0 || ndim > CORDON__MAX_DIMS) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (offset > UINT64_MAX - tt->offset) {
        st = CORDON_OUT_OF_BOUNDS;
    } else {
        uint64_t n = 0;
        st = shape_elements(ndim, shape, cordon_dtype_size(tt->dtype), &n);
        if (st == CORDON_OK) {
            st = new_view(tt, ndim, shape, strides, tt->offset + offset, out);
        }
    }
    cordon__tensor_release(tt);
    return st;
}

cordon_status cordon_tensor_transpose(cordon_tensor t, unsigned d0, unsigned d1, cordon_tensor *out) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL || d0 >= tt->ndim || d1 >= tt->ndim) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        uint64_t shape[CORDON__MAX_DIMS], strides[CORDON__MAX_DIMS];
        memcpy(shape, tt->shape, sizeof shape);
        memcpy(strides, tt->strides, sizeof strides);
        shape[d0] = tt->shape[d1];
        shape[d1] = tt->shape[d0];
        strides[d0] = tt->strides[d1];
        strides[d1] = tt->strides[d0];
        st = new_view(tt, tt->ndim, shape, strides, tt->offset, out);
    }
    cordon__tensor_release(tt);
    return st;
}

cordon_status cordon_tensor_slice(cordon_tensor t, unsigned dim, uint64_t start, uint64_t len, cordon_tensor *out) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL || dim >= tt->ndim || len == 0) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (start >= tt->shape[dim] || len > tt->shape[dim] - start) {
        st = CORDON_OUT_OF_BOUNDS;
    } else {
        uint64_t shape[CORDON__MAX_DIMS];
        memcpy(shape, tt->shape, sizeof shape);
        shape[dim] = len;
        /* start < shape[dim] and the parent's elements fit the storage, so this cannot overflow. */
        st = new_view(tt, tt->ndim, shape, tt->strides, tt->offset + start * tt->strides[dim], out);
    }
    cordon__tensor_release(tt);
    return st;
}

cordon_status cordon_tensor_reshape(cordon_tensor t, unsigned ndim, const uint64_t *shape, cordon_tensor *out) {
    cordon__tensor *tt = NULL;
    cordon_status st = cordon__tensor_acquire(t, &tt);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t n = 0;
    if (shape == NULL || out == NULL || ndim == 0 || ndim > CORDON__MAX_DIMS) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        st = shape_elements(ndim, shape, cordon_dtype_size(tt->dtype), &n);
    }
    if (st == CORDON_OK && n != elements_of(tt)) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (st == CORDON_OK && !contiguous(tt)) {
        st = CORDON_WRONG_STATE;
    }
    if (st == CORDON_OK) {
        uint64_t strides[CORDON__MAX_DIMS];
        uint64_t s = 1;
        for (unsigned i = ndim; i-- > 0;) {
            strides[i] = s;
            s *= shape[i];
        }
        st = new_view(tt, ndim, shape, strides, tt->offset, out);
    }
    cordon__tensor_release(tt);
    return st;
}
