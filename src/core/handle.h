/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — generation-checked handles: how a destroyed object is detected instead of used.
 *
 * A public object (a reservation, a memory, a pool…) is named by a 64-bit handle, never by a pointer the
 * caller could keep after destruction. The handle encodes a slot of a per-kind table, the slot's
 * generation when the object was stored, and a kind tag:
 *
 *     bit 63..56 kind tag (nonzero) | bit 55..24 generation (32 bits) | bit 23..0 slot index
 *
 * Removing the object bumps the slot's generation, so every later lookup or removal with the old handle
 * returns CORDON_STALE, without touching freed memory. A handle of another kind, 0 (a handle never
 * issued: slot 0 is never used) or any other value never issued also gives CORDON_STALE; only a NULL
 * table or output pointer (an internal error) is CORDON_INVALID_ARGUMENT. A slot's generation wraps
 * after 2^32 reuses; a handle kept that long could alias a new object of the same kind.
 *
 * Destroying an object whose release can fail (unmapping memory) is two steps: cordon__handle_claim
 * marks the slot "closing" — from then on every lookup and every other claim gives CORDON_STALE, so two
 * threads destroying the same object cannot both proceed — then cordon__handle_finish retires it, or
 * cordon__handle_unclaim makes it live again under the same handle when the OS refused the release.
 *
 * Thread safety: lookups are lock-free and may run concurrently with inserts and removals of other
 * handles; a lookup racing with the removal of its own handle returns either the object or
 * CORDON_STALE, never a NULL or another object's pointer (the slot state is read before and after the
 * object, seqlock style). Inserts, claims and removals serialise on a spinlock held for a few
 * instructions; slot blocks are allocated outside it. A lookup alone does not keep its object alive: it
 * may hand out the object just before another thread frees it. Memories and reservations close that
 * window with the access guard (src/memory/access.h: every call brackets its lookup and use, and
 * destroy waits for the calls in progress between claim and free), so racing destroy and use is safe
 * for them; other kinds say in their own headers what racing destroy means for them. Slot blocks are
 * never freed, so a table's memory is bounded by the peak number of live objects (at most 2^24 - 1
 * per kind). */
#ifndef CORDON_CORE_HANDLE_H
#define CORDON_CORE_HANDLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cordon/status.h"

#define CORDON__HANDLE_BLOCK_SLOTS 1024u
#define CORDON__HANDLE_MAX_BLOCKS 16384u /* 2^24 slots / 1024 */

typedef struct cordon__handle_slot {
    /* generation << 2 | closing << 1 | live */
    _Atomic uint64_t state;
    void *_Atomic object;
    uint32_t next_free; /* free list link (index + 1; 0 ends the list), guarded by the table lock */
} cordon__handle_slot;

typedef struct cordon__handle_table {
    uint8_t kind;                                                   /* nonzero tag */
    atomic_flag lock;                                               /* guards inserts and removals */
    uint32_t free_head;                                             /* index + 1 of a free slot, 0: none */
    uint32_t used;                                                  /* slots ever handed out */
    cordon__handle_slot *_Atomic blocks[CORDON__HANDLE_MAX_BLOCKS]; /* allocated on demand */
} cordon__handle_table;

/* A table in static storage: static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(3); */
#define CORDON__HANDLE_TABLE_INIT(tag) {.kind = (tag), .lock = ATOMIC_FLAG_INIT}

/* Stores object (non-NULL) and writes its new handle. CORDON_OUT_OF_MEMORY when a slot block cannot be
 * allocated, CORDON_LIMIT_EXCEEDED when 2^24 - 1 objects of the kind are live. */
cordon_status cordon__handle_insert(cordon__handle_table *t, void *object, uint64_t *handle_out);

/* The object of a live handle. CORDON_STALE for anything not live (0, destroyed, being destroyed,
 * another kind, never issued); CORDON_INVALID_ARGUMENT only for a NULL t or object_out.
 * Inline: it is on the path of every access to a linear memory. */
static inline cordon_status cordon__handle_lookup(cordon__handle_table *t, uint64_t handle, void **object_out) {
    if (t == NULL || object_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* Handle 0 has index 0, which is never issued: it fails the check below as CORDON_STALE. */
    uint32_t index = (uint32_t)(handle & ((UINT64_C(1) << 24) - 1u));
    if ((uint8_t)(handle >> 56) != t->kind || index == 0) {
        return CORDON_STALE;
    }
    /* index < 2^24, so the block number is always inside the directory. */
    cordon__handle_slot *block =
        atomic_load_explicit(&t->blocks[index / CORDON__HANDLE_BLOCK_SLOTS], memory_order_acquire);
    if (block == NULL) {
        return CORDON_STALE;
    }
    cordon__handle_slot *s = &block[index % CORDON__HANDLE_BLOCK_SLOTS];
    uint64_t before = atomic_load_explicit(&s->state, memory_order_acquire);
    /* Live, not closing, and the generation in the handle (bits 55..24) is the slot's current one. */
    if ((before & 3u) != 1u || ((before >> 2) & 0xFFFFFFFFu) != ((handle >> 24) & 0xFFFFFFFFu)) {
        return CORDON_STALE;
    }
    void *object = atomic_load_explicit(&s->object, memory_order_relaxed);
    /* Pairs with the release fence in retire(): if the object read above was cleared by a removal,
     * the state read below sees that removal. */
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != before) {
        return CORDON_STALE;
    }
    *object_out = object;
    return CORDON_OK;
}

/* Marks a live handle closing and hands back its object: lookups and claims now give CORDON_STALE.
 * Follow with cordon__handle_finish or cordon__handle_unclaim. Statuses as cordon__handle_lookup. */
cordon_status cordon__handle_claim(cordon__handle_table *t, uint64_t handle, void **object_out);

/* Makes a claimed handle live again (the object's release failed and it stays usable). */
void cordon__handle_unclaim(cordon__handle_table *t, uint64_t handle);

/* Retires a claimed handle: the slot moves to the next generation and is reused later. */
void cordon__handle_finish(cordon__handle_table *t, uint64_t handle);

/* Claim and finish in one step, for objects whose destruction cannot fail: removes a live handle and
 * hands back its object (which the caller then destroys). A second removal, or handle 0, gives
 * CORDON_STALE. */
cordon_status cordon__handle_remove(cordon__handle_table *t, uint64_t handle, void **object_out);

#endif /* CORDON_CORE_HANDLE_H */
