/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — memory.atomic.wait / notify: a parking-spot table keyed by the word's address.
 *
 * Each waiter queues a node on its own stack: the word it waits on and its own futex word `notified`
 * (0 waiting, 1 notified). Buckets are chosen by hashing the address; each has a cordon_mutex and a
 * FIFO queue, so notify wakes the waiters of one address oldest first.
 *
 * Interleavings this prevents:
 *  - "not-equal" that cannot happen, or a notify lost between the check and the sleep: the waiter
 *    reads the real memory word and queues itself under the bucket lock; a notify takes the same lock
 *    to dequeue. Wasm code stores the new value before notifying, so either the waiter's read sees it
 *    (result 1), or the waiter is queued when the notifier looks.
 *  - A spurious "ok": the waiter returns 0 only when `notified` is 1, which only a notify sets (under
 *    the lock, as it dequeues the node). Futex returns without it (spurious, EINTR) go back to sleep.
 *  - A notify racing a timeout: on timeout the waiter takes the lock and looks again; if a notify
 *    dequeued it meanwhile, the result is 0 (it was counted as woken), else it unlinks itself: 2.
 *  - A wake on a dead stack: the notifier sets `notified` and wakes its futex while holding the bucket
 *    lock, and a notified waiter takes that lock once before returning, so its node outlives the wake.
 *  - A system call with nobody waiting: notify finds the queue empty under an uncontended lock and
 *    returns 0. */
#include "cordon/memory_wait.h"

#include "memory/access.h"
#include "memory/memory_internal.h"
#include "sync/sync_internal.h"
#include "cordon/sync.h"

typedef struct spot_waiter {
    struct spot_waiter *next;
    const void *word;
    uint32_t notified; /* futex: set to 1 by the notify that dequeued this node */
} spot_waiter;

typedef struct spot_bucket {
    cordon_mutex lock;
    spot_waiter *head;
    spot_waiter *tail;
} spot_bucket;

#define SPOT_BUCKETS 64u
static spot_bucket spots[SPOT_BUCKETS];

static spot_bucket *bucket_of(const void *word) {
    uint64_t h = (uint64_t)(uintptr_t)word * 0x9E3779B97F4A7C15ull;
    return &spots[h >> 58];
}

static void lock_bucket(spot_bucket *b) {
    if (cordon_mutex_lock(&b->lock) != CORDON_OK) {
        return; /* unreachable: the mutex is valid */
    }
}

static void unlock_bucket(spot_bucket *b) {
    if (cordon_mutex_unlock(&b->lock) != CORDON_OK) {
        return; /* unreachable: this thread holds it */
    }
}

static void unlink_node(spot_bucket *b, spot_waiter *w) {
    spot_waiter *prev = NULL;
    for (spot_waiter *it = b->head; it != NULL; prev = it, it = it->next) {
        if (it == w) {
            if (prev == NULL) {
                b->head = w->next;
            } else {
                prev->next = w->next;
            }
            if (b->tail == w) {
                b->tail = prev;
            }
            return;
        }
    }
}

static bool word_equals(const void *word, unsigned width, uint64_t expected) {
    if (width == 4) {
        return __atomic_load_n((const uint32_t *)word, __ATOMIC_SEQ_CST) == (uint32_t)expected;
    }
    return __atomic_load_n((const uint64_t *)word, __ATOMIC_SEQ_CST) == expected;
}

static cordon_status atomic_wait(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, uint64_t expected,
                                 int64_t timeout_ns, uint32_t *result_out) {
    void *word = NULL;
    /* The lookup, the read of the word and the queueing are one access of m (memory/access.h): a
     * destroy racing them waits for them, or they see STALE. The sleep that follows reads only the
     * waiter's own node, never the memory, so it is outside the access. */
    cordon__access_record *acc = cordon__access_begin(m.handle);
    /* A NULL result_out is INVALID_ARGUMENT after the handle check (a stale handle is STALE first). */
    cordon_status st = cordon__memory_atomic_word(m, addr, offset, width, result_out != NULL, &word);
    uint64_t deadline = 0;
    if (st == CORDON_OK) {
        st = cordon__deadline_after(timeout_ns, &deadline);
    }
    if (st != CORDON_OK) {
        cordon__access_end(acc);
        return st;
    }
    spot_bucket *b = bucket_of(word);
    spot_waiter self = {NULL, word, 0};
    lock_bucket(b);
    if (!word_equals(word, width, expected)) {
        unlock_bucket(b);
        cordon__access_end(acc);
        *result_out = CORDON_WAIT_NOT_EQUAL;
        return CORDON_OK;
    }
    if (b->tail == NULL) {
        b->head = &self;
    } else {
        b->tail->next = &self;
    }
    b->tail = &self;
    unlock_bucket(b);
    cordon__access_end(acc);
    uint32_t result = CORDON_WAIT_OK;
    for (;;) {
        cordon_status park = cordon__park(&self.notified, 0u, deadline);
        if (LOAD(&self.notified) != 0) {
            break;
        }
        if (park == CORDON_TIMED_OUT) {
            lock_bucket(b);
            if (LOAD(&self.notified) == 0) {
                unlink_node(b, &self);
                result = CORDON_WAIT_TIMED_OUT;
            }
            unlock_bucket(b);
            *result_out = result;
            return CORDON_OK;
        }
    }
    /* Notified: wait for the notifier to be done with our node (it holds the lock while waking it). */
    lock_bucket(b);
    unlock_bucket(b);
    *result_out = result;
    return CORDON_OK;
}

cordon_status cordon_memory_atomic_wait32(cordon_memory m, uint64_t addr, uint64_t offset, uint32_t expected,
                                          int64_t timeout_ns, uint32_t *result_out) {
    return atomic_wait(m, addr, offset, 4, expected, timeout_ns, result_out);
}

cordon_status cordon_memory_atomic_wait64(cordon_memory m, uint64_t addr, uint64_t offset, uint64_t expected,
                                          int64_t timeout_ns, uint32_t *result_out) {
    return atomic_wait(m, addr, offset, 8, expected, timeout_ns, result_out);
}

cordon_status cordon_memory_atomic_notify(cordon_memory m, uint64_t addr, uint64_t offset, uint32_t count,
                                          uint32_t *woken_out) {
    void *word = NULL;
    /* Only the lookup touches m: the queue compares word addresses and never reads the memory. */
    cordon__access_record *acc = cordon__access_begin(m.handle);
    cordon_status st = cordon__memory_atomic_word(m, addr, offset, 4, true, &word);
    cordon__access_end(acc);
    if (st == CORDON_WRONG_STATE) {
        /* Not shared: nobody can wait on it, so notify wakes 0 — after the same alignment and bounds
         * checks a shared memory gets (an atomic load performs exactly those). */
        uint64_t ignored = 0;
        st = cordon_memory_atomic_load(m, addr, offset, 4, &ignored);
        if (st != CORDON_OK) {
            return st;
        }
        if (woken_out != NULL) {
            *woken_out = 0;
        }
        return CORDON_OK;
    }
    if (st != CORDON_OK) {
        return st;
    }
    spot_bucket *b = bucket_of(word);
    uint32_t woken = 0;
    lock_bucket(b);
    spot_waiter *prev = NULL;
    spot_waiter *it = b->head;
    while (it != NULL && woken < count) {
        spot_waiter *next = it->next;
        if (it->word == word) {
            if (prev == NULL) {
                b->head = next;
            } else {
                prev->next = next;
            }
            if (b->tail == it) {
                b->tail = prev;
            }
            STORE(&it->notified, 1u);
            cordon__unpark(&it->notified, 1u);
            woken++;
        } else {
            prev = it;
        }
        it = next;
    }
    unlock_bucket(b);
    if (woken_out != NULL) {
        *woken_out = woken;
    }
    return CORDON_OK;
}
