/* The thread pool: every index exactly once, task errors reported, nesting, lifetimes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <unistd.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"

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
