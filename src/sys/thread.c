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

int cordon__sys_current_cpu(void) {
#if defined(__linux__)
    /* SAFETY: sched_getcpu -- the number of the processor this thread is running on (glibc reads it
     * from the thread's restartable-sequences area, or asks the vDSO: no system call in the common case).
     * Relies on: nothing; it takes no arguments and the answer is only a hint (the thread may move
     * right after).
     * On failure: -1 (ENOSYS on kernels without getcpu), which callers take as "not known". */
    return sched_getcpu();
#else
    return -1;
#endif
}

cordon_status cordon__sys_thread_leave_cpu(int cpu) {
#if defined(__linux__)
    if (cpu < 0 || cpu >= CPU_SETSIZE) {
        return CORDON_INVALID_ARGUMENT;
    }
    cpu_set_t was;
    CPU_ZERO(&was);
    int err = 0;
    if (CORDON__FAULT(SCHED_GETAFFINITY, &err)) {
        return cordon__sys_fail("sched_getaffinity", err);
    }
    /* SAFETY: sched_getaffinity -- the processors this thread may run on, to be restored after the move.
     * Relies on: was is a local cpu_set_t and its exact size is passed; pid 0 means this thread.
     * On failure: recorded as "sched_getaffinity" with errno; nothing changed. */
    if (sched_getaffinity(0, sizeof was, &was) != 0) {
        return cordon__sys_fail("sched_getaffinity", cordon__sys_errno());
    }
    size_t bit = (size_t)cpu; /* within [0, CPU_SETSIZE): checked above */
    if (!CPU_ISSET(bit, &was)) {
        return CORDON_OK; /* not allowed there, so not running there */
    }
    /* SAFETY: CPU_COUNT -- count the bits of the mask (glibc implements the macro with __sched_cpucount).
     * Relies on: was was filled by the successful call above; the size passed is sizeof was.
     * On failure: cannot fail. */
    if (CPU_COUNT(&was) < 2) {
        return CORDON_UNSUPPORTED;
    }
    cpu_set_t away = was;
    CPU_CLR(bit, &away);
    if (CORDON__FAULT(SCHED_SETAFFINITY, &err)) {
        return cordon__sys_fail("sched_setaffinity", err);
    }
    /* SAFETY: sched_setaffinity -- narrow this thread's processors to all it had but `cpu`, which
     * makes the kernel move it off `cpu` before the call returns; the next call widens them again.
     * Relies on: away is a local cpu_set_t of the exact size passed, a non-empty subset (at least
     * one other bit set: CPU_COUNT >= 2 above) of the mask the thread already has; pid 0 is this thread.
     * On failure: recorded as "sched_setaffinity" with errno (EINVAL if a cpuset change left none of
     * those processors; EPERM in a sandbox that forbids it); the affinity is unchanged. */
    if (sched_setaffinity(0, sizeof away, &away) != 0) {
        return cordon__sys_fail("sched_setaffinity", cordon__sys_errno());
    }
    /* SAFETY: sched_setaffinity -- give back the mask read above; the thread stays where it now is.
     * Relies on: was is the thread's own mask from the sched_getaffinity above, of its exact size.
     * On failure: only if the process's cpuset changed in between; recorded as "sched_setaffinity",
     * and the thread keeps the narrower mask (all it had but one processor) — it still runs. */
    if (CORDON__FAULT(SCHED_SETAFFINITY, &err)) {
        return cordon__sys_fail("sched_setaffinity", err);
    }
    if (sched_setaffinity(0, sizeof was, &was) != 0) {
        return cordon__sys_fail("sched_setaffinity", cordon__sys_errno());
    }
    return CORDON_OK;
#else
    (void)cpu;
    return CORDON_UNSUPPORTED;
#endif
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
