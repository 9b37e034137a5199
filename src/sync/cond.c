/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the condition variable: a sequence counter to sleep on, and a count of parked waiters so
 * that a signal with nobody parked costs one atomic load and no system call.
 *
 * wait(c, m):   s = seq · unlock m · brief spin until seq != s · if unchanged: waiters++ · park while
 *               seq == s · waiters-- · lock m
 * signal(c):    seq++ · if waiters > 0: wake 1        broadcast: seq++ · if waiters > 0: wake all
 *
 * Interleavings this prevents (the signaller changed the predicate under m, then signals):
 *  - Lost wakeup between "unlock m" and "park": the waiter read s while holding m, so a signal made
 *    after the predicate change (which needed m) bumps seq after that read; the park compares
 *    seq == s atomically with going to sleep and returns NOT_EQUAL instead of sleeping.
 *  - Skipped wake: the waiter's waiters++ and the signaller's seq++ are sequentially consistent, and
 *    each then looks at the other's word (the waiter's park compares seq, the signaller loads
 *    waiters). If the signaller saw waiters == 0, its seq++ came first, so the park finds seq != s and
 *    returns at once; otherwise the signaller wakes it. A waiter that only spins is not counted: it
 *    sees seq change by itself.
 *  - A woken waiter leaving others parked on m: waiters are never moved from the condvar's futex to
 *    the mutex's (no requeue), so every thread that ends up parked on m got there through the mutex's
 *    own slow path, which sets state 2 before parking; re-locking with the ordinary lock (fast CAS,
 *    bounded spin) is therefore enough for the next unlock to wake it. This matters for latency: a
 *    waiter woken while the signaller still holds m usually gets it by spinning, without parking, and
 *    an unlock that follows finds state 1 and makes no system call.
 * Wrap-around: after 2^32 bumps seq repeats; see sync.h. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

/* Rounds of the brief spin before parking: round r waits 2^r pauses, then looks at seq. */
#define WAIT_SPIN_ROUNDS 10

/* Both checked before either is touched: a refused wait leaves m held. */
static cordon_status check_pair(const cordon_cond *c, const cordon_mutex *m) {
    if (c == NULL || m == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = CORDON__CHECK_OBJECT(c, cordon_cond);
    return st != CORDON_OK ? st : CORDON__CHECK_OBJECT(m, cordon_mutex);
}

static cordon_status cond_wait(cordon_cond *c, cordon_mutex *m, uint64_t deadline_ns) {
    uint32_t s = LOAD(&c->seq);
    cordon_status st = cordon_mutex_unlock(m);
    if (st != CORDON_OK) {
        return st; /* the caller did not hold m: nothing was changed */
    }
    /* A signal often follows within microseconds (ping-pong): catch it by spinning, with no system
     * call on either side — the signaller wakes only registered (about to park) waiters. */
    bool changed = false;
    for (int round = 0; round < WAIT_SPIN_ROUNDS && !changed; round++) {
        for (int k = 0; k < (1 << round); k++) {
            cordon__cpu_relax();
        }
        changed = LOAD(&c->seq) != s;
    }
    st = CORDON_OK;
    if (!changed) {
        FETCH_ADD(&c->waiters, 1u);
        st = cordon__park(&c->seq, s, deadline_ns);
        FETCH_SUB(&c->waiters, 1u);
    }
    (void)cordon__mutex_lock_slow(&m->state, CORDON__SYS_FOREVER);
    return st == CORDON_TIMED_OUT ? CORDON_TIMED_OUT : CORDON_OK;
}

cordon_status cordon_cond_wait(cordon_cond *c, cordon_mutex *m) {
    cordon_status check = check_pair(c, m);
    if (check != CORDON_OK) {
        return check;
    }
    return cond_wait(c, m, CORDON__SYS_FOREVER);
}

cordon_status cordon_cond_wait_until(cordon_cond *c, cordon_mutex *m, uint64_t deadline_ns) {
    cordon_status check = check_pair(c, m);
    if (check != CORDON_OK) {
        return check;
    }
    return cond_wait(c, m, deadline_ns);
}

cordon_status cordon_cond_wait_timed(cordon_cond *c, cordon_mutex *m, int64_t timeout_ns) {
    cordon_status check = check_pair(c, m);
    if (check != CORDON_OK) {
        return check;
    }
    uint64_t deadline = 0;
    cordon_status st = cordon__deadline_after(timeout_ns, &deadline);
    if (st != CORDON_OK) {
        return st;
    }
    return cond_wait(c, m, deadline);
}

static cordon_status notify(cordon_cond *c, uint32_t count) {
    cordon_status check = CORDON__CHECK_OBJECT(c, cordon_cond);
    if (check != CORDON_OK) {
        return check;
    }
    FETCH_ADD(&c->seq, 1u);
    if (LOAD(&c->waiters) != 0) {
        cordon__unpark(&c->seq, count);
    }
    return CORDON_OK;
}

cordon_status cordon_cond_signal(cordon_cond *c) {
    return notify(c, 1u);
}

cordon_status cordon_cond_broadcast(cordon_cond *c) {
    return notify(c, UINT32_MAX);
}
