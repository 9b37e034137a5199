/* SPDX-License-Identifier: Apache-2.0 */
/* The macOS ulock backend's logic (src/sys/futex_ulock.c), run on Linux against a double of XNU's
 * __ulock_wait2 / __ulock_wake (tests/ulock_double.h). This is the only testing that backend has had:
 * it has never run on macOS. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "parked.h"
#include "sys/fault.h"
#include "sys/futex_backend.h"
#include "sys/sys.h"
#include "ulock_double.h"

static const cordon__ulock_ops ops = {double_wait2, double_wake};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct waiters {
    uint32_t word;
    unsigned flags;
    int finished; /* atomic */
    pid_t tids[8];
} waiters;

static waiters w_g;

static void *waiter(void *arg) {
    int id = (int)(intptr_t)arg;
    __atomic_store_n(&w_g.tids[id], gettid(), __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&w_g.word, __ATOMIC_SEQ_CST) == 0) {
        if (cordon__futex_ulock_wait(&ops, &w_g.word, 0, CORDON__SYS_FOREVER, w_g.flags) != CORDON_OK) {
            break;
        }
    }
    __atomic_fetch_add(&w_g.finished, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void start_waiters(pthread_t *th, int n, unsigned flags) {
    memset(&w_g, 0, sizeof w_g);
    w_g.flags = flags;
    double_init();
    for (int i = 0; i < n; i++) {
        CHECK(pthread_create(&th[i], NULL, waiter, (void *)(intptr_t)i) == 0);
    }
    cordon_test_wait_parked(w_g.tids, n);
}

TEST(not_equal_is_reported_without_sleeping) {
    double_init();
    uint32_t word = 3;
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 2, CORDON__SYS_FOREVER, 0), CORDON_NOT_EQUAL);
}

TEST(timed_wait_times_out_and_never_passes_zero) {
    double_init();
    uint32_t word = 0;
    const uint64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    CHECK(double_last_timeout != 0 && double_last_timeout <= timeout);
    /* A passed deadline must not become XNU's 0 = forever: answered without calling XNU. */
    double_last_timeout = 12345;
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, 1, 0), CORDON_TIMED_OUT);
    CHECK_EQ_U64(double_last_timeout, 12345);
}

TEST(every_call_uses_compare_and_wait_with_no_errno) {
    double_init();
    uint32_t word = 0;
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, now_ns() + 50000000, 0), CORDON_TIMED_OUT);
    CHECK_EQ_U64(double_last_wait_op, CORDON__UL_COMPARE_AND_WAIT | CORDON__ULF_NO_ERRNO);
    CHECK_OK(cordon__futex_ulock_wake(&ops, &word, UINT32_MAX, 0, NULL));
    CHECK_EQ_U64(double_last_wake_op, CORDON__UL_COMPARE_AND_WAIT | CORDON__ULF_WAKE_ALL | CORDON__ULF_NO_ERRNO);
    CHECK_OK(cordon__futex_ulock_wake(&ops, &word, 1, 0, NULL));
    CHECK_EQ_U64(double_last_wake_op, CORDON__UL_COMPARE_AND_WAIT | CORDON__ULF_NO_ERRNO);
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, now_ns() + 50000000, CORDON__SYS_FUTEX_SHARED),
                 CORDON_TIMED_OUT);
    CHECK_EQ_U64(double_last_wait_op, CORDON__UL_COMPARE_AND_WAIT_SHARED | CORDON__ULF_NO_ERRNO);
}

TEST(wake_without_waiters_is_success_with_none_woken) {
    double_init();
    uint32_t word = 0;
    uint32_t woken = 9;
    CHECK_OK(cordon__futex_ulock_wake(&ops, &word, UINT32_MAX, 0, &woken));
    CHECK_EQ_U64(woken, 0);
    CHECK_OK(cordon__futex_ulock_wake(&ops, &word, 3, 0, &woken));
    CHECK_EQ_U64(woken, 0);
}

TEST(wake_all_wakes_every_waiter) {
    pthread_t th[4];
    start_waiters(th, 4, 0);
    __atomic_store_n(&w_g.word, 1u, __ATOMIC_SEQ_CST);
    uint32_t woken = 0;
    CHECK_OK(cordon__futex_ulock_wake(&ops, &w_g.word, UINT32_MAX, 0, &woken));
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_I64(w_g.finished, 4);
    CHECK_EQ_U64(woken, 1); /* XNU does not count a wake-all: a lower bound */
}

TEST(wake_n_counts_exactly) {
    pthread_t th[3];
    start_waiters(th, 3, 0);
    __atomic_store_n(&w_g.word, 1u, __ATOMIC_SEQ_CST);
    uint32_t woken = 0;
    CHECK_OK(cordon__futex_ulock_wake(&ops, &w_g.word, 2, 0, &woken));
    CHECK_EQ_U64(woken, 2);
    CHECK_OK(cordon__futex_ulock_wake(&ops, &w_g.word, 5, 0, &woken));
    CHECK_EQ_U64(woken, 1); /* one left, then ENOENT ends the loop */
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_I64(w_g.finished, 3);
}

TEST(mismatched_operation_is_an_error_not_a_silent_loss) {
    /* Waiters on a shared word; a private wake has another operation type: XNU answers EDOM. The
     * backend reports it instead of returning success with the waiters still asleep. */
    pthread_t th[2];
    start_waiters(th, 2, CORDON__SYS_FUTEX_SHARED);
    __atomic_store_n(&w_g.word, 1u, __ATOMIC_SEQ_CST);
    cordon_clear_os_error();
    CHECK_STATUS(cordon__futex_ulock_wake(&ops, &w_g.word, UINT32_MAX, 0, NULL), CORDON_OS_ERROR);
    CHECK_EQ_I64(cordon_last_os_error().code, EDOM);
    CHECK(strcmp(cordon_last_os_error().call, "__ulock_wake") == 0);
    CHECK_EQ_I64(__atomic_load_n(&w_g.finished, __ATOMIC_SEQ_CST), 0);
    /* The matching operation wakes them. */
    CHECK_OK(cordon__futex_ulock_wake(&ops, &w_g.word, UINT32_MAX, CORDON__SYS_FUTEX_SHARED, NULL));
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_I64(w_g.finished, 2);
}

TEST(eintr_is_retried_with_the_remaining_time) {
    double_init();
    uint32_t word = 0;
    /* Long enough that the three interrupted calls all happen before the deadline, also where everything
     * runs ~30x slower (an emulator on a loaded machine took more than 30 ms for them). */
    const uint64_t timeout = cordon_test_slow() ? 300000000 : 30000000;
    double_eintr_next = 3;
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, t0 + timeout, 0), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= timeout);
    CHECK_EQ_I64(double_eintr_next, 0);
    /* The last call got what was left of the deadline, not the whole timeout again. */
    CHECK(double_last_timeout < timeout);
}

TEST(injected_failures_are_reported_with_the_call_name) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    double_init();
    uint32_t word = 0;
    uint32_t woken = 4;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_ULOCK_WAIT2, 1, 1, EFAULT));
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, CORDON__SYS_FOREVER, 0), CORDON_OS_ERROR);
    CHECK(strcmp(cordon_last_os_error().call, "__ulock_wait2") == 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_ULOCK_WAKE, 1, 1, EINVAL));
    CHECK_STATUS(cordon__futex_ulock_wake(&ops, &word, 1, 0, &woken), CORDON_OS_ERROR);
    CHECK_EQ_U64(woken, 4);
    CHECK(strcmp(cordon_last_os_error().call, "__ulock_wake") == 0);
    /* Injected EINTR: retried, then the real wait times out. */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_ULOCK_WAIT2, 1, 2, EINTR));
    CHECK_STATUS(cordon__futex_ulock_wait(&ops, &word, 0, now_ns() + 50000000, 0), CORDON_TIMED_OUT);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_ULOCK_WAIT2), 2);
    cordon__fault_stop();
}

TEST(the_double_reports_errno_without_no_errno) {
    /* The double itself: without ULF_NO_ERRNO a failure is -1 with errno set, as XNU does. */
    double_init();
    uint32_t word = 0;
    errno = 0;
    CHECK_EQ_I64(double_wake(CORDON__UL_COMPARE_AND_WAIT, &word, 0), -1);
    CHECK_EQ_I64(errno, ENOENT);
    CHECK_EQ_I64(double_wake(CORDON__UL_COMPARE_AND_WAIT | CORDON__ULF_NO_ERRNO, &word, 0), -ENOENT);
}
