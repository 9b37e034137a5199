/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a callback when a thread exits (a POSIX thread-specific key with a destructor), so that the
 * access guard (src/memory/access.c) can hand a dead thread's record to the next thread instead of
 * leaking one record per thread ever seen. */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdatomic.h>

#include "sys/sys_internal.h"

/* key_state: 0 no key, 1 being created by one thread, 2 ready. The key is never deleted: destructors
 * of threads still running must find it. */
static _Atomic unsigned key_state;
static pthread_key_t exit_key;
static void (*_Atomic exit_fn)(void *arg);

static void run_exit_fn(void *arg) {
    void (*fn)(void *) = atomic_load_explicit(&exit_fn, memory_order_acquire);
    if (fn != NULL) {
        fn(arg);
    }
}

static cordon_status ensure_key(void) {
    for (;;) {
        unsigned s = atomic_load_explicit(&key_state, memory_order_acquire);
        if (s == 2u) {
            return CORDON_OK;
        }
        unsigned expected = 0;
        if (s == 0u && atomic_compare_exchange_strong_explicit(&key_state, &expected, 1u, memory_order_acquire,
                                                               memory_order_acquire)) {
            int rc = 0;
            if (!CORDON__FAULT(PTHREAD_KEY_CREATE, &rc)) {
                /* SAFETY: pthread_key_create -- the key whose destructor reports thread exits.
                 * Relies on: exactly one thread gets here at a time (key_state 0 → 1 by CAS), so the
                 * key is created once and published by the release store of state 2 below; the
                 * destructor run_exit_fn only reads an atomic function pointer and calls it.
                 * On failure: returns the error number (EAGAIN: no more keys), recorded as
                 * "pthread_key_create"; the state goes back to 0 so a later call may try again. */
                rc = pthread_key_create(&exit_key, run_exit_fn);
            }
            if (rc != 0) {
                atomic_store_explicit(&key_state, 0u, memory_order_release);
                return cordon__sys_fail("pthread_key_create", rc);
            }
            atomic_store_explicit(&key_state, 2u, memory_order_release);
            return CORDON_OK;
        }
        cordon__sys_thread_yield(); /* another thread is creating the key: a few instructions */
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
    cordon_status st = ensure_key();
    if (st != CORDON_OK) {
        return st;
    }
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_SETSPECIFIC, &rc)) {
        /* SAFETY: pthread_setspecific -- make fn(arg) run when the calling thread exits.
         * Relies on: exit_key was created (state 2, read with acquire order above) and is never
         * deleted; arg is non-NULL (checked), so the destructor runs for this thread, once, with arg;
         * the caller keeps arg alive until then (access records are never freed).
         * On failure: returns the error number (ENOMEM), recorded as "pthread_setspecific"; no
         * callback is registered for this thread. */
        rc = pthread_setspecific(exit_key, arg);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_setspecific", rc);
    }
    return CORDON_OK;
}
