/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — deadlines and the futex calls every primitive makes. */
#include "sync/sync_internal.h"

cordon_status cordon__deadline_after(int64_t timeout_ns, uint64_t *deadline_out) {
    if (timeout_ns < 0) {
        *deadline_out = CORDON__SYS_FOREVER;
        return CORDON_OK;
    }
    uint64_t now = 0;
    cordon_status st = cordon__sys_monotonic_ns(&now);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t rel = (uint64_t)timeout_ns;
    *deadline_out = rel >= CORDON__SYS_FOREVER - now ? CORDON__SYS_FOREVER - 1u : now + rel;
    return CORDON_OK;
}

cordon_status cordon__park(uint32_t *word, uint32_t expected, uint64_t deadline_ns) {
    cordon_status st = cordon__sys_futex_wait(word, expected, deadline_ns, 0);
    if (st == CORDON_OK || st == CORDON_NOT_EQUAL || st == CORDON_TIMED_OUT) {
        return st;
    }
    /* The OS refused the wait (never seen outside fault injection): behave as a spurious wake-up, which
     * every caller already loops on, but never past the deadline — a wait whose futex keeps failing
     * still ends on time. */
    cordon__sys_thread_yield();
    uint64_t now = 0;
    if (deadline_ns != CORDON__SYS_FOREVER && cordon__sys_monotonic_ns(&now) == CORDON_OK && now >= deadline_ns) {
        return CORDON_TIMED_OUT;
    }
    return CORDON_OK;
}

void cordon__unpark(uint32_t *word, uint32_t count) {
    while (cordon__sys_futex_wake(word, count, 0, NULL) != CORDON_OK) {
        cordon__sys_thread_yield();
    }
}
