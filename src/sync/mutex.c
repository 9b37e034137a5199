/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the mutex: three states in one futex word.
 *
 *   0 unlocked · 1 locked, no thread parked · 2 locked, a thread may be parked
 *
 * lock:   CAS 0→1 (the whole uncontended path). Otherwise spin: back-off rounds (below) that look at
 *         the word while it reads 1, taking it by CAS 0→1 when it reads 0. Spinning stops early when
 *         the word reads 2. Then the parking loop: exchange the word to 2 (unless it already reads 2)
 *         — if the old value was 0 we own it — else park while it is 2; once woken, spin again (the
 *         lock was just released and its holder is running), now taking it by CAS 0→2, then repeat.
 * unlock: exchange to 0; only if the old state was 2 wake one parked thread. Nobody parked, no
 *         system call; never more than one thread woken per unlock (no thundering herd).
 *
 * Interleavings this prevents:
 *  - Lost wakeup: a locker announces itself (state 2) by the same exchange that tests for 0, and then
 *    parks only while the word still reads 2 (the kernel compares atomically). An unlock between the
 *    exchange and the park changes the word to 0, so the park returns NOT_EQUAL instead of sleeping.
 *  - A wake consumed while others stay asleep: the unlock that woke a thread reset the word to 0, and
 *    other threads may still be parked. The woken thread carries their claim: it never leaves (with
 *    the lock, or TIMED_OUT) nor parks again before the word has read 2 after its wake — it takes the
 *    lock by CAS 0→2 or exchange to 2, or parks only while the word reads 2 (set by itself or by a
 *    newer parker). So whenever a thread is parked, the word reads 2 or a woken thread is on its way
 *    to making it 2; meanwhile the word may read 1 (a barging thread) and the woken thread spins.
 *    (Cost: when it was the last parked thread, its unlock makes one needless wake call.)
 *  - Spinning against parked threads: the first spin stops when the word reads 2, since the holder
 *    then pays for a wake on its unlock anyway and a spinner would only steal cycles from it.
 *
 * Spin policy. Round r waits 2^r pause instructions before looking at the word, so a spinner touches
 * the holder's cache line once per round — each look costs the holder a transfer of the line back
 * (polling on every pause halved 2-thread throughput). The full budget, 10 rounds (1023 pauses), is
 * about 30 us on the Sapphire-Rapids-class KVM guest the benchmarks run on (a pause measured ~28 ns):
 * about what parking costs there (an idle vCPU takes ~20 us or more to wake), so spinning longer
 * than the budget never saves more than it wastes (the usual spin-then-block bound: at most twice the
 * better of the two). Adaptive: each thread keeps its own budget, one round more after a spin that
 * won the lock and one round fewer after a spin that ran out (down to 4 rounds, 15 pauses). A spin
 * that runs out means the holder kept the lock for longer than the budget — typically it was
 * preempted, which user space cannot see directly and which makes spinning pure waste (on a 2-vCPU
 * machine the spinner may even be keeping the holder's vCPU busy); after a few such spins a thread
 * parks almost at once, and successes bring the budget back. Per thread rather than per mutex: the
 * mutex is one word, all of it the futex word.
 *
 * Fairness: barging, not hand-off. unlock makes the lock free rather than passing it to the woken
 * thread, so a running thread (the unlocker itself, a spinner) may take it before the woken one runs.
 * That keeps the holder's cache line and CPU busy instead of waiting out a wake-up (tens of us here),
 * which is what gives throughput under contention; the price is that no thread is guaranteed to get
 * the lock in bounded time: a thread that relocks in a tight loop can starve a parked one for as long
 * as it keeps doing so (in practice until it is descheduled or blocks). Callers that need FIFO order
 * must queue above the mutex. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

#ifndef CORDON_MUTEX_SPIN_ROUNDS
#  define CORDON_MUTEX_SPIN_ROUNDS 10
#endif
#define SPIN_ROUNDS_MAX CORDON_MUTEX_SPIN_ROUNDS
#define SPIN_ROUNDS_MIN 4

/* This thread's spin budget in rounds, within [SPIN_ROUNDS_MIN, SPIN_ROUNDS_MAX]; 0 means not yet set
 * (a thread starts with the full budget). */
static _Thread_local unsigned spin_budget;

typedef enum spin_result { SPIN_ACQUIRED, SPIN_SAW_PARKED, SPIN_RAN_OUT } spin_result;

/* Spins while the word reads 1, for at most `rounds` back-off rounds; a word seen at 0 is taken by
 * CAS 0→`take_as`. */
static spin_result spin_while_held(uint32_t *state, unsigned rounds, uint32_t take_as) {
    for (unsigned round = 0; round < rounds; round++) {
        for (uint32_t k = 0; k < (1u << round); k++) {
            cordon__cpu_relax();
        }
        uint32_t s = LOAD_RELAXED(state);
        if (s == 0) {
            uint32_t expected = 0;
            if (CAS(state, &expected, take_as)) {
                return SPIN_ACQUIRED;
            }
            s = expected;
        }
        if (s == 2) {
            return SPIN_SAW_PARKED;
        }
    }
    return SPIN_RAN_OUT;
}

static unsigned current_budget(void) {
    unsigned b = spin_budget;
    return b == 0 ? SPIN_ROUNDS_MAX : b;
}

/* Adapts this thread's budget to how its last spin went (SPIN_SAW_PARKED says nothing about it). */
static void adapt_budget(spin_result r) {
    unsigned b = current_budget();
    if (r == SPIN_ACQUIRED && b < SPIN_ROUNDS_MAX) {
        b++;
    } else if (r == SPIN_RAN_OUT && b > SPIN_ROUNDS_MIN) {
        b--;
    }
    spin_budget = b;
}

cordon_status cordon__mutex_lock_slow(uint32_t *state, uint64_t deadline_ns) {
    uint32_t zero = 0;
    if (__atomic_compare_exchange_n(state, &zero, 1u, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        return CORDON_OK;
    }
    spin_result r = spin_while_held(state, current_budget(), 1u);
    adapt_budget(r);
    if (r == SPIN_ACQUIRED) {
        return CORDON_OK;
    }
    bool parked_seen = r == SPIN_SAW_PARKED;
    for (;;) {
        /* From here on the lock is only taken with the word at 2 (see "A wake consumed…"). */
        if (!parked_seen && XCHG(state, 2u) == 0) {
            return CORDON_OK;
        }
        if (cordon__park(state, 2u, deadline_ns) == CORDON_TIMED_OUT) {
            /* One last exchange: the lock may have been released just as the deadline passed. Either
             * way the word is left at 2, so a thread woken for this one's sake (see "A wake
             * consumed…") passes its claim on even if the park failed without comparing. */
            return XCHG(state, 2u) == 0 ? CORDON_OK : CORDON_TIMED_OUT;
        }
        /* Woken (or NOT_EQUAL, or spuriously): the holder that released is likely still running. */
        r = spin_while_held(state, current_budget(), 2u);
        if (r == SPIN_ACQUIRED) {
            return CORDON_OK;
        }
        parked_seen = r == SPIN_SAW_PARKED;
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
