/* SPDX-License-Identifier: Apache-2.0 */
/* Destroying a memory (releasing a reservation) while other threads are inside calls on it: every
 * racing call returns CORDON_OK on the live object or CORDON_STALE, and the destroy never unmaps under
 * a running call (which would end the process with SIGSEGV, or show up under ASan/TSan). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "memory/access.h"
#include "memory/memory_internal.h"
#include "sys/fault.h"

#define PAGE CORDON_MEMORY_PAGE_SIZE
#define ROUNDS 150

typedef struct race_ctx {
    cordon_memory m;     /* destroyed by the test thread */
    cordon_memory other; /* stays live: the other end of copy_between */
    atomic_int started;
    cordon_status bad;   /* the first status that was neither OK nor STALE */
    int bad_op;
    uint64_t calls;
    bool saw_stale;
} race_ctx;

static cordon_memory make(uint64_t pages, bool shared) {
    cordon_memory_options o = {.initial_pages = pages, .maximum_pages = pages + 2, .has_maximum = true,
                               .shared = shared};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    return m;
}

/* One call of kind op on c->m. Sizes are in bounds of the live memory, so OK or STALE are the only
 * correct answers. */
static cordon_status one_call(race_ctx *c, uint64_t op, uint8_t *buf) {
    cordon_memory m = c->m;
    uint32_t v32 = 0;
    uint64_t v64 = 0;
    switch (op % 17) {
    case 0:
        return cordon_memory_load_u32(m, 4 * (op % 1024), 0, &v32);
    case 1:
        return cordon_memory_store_u64(m, 8 * (op % 1024), 0, op);
    case 2:
        return cordon_memory_read(m, 0, buf, 4096);
    case 3:
        return cordon_memory_write(m, PAGE, buf, 4096);
    case 4:
        return cordon_memory_fill(m, 0, (uint8_t)op, 2 * PAGE);
    case 5:
        return cordon_memory_copy(m, PAGE, 0, PAGE);
    case 6:
        return cordon_memory_copy_between(c->other, 0, m, 0, PAGE);
    case 7:
        return cordon_memory_copy_between(m, 0, c->other, 0, PAGE);
    case 8:
        return cordon_memory_atomic_rmw(m, 64, 0, 4, CORDON_MEMORY_RMW_ADD, 1, &v64);
    case 9:
        return cordon_memory_atomic_cmpxchg(m, 128, 0, 8, 0, 1, &v64);
    case 10:
        return cordon_memory_size_bytes(m, &v64);
    case 11:
        return cordon_memory_grow(m, 0, &v64);
    case 12: {
        uint32_t r = 0;
        cordon_status st = cordon_memory_atomic_wait32(m, 256, 0, 1, 0, &r); /* word is 0: not-equal */
        return st == CORDON_WRONG_STATE ? CORDON_OK : st;                  /* unshared memory */
    }
    case 13:
        return cordon_memory_atomic_notify(m, 256, 0, 1, NULL);
    case 14: {
        void *p = NULL;
        return cordon_memory_pointer(m, 64, PAGE, 8, &p);
    }
    case 15: {
        cordon_memory_type t;
        return cordon_memory_type_get(m, &t);
    }
    default: {
        const cordon_memory_definition *d = NULL;
        cordon_status st = cordon_memory_definition_get(m, &d);
        return st == CORDON_OK ? cordon_memory_reserved_bytes(m, &v64) : st;
    }
    }
}

static void *hammer(void *arg) {
    race_ctx *c = arg;
    uint8_t buf[4096];
    memset(buf, 0x5A, sizeof buf);
    for (uint64_t op = 0;; op++) {
        cordon_status st = one_call(c, op, buf);
        c->calls++;
        if (op == 0) {
            atomic_store(&c->started, 1);
        }
        if (st == CORDON_STALE) {
            c->saw_stale = true;
            break;
        }
        if (st != CORDON_OK && c->bad == CORDON_OK) {
            c->bad = st;
            c->bad_op = (int)(op % 17);
        }
    }
    /* Once stale, every call is stale. */
    for (uint64_t op = 0; op < 17; op++) {
        cordon_status st = one_call(c, op, buf);
        if (st != CORDON_STALE && c->bad == CORDON_OK) {
            c->bad = st == CORDON_OK ? CORDON_OS_ERROR : st;
            c->bad_op = 100 + (int)op;
        }
    }
    return NULL;
}

/* rounds times: threads hammer a fresh memory, the test thread destroys it once they are going. With
 * two threads the memory is shared: their plain accesses to the same bytes are then defined (relaxed
 * atomics), so ThreadSanitizer reports only what the destroy race would add. */
static void race_destroy(int rounds, int threads, bool shared) {
    for (int round = 0; round < rounds; round++) {
        race_ctx c[2];
        pthread_t th[2];
        cordon_memory m = make(2, shared);
        cordon_memory other = make(2, shared);
        for (int t = 0; t < threads; t++) {
            memset(&c[t], 0, sizeof c[t]);
            c[t].m = m;
            c[t].other = other;
            CHECK(pthread_create(&th[t], NULL, hammer, &c[t]) == 0);
        }
        for (int t = 0; t < threads; t++) {
            while (!atomic_load(&c[t].started)) {
            }
        }
        CHECK_OK(cordon_memory_destroy(m));
        for (int t = 0; t < threads; t++) {
            CHECK(pthread_join(th[t], NULL) == 0);
            CHECK_MSG(c[t].bad == CORDON_OK, "round %d: op %d returned %s", round, c[t].bad_op,
                      cordon_status_name(c[t].bad));
            CHECK(c[t].saw_stale);
        }
        CHECK_STATUS(cordon_memory_destroy(m), CORDON_STALE);
        CHECK_OK(cordon_memory_destroy(other));
    }
}

TEST(calls_racing_destroy_return_ok_or_stale) {
    race_destroy(ROUNDS, 1, false);
}

TEST(calls_of_two_threads_racing_destroy_of_a_shared_memory_return_ok_or_stale) {
    race_destroy(ROUNDS, 2, true);
}

TEST(calls_racing_destroy_are_guarded_without_membarrier_too) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION (the registration failure is injected)");
    }
    /* The first create of the process decides: a refused registration means fences on both sides. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MEMBARRIER, 1, UINT64_MAX, ENOSYS));
    cordon_memory first = make(1, false);
    CHECK_EQ_U64(cordon__access_mode_get(), CORDON__ACCESS_FENCES);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_destroy(first));
    race_destroy(ROUNDS, 2, true);
    CHECK_EQ_U64(cordon__access_mode_get(), CORDON__ACCESS_FENCES);
}

TEST(calls_racing_destroy_on_threads_without_a_record_borrow_one) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION (the record allocation failure is injected)");
    }
    /* Every record allocation and every thread-exit registration fails: threads lend records from the
     * static pool, one access at a time, and are guarded all the same. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_POSIX_MEMALIGN, 1, UINT64_MAX, ENOMEM));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_SETSPECIFIC, 1, UINT64_MAX, ENOMEM));
    race_destroy(ROUNDS / 3, 2, true);
    CHECK(cordon__fault_fired(CORDON__CALL_POSIX_MEMALIGN) + cordon__fault_fired(CORDON__CALL_PTHREAD_SETSPECIFIC) > 0);
    cordon__fault_stop();
}

TEST(a_record_registration_failure_leaves_the_os_error_as_it_was) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_memory m = make(1, false);
    cordon_clear_os_error();
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_KEY_CREATE, 1, UINT64_MAX, EAGAIN));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_SETSPECIFIC, 1, UINT64_MAX, ENOMEM));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_POSIX_MEMALIGN, 1, UINT64_MAX, ENOMEM));
    uint32_t v = 1;
    /* This thread's first access: registration fails, the access runs on a lent record. */
    CHECK_OK(cordon_memory_load_u32(m, 0, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK(cordon__fault_fired(CORDON__CALL_POSIX_MEMALIGN) == 1);
    cordon__fault_stop();
    CHECK_EQ_I64(cordon_last_os_error().code, 0);
    CHECK(strcmp(cordon_last_os_error().call, "") == 0);
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 3)); /* registers now */
    CHECK_EQ_U64(cordon__access_record_count(), 1);
    CHECK_OK(cordon_memory_destroy(m));
}

#if defined(_WIN32)
/* src/sys/win32/barrier_win32.c: FlushProcessWriteBuffers stays unused until tested on a real Windows. */
#  define SKIP_NO_BARRIER(op)                                                                              \
      SKIP("Windows: the access guard uses fences on both sides, with no process-wide barrier call, so " op \
           " makes no barrier call that could fail")
#else
#  define SKIP_NO_BARRIER(op) SKIP("no membarrier here: " op " makes no barrier system call")
#endif

TEST(destroy_whose_barrier_fails_keeps_the_memory_usable) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_memory m = make(1, false);
    if (cordon__access_mode_get() != CORDON__ACCESS_MEMBARRIER) {
        SKIP_NO_BARRIER("destroy");
    }
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 7));
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MEMBARRIER, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_memory_destroy(m), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK(strcmp(cordon_last_os_error().call, "membarrier") == 0);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, 0, 0, &v));
    CHECK_EQ_U64(v, 7);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_load_u32(m, 0, 0, &v), CORDON_STALE);
}

TEST(release_whose_barrier_fails_keeps_the_reservation_usable) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    uint64_t pg = 0;
    CHECK_OK(cordon_pages_os_page_size(&pg));
    cordon_pages_options o = {.reserve_bytes = 16 * pg, .commit_bytes = pg};
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    if (cordon__access_mode_get() != CORDON__ACCESS_MEMBARRIER) {
        CHECK_OK(cordon_pages_release(p));
        SKIP_NO_BARRIER("release");
    }
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MEMBARRIER, 1, 1, EPERM));
    CHECK_STATUS(cordon_pages_release(p), CORDON_PERMISSION_DENIED);
    cordon__fault_stop();
    CHECK_OK(cordon_pages_grow(p, pg, NULL));
    CHECK_OK(cordon_pages_release(p));
    CHECK_STATUS(cordon_pages_release(p), CORDON_STALE);
}

/* ---- reservations ------------------------------------------------------------------------------ */

typedef struct pages_race {
    cordon_pages p;
    uint64_t pg;
    atomic_int started;
    cordon_status bad;
    int bad_op;
    bool saw_stale;
} pages_race;

static cordon_status pages_call(pages_race *c, uint64_t op) {
    cordon_pages p = c->p;
    uint64_t pg = c->pg;
    uint64_t v = 0;
    cordon_pages_info info;
    void *base = NULL;
    switch (op % 10) {
    case 0:
        return cordon_pages_commit(p, 8 * pg);
    case 1:
        return cordon_pages_decommit(p, 4 * pg);
    case 2:
        return cordon_pages_protect(p, pg, pg, CORDON_PAGES_READ);
    case 3:
        return cordon_pages_protect(p, 0, 4 * pg, CORDON_PAGES_READ_WRITE);
    case 4:
        return cordon_pages_discard(p, 0, 2 * pg);
    case 5:
        return cordon_pages_grow(p, 0, &v);
    case 6:
        return cordon_pages_grow_pages(p, 0, &v);
    case 7:
        return cordon_pages_info_get(p, &info);
    case 8:
        return cordon_pages_committed(p, &v);
    default:
        return cordon_pages_base(p, &base);
    }
}

static void *pages_hammer(void *arg) {
    pages_race *c = arg;
    for (uint64_t op = 0;; op++) {
        cordon_status st = pages_call(c, op);
        if (op == 0) {
            atomic_store(&c->started, 1);
        }
        if (st == CORDON_STALE) {
            c->saw_stale = true;
            break;
        }
        if (st != CORDON_OK && c->bad == CORDON_OK) {
            c->bad = st;
            c->bad_op = (int)(op % 10);
        }
    }
    for (uint64_t op = 0; op < 10; op++) {
        cordon_status st = pages_call(c, op);
        if (st != CORDON_STALE && c->bad == CORDON_OK) {
            c->bad = st == CORDON_OK ? CORDON_OS_ERROR : st;
            c->bad_op = 100 + (int)op;
        }
    }
    return NULL;
}

TEST(pages_calls_racing_release_return_ok_or_stale) {
    uint64_t pg = 0;
    CHECK_OK(cordon_pages_os_page_size(&pg));
    for (int round = 0; round < ROUNDS; round++) {
        pages_race c[2];
        pthread_t th[2];
        cordon_pages_options o = {.reserve_bytes = 16 * pg, .commit_bytes = 4 * pg};
        cordon_pages p = {0};
        CHECK_OK(cordon_pages_reserve(&o, &p));
        for (int t = 0; t < 2; t++) {
            memset(&c[t], 0, sizeof c[t]);
            c[t].p = p;
            c[t].pg = pg;
            CHECK(pthread_create(&th[t], NULL, pages_hammer, &c[t]) == 0);
        }
        for (int t = 0; t < 2; t++) {
            while (!atomic_load(&c[t].started)) {
            }
        }
        CHECK_OK(cordon_pages_release(p));
        for (int t = 0; t < 2; t++) {
            CHECK(pthread_join(th[t], NULL) == 0);
            CHECK_MSG(c[t].bad == CORDON_OK, "round %d: op %d returned %s", round, c[t].bad_op,
                      cordon_status_name(c[t].bad));
            CHECK(c[t].saw_stale);
        }
    }
}

/* ---- records ---------------------------------------------------------------------------------- */

static void *one_access(void *arg) {
    cordon_memory m = *(cordon_memory *)arg;
    uint32_t v = 0;
    return (void *)(intptr_t)cordon_memory_load_u32(m, 0, 0, &v);
}

TEST(threads_that_exit_hand_their_record_to_the_next_thread) {
    cordon_memory m = make(1, false);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, 0, 0, &v)); /* this thread's record */
    for (int i = 0; i < 200; i++) {
        pthread_t th;
        void *st = NULL;
        CHECK(pthread_create(&th, NULL, one_access, &m) == 0);
        CHECK(pthread_join(th, &st) == 0);
        CHECK_EQ_I64((intptr_t)st, CORDON_OK);
    }
    /* this thread's and one reused by every short-lived thread in turn: not one per thread */
    CHECK(cordon__access_record_count() <= 2);
    CHECK_OK(cordon_memory_destroy(m));
}
