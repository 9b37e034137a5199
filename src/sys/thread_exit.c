/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the thread-exit key on POSIX systems: a thread-specific key whose destructor reports the
 * exit (thread_exit_common.c keeps the callback and creates the key once). */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>

#include "sys/sys_internal.h"

static pthread_key_t exit_key;

static void run_exit_fn(void *arg) {
    cordon__sys_thread_exit_run(arg);
}

cordon_status cordon__sys_exit_key_create(void) {
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_KEY_CREATE, &rc)) {
        /* SAFETY: pthread_key_create -- the key whose destructor reports thread exits.
         * Relies on: exactly one thread gets here at a time (thread_exit_common.c moves its state 0 → 1
         * by CAS), so the key is created once and published by the release store of state 2 there;
         * the destructor run_exit_fn only reads an atomic function pointer and calls it.
         * On failure: returns the error number (EAGAIN: no more keys), recorded as
         * "pthread_key_create"; the state goes back to 0 so a later call may try again. */
        rc = pthread_key_create(&exit_key, run_exit_fn);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_key_create", rc);
    }
    return CORDON_OK;
}

cordon_status cordon__sys_exit_key_set(void *arg) {
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_SETSPECIFIC, &rc)) {
        /* SAFETY: pthread_setspecific -- make fn(arg) run when the calling thread exits.
         * Relies on: exit_key was created (state 2, read with acquire order in thread_exit_common.c)
         * and is never deleted; arg is non-NULL (checked there), so the destructor runs for this
         * thread, once, with arg; the caller keeps arg alive until then (access records are never freed).
         * On failure: returns the error number (ENOMEM), recorded as "pthread_setspecific"; no
         * callback is registered for this thread. */
        rc = pthread_setspecific(exit_key, arg);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_setspecific", rc);
    }
    return CORDON_OK;
}
