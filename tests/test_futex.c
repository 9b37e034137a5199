/* SPDX-License-Identifier: Apache-2.0 */
/* The futex: statuses (woken / not-equal / timed-out), timeouts, wake counts, failures injected.
 * The same behaviours are checked on the parking-lot backend directly (it is compiled on Linux too). */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"
#include "sys/futex_backend.h"
#include "sys/sys.h"
#include "parked.h"

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void require_fault_injection(void) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
}

/* A backend under test: the public API (the backend compiled in) or the parking lot directly. */
typedef struct backend {
    cordon_status (*wait)(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags);
    cordon_status (*wake)(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);
} backend;

#if defined(_WIN32)
/* The parking-lot backend is built on POSIX systems only (it sleeps on POSIX condition variables); on
 * Windows these stand-ins keep the table linkable and every parking-lot test skips first. */
cordon_status cordon__futex_parking_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags) {
    (void)word, (void)expected, (void)deadline_ns, (void)flags;
    return CORDON_UNSUPPORTED;
}
cordon_status cordon__futex_parking_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    (void)word, (void)count, (void)flags, (void)woken_out;
    return CORDON_UNSUPPORTED;
}
#  define REQUIRE_PARKING_LOT()                                                                          \
      SKIP("the parking-lot backend is not built on Windows: it sleeps on POSIX condition variables with "  \
           "CLOCK_MONOTONIC deadlines (src/sys/futex_parking.c); Windows builds use WaitOnAddress")
#else
#  define REQUIRE_PARKING_LOT() ((void)0)
#endif

static const backend compiled_in = {cordon__sys_futex_wait, cordon__sys_futex_wake};

/* Does the backend say how many threads a wake woke? Windows' WakeByAddress* does not: the backend
 * reports 0, the only sure lower bound (sys.h). */
static bool reports_woken(const backend *b) {
    return b != &compiled_in || strcmp(cordon__sys_futex_backend_name(), "windows-wait") != 0;
}
static const backend parking = {cordon__futex_parking_wait, cordon__futex_parking_wake};

typedef struct waiter_ctx {
    const backend *b;
    uint32_t *word;
    uint32_t expected;
    uint32_t started; /* atomic */
    uint32_t woken;   /* atomic: waits that returned OK */
    uint32_t order[16];
    uint32_t order_len; /* atomic */
    pid_t tids[16];
} waiter_ctx;

static waiter_ctx ctx_g;

static void *waiter_thread(void *arg) {
    uint32_t id = (uint32_t)(uintptr_t)arg;
    __atomic_store_n(&ctx_g.tids[id], gettid(), __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&ctx_g.started, 1u, __ATOMIC_SEQ_CST);
    /* Loop over spurious wakes: only a change of the word ends the wait. */
    while (__atomic_load_n(ctx_g.word, __ATOMIC_SEQ_CST) == ctx_g.expected) {
        cordon_status st = ctx_g.b->wait(ctx_g.word, ctx_g.expected, CORDON__SYS_FOREVER, 0);
        if (st == CORDON_OK) {
            break;
        }
    }
    uint32_t slot = __atomic_fetch_add(&ctx_g.order_len, 1u, __ATOMIC_SEQ_CST);
    if (slot < 16) {
        ctx_g.order[slot] = id;
    }
    __atomic_fetch_add(&ctx_g.woken, 1u, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Waits until the n waiter threads are parked: the wakes they receive are then real wakes. */
static void settle_n(int n) {
    cordon_test_wait_parked(ctx_g.tids, n);
}

static void check_not_equal(const backend *b) {
    uint32_t word = 5;
    uint64_t t0 = now_ns();
    CHECK_STATUS(b->wait(&word, 4, t0 + 5000000000ull, 0), CORDON_NOT_EQUAL);
    CHECK_STATUS(b->wait(&word, 4, CORDON__SYS_FOREVER, 0), CORDON_NOT_EQUAL);
}

static void check_timeout(const backend *b) {
    uint32_t word = 0;
    const uint64_t timeout = 20000000; /* 20 ms */
    uint64_t t0 = now_ns();
    CHECK_STATUS(b->wait(&word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    /* A deadline already passed: timed out at once, not "forever". */
    CHECK_STATUS(b->wait(&word, 0, 1, 0), CORDON_TIMED_OUT);
}

static void check_wake_all(const backend *b, uint32_t n) {
    uint32_t word = 0;
    memset(&ctx_g, 0, sizeof ctx_g);
    ctx_g.b = b;
    ctx_g.word = &word;
    pthread_t th[8];
    for (uint32_t i = 0; i < n; i++) {
        CHECK(pthread_create(&th[i], NULL, waiter_thread, (void *)(uintptr_t)i) == 0);
    }
    settle_n((int)n);
    __atomic_store_n(&word, 1u, __ATOMIC_SEQ_CST);
    uint32_t woken = 0;
    CHECK_OK(b->wake(&word, UINT32_MAX, 0, &woken));
    for (uint32_t i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_U64(__atomic_load_n(&ctx_g.woken, __ATOMIC_SEQ_CST), n);
    /* Every thread was parked before the wake (settled), so the wake woke all of them. */
    CHECK_EQ_U64(woken, reports_woken(b) ? n : 0u);
}

static void check_wake_one(const backend *b) {
    uint32_t word = 0;
    memset(&ctx_g, 0, sizeof ctx_g);
    ctx_g.b = b;
    ctx_g.word = &word;
    ctx_g.expected = 0;
    pthread_t th[3];
    for (uint32_t i = 0; i < 3; i++) {
        CHECK(pthread_create(&th[i], NULL, waiter_thread, (void *)(uintptr_t)i) == 0);
    }
    settle_n(3);
    uint32_t woken = 0;
    /* The word is unchanged: a woken thread sees it still 0 and waits again, but it reports OK first
     * (it breaks out on OK), so exactly one thread finishes. */
    CHECK_OK(b->wake(&word, 1, 0, &woken));
    CHECK_EQ_U64(woken, reports_woken(b) ? 1u : 0u);
    sleep_ms(50);
    CHECK_EQ_U64(__atomic_load_n(&ctx_g.woken, __ATOMIC_SEQ_CST), 1);
    __atomic_store_n(&word, 1u, __ATOMIC_SEQ_CST);
    CHECK_OK(b->wake(&word, UINT32_MAX, 0, &woken));
    for (uint32_t i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_U64(__atomic_load_n(&ctx_g.woken, __ATOMIC_SEQ_CST), 3);
}

TEST(wait_returns_not_equal_when_the_word_differs) {
    check_not_equal(&compiled_in);
}

TEST(timed_wait_times_out_after_at_least_the_timeout) {
    check_timeout(&compiled_in);
}

TEST(wake_all_wakes_every_waiter_and_counts_them) {
    check_wake_all(&compiled_in, 5);
}

TEST(wake_one_wakes_exactly_one) {
    check_wake_one(&compiled_in);
}

TEST(wake_without_waiters_wakes_none) {
    uint32_t word = 0;
    uint32_t woken = 99;
    CHECK_OK(cordon_futex_wake(&word, CORDON_FUTEX_WAKE_ALL, 0, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_OK(cordon_futex_wake(&word, 1, 0, NULL));
}

TEST(public_wait_statuses_and_timeouts) {
    uint32_t word = 7;
    CHECK_STATUS(cordon_futex_wait(&word, 8, CORDON_FOREVER, 0), CORDON_NOT_EQUAL);
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon_futex_wait(&word, 7, 10000000, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= 10000000u);
    uint64_t start = 0;
    CHECK_OK(cordon_time_monotonic_ns(&start));
    CHECK_STATUS(cordon_futex_wait(&word, 7, (int64_t)(start + 10000000u), CORDON_FUTEX_ABSOLUTE), CORDON_TIMED_OUT);
    uint64_t end = 0;
    CHECK_OK(cordon_time_monotonic_ns(&end));
    CHECK(end >= start + 10000000u);
    /* Zero timeout: an immediate answer. */
    CHECK_STATUS(cordon_futex_wait(&word, 7, 0, 0), CORDON_TIMED_OUT);
}

TEST(bad_arguments_are_refused) {
    uint32_t words[2] = {0, 0};
    uint32_t *misaligned = (uint32_t *)(void *)((char *)words + 1);
    CHECK_STATUS(cordon_futex_wait(NULL, 0, 0, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_futex_wait(misaligned, 0, 0, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_futex_wake(misaligned, 1, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_futex_wait(&words[0], 0, 0, 0x80u), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_futex_wake(&words[0], 1, CORDON_FUTEX_ABSOLUTE, NULL), CORDON_INVALID_ARGUMENT);
}

static uint32_t long_word;

static void *set_and_wake(void *arg) {
    (void)arg;
    sleep_ms(30);
    __atomic_store_n(&long_word, 1u, __ATOMIC_SEQ_CST);
    uint32_t woken = 0;
    if (cordon_futex_wake(&long_word, CORDON_FUTEX_WAKE_ALL, 0, &woken) != CORDON_OK) {
        __atomic_store_n(&long_word, 2u, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

TEST(long_timeouts_are_not_capped_or_rejected) {
    /* 100 years: must neither fail as invalid nor wrap to "already expired". */
    const int64_t century = (int64_t)100 * 365 * 24 * 3600 * 1000000000ll;
    long_word = 0;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, set_and_wake, NULL) == 0);
    cordon_status st;
    do {
        st = cordon_futex_wait(&long_word, 0, century, 0);
    } while (st == CORDON_OK && __atomic_load_n(&long_word, __ATOMIC_SEQ_CST) == 0);
    CHECK(st == CORDON_OK || st == CORDON_NOT_EQUAL);
    pthread_join(th, NULL);
    CHECK_EQ_U64(long_word, 1);
}

TEST(injected_eintr_is_retried_without_stretching_the_deadline) {
    require_fault_injection();
    uint32_t word = 0;
    const uint64_t timeout = 30000000; /* 30 ms */
    uint64_t t0 = now_ns();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 3, EINTR));
    CHECK_STATUS(cordon__sys_futex_wait(&word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_FUTEX), 3);
    /* An endless EINTR storm still ends at the deadline. */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, UINT64_MAX, EINTR));
    t0 = now_ns();
    CHECK_STATUS(cordon__sys_futex_wait(&word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    cordon__fault_stop();
}

TEST(injected_eintr_then_not_equal_is_reported) {
    require_fault_injection();
    uint32_t word = 3;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 2, EINTR));
    CHECK_STATUS(cordon__sys_futex_wait(&word, 2, CORDON__SYS_FOREVER, 0), CORDON_NOT_EQUAL);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_FUTEX), 2);
    cordon__fault_stop();
}

TEST(injected_os_failure_is_a_status_with_detail) {
    require_fault_injection();
    uint32_t word = 0;
    uint32_t woken = 77;
    cordon_clear_os_error();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 1, EFAULT));
    CHECK_STATUS(cordon_futex_wait(&word, 0, CORDON_FOREVER, 0), CORDON_OS_ERROR);
    CHECK_EQ_I64(cordon_last_os_error().code, EFAULT);
    CHECK(strcmp(cordon_last_os_error().call, "futex") == 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 1, ENOSYS));
    CHECK_STATUS(cordon_futex_wake(&word, 1, 0, &woken), CORDON_UNSUPPORTED);
    CHECK_EQ_U64(woken, 77); /* out-parameter untouched on failure */
    cordon__fault_stop();
}

TEST(shared_words_work_or_are_refused_by_the_parking_lot) {
    uint32_t word = 1;
    cordon_status st = cordon_futex_wait(&word, 0, CORDON_FOREVER, CORDON_FUTEX_SHARED);
    if (strcmp(cordon__sys_futex_backend_name(), "parking-lot") == 0 ||
        strcmp(cordon__sys_futex_backend_name(), "windows-wait") == 0) {
        CHECK_STATUS(st, CORDON_UNSUPPORTED);
    } else {
        CHECK_STATUS(st, CORDON_NOT_EQUAL);
        CHECK_STATUS(cordon_futex_wait(&word, 1, 1000000, CORDON_FUTEX_SHARED), CORDON_TIMED_OUT);
        uint32_t woken = 9;
        CHECK_OK(cordon_futex_wake(&word, 1, CORDON_FUTEX_SHARED, &woken));
        CHECK_EQ_U64(woken, 0);
    }
}

/* The parking lot, driven directly: built and tested whatever backend is compiled in. */
TEST(parking_lot_not_equal) {
    REQUIRE_PARKING_LOT();
    check_not_equal(&parking);
}

TEST(parking_lot_timeout) {
    REQUIRE_PARKING_LOT();
    check_timeout(&parking);
}

TEST(parking_lot_wake_all_counts) {
    REQUIRE_PARKING_LOT();
    check_wake_all(&parking, 5);
}

TEST(parking_lot_wake_one) {
    REQUIRE_PARKING_LOT();
    check_wake_one(&parking);
}

TEST(parking_lot_wakes_in_arrival_order) {
    REQUIRE_PARKING_LOT();
    uint32_t word = 0;
    memset(&ctx_g, 0, sizeof ctx_g);
    ctx_g.b = &parking;
    ctx_g.word = &word;
    pthread_t th[4];
    for (uint32_t i = 0; i < 4; i++) {
        CHECK(pthread_create(&th[i], NULL, waiter_thread, (void *)(uintptr_t)i) == 0);
        settle_n((int)i + 1); /* thread i parks before thread i + 1 starts */
    }
    for (uint32_t i = 0; i < 4; i++) {
        uint32_t woken = 0;
        CHECK_OK(cordon__futex_parking_wake(&word, 1, 0, &woken));
        CHECK_EQ_U64(woken, 1);
        while (__atomic_load_n(&ctx_g.woken, __ATOMIC_SEQ_CST) < i + 1) {
            sleep_ms(1);
        }
    }
    for (uint32_t i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_U64(ctx_g.order[i], i);
    }
}

TEST(parking_lot_refuses_shared_words) {
    REQUIRE_PARKING_LOT();
    uint32_t word = 0;
    CHECK_STATUS(cordon__futex_parking_wait(&word, 0, 1, CORDON__SYS_FUTEX_SHARED), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon__futex_parking_wake(&word, 1, CORDON__SYS_FUTEX_SHARED, NULL), CORDON_UNSUPPORTED);
}

TEST(parking_lot_condvar_failure_is_reported) {
    REQUIRE_PARKING_LOT();
    require_fault_injection();
    uint32_t word = 0;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_COND_INIT, 1, 1, EAGAIN));
    CHECK_STATUS(cordon__futex_parking_wait(&word, 0, CORDON__SYS_FOREVER, 0), CORDON_OUT_OF_RESOURCES);
    CHECK(strcmp(cordon_last_os_error().call, "pthread_cond_init") == 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_COND_WAIT, 1, 1, EINVAL));
    CHECK_STATUS(cordon__futex_parking_wait(&word, 0, now_ns() + 1000000000u, 0), CORDON_OS_ERROR);
    CHECK(strcmp(cordon_last_os_error().call, "pthread_cond_timedwait") == 0);
    /* The failed waiter left the queue: a wake finds nobody. */
    uint32_t woken = 5;
    CHECK_OK(cordon__futex_parking_wake(&word, UINT32_MAX, 0, &woken));
    CHECK_EQ_U64(woken, 0);
    cordon__fault_stop();
}

TEST(parking_lot_injected_eintr_keeps_the_deadline) {
    REQUIRE_PARKING_LOT();
    require_fault_injection();
    uint32_t word = 0;
    const uint64_t timeout = 20000000;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, UINT64_MAX, EINTR));
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon__futex_parking_wait(&word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    cordon__fault_stop();
}
