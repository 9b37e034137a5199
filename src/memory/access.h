/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the access guard: a destroy (cordon_memory_destroy, cordon_pages_release) waits for the calls
 * still using the object it destroys, and a call that starts after the destroy began gets
 * CORDON_STALE, so no call ever touches an unmapped range or a freed object. See access.c for the
 * protocol and the interleavings it prevents.
 *
 * Use, around every call that looks a handle up and then touches its object:
 *
 *     cordon__access_record *a = cordon__access_begin(handle);
 *     ... look the handle up (CORDON_STALE if it is closing), use the object ...
 *     cordon__access_end(a);
 *
 * and in the destroyer: claim the handle (it is now closing), cordon__access_quiesce(handle), release.
 * Sections do not nest on one thread (a second begin before the end would hide the first handle). */
#ifndef CORDON_MEMORY_ACCESS_H
#define CORDON_MEMORY_ACCESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cordon/status.h"

/* One per thread that made an access (plus a small pool lent out one access at a time). Aligned to a
 * cache line: a reader's stores to its own record never slow another reader down. */
typedef struct cordon__access_record {
    _Alignas(64) _Atomic uint64_t active[2]; /* handles inside an access by the owner; 0: none */
    _Atomic bool owned;                      /* held by a live thread, or lent for one access */
    bool lent;                               /* from the static pool: returned at the end of each access */
    struct cordon__access_record *next;      /* registry link, written before the record is published */
} cordon__access_record;

/* How readers order their "active" store before their handle lookup. */
#define CORDON__ACCESS_FENCES 0u     /* a seq_cst fence: no process-wide barrier available */
#define CORDON__ACCESS_MEMBARRIER 1u /* a compiler barrier: destroyers issue a process-wide barrier */

#if defined(__GNUC__) || defined(__clang__)
/* The record pointer is read on every access: initial-exec TLS is two instructions, where the default
 * model in a shared library is a call to __tls_get_addr. */
#  define CORDON__ACCESS_TLS __attribute__((tls_model("initial-exec")))
#else
#  define CORDON__ACCESS_TLS
#endif

extern _Thread_local cordon__access_record *cordon__access_self CORDON__ACCESS_TLS;
/* Trap hook: the pool record this thread has borrowed for the access in progress (NULL: none), so
 * that cordon_trap_run can give it back when a trap ended that access (memory/trap.c). */
extern _Thread_local cordon__access_record *cordon__access_lent_self;
extern _Atomic unsigned cordon__access_mode;

/* The calling thread's record: registers it on first use, or lends one from the pool when that fails
 * (allocation, thread-exit hook) or the thread is exiting. Never NULL. */
cordon__access_record *cordon__access_acquire_slow(void);
void cordon__access_return_lent(cordon__access_record *rec);

/* Chooses how readers and destroyers order (membarrier when the OS has it, fences otherwise), once per
 * process; call before publishing the first handle. Never fails. */
void cordon__access_init(void);

/* After claiming `handle` (lookups now give CORDON_STALE): waits until no thread is inside an access
 * of it. Fails only when the process-wide barrier does (the OS status; the caller unclaims: nothing
 * was released). */
cordon_status cordon__access_quiesce(uint64_t handle);

/* CORDON__ACCESS_FENCES or CORDON__ACCESS_MEMBARRIER, for tests (after a create). */
unsigned cordon__access_mode_get(void);

/* Records in the registry (owned or free), for tests: bounded by the peak number of threads that
 * made accesses at the same time, not by the number of threads ever seen. */
uint64_t cordon__access_record_count(void);

static inline void cordon__access_order(void) {
    if (atomic_load_explicit(&cordon__access_mode, memory_order_relaxed) == CORDON__ACCESS_MEMBARRIER) {
        atomic_signal_fence(memory_order_seq_cst); /* the destroyer's membarrier is the CPU fence */
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
}

/* Enters an access of h0 (and h1 unless 0) on rec, the caller's own or lent record. The lookup that
 * follows sees the handle closing, or the destroyer sees this access and waits for its end. */
static inline void cordon__access_enter(cordon__access_record *rec, uint64_t h0, uint64_t h1) {
    atomic_store_explicit(&rec->active[0], h0, memory_order_relaxed);
    if (h1 != 0) {
        atomic_store_explicit(&rec->active[1], h1, memory_order_relaxed);
    }
    cordon__access_order();
}

/* Leaves the access: every read and write of the object made before is complete (release order)
 * before a destroyer that sees the cleared slot goes on to unmap and free. */
static inline void cordon__access_leave(cordon__access_record *rec) {
    atomic_store_explicit(&rec->active[0], 0, memory_order_release);
}

static inline void cordon__access_leave2(cordon__access_record *rec) {
    atomic_store_explicit(&rec->active[1], 0, memory_order_release);
    atomic_store_explicit(&rec->active[0], 0, memory_order_release);
}

/* The general form, for calls off the hot path: finds or lends a record, enters, and on end gives a
 * lent record back. */
static inline cordon__access_record *cordon__access_begin(uint64_t handle) {
    cordon__access_record *rec = cordon__access_self;
    if (rec == NULL) {
        rec = cordon__access_acquire_slow();
    }
    cordon__access_enter(rec, handle, 0);
    return rec;
}

static inline void cordon__access_end(cordon__access_record *rec) {
    cordon__access_leave(rec);
    if (rec->lent) {
        cordon__access_return_lent(rec);
    }
}

#if defined(__GNUC__) || defined(__clang__)
#  define CORDON__ACCESS_LIKELY(x) __builtin_expect(!!(x), 1)
#  define CORDON__ACCESS_COLD __attribute__((noinline, cold))
#else
#  define CORDON__ACCESS_LIKELY(x) (x)
#  define CORDON__ACCESS_COLD
#endif

/* Defines the entry point `cordon_status name params` as one access of handle(s) h0 (and h1, or 0)
 * around `body args`. The hot path (the thread has its record) makes no call before the body, so the
 * compiler keeps it free of register saves; registration and lent records go out of line. */
#define CORDON__ACCESS_GUARDED(name, h0, h1, params, body, args)                 \
    static CORDON__ACCESS_COLD cordon_status name##_first_access params {        \
        cordon__access_record *a_ = cordon__access_acquire_slow();               \
        cordon__access_enter(a_, (h0), (h1));                                    \
        cordon_status st_ = body args;                                           \
        cordon__access_leave2(a_);                                               \
        if (a_->lent) {                                                          \
            cordon__access_return_lent(a_);                                      \
        }                                                                        \
        return st_;                                                              \
    }                                                                            \
    cordon_status name params {                                                  \
        cordon__access_record *a_ = cordon__access_self;                         \
        if (!CORDON__ACCESS_LIKELY(a_ != NULL)) {                                \
            return name##_first_access args;                                     \
        }                                                                        \
        cordon__access_enter(a_, (h0), (h1));                                    \
        cordon_status st_ = body args;                                           \
        if ((h1) != 0) {                                                         \
            cordon__access_leave2(a_);                                           \
        } else {                                                                 \
            cordon__access_leave(a_);                                            \
        }                                                                        \
        return st_;                                                              \
    }

#endif /* CORDON_MEMORY_ACCESS_H */
