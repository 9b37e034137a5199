/* SPDX-License-Identifier: Apache-2.0 */
/* memory.atomic.wait32 / wait64 / notify on a shared linear memory: the threads proposal's cases. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"
#include <unistd.h>

#include "harness.h"
#include "parked.h"
#include "sys/fault.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static cordon_memory make_memory(bool shared) {
    cordon_memory_options opt;
    memset(&opt, 0, sizeof opt);
    opt.initial_pages = 1;
    opt.maximum_pages = 2;
    opt.has_maximum = true;
    opt.shared = shared;
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&opt, &m));
    return m;
}

TEST(wait_returns_not_equal_when_memory_differs) {
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon_memory_atomic_store(m, 64, 0, 4, 7));
    uint32_t r = 99;
    CHECK_OK(cordon_memory_atomic_wait32(m, 64, 0, 6, CORDON_FOREVER, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_NOT_EQUAL);
    CHECK_OK(cordon_memory_atomic_store(m, 128, 0, 8, 0x100000001ull));
    CHECK_OK(cordon_memory_atomic_wait64(m, 128, 0, 1, CORDON_FOREVER, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_NOT_EQUAL); /* all 64 bits compared, not the low 32 */
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(wait_times_out_after_at_least_the_timeout) {
    cordon_memory m = make_memory(true);
    uint32_t r = 99;
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 0, 0, timeout, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    t0 = now_ns();
    CHECK_OK(cordon_memory_atomic_wait64(m, 8, 0, 0, timeout, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 0, 0, 0, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(traps_become_statuses) {
    cordon_memory m = make_memory(true);
    uint32_t r = 99;
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 2, 0, 0, 0, &r), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 4, 0, 0, 0, &r), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 1, 0, 1, NULL), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 65536, 0, 0, 0, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 65536 - 4, 0, 0, 0, &r), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 65536, 0, 0, 0, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 65536, 0, 1, NULL), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_notify(m, UINT64_MAX - 3, 0, 1, NULL), CORDON_OUT_OF_BOUNDS);
    CHECK_EQ_U64(r, 99);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 0, 0, 0, 0, &r), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 0, 0, 1, NULL), CORDON_STALE);
}

TEST(stale_handle_is_stale_before_a_null_result_pointer) {
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 0, 0, 0, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 0, 0, 0, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 0, 0, 1, NULL), CORDON_STALE);
    cordon_memory never = {0};
    CHECK_STATUS(cordon_memory_atomic_wait32(never, 0, 0, 0, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_wait64(never, 0, 0, 0, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_notify(never, 0, 0, 1, NULL), CORDON_STALE);
}

TEST(stale_handle_is_stale_before_misalignment_and_bounds) {
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon_memory_destroy(m));
    uint32_t r = 99;
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 2, 0, 0, 0, &r), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, UINT64_MAX, 0, 0, 0, &r), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 3, 0, 1, NULL), CORDON_STALE);
    CHECK_EQ_U64(r, 99);
}

TEST(null_result_pointer_is_invalid_before_shared_alignment_and_bounds) {
    cordon_memory shared = make_memory(true);
    cordon_memory plain = make_memory(false);
    CHECK_STATUS(cordon_memory_atomic_wait32(shared, 2, 0, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_wait64(shared, 65536, 0, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_wait32(plain, 0, 0, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_wait64(plain, 4, 0, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(shared));
    CHECK_OK(cordon_memory_destroy(plain));
}

TEST(wait_on_unshared_memory_is_refused_and_notify_wakes_none) {
    cordon_memory m = make_memory(false);
    uint32_t r = 99;
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 0, 0, 0, 0, &r), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 0, 0, 0, 0, &r), CORDON_WRONG_STATE);
    uint32_t woken = 5;
    CHECK_OK(cordon_memory_atomic_notify(m, 0, 0, 1, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 2, 0, 1, &woken), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 65536, 0, 1, &woken), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(notify_without_waiters_makes_no_system_call) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION (futex calls are counted by it)");
    }
    cordon_memory m = make_memory(true);
    cordon__fault_reset();
    uint32_t woken = 5;
    for (int i = 0; i < 100; i++) {
        CHECK_OK(cordon_memory_atomic_notify(m, (uint64_t)i * 4u, 0, UINT32_MAX, &woken));
        CHECK_EQ_U64(woken, 0);
    }
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_FUTEX), 0);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_destroy(m));
}

typedef struct wait_ctx {
    cordon_memory m;
    uint64_t addr;
    uint64_t offset; /* waiters pass the memarg (addr - offset, offset) */
    int wide;
    uint32_t results[8];
    pid_t tids[8];
    uint32_t order[8];
    uint32_t done; /* atomic */
} wait_ctx;

static wait_ctx wc;

static void *wasm_waiter(void *arg) {
    uint32_t id = (uint32_t)(uintptr_t)arg;
    __atomic_store_n(&wc.tids[id], gettid(), __ATOMIC_SEQ_CST);
    uint32_t r = 99;
    uint64_t a = wc.addr - wc.offset;
    cordon_status st = wc.wide ? cordon_memory_atomic_wait64(wc.m, a, wc.offset, 0, CORDON_FOREVER, &r)
                               : cordon_memory_atomic_wait32(wc.m, a, wc.offset, 0, CORDON_FOREVER, &r);
    wc.results[id] = st == CORDON_OK ? r : 100u + (uint32_t)st;
    uint32_t slot = __atomic_fetch_add(&wc.done, 1u, __ATOMIC_SEQ_CST);
    wc.order[slot] = id;
    return NULL;
}

static void start_at(pthread_t *th, uint32_t n, int wide, int one_by_one, uint64_t offset) {
    memset(&wc, 0, sizeof wc);
    wc.m = make_memory(true);
    wc.addr = 256;
    wc.offset = offset;
    wc.wide = wide;
    for (uint32_t i = 0; i < n; i++) {
        CHECK(pthread_create(&th[i], NULL, wasm_waiter, (void *)(uintptr_t)i) == 0);
        if (one_by_one) {
            cordon_test_wait_parked(wc.tids, (int)i + 1);
        }
    }
    cordon_test_wait_parked(wc.tids, (int)n);
}

static void start(pthread_t *th, uint32_t n, int wide, int one_by_one) {
    start_at(th, n, wide, one_by_one, 0);
}

TEST(wait_and_notify_meet_at_the_effective_address_whatever_the_memarg_split) {
    pthread_t th[3];
    start_at(th, 3, 0, 0, 256); /* wait32 at (0, 256) */
    uint32_t woken = 0;
    CHECK_OK(cordon_memory_atomic_notify(wc.m, 0, 252, 10, &woken)); /* another word */
    CHECK_EQ_U64(woken, 0);
    CHECK_OK(cordon_memory_atomic_notify(wc.m, 128, 128, 1, &woken));
    CHECK_EQ_U64(woken, 1);
    CHECK_OK(cordon_memory_atomic_notify(wc.m, 256, 0, 10, &woken));
    CHECK_EQ_U64(woken, 2);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(wc.results[i], CORDON_WAIT_OK);
    }
    CHECK_OK(cordon_memory_destroy(wc.m));
    start_at(th, 1, 1, 0, 8); /* wait64 at (248, 8) */
    CHECK_OK(cordon_memory_atomic_notify(wc.m, 250, 6, 1, &woken));
    CHECK_EQ_U64(woken, 1);
    pthread_join(th[0], NULL);
    CHECK_EQ_U64(wc.results[0], CORDON_WAIT_OK);
    CHECK_OK(cordon_memory_destroy(wc.m));
}

TEST(memarg_offsets_of_wait_and_notify_trap_like_every_access) {
    cordon_memory m = make_memory(true);
    cordon_memory plain = make_memory(false);
    uint32_t r = 99, woken = 99;
    CHECK_OK(cordon_memory_atomic_store(m, 60, 4, 4, 5));
    CHECK_OK(cordon_memory_atomic_wait32(m, 60, 4, 4, 0, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_NOT_EQUAL); /* it read the word at 64 */
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 64, 5, 0, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    r = 99;
    /* the effective address: alignment of the sum, the end, and a sum past 2^64 - 1 */
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 2, 1, 0, 0, &r), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, 4, 0, 0, 0, &r), CORDON_MISALIGNED);
    CHECK_OK(cordon_memory_atomic_wait64(m, 4, 4, 1, 0, &r));
    r = 99;
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 8, 65536 - 8, 0, 0, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 64, UINT64_MAX - 63, 0, 0, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_wait64(m, UINT64_MAX - 7, 16, 0, 0, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 3, UINT64_MAX, 0, 0, &r), CORDON_MISALIGNED); /* 2^64 + 2 */
    CHECK_EQ_U64(r, 99);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 64, UINT64_MAX - 63, 1, &woken), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 1, 1, 1, &woken), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 65532, 4, 1, &woken), CORDON_OUT_OF_BOUNDS);
    CHECK_EQ_U64(woken, 99);
    /* an unshared memory: notify checks the same way and wakes 0; wait is refused first */
    CHECK_STATUS(cordon_memory_atomic_notify(plain, 64, UINT64_MAX - 63, 1, &woken), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_notify(plain, 1, 1, 1, &woken), CORDON_MISALIGNED);
    CHECK_OK(cordon_memory_atomic_notify(plain, 60, 4, 1, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_STATUS(cordon_memory_atomic_wait32(plain, 64, UINT64_MAX - 63, 0, 0, &r), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 64, UINT64_MAX - 63, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(plain));
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 64, UINT64_MAX - 63, 0, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_notify(m, 1, 1, 1, NULL), CORDON_STALE);
}

TEST(notify_counts_the_waiters_it_woke) {
    pthread_t th[4];
    start(th, 4, 0, 0);
    uint32_t woken = 0;
    CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr, 0, 3, &woken));
    CHECK_EQ_U64(woken, 3);
    CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr + 4, 0, 10, &woken)); /* another address: nobody */
    CHECK_EQ_U64(woken, 0);
    CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr, 0, 10, &woken));
    CHECK_EQ_U64(woken, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(wc.results[i], CORDON_WAIT_OK); /* woken by notify: 0, never spurious */
    }
    CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr, 0, 10, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_OK(cordon_memory_destroy(wc.m));
}

TEST(notify_wakes_in_fifo_order) {
    pthread_t th[4];
    start(th, 4, 0, 1); /* waiter i is queued before waiter i + 1 starts */
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t woken = 0;
        CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr, 0, 1, &woken));
        CHECK_EQ_U64(woken, 1);
        while (__atomic_load_n(&wc.done, __ATOMIC_SEQ_CST) < i + 1) {
            struct timespec t = {0, 1000000};
            nanosleep(&t, NULL);
        }
    }
    for (uint32_t i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(wc.order[i], i);
    }
    CHECK_OK(cordon_memory_destroy(wc.m));
}

TEST(wait64_is_woken_by_notify) {
    pthread_t th[2];
    start(th, 2, 1, 0);
    uint32_t woken = 0;
    CHECK_OK(cordon_memory_atomic_notify(wc.m, wc.addr, 0, UINT32_MAX, &woken));
    CHECK_EQ_U64(woken, 2);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(wc.results[i], CORDON_WAIT_OK);
    }
    CHECK_OK(cordon_memory_destroy(wc.m));
}

TEST(wait_is_never_spuriously_ok) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    /* Every futex wait of the waiter is interrupted (EINTR injected): the wait must still end only by
     * its timeout, with result 2, never 0. */
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 50, EINTR));
    uint32_t r = 99;
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 0, 0, timeout, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(failing_futex_waits_are_spurious_returns_not_ok) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    /* 50 futex waits fail outright (EINVAL reaches the safe layer, unlike EINTR which the backend
     * retries): each is a spurious return that must go back to sleep, never a 0 result. */
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 50, EINVAL));
    uint32_t r = 99;
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 0, 0, timeout, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    CHECK(cordon__fault_fired(CORDON__CALL_FUTEX) >= 1);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(wait_whose_futex_always_fails_still_ends_at_its_deadline) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    alarm(120); /* before the fix this looped forever */
    cordon_memory m = make_memory(true);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, UINT64_MAX, EINVAL));
    uint32_t r = 99;
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_OK(cordon_memory_atomic_wait32(m, 0, 0, 0, timeout, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_destroy(m));
    alarm(0);
}

TEST(timed_out_waiter_leaves_the_queue) {
    cordon_memory m = make_memory(true);
    uint32_t r = 99;
    CHECK_OK(cordon_memory_atomic_wait32(m, 32, 0, 0, 1000000, &r));
    CHECK_EQ_U64(r, CORDON_WAIT_TIMED_OUT);
    uint32_t woken = 7;
    CHECK_OK(cordon_memory_atomic_notify(m, 32, 0, UINT32_MAX, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_STATUS(cordon_memory_atomic_wait32(m, 32, 0, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(m));
}

static cordon_memory stress_m;
static uint32_t stress_rounds;

static void *stress_waiter(void *arg) {
    (void)arg;
    /* Waits for each value in turn: 0 → 1 → … ; the word's real value decides not-equal. */
    for (uint32_t v = 0; v < stress_rounds; v++) {
        for (;;) {
            uint64_t cur = 0;
            if (cordon_memory_atomic_load(stress_m, 0, 0, 4, &cur) != CORDON_OK) {
                return (void *)1;
            }
            if (cur != v) {
                break;
            }
            uint32_t r = 0;
            if (cordon_memory_atomic_wait32(stress_m, 0, 0, v, CORDON_FOREVER, &r) != CORDON_OK) {
                return (void *)1;
            }
        }
    }
    return NULL;
}

TEST(store_then_notify_never_loses_a_waiter) {
    stress_m = make_memory(true);
    stress_rounds = 2000;
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_create(&th[i], NULL, stress_waiter, NULL) == 0);
    }
    for (uint32_t v = 1; v <= stress_rounds; v++) {
        CHECK_OK(cordon_memory_atomic_store(stress_m, 0, 0, 4, v));
        CHECK_OK(cordon_memory_atomic_notify(stress_m, 0, 0, UINT32_MAX, NULL));
    }
    for (int i = 0; i < 2; i++) {
        void *res = NULL;
        pthread_join(th[i], &res);
        CHECK(res == NULL);
    }
    CHECK_OK(cordon_memory_destroy(stress_m));
}
