/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — counting semaphore: a count to sleep on and a count of parked threads.
 *
 * wait: take one by CAS while count > 0; else waiters++, park while count == 0, waiters--, retry.
 * post: count++ (CAS, refusing to wrap); if waiters > 0 wake one.
 * Lost wakeup: waiters++ and the poster's count++ / waiters load are sequentially consistent. If the
 * poster saw waiters == 0, the waiter registered later, so its park compares count == 0 after the
 * increment and returns NOT_EQUAL. If the poster saw the waiter, it wakes it — or the park's
 * comparison already fails. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

cordon_status cordon_sem_post(cordon_sem *s) {
    cordon_status check = CORDON__CHECK_OBJECT(s, cordon_sem);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t c = LOAD(&s->count);
    do {
        if (c == UINT32_MAX) {
            return CORDON_LIMIT_EXCEEDED;
        }
    } while (!CAS(&s->count, &c, c + 1u));
    if (LOAD(&s->waiters) != 0) {
        cordon__unpark(&s->count, 1u);
    }
    return CORDON_OK;
}

static bool try_take(cordon_sem *s) {
    uint32_t c = LOAD(&s->count);
    while (c != 0) {
        if (CAS(&s->count, &c, c - 1u)) {
            return true;
        }
    }
    return false;
}

static cordon_status sem_wait(cordon_sem *s, uint64_t deadline_ns) {
    for (;;) {
        if (try_take(s)) {
            return CORDON_OK;
        }
        FETCH_ADD(&s->waiters, 1u);
        cordon_status st = cordon__park(&s->count, 0u, deadline_ns);
        FETCH_SUB(&s->waiters, 1u);
        if (st == CORDON_TIMED_OUT) {
            return try_take(s) ? CORDON_OK : CORDON_TIMED_OUT;
        }
    }
}

cordon_status cordon_sem_wait(cordon_sem *s) {
    cordon_status check = CORDON__CHECK_OBJECT(s, cordon_sem);
    if (check != CORDON_OK) {
        return check;
    }
    return sem_wait(s, CORDON__SYS_FOREVER);
}

cordon_status cordon_sem_trywait(cordon_sem *s) {
    cordon_status check = CORDON__CHECK_OBJECT(s, cordon_sem);
    if (check != CORDON_OK) {
        return check;
    }
    return try_take(s) ? CORDON_OK : CORDON_BUSY;
}

cordon_status cordon_sem_wait_until(cordon_sem *s, uint64_t deadline_ns) {
    cordon_status check = CORDON__CHECK_OBJECT(s, cordon_sem);
    if (check != CORDON_OK) {
        return check;
    }
    return sem_wait(s, deadline_ns);
}

cordon_status cordon_sem_wait_timed(cordon_sem *s, int64_t timeout_ns) {
    cordon_status check = CORDON__CHECK_OBJECT(s, cordon_sem);
    if (check != CORDON_OK) {
        return check;
    }
    uint64_t deadline = 0;
    cordon_status st = cordon__deadline_after(timeout_ns, &deadline);
    if (st != CORDON_OK) {
        return st;
    }
    return sem_wait(s, deadline);
}

uint32_t cordon_sem_value(const cordon_sem *s) {
    return CORDON__CHECK_OBJECT(s, cordon_sem) != CORDON_OK ? 0u : __atomic_load_n(&s->count, __ATOMIC_SEQ_CST);
}
