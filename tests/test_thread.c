/* SPDX-License-Identifier: Apache-2.0 */
/* Threads: spawn / join / detach as generation-checked handles, failures as statuses. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"

static void quick_exit_fn(void *arg);

static void add_one(void *arg) {
    __atomic_fetch_add((int *)arg, 1, __ATOMIC_SEQ_CST);
}

TEST(spawned_thread_runs_and_joins) {
    int n = 0;
    cordon_thread t;
    CHECK_OK(cordon_thread_spawn(add_one, &n, &t));
    CHECK_OK(cordon_thread_join(t));
    CHECK_EQ_I64(n, 1);
}

TEST(join_twice_is_stale) {
    int n = 0;
    cordon_thread t;
    CHECK_OK(cordon_thread_spawn(add_one, &n, &t));
    CHECK_OK(cordon_thread_join(t));
    CHECK_STATUS(cordon_thread_join(t), CORDON_STALE);
    CHECK_STATUS(cordon_thread_detach(t), CORDON_STALE);
}

TEST(spawn_without_a_function_is_invalid) {
    cordon_thread t = {12345};
    CHECK_STATUS(cordon_thread_spawn(NULL, NULL, &t), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(t.handle, 12345);
    CHECK_STATUS(cordon_thread_spawn(quick_exit_fn, NULL, NULL), CORDON_INVALID_ARGUMENT);
}

TEST(handle_zero_is_stale) {
    cordon_thread zero = {0};
    CHECK_STATUS(cordon_thread_join(zero), CORDON_STALE);
    CHECK_STATUS(cordon_thread_detach(zero), CORDON_STALE);
}

static cordon_sem detached_done = CORDON_SEM_INIT(0);

static void post_done(void *arg) {
    (void)arg;
    if (cordon_sem_post(&detached_done) != CORDON_OK) {
        return;
    }
}

TEST(detached_thread_runs_and_its_handle_goes_stale) {
    cordon_thread t;
    CHECK_OK(cordon_thread_spawn(post_done, NULL, &t));
    CHECK_OK(cordon_thread_detach(t));
    CHECK_STATUS(cordon_thread_join(t), CORDON_STALE);
    CHECK_OK(cordon_sem_wait(&detached_done));
    /* Give the detached thread time to finish exiting, so leak checkers see its stack released. */
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
}

static cordon_thread self_handle;
static cordon_status self_join_status;
static cordon_sem self_ready = CORDON_SEM_INIT(0);

static void join_myself(void *arg) {
    (void)arg;
    if (cordon_sem_wait(&self_ready) != CORDON_OK) {
        return;
    }
    self_join_status = cordon_thread_join(self_handle);
}

TEST(a_thread_cannot_join_itself) {
    CHECK_OK(cordon_thread_spawn(join_myself, NULL, &self_handle));
    CHECK_OK(cordon_sem_post(&self_ready));
    CHECK_OK(cordon_thread_join(self_handle));
    CHECK_STATUS(self_join_status, CORDON_WRONG_STATE);
}

TEST(thread_creation_failure_is_a_status) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    int n = 0;
    cordon_thread t = {12345};
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_CREATE, 1, 1, EAGAIN));
    CHECK_STATUS(cordon_thread_spawn(add_one, &n, &t), CORDON_OUT_OF_RESOURCES);
    CHECK_EQ_U64(t.handle, 12345);
    CHECK(strcmp(cordon_last_os_error().call, "pthread_create") == 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_thread_spawn(add_one, &n, &t), CORDON_OUT_OF_MEMORY);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 2, 1, ENOMEM));
    CHECK_STATUS(cordon_thread_spawn(add_one, &n, &t), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_EQ_I64(n, 0);
    CHECK_OK(cordon_thread_spawn(add_one, &n, &t));
    CHECK_OK(cordon_thread_join(t));
    CHECK_EQ_I64(n, 1);
}

TEST(failed_join_or_detach_leaves_the_thread_joinable) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    int n = 0;
    cordon_thread t;
    CHECK_OK(cordon_thread_spawn(add_one, &n, &t));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_JOIN, 1, 1, EINVAL));
    CHECK_STATUS(cordon_thread_join(t), CORDON_OS_ERROR);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_DETACH, 1, 1, ESRCH));
    CHECK_STATUS(cordon_thread_detach(t), CORDON_OS_ERROR);
    cordon__fault_stop();
    CHECK_OK(cordon_thread_join(t));
    CHECK_EQ_I64(n, 1);
}

TEST(thousand_spawn_join_cycles_leak_nothing) {
    int n = 0;
    for (int i = 0; i < 1000; i++) {
        cordon_thread t;
        CHECK_OK(cordon_thread_spawn(add_one, &n, &t));
        CHECK_OK(cordon_thread_join(t));
    }
    CHECK_EQ_I64(n, 1000);
}

static cordon_thread raced_thread;
static atomic_int race_start;
static cordon_status race_results[2];

static void quick_exit_fn(void *arg) {
    (void)arg;
}

static void *racing_join(void *arg) {
    int i = (int)(intptr_t)arg;
    while (!atomic_load(&race_start)) {
    }
    race_results[i] = (i == 0) ? cordon_thread_join(raced_thread) : cordon_thread_detach(raced_thread);
    return NULL;
}

TEST(racing_join_and_detach_exactly_one_succeeds_the_other_is_stale) {
    for (int round = 0; round < 100; round++) {
        CHECK_OK(cordon_thread_spawn(quick_exit_fn, NULL, &raced_thread));
        atomic_store(&race_start, 0);
        pthread_t a, b;
        CHECK(pthread_create(&a, NULL, racing_join, (void *)(intptr_t)0) == 0);
        CHECK(pthread_create(&b, NULL, racing_join, (void *)(intptr_t)1) == 0);
        atomic_store(&race_start, 1);
        CHECK(pthread_join(a, NULL) == 0);
        CHECK(pthread_join(b, NULL) == 0);
        int ok = (race_results[0] == CORDON_OK) + (race_results[1] == CORDON_OK);
        int stale = (race_results[0] == CORDON_STALE) + (race_results[1] == CORDON_STALE);
        CHECK_MSG(ok == 1 && stale == 1, "round %d: join %s, detach %s", round, cordon_status_name(race_results[0]),
                  cordon_status_name(race_results[1]));
    }
    /* A detached winner may still be exiting: give it time so leak checkers see its stack released. */
    struct timespec pause = {0, 100000000};
    nanosleep(&pause, NULL);
}
