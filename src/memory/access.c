/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the access guard: destroying a memory or releasing a reservation while another thread is
 * inside a call on it (a load, a copy, a grow, a protect…) either lets that call finish on the live
 * object or makes it return CORDON_STALE; the destroyer never unmaps or frees under it.
 *
 * The interleaving it prevents:
 *
 *     reader: lookup(h) → object live, base = o->base
 *                                                  destroyer: claim(h); munmap(o->map); free(o)
 *     reader: load base[addr]                      → SIGSEGV (or a read of whatever is mapped there now)
 *
 * Protocol. Each thread owns a record (a cache line) with a slot `active`:
 *
 *     reader                                       destroyer
 *     R1 active = h            (relaxed store)     D1 claim(h): slot state |= closing
 *     R2 order R1 before R3                        D2 barrier (see below)
 *     R3 lookup(h): closing → end, CORDON_STALE    D3 for every record: wait while active == h
 *     R4 touch the object                          D4 munmap, free, retire the handle
 *     R5 active = 0            (release store)
 *
 * Dekker's argument: R1 → R3 on one side and D1 → D3 on the other, each ordered, so at least one side
 * sees the other's store: either R3 sees closing (the reader touches nothing), or D3 sees active == h
 * and waits for R5, whose release order puts every access of R4 before D4 (D3 loads with acquire).
 * A reader whose R1 D3 missed has, by the same argument, its R3 after D1: it returns STALE.
 *
 * The ordering is asymmetric, so that the reader pays almost nothing. With the Linux membarrier
 * (cordon__sys_barrier_process, MEMBARRIER_CMD_PRIVATE_EXPEDITED) as D2, every running thread executes
 * a full barrier during D2, so R2 need only stop the compiler (atomic_signal_fence): wherever the
 * barrier lands in a reader's R1..R3, either R1 is visible to D3 or R3 runs after it and sees D1. When
 * membarrier is unavailable (registration refused; decided once per process, before the first handle
 * is published, and never changed afterwards), R2 and D2 are both seq_cst fences. A reader that loaded
 * the mode before the decision used a fence, which is also correct against a membarrier destroyer. If
 * the barrier call itself fails at D2, the destroy is refused (its caller unclaims: nothing changed).
 *
 * Records. A thread registers a record on its first access: it adopts one a dead thread left (owned
 * false → true) or allocates one and pushes it on the registry, a list that only grows, so D3 walks it
 * without a lock and no record is ever freed (their number is the peak number of threads that made
 * accesses at once). The thread-exit callback (cordon__sys_thread_on_exit) gives the record back.
 * When registration fails (allocation, the thread-exit hook) or the thread is already exiting, the
 * access borrows a record from a small static pool for its own duration instead; D3 walks the pool
 * too. A record's slots are written only by its current holder. */
#include "memory/access.h"

#include "sys/sys.h"

_Thread_local cordon__access_record *cordon__access_self CORDON__ACCESS_TLS;
_Thread_local cordon__access_record *cordon__access_lent_self; /* trap hook: see access.h */
_Atomic unsigned cordon__access_mode = CORDON__ACCESS_FENCES;

/* Set by the exit callback: this thread's record is gone; later accesses (other exit callbacks) lend. */
static _Thread_local bool self_exited;

#define POOL_RECORDS 8
static cordon__access_record pool[POOL_RECORDS] = {
    [0] = {.lent = true}, [1] = {.lent = true}, [2] = {.lent = true}, [3] = {.lent = true},
    [4] = {.lent = true}, [5] = {.lent = true}, [6] = {.lent = true}, [7] = {.lent = true},
};

static cordon__access_record *_Atomic registry;

/* 0 undecided, 1 deciding, 2 decided: cordon__access_mode is final. */
static _Atomic unsigned init_state;

static void at_thread_exit(void *arg) {
    cordon__access_record *rec = (cordon__access_record *)arg;
    cordon__access_self = NULL;
    self_exited = true;
    /* No access is in progress on an exiting thread's record: its slots are 0. */
    atomic_store_explicit(&rec->owned, false, memory_order_release);
}

static cordon__access_record *adopt_or_allocate(void) {
    for (cordon__access_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        bool expected = false;
        if (!atomic_load_explicit(&r->owned, memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&r->owned, &expected, true, memory_order_acquire,
                                                    memory_order_relaxed)) {
            return r;
        }
    }
    void *block = NULL;
    if (cordon__sys_alloc_aligned(_Alignof(cordon__access_record), sizeof(cordon__access_record), &block) !=
        CORDON_OK) {
        return NULL;
    }
    cordon__access_record *r = (cordon__access_record *)block;
    atomic_init(&r->active[0], 0);
    atomic_init(&r->active[1], 0);
    atomic_init(&r->owned, true);
    r->lent = false;
    cordon__access_record *head = atomic_load_explicit(&registry, memory_order_relaxed);
    do {
        r->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&registry, &head, r, memory_order_release, memory_order_relaxed));
    return r;
}

/* A registration failure is not the caller's failure: the access still happens (on a lent record), so
 * the OS detail the thread had before is put back. */
static void restore_os_error(cordon_os_error saved) {
    (void)cordon__sys_fail_as(CORDON_OK, saved.call, saved.code);
}

cordon__access_record *cordon__access_acquire_slow(void) {
    if (!self_exited) {
        cordon_os_error saved = cordon_last_os_error();
        cordon__access_record *rec = adopt_or_allocate();
        if (rec != NULL) {
            if (cordon__sys_thread_on_exit(at_thread_exit, rec) == CORDON_OK) {
                cordon__access_self = rec;
                return rec;
            }
            atomic_store_explicit(&rec->owned, false, memory_order_release); /* adoptable again */
        }
        restore_os_error(saved);
    }
    for (;;) {
        for (int i = 0; i < POOL_RECORDS; i++) {
            bool expected = false;
            if (atomic_compare_exchange_strong_explicit(&pool[i].owned, &expected, true, memory_order_acquire,
                                                        memory_order_relaxed)) {
                cordon__access_lent_self = &pool[i]; /* trap hook */
                return &pool[i];
            }
        }
        cordon__sys_thread_yield(); /* every pool record is inside an access: they end */
    }
}

void cordon__access_return_lent(cordon__access_record *rec) {
    cordon__access_lent_self = NULL; /* trap hook */
    atomic_store_explicit(&rec->owned, false, memory_order_release);
}

void cordon__access_init(void) {
    for (;;) {
        unsigned s = atomic_load_explicit(&init_state, memory_order_acquire);
        if (s == 2u) {
            return;
        }
        unsigned expected = 0;
        if (s == 0u && atomic_compare_exchange_strong_explicit(&init_state, &expected, 1u, memory_order_acquire,
                                                               memory_order_relaxed)) {
            cordon_os_error saved = cordon_last_os_error();
            if (cordon__sys_barrier_register() == CORDON_OK) {
                atomic_store_explicit(&cordon__access_mode, CORDON__ACCESS_MEMBARRIER, memory_order_seq_cst);
            }
            restore_os_error(saved);
            atomic_store_explicit(&init_state, 2u, memory_order_release);
            return;
        }
        cordon__sys_thread_yield(); /* another thread is deciding: one system call */
    }
}

unsigned cordon__access_mode_get(void) {
    return atomic_load_explicit(&cordon__access_mode, memory_order_relaxed);
}

static void wait_record(cordon__access_record *r, uint64_t handle) {
    for (int k = 0; k < 2; k++) {
        while (atomic_load_explicit(&r->active[k], memory_order_acquire) == handle) {
            cordon__sys_thread_yield(); /* the access in progress ends without waiting for us */
        }
    }
}

cordon_status cordon__access_quiesce(uint64_t handle) {
    cordon__access_init();
    if (atomic_load_explicit(&cordon__access_mode, memory_order_relaxed) == CORDON__ACCESS_MEMBARRIER) {
        cordon_status st = cordon__sys_barrier_process();
        if (st != CORDON_OK) {
            return st;
        }
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
    for (int i = 0; i < POOL_RECORDS; i++) {
        wait_record(&pool[i], handle);
    }
    for (cordon__access_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        wait_record(r, handle);
    }
    return CORDON_OK;
}

uint64_t cordon__access_record_count(void) {
    uint64_t n = 0;
    for (cordon__access_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        n++;
    }
    return n;
}
