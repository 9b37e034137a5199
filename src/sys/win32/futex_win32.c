/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — futex backend for Windows: WaitOnAddress / WakeByAddressSingle / WakeByAddressAll
 * (Windows 8 and later; the API set api-ms-win-core-synch-l1-2-0, linked through libsynchronization).
 *
 * WaitOnAddress takes a relative timeout in milliseconds and may return early or spuriously, so the
 * wait recomputes what is left of the caller's absolute deadline on each round and reports
 * CORDON_TIMED_OUT only once the monotonic clock has passed it: a timeout never comes early and never
 * stretches. It works within one process only: CORDON__SYS_FUTEX_SHARED → CORDON_UNSUPPORTED. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <stdatomic.h>
#include <windows.h>

#include "sys/futex_backend.h"
#include "sys/win32/win32_internal.h"

/* Milliseconds to wait for deadline_ns from now_ns, rounded up (never early), below INFINITE. */
static DWORD timeout_ms(uint64_t now_ns, uint64_t deadline_ns) {
    uint64_t left = deadline_ns - now_ns;
    uint64_t ms = left / 1000000u + (left % 1000000u != 0 ? 1u : 0u);
    return ms >= (uint64_t)INFINITE ? INFINITE - 1u : (DWORD)ms;
}

cordon_status cordon__futex_win32_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags) {
    if ((flags & CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_UNSUPPORTED;
    }
    for (;;) {
        int err = 0;
        if (CORDON__FAULT(FUTEX, &err)) {
            /* The futex entry point's fault point (as on Linux): an errno value; EINTR is a wake-up
             * that changes nothing, retried against the same deadline, and another value a failure. */
            if (err != EINTR) {
                return cordon__sys_fail_injected(CORDON__CALL_FUTEX, err);
            }
            uint64_t now = 0;
            if (deadline_ns != CORDON__SYS_FOREVER && cordon__sys_monotonic_ns(&now) == CORDON_OK &&
                now >= deadline_ns) {
                return CORDON_TIMED_OUT; /* an EINTR storm still ends at the deadline */
            }
            continue;
        }
        /* WaitOnAddress returns at once (TRUE) when the word differs; the contract tells that case
         * apart, so it is compared here first (the wait compares again, atomically with sleeping). */
        if (atomic_load_explicit((_Atomic uint32_t *)word, memory_order_seq_cst) != expected) {
            return CORDON_NOT_EQUAL;
        }
        DWORD ms = INFINITE;
        if (deadline_ns != CORDON__SYS_FOREVER) {
            uint64_t now = 0;
            cordon_status st = cordon__sys_monotonic_ns(&now);
            if (st != CORDON_OK) {
                return st;
            }
            if (now >= deadline_ns) {
                return CORDON_TIMED_OUT;
            }
            ms = timeout_ms(now, deadline_ns);
        }
        BOOL woke = FALSE;
        {
            uint32_t compare = expected;
            /* SAFETY: WaitOnAddress -- sleep while *word == expected, until woken or ms pass.
             * Relies on: word non-NULL and 4-byte aligned (checked in futex.c), alive for the call (the
             * caller's precondition) and written by other threads only atomically; compare is a local
             * holding the 4 bytes compared, alive for the call; the size passed is 4; ms is below
             * INFINITE unless there is no deadline.
             * On failure: FALSE with ERROR_TIMEOUT → round again against the deadline; any other error
             * recorded as "WaitOnAddress" with the Win32 code. A TRUE return may be spurious: callers
             * re-check their condition, as the contract says. */
            woke = WaitOnAddress(word, &compare, sizeof compare, ms);
            if (!woke) {
                err = cordon__sys_win32_error();
            }
        }
        if (woke) {
            return CORDON_OK;
        }
        if (err != ERROR_TIMEOUT) {
            return cordon__sys_fail_win32("WaitOnAddress", err);
        }
        if (deadline_ns == CORDON__SYS_FOREVER) {
            continue;
        }
    }
}

cordon_status cordon__futex_win32_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    if ((flags & CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_UNSUPPORTED;
    }
    int err = 0;
    if (CORDON__FAULT(FUTEX, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_FUTEX, err); /* the contract's wake failure path */
    }
    if (count == UINT32_MAX) {
        /* SAFETY: WakeByAddressAll -- wake every thread waiting on word.
         * Relies on: word non-NULL and 4-byte aligned (checked in futex.c); the address is only a key,
         * its memory is not touched.
         * On failure: cannot fail. */
        WakeByAddressAll(word);
    } else {
        for (uint32_t i = 0; i < count; i++) {
            /* SAFETY: WakeByAddressSingle -- wake one thread waiting on word (count times: at most
             * count threads).
             * Relies on: as for WakeByAddressAll; a call with no waiter left does nothing.
             * On failure: cannot fail. */
            WakeByAddressSingle(word);
        }
    }
    /* Windows does not say how many threads woke: 0 is the only sure lower bound. */
    if (woken_out != NULL) {
        *woken_out = 0;
    }
    return CORDON_OK;
}
