/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a callback when a thread exits, so that the access guard (src/memory/access.c) can hand a
 * dead thread's record to the next thread instead of leaking one record per thread ever seen. The
 * bookkeeping (one callback per process, the key created once) is the same on every platform; the key
 * itself is per platform (thread_exit.c: a POSIX thread-specific key with a destructor;
 * win32/thread_exit_win32.c: a fiber-local storage slot with a callback). */
#include <stdatomic.h>

#include "sys/sys_internal.h"

/* key_state: 0 no key, 1 being created by one thread, 2 ready. The key is never deleted: destructors
 * of threads still running must find it. */
static _Atomic unsigned key_state;
static void (*_Atomic exit_fn)(void *arg);

void cordon__sys_thread_exit_run(void *arg) {
    void (*fn)(void *) = atomic_load_explicit(&exit_fn, memory_order_acquire);
    if (fn != NULL && arg != NULL) {
        fn(arg);
    }
}

cordon_status cordon__sys_once_retry(_Atomic unsigned *state, cordon_status (*init)(void)) {
    for (;;) {
        unsigned s = atomic_load_explicit(state, memory_order_acquire);
        if (s == 2u) {
            return CORDON_OK;
        }
        unsigned expected = 0;
        if (s == 0u && atomic_compare_exchange_strong_explicit(state, &expected, 1u, memory_order_acquire,
                                                               memory_order_acquire)) {
            /* Exactly one thread is here (state 0 → 1 by CAS); what init made is published by the
             * release store of state 2, and a failure sends the state back to 0 so a later call may
             * try again. */
            cordon_status st = init();
            atomic_store_explicit(state, st == CORDON_OK ? 2u : 0u, memory_order_release);
            return st;
        }
        cordon__sys_thread_yield(); /* another thread is running init: a few instructions */
    }
}

cordon_status cordon__sys_thread_on_exit(void (*fn)(void *arg), void *arg) {
    if (fn == NULL || arg == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void (*expected)(void *) = NULL;
    if (!atomic_compare_exchange_strong_explicit(&exit_fn, &expected, fn, memory_order_acq_rel,
                                                 memory_order_acquire) &&
        expected != fn) {
        return CORDON_INVALID_ARGUMENT; /* one callback per process */
    }
    cordon_status st = cordon__sys_once_retry(&key_state, cordon__sys_exit_key_create);
    if (st != CORDON_OK) {
        return st;
    }
    return cordon__sys_exit_key_set(arg);
}
