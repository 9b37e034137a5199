/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — futex backend for macOS: __ulock_wait2 / __ulock_wake (XNU, macOS 11 and later).
 *
 * NOT RUN ON macOS: no Apple machine was available. This logic is compiled on every platform and
 * tested on Linux (tests/test_ulock.c) against a double of the two XNU calls that reproduces their
 * documented behaviour; futex.c binds it to the real calls only on Apple.
 *
 * The rules this file follows (each one a bug of an earlier implementation):
 *  - both sides use UL_COMPARE_AND_WAIT (…_SHARED for shared words): XNU keys waiters by address AND
 *    operation type, and a wake whose type differs fails with EDOM, leaving the waiters asleep;
 *  - wake-all is ULF_WAKE_ALL in the operation word, not a count;
 *  - ULF_NO_ERRNO on every call: failures come back as -errno, so errno is never involved;
 *  - a wake finding no waiter fails with ENOENT: that is success with 0 woken;
 *  - a timeout of 0 means "forever" to XNU, so a deadline that has passed is answered here
 *    (TIMED_OUT) instead of being passed down as 0;
 *  - the timeout is relative: after EINTR it is recomputed from the same absolute deadline;
 *  - XNU returns success without blocking when *addr != value, so NOT_EQUAL is decided by comparing
 *    the word here first; a change between that comparison and XNU's is reported as OK (woken), which
 *    callers handle like any spurious wake. */
#define _GNU_SOURCE

#include <errno.h>

#include "sys/futex_backend.h"
#include "sys/sys_internal.h"

static uint32_t wait_operation(unsigned flags) {
    uint32_t type = (flags & CORDON__SYS_FUTEX_SHARED) != 0 ? CORDON__UL_COMPARE_AND_WAIT_SHARED : CORDON__UL_COMPARE_AND_WAIT;
    return type | CORDON__ULF_NO_ERRNO;
}

cordon_status cordon__futex_ulock_wait(const cordon__ulock_ops *ops, uint32_t *word, uint32_t expected,
                                       uint64_t deadline_ns, unsigned flags) {
    for (;;) {
        if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != expected) {
            return CORDON_NOT_EQUAL;
        }
        uint64_t timeout_ns = 0; /* 0: forever, to XNU */
        if (deadline_ns != CORDON__SYS_FOREVER) {
            uint64_t now = 0;
            cordon_status st = cordon__sys_monotonic_ns(&now);
            if (st != CORDON_OK) {
                return st;
            }
            if (now >= deadline_ns) {
                return CORDON_TIMED_OUT;
            }
            timeout_ns = deadline_ns - now; /* > 0: never the "forever" encoding */
        }
        int err = 0;
        int rc = -1;
        if (!CORDON__FAULT(ULOCK_WAIT2, &err)) {
            rc = ops->wait2(wait_operation(flags), word, expected, timeout_ns, 0);
            err = rc < 0 ? -rc : 0;
        }
        if (rc >= 0) {
            return CORDON_OK;
        }
        switch (err) {
        case ETIMEDOUT:
            return CORDON_TIMED_OUT;
        case EINTR:
            continue; /* the next round recomputes the remaining time from the same deadline */
        default:
            return cordon__sys_fail("__ulock_wait2", err);
        }
    }
}

/* One wake call; *none set when XNU found no waiter (ENOENT). */
static cordon_status wake_once(const cordon__ulock_ops *ops, uint32_t *word, uint32_t operation, bool *none) {
    int err = 0;
    int rc = -1;
    if (!CORDON__FAULT(ULOCK_WAKE, &err)) {
        rc = ops->wake(operation, word, 0);
        err = rc < 0 ? -rc : 0;
    }
    *none = false;
    if (rc >= 0) {
        return CORDON_OK;
    }
    if (err == ENOENT) {
        *none = true;
        return CORDON_OK;
    }
    return cordon__sys_fail("__ulock_wake", err);
}

cordon_status cordon__futex_ulock_wake(const cordon__ulock_ops *ops, uint32_t *word, uint32_t count, unsigned flags,
                                       uint32_t *woken_out) {
    const uint32_t operation = wait_operation(flags); /* the waiters' type, or XNU answers EDOM */
    uint32_t woken = 0;
    bool none = false;
    if (count == UINT32_MAX) {
        /* XNU does not say how many a wake-all woke: report 1 (a lower bound) unless it found none. */
        cordon_status st = wake_once(ops, word, operation | CORDON__ULF_WAKE_ALL, &none);
        if (st != CORDON_OK) {
            return st;
        }
        woken = none ? 0u : 1u;
    } else {
        /* Waking n: one waiter per call, stopping at the first ENOENT, so the count is exact. */
        while (woken < count) {
            cordon_status st = wake_once(ops, word, operation, &none);
            if (st != CORDON_OK) {
                if (woken > 0) {
                    break; /* some were woken: report them rather than lose the count */
                }
                return st;
            }
            if (none) {
                break;
            }
            woken++;
        }
    }
    if (woken_out != NULL) {
        *woken_out = woken;
    }
    return CORDON_OK;
}
