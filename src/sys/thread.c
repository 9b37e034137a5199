/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — OS threads (POSIX threads). */
#define _GNU_SOURCE

#include <pthread.h>
#include <sched.h>

#include "sys/sys_internal.h"

struct cordon__sys_thread {
    pthread_t id;
};

/* What the new thread needs; owned (and freed) by the new thread, so that a detach may release the
 * cordon__sys_thread while the thread is still starting. */
typedef struct thread_start {
    void (*fn)(void *arg);
    void *arg;
} thread_start;

static void *thread_main(void *p) {
    thread_start start = *(thread_start *)p;
    cordon__sys_free(p);
    start.fn(start.arg);
    return NULL;
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
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_CREATE, &rc)) {
        /* SAFETY: pthread_create -- start an OS thread running thread_main(s).
         * Relies on: t and s are live heap blocks; s is handed to the new thread, which frees it after
         * copying it, so its lifetime does not depend on this caller; default attributes (joinable).
         * On failure: returns the error number (EAGAIN: no more threads) — recorded as "pthread_create"
         * (→ CORDON_OUT_OF_RESOURCES); no thread exists, t and s are freed, *out untouched. */
        rc = pthread_create(&((cordon__sys_thread *)t)->id, NULL, thread_main, s);
    }
    if (rc != 0) {
        cordon__sys_free(s);
        cordon__sys_free(t);
        return cordon__sys_fail("pthread_create", rc);
    }
    *out = (cordon__sys_thread *)t;
    return CORDON_OK;
}

cordon_status cordon__sys_thread_join(cordon__sys_thread *thread) {
    if (thread == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_JOIN, &rc)) {
        /* SAFETY: pthread_join -- wait for the thread to end and reclaim it.
         * Relies on: thread->id came from a successful pthread_create, was neither joined nor detached
         * (the caller owns it exactly once), and is not the calling thread (callers check).
         * On failure: returns the error number; recorded as "pthread_join"; the thread stays owned. */
        rc = pthread_join(thread->id, NULL);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_join", rc);
    }
    cordon__sys_free(thread);
    return CORDON_OK;
}

cordon_status cordon__sys_thread_detach(cordon__sys_thread *thread) {
    if (thread == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_DETACH, &rc)) {
        /* SAFETY: pthread_detach -- let the thread release itself when it ends.
         * Relies on: thread->id came from a successful pthread_create and was neither joined nor
         * detached; the thread never touches *thread (thread_main uses only its own start block).
         * On failure: returns the error number; recorded as "pthread_detach"; the thread stays owned. */
        rc = pthread_detach(thread->id);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_detach", rc);
    }
    cordon__sys_free(thread);
    return CORDON_OK;
}

void cordon__sys_thread_yield(void) {
    /* SAFETY: sched_yield -- let another runnable thread have the processor (spin-wait back-off).
     * Relies on: nothing; it takes no arguments.
     * On failure: always succeeds on Linux; the result is irrelevant to callers. */
    (void)sched_yield();
}

void cordon__sys_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    /* SAFETY: __asm__ -- the spin-wait hint instruction (yield), which safe code may not write itself.
     * Relies on: `yield` only hints the core that this thread is spinning; it touches no register,
     * memory or flag, and is available from user mode on every ARMv7/ARMv8 core.
     * On failure: cannot fail; a core that ignores the hint treats it as a no-op. */
    __asm__ __volatile__("yield");
#endif
}
