/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the thread-exit key on Windows: a fiber-local storage slot with a callback (FlsAlloc /
 * FlsSetValue), which the system calls with the slot's value when a thread with a non-NULL value exits
 * (the Win32 counterpart of thread_exit.c; thread_exit_common.c keeps the callback and allocates the
 * slot once). */
#define WIN32_LEAN_AND_MEAN

#include <stdbool.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

static DWORD exit_slot;

static void WINAPI run_exit_fn(void *arg) {
    cordon__sys_thread_exit_run(arg);
}

cordon_status cordon__sys_exit_key_create(void) {
    int err = 0;
    DWORD slot = FLS_OUT_OF_INDEXES;
    bool fault = CORDON__FAULT(PTHREAD_KEY_CREATE, &err);
    if (fault) {
        slot = FLS_OUT_OF_INDEXES;
    } else {
        /* SAFETY: FlsAlloc -- the slot whose callback reports thread exits.
         * Relies on: exactly one thread gets here at a time (thread_exit_common.c moves its state 0 → 1
         * by CAS), so the slot is allocated once and published by the release store of state 2 there;
         * the callback run_exit_fn only reads an atomic function pointer and calls it.
         * On failure: FLS_OUT_OF_INDEXES, recorded as "FlsAlloc"; the state goes back to 0 so a later
         * call may try again. */
        slot = FlsAlloc(run_exit_fn);
        if (slot == FLS_OUT_OF_INDEXES) {
            err = cordon__sys_win32_error();
        }
    }
    if (slot == FLS_OUT_OF_INDEXES) {
        return fault ? cordon__sys_fail_injected(CORDON__CALL_PTHREAD_KEY_CREATE, err)
                     : cordon__sys_fail_win32_as(CORDON_OUT_OF_RESOURCES, "FlsAlloc", err);
    }
    exit_slot = slot;
    return CORDON_OK;
}

cordon_status cordon__sys_exit_key_set(void *arg) {
    int err = 0;
    if (CORDON__FAULT(PTHREAD_SETSPECIFIC, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_SETSPECIFIC, err);
    }
    /* SAFETY: FlsSetValue -- make fn(arg) run when the calling thread exits.
     * Relies on: exit_slot was allocated (state 2, read with acquire order in thread_exit_common.c)
     * and is never freed; arg is non-NULL (checked there), so the callback runs for this thread, once,
     * with arg; the caller keeps arg alive until then (access records are never freed).
     * On failure: FALSE, recorded as "FlsSetValue"; no callback is registered for this thread. */
    if (!FlsSetValue(exit_slot, arg)) {
        return cordon__sys_fail_win32("FlsSetValue", cordon__sys_win32_error());
    }
    return CORDON_OK;
}
