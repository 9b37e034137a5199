/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — cordon__sys_futex_wait / _wake: argument checks, then the backend chosen at build time
 * (CORDON_FUTEX_BACKEND_ID, set by src/sync/module.cmake). */
#define _GNU_SOURCE

#include "sys/futex_backend.h"
#include "sys/sys_internal.h"

#ifndef CORDON_FUTEX_BACKEND_ID
#  error "CORDON_FUTEX_BACKEND_ID must be set by the build (src/sync/module.cmake)"
#endif

#if CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_ULOCK
#  if !defined(__APPLE__)
#    error "the macos-ulock futex backend runs only on Apple systems (its logic is tested on Linux by tests/test_ulock.c)"
#  endif
/* XNU private entry points, stable since macOS 11 (used by libc++ and the Swift and Rust runtimes). */
extern int __ulock_wait2(uint32_t operation, void *addr, uint64_t value, uint64_t timeout_ns, uint64_t value2);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
static const cordon__ulock_ops xnu_ulock = {__ulock_wait2, __ulock_wake};
#endif

static bool word_ok(const uint32_t *word) {
    return word != NULL && ((uintptr_t)word & 3u) == 0;
}

cordon_status cordon__sys_futex_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags) {
    if (!word_ok(word) || (flags & ~CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
#if CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_LINUX
    return cordon__futex_linux_wait(word, expected, deadline_ns, flags);
#elif CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_WINDOWS
    return cordon__futex_win32_wait(word, expected, deadline_ns, flags);
#elif CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_ULOCK
    return cordon__futex_ulock_wait(&xnu_ulock, word, expected, deadline_ns, flags);
#else
    return cordon__futex_parking_wait(word, expected, deadline_ns, flags);
#endif
}

cordon_status cordon__sys_futex_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    if (!word_ok(word) || (flags & ~CORDON__SYS_FUTEX_SHARED) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
#if CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_LINUX
    return cordon__futex_linux_wake(word, count, flags, woken_out);
#elif CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_WINDOWS
    return cordon__futex_win32_wake(word, count, flags, woken_out);
#elif CORDON_FUTEX_BACKEND_ID == CORDON__FUTEX_BACKEND_ULOCK
    return cordon__futex_ulock_wake(&xnu_ulock, word, count, flags, woken_out);
#else
    return cordon__futex_parking_wake(word, count, flags, woken_out);
#endif
}
