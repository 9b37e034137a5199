/* SPDX-License-Identifier: Apache-2.0 */
/* Mutex, condition variable, once, semaphore, reader-writer lock: invariants under stress (run under
 * ThreadSanitizer in the tsan configuration), timeouts, and the promise of no system call when
 * nobody waits (counted through the fault-injection counters of the futex call). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"

#define THREADS 4

static int iterations(int n) {
    const char *slow = getenv("CORDON_TEST_SLOW");
    return slow != NULL && slow[0] == '1' ? n / 10 : n;
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_threads(void *(*fn)(void *), int n) {
    pthread_t th[16];
    for (int i = 0; i < n; i++) {
        CHECK(pthread_create(&th[i], NULL, fn, (void *)(intptr_t)i) == 0);
    }
    for (int i = 0; i < n; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
    }
}

/* ---- mutex ---------------------------------------------------------------------------------- */

static cordon_mutex mu = CORDON_MUTEX_INIT;
static uint64_t counter; /* guarded by mu: a plain variable, so TSan sees any unguarded access */
static int per_thread;

static void *increment(void *arg) {
    (void)arg;
    for (int i = 0; i < per_thread; i++) {
        if (cordon_mutex_lock(&mu) != CORDON_OK) {
            return NULL;
        }
        counter++;
        if (cordon_mutex_unlock(&mu) != CORDON_OK) {
            return NULL;
        }
    }
    return NULL;
}

TEST(mutex_loses_no_increment_under_contention) {
    per_thread = iterations(50000);
    counter = 0;
    run_threads(increment, THREADS);
    CHECK_EQ_U64(counter, (uint64_t)THREADS * (uint64_t)per_thread);
    CHECK_EQ_U64(mu.state, 0);
}

/* Odd threads lock with short timeouts (retrying after TIMED_OUT), even ones block, and every third
 * critical section is long (tens of microseconds, longer than a spin): timed-out lockers leave while
 * others are parked, the case in which a woken thread must pass the parked threads' claim on
 * (mutex.c). A lost wake leaves a thread asleep and the test hangs (ctest timeout). */
static uint32_t busy_work; /* atomic: only burns time inside the critical section */

static void *increment_mixed(void *arg) {
    const bool timed = ((intptr_t)arg & 1) != 0;
    for (int i = 0; i < per_thread; i++) {
        cordon_status st = CORDON_TIMED_OUT;
        while (st == CORDON_TIMED_OUT) {
            st = timed ? cordon_mutex_lock_timed(&mu, 1000 + (int64_t)(i % 7) * 20000) : cordon_mutex_lock(&mu);
        }
        if (st != CORDON_OK) {
            return NULL;
        }
        for (int k = 0; k < (i % 3 == 0 ? 3000 : 0); k++) {
            __atomic_fetch_add(&busy_work, 1u, __ATOMIC_RELAXED);
        }
        counter++;
        if (cordon_mutex_unlock(&mu) != CORDON_OK) {
            return NULL;
        }
    }
    return NULL;
}

TEST(mutex_timed_and_blocking_lockers_mixed_lose_no_wake) {
    per_thread = iterations(3000);
    counter = 0;
    run_threads(increment_mixed, THREADS);
    CHECK_EQ_U64(counter, (uint64_t)THREADS * (uint64_t)per_thread);
    CHECK_EQ_U64(mu.state, 0);
}

TEST(mutex_trylock_is_busy_while_held) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    CHECK_OK(cordon_mutex_trylock(&m));
    CHECK_STATUS(cordon_mutex_trylock(&m), CORDON_BUSY);
    CHECK_OK(cordon_mutex_unlock(&m));
    CHECK_OK(cordon_mutex_trylock(&m));
    CHECK_OK(cordon_mutex_unlock(&m));
}

TEST(mutex_unlock_of_unlocked_is_wrong_state) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    CHECK_STATUS(cordon_mutex_unlock(&m), CORDON_WRONG_STATE);
    CHECK_EQ_U64(m.state, 0);
    CHECK_STATUS(cordon_mutex_lock(NULL), CORDON_INVALID_ARGUMENT);
}

static cordon_mutex held = CORDON_MUTEX_INIT;
static uint32_t hold_release; /* atomic */

static void *hold_for_a_while(void *arg) {
    (void)arg;
    if (cordon_mutex_lock(&held) != CORDON_OK) {
        return NULL;
    }
    __atomic_store_n(&hold_release, 1u, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&hold_release, __ATOMIC_SEQ_CST) != 2u) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    if (cordon_mutex_unlock(&held) != CORDON_OK) {
        return NULL;
    }
    return NULL;
}

TEST(mutex_timed_lock_times_out_then_succeeds) {
    pthread_t th;
    CHECK(pthread_create(&th, NULL, hold_for_a_while, NULL) == 0);
    while (__atomic_load_n(&hold_release, __ATOMIC_SEQ_CST) != 1u) {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon_mutex_lock_timed(&held, timeout), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    uint64_t deadline = 0;
    CHECK_OK(cordon_time_monotonic_ns(&deadline));
    deadline += 10000000u;
    CHECK_STATUS(cordon_mutex_lock_until(&held, deadline), CORDON_TIMED_OUT);
    CHECK(now_ns() >= deadline);
    __atomic_store_n(&hold_release, 2u, __ATOMIC_SEQ_CST);
    CHECK_OK(cordon_mutex_lock_timed(&held, CORDON_FOREVER));
    CHECK_OK(cordon_mutex_unlock(&held));
    pthread_join(th, NULL);
}

TEST(uncontended_mutex_makes_no_system_call) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION (futex calls are counted by it)");
    }
    cordon__fault_reset();
    cordon_mutex m = CORDON_MUTEX_INIT;
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(cordon_mutex_lock(&m));
        CHECK_OK(cordon_mutex_unlock(&m));
    }
    cordon_cond c = CORDON_COND_INIT;
    CHECK_OK(cordon_cond_signal(&c));
    CHECK_OK(cordon_cond_broadcast(&c));
    cordon_sem s = CORDON_SEM_INIT(0);
    CHECK_OK(cordon_sem_post(&s));
    CHECK_OK(cordon_sem_wait(&s));
    cordon_rwlock rw = CORDON_RWLOCK_INIT;
    CHECK_OK(cordon_rwlock_read_lock(&rw));
    CHECK_OK(cordon_rwlock_read_unlock(&rw));
    CHECK_OK(cordon_rwlock_write_lock(&rw));
    CHECK_OK(cordon_rwlock_write_unlock(&rw));
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_FUTEX), 0);
    cordon__fault_stop();
}

TEST(mutex_survives_injected_futex_failures) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    /* The first 500 futex calls fail: a failed park degrades to a yield, a failed wake is retried,
     * and no increment is lost nor any thread left asleep. */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_FUTEX, 1, 500, EFAULT));
    per_thread = iterations(5000);
    counter = 0;
    run_threads(increment, THREADS);
    CHECK_EQ_U64(counter, (uint64_t)THREADS * (uint64_t)per_thread);
    cordon__fault_stop();
}

/* ---- condition variable: producer / consumer ------------------------------------------------- */

#define QUEUE_CAP 8
static cordon_mutex q_mu = CORDON_MUTEX_INIT;
static cordon_cond q_not_empty = CORDON_COND_INIT;
static cordon_cond q_not_full = CORDON_COND_INIT;
static int queue[QUEUE_CAP];
static int q_head, q_len;
static int items_per_producer;
static unsigned char *seen_items;
static int consumed;
static int failures;

static void *producer(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < items_per_producer; i++) {
        if (cordon_mutex_lock(&q_mu) != CORDON_OK) {
            return NULL;
        }
        while (q_len == QUEUE_CAP) {
            if (cordon_cond_wait(&q_not_full, &q_mu) != CORDON_OK) {
                failures++;
            }
        }
        queue[(q_head + q_len) % QUEUE_CAP] = id * items_per_producer + i;
        q_len++;
        if (cordon_cond_signal(&q_not_empty) != CORDON_OK || cordon_mutex_unlock(&q_mu) != CORDON_OK) {
            return NULL;
        }
    }
    return NULL;
}

static void *consumer(void *arg) {
    (void)arg;
    int total = 2 * items_per_producer;
    for (;;) {
        if (cordon_mutex_lock(&q_mu) != CORDON_OK) {
            return NULL;
        }
        while (q_len == 0 && consumed < total) {
            if (cordon_cond_wait(&q_not_empty, &q_mu) != CORDON_OK) {
                failures++;
            }
        }
        if (consumed == total) {
            /* Done: let the other consumer see it too. */
            if (cordon_cond_broadcast(&q_not_empty) != CORDON_OK || cordon_mutex_unlock(&q_mu) != CORDON_OK) {
                failures++;
            }
            return NULL;
        }
        int item = queue[q_head];
        q_head = (q_head + 1) % QUEUE_CAP;
        q_len--;
        seen_items[item]++;
        consumed++;
        if (consumed == total && cordon_cond_broadcast(&q_not_empty) != CORDON_OK) {
            failures++;
        }
        if (cordon_cond_signal(&q_not_full) != CORDON_OK || cordon_mutex_unlock(&q_mu) != CORDON_OK) {
            return NULL;
        }
    }
}

static void *pc_thread(void *arg) {
    int i = (int)(intptr_t)arg;
    return i < 2 ? producer((void *)(intptr_t)i) : consumer(NULL);
}

TEST(condvar_producer_consumer_delivers_every_item_exactly_once) {
    items_per_producer = iterations(20000);
    seen_items = calloc((size_t)(2 * items_per_producer), 1);
    CHECK(seen_items != NULL);
    run_threads(pc_thread, 4); /* 2 producers, 2 consumers, a queue of 8: plenty of waiting both ways */
    CHECK_EQ_I64(failures, 0);
    CHECK_EQ_I64(consumed, 2 * items_per_producer);
    for (int i = 0; i < 2 * items_per_producer; i++) {
        CHECK_MSG(seen_items[i] == 1, "item %d delivered %d times", i, seen_items[i]);
    }
    free(seen_items);
}

TEST(condvar_timed_wait_times_out_with_the_mutex_held) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    cordon_cond c = CORDON_COND_INIT;
    CHECK_OK(cordon_mutex_lock(&m));
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    cordon_status st;
    do {
        st = cordon_cond_wait_timed(&c, &m, timeout - (int64_t)(now_ns() - t0));
    } while (st == CORDON_OK && now_ns() - t0 < (uint64_t)timeout);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    CHECK_STATUS(cordon_mutex_trylock(&m), CORDON_BUSY); /* still ours */
    uint64_t deadline = 0;
    CHECK_OK(cordon_time_monotonic_ns(&deadline));
    deadline += 5000000u;
    while ((st = cordon_cond_wait_until(&c, &m, deadline)) == CORDON_OK) {
    }
    CHECK_STATUS(st, CORDON_TIMED_OUT);
    CHECK(now_ns() >= deadline);
    CHECK_OK(cordon_mutex_unlock(&m));
}

TEST(condvar_wait_without_the_mutex_is_refused) {
    cordon_mutex m = CORDON_MUTEX_INIT;
    cordon_cond c = CORDON_COND_INIT;
    CHECK_STATUS(cordon_cond_wait(&c, &m), CORDON_WRONG_STATE);
    CHECK_EQ_U64(c.waiters, 0);
}

static cordon_mutex bc_mu = CORDON_MUTEX_INIT;
static cordon_cond bc_cond = CORDON_COND_INIT;
static int bc_go;
static int bc_waiting;
static int bc_done;

static void *broadcast_waiter(void *arg) {
    (void)arg;
    if (cordon_mutex_lock(&bc_mu) != CORDON_OK) {
        return NULL;
    }
    bc_waiting++;
    while (!bc_go) {
        if (cordon_cond_wait(&bc_cond, &bc_mu) != CORDON_OK) {
            break;
        }
    }
    bc_done++;
    if (cordon_mutex_unlock(&bc_mu) != CORDON_OK) {
        return NULL;
    }
    return NULL;
}

TEST(condvar_broadcast_wakes_every_waiter) {
    pthread_t th[5];
    for (int i = 0; i < 5; i++) {
        CHECK(pthread_create(&th[i], NULL, broadcast_waiter, NULL) == 0);
    }
    for (;;) {
        CHECK_OK(cordon_mutex_lock(&bc_mu));
        int w = bc_waiting;
        CHECK_OK(cordon_mutex_unlock(&bc_mu));
        if (w == 5) {
            break;
        }
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
    }
    CHECK_OK(cordon_mutex_lock(&bc_mu));
    bc_go = 1;
    CHECK_OK(cordon_cond_broadcast(&bc_cond));
    CHECK_OK(cordon_mutex_unlock(&bc_mu));
    for (int i = 0; i < 5; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ_I64(bc_done, 5);
}

/* ---- once ------------------------------------------------------------------------------------ */

static cordon_once once = CORDON_ONCE_INIT;
static int once_runs;
static int once_value; /* written by the initialiser, read by every caller after cordon_once_call */
static int once_bad;

static void init_once(void *arg) {
    (void)arg;
    struct timespec t = {0, 5000000};
    nanosleep(&t, NULL); /* let the others arrive and park */
    once_runs++;
    once_value = 42;
}

static void *call_once_thread(void *arg) {
    (void)arg;
    if (cordon_once_call(&once, init_once, NULL) != CORDON_OK || once_value != 42) {
        __atomic_fetch_add(&once_bad, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

TEST(once_runs_exactly_once_and_everyone_sees_it) {
    run_threads(call_once_thread, 8);
    CHECK_EQ_I64(once_runs, 1);
    CHECK_EQ_I64(once_bad, 0);
    CHECK_OK(cordon_once_call(&once, init_once, NULL));
    CHECK_EQ_I64(once_runs, 1);
    CHECK_STATUS(cordon_once_call(&once, NULL, NULL), CORDON_INVALID_ARGUMENT);
}

/* ---- semaphore ------------------------------------------------------------------------------- */

static cordon_sem sem = CORDON_SEM_INIT(2);
static int inside;     /* atomic: threads holding a unit */
static int max_inside; /* atomic */
static int sem_rounds;

static void *sem_user(void *arg) {
    (void)arg;
    for (int i = 0; i < sem_rounds; i++) {
        if (cordon_sem_wait(&sem) != CORDON_OK) {
            return NULL;
        }
        int now = __atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        int m = __atomic_load_n(&max_inside, __ATOMIC_SEQ_CST);
        while (now > m && !__atomic_compare_exchange_n(&max_inside, &m, now, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        }
        __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        if (cordon_sem_post(&sem) != CORDON_OK) {
            return NULL;
        }
    }
    return NULL;
}

TEST(semaphore_never_admits_more_than_its_count) {
    sem_rounds = iterations(20000);
    run_threads(sem_user, 6);
    CHECK(max_inside >= 1 && max_inside <= 2);
    CHECK_EQ_U64(cordon_sem_value(&sem), 2);
}

TEST(semaphore_trywait_and_timed_wait) {
    cordon_sem s = CORDON_SEM_INIT(1);
    CHECK_OK(cordon_sem_trywait(&s));
    CHECK_STATUS(cordon_sem_trywait(&s), CORDON_BUSY);
    const int64_t timeout = 20000000;
    uint64_t t0 = now_ns();
    CHECK_STATUS(cordon_sem_wait_timed(&s, timeout), CORDON_TIMED_OUT);
    CHECK(now_ns() - t0 >= (uint64_t)timeout);
    CHECK_OK(cordon_sem_post(&s));
    CHECK_OK(cordon_sem_wait_timed(&s, timeout));
    cordon_sem full = CORDON_SEM_INIT(UINT32_MAX);
    CHECK_STATUS(cordon_sem_post(&full), CORDON_LIMIT_EXCEEDED);
    CHECK_EQ_U64(cordon_sem_value(&full), UINT32_MAX);
}

static cordon_sem handoff = CORDON_SEM_INIT(0);
static int handoff_got;

static void *handoff_waiter(void *arg) {
    (void)arg;
    for (int i = 0; i < 3; i++) {
        if (cordon_sem_wait(&handoff) == CORDON_OK) {
            __atomic_fetch_add(&handoff_got, 1, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

TEST(semaphore_post_wakes_parked_waiters) {
    pthread_t th;
    CHECK(pthread_create(&th, NULL, handoff_waiter, NULL) == 0);
    for (int i = 0; i < 3; i++) {
        struct timespec t = {0, 10000000};
        nanosleep(&t, NULL);
        CHECK_OK(cordon_sem_post(&handoff));
    }
    pthread_join(th, NULL);
    CHECK_EQ_I64(handoff_got, 3);
}

/* ---- reader-writer lock ---------------------------------------------------------------------- */

static cordon_rwlock rw = CORDON_RWLOCK_INIT;
static int rw_readers; /* atomic */
static int rw_writers; /* atomic */
static int rw_violations;
static int rw_max_readers;
static uint64_t rw_data[2]; /* written only by writers, both halves equal when unlocked */
static int rw_rounds;

static void *rw_user(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < rw_rounds; i++) {
        if ((i + id) % 4 == 0) {
            if (cordon_rwlock_write_lock(&rw) != CORDON_OK) {
                return NULL;
            }
            int w = __atomic_add_fetch(&rw_writers, 1, __ATOMIC_SEQ_CST);
            if (w != 1 || __atomic_load_n(&rw_readers, __ATOMIC_SEQ_CST) != 0) {
                __atomic_fetch_add(&rw_violations, 1, __ATOMIC_SEQ_CST);
            }
            rw_data[0]++;
            rw_data[1]++;
            __atomic_sub_fetch(&rw_writers, 1, __ATOMIC_SEQ_CST);
            if (cordon_rwlock_write_unlock(&rw) != CORDON_OK) {
                return NULL;
            }
        } else {
            if (cordon_rwlock_read_lock(&rw) != CORDON_OK) {
                return NULL;
            }
            int r = __atomic_add_fetch(&rw_readers, 1, __ATOMIC_SEQ_CST);
            int m = __atomic_load_n(&rw_max_readers, __ATOMIC_SEQ_CST);
            while (r > m && !__atomic_compare_exchange_n(&rw_max_readers, &m, r, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            }
            if (__atomic_load_n(&rw_writers, __ATOMIC_SEQ_CST) != 0 || rw_data[0] != rw_data[1]) {
                __atomic_fetch_add(&rw_violations, 1, __ATOMIC_SEQ_CST);
            }
            __atomic_sub_fetch(&rw_readers, 1, __ATOMIC_SEQ_CST);
            if (cordon_rwlock_read_unlock(&rw) != CORDON_OK) {
                return NULL;
            }
        }
    }
    return NULL;
}

TEST(rwlock_writers_are_exclusive_and_readers_see_consistent_data) {
    rw_rounds = iterations(20000);
    run_threads(rw_user, THREADS);
    CHECK_EQ_I64(rw_violations, 0);
    CHECK_EQ_U64(rw_data[0], rw_data[1]);
    CHECK_EQ_U64(rw.state, 0);
}

TEST(rwlock_try_and_wrong_state) {
    cordon_rwlock l = CORDON_RWLOCK_INIT;
    CHECK_STATUS(cordon_rwlock_read_unlock(&l), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_rwlock_write_unlock(&l), CORDON_WRONG_STATE);
    CHECK_OK(cordon_rwlock_read_trylock(&l));
    CHECK_OK(cordon_rwlock_read_trylock(&l)); /* readers share */
    CHECK_STATUS(cordon_rwlock_write_trylock(&l), CORDON_BUSY);
    CHECK_STATUS(cordon_rwlock_write_unlock(&l), CORDON_WRONG_STATE);
    CHECK_OK(cordon_rwlock_read_unlock(&l));
    CHECK_OK(cordon_rwlock_read_unlock(&l));
    CHECK_OK(cordon_rwlock_write_trylock(&l));
    CHECK_STATUS(cordon_rwlock_read_trylock(&l), CORDON_BUSY);
    CHECK_STATUS(cordon_rwlock_read_unlock(&l), CORDON_WRONG_STATE);
    CHECK_OK(cordon_rwlock_write_unlock(&l));
    CHECK_EQ_U64(l.state, 0);
}

TEST(rwlock_read_lock_at_the_reader_limit_is_limit_exceeded) {
    /* 2^30 - 1 readers hold it: taking them one by one would cost a billion CASes, so the test starts
     * from the state they leave (the private reader count at its maximum). */
    cordon_rwlock l = {0x3fffffffu};
    CHECK_STATUS(cordon_rwlock_read_trylock(&l), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_rwlock_read_lock(&l), CORDON_LIMIT_EXCEEDED);
    CHECK_EQ_U64(l.state, 0x3fffffffu);
    CHECK_STATUS(cordon_rwlock_write_trylock(&l), CORDON_BUSY);
    CHECK_OK(cordon_rwlock_read_unlock(&l)); /* one reader leaves: there is room again */
    CHECK_OK(cordon_rwlock_read_trylock(&l));
    CHECK_EQ_U64(l.state, 0x3fffffffu);
}

/* ---- misaligned objects --------------------------------------------------------------------- */

/* A buffer with a known pattern whose byte 1 is the (misaligned) object address: every byte must be
 * as it was after the calls, so the library wrote nothing through the pointer. */
#define PATTERN 0xA5
typedef struct misaligned_buf {
    _Alignas(16) unsigned char bytes[32];
} misaligned_buf;

static void *misaligned_in(misaligned_buf *b) {
    memset(b->bytes, PATTERN, sizeof b->bytes);
    return b->bytes + 1;
}

static void check_untouched(const misaligned_buf *b) {
    for (size_t i = 0; i < sizeof b->bytes; i++) {
        CHECK_MSG(b->bytes[i] == PATTERN, "byte %zu changed to %#x", i, b->bytes[i]);
    }
}

TEST(misaligned_mutex_is_refused_by_every_call) {
    misaligned_buf b;
    cordon_mutex *m = (cordon_mutex *)misaligned_in(&b);
    CHECK_STATUS(cordon_mutex_lock(m), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_mutex_trylock(m), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_mutex_lock_timed(m, 1000), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_mutex_lock_until(m, 0), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_mutex_unlock(m), CORDON_MISALIGNED);
    check_untouched(&b);
    CHECK_STATUS(cordon_mutex_unlock(NULL), CORDON_INVALID_ARGUMENT); /* NULL is checked first */
}

TEST(misaligned_condvar_or_its_mutex_is_refused_with_the_mutex_still_held) {
    misaligned_buf b;
    cordon_cond *bad_c = (cordon_cond *)misaligned_in(&b);
    misaligned_buf b2;
    cordon_mutex *bad_m = (cordon_mutex *)misaligned_in(&b2);
    cordon_mutex m = CORDON_MUTEX_INIT;
    cordon_cond c = CORDON_COND_INIT;
    CHECK_OK(cordon_mutex_lock(&m));
    CHECK_STATUS(cordon_cond_wait(bad_c, &m), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_wait_timed(bad_c, &m, 1000), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_wait_until(bad_c, &m, 0), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_mutex_trylock(&m), CORDON_BUSY); /* never released */
    CHECK_STATUS(cordon_cond_wait(&c, bad_m), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_wait_timed(&c, bad_m, 1000), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_wait_until(&c, bad_m, 0), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_signal(bad_c), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_cond_broadcast(bad_c), CORDON_MISALIGNED);
    check_untouched(&b);
    check_untouched(&b2);
    CHECK_EQ_U64(c.seq, 0);
    CHECK_EQ_U64(c.waiters, 0);
    CHECK_OK(cordon_mutex_unlock(&m));
}

static int once_runs;

static void count_once_run(void *arg) {
    (void)arg;
    once_runs++;
}

TEST(misaligned_once_is_refused_and_does_not_run_the_initialiser) {
    misaligned_buf b;
    cordon_once *o = (cordon_once *)misaligned_in(&b);
    once_runs = 0;
    CHECK_STATUS(cordon_once_call(o, count_once_run, NULL), CORDON_MISALIGNED);
    CHECK_EQ_I64(once_runs, 0);
    check_untouched(&b);
}

TEST(misaligned_semaphore_is_refused_by_every_call) {
    misaligned_buf b;
    cordon_sem *s = (cordon_sem *)misaligned_in(&b);
    CHECK_STATUS(cordon_sem_post(s), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_sem_wait(s), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_sem_trywait(s), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_sem_wait_timed(s, 1000), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_sem_wait_until(s, 0), CORDON_MISALIGNED);
    /* The pattern read as a count would be nonzero: 0 shows the word was not read. */
    CHECK_EQ_U64(cordon_sem_value(s), 0);
    check_untouched(&b);
}

TEST(misaligned_rwlock_is_refused_by_every_call) {
    misaligned_buf b;
    cordon_rwlock *bad = (cordon_rwlock *)misaligned_in(&b);
    CHECK_STATUS(cordon_rwlock_read_lock(bad), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_rwlock_read_trylock(bad), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_rwlock_read_unlock(bad), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_rwlock_write_lock(bad), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_rwlock_write_trylock(bad), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_rwlock_write_unlock(bad), CORDON_MISALIGNED);
    check_untouched(&b);
}
