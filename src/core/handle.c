/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — generation-checked handle tables (see handle.h for the encoding and the contract). */
#include "core/handle.h"

#include "sys/sys.h"

#define INDEX_BITS 24u
#define GEN_BITS 32u
#define INDEX_MASK ((1ull << INDEX_BITS) - 1u)
#define GEN_MASK ((1ull << GEN_BITS) - 1u)

static uint64_t encode(uint8_t kind, uint64_t generation, uint32_t index) {
    return ((uint64_t)kind << 56) | ((generation & GEN_MASK) << INDEX_BITS) | index;
}

static void lock(cordon__handle_table *t) {
    /* Held for a few instructions; contention means another thread is inserting or removing. */
    while (atomic_flag_test_and_set_explicit(&t->lock, memory_order_acquire)) {
    }
}

static void unlock(cordon__handle_table *t) {
    atomic_flag_clear_explicit(&t->lock, memory_order_release);
}

static cordon__handle_slot *slot_at(cordon__handle_table *t, uint32_t index) {
    cordon__handle_slot *block = atomic_load_explicit(&t->blocks[index / CORDON__HANDLE_BLOCK_SLOTS], memory_order_acquire);
    return block != NULL ? &block[index % CORDON__HANDLE_BLOCK_SLOTS] : NULL;
}

/* A zeroed block of dead slots at generation 0, allocated before the lock is taken. */
static cordon_status new_block(void **out) {
    return cordon__sys_alloc(CORDON__HANDLE_BLOCK_SLOTS * sizeof(cordon__handle_slot), out);
}

cordon_status cordon__handle_insert(cordon__handle_table *t, void *object, uint64_t *handle_out) {
    if (t == NULL || object == NULL || handle_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *spare = NULL; /* a block allocated outside the lock, used if the table needs one */
    for (;;) {
        lock(t);
        uint32_t index;
        cordon__handle_slot *s;
        if (t->free_head != 0) {
            index = t->free_head - 1;
            s = slot_at(t, index);
            t->free_head = s->next_free;
        } else {
            /* Slot 0 is never used, so no valid handle has index 0 and a zeroed handle is never live. */
            if (t->used == 0) {
                t->used = 1;
            }
            if (t->used > INDEX_MASK) {
                unlock(t);
                cordon__sys_free(spare);
                return CORDON_LIMIT_EXCEEDED;
            }
            index = t->used;
            uint32_t b = index / CORDON__HANDLE_BLOCK_SLOTS;
            if (atomic_load_explicit(&t->blocks[b], memory_order_relaxed) == NULL) {
                if (spare == NULL) {
                    unlock(t);
                    cordon_status st = new_block(&spare);
                    if (st != CORDON_OK) {
                        return st;
                    }
                    continue; /* retake the lock: another thread may have added the block meanwhile */
                }
                atomic_store_explicit(&t->blocks[b], (cordon__handle_slot *)spare, memory_order_release);
                spare = NULL;
            }
            t->used++;
            s = slot_at(t, index);
        }
        uint64_t generation = atomic_load_explicit(&s->state, memory_order_relaxed) >> 2;
        atomic_store_explicit(&s->object, object, memory_order_relaxed);
        /* Publishing the live state last: a lookup that sees it also sees the object. */
        atomic_store_explicit(&s->state, (generation << 2) | 1u, memory_order_release);
        unlock(t);
        cordon__sys_free(spare);
        *handle_out = encode(t->kind, generation, index);
        return CORDON_OK;
    }
}

static cordon__handle_slot *slot_of_handle(cordon__handle_table *t, uint64_t handle) {
    return slot_at(t, (uint32_t)(handle & INDEX_MASK));
}

cordon_status cordon__handle_claim(cordon__handle_table *t, uint64_t handle, void **object_out) {
    if (t == NULL || object_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    lock(t);
    void *object = NULL;
    /* Checked under the lock: of two threads destroying the same handle, exactly one gets here. */
    cordon_status st = cordon__handle_lookup(t, handle, &object);
    if (st == CORDON_OK) {
        cordon__handle_slot *s = slot_of_handle(t, handle);
        uint64_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
        atomic_store_explicit(&s->state, state | 2u, memory_order_release);
    }
    unlock(t);
    if (st == CORDON_OK) {
        *object_out = object;
    }
    return st;
}

void cordon__handle_unclaim(cordon__handle_table *t, uint64_t handle) {
    lock(t);
    cordon__handle_slot *s = slot_of_handle(t, handle);
    uint64_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    atomic_store_explicit(&s->state, state & ~(uint64_t)2u, memory_order_release);
    unlock(t);
}

void cordon__handle_finish(cordon__handle_table *t, uint64_t handle) {
    lock(t);
    uint32_t index = (uint32_t)(handle & INDEX_MASK);
    cordon__handle_slot *s = slot_at(t, index);
    uint64_t state = atomic_load_explicit(&s->state, memory_order_relaxed);
    /* Dead, next generation: every copy of the old handle is now stale. The fence orders the state
     * change before the object is cleared, for the seqlock check in cordon__handle_lookup. */
    atomic_store_explicit(&s->state, (((state >> 2) + 1u) & GEN_MASK) << 2, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&s->object, NULL, memory_order_relaxed);
    s->next_free = t->free_head;
    t->free_head = index + 1u;
    unlock(t);
}

cordon_status cordon__handle_remove(cordon__handle_table *t, uint64_t handle, void **object_out) {
    if (object_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *object = NULL;
    cordon_status st = cordon__handle_claim(t, handle, &object);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__handle_finish(t, handle);
    *object_out = object;
    return CORDON_OK;
}
