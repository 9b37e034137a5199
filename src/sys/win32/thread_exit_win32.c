/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a callback when a thread exits, on Windows: a fiber-local storage slot with a callback
 * (FlsAlloc / FlsSetValue), which the system calls with the slot's value when a thread with a non-NULL
 * value exits. The access guard (src/memory/access.c) uses it to hand a dead thread's record to the
 * next thread (the Win32 counterpart of thread_exit.c). */
#define WIN32_LEAN_AND_MEAN

#include <stdatomic.h>
#include <stdbool.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

/* slot_state: 0 no slot, 1 being allocated by one thread, 2 ready. The slot is never freed: callbacks
 * of threads still running must find it. */
static _Atomic unsigned slot_state;
static DWORD exit_slot;
static void (*_Atomic exit_fn)(void *arg);

static void WINAPI run_exit_fn(void *arg) {
    void (*fn)(void *) = atomic_load_explicit(&exit_fn, memory_order_acquire);
    if (fn != NULL && arg != NULL) {
        fn(arg);
    }
}

static cordon_status ensure_slot(void) {
    for (;;) {
        unsigned s = atomic_load_explicit(&slot_state, memory_order_acquire);
        if (s == 2u) {
            return CORDON_OK;
        }
        unsigned expected = 0;
        if (s == 0u && atomic_compare_exchange_strong_explicit(&slot_state, &expected, 1u, memory_order_acquire,
                                                               memory_order_acquire)) {
            int err = 0;
            DWORD slot = FLS_OUT_OF_INDEXES;
            bool fault = CORDON__FAULT(PTHREAD_KEY_CREATE, &err);
            if (fault) {
                slot = FLS_OUT_OF_INDEXES;
            } else {
                /* SAFETY: FlsAlloc -- the slot whose callback reports thread exits.
                 * Relies on: exactly one thread gets here at a time (slot_state 0 → 1 by CAS), so the
                 * slot is allocated once and published by the release store of state 2 below; the
                 * callback run_exit_fn only reads an atomic function pointer and calls it.
                 * On failure: FLS_OUT_OF_INDEXES, recorded as "FlsAlloc"; the state goes back to 0 so
                 * a later call may try again. */
                slot = FlsAlloc(run_exit_fn);
                if (slot == FLS_OUT_OF_INDEXES) {
                    err = cordon__sys_win32_error();
                }
            }
            if (slot == FLS_OUT_OF_INDEXES) {
                atomic_store_explicit(&slot_state, 0u, memory_order_release);
                return fault ? cordon__sys_fail_injected(CORDON__CALL_PTHREAD_KEY_CREATE, err)
                             : cordon__sys_fail_win32_as(CORDON_OUT_OF_RESOURCES, "FlsAlloc", err);
            }
            exit_slot = slot;
            atomic_store_explicit(&slot_state, 2u, memory_order_release);
            return CORDON_OK;
        }
        cordon__sys_thread_yield(); /* another thread is allocating the slot: a few instructions */
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
    cordon_status st = ensure_slot();
    if (st != CORDON_OK) {
        return st;
    }
    int err = 0;
    if (CORDON__FAULT(PTHREAD_SETSPECIFIC, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_SETSPECIFIC, err);
    }
    /* SAFETY: FlsSetValue -- make fn(arg) run when the calling thread exits.
     * Relies on: exit_slot was allocated (state 2, read with acquire order above) and is never freed;
     * arg is non-NULL (checked), so the callback runs for this thread, once, with arg; the caller keeps
     * arg alive until then (access records are never freed).
     * On failure: FALSE, recorded as "FlsSetValue"; no callback is registered for this thread. */
    if (!FlsSetValue(exit_slot, arg)) {
        return cordon__sys_fail_win32("FlsSetValue", cordon__sys_win32_error());
    }
    return CORDON_OK;
}
