/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — futex: wait on a 32-bit word until another thread wakes you.
 *
 * The building block under every cordon lock, also offered to users who build their own. A word is any
 * 4-byte-aligned uint32_t that every thread accesses only atomically (C11 atomics on a uint32_t, GCC
 * __atomic builtins or std::atomic_ref) while waits on it may be in progress.
 *
 * Backends (`cordon info` names the one compiled in): Linux futex, macOS __ulock_wait2/__ulock_wake,
 * or a portable parking lot keyed by address. */
#ifndef CORDON_FUTEX_H
#define CORDON_FUTEX_H

#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* A negative timeout: wait without a deadline. */
#define CORDON_FOREVER (-1)
/* count for cordon_futex_wake: wake every waiter. */
#define CORDON_FUTEX_WAKE_ALL UINT32_MAX

/* Flags for cordon_futex_wait / cordon_futex_wake. */
/* The word is in memory shared between processes (both sides must pass it). Not supported by the
 * parking-lot backend (CORDON_UNSUPPORTED). */
#define CORDON_FUTEX_SHARED 1u
/* timeout_ns is an absolute deadline on the monotonic clock (cordon_time_monotonic_ns), not a duration. */
#define CORDON_FUTEX_ABSOLUTE 2u

/* Sleeps while *word == expected, until a cordon_futex_wake on the same word or the timeout.
 * timeout_ns: nanoseconds from now, or with CORDON_FUTEX_ABSOLUTE a monotonic deadline; negative:
 * forever. Long timeouts are honoured in full; signals (EINTR) are retried against the same deadline,
 * so they never stretch it.
 * Returns CORDON_OK when woken (a wake may also be spurious: re-check your condition),
 * CORDON_NOT_EQUAL when *word differed from expected (the comparison is atomic with going to sleep),
 * CORDON_TIMED_OUT when the deadline passed, CORDON_INVALID_ARGUMENT for NULL, a misaligned word or
 * unknown flags, and an OS failure status with cordon_last_os_error() set otherwise.
 * Thread safety: any number of threads may wait on and wake the same word concurrently. */
CORDON_API CORDON_NODISCARD cordon_status cordon_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns,
                                                            unsigned flags);

/* Wakes up to count threads waiting on word (CORDON_FUTEX_WAKE_ALL: all). woken_out (may be NULL)
 * receives how many were woken: exact on Linux and the parking lot; on macOS exact for count == 1 and
 * a lower bound (1) for a wake-all, because XNU does not report it. Waking with no waiter is
 * CORDON_OK with 0 woken. The status may be ignored: besides a bad argument (a caller bug) it fails only
 * when the OS refuses the wake, which no retry would fix. Flags: only CORDON_FUTEX_SHARED, matching the waiters'.
 * Thread safety: as for cordon_futex_wait. */
CORDON_API cordon_status cordon_futex_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);

CORDON_END_DECLS

#endif /* CORDON_FUTEX_H */
