/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — type-stable object pools (see objpool.h). */
#include "core/objpool.h"

#include "sys/sys.h"

#define BATCH 64u

/* The pool's mutex is valid and aligned and never held by the caller: locking cannot fail. */
static void lock_pool(cordon__objpool *pool) {
    cordon_status st = cordon_mutex_lock(&pool->lock);
    (void)st;
}

static void unlock_pool(cordon__objpool *pool) {
    cordon_status st = cordon_mutex_unlock(&pool->lock);
    (void)st;
}
#define ALIGN 64u

static size_t stride_of(const cordon__objpool *pool) {
    return (pool->size + ALIGN - 1) / ALIGN * ALIGN;
}

cordon_status cordon__objpool_get(cordon__objpool *pool, void **out) {
    lock_pool(pool);
    void *obj = pool->free_list;
    if (obj != NULL) {
        memcpy(&pool->free_list, obj, sizeof(void *));
        unlock_pool(pool);
        *out = obj;
        return CORDON_OK;
    }
    unlock_pool(pool);
    /* A new batch, allocated outside the lock: a 64-byte header (the link in the pool's list of batches,
     * so that the memory stays reachable from a static and leak checkers see no lost block), then BATCH
     * objects; all but the first go on the free list. */
    size_t stride = stride_of(pool);
    void *batch = NULL;
    cordon_status st = cordon__sys_alloc_aligned(ALIGN, ALIGN + stride * BATCH, &batch);
    if (st != CORDON_OK) {
        return st;
    }
    unsigned char *bytes = (unsigned char *)batch + ALIGN;
    lock_pool(pool);
    memcpy(batch, &pool->batches, sizeof(void *));
    pool->batches = batch;
    for (unsigned i = BATCH - 1; i >= 1; i--) {
        void *o = bytes + (size_t)i * stride;
        memcpy(o, &pool->free_list, sizeof(void *));
        pool->free_list = o;
    }
    unlock_pool(pool);
    *out = bytes; /* zero-filled by the allocator */
    return CORDON_OK;
}

void cordon__objpool_put(cordon__objpool *pool, void *object) {
    if (object == NULL) {
        return;
    }
    lock_pool(pool);
    memcpy(object, &pool->free_list, sizeof(void *));
    pool->free_list = object;
    unlock_pool(pool);
}
