/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — traps on Windows: the vectored exception handler and the jump behind cordon_trap_run (the
 * Win32 counterpart of signal.c; src/memory/trap.c, include/cordon/trap.h).
 *
 * One process-wide vectored exception handler (AddVectoredExceptionHandler, first in the list), put in
 * place by cordon__sys_trap_install only. It looks at EXCEPTION_ACCESS_VIOLATION, EXCEPTION_IN_PAGE_ERROR
 * (the counterpart of SIGBUS: a mapped file's page that cannot be read in) and EXCEPTION_STACK_OVERFLOW,
 * raised on the thread that faulted; every other exception, and each of these that is not a trap,
 * continues the search (EXCEPTION_CONTINUE_SEARCH), so the next vectored handler, the frame-based
 * handlers and at last the unhandled-exception filter see it as if cordon were not there: a fault that
 * nothing handles ends the process with its exception code, as without cordon.
 *
 * Each thread that runs cordon__sys_trap_run gets a state (heap-allocated, found through a fiber-local
 * slot whose callback frees it when the thread exits) holding the chain of its active runs (`top`,
 * innermost first) and the bounds of its stack. On an exception the handler, on the faulting thread:
 *
 *     1. no state or no active run, a non-continuable record    → continue the search
 *     2. EXCEPTION_STACK_OVERFLOW, or an access just above the  → trap (stack overflow)
 *        stack's lowest page (below its overflow guard)
 *     3. classifier(address) says "in a live region"            → trap
 *     4. otherwise                                              → continue the search
 *
 * A trap writes the record into the run's out-parameter and resumes the thread, through the system
 * (EXCEPTION_CONTINUE_EXECUTION with an edited CONTEXT), in resume_run: a function that makes GCC's
 * builtin long jump to the run's builtin setjmp. Why this is sound:
 *   (a) the handler returns normally, so the dispatcher finishes its own bookkeeping (the handler list's
 *       reference counts, its lock) and NtContinue loads the edited context like any other: nothing is
 *       left half-done, which a jump straight out of the handler would leave;
 *   (b) resume_run runs on the faulting thread's stack below the faulting frame (a gap under the
 *       faulting stack pointer, 16-byte aligned as at a call), in memory fn's abandoned frames or the
 *       dispatcher used, and needs a few bytes of it;
 *   (c) __builtin_longjmp restores the frame and stack pointers saved by __builtin_setjmp in
 *       run_protected and jumps to its receiver; a function that calls __builtin_setjmp saves every
 *       callee-saved register (rbx, rbp, rdi, rsi, r12–r15 and xmm6–xmm15 on Win64) in its prologue and
 *       its receiver reloads what it needs from the frame, so no register value at the jump matters
 *       (the same pair carries GCC's setjmp/longjmp exception handling on this target);
 *   (d) the frames abandoned are fn's: Win64 exception handling is table-based, so no frame registers
 *       anything the system would walk later (there is no exception-registration chain to unlink), and
 *       fn's rules (trap.h: no lock, resource or C++ destructor across an access that may trap) hold;
 *       the C runtime's longjmp is not used because on Win64 it unwinds (RtlUnwindEx), which from a
 *       vectored handler would walk the dispatcher's frames and run termination handlers;
 *   (e) the jump targets a live frame: a run pops itself from `top` before it returns, and the
 *       handler only resumes into `top` of its own thread; everything run_protected reads after the
 *       jump was written before __builtin_setjmp and not changed since.
 *
 * Stack overflow. The system raises EXCEPTION_STACK_OVERFLOW when a thread's stack guard page reaches
 * the last pages of its reservation; the handler then runs on what is left, which
 * SetThreadStackGuarantee reserves. Each thread's first run asks for that guarantee (64 KiB, at most an
 * eighth of the stack) and, where the stack is already committed there (Wine commits whole stacks;
 * Windows after an earlier overflow), puts a guard page (PAGE_GUARD) just above the guaranteed pages so
 * that the overflow is raised with the guarantee still free. An overflow consumes that guard: the next
 * run of the thread puts it back before it runs fn (as the C runtime's _resetstkoflw does), and until
 * it could, fn is not run. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#  define TRAPS_SUPPORTED 1
#else
#  define TRAPS_SUPPORTED 0 /* the CONTEXT edit below is x86-64's (Rip, Rsp, Rcx) */
#endif

/* The stack the system keeps for handlers after an overflow: GUARANTEE_BYTES, but at most an eighth of
 * the thread's stack (SetThreadStackGuarantee refuses a guarantee as large as the stack). */
#define GUARANTEE_BYTES ((uintptr_t)64 * 1024)
/* Where resume_run starts below the faulting stack pointer. */
#define RESUME_GAP ((uintptr_t)256)
/* The direction flag of RFLAGS. */
#define EFLAGS_DF 0x400u

typedef struct run_frame {
    void *jump[5]; /* __builtin_setjmp's buffer */
    struct run_frame *prev;
    cordon__sys_trap_info *out;
} run_frame;

typedef struct thread_state {
    _Atomic(run_frame *) top; /* written by the thread, read by its own exception handler */
    bool ready;               /* the bounds below are known and the guarantee is in place */
    bool rearm;               /* an overflow used the guard page: put it back before the next run */
    uintptr_t alloc_lo;       /* the lowest byte of the stack's reservation */
    uintptr_t stack_lo;       /* the lowest usable byte: above the guaranteed pages and the guard */
    uintptr_t stack_hi;       /* one past the highest */
} thread_state;

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2, "the handler reads pointers that must be lock-free atomics");

/* 0 not installed, 1 being installed by one thread, 2 installed (never removed). */
static _Atomic unsigned install_state;
static _Atomic(cordon__sys_trap_classify_fn) classifier;

/* 0 no slot, 1 being allocated, 2 ready: the fiber-local slot of each thread's state (never freed). */
static _Atomic unsigned slot_state;
static DWORD state_slot;

/* Thread states allocated and not yet released (the counterpart of the POSIX alternate stacks). */
static _Atomic uint64_t states_live;

/* ---- the handler ------------------------------------------------------------------------------ */

/* Reached only through the edited context of a trap: it is "called" with the stack pointer the handler
 * chose and the run's frame in rcx, and never returns. */
static void resume_run(run_frame *frame) __attribute__((noreturn, noinline, used));

static void resume_run(run_frame *frame) {
    /* SAFETY: __builtin_longjmp -- leave fn's frames for the receiver of run_protected's setjmp.
     * Relies on: frame is the innermost run of this thread, live until it pops itself (points (c) and
     * (e) of the file comment); the value is 1, as the builtin requires.
     * On failure: does not return. */
    __builtin_longjmp(frame->jump, 1);
}

static thread_state *state_of_thread(void) {
    /* SAFETY: GetLastError -- keep the interrupted code's last-error value across FlsGetValue, which
     * may clear it (the interrupted code may be between a failing call and its GetLastError).
     * Relies on: per-thread value; read first thing.
     * On failure: cannot fail. */
    DWORD saved = GetLastError();
    /* SAFETY: FlsGetValue -- the calling thread's trap state (NULL: the thread never ran a run).
     * Relies on: state_slot was allocated (slot_state 2, read with acquire order by the caller) and is
     * never freed; the value is a state this thread set, cleared before the state is freed.
     * On failure: cannot fail for an allocated slot; NULL means no state. */
    thread_state *s = (thread_state *)FlsGetValue(state_slot);
    /* SAFETY: SetLastError -- put back the value read above.
     * Relies on: saved was read on this thread just above.
     * On failure: cannot fail. */
    SetLastError(saved);
    return s;
}

/* The access kind of a fault: the record's first parameter is 0 for a read, 1 for a write and 8 for an
 * execution (which the public access kinds do not name). */
static unsigned access_of(const EXCEPTION_RECORD *rec) {
    if (rec->NumberParameters < 1) {
        return 0u;
    }
    switch (rec->ExceptionInformation[0]) {
    case 0: return 1u;
    case 1: return 2u;
    default: return 0u;
    }
}

static LONG WINAPI on_exception(EXCEPTION_POINTERS *ep) {
#if TRAPS_SUPPORTED
    if (ep == NULL || ep->ExceptionRecord == NULL || ep->ContextRecord == NULL) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    const EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    DWORD code = rec->ExceptionCode;
    bool overflow = code == EXCEPTION_STACK_OVERFLOW;
    if ((code != EXCEPTION_ACCESS_VIOLATION && code != EXCEPTION_IN_PAGE_ERROR && !overflow) ||
        (rec->ExceptionFlags & EXCEPTION_NONCONTINUABLE) != 0) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    if (atomic_load_explicit(&slot_state, memory_order_acquire) != 2u) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    thread_state *s = state_of_thread();
    if (s == NULL || !s->ready) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    run_frame *top = atomic_load_explicit(&s->top, memory_order_relaxed);
    atomic_signal_fence(memory_order_acquire);
    if (top == NULL) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    CONTEXT *cx = ep->ContextRecord;
    uintptr_t addr = 0;
    if (rec->NumberParameters >= 2) {
        addr = (uintptr_t)rec->ExceptionInformation[1];
    } else if (overflow) {
        addr = (uintptr_t)cx->Rsp; /* a record raised without the address: the stack pointer is below */
    } else {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    cordon__sys_trap_info t;
    memset(&t, 0, sizeof t);
    bool hit = false;
    if (overflow || (addr >= s->alloc_lo && addr < s->stack_lo)) {
        t.kind = CORDON__SYS_TRAP_STACK;
        t.handle = 0;
        t.offset = addr < s->stack_lo ? -(int64_t)(s->stack_lo - addr) : -1;
        t.reserved = (uint64_t)(s->stack_hi - s->stack_lo);
        t.in_guard = true;
        s->rearm = true;
        hit = true;
    } else {
        cordon__sys_trap_classify_fn classify = atomic_load_explicit(&classifier, memory_order_acquire);
        hit = classify != NULL && classify(addr, &t);
    }
    if (!hit) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    t.address = addr;
    t.bus = code == EXCEPTION_IN_PAGE_ERROR;
    t.access = access_of(rec);
    *top->out = t;
    /* Resume in resume_run(top) on this thread's stack, below the faulting frame: entered as by a call
     * (rsp + 8 a multiple of 16), with its argument in rcx, and with the direction flag clear as the
     * calling convention requires at a call (the fault may have been in a backward string copy; a
     * signal handler gets it clear from the kernel, this context would keep it). */
    uintptr_t sp = (((uintptr_t)cx->Rsp - RESUME_GAP) & ~(uintptr_t)15) - 8u;
    cx->Rsp = (DWORD64)sp;
    cx->Rip = (DWORD64)(uintptr_t)resume_run;
    cx->Rcx = (DWORD64)(uintptr_t)top;
    cx->EFlags &= ~(DWORD)EFLAGS_DF;
    return EXCEPTION_CONTINUE_EXECUTION;
#else
    (void)ep;
    return EXCEPTION_CONTINUE_SEARCH;
#endif
}

/* ---- installation ----------------------------------------------------------------------------- */

static cordon_status install_once(cordon__sys_trap_classify_fn classify) {
    atomic_store_explicit(&classifier, classify, memory_order_release);
    int err = 0;
    if (CORDON__FAULT(SIGACTION, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_SIGACTION, err);
    }
    /* SAFETY: AddVectoredExceptionHandler -- put on_exception first in the process's list of vectored
     * handlers (the counterpart of sigaction for SIGSEGV and SIGBUS).
     * Relies on: on_exception is a function of this module, which is never unloaded while the handler
     * is registered (it is never removed: installation is once per process); the classifier it calls is
     * stored before, so an exception arriving as soon as this returns finds it.
     * On failure: NULL (the list entry could not be allocated; the call sets no documented error code),
     * recorded as "AddVectoredExceptionHandler" with ERROR_NOT_ENOUGH_MEMORY when GetLastError gives 0;
     * nothing is registered. */
    void *handle = AddVectoredExceptionHandler(1, on_exception);
    if (handle == NULL) {
        int code = cordon__sys_win32_error();
        return cordon__sys_fail_win32_as(CORDON_OUT_OF_MEMORY, "AddVectoredExceptionHandler",
                                         code != 0 ? code : ERROR_NOT_ENOUGH_MEMORY);
    }
    return CORDON_OK;
}

#if TRAPS_SUPPORTED
/* The classifier install_pending hands to install_once (every caller passes the memory layer's one). */
static _Atomic(cordon__sys_trap_classify_fn) pending_classify;

static cordon_status install_pending(void) {
    return install_once(atomic_load_explicit(&pending_classify, memory_order_acquire));
}
#endif

cordon_status cordon__sys_trap_install(cordon__sys_trap_classify_fn classify) {
    if (classify == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
#if !TRAPS_SUPPORTED
    return CORDON_UNSUPPORTED;
#else
    atomic_store_explicit(&pending_classify, classify, memory_order_release);
    return cordon__sys_once_retry(&install_state, install_pending);
#endif
}

bool cordon__sys_trap_installed(void) {
    return atomic_load_explicit(&install_state, memory_order_acquire) == 2u;
}

/* ---- per-thread preparation ------------------------------------------------------------------- */

static void release_state(thread_state *s, bool in_slot);

/* The slot's callback: called with a state when its thread exits (on that thread), or when a fiber
 * holding one is deleted (on the deleting thread, whose own fiber's value may be another state: only
 * the caller's own value is cleared). */
static void WINAPI on_thread_exit(void *arg) {
    thread_state *s = (thread_state *)arg;
    release_state(s, s != NULL && state_of_thread() == s);
}

/* Allocates the slot; run once by cordon__sys_once_retry (a failure lets a later run try again). */
static cordon_status create_slot(void) {
    int err = 0;
    if (CORDON__FAULT(PTHREAD_KEY_CREATE, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_KEY_CREATE, err);
    }
    /* SAFETY: FlsAlloc -- the slot of each thread's trap state, whose callback frees the state
     * when the thread exits (the counterpart of pthread_key_create).
     * Relies on: one thread at a time gets here (cordon__sys_once_retry moves slot_state 0 → 1 by CAS);
     * the slot is never freed, so callbacks of running threads and the handler always find it;
     * on_thread_exit only releases the state it is given.
     * On failure: FLS_OUT_OF_INDEXES, recorded as "FlsAlloc" (CORDON_OUT_OF_RESOURCES); the
     * state goes back to 0 so that a later run may try again. */
    DWORD slot = FlsAlloc(on_thread_exit);
    if (slot == FLS_OUT_OF_INDEXES) {
        return cordon__sys_fail_win32_as(CORDON_OUT_OF_RESOURCES, "FlsAlloc", cordon__sys_win32_error());
    }
    state_slot = slot; /* published by once_retry's release store of slot_state 2 */
    return CORDON_OK;
}

static cordon_status ensure_slot(void) {
    return cordon__sys_once_retry(&slot_state, create_slot);
}

static cordon_status set_state(thread_state *s) {
    int err = 0;
    if (CORDON__FAULT(PTHREAD_SETSPECIFIC, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_PTHREAD_SETSPECIFIC, err);
    }
    /* SAFETY: FlsSetValue -- make s the calling thread's trap state (freed by on_thread_exit when the
     * thread exits).
     * Relies on: state_slot allocated (slot_state 2, acquire) and never freed; s is a live allocation
     * of this module, freed only by release_state after the slot is cleared.
     * On failure: FALSE, recorded as "FlsSetValue"; the thread's value is unchanged. */
    if (!FlsSetValue(state_slot, s)) {
        return cordon__sys_fail_win32("FlsSetValue", cordon__sys_win32_error());
    }
    return CORDON_OK;
}

static void clear_state(void) {
    /* SAFETY: FlsSetValue -- forget the calling thread's state before it is freed, so that neither the
     * handler nor the exit callback can reach freed memory.
     * Relies on: state_slot allocated and never freed; NULL needs no allocation (the thread's value was
     * set before), so the call does not fail; no fault point, so that an undo is never half done.
     * On failure: cannot fail for a slot this thread has set. */
    (void)FlsSetValue(state_slot, NULL);
}

/* Frees a state; `in_slot`: it is the calling thread's value in the slot, which is cleared first. */
static void release_state(thread_state *s, bool in_slot) {
    if (s == NULL) {
        return;
    }
    s->ready = false;
    if (in_slot) {
        clear_state();
    }
    cordon__sys_free(s);
    atomic_fetch_sub_explicit(&states_live, 1u, memory_order_relaxed);
}

/* The thread's current stack guarantee (SetThreadStackGuarantee with 0 changes nothing and reports it). */
static cordon_status query_guarantee(ULONG *out) {
    int err = 0;
    if (CORDON__FAULT(SIGALTSTACK, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_SIGALTSTACK, err);
    }
    ULONG size = 0;
    /* SAFETY: SetThreadStackGuarantee -- read the calling thread's guarantee without changing it.
     * Relies on: *size 0 asks for no change; size is a local the call writes the current value into.
     * On failure: FALSE, recorded as "SetThreadStackGuarantee"; nothing changed. */
    if (!SetThreadStackGuarantee(&size)) {
        return cordon__sys_fail_win32("SetThreadStackGuarantee", cordon__sys_win32_error());
    }
    *out = size;
    return CORDON_OK;
}

static cordon_status raise_guarantee(ULONG want) {
    int err = 0;
    if (CORDON__FAULT(SIGALTSTACK, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_SIGALTSTACK, err);
    }
    ULONG size = want;
    /* SAFETY: SetThreadStackGuarantee -- keep `want` bytes of the calling thread's stack for exception
     * handlers after a stack overflow (the counterpart of sigaltstack: where the handler runs).
     * Relies on: want is a multiple of the page size, above the current guarantee and at most an
     * eighth of the stack (computed by the caller), so the system accepts it.
     * On failure: FALSE, recorded as "SetThreadStackGuarantee"; the guarantee is unchanged. */
    if (!SetThreadStackGuarantee(&size)) {
        return cordon__sys_fail_win32("SetThreadStackGuarantee", cordon__sys_win32_error());
    }
    return CORDON_OK;
}

/* Puts the overflow guard on the page at `guard` when that page is committed, not already a guard,
 * and well below the caller's frame. *armed_old gets its previous protection (0: not armed). */
static cordon_status arm_guard(uintptr_t guard, size_t page, DWORD *armed_old) {
    *armed_old = 0;
    volatile char here = 0;
    if ((uintptr_t)&here < guard + 4u * page) {
        return CORDON_OK; /* already this deep: no room above the guard for the caller's frames */
    }
    int err = 0;
    if (CORDON__FAULT(VIRTUAL_QUERY, &err)) {
        return cordon__sys_fail_win32("VirtualQuery", err);
    }
    MEMORY_BASIC_INFORMATION mbi;
    memset(&mbi, 0, sizeof mbi);
    /* SAFETY: VirtualQuery -- is the page at `guard` of this thread's stack committed, and how?
     * Relies on: guard lies inside the calling thread's stack reservation (between its lowest address
     * and its current frame, checked above); mbi is a complete local the call fills.
     * On failure: 0, recorded as "VirtualQuery"; nothing changed. */
    if (VirtualQuery((const void *)guard, &mbi, sizeof mbi) == 0) {
        return cordon__sys_fail_win32("VirtualQuery", cordon__sys_win32_error());
    }
    if (mbi.State != MEM_COMMIT || (mbi.Protect & PAGE_GUARD) != 0 || (mbi.Protect & PAGE_READWRITE) == 0) {
        return CORDON_OK; /* not committed yet (the system's own guard lies above it), or a guard already */
    }
    if (CORDON__FAULT(MPROTECT, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_MPROTECT, err);
    }
    DWORD old = 0;
    /* SAFETY: VirtualProtect -- make the page at `guard` the stack's guard page again (PAGE_GUARD), just
     * above the guaranteed pages, so that an overflow is raised while they are free.
     * Relies on: the page is committed read-write (queried above), lies in the calling thread's stack
     * well below its current frame (no live frame on it), and is page-aligned; old receives the
     * previous protection.
     * On failure: FALSE, recorded as "VirtualProtect"; the protection is unchanged. */
    if (!VirtualProtect((void *)guard, page, PAGE_READWRITE | PAGE_GUARD, &old)) {
        return cordon__sys_fail_win32("VirtualProtect", cordon__sys_win32_error());
    }
    *armed_old = old;
    return CORDON_OK;
}

static void disarm_guard(uintptr_t guard, size_t page, DWORD old) {
    DWORD prev = 0;
    /* SAFETY: VirtualProtect -- undo arm_guard when a later step of the preparation failed.
     * Relies on: guard/page are what arm_guard protected a moment ago and old is the protection it
     * reported; no fault point, so that an undo is never half done.
     * On failure: cannot fail for a range and protection the system just accepted; were it to, the
     * page stays a guard, which only moves where a later overflow is raised. */
    (void)VirtualProtect((void *)guard, page, old, &prev);
}

/* Gives the calling thread a state (first run) and its overflow guard (first run, and after an
 * overflow). Each step that fails undoes the ones before, so a failure leaves the thread as it was. */
static cordon_status prepare_thread(thread_state *s) {
    size_t page = 0;
    cordon_status st = cordon__sys_page_size(&page);
    if (st != CORDON_OK) {
        return st;
    }
    bool fresh = s == NULL;
    if (fresh) {
        void *block = NULL;
        st = cordon__sys_alloc(sizeof(thread_state), &block);
        if (st != CORDON_OK) {
            return st;
        }
        s = (thread_state *)block;
        memset(s, 0, sizeof *s);
        atomic_init(&s->top, NULL);
        atomic_fetch_add_explicit(&states_live, 1u, memory_order_relaxed);
    }
    ULONG_PTR lo = 0;
    ULONG_PTR hi = 0;
    /* SAFETY: GetCurrentThreadStackLimits -- the calling thread's stack reservation [lo, hi).
     * Relies on: lo and hi are locals the call writes.
     * On failure: cannot fail (no result). */
    GetCurrentThreadStackLimits(&lo, &hi);
    ULONG have = 0;
    st = query_guarantee(&have);
    uintptr_t want = GUARANTEE_BYTES;
    uintptr_t size = (uintptr_t)(hi - lo);
    if (want > size / 8u) {
        want = (size / 8u) & ~(uintptr_t)(page - 1u);
    }
    if (want < (uintptr_t)have) {
        want = (uintptr_t)have;
    }
    want = (want + page - 1u) & ~(uintptr_t)(page - 1u);
    /* The lowest page is never accessible; above it the guaranteed pages, then the guard. */
    uintptr_t guard = (uintptr_t)lo + page + want;
    bool set = false;
    if (st == CORDON_OK && fresh) {
        st = set_state(s);
        set = st == CORDON_OK;
    }
    DWORD armed_old = 0;
    if (st == CORDON_OK) {
        st = arm_guard(guard, page, &armed_old);
    }
    if (st == CORDON_OK && want > (uintptr_t)have) {
        st = raise_guarantee((ULONG)want);
        if (st != CORDON_OK && armed_old != 0) {
            disarm_guard(guard, page, armed_old);
        }
    }
    if (st != CORDON_OK) {
        if (fresh) {
            release_state(s, set);
        }
        return st;
    }
    s->alloc_lo = (uintptr_t)lo;
    s->stack_lo = guard + page;
    s->stack_hi = (uintptr_t)hi;
    s->rearm = false;
    atomic_signal_fence(memory_order_release);
    s->ready = true;
    return CORDON_OK;
}

/* ---- the run ---------------------------------------------------------------------------------- */

/* Kept out of line so that its frame, which __builtin_setjmp saves, exists exactly while fn runs. */
static cordon_status run_protected(thread_state *s, void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out)
    __attribute__((noinline));

static cordon_status run_protected(thread_state *s, void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out) {
    run_frame frame;
    frame.prev = atomic_load_explicit(&s->top, memory_order_relaxed);
    frame.out = out;
    /* SAFETY: __builtin_setjmp -- the point a trap in fn resumes at (through resume_run).
     * Relies on: this frame stays live until the run is popped from `top` below on both paths, and the
     * handler resumes only into `top`; s, frame.prev and frame.out are set before this call and never
     * changed after it; fn and ctx are not used after the jump; this function is never inlined.
     * On failure: does not fail; 0 directly, 1 after resume_run's jump. */
    if (__builtin_setjmp(frame.jump) != 0) {
        atomic_store_explicit(&s->top, frame.prev, memory_order_relaxed);
        return CORDON_TRAPPED;
    }
    atomic_store_explicit(&s->top, &frame, memory_order_relaxed);
    atomic_signal_fence(memory_order_seq_cst); /* pushed before fn's first access */
    fn(ctx);
    atomic_signal_fence(memory_order_seq_cst); /* fn's last access before the pop */
    atomic_store_explicit(&s->top, frame.prev, memory_order_relaxed);
    return CORDON_OK;
}

cordon_status cordon__sys_trap_run(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out) {
    if (fn == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (!cordon__sys_trap_installed()) {
        return CORDON_WRONG_STATE;
    }
    cordon_status st = ensure_slot();
    if (st != CORDON_OK) {
        return st;
    }
    thread_state *s = state_of_thread();
    if (s == NULL || !s->ready || s->rearm) {
        st = prepare_thread(s);
        if (st != CORDON_OK) {
            return st;
        }
        s = state_of_thread();
    }
    return run_protected(s, fn, ctx, out);
}

uint64_t cordon__sys_trap_altstacks_live(void) {
    return atomic_load_explicit(&states_live, memory_order_relaxed);
}
