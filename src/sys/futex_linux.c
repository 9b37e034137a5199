/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — futex backend for Linux: FUTEX_WAIT_BITSET / FUTEX_WAKE.
 *
 * The wait takes an ABSOLUTE CLOCK_MONOTONIC deadline (FUTEX_WAIT_BITSET without FUTEX_CLOCK_REALTIME),
 * built once from the caller's deadline: a retry after EINTR passes the same timespec, so signals can
 * never stretch the total wait. The timespec is a local of this frame, alive across every retry. */
#define _GNU_SOURCE

#include "sys/futex_backend.h"
#include "sys/sys_internal.h"

#if defined(__linux__)

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int private_flag(unsigned flags) {
    return (flags & CORDON__SYS_FUTEX_SHARED) != 0 ? 0 : FUTEX_PRIVATE_FLAG;
}

/* After EINTR: has the deadline passed? (An EINTR storm, real or injected, must still end.) */
static bool deadline_passed(uint64_t deadline_ns) {
    uint64_t now = 0;
    return deadline_ns != CORDON__SYS_FOREVER && cordon__sys_monotonic_ns(&now) == CORDON_OK && now >= deadline_ns;
}

cordon_status cordon__futex_linux_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags) {
    struct timespec ts;
    const struct timespec *tsp = NULL;
    if (deadline_ns != CORDON__SYS_FOREVER) {
        /* 2^64 ns is 584 years: tv_sec fits a 64-bit time_t with no clamping. */
        ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
        ts.tv_nsec = (long)(deadline_ns % 1000000000u);
        tsp = &ts;
    }
    const int op = FUTEX_WAIT_BITSET | private_flag(flags);
    for (;;) {
        int err = 0;
        long rc = -1;
        if (!CORDON__FAULT(FUTEX, &err)) {
            /* SAFETY: syscall -- FUTEX_WAIT_BITSET: sleep while *word == expected, until woken or ts.
             * Relies on: word non-NULL and 4-byte aligned (checked in futex.c) and alive for the call (the
             * caller's precondition); tsp is NULL (forever) or points at ts, a local of this frame that
             * outlives every retry; the bitset is MATCH_ANY so every FUTEX_WAKE reaches it.
             * On failure: EAGAIN → NOT_EQUAL, ETIMEDOUT → TIMED_OUT, EINTR retried with the same absolute
             * deadline; anything else recorded as "futex" with errno, nothing changed. */
            rc = syscall(SYS_futex, word, op, expected, tsp, NULL, FUTEX_BITSET_MATCH_ANY);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        switch (err) {
        case EAGAIN:
            return CORDON_NOT_EQUAL;
        case ETIMEDOUT:
            return CORDON_TIMED_OUT;
        case EINTR:
            if (deadline_passed(deadline_ns)) {
                return CORDON_TIMED_OUT;
            }
            continue;
        default:
            return cordon__sys_fail("futex", err);
        }
    }
}

cordon_status cordon__futex_linux_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    if (count == 0) {
        if (woken_out != NULL) {
            *woken_out = 0;
        }
        return CORDON_OK;
    }
    const int n = count > (uint32_t)INT_MAX ? INT_MAX : (int)count;
    int err = 0;
    long rc = -1;
    if (!CORDON__FAULT(FUTEX, &err)) {
        /* SAFETY: syscall -- FUTEX_WAKE: wake up to n threads waiting on word (INT_MAX: all of them).
         * Relies on: word non-NULL and 4-byte aligned (checked in futex.c); the kernel only uses the
         * address as a key and does not touch the memory; the same private/shared flag as the waiters.
         * On failure: recorded as "futex" with errno (EINTR cannot happen: FUTEX_WAKE never sleeps);
         * *woken_out untouched. */
        rc = syscall(SYS_futex, word, FUTEX_WAKE | private_flag(flags), n, NULL, NULL, 0);
        if (rc < 0) {
            err = cordon__sys_errno();
        }
    }
    if (rc < 0) {
        return cordon__sys_fail("futex", err);
    }
    if (woken_out != NULL) {
        *woken_out = (uint32_t)rc;
    }
    return CORDON_OK;
}

#else
typedef int cordon__futex_linux_not_built; /* keeps the translation unit non-empty (ISO C) */
#endif
