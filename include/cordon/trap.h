/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — traps: turning a fault in a guard page into a status, for engines that skip software
 * bounds checks (bounds_check_free memories, see memory.h) and access memory through its base pointer.
 *
 *     cordon_trap trap;
 *     cordon_status st = cordon_trap_run(run_guest, &guest, &trap);
 *     if (st == CORDON_TRAPPED) { ... a WebAssembly trap: trap.kind, trap.memory, trap.offset ... }
 *
 * cordon_trap_run(fn, ctx, &trap) calls fn(ctx). If, while it runs, the calling thread faults
 * (SIGSEGV or SIGBUS) at an address inside a live cordon memory or reservation — its guard regions,
 * its part past the committed size, or pages made inaccessible by cordon_pages_protect: anywhere in
 * the mapping, since only inaccessible bytes fault — fn is abandoned at the faulting instruction and
 * cordon_trap_run returns CORDON_TRAPPED with the memory or reservation, the offset of the address from
 * its byte 0 (negative in the leading guard) and, where the OS tells, whether the access was a read
 * or a write. A stack overflow inside fn is reported the same way with kind
 * CORDON_TRAP_STACK_OVERFLOW (the handler runs on an alternate signal stack). The process goes on.
 *
 * Installation is opt-in. Nothing here is active until cordon_trap_install() puts a process-wide
 * handler for SIGSEGV and SIGBUS in place; creating a memory never installs anything, because hosts
 * such as Go, the JVM or sanitizers own their signal handlers. Such a host calls cordon_trap_lookup()
 * from its own handler instead: an async-signal-safe "is this address in a live cordon region, which
 * one, at which offset".
 *
 * Faults that are not traps go where they went before installation: a fault outside every cordon
 * region, and any fault outside a cordon_trap_run (even in a cordon region), is passed to the handler
 * installed before cordon_trap_install (called with the same signal, siginfo and context; if it
 * returns, the faulting instruction runs again), or, when that was the default action, the default
 * action is restored and the fault repeats, so the process ends by the signal as it would have
 * without cordon (a core dump shows the real faulting instruction). A previous SIG_IGN ignores a
 * signal sent with kill(); a real fault cannot be ignored (the kernel would end the process), so it
 * is treated as the default action. A signal sent with kill() is never a trap.
 *
 * Rules for fn (as in every engine that recovers from faults with a jump):
 *   - a trap abandons fn's frames without running any of their code: fn must not hold a lock, own an
 *     allocation or leave an object half-updated across an access that may trap (cordon's own calls
 *     are safe to make from fn; a trap cannot happen inside them unless they are handed a pointer
 *     into an inaccessible part of a cordon region as a buffer);
 *   - C++ destructors of fn's frames are not run; fn must not let an exception escape;
 *   - the memories and reservations fn touches stay alive until it returns (destroying one while
 *     fn may fault in it makes the fault a trap or a crash, depending on timing);
 *   - on a trap the signal mask becomes the one fn had when it faulted (the kernel saved it): the
 *     mask cordon_trap_run was entered with, unless fn changed it.
 * Nested runs are allowed: a trap returns from the innermost cordon_trap_run of the faulting thread,
 * and the outer runs go on. Runs on several threads at once are independent.
 *
 * Sanitizers and tools. AddressSanitizer installs its own SIGSEGV handler (handle_segv=1, its
 * default): install cordon's after it (the normal order: ASan initialises first) and faults that are
 * not traps reach ASan's report. cordon_trap_install checks that the handler took, and reports
 * CORDON_UNSUPPORTED when a sanitizer kept its own (ASAN_OPTIONS=allow_user_segv_handler=0); the
 * default (1) lets it take. See docs/memory.md, "Traps", for ThreadSanitizer and valgrind.
 *
 * Windows (x86-64). The handler is a vectored exception handler, first in the process's list
 * (AddVectoredExceptionHandler), installed by cordon_trap_install only. Inside a run,
 * EXCEPTION_ACCESS_VIOLATION and EXCEPTION_IN_PAGE_ERROR (bus_error) at an address in a live region,
 * and EXCEPTION_STACK_OVERFLOW, are traps, with the access kind (read or write) from the exception
 * record. Every other exception, and these outside a run or outside every region, continue the search
 * (EXCEPTION_CONTINUE_SEARCH): the next vectored handler, the frame-based handlers, then the
 * unhandled-exception filter (where the C runtime serves signal(SIGSEGV, ...)), so a fault nothing
 * handles ends the process with its exception code, as without cordon. There is no kill() and no
 * signal mask: the thread's last-error value is what a trap keeps as fn had it. There is no alternate
 * stack either: the first run on a thread asks for a stack guarantee (SetThreadStackGuarantee, 64 KiB,
 * at most an eighth of the stack) so that the handler has room after an overflow, and puts a guard
 * page just above it where the stack is already committed; an overflow uses that guard, and the
 * thread's next run puts it back before running fn. A trap resumes the thread through the system
 * (the handler edits the faulting CONTEXT and returns EXCEPTION_CONTINUE_EXECUTION) into a jump back
 * to the run, which unwinds nothing: fn's frames are abandoned as on POSIX (the rules below apply,
 * and __try/__finally blocks in fn's frames do not run). Other architectures: CORDON_UNSUPPORTED. */
#ifndef CORDON_TRAP_H
#define CORDON_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/memory.h"
#include "cordon/pages.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* What trapped. */
typedef enum cordon_trap_kind {
    CORDON_TRAP_NONE = 0,           /* no trap (cordon_trap_run returned CORDON_OK) */
    CORDON_TRAP_MEMORY = 1,         /* in a linear memory: `memory` names it */
    CORDON_TRAP_PAGES = 2,          /* in a reservation: `pages` names it */
    CORDON_TRAP_STACK_OVERFLOW = 3  /* fn ran past the end of the thread's stack */
} cordon_trap_kind;

/* The kind of access that faulted, where the OS tells it (x86-64 Linux: the page-fault error code;
 * Windows: the exception record); CORDON_TRAP_ACCESS_UNKNOWN elsewhere. */
typedef enum cordon_trap_access {
    CORDON_TRAP_ACCESS_UNKNOWN = 0,
    CORDON_TRAP_ACCESS_READ = 1,
    CORDON_TRAP_ACCESS_WRITE = 2
} cordon_trap_access;

/* Where an address lies in a cordon region (cordon_trap_lookup), and what a trap hit. */
typedef struct cordon_trap_region {
    cordon_trap_kind kind;  /* CORDON_TRAP_MEMORY or CORDON_TRAP_PAGES */
    cordon_memory memory;   /* the memory, when kind is CORDON_TRAP_MEMORY; handle 0 otherwise */
    cordon_pages pages;     /* the reservation, when kind is CORDON_TRAP_PAGES; handle 0 otherwise */
    /* The address minus the region's byte 0 (cordon_memory_base / cordon_pages_base): negative in
     * the leading guard (or in a memory's embedder prefix, which never faults), >= reserved_bytes in
     * the trailing guard. */
    int64_t offset;
    /* The size of the usable range (a memory's reservation, cordon_memory_reserved_bytes: 4 GiB for
     * a bounds_check_free memory). The committed size is not recorded: it changes with grow. */
    uint64_t reserved_bytes;
    /* In a guard region, never accessible: before the prefix, or at or past reserved_bytes. False in
     * the usable range (committed or not) and in the prefix. */
    bool in_guard;
} cordon_trap_region;

/* What cordon_trap_run reports on CORDON_TRAPPED. */
typedef struct cordon_trap {
    cordon_trap_kind kind;
    cordon_trap_access access;
    /* The faulting address (for a stack overflow: below the thread's stack). */
    const void *address;
    /* SIGBUS rather than SIGSEGV (e.g. a file-backed page past the end of its file); on Windows,
     * EXCEPTION_IN_PAGE_ERROR rather than an access violation. */
    bool bus_error;
    /* For CORDON_TRAP_MEMORY and CORDON_TRAP_PAGES: which region and where (the `kind` there is the
     * same). For a stack overflow: kind CORDON_TRAP_NONE, handles 0, offset = address minus the lowest
     * usable byte of the thread's stack (negative), reserved_bytes = the stack's size. */
    cordon_trap_region region;
} cordon_trap;

/* The function cordon_trap_run runs. */
typedef void (*cordon_trap_fn)(void *ctx);

/* Installs cordon's SIGSEGV and SIGBUS handler, process-wide, remembering the handlers it replaces
 * (for chaining, see above). Idempotent and thread-safe: the first call installs, later and concurrent
 * calls return CORDON_OK once it is in place. Errors (nothing installed, nothing changed): the OS
 * status of sigaction (recorded as "sigaction"; on Windows "AddVectoredExceptionHandler",
 * CORDON_OUT_OF_MEMORY); CORDON_UNSUPPORTED when the handler did not take (a sanitizer refused it) or
 * the platform has no signals. Not async-signal-safe. */
CORDON_API CORDON_NODISCARD cordon_status cordon_trap_install(void);

/* Is cordon's handler installed? Any thread. */
CORDON_API bool cordon_trap_installed(void);

/* Runs fn(ctx) on the calling thread with trap recovery (see above). Returns CORDON_OK when fn
 * returned, CORDON_TRAPPED when it trapped (then *trap_out says where; it is written only then), or,
 * without running fn: CORDON_INVALID_ARGUMENT (fn or trap_out NULL), CORDON_WRONG_STATE
 * (cordon_trap_install was not called: installation is opt-in, never implied), or the OS status of
 * preparing the thread. The first run on a thread prepares it, once: it finds the thread's stack
 * bounds (pthread_getattr_np) and gives it an alternate signal stack (64 KiB + a guard page, mmap +
 * sigaltstack; kept if the thread already has one), released when the thread exits. A failure there
 * changes nothing and a later run tries again (on Windows the preparation is a per-thread state
 * in a fiber-local slot, freed when the thread exits, the stack guarantee and the overflow guard
 * page, see above; it is redone after an overflow). Cost with no trap: a sigsetjmp that saves no signal
 * mask (no system call) and a few stores, ~10 ns; a trap costs a few microseconds (the kernel's
 * signal delivery); see `cordon bench trap`. Any thread, nested. */
CORDON_API CORDON_NODISCARD cordon_status cordon_trap_run(cordon_trap_fn fn, void *ctx, cordon_trap *trap_out);

/* Async-signal-safe: is addr inside the mapping (guards included) of a live cordon memory or
 * reservation? CORDON_OK and *out filled when it is; CORDON_OUT_OF_BOUNDS when it lies in none;
 * CORDON_INVALID_ARGUMENT when out is NULL. Lock-free and allocation-free: it reads a list of region
 * records that are never freed (records of destroyed regions are reused), each read under a sequence
 * count, so it may run in a signal handler on any thread, concurrently with creates and destroys.
 * A region being created or destroyed at that moment may or may not be found. Works whether or not
 * cordon_trap_install was called. Cost: linear in the peak number of live regions. */
CORDON_API CORDON_NODISCARD cordon_status cordon_trap_lookup(const void *addr, cordon_trap_region *out);

CORDON_END_DECLS

#endif /* CORDON_TRAP_H */
