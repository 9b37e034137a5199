/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — type-stable object pools.
 *
 * A pool hands out objects of one size and takes them back onto a free list; it never
 * returns memory to the heap. So a pointer to an object from a pool points to an object of that type
 * for the rest of the process, even after the object was put back: code that may hold such a pointer
 * past a concurrent destroy (see the pins in compute_internal.h) touches a valid counter, never freed
 * memory. Memory is bounded by the peak number of live objects. Objects are allocated 64 at a time
 * (one cordon__sys_alloc each batch), aligned to 64 bytes so that two objects never share a cache line.
 * Thread safety: get and put may be called concurrently. */
#ifndef CORDON_CORE_OBJPOOL_H
#define CORDON_CORE_OBJPOOL_H

#include <stddef.h>

#include "cordon/status.h"
#include "cordon/sync.h"

typedef struct cordon__objpool {
    size_t size; /* object size, rounded up to 64 by get */
    cordon_mutex lock;
    void *free_list; /* objects linked through their first word */
    void *batches;   /* every batch, linked through its 64-byte header: all memory stays reachable */
} cordon__objpool;

#define CORDON__OBJPOOL_INIT(object_size) \
    {.size = (object_size), .lock = CORDON_MUTEX_INIT, .free_list = NULL, .batches = NULL}

/* An object: zero-filled when new, as it was put back otherwise (except its first word, the free-list
 * link), so that counters a stale user may still touch are never reset. The caller initialises every
 * other field. CORDON_OUT_OF_MEMORY when a new batch cannot be allocated. */
cordon_status cordon__objpool_get(cordon__objpool *pool, void **out);
/* Puts an object from this pool back. NULL is ignored. */
void cordon__objpool_put(cordon__objpool *pool, void *object);

#endif /* CORDON_CORE_OBJPOOL_H */
