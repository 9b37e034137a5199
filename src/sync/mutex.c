/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the mutex: three states in one futex word.
 *
 *   0 unlocked · 1 locked, nobody parked · 2 locked, a thread may be parked
 *
 * lock:   CAS 0→1 (the whole uncontended path). Otherwise spin (bounded, exponential back-off) while
 *         the state is 1 (the holder is running and nobody is parked: it may release soon), then
 *         exchange the state to 2 — if the old value was 0 we own it — else park while it is 2.
 * unlock: exchange to 0; only if the old state was 2 wake one parked thread.
 *
 * Interleavings this prevents:
 *  - Lost wakeup: a locker announces itself (state 2) by the same exchange that tests for 0, and then
 *    parks only while the word still reads 2 (the kernel compares atomically). An unlock between the
 *    exchange and the park changes the word to 0, so the park returns NOT_EQUAL instead of sleeping.
 *  - A wake consumed while others stay asleep: a thread woken from the park re-takes the lock with
 *    state 2, not 1, because other threads may still be parked behind it; their wake then comes from
 *    its unlock. (Cost: at most one wake too many.)
 *  - Spinning against parked threads: spinning happens only while the state is 1; once it is 2 the
 *    lock is handed over through the futex and spinning would only steal cycles from the holder. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

/* Spin rounds (at most 2^10 - 1 = 1023 pause instructions in all): round r waits 2^r pauses before
 * looking at the word again, so a spinner touches the holder's cache line only ten times — each look
 * costs the holder a transfer of the line back. (Polling every pause halved 2-thread throughput.) */
#ifndef CORDON_MUTEX_SPIN_ROUNDS
#  define CORDON_MUTEX_SPIN_ROUNDS 10
#endif
#define SPIN_ROUNDS CORDON_MUTEX_SPIN_ROUNDS

cordon_status cordon__mutex_lock_slow(uint32_t *state, uint64_t deadline_ns) {
    uint32_t zero = 0;
    if (__atomic_compare_exchange_n(state, &zero, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return CORDON_OK;
    }
    for (int round = 0; round < SPIN_ROUNDS; round++) {
        for (int k = 0; k < (1 << round); k++) {
            cordon__cpu_relax();
        }
        uint32_t s = LOAD_RELAXED(state);
        if (s == 0) {
            uint32_t expected = 0;
            if (CAS(state, &expected, 1u)) {
                return CORDON_OK;
            }
        } else if (s != 1) {
            break;
        }
    }
    for (;;) {
        if (XCHG(state, 2u) == 0) {
            return CORDON_OK;
        }
        if (cordon__park(state, 2u, deadline_ns) == CORDON_TIMED_OUT) {
            /* One last try: the lock may have been released just as the deadline passed. The state is
             * left at 2 if held, which at worst costs the holder one needless wake. */
            uint32_t expected = 0;
            return CAS(state, &expected, 2u) ? CORDON_OK : CORDON_TIMED_OUT;
        }
    }
}

cordon_status cordon_mutex_lock(cordon_mutex *m) {
    cordon_status check = CORDON__CHECK_OBJECT(m, cordon_mutex);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&m->state, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return CORDON_OK;
    }
    return cordon__mutex_lock_slow(&m->state, CORDON__SYS_FOREVER);
}

cordon_status cordon_mutex_trylock(cordon_mutex *m) {
    cordon_status check = CORDON__CHECK_OBJECT(m, cordon_mutex);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t expected = 0;
    return __atomic_compare_exchange_n(&m->state, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)
               ? CORDON_OK
               : CORDON_BUSY;
}

cordon_status cordon_mutex_lock_until(cordon_mutex *m, uint64_t deadline_ns) {
    cordon_status check = CORDON__CHECK_OBJECT(m, cordon_mutex);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&m->state, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return CORDON_OK;
    }
    return cordon__mutex_lock_slow(&m->state, deadline_ns);
}

cordon_status cordon_mutex_lock_timed(cordon_mutex *m, int64_t timeout_ns) {
    cordon_status check = CORDON__CHECK_OBJECT(m, cordon_mutex);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t expected = 0;
    if (__atomic_compare_exchange_n(&m->state, &expected, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return CORDON_OK;
    }
    uint64_t deadline = 0;
    cordon_status st = cordon__deadline_after(timeout_ns, &deadline);
    if (st != CORDON_OK) {
        return st;
    }
    return cordon__mutex_lock_slow(&m->state, deadline);
}

cordon_status cordon_mutex_unlock(cordon_mutex *m) {
    cordon_status check = CORDON__CHECK_OBJECT(m, cordon_mutex);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t old = __atomic_exchange_n(&m->state, 0u, __ATOMIC_RELEASE);
    if (old == 2) {
        cordon__unpark(&m->state, 1);
    }
    return old == 0 ? CORDON_WRONG_STATE : CORDON_OK;
}
