/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — OS threads on Windows: CreateThread, WaitForSingleObject, CloseHandle, SwitchToThread. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

/* Fault points keep the identifiers of the POSIX counterparts (PTHREAD_CREATE, PTHREAD_JOIN,
 * PTHREAD_DETACH), with errno values injected, as pthread calls return them. */

struct cordon__sys_thread {
    HANDLE handle;
};

/* What the new thread needs; owned (and freed) by the new thread, so that a detach may release the
 * cordon__sys_thread while the thread is still starting. */
typedef struct thread_start {
    void (*fn)(void *arg);
    void *arg;
} thread_start;

static DWORD WINAPI thread_main(LPVOID p) {
    thread_start start = *(thread_start *)p;
    cordon__sys_free(p);
    start.fn(start.arg);
    return 0;
}

cordon_status cordon__sys_thread_spawn(void (*fn)(void *arg), void *arg, cordon__sys_thread **out) {
    if (fn == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *t = NULL;
    void *s = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__sys_thread), &t);
    if (st != CORDON_OK) {
        return st;
    }
    st = cordon__sys_alloc(sizeof(thread_start), &s);
    if (st != CORDON_OK) {
        cordon__sys_free(t);
        return st;
    }
    ((thread_start *)s)->fn = fn;
    ((thread_start *)s)->arg = arg;
    int err = 0;
    HANDLE h = NULL;
    if (CORDON__FAULT(PTHREAD_CREATE, &err)) {
        cordon__sys_free(s);
        cordon__sys_free(t);
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_CREATE, err);
    } else {
        /* SAFETY: CreateThread -- start an OS thread running thread_main(s).
         * Relies on: t and s are live heap blocks; s is handed to the new thread, which frees it after
         * copying it, so its lifetime does not depend on this caller; default security and stack size;
         * the handle is owned by t and closed exactly once (join or detach).
         * On failure: NULL; the Win32 error recorded as "CreateThread" (ERROR_NOT_ENOUGH_MEMORY →
         * CORDON_OUT_OF_MEMORY); no thread exists, t and s are freed, *out untouched. */
        h = CreateThread(NULL, 0, thread_main, s, 0, NULL);
        if (h == NULL) {
            err = cordon__sys_win32_error();
        }
    }
    if (h == NULL) {
        cordon__sys_free(s);
        cordon__sys_free(t);
        return cordon__sys_fail_win32_as(CORDON_OUT_OF_RESOURCES, "CreateThread", err);
    }
    ((cordon__sys_thread *)t)->handle = h;
    *out = (cordon__sys_thread *)t;
    return CORDON_OK;
}

/* Closes the thread's handle; the thread object goes away once the thread has ended too. */
static cordon_status close_thread_handle(cordon__sys_thread *thread, const char *name) {
    /* SAFETY: CloseHandle -- drop cordon's handle to a thread (after join, or as the detach).
     * Relies on: thread->handle came from a successful CreateThread and is closed exactly once (the
     * caller owns the cordon__sys_thread once, and join/detach free it right after); the thread itself
     * never uses the handle.
     * On failure: recorded under the caller's name; the thread stays owned by the caller. */
    if (!CloseHandle(thread->handle)) {
        return cordon__sys_fail_win32(name, cordon__sys_win32_error());
    }
    return CORDON_OK;
}

cordon_status cordon__sys_thread_join(cordon__sys_thread *thread) {
    if (thread == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(PTHREAD_JOIN, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_JOIN, err);
    }
    /* SAFETY: WaitForSingleObject -- wait for the thread to end.
     * Relies on: thread->handle came from a successful CreateThread and has not been closed (the
     * caller owns the thread exactly once); it is not the calling thread (callers check), so the wait
     * ends when the thread returns from thread_main.
     * On failure: WAIT_FAILED, recorded as "WaitForSingleObject"; the thread stays owned. */
    if (WaitForSingleObject(thread->handle, INFINITE) != WAIT_OBJECT_0) {
        return cordon__sys_fail_win32("WaitForSingleObject", cordon__sys_win32_error());
    }
    cordon_status st = close_thread_handle(thread, "CloseHandle");
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_free(thread);
    return CORDON_OK;
}

cordon_status cordon__sys_thread_detach(cordon__sys_thread *thread) {
    if (thread == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(PTHREAD_DETACH, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_DETACH, err);
    }
    cordon_status st = close_thread_handle(thread, "CloseHandle");
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_free(thread);
    return CORDON_OK;
}

void cordon__sys_thread_yield(void) {
    /* SAFETY: SwitchToThread -- let another ready thread have the processor (spin-wait back-off).
     * Relies on: nothing; it takes no arguments.
     * On failure: FALSE only means no other thread was ready; irrelevant to callers. */
    (void)SwitchToThread();
}

/* Not yet on Windows (whose scheduler spreads a process's threads by their ideal processors): the pool
 * never asks a worker to move. */
int cordon__sys_current_cpu(void) {
    return -1;
}

cordon_status cordon__sys_thread_leave_cpu(int cpu) {
    (void)cpu;
    return CORDON_UNSUPPORTED;
}

void cordon__sys_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}
