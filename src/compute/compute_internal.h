/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the compute module's internal model: devices, storage, tensors, and how an operation holds
 * them while it runs.
 *
 * Layers (data flows one way):
 *   ops_*.c     public entry points: acquire the operands, describe and validate the call, dispatch;
 *   backend.h   the table of kernels a device kind provides (cpu now); ops never look inside it;
 *   cpu/        the CPU backend: threading on the device's pool, per-instruction-set kernels;
 *   storage.c   tensor storage carved from one cordon_pages reservation per device;
 *   src/sys/    CPU features, BLAS: reached only through src/sys/sys.h.
 *
 * Pins: how a tensor is destroyed safely while an operation uses it. Tensor and device objects are
 * type-stable: they come from pools that never return memory to the heap, so a pointer obtained from a
 * handle lookup stays a pointer to an object of that type even after a destroy. An operation
 *     1. looks the handle up (lock-free),
 *     2. increments the object's `pins` (sequentially consistent),
 *     3. looks the handle up again: if it is no longer live, or names another object, it unpins and the
 *        operand is STALE.
 * A destroy
 *     1. claims the handle (lookups give STALE from then on),
 *     2. waits until `pins` is 0 (parking on it),
 *     3. releases the object.
 * Interleaving prevented: an operation that read the object pointer just before the claim. Its pin (2)
 * and the destroyer's claim (1) are both sequentially consistent and each is followed by a full fence
 * before the other side's read, so either the operation's second lookup sees the claim (it backs off
 * without touching storage), or the destroyer sees the pin and waits for the operation to finish. A pin
 * taken on an object already released only touches a type-stable counter and is undone at once.
 * A device is pinned the same way by calls that create tensors on it; a destroyed device's tensors are
 * destroyed (with the same wait) before its storage is released, so an operation that holds pinned
 * tensors always holds live storage and a live device. */
#ifndef CORDON_COMPUTE_INTERNAL_H
#define CORDON_COMPUTE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/device.h"
#include "cordon/pages.h"
#include "cordon/status.h"
#include "cordon/sync.h"
#include "cordon/tensor.h"
#include "cordon/thread.h"

#define CORDON__MAX_DIMS CORDON_TENSOR_MAX_DIMS
#define CORDON__DEVICE_MAX_THREADS 1024u

typedef struct cordon__device cordon__device;
typedef struct cordon__backend cordon__backend;
typedef struct cordon__cpu_kernels cordon__cpu_kernels;

/* ----------------------------------------------------------------------------------------------------
 * Storage (storage.c): blocks of a device's reservation, in size classes, reused through free lists. */

/* Pins (pin.c): a count of users and a futex word for a destroy waiting on it. Not the first member of
 * any object (the type-stable pool links free objects through their first word) and never reset
 * when an object is reused: a late pin from a stale lookup is undone on the same counter. */
typedef struct cordon__pins {
    uint32_t count;   /* atomic (__atomic builtins), futex word */
    uint32_t waiting; /* a destroy is parked on count */
} cordon__pins;

/* Pins (a lookup may precede it; the caller re-validates after). */
void cordon__pin(cordon__pins *p);
/* Unpins; wakes a waiting destroy when the count reaches 0. */
void cordon__unpin(cordon__pins *p);
/* Waits until no pin is held (the handle must already be claimed, so no new pin can stay). */
void cordon__pins_drain(cordon__pins *p);

typedef struct cordon__block {
    void *pool_link;              /* first word: the object pool's free-list link */
    uint8_t *data;                /* host memory devices: 64-byte aligned, inside the device's reservation */
    void *handle;                 /* other devices: the backend's memory object */
    uint64_t capacity;            /* the size class's bytes */
    uint64_t bytes;               /* the bytes a tensor asked for: views stay inside them */
    uint32_t size_class;
    bool fresh;                   /* never handed out before: its pages still read as zero */
    _Atomic uint64_t refs;        /* tensors viewing it (storage) or 1 (scratch) */
    cordon__device *device;
    struct cordon__block *next;   /* free list of its class */
} cordon__block;

typedef struct cordon__arena {
    cordon_pages pages;
    uint8_t *base;
    uint64_t reserved;
    uint64_t committed;  /* guarded by lock */
    uint64_t used;       /* bump offset: bytes handed out at least once */
    uint64_t in_use;     /* bytes in live blocks */
    cordon_mutex lock;
    cordon__block *free_lists[232]; /* size classes up to 2^62 bytes (storage.c) */
} cordon__arena;

cordon_status cordon__arena_init(cordon__arena *a, uint64_t reserve_bytes, bool huge_pages);
/* Releases the reservation; every block must have been returned. */
cordon_status cordon__arena_release(cordon__arena *a);
/* A block of at least `bytes` bytes (contents unspecified) with refs = 1. OUT_OF_MEMORY when the
 * reservation is exhausted or the commit fails, OVERFLOW for sizes beyond 2^62. */
cordon_status cordon__arena_get(cordon__arena *a, uint64_t bytes, cordon__block **out);
/* Puts the block back on its free list. */
void cordon__arena_put(cordon__arena *a, cordon__block *b);

/* ----------------------------------------------------------------------------------------------------
 * Devices (device.c) */

struct cordon__device {
    void *pool_link;
    cordon__pins pins;
    uint64_t handle;
    const cordon__backend *backend;
    void *state;                        /* the backend's own state (device kinds other than cpu) */
    const cordon__cpu_kernels *kernels; /* CPU: the instruction-set level chosen at create */
    cordon_isa isa;
    cordon_matmul_engine matmul;
    bool deterministic;
    unsigned threads;
    cordon_pool pool;    /* threads - 1 workers; handle 0 when threads == 1 */
    cordon__arena arena;
    cordon_mutex tensors_lock; /* guards the list of live tensors */
    struct cordon__tensor *tensors;
    uint64_t tensor_count;
};

/* ----------------------------------------------------------------------------------------------------
 * Tensors (tensor.c) */

typedef struct cordon__tensor {
    void *pool_link;
    cordon__pins pins;
    uint64_t handle;
    cordon__device *device;
    cordon__block *storage;
    cordon_dtype dtype;
    unsigned ndim;
    uint64_t shape[CORDON__MAX_DIMS];
    uint64_t strides[CORDON__MAX_DIMS]; /* elements */
    uint64_t offset;                    /* elements */
    struct cordon__tensor *prev, *next; /* the device's live list */
} cordon__tensor;

/* Looks up and pins a device (see "Pins" above). */
cordon_status cordon__device_acquire(cordon_device d, cordon__device **out);
void cordon__device_release(cordon__device *dev);

/* Looks up and pins a tensor. */
cordon_status cordon__tensor_acquire(cordon_tensor t, cordon__tensor **out);
void cordon__tensor_release(cordon__tensor *t);

/* A resolved operand: where its elements are and how they are laid out. Valid while its tensor is
 * pinned. Dimensions are right-aligned to 4 (leading extents 1, strides 0) so kernels index uniformly. */
typedef struct cordon__view {
    cordon__block *storage;
    uint64_t offset;               /* elements */
    unsigned ndim;                 /* the tensor's own rank */
    uint64_t shape[CORDON__MAX_DIMS];   /* right-aligned */
    uint64_t strides[CORDON__MAX_DIMS]; /* right-aligned, elements */
    bool present;                  /* false for an absent optional operand */
    cordon_dtype dtype;            /* the tensor's; 0 (scratch views) means F32 */
} cordon__view;

/* Is the view's element a bf16 (2 bytes)? Every other view holds f32 elements. */
static inline bool cordon__view_bf16(const cordon__view *v) {
    return v->dtype == CORDON_DTYPE_BF16;
}

/* Bytes per element of a view. */
static inline size_t cordon__view_elem_size(const cordon__view *v) {
    return cordon__view_bf16(v) ? 2u : 4u;
}

/* The view of a pinned tensor. */
void cordon__view_of(const cordon__tensor *t, cordon__view *out);

/* The operands of one call, acquired together and released together. */
#define CORDON__MAX_OPERANDS 8
typedef struct cordon__operands {
    cordon__tensor *t[CORDON__MAX_OPERANDS];
    cordon__view v[CORDON__MAX_OPERANDS];
    unsigned count;
    cordon__device *device;
} cordon__operands;

/* Acquires n tensors (n <= CORDON__MAX_OPERANDS); `optional` has bit i set when tensors[i] may be
 * CORDON_TENSOR_NONE (its view then has present = false). STALE for a dead handle; INVALID_ARGUMENT for
 * operands on different devices; UNSUPPORTED for a dtype other than F32 (BF16 is accepted for operand i
 * when bit i of `bf16_ok` is set, see cordon__operands_acquire_bf16). On failure nothing stays pinned. */
cordon_status cordon__operands_acquire(cordon__operands *ops, const cordon_tensor *tensors, unsigned n,
                                       unsigned optional);
/* The same, with operand i allowed to be BF16 when bit i of bf16_ok is set (and the device holds BF16
 * tensors at all). */
cordon_status cordon__operands_acquire_bf16(cordon__operands *ops, const cordon_tensor *tensors, unsigned n,
                                            unsigned optional, unsigned bf16_ok);
void cordon__operands_release(cordon__operands *ops);

/* ----------------------------------------------------------------------------------------------------
 * Validation helpers (validate.c) */

/* Elements of a view's shape. */
uint64_t cordon__view_elements(const cordon__view *v);
/* Is the view row-major without gaps? */
bool cordon__view_contiguous(const cordon__view *v);
/* The storage span [first, last] in elements a view touches (for overlap tests). */
void cordon__view_span(const cordon__view *v, uint64_t *first, uint64_t *last);
/* Do two views share at least one storage element's span? */
bool cordon__views_overlap(const cordon__view *a, const cordon__view *b);
/* Are they the same view (storage, offset, shape, strides)? */
bool cordon__views_same(const cordon__view *a, const cordon__view *b);
/* May the view be written: no two of its elements share storage (no stride-0 dimension with extent
 * > 1, and no overlap between rows, judged conservatively)? */
bool cordon__view_writable(const cordon__view *v);
/* Output `out` against input `in`: OK when disjoint, or when `in_place_ok` and they are the same view;
 * INVALID_ARGUMENT otherwise. */
cordon_status cordon__check_alias(const cordon__view *out, const cordon__view *in, bool in_place_ok);
/* NumPy broadcast of `from` to `to` (right-aligned shapes): SHAPE_MISMATCH when an extent is neither
 * equal nor 1. */
cordon_status cordon__check_broadcast(const cordon__view *from, const cordon__view *to);
/* Do the two views have equal shapes (as right-aligned 4-vectors, and equal rank)? */
bool cordon__same_shape(const cordon__view *a, const cordon__view *b);

/* ----------------------------------------------------------------------------------------------------
 * Scratch (device.c): temporary storage for one call, from the device's backend (its arena on a CPU). */
cordon_status cordon__scratch_get(cordon__device *dev, uint64_t bytes, cordon__block **out);
void cordon__scratch_put(cordon__device *dev, cordon__block *b);

/* Locks that cannot fail here (valid, aligned, never held by the caller): the status is not needed. */
static inline void cordon__lock(cordon_mutex *m) {
    cordon_status st = cordon_mutex_lock(m);
    (void)st;
}
static inline void cordon__unlock(cordon_mutex *m) {
    cordon_status st = cordon_mutex_unlock(m);
    (void)st;
}

/* Pointer to element 0 of a view on a host-memory device (CPU). */
static inline float *cordon__view_f32(const cordon__view *v) {
    return (float *)(void *)v->storage->data + v->offset;
}

#endif /* CORDON_COMPUTE_INTERNAL_H */
