/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — portable futex fallback: a parking lot keyed by address.
 *
 * A fixed table of buckets, chosen by hashing the word's address. Each bucket has a pthread mutex and a
 * FIFO queue of waiters; each waiter (on its own stack) has a condition variable on CLOCK_MONOTONIC
 * and a `woken` flag written only under the bucket mutex.
 *
 * No lost wakeup: a waiter compares *word with expected while holding the bucket mutex and enqueues
 * itself before releasing it (inside pthread_cond_timedwait). A waker changes *word first, then takes
 * the same mutex to dequeue. So either the waker's change is visible to the comparison (NOT_EQUAL), or
 * the waiter is in the queue when the waker looks.
 * No use after return: the waker signals a waiter's condvar while holding the bucket mutex, and the
 * waiter cannot leave (and free its stack) before it re-acquires that mutex.
 * Shared (inter-process) words are not supported: the table is private to the process. */
#define _GNU_SOURCE

#include "sys/futex_backend.h"
#include "sys/sys_internal.h"

#if !defined(_WIN32) && !defined(__APPLE__)

#include <errno.h>
#include <pthread.h>
#include <time.h>

typedef struct waiter {
    struct waiter *next;
    const uint32_t *word;
    pthread_cond_t cond;
    bool woken; /* guarded by the bucket mutex */
} waiter;

typedef struct bucket {
    pthread_mutex_t lock;
    waiter *head; /* FIFO: wake order is arrival order */
    waiter *tail;
    char pad[64]; /* keeps neighbouring buckets' mutexes off one cache line */
} bucket;

#define BUCKET_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, {0}}
#define X4(...) __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__
#define X16(...) X4(X4(__VA_ARGS__))
#define BUCKET_COUNT 256u
static bucket buckets[BUCKET_COUNT] = {X16(X16(BUCKET_INIT))};

static bucket *bucket_for(const uint32_t *word) {
    uint64_t h = (uint64_t)(uintptr_t)word * 0x9E3779B97F4A7C15ull; /* Fibonacci hashing */
    return &buckets[h >> 56];
}

static void lock_bucket(bucket *b) {
    /* SAFETY: pthread_mutex_lock -- take a bucket's mutex.
     * Relies on: b points into the static table, whose mutexes are statically initialised default
     * mutexes that are never destroyed; this thread does not already hold it (no nesting in this file).
     * On failure: cannot fail for a valid default mutex not held by the caller. */
    (void)pthread_mutex_lock(&b->lock);
}

static void unlock_bucket(bucket *b) {
    /* SAFETY: pthread_mutex_unlock -- release a bucket's mutex.
     * Relies on: the calling thread holds it (every unlock pairs with a lock_bucket in this file).
     * On failure: cannot fail for a mutex the caller holds. */
    (void)pthread_mutex_unlock(&b->lock);
}

static void unlink_waiter(bucket *b, waiter *w) {
    waiter *prev = NULL;
    for (waiter *it = b->head; it != NULL; prev = it, it = it->next) {
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

/* A condition variable on the monotonic clock, so that deadlines are those of cordon__sys_monotonic_ns. */
static cordon_status init_cond(pthread_cond_t *cond) {
    int err = 0;
    if (CORDON__FAULT(PTHREAD_COND_INIT, &err)) {
        return cordon__sys_fail("pthread_cond_init", err);
    }
    pthread_condattr_t attr;
    /* SAFETY: pthread_condattr_init -- prepare attributes for a waiter's condvar.
     * Relies on: attr is a local destroyed below on every path.
     * On failure: returns the error number; recorded as "pthread_cond_init", nothing to undo. */
    int rc = pthread_condattr_init(&attr);
    if (rc != 0) {
        return cordon__sys_fail("pthread_cond_init", rc);
    }
    /* SAFETY: pthread_condattr_setclock -- make timed waits measure CLOCK_MONOTONIC deadlines.
     * Relies on: attr was initialised just above; CLOCK_MONOTONIC is supported by every POSIX system
     * this backend is built on.
     * On failure: the error number is recorded as "pthread_cond_init" after attr is destroyed. */
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0) {
        /* SAFETY: pthread_cond_init -- create the waiter's condition variable.
         * Relies on: cond is the waiter's own field, not yet initialised; attr is initialised; the
         * waiter destroys cond before it returns.
         * On failure: returns the error number (EAGAIN, ENOMEM); recorded as "pthread_cond_init". */
        rc = pthread_cond_init(cond, &attr);
    }
    /* SAFETY: pthread_condattr_destroy -- release the attribute object.
     * Relies on: attr was initialised above and is no longer needed (cond keeps its own copy).
     * On failure: cannot fail for an initialised attribute. */
    (void)pthread_condattr_destroy(&attr);
    return rc == 0 ? CORDON_OK : cordon__sys_fail("pthread_cond_init", rc);
}

/* An injected failure of the wait: the outcome the same errno has with the Linux backend. */
static cordon_status injected(int err, uint64_t deadline_ns, bool *retry) {
    *retry = false;
    switch (err) {
    case EAGAIN:
        return CORDON_NOT_EQUAL;
    case ETIMEDOUT:
        return CORDON_TIMED_OUT;
    case EINTR: {
        uint64_t now = 0;
        if (deadline_ns != CORDON__SYS_FOREVER && cordon__sys_monotonic_ns(&now) == CORDON_OK && now >= deadline_ns) {
            return CORDON_TIMED_OUT;
        }
        *retry = true;
        return CORDON_OK;
    }
    default:
        return cordon__sys_fail("futex", err);
    }
}

cordon_status cordon__futex_parking_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags) {
    if ((flags & CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_UNSUPPORTED;
    }
    for (;;) {
        int ierr = 0;
        if (!CORDON__FAULT(FUTEX, &ierr)) {
            break;
        }
        bool retry = false;
        cordon_status st = injected(ierr, deadline_ns, &retry);
        if (!retry) {
            return st;
        }
    }
    waiter w;
    w.next = NULL;
    w.word = word;
    w.woken = false;
    cordon_status st = init_cond(&w.cond);
    if (st != CORDON_OK) {
        return st;
    }
    struct timespec ts;
    if (deadline_ns != CORDON__SYS_FOREVER) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
        ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    }
    bucket *b = bucket_for(word);
    lock_bucket(b);
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) {
        st = CORDON_NOT_EQUAL;
    } else {
        if (b->tail == NULL) {
            b->head = &w;
        } else {
            b->tail->next = &w;
        }
        b->tail = &w;
        while (!w.woken) {
            int err = 0;
            if (CORDON__FAULT(PTHREAD_COND_WAIT, &err)) {
                /* behaves as if the wait returned err at once */
            } else if (deadline_ns == CORDON__SYS_FOREVER) {
                /* SAFETY: pthread_cond_wait -- sleep until a waker sets w.woken and signals.
                 * Relies on: the bucket mutex is held by this thread; w.cond was initialised above; w
                 * stays queued (alive on this frame) until a waker or this thread unlinks it.
                 * On failure: cannot fail with a held default mutex; spurious returns loop on w.woken. */
                err = pthread_cond_wait(&w.cond, &b->lock);
            } else {
                /* SAFETY: pthread_cond_timedwait -- sleep until woken or until the absolute deadline ts.
                 * Relies on: the bucket mutex is held; w.cond uses CLOCK_MONOTONIC (init_cond), the clock
                 * of ts; ts is a local of this frame, the same absolute deadline for every retry.
                 * On failure: ETIMEDOUT → unlink (unless woken meanwhile) and TIMED_OUT; others are
                 * recorded as "pthread_cond_timedwait" after unlinking. */
                err = pthread_cond_timedwait(&w.cond, &b->lock, &ts);
            }
            if (err == 0 || w.woken) {
                continue;
            }
            if (err == EINTR) {
                continue;
            }
            unlink_waiter(b, &w);
            st = err == ETIMEDOUT ? CORDON_TIMED_OUT : cordon__sys_fail("pthread_cond_timedwait", err);
            break;
        }
    }
    unlock_bucket(b);
    /* SAFETY: pthread_cond_destroy -- release the waiter's condvar.
     * Relies on: w is unlinked (by a waker, who signalled under the bucket mutex, or by this thread), so
     * no other thread can reach w.cond any more.
     * On failure: cannot fail for a condvar nobody waits on. */
    (void)pthread_cond_destroy(&w.cond);
    return st;
}

cordon_status cordon__futex_parking_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    if ((flags & CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_UNSUPPORTED;
    }
    int ierr = 0;
    if (CORDON__FAULT(FUTEX, &ierr)) {
        return cordon__sys_fail("futex", ierr);
    }
    uint32_t woken = 0;
    bucket *b = bucket_for(word);
    lock_bucket(b);
    waiter *prev = NULL;
    waiter *it = b->head;
    while (it != NULL && woken < count) {
        waiter *next = it->next;
        if (it->word == word) {
            if (prev == NULL) {
                b->head = next;
            } else {
                prev->next = next;
            }
            if (b->tail == it) {
                b->tail = prev;
            }
            it->woken = true;
            /* SAFETY: pthread_cond_signal -- wake the dequeued waiter.
             * Relies on: the bucket mutex is held, so the waiter is still inside its wait and its condvar
             * (on its stack) is alive; it is woken once because it was unlinked just above.
             * On failure: cannot fail for an initialised condvar. */
            (void)pthread_cond_signal(&it->cond);
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

#else
typedef int cordon__futex_parking_not_built; /* keeps the translation unit non-empty (ISO C) */
#endif
