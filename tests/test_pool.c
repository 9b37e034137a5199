/* SPDX-License-Identifier: Apache-2.0 */
/* The thread pool: every index exactly once, task errors reported, nesting, lifetimes. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"
#include "sys/sys.h"

typedef struct hits {
    size_t n;
    unsigned char *count; /* each index's slot is written by the one task that owns it */
} hits;

static cordon_status mark(void *ctx, size_t i0, size_t i1) {
    hits *h = (hits *)ctx;
    for (size_t i = i0; i < i1; i++) {
        h->count[i]++;
    }
    return CORDON_OK;
}

static void check_exactly_once(cordon_pool pool, size_t n, size_t chunk) {
    hits h = {n, calloc(n + 1, 1)};
    CHECK(h.count != NULL);
    CHECK_OK(cordon_pool_parallel_for(pool, 0, n, chunk, mark, &h));
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(h.count[i] == 1, "index %zu ran %d times (n %zu, chunk %zu)", i, h.count[i], n, chunk);
    }
    free(h.count);
}

TEST(parallel_for_runs_every_index_exactly_once) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(4, &pool));
    unsigned size = 0;
    CHECK_OK(cordon_pool_size(pool, &size));
    CHECK_EQ_U64(size, 4);
    const size_t sizes[] = {1, 2, 3, 7, 64, 1000, 4097};
    const size_t chunks[] = {0, 1, 3, 64, 5000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            check_exactly_once(pool, sizes[s], chunks[c]);
        }
    }
    /* Many back-to-back jobs: the dispatch path where workers are still spinning. */
    for (int r = 0; r < 500; r++) {
        check_exactly_once(pool, 97, 4);
    }
    CHECK_OK(cordon_pool_destroy(pool));
}

/* Chunk 2 (the first of the worker's slice, chunks [2, 4) of 4 on a 2-thread pool) does not finish
 * until chunk 3 has run, so whichever thread runs chunk 2 is stuck in it: chunk 3 must then be taken
 * from that slice by the other thread. A pool without that would hang here (the wait gives up after
 * 10 s and the test fails). Run many times, so that both orders (the worker on time, or late and its
 * slice started by the caller) occur. */
typedef struct stuck_job {
    atomic_int done3;
    atomic_int ran[4];
    atomic_int gave_up;
} stuck_job;

static cordon_status stuck_task(void *ctx, size_t i0, size_t i1) {
    stuck_job *j = (stuck_job *)ctx;
    for (size_t i = i0; i < i1; i++) {
        atomic_fetch_add(&j->ran[i], 1);
        if (i == 3) {
            atomic_store(&j->done3, 1);
        } else if (i == 2) {
            for (long spins = 0; atomic_load(&j->done3) == 0; spins++) {
                if (spins > 10000000L) { /* ~10 s of 1 µs naps */
                    atomic_store(&j->gave_up, 1);
                    return CORDON_OK;
                }
                usleep(1);
            }
        }
    }
    return CORDON_OK;
}

TEST(a_stuck_thread_s_slice_is_finished_by_the_others) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    for (int r = 0; r < 200; r++) {
        stuck_job j;
        memset(&j, 0, sizeof j);
        CHECK_OK(cordon_pool_parallel_for(pool, 0, 4, 1, stuck_task, &j));
        CHECK_MSG(atomic_load(&j.gave_up) == 0, "round %d: chunk 3 never ran while chunk 2 waited for it", r);
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(atomic_load(&j.ran[i]) == 1, "round %d: chunk %d ran %d times", r, i, atomic_load(&j.ran[i]));
        }
    }
    CHECK_OK(cordon_pool_destroy(pool));
}

TEST(parallel_for_over_an_offset_range) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(3, &pool));
    hits h = {200, calloc(200, 1)};
    CHECK(h.count != NULL);
    CHECK_OK(cordon_pool_parallel_for(pool, 100, 200, 7, mark, &h));
    for (size_t i = 0; i < 200; i++) {
        CHECK_EQ_U64(h.count[i], i >= 100 ? 1 : 0);
    }
    CHECK_OK(cordon_pool_parallel_for(pool, 5, 5, 1, mark, &h)); /* empty */
    CHECK_STATUS(cordon_pool_parallel_for(pool, 6, 5, 1, mark, &h), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_parallel_for(pool, 0, 5, 1, NULL, &h), CORDON_INVALID_ARGUMENT);
    free(h.count);
    CHECK_OK(cordon_pool_destroy(pool));
}

static cordon_status fail_at_13(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    return 13 >= i0 && 13 < i1 ? CORDON_OUT_OF_BOUNDS : CORDON_OK;
}

static cordon_status return_garbage(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i1;
    return i0 == 0 ? (cordon_status)1000 : CORDON_OK;
}

TEST(task_errors_are_reported) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    CHECK_STATUS(cordon_pool_parallel_for(pool, 0, 100, 1, fail_at_13, NULL), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_pool_parallel_for(pool, 0, 100, 1, return_garbage, NULL), CORDON_TASK_FAILED);
    /* The pool is still usable after a failed job. */
    check_exactly_once(pool, 100, 3);
    CHECK_OK(cordon_pool_destroy(pool));
}

static cordon_pool nested_pool;

static cordon_status nested(void *ctx, size_t i0, size_t i1) {
    hits *h = (hits *)ctx;
    for (size_t i = i0; i < i1; i++) {
        hits inner = {1, &h->count[i]};
        cordon_status st = cordon_pool_parallel_for(nested_pool, 0, 1, 1, mark, &inner);
        if (st != CORDON_OK) {
            return st;
        }
    }
    return CORDON_OK;
}

TEST(nested_parallel_for_runs_inline) {
    CHECK_OK(cordon_pool_create(3, &nested_pool));
    hits h = {64, calloc(64, 1)};
    CHECK(h.count != NULL);
    CHECK_OK(cordon_pool_parallel_for(nested_pool, 0, 64, 2, nested, &h));
    for (size_t i = 0; i < 64; i++) {
        CHECK_EQ_U64(h.count[i], 1);
    }
    free(h.count);
    CHECK_OK(cordon_pool_destroy(nested_pool));
}

static cordon_pool self_pool;
static cordon_status destroy_inside_status;

static cordon_status destroy_inside(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i1;
    if (i0 == 0) {
        destroy_inside_status = cordon_pool_destroy(self_pool);
    }
    return CORDON_OK;
}

TEST(destroy_from_inside_a_task_is_refused) {
    CHECK_OK(cordon_pool_create(2, &self_pool));
    CHECK_OK(cordon_pool_parallel_for(self_pool, 0, 1, 1, destroy_inside, NULL));
    CHECK_STATUS(destroy_inside_status, CORDON_WRONG_STATE);
    CHECK_OK(cordon_pool_destroy(self_pool));
    CHECK_STATUS(cordon_pool_destroy(self_pool), CORDON_STALE);
    CHECK_STATUS(cordon_pool_parallel_for(self_pool, 0, 1, 1, destroy_inside, NULL), CORDON_STALE);
}

static void *destroy_elsewhere(void *arg) {
    cordon_pool *p = (cordon_pool *)arg;
    return (void *)(intptr_t)cordon_pool_destroy(*p);
}

TEST(pool_destroyed_on_another_thread) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(3, &pool));
    check_exactly_once(pool, 1000, 0);
    pthread_t th;
    void *result = NULL;
    CHECK(pthread_create(&th, NULL, destroy_elsewhere, &pool) == 0);
    CHECK(pthread_join(th, &result) == 0);
    CHECK_STATUS((cordon_status)(intptr_t)result, CORDON_OK);
    CHECK_STATUS(cordon_pool_destroy(pool), CORDON_STALE);
}

TEST(thousand_create_destroy_cycles_leak_nothing) {
    for (int i = 0; i < 1000; i++) {
        cordon_pool pool;
        CHECK_OK(cordon_pool_create(2, &pool));
        if (i % 10 == 0) {
            check_exactly_once(pool, 16, 1);
        }
        CHECK_OK(cordon_pool_destroy(pool));
    }
}

TEST(pool_creation_failure_leaves_nothing_running) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_pool pool = {777};
    /* The third worker cannot be started: the two already running are stopped and joined. */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_CREATE, 3, 1, EAGAIN));
    CHECK_STATUS(cordon_pool_create(5, &pool), CORDON_OUT_OF_RESOURCES);
    CHECK_EQ_U64(pool.handle, 777);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pool_create(3, &pool), CORDON_OUT_OF_MEMORY);
    /* The second allocation (the per-thread chunk slices) fails: the first is freed (valgrind and ASan
     * see no leak). */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 2, 1, ENOMEM));
    CHECK_STATUS(cordon_pool_create(3, &pool), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(pool.handle, 777);
    cordon__fault_stop();
    CHECK_OK(cordon_pool_create(3, &pool));
    check_exactly_once(pool, 50, 1);
    CHECK_OK(cordon_pool_destroy(pool));
}

TEST(single_thread_pool_runs_on_the_caller) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(1, &pool));
    check_exactly_once(pool, 100, 7);
    CHECK_OK(cordon_pool_destroy(pool));
    CHECK_OK(cordon_pool_create(0, &pool)); /* one per usable CPU */
    check_exactly_once(pool, 100, 0);
    CHECK_OK(cordon_pool_destroy(pool));
}

static cordon_pool shared_pool;

static void *submit_many(void *arg) {
    (void)arg;
    for (int r = 0; r < 100; r++) {
        hits h = {50, calloc(50, 1)};
        if (h.count == NULL || cordon_pool_parallel_for(shared_pool, 0, 50, 3, mark, &h) != CORDON_OK) {
            free(h.count);
            return (void *)1;
        }
        for (size_t i = 0; i < 50; i++) {
            if (h.count[i] != 1) {
                free(h.count);
                return (void *)1;
            }
        }
        free(h.count);
    }
    return NULL;
}

TEST(concurrent_callers_share_a_pool) {
    CHECK_OK(cordon_pool_create(3, &shared_pool));
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        CHECK(pthread_create(&th[i], NULL, submit_many, NULL) == 0);
    }
    for (int i = 0; i < 3; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        CHECK(r == NULL);
    }
    CHECK_OK(cordon_pool_destroy(shared_pool));
}

/* Two pools: a task of B runs a parallel_for on A, then one on B again. The second must run inline
 * (this thread holds B's submit lock); before the active-pool chain it deadlocked. */
static cordon_pool pool_a, pool_b;
static atomic_int nested_total;
static cordon_status nested_status_a, nested_status_b, nested_destroy_a;

static cordon_status count_one(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    atomic_fetch_add(&nested_total, (int)(i1 - i0));
    return CORDON_OK;
}

static cordon_status task_of_a_destroys_a(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i1;
    if (i0 == 0) {
        nested_destroy_a = cordon_pool_destroy(pool_a);
    }
    return CORDON_OK;
}

static cordon_status task_of_b_uses_a_then_b(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    for (size_t i = i0; i < i1; i++) {
        cordon_status sa = cordon_pool_parallel_for(pool_a, 0, 8, 1, count_one, NULL);
        cordon_status sb = cordon_pool_parallel_for(pool_b, 0, 8, 1, count_one, NULL);
        if (sa != CORDON_OK) nested_status_a = sa;
        if (sb != CORDON_OK) nested_status_b = sb;
    }
    return CORDON_OK;
}

TEST(nesting_another_pool_then_the_same_pool_does_not_deadlock) {
    alarm(120); /* a deadlock ends the test by SIGALRM instead of hanging until the ctest timeout */
    CHECK_OK(cordon_pool_create(2, &pool_a));
    CHECK_OK(cordon_pool_create(2, &pool_b));
    atomic_store(&nested_total, 0);
    CHECK_OK(cordon_pool_parallel_for(pool_b, 0, 6, 1, task_of_b_uses_a_then_b, NULL));
    CHECK_STATUS(nested_status_a, CORDON_OK);
    CHECK_STATUS(nested_status_b, CORDON_OK);
    CHECK_EQ_I64(atomic_load(&nested_total), 6 * 16);
    CHECK_OK(cordon_pool_destroy(pool_a));
    CHECK_OK(cordon_pool_destroy(pool_b));
    alarm(0);
}

static cordon_status task_of_a_runs_b_which_destroys_a(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i1;
    if (i0 == 0) {
        return cordon_pool_parallel_for(pool_b, 0, 1, 1, task_of_a_destroys_a, NULL);
    }
    return CORDON_OK;
}

TEST(destroying_a_pool_from_a_task_nested_inside_it_is_refused) {
    alarm(120);
    CHECK_OK(cordon_pool_create(2, &pool_a));
    /* One thread: B's task runs on the thread that is inside A's parallel_for, deterministically. */
    CHECK_OK(cordon_pool_create(1, &pool_b));
    nested_destroy_a = CORDON_OK;
    CHECK_OK(cordon_pool_parallel_for(pool_a, 0, 1, 1, task_of_a_runs_b_which_destroys_a, NULL));
    CHECK_STATUS(nested_destroy_a, CORDON_WRONG_STATE);
    CHECK_OK(cordon_pool_destroy(pool_a));
    CHECK_OK(cordon_pool_destroy(pool_b));
    alarm(0);
}

TEST(handle_zero_is_stale) {
    cordon_pool zero = {0};
    unsigned size = 0;
    CHECK_STATUS(cordon_pool_size(zero, &size), CORDON_STALE);
    CHECK_STATUS(cordon_pool_parallel_for(zero, 0, 4, 1, count_one, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_pool_destroy(zero), CORDON_STALE);
}

/* ---- destroy while a parallel-for is in flight --------------------------------------------------- */

/* Two chunks of one index each, each waiting until both have started: the thread that called the
 * parallel-for is stuck in one, so the other necessarily runs on a worker. */
static atomic_int arrived;
static atomic_uintptr_t caller_thread; /* pthread_self() of the thread that called the parallel-for */

static void meet_the_other_chunk(void) {
    atomic_fetch_add(&arrived, 1);
    while (atomic_load(&arrived) < 2) {
        sched_yield();
    }
}

static bool on_a_worker(void) {
    return (uintptr_t)pthread_self() != atomic_load(&caller_thread);
}

static cordon_status task_of_b_on_bs_worker_destroys_a(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i0;
    (void)i1;
    meet_the_other_chunk();
    if (on_a_worker()) {
        nested_destroy_a = cordon_pool_destroy(pool_a);
    }
    return CORDON_OK;
}

static cordon_status task_of_a_runs_b_on_two_threads(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i0;
    (void)i1;
    atomic_store(&caller_thread, (uintptr_t)pthread_self());
    atomic_store(&arrived, 0);
    return cordon_pool_parallel_for(pool_b, 0, 2, 1, task_of_b_on_bs_worker_destroys_a, NULL);
}

TEST(destroying_a_pool_from_another_pools_worker_nested_inside_it_is_refused) {
    alarm(120);
    CHECK_OK(cordon_pool_create(2, &pool_a));
    CHECK_OK(cordon_pool_create(2, &pool_b));
    for (int round = 0; round < 20; round++) {
        nested_destroy_a = CORDON_OK;
        CHECK_OK(cordon_pool_parallel_for(pool_a, 0, 1, 1, task_of_a_runs_b_on_two_threads, NULL));
        CHECK_STATUS(nested_destroy_a, CORDON_WRONG_STATE);
        check_exactly_once(pool_a, 100, 3); /* the refused destroy left A usable */
    }
    CHECK_OK(cordon_pool_destroy(pool_a));
    CHECK_OK(cordon_pool_destroy(pool_b));
    alarm(0);
}

static cordon_status own_worker_destroy_status;

static cordon_status task_on_own_worker_destroys_its_pool(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i0;
    (void)i1;
    meet_the_other_chunk();
    if (on_a_worker()) {
        own_worker_destroy_status = cordon_pool_destroy(pool_a);
    }
    return CORDON_OK;
}

TEST(destroying_a_pool_from_its_own_worker_is_refused) {
    alarm(120);
    CHECK_OK(cordon_pool_create(2, &pool_a));
    atomic_store(&caller_thread, (uintptr_t)pthread_self());
    atomic_store(&arrived, 0);
    own_worker_destroy_status = CORDON_OK;
    CHECK_OK(cordon_pool_parallel_for(pool_a, 0, 2, 1, task_on_own_worker_destroys_its_pool, NULL));
    CHECK_STATUS(own_worker_destroy_status, CORDON_WRONG_STATE);
    CHECK_OK(cordon_pool_destroy(pool_a));
    alarm(0);
}

static cordon_sem task_started = CORDON_SEM_INIT(0);
static cordon_sem destroy_tried = CORDON_SEM_INIT(0);
static cordon_status elsewhere_destroy_status;

static cordon_status task_waits_for_a_destroy_elsewhere(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    (void)i0;
    (void)i1;
    cordon_status st = cordon_sem_post(&task_started);
    return st != CORDON_OK ? st : cordon_sem_wait(&destroy_tried);
}

static void *destroy_once_the_task_runs(void *arg) {
    (void)arg;
    if (cordon_sem_wait(&task_started) == CORDON_OK) {
        elsewhere_destroy_status = cordon_pool_destroy(pool_a);
    }
    return (void *)(intptr_t)cordon_sem_post(&destroy_tried);
}

TEST(destroying_a_pool_while_another_thread_is_in_its_parallel_for_is_refused) {
    alarm(120);
    CHECK_OK(cordon_pool_create(2, &pool_a));
    elsewhere_destroy_status = CORDON_OK;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, destroy_once_the_task_runs, NULL) == 0);
    CHECK_OK(cordon_pool_parallel_for(pool_a, 0, 1, 1, task_waits_for_a_destroy_elsewhere, NULL));
    void *posted = NULL;
    CHECK(pthread_join(th, &posted) == 0);
    CHECK_STATUS((cordon_status)(intptr_t)posted, CORDON_OK);
    CHECK_STATUS(elsewhere_destroy_status, CORDON_WRONG_STATE);
    check_exactly_once(pool_a, 100, 0);
    CHECK_OK(cordon_pool_destroy(pool_a));
    alarm(0);
}

/* ---- nesting several pools: no deadlock, every chunk exactly once ------------------------------- */

/* A -> B -> A over two 2-thread pools: each task of A runs a parallel-for on B whose tasks run one on
 * A. Blocking on a submit lock from inside a task deadlocked here: the main thread (inside A's task,
 * holding A's lock) waiting for B's lock, A's worker (holding B's lock) waiting for B's worker to
 * leave B's job, B's worker (inside B's task) waiting for A's lock. The tasks wait a bounded number of
 * yields for their sibling chunk to start, so that the threads really overlap in every round. */
static atomic_int aba_leaves, aba_outer_arrived, aba_middle_arrived;

static void meet_or_give_up(atomic_int *arrived_count, int expected) {
    atomic_fetch_add(arrived_count, 1);
    for (int i = 0; i < 2000 && atomic_load(arrived_count) < expected; i++) {
        sched_yield();
    }
}

static cordon_status aba_leaf(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    atomic_fetch_add(&aba_leaves, (int)(i1 - i0));
    return CORDON_OK;
}

static cordon_status aba_middle(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    for (size_t i = i0; i < i1; i++) {
        meet_or_give_up(&aba_middle_arrived, 2);
        cordon_status st = cordon_pool_parallel_for(pool_a, 0, 2, 1, aba_leaf, NULL);
        if (st != CORDON_OK) {
            return st;
        }
    }
    return CORDON_OK;
}

static cordon_status aba_outer(void *ctx, size_t i0, size_t i1) {
    (void)ctx;
    for (size_t i = i0; i < i1; i++) {
        meet_or_give_up(&aba_outer_arrived, 2);
        cordon_status st = cordon_pool_parallel_for(pool_b, 0, 2, 1, aba_middle, NULL);
        if (st != CORDON_OK) {
            return st;
        }
    }
    return CORDON_OK;
}

TEST(a_b_a_nesting_over_two_pools_does_not_deadlock) {
    alarm(120); /* a deadlock ends the test by SIGALRM instead of hanging until the ctest timeout */
    CHECK_OK(cordon_pool_create(2, &pool_a));
    CHECK_OK(cordon_pool_create(2, &pool_b));
    for (int round = 0; round < 200; round++) {
        atomic_store(&aba_leaves, 0);
        atomic_store(&aba_outer_arrived, 0);
        atomic_store(&aba_middle_arrived, 0);
        CHECK_OK(cordon_pool_parallel_for(pool_a, 0, 2, 1, aba_outer, NULL));
        CHECK_EQ_I64(atomic_load(&aba_leaves), 2 * 2 * 2);
    }
    CHECK_OK(cordon_pool_destroy(pool_a));
    CHECK_OK(cordon_pool_destroy(pool_b));
    alarm(0);
}

/* Random nesting: several user threads each run seeded random trees of parallel-fors — random pool at
 * every level (pools of 1 to 3 threads), random range, chunk and depth — so pools nest in every order
 * on callers and workers alike. Every parallel-for's caller checks that each index of its range ran
 * exactly once; the total number of indices run is checked against a sequential walk of the same
 * trees. */
#define NEST_POOLS 4
#define NEST_THREADS 3
#define NEST_ROUNDS 400
#define NEST_MAX_DEPTH 3
#define NEST_MAX_N 5

static cordon_pool nest_pools[NEST_POOLS];
static atomic_long nest_indices_run;
static atomic_int nest_failures;
static char nest_first_failure[200];

static uint64_t splitmix(uint64_t x) {
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* One parallel-for of the tree, all derived from its key. */
typedef struct nest_node {
    uint64_t key;
    unsigned depth; /* levels of parallel-fors below this one: 0 for a leaf */
    unsigned pool;
    size_t begin, n, chunk;
    atomic_uchar runs[NEST_MAX_N];
} nest_node;

static void nest_node_init(nest_node *node, uint64_t key, unsigned max_depth) {
    node->key = key;
    node->depth = max_depth == 0 ? 0 : (unsigned)(splitmix(key ^ 1) % (max_depth + 1u));
    node->pool = (unsigned)(splitmix(key ^ 2) % NEST_POOLS);
    node->begin = (size_t)(splitmix(key ^ 3) % 7u);
    node->n = 1 + (size_t)(splitmix(key ^ 4) % NEST_MAX_N);
    node->chunk = (size_t)(splitmix(key ^ 5) % (node->n + 1)); /* 0: the pool's even split */
    for (size_t i = 0; i < NEST_MAX_N; i++) {
        atomic_init(&node->runs[i], 0);
    }
}

static void nest_fail(const char *what, uint64_t key, size_t i, int value) {
    if (atomic_fetch_add(&nest_failures, 1) == 0) {
        snprintf(nest_first_failure, sizeof nest_first_failure, "%s (node key %#" PRIx64 ", index %zu, value %d)", what,
                 key, i, value);
    }
}

static long nest_expected(uint64_t key, unsigned max_depth) {
    nest_node node;
    nest_node_init(&node, key, max_depth);
    long total = (long)node.n;
    if (node.depth > 0) {
        for (size_t i = 0; i < node.n; i++) {
            total += nest_expected(splitmix(key + 100 + i), node.depth - 1);
        }
    }
    return total;
}

static void nest_run(uint64_t key, unsigned max_depth);

static cordon_status nest_task(void *ctx, size_t i0, size_t i1) {
    nest_node *node = (nest_node *)ctx;
    for (size_t i = i0; i < i1; i++) {
        if (i < node->begin || i >= node->begin + node->n) {
            nest_fail("index outside the range", node->key, i, 0);
            continue;
        }
        atomic_fetch_add(&node->runs[i - node->begin], 1);
        atomic_fetch_add(&nest_indices_run, 1);
        /* A few yields, more or fewer per index: the threads of all pools drift against each other. */
        for (uint64_t y = splitmix(node->key ^ (i + 6)) % 4; y > 0; y--) {
            sched_yield();
        }
        if (node->depth > 0) {
            nest_run(splitmix(node->key + 100 + (i - node->begin)), node->depth - 1);
        }
    }
    return CORDON_OK;
}

static void nest_run(uint64_t key, unsigned max_depth) {
    nest_node node;
    nest_node_init(&node, key, max_depth);
    cordon_status st = cordon_pool_parallel_for(nest_pools[node.pool], node.begin, node.begin + node.n, node.chunk,
                                                nest_task, &node);
    if (st != CORDON_OK) {
        nest_fail(cordon_status_name(st), key, 0, 0);
    }
    for (size_t i = 0; i < node.n; i++) {
        int runs = atomic_load(&node.runs[i]);
        if (runs != 1) {
            nest_fail("an index did not run exactly once", key, node.begin + i, runs);
        }
    }
}

static uint64_t nest_seed;

static void *nest_user(void *arg) {
    uint64_t t = (uint64_t)(uintptr_t)arg;
    for (uint64_t r = 0; r < NEST_ROUNDS; r++) {
        nest_run(splitmix(nest_seed ^ (t << 32) ^ r), NEST_MAX_DEPTH);
    }
    return NULL;
}

TEST(random_nesting_of_several_pools_runs_every_chunk_exactly_once) {
    alarm(240);
    nest_seed = cordon_test_seed();
    for (unsigned i = 0; i < NEST_POOLS; i++) {
        unsigned threads = i < 2 ? 2u : 1u + (unsigned)(splitmix(nest_seed + i) % 3u);
        CHECK_OK(cordon_pool_create(threads, &nest_pools[i]));
    }
    atomic_store(&nest_indices_run, 0);
    atomic_store(&nest_failures, 0);
    pthread_t th[NEST_THREADS];
    for (uintptr_t t = 0; t < NEST_THREADS; t++) {
        CHECK(pthread_create(&th[t], NULL, nest_user, (void *)t) == 0);
    }
    for (int t = 0; t < NEST_THREADS; t++) {
        CHECK(pthread_join(th[t], NULL) == 0);
    }
    CHECK_MSG(atomic_load(&nest_failures) == 0, "%d failures, the first: %s", atomic_load(&nest_failures),
              nest_first_failure);
    long expected = 0;
    for (uint64_t t = 0; t < NEST_THREADS; t++) {
        for (uint64_t r = 0; r < NEST_ROUNDS; r++) {
            expected += nest_expected(splitmix(nest_seed ^ (t << 32) ^ r), NEST_MAX_DEPTH);
        }
    }
    CHECK_EQ_I64(atomic_load(&nest_indices_run), expected);
    for (unsigned i = 0; i < NEST_POOLS; i++) {
        CHECK_OK(cordon_pool_destroy(nest_pools[i]));
    }
    alarm(0);
}

/* A caller that looked a pool up just before another thread destroyed it touches no freed memory (run
 * under ASan): every call returns OK, STALE, or WRONG_STATE for the destroy that found it busy. */
typedef struct pool_race {
    _Atomic uint64_t handle;
    atomic_int stop;
    atomic_long bad;
} pool_race;

static cordon_status nothing(void *ctx, size_t i0, size_t i1) {
    (void)ctx, (void)i0, (void)i1;
    return CORDON_OK;
}

static void *use_published_pool(void *arg) {
    pool_race *r = arg;
    while (!atomic_load(&r->stop)) {
        cordon_pool p = {atomic_load(&r->handle)};
        unsigned n = 0;
        cordon_status a = cordon_pool_size(p, &n);
        cordon_status b = cordon_pool_parallel_for(p, 0, 8, 1, nothing, NULL);
        if ((a != CORDON_OK && a != CORDON_STALE) || (a == CORDON_OK && n != 2) || (b != CORDON_OK && b != CORDON_STALE)) {
            atomic_fetch_add(&r->bad, 1);
        }
        /* Between calls (the pool not busy), the destroying thread gets a turn: without it, where threads
         * take turns on one lock (valgrind), the destroy found the pool busy for minutes on end. */
        sched_yield();
    }
    return NULL;
}

TEST(calls_racing_a_destroy_on_another_thread_return_ok_or_stale) {
    pool_race r = {0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, use_published_pool, &r) == 0);
    for (int i = 0, n = cordon_test_rounds(300, 20); i < n; i++) {
        cordon_pool p;
        CHECK_OK(cordon_pool_create(2, &p));
        atomic_store(&r.handle, p.handle);
        sched_yield();
        cordon_status st;
        while ((st = cordon_pool_destroy(p)) == CORDON_WRONG_STATE) {
            sched_yield(); /* a parallel-for of it was in flight */
        }
        CHECK_OK(st);
    }
    atomic_store(&r.stop, 1);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_I64(atomic_load(&r.bad), 0);
}

typedef struct restore_probe {
    cordon_status status;
    int code;
    bool named;
    unsigned usable_after;
} restore_probe;

static void *leave_with_failed_restore(void *arg) {
    restore_probe *r = (restore_probe *)arg;
    cordon_clear_os_error();
    r->status = cordon__sys_thread_leave_cpu(cordon__sys_current_cpu());
    r->code = cordon_last_os_error().code;
    r->named = strcmp(cordon_last_os_error().call, "sched_setaffinity") == 0;
    unsigned online = 0;
    if (cordon__sys_cpu_counts(&online, &r->usable_after) != CORDON_OK) {
        r->usable_after = 0;
    }
    return NULL;
}

/* The move a pool worker makes when it finds itself on its caller's processor: off that processor, with
 * its affinity as it was. */
TEST(a_thread_moved_off_its_processor_keeps_its_affinity) {
    unsigned online = 0, usable = 0;
    CHECK_OK(cordon__sys_cpu_counts(&online, &usable));
    int cpu = cordon__sys_current_cpu();
    if (cpu < 0) {
        CHECK_STATUS(cordon__sys_thread_leave_cpu(0), CORDON_UNSUPPORTED);
        SKIP("this OS does not say which processor a thread runs on: workers are never moved");
    }
    if (usable < 2) {
        CHECK_STATUS(cordon__sys_thread_leave_cpu(cpu), CORDON_UNSUPPORTED);
        SKIP("this process may run on one processor only: nowhere to move to");
    }
    CHECK_STATUS(cordon__sys_thread_leave_cpu(-1), CORDON_INVALID_ARGUMENT);
    for (int round = 0; round < 20; round++) {
        cpu = cordon__sys_current_cpu();
        CHECK_OK(cordon__sys_thread_leave_cpu(cpu));
        int now = cordon__sys_current_cpu();
        CHECK_MSG(now != cpu, "round %d: still on processor %d", round, cpu);
        unsigned online_after = 0, usable_after = 0;
        CHECK_OK(cordon__sys_cpu_counts(&online_after, &usable_after));
        CHECK_EQ_U64(usable_after, usable);
    }
    if (!cordon__fault_available()) {
        return;
    }
    /* The narrowing call fails: recorded, the affinity unchanged. */
    for (cordon__sys_call call = CORDON__CALL_SCHED_GETAFFINITY;; call = CORDON__CALL_SCHED_SETAFFINITY) {
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(call, 1, 1, EPERM));
        cordon_clear_os_error();
        CHECK(cordon__sys_thread_leave_cpu(cordon__sys_current_cpu()) != CORDON_OK);
        CHECK(cordon__fault_fired(call) == 1);
        CHECK(strcmp(cordon_last_os_error().call, cordon__sys_call_name(call)) == 0);
        CHECK_EQ_I64(cordon_last_os_error().code, EPERM);
        unsigned online_after = 0, usable_after = 0;
        cordon__fault_stop();
        CHECK_OK(cordon__sys_cpu_counts(&online_after, &usable_after));
        CHECK_EQ_U64(usable_after, usable);
        if (call == CORDON__CALL_SCHED_SETAFFINITY) {
            break;
        }
    }
    /* Only the restoring call fails (the second sched_setaffinity): recorded, and the thread keeps the
     * narrowed mask, one processor fewer. On a thread of its own, whose mask ends with it. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_SCHED_SETAFFINITY, 2, 1, EPERM));
    restore_probe probe = {0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, leave_with_failed_restore, &probe) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    cordon__fault_stop();
    CHECK(probe.status != CORDON_OK);
    CHECK_EQ_I64(probe.code, EPERM);
    CHECK_MSG(probe.named, "the failure is not recorded as sched_setaffinity");
    CHECK_EQ_U64(probe.usable_after, usable - 1u);
    /* A pool whose workers cannot move still runs every chunk. */
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(3, &pool));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_SCHED_SETAFFINITY, 1, 1000000, EPERM));
    for (int r = 0; r < 200; r++) {
        check_exactly_once(pool, 64, 1);
    }
    cordon__fault_stop();
    CHECK_OK(cordon_pool_destroy(pool));
}
