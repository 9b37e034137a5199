/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the futex backends behind cordon__sys_futex_wait / _wake (sys.h).
 *
 * Every backend is compiled on every platform where it can be (so SAFETY_AUDIT.md does not depend on
 * the build option); futex.c forwards to the one CORDON_FUTEX_BACKEND_ID selects:
 *   1 linux-futex  futex_linux.c    FUTEX_WAIT_BITSET on an absolute CLOCK_MONOTONIC deadline
 *   2 macos-ulock  futex_ulock.c    __ulock_wait2 / __ulock_wake (logic testable on Linux, see below)
 *   3 parking-lot  futex_parking.c  waiter queues keyed by address on pthread mutexes and condvars
 *   4 windows-wait win32/futex_win32.c  WaitOnAddress / WakeByAddress* (Windows 8 and later)
 * Each backend has the contract of cordon__sys_futex_wait / _wake in sys.h; argument checks are done
 * once in futex.c. This header has no OS type, so tests may include it to drive a backend directly. */
#ifndef CORDON_SYS_FUTEX_BACKEND_H
#define CORDON_SYS_FUTEX_BACKEND_H

/* Private to src/sys/ (and tests): CORDON__SYS_PRIVATE_HEADER is poisoned in safe code (cordon_safe.h),
 * so this mention stops a safe file that includes this header. */
#ifdef CORDON__SYS_PRIVATE_HEADER
#endif

#include <stdint.h>

#include "cordon/status.h"

#define CORDON__FUTEX_BACKEND_LINUX 1
#define CORDON__FUTEX_BACKEND_ULOCK 2
#define CORDON__FUTEX_BACKEND_PARKING 3
#define CORDON__FUTEX_BACKEND_WINDOWS 4

/* Windows (src/sys/win32/futex_win32.c): WaitOnAddress / WakeByAddressSingle / WakeByAddressAll. */
cordon_status cordon__futex_win32_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags);
cordon_status cordon__futex_win32_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);

cordon_status cordon__futex_linux_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags);
cordon_status cordon__futex_linux_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);

cordon_status cordon__futex_parking_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags);
cordon_status cordon__futex_parking_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);

/* The two XNU entry points the ulock backend is written against. On Apple they are __ulock_wait2 and
 * __ulock_wake; on Linux a test supplies a double that reproduces XNU's documented behaviour.
 *   wait2(operation, addr, value, timeout_ns, value2): blocks while *addr == value; timeout_ns == 0
 *     means forever; returns >= 0 on wake (or when *addr != value, without blocking);
 *   wake(operation, addr, wake_value): ENOENT when nobody waits on addr;
 *   both: EDOM when the operation's type differs from the one the address's waiters use; with
 *     ULF_NO_ERRNO in operation a failure returns -errno, otherwise -1 with errno set. */
typedef struct cordon__ulock_ops {
    int (*wait2)(uint32_t operation, void *addr, uint64_t value, uint64_t timeout_ns, uint64_t value2);
    int (*wake)(uint32_t operation, void *addr, uint64_t wake_value);
} cordon__ulock_ops;

/* XNU's operation encoding (bsd/sys/ulock.h). */
#define CORDON__UL_COMPARE_AND_WAIT 1u
#define CORDON__UL_COMPARE_AND_WAIT_SHARED 3u
#define CORDON__UL_OPCODE_MASK 0xffu
#define CORDON__ULF_WAKE_ALL 0x00000100u
#define CORDON__ULF_NO_ERRNO 0x01000000u

cordon_status cordon__futex_ulock_wait(const cordon__ulock_ops *ops, uint32_t *word, uint32_t expected,
                                       uint64_t deadline_ns, unsigned flags);
cordon_status cordon__futex_ulock_wake(const cordon__ulock_ops *ops, uint32_t *word, uint32_t count, unsigned flags,
                                       uint32_t *woken_out);

#endif /* CORDON_SYS_FUTEX_BACKEND_H */
