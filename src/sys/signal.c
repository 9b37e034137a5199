/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — traps: the SIGSEGV/SIGBUS handler, the alternate signal stacks and the jump behind
 * cordon_trap_run (src/memory/trap.c, include/cordon/trap.h).
 *
 * Each thread keeps, in initial-exec TLS (readable from a signal handler without a call), the chain
 * of its active runs (`top`, innermost first: one run_frame per cordon__sys_trap_run on its stack)
 * and the bounds of its stack. On a fault the handler, on the thread that faulted:
 *
 *     1. no active run, or a signal sent with kill()          → chain to the previous action
 *     2. classifier(address) says "in a live region"           → trap
 *     3. address just below the thread's stack                  → trap (stack overflow)
 *     4. otherwise                                             → chain to the previous action
 *
 * and a trap writes the record into the run's out-parameter and siglongjmps to the run's sigsetjmp.
 * The jump is safe because (a) it targets a frame that is live: a run pops itself from `top` before
 * it returns, and the handler only ever jumps to `top` of its own thread; (b) the frames it abandons
 * are fn's, whose rules (no lock or resource held across a trapping access) trap.h documents;
 * (c) everything cordon__sys_trap_run reads after the jump was set before sigsetjmp and not changed
 * since (so it is determinate); (d) the handler sets the signal mask of the faulting context (from
 * the ucontext) before it jumps, so SIGSEGV is unblocked again without sigsetjmp saving the mask on
 * every run (a system call: ~200 ns here, against ~5 ns for the run without it). The handler itself is async-signal-safe: TLS and atomic loads,
 * the classifier (lock-free loads of never-freed records), sigaction/raise when chaining (both on
 * the POSIX async-signal-safe list) and siglongjmp. */
#define _GNU_SOURCE /* pthread_getattr_np, REG_ERR */

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "sys/sys_internal.h"

#if defined(__GNUC__) || defined(__clang__)
#  define TLS_IE __attribute__((tls_model("initial-exec")))
#else
#  define TLS_IE
#endif

/* The alternate stack cordon gives a thread: enough for this handler and a chained one (a signal
 * frame with AVX-512 state is ~3.5 KiB), below it one PROT_NONE page. */
#define ALT_STACK_BYTES ((size_t)64 * 1024)
/* How far below the lowest usable byte of the stack a fault still counts as a stack overflow: the
 * guard glibc maps under a thread's stack, and at least 64 KiB (the main thread reports no guard; a
 * frame larger than this that skips past it without touching it is reported as not a trap). */
#define STACK_OVERFLOW_SLACK ((uintptr_t)64 * 1024)

typedef struct run_frame {
    sigjmp_buf jump;
    struct run_frame *prev;
    cordon__sys_trap_info *out;
} run_frame;

typedef struct thread_state {
    _Atomic(run_frame *) top; /* written by the thread, read by its own signal handler */
    bool ready;               /* stack bounds known and an alternate stack in place */
    uintptr_t stack_lo;       /* lowest usable byte of the stack */
    uintptr_t stack_hi;       /* one past its highest */
    uintptr_t overflow_lo;    /* [overflow_lo, stack_lo): a fault there is a stack overflow */
    void *alt_map;            /* the mapping of the alternate stack cordon gave (NULL: none given) */
    size_t alt_map_len;
} thread_state;

static _Thread_local thread_state self TLS_IE;

/* SAFETY: sigaction -- the type of a signal action (the struct, not the call).
 * Relies on: every sig_action is zeroed before its fields are set, so no field is left undefined.
 * On failure: not applicable (a type). */
typedef struct sigaction sig_action;

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the handler reads pointers that must be lock-free atomics");

/* 0 not installed, 1 being installed by one thread, 2 installed (never uninstalled). */
static _Atomic unsigned install_state;
static _Atomic(cordon__sys_trap_classify_fn) classifier;
/* The actions replaced at installation: written before the handler is installed, read-only after. */
static sig_action prev_segv;
static sig_action prev_bus;

static _Atomic uint64_t altstacks_live;

/* 0 no key, 1 being created, 2 ready: the key whose destructor releases a thread's alternate stack. */
static _Atomic unsigned key_state;
static pthread_key_t altstack_key;

/* ---- the handler ------------------------------------------------------------------------------ */

static unsigned access_of(const void *uctx) {
#if defined(__linux__) && defined(__x86_64__)
    if (uctx != NULL) {
        /* Bit 1 of the x86 page-fault error code: the access was a write. */
        const ucontext_t *uc = (const ucontext_t *)uctx;
        return (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0 ? 2u : 1u;
    }
#else
    (void)uctx;
#endif
    return 0u;
}

/* Passes the signal on as if cordon's handler had never been installed. */
static void chain(int sig, siginfo_t *info, void *uctx) {
    const sig_action *prev = sig == SIGBUS ? &prev_bus : &prev_segv;
    bool sent = info == NULL || info->si_code <= 0; /* kill(), sigqueue(), tgkill(): not a fault */
    if ((prev->sa_flags & SA_SIGINFO) != 0) {
        if (prev->sa_sigaction != NULL) {
            /* SAFETY: sa_sigaction -- the previous SA_SIGINFO handler, called as the kernel would.
             * Relies on: prev was read by sigaction at installation and is never written again; the
             * arguments are the ones this handler received. If it returns, so do we, and a faulting
             * instruction runs again. A handler that jumps out of a cordon run leaves that run
             * abandoned (trap.h: such handlers must return or end the process).
             * On failure: not applicable (no result). */
            prev->sa_sigaction(sig, info, uctx);
        }
        return;
    }
    if (prev->sa_handler == SIG_IGN && sent) {
        return; /* an ignored signal sent by someone: ignored, as before */
    }
    if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        /* SAFETY: sa_handler -- the previous plain handler, called as the kernel would.
         * Relies on: as for sa_sigaction above.
         * On failure: not applicable. */
        prev->sa_handler(sig);
        return;
    }
    /* The default action (or SIG_IGN for a real fault, which the kernel would not ignore either):
     * put the default back and let the signal happen again, so the process ends by it with the real
     * faulting address in its core dump. */
    sig_action dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    /* SAFETY: sigaction -- restore the default action of sig from inside the handler.
     * Relies on: sig is SIGSEGV or SIGBUS (only those are routed here); dfl is a complete, zeroed
     * action with SIG_DFL; sigaction is async-signal-safe. The process is about to end by sig.
     * On failure: cannot fail for these arguments; were it to, the fault repeats into this handler. */
    (void)sigaction(sig, &dfl, NULL);
    if (sent) {
        /* SAFETY: raise -- re-send a signal that was sent (not a fault): returning alone would drop it.
         * Relies on: sig is blocked while this handler runs, so it is delivered, with its default
         * action now, when the handler returns; raise is async-signal-safe.
         * On failure: cannot fail for a valid signal number. */
        (void)raise(sig);
    }
}

/* The handler leaves errno as it found it: the interrupted code may be between a failing call and
 * its read of errno (a chained handler returning, or the trap's jump into a run, which reads none). */
static int errno_save(void) {
    /* SAFETY: errno -- read the interrupted code's errno on handler entry.
     * Relies on: errno is thread-local and async-signal-safe to read.
     * On failure: not applicable. */
    return errno;
}

static void errno_restore(int value) {
    /* SAFETY: errno -- put back the interrupted code's errno before leaving the handler.
     * Relies on: value was read by errno_save on this thread in this handler invocation.
     * On failure: not applicable. */
    errno = value;
}

/* Before the jump out of the handler: the thread's signal mask becomes the one it had when it
 * faulted (the kernel saved it in the context), as a return from the handler would make it. Doing it
 * here, on the trap path only, spares every run the system call of sigsetjmp(…, 1). */
static void restore_mask(void *uctx) {
    if (uctx != NULL) {
        /* SAFETY: pthread_sigmask -- set the mask of the interrupted context before leaving the
         * handler by a jump (SIGSEGV/SIGBUS, blocked while the handler runs, are unblocked again).
         * Relies on: uctx is the ucontext_t the kernel passed to this SA_SIGINFO handler, whose
         * uc_sigmask is the mask at the fault; pthread_sigmask is async-signal-safe (sigprocmask).
         * On failure: cannot fail for SIG_SETMASK and a valid set; were it to, SIGSEGV stays blocked
         * on this thread and a later fault ends the process (the kernel's rule), never a wrong trap. */
        (void)pthread_sigmask(SIG_SETMASK, &((ucontext_t *)uctx)->uc_sigmask, NULL);
    }
}

static bool in_stack_overflow_zone(const thread_state *s, uintptr_t addr) {
    return s->ready && addr >= s->overflow_lo && addr < s->stack_lo;
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
    int saved_errno = errno_save();
    run_frame *top = atomic_load_explicit(&self.top, memory_order_relaxed);
    atomic_signal_fence(memory_order_acquire);
    if (top != NULL && info != NULL && info->si_code > 0) {
        uintptr_t addr = (uintptr_t)info->si_addr;
        cordon__sys_trap_info t;
        memset(&t, 0, sizeof t);
        cordon__sys_trap_classify_fn classify = atomic_load_explicit(&classifier, memory_order_acquire);
        bool hit = classify != NULL && classify(addr, &t);
        if (!hit && in_stack_overflow_zone(&self, addr)) {
            t.kind = CORDON__SYS_TRAP_STACK;
            t.handle = 0;
            t.offset = -(int64_t)(self.stack_lo - addr);
            t.reserved = (uint64_t)(self.stack_hi - self.stack_lo);
            hit = true;
        }
        if (hit) {
            t.address = addr;
            t.bus = sig == SIGBUS;
            t.access = access_of(uctx);
            *top->out = t;
            restore_mask(uctx);
            errno_restore(saved_errno);
            /* SAFETY: siglongjmp -- leave the handler (and fn) for the innermost run of this thread.
             * Relies on: top is this thread's innermost run_frame, pushed after its sigsetjmp and
             * popped before that run returns, so its frame is live; the jump leaves the alternate
             * stack for the thread's own stack, which is allowed; the mask was put back just above
             * (the jump buffer holds none: savemask 0); fn's abandoned frames hold no lock or
             * resource (the documented rule for fn); *top->out is the caller's object, not a local of
             * the frame that called sigsetjmp.
             * On failure: does not return. */
            siglongjmp(top->jump, 1);
        }
    }
    chain(sig, info, uctx);
    errno_restore(saved_errno);
}

/* ---- installation ----------------------------------------------------------------------------- */

static cordon_status query_action(int sig, sig_action *out) {
    int err = 0;
    if (CORDON__FAULT(SIGACTION, &err)) {
        return cordon__sys_fail("sigaction", err);
    }
    /* SAFETY: sigaction -- read the current action of sig (no change).
     * Relies on: sig is SIGSEGV or SIGBUS; act NULL, so nothing is installed; out is a complete
     * sig_action owned by the caller.
     * On failure: errno recorded as "sigaction"; *out unspecified (callers zero it first). */
    if (sigaction(sig, NULL, out) != 0) {
        return cordon__sys_fail("sigaction", cordon__sys_errno());
    }
    return CORDON_OK;
}

static cordon_status set_action(int sig, const sig_action *act) {
    int err = 0;
    if (CORDON__FAULT(SIGACTION, &err)) {
        return cordon__sys_fail("sigaction", err);
    }
    /* SAFETY: sigaction -- install act for sig, process-wide.
     * Relies on: sig is SIGSEGV or SIGBUS; act is complete (zeroed, then handler, flags and mask set);
     * the previous action was read and stored before, so a signal arriving as soon as this returns
     * can chain to it.
     * On failure: errno recorded as "sigaction"; the action is unchanged (sigaction changes nothing
     * when it fails). */
    if (sigaction(sig, act, NULL) != 0) {
        return cordon__sys_fail("sigaction", cordon__sys_errno());
    }
    return CORDON_OK;
}

/* Puts back an action read at installation; used only to undo a half-done installation. */
static void restore_action(int sig, const sig_action *act) {
    /* SAFETY: sigaction -- put back the action that was in place before this installation.
     * Relies on: act is exactly what sigaction reported for sig moments ago, so the kernel accepts
     * it; no fault point, so that an injected failure of the installation is undone whole.
     * On failure: cannot fail for an action the kernel itself returned for this signal. */
    (void)sigaction(sig, act, NULL);
}

static cordon_status install_once(cordon__sys_trap_classify_fn classify) {
    sig_action old_segv;
    sig_action old_bus;
    memset(&old_segv, 0, sizeof old_segv);
    memset(&old_bus, 0, sizeof old_bus);
    cordon_status st = query_action(SIGSEGV, &old_segv);
    if (st == CORDON_OK) {
        st = query_action(SIGBUS, &old_bus);
    }
    if (st != CORDON_OK) {
        return st;
    }
    prev_segv = old_segv;
    prev_bus = old_bus;
    atomic_store_explicit(&classifier, classify, memory_order_release);

    sig_action act;
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_fault;
    act.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    /* SAFETY: sigemptyset -- no extra signal blocked while the handler runs (the signal itself is).
     * Relies on: act.sa_mask is a sigset_t inside act.
     * On failure: cannot fail (EINVAL only for a NULL set). */
    (void)sigemptyset(&act.sa_mask);
    st = set_action(SIGSEGV, &act);
    if (st != CORDON_OK) {
        return st;
    }
    st = set_action(SIGBUS, &act);
    if (st != CORDON_OK) {
        restore_action(SIGSEGV, &old_segv);
        return st;
    }
    /* A sanitizer's sigaction interceptor may keep its own handler and still report success: read
     * the action back. */
    sig_action now;
    memset(&now, 0, sizeof now);
    st = query_action(SIGSEGV, &now);
    if (st == CORDON_OK && ((now.sa_flags & SA_SIGINFO) == 0 || now.sa_sigaction != on_fault)) {
        st = cordon__sys_fail_as(CORDON_UNSUPPORTED, "sigaction", EPERM);
    }
    if (st != CORDON_OK) {
        restore_action(SIGBUS, &old_bus);
        restore_action(SIGSEGV, &old_segv);
        return st;
    }
    return CORDON_OK;
}

/* The classifier install_pending hands to install_once (every caller passes the memory layer's one). */
static _Atomic(cordon__sys_trap_classify_fn) pending_classify;

static cordon_status install_pending(void) {
    return install_once(atomic_load_explicit(&pending_classify, memory_order_acquire));
}

cordon_status cordon__sys_trap_install(cordon__sys_trap_classify_fn classify) {
    if (classify == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    atomic_store_explicit(&pending_classify, classify, memory_order_release);
    return cordon__sys_once_retry(&install_state, install_pending);
}

bool cordon__sys_trap_installed(void) {
    return atomic_load_explicit(&install_state, memory_order_acquire) == 2u;
}

/* ---- per-thread preparation ------------------------------------------------------------------- */

/* The stack of the calling thread: [*lo, *hi) usable, *guard bytes of guard below it (0 if none). */
static cordon_status stack_bounds(uintptr_t *lo, uintptr_t *hi, uintptr_t *guard) {
#if defined(__linux__)
    int rc = 0;
    pthread_attr_t attr;
    /* SAFETY: pthread_self -- the calling thread, whose stack is asked for.
     * Relies on: nothing (always succeeds, the calling thread is live).
     * On failure: cannot fail. */
    pthread_t me = pthread_self();
    if (!CORDON__FAULT(PTHREAD_GETATTR_NP, &rc)) {
        /* SAFETY: pthread_getattr_np -- the calling thread's stack address, size and guard size.
         * Relies on: me is the live calling thread; attr is initialised by the call and
         * destroyed below on success (on failure it is not initialised and not destroyed); for the
         * main thread glibc reads /proc/self/maps and the stack rlimit (not async-signal-safe:
         * called only here, outside any handler).
         * On failure: returns the error number (ENOMEM), recorded as "pthread_getattr_np". */
        rc = pthread_getattr_np(me, &attr);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_getattr_np", rc);
    }
    void *addr = NULL;
    size_t size = 0;
    size_t guard_size = 0;
    /* SAFETY: pthread_attr_getstack -- read the stack's lowest address and size from attr.
     * Relies on: attr was initialised by pthread_getattr_np above.
     * On failure: cannot fail for an initialised attr with a stack (EINVAL only otherwise); the zeros
     * above then give an empty stack: no overflow is ever recognised. */
    (void)pthread_attr_getstack(&attr, &addr, &size);
    /* SAFETY: pthread_attr_getguardsize -- read the guard size from attr.
     * Relies on: attr initialised above.
     * On failure: cannot fail; 0 stays (the minimum slack applies). */
    (void)pthread_attr_getguardsize(&attr, &guard_size);
    /* SAFETY: pthread_attr_destroy -- release what pthread_getattr_np allocated in attr.
     * Relies on: attr initialised above, destroyed once, not used afterwards.
     * On failure: cannot fail (glibc always returns 0). */
    (void)pthread_attr_destroy(&attr);
    *lo = (uintptr_t)addr;
    *hi = (uintptr_t)addr + size;
    *guard = (uintptr_t)guard_size;
    return CORDON_OK;
#elif defined(__APPLE__)
    /* SAFETY: pthread_self -- the calling thread, whose stack is asked for.
     * Relies on: nothing. On failure: cannot fail. */
    pthread_t me = pthread_self();
    /* SAFETY: pthread_get_stackaddr_np -- the top (highest address) of the calling thread's stack.
     * Relies on: me is live. On failure: cannot fail. */
    uintptr_t top = (uintptr_t)pthread_get_stackaddr_np(me);
    /* SAFETY: pthread_get_stacksize_np -- the size of the calling thread's stack.
     * Relies on: me is live. On failure: cannot fail. */
    size_t size = pthread_get_stacksize_np(me);
    *lo = top - size;
    *hi = top;
    *guard = 0;
    return CORDON_OK;
#else
    *lo = 0;
    *hi = 0;
    *guard = 0;
    return CORDON_OK;
#endif
}

static void release_altstack(void *arg);

static cordon_status create_key(void) {
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_KEY_CREATE, &rc)) {
        /* SAFETY: pthread_key_create -- the key whose destructor releases a thread's
         * alternate signal stack when the thread exits.
         * Relies on: one thread at a time gets here (cordon__sys_once_retry moves key_state 0 → 1 by
         * CAS); the key is never deleted, so destructors of running threads always find it.
         * On failure: returns the error number (EAGAIN), recorded as "pthread_key_create";
         * the state goes back to 0 so that a later run may try again. */
        rc = pthread_key_create(&altstack_key, release_altstack);
    }
    if (rc != 0) {
        return cordon__sys_fail("pthread_key_create", rc);
    }
    return CORDON_OK;
}

static cordon_status ensure_key(void) {
    return cordon__sys_once_retry(&key_state, create_key);
}

static cordon_status set_exit_hook(void *value) {
    int rc = 0;
    if (!CORDON__FAULT(PTHREAD_SETSPECIFIC, &rc)) {
        /* SAFETY: pthread_setspecific -- run release_altstack(value) when this thread exits (NULL:
         * don't).
         * Relies on: altstack_key was created (key_state 2, acquire) and is never deleted; value is
         * this thread's TLS state, alive until after the destructors have run.
         * On failure: returns the error number (ENOMEM), recorded as "pthread_setspecific"; the
         * thread's value is unchanged. */
        rc = pthread_setspecific(altstack_key, value);
    }
    return rc == 0 ? CORDON_OK : cordon__sys_fail("pthread_setspecific", rc);
}

static void unmap_altstack(void *map, size_t len) {
    int err = 0;
    if (!CORDON__FAULT(MUNMAP, &err)) {
        /* SAFETY: munmap -- release an alternate stack cordon mapped.
         * Relies on: map/len are exactly what mmap returned and was given in prepare_thread; the
         * stack is not (or no longer) installed with sigaltstack, so no signal can be running on it.
         * On failure: the mapping stays (address space lost, never reused); nothing else depends on it. */
        if (munmap(map, len) == 0) {
            atomic_fetch_sub_explicit(&altstacks_live, 1u, memory_order_relaxed);
        }
    }
}

/* The thread-exit destructor: takes the alternate stack out of use, then unmaps it. */
static void release_altstack(void *arg) {
    thread_state *s = (thread_state *)arg;
    if (s == NULL || s->alt_map == NULL) {
        return;
    }
    s->ready = false;
    stack_t off;
    memset(&off, 0, sizeof off);
    off.ss_flags = SS_DISABLE;
    int err = 0;
    if (CORDON__FAULT(SIGALTSTACK, &err)) {
        return; /* the stack stays mapped: a signal could still run on it */
    }
    /* SAFETY: sigaltstack -- stop using the alternate stack before it is unmapped.
     * Relies on: called from the exiting thread's key destructor, not from a handler running on that
     * stack (EPERM otherwise); off is complete with SS_DISABLE.
     * On failure: the stack stays installed and mapped (leaked, never unmapped under a handler). */
    if (sigaltstack(&off, NULL) != 0) {
        return;
    }
    void *map = s->alt_map;
    s->alt_map = NULL;
    unmap_altstack(map, s->alt_map_len);
}

/* Gives the calling thread what the handler needs: its stack bounds and an alternate stack. Each
 * step that fails undoes the ones before, so a failure leaves the thread as it was. */
static cordon_status prepare_thread(void) {
    size_t page = 0;
    cordon_status st = cordon__sys_page_size(&page);
    if (st != CORDON_OK) {
        return st;
    }
    uintptr_t lo = 0;
    uintptr_t hi = 0;
    uintptr_t guard = 0;
    st = stack_bounds(&lo, &hi, &guard);
    if (st != CORDON_OK) {
        return st;
    }
    uintptr_t slack = guard > STACK_OVERFLOW_SLACK ? guard : STACK_OVERFLOW_SLACK;
    uintptr_t overflow_lo = lo > slack ? lo - slack : 0;

    int err = 0;
    stack_t cur;
    memset(&cur, 0, sizeof cur);
    if (CORDON__FAULT(SIGALTSTACK, &err)) {
        return cordon__sys_fail("sigaltstack", err);
    }
    /* SAFETY: sigaltstack -- read the thread's current alternate stack (no change).
     * Relies on: ss NULL, so nothing is installed; cur is a complete stack_t.
     * On failure: errno recorded as "sigaltstack"; nothing changed. */
    if (sigaltstack(NULL, &cur) != 0) {
        return cordon__sys_fail("sigaltstack", cordon__sys_errno());
    }
    void *map = NULL;
    size_t map_len = 0;
    if ((cur.ss_flags & SS_DISABLE) != 0) {
        /* No alternate stack yet: map one. (A thread that has one, e.g. from a sanitizer, keeps it.) */
        st = ensure_key();
        if (st != CORDON_OK) {
            return st;
        }
        map_len = ALT_STACK_BYTES + page;
        if (CORDON__FAULT(MMAP, &err)) {
            return cordon__sys_fail("mmap", err);
        }
        /* SAFETY: mmap -- an alternate signal stack for this thread, with room for a guard page.
         * Relies on: map_len is a nonzero multiple of the page size; addr NULL, no MAP_FIXED, so no
         * mapping is replaced; fd -1 with MAP_ANONYMOUS; the result is compared with MAP_FAILED.
         * On failure: errno recorded as "mmap" (ENOMEM → CORDON_OUT_OF_MEMORY); nothing mapped. */
        map = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) {
            return cordon__sys_fail("mmap", cordon__sys_errno());
        }
        atomic_fetch_add_explicit(&altstacks_live, 1u, memory_order_relaxed);
        if (CORDON__FAULT(MPROTECT, &err)) {
            st = cordon__sys_fail("mprotect", err);
        } else {
            /* SAFETY: mprotect -- make the lowest page of the alternate stack a guard (stacks grow
             * down), so a handler that overflows it faults instead of writing below.
             * Relies on: map is page-aligned and at least one page longer than the stack.
             * On failure: errno recorded as "mprotect"; the mapping is released below. */
            if (mprotect(map, page, PROT_NONE) != 0) {
                st = cordon__sys_fail("mprotect", cordon__sys_errno());
            }
        }
        if (st == CORDON_OK) {
            st = set_exit_hook(&self);
        }
        if (st == CORDON_OK) {
            stack_t ss;
            memset(&ss, 0, sizeof ss);
            ss.ss_sp = (char *)map + page;
            ss.ss_size = ALT_STACK_BYTES;
            ss.ss_flags = 0;
            if (CORDON__FAULT(SIGALTSTACK, &err)) {
                st = cordon__sys_fail("sigaltstack", err);
            } else {
                /* SAFETY: sigaltstack -- install the alternate stack for this thread's handlers.
                 * Relies on: [ss_sp, ss_sp + ss_size) is the read-write part of a mapping this thread
                 * owns until its exit destructor (registered above) disables and unmaps it; the size
                 * is above MINSIGSTKSZ; the thread is not running on an alternate stack (it had none).
                 * On failure: errno recorded as "sigaltstack"; the exit hook is cleared and the
                 * mapping released below. */
                if (sigaltstack(&ss, NULL) != 0) {
                    st = cordon__sys_fail("sigaltstack", cordon__sys_errno());
                }
            }
            if (st != CORDON_OK) {
                cordon_os_error first = cordon_last_os_error();
                (void)set_exit_hook(NULL);
                (void)cordon__sys_fail_as(st, first.call, first.code);
            }
        }
        if (st != CORDON_OK) {
            unmap_altstack(map, map_len);
            return st;
        }
    }
    self.stack_lo = lo;
    self.stack_hi = hi;
    self.overflow_lo = overflow_lo;
    self.alt_map = map;
    self.alt_map_len = map_len;
    atomic_signal_fence(memory_order_release);
    self.ready = true;
    return CORDON_OK;
}

/* ---- the run ---------------------------------------------------------------------------------- */

/* Kept out of line so that its frame, which sigsetjmp saves, exists exactly while fn runs. */
static cordon_status run_protected(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out)
    __attribute__((noinline));

static cordon_status run_protected(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out) {
    run_frame frame;
    frame.prev = atomic_load_explicit(&self.top, memory_order_relaxed);
    frame.out = out;
    /* SAFETY: sigsetjmp -- the point a trap in fn returns to.
     * Relies on: savemask 0 (no system call per run): the handler puts back the mask of the faulting
     * context itself before it jumps (restore_mask); this frame stays live until the run is popped from `top`
     * below on both paths, and the handler jumps only to `top`; frame.prev and frame.out are set
     * before this call and never changed after it, so they are determinate after a jump; fn and ctx
     * are not used after the jump.
     * On failure: does not fail; returns 0 directly, nonzero after a siglongjmp. */
    if (sigsetjmp(frame.jump, 0) != 0) {
        atomic_store_explicit(&self.top, frame.prev, memory_order_relaxed);
        return CORDON_TRAPPED;
    }
    atomic_store_explicit(&self.top, &frame, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* pushed before fn's first access */
    fn(ctx);
    atomic_signal_fence(memory_order_seq_cst); /* fn's last access before the pop */
    atomic_store_explicit(&self.top, frame.prev, memory_order_relaxed);
    return CORDON_OK;
}

cordon_status cordon__sys_trap_run(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out) {
    if (fn == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (!cordon__sys_trap_installed()) {
        return CORDON_WRONG_STATE;
    }
    if (!self.ready) {
        cordon_status st = prepare_thread();
        if (st != CORDON_OK) {
            return st;
        }
    }
    return run_protected(fn, ctx, out);
}

uint64_t cordon__sys_trap_altstacks_live(void) {
    return atomic_load_explicit(&altstacks_live, memory_order_relaxed);
}
