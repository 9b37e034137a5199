/* SPDX-License-Identifier: Apache-2.0 */
/* The pool's deterministic reduction, task codes handed back, the default pool and the thread cap. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sync/sync_internal.h"
#include "sys/fault.h"

static int32_t sum_indices(void *ctx, size_t i0, size_t i1, void *slot) {
    (void)ctx;
    uint64_t *acc = (uint64_t *)slot;
    for (size_t i = i0; i < i1; i++) {
        *acc += i;
    }
    return 0;
}

static void add_u64(void *ctx, void *acc, const void *slot) {
    (void)ctx;
    *(uint64_t *)acc += *(const uint64_t *)slot;
}

TEST(reduce_sums_every_index_exactly_once) {
    const unsigned sizes[] = {1, 2, 4};
    const size_t chunks[] = {0, 1, 7, 1000, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        cordon_pool pool;
        CHECK_OK(cordon_pool_create(sizes[s], &pool));
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            const size_t begin = 3, end = 100003;
            uint64_t total = 0;
            CHECK_OK(cordon_pool_parallel_reduce(pool, begin, end, chunks[c], sum_indices, add_u64, NULL, &total,
                                                 sizeof total, NULL));
            uint64_t want = (uint64_t)end * (end - 1) / 2 - (uint64_t)begin * (begin - 1) / 2;
            CHECK_MSG(total == want, "pool of %u, chunk %zu: %llu, want %llu", sizes[s], chunks[c],
                      (unsigned long long)total, (unsigned long long)want);
        }
        CHECK_OK(cordon_pool_destroy(pool));
    }
}

/* Values whose float sum depends on the order of additions. */
static float value_at(size_t i) {
    uint32_t x = (uint32_t)i * 2654435761u;
    x ^= x >> 15;
    return (float)(x % 100000u) * ((x & 1u) ? 1e-3f : 1e3f);
}

static int32_t sum_floats(void *ctx, size_t i0, size_t i1, void *slot) {
    (void)ctx;
    float *acc = (float *)slot;
    for (size_t i = i0; i < i1; i++) {
        *acc += value_at(i);
    }
    return 0;
}

static void add_float(void *ctx, void *acc, const void *slot) {
    (void)ctx;
    *(float *)acc += *(const float *)slot;
}

TEST(float_reduction_is_bit_identical_on_every_pool_and_run) {
    const size_t n = 50000;
    /* The reference: 64 chunks (chunk 0), each summed in index order, folded in chunk order. */
    size_t chunk = n / CORDON_POOL_REDUCE_CHUNKS + (n % CORDON_POOL_REDUCE_CHUNKS != 0);
    float want = 0.0f;
    for (size_t i0 = 0; i0 < n; i0 += chunk) {
        float part = 0.0f;
        for (size_t i = i0; i < i0 + chunk && i < n; i++) {
            part += value_at(i);
        }
        want += part;
    }
    float sequential = 0.0f;
    for (size_t i = 0; i < n; i++) {
        sequential += value_at(i);
    }
    CHECK_MSG(memcmp(&sequential, &want, sizeof want) != 0, "the data does not expose the order of additions");
    for (unsigned threads = 1; threads <= 4; threads++) {
        cordon_pool pool;
        CHECK_OK(cordon_pool_create(threads, &pool));
        for (int run = 0; run < 20; run++) {
            float got = 0.0f;
            CHECK_OK(cordon_pool_parallel_reduce(pool, 0, n, 0, sum_floats, add_float, NULL, &got, sizeof got, NULL));
            CHECK_MSG(memcmp(&got, &want, sizeof got) == 0, "pool of %u, run %d: %.9g, want %.9g", threads, run,
                      (double)got, (double)want);
        }
        CHECK_OK(cordon_pool_destroy(pool));
    }
}

/* Each slot records its chunk's first index; the combine appends them, so the order is visible. */
typedef struct order_acc {
    size_t count;
    size_t first[16];
} order_acc;

static int32_t record_first(void *ctx, size_t i0, size_t i1, void *slot) {
    (void)ctx;
    (void)i1;
    order_acc *a = (order_acc *)slot;
    a->first[0] = i0;
    a->count = 1;
    return 0;
}

static void append(void *ctx, void *acc, const void *slot) {
    (void)ctx;
    order_acc *a = (order_acc *)acc;
    const order_acc *s = (const order_acc *)slot;
    if (a->count < 16 && s->count == 1) {
        a->first[a->count++] = s->first[0];
    }
}

TEST(slots_are_combined_in_chunk_order_into_the_identity) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(3, &pool));
    for (int run = 0; run < 50; run++) {
        order_acc acc = {0, {0}};
        CHECK_OK(cordon_pool_parallel_reduce(pool, 10, 100, 9, record_first, append, NULL, &acc, sizeof acc, NULL));
        CHECK_EQ_U64(acc.count, 10);
        for (size_t k = 0; k < 10; k++) {
            CHECK_EQ_U64(acc.first[k], 10 + 9 * k);
        }
    }
    CHECK_OK(cordon_pool_destroy(pool));
}

static int32_t fail_at_500(void *ctx, size_t i0, size_t i1, void *slot) {
    (void)ctx;
    if (i0 <= 500 && 500 < i1) {
        return -42;
    }
    if (slot != NULL) {
        *(uint64_t *)slot += i1 - i0;
    }
    return 0;
}

TEST(a_failing_task_hands_its_code_back_and_leaves_the_result_unchanged) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    uint64_t total = 12345;
    int32_t code = 0;
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 1000, 10, fail_at_500, add_u64, NULL, &total, sizeof total, &code),
                 CORDON_TASK_FAILED);
    CHECK_EQ_I64(code, -42);
    CHECK_EQ_U64(total, 12345);
    /* A task code that happens to equal a status value is still a code, not a status. */
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 1000, 10, fail_at_500, add_u64, NULL, &total, sizeof total, NULL),
                 CORDON_TASK_FAILED);
    CHECK_OK(cordon_pool_destroy(pool));
}

typedef struct marks {
    unsigned char count[1000];
    int32_t fail_code;
} marks;

static int32_t mark_or_fail(void *ctx, size_t i0, size_t i1, void *slot) {
    marks *m = (marks *)ctx;
    CHECK(slot == NULL);
    for (size_t i = i0; i < i1; i++) {
        m->count[i]++;
    }
    return i0 == 0 ? m->fail_code : 0;
}

TEST(a_reduce_without_result_is_a_parallel_for_with_task_codes) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    marks *m = calloc(1, sizeof *m);
    CHECK(m != NULL);
    int32_t code = 77;
    CHECK_OK(cordon_pool_parallel_reduce(pool, 0, 1000, 0, mark_or_fail, NULL, m, NULL, 0, &code));
    CHECK_EQ_I64(code, 77); /* written only on a task failure */
    for (size_t i = 0; i < 1000; i++) {
        CHECK_MSG(m->count[i] == 1, "index %zu ran %d times", i, m->count[i]);
    }
    m->fail_code = 1234567;
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 1000, 0, mark_or_fail, NULL, m, NULL, 0, &code),
                 CORDON_TASK_FAILED);
    CHECK_EQ_I64(code, 1234567);
    free(m);
    CHECK_OK(cordon_pool_destroy(pool));
}

TEST(reduce_refuses_bad_arguments_and_changes_nothing) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    uint64_t total = 5;
    int32_t code = 9;
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 10, 0, NULL, add_u64, NULL, &total, sizeof total, &code),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 10, 0, 0, sum_indices, add_u64, NULL, &total, sizeof total, &code),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 10, 0, sum_indices, add_u64, NULL, NULL, sizeof total, &code),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 10, 0, sum_indices, NULL, NULL, &total, sizeof total, &code),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 10, 1, sum_indices, add_u64, NULL, &total, SIZE_MAX, &code),
                 CORDON_OVERFLOW);
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, SIZE_MAX, 1, sum_indices, add_u64, NULL, &total, 64, &code),
                 CORDON_OVERFLOW);
    CHECK_OK(cordon_pool_parallel_reduce(pool, 7, 7, 0, sum_indices, add_u64, NULL, &total, sizeof total, &code));
    CHECK_EQ_U64(total, 5);
    CHECK_EQ_I64(code, 9);
    CHECK_OK(cordon_pool_destroy(pool));
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 10, 0, sum_indices, add_u64, NULL, &total, sizeof total, &code),
                 CORDON_STALE);
    cordon_pool zero = {0};
    CHECK_STATUS(cordon_pool_parallel_reduce(zero, 0, 0, 0, sum_indices, add_u64, NULL, &total, sizeof total, &code),
                 CORDON_STALE);
    CHECK_EQ_U64(total, 5);
    CHECK_EQ_I64(code, 9);
}

TEST(reduce_slot_allocation_failure_is_out_of_memory_and_runs_nothing) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_pool pool;
    CHECK_OK(cordon_pool_create(2, &pool));
    marks *m = calloc(1, sizeof *m);
    CHECK(m != NULL);
    uint64_t total = 5;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pool_parallel_reduce(pool, 0, 100, 0, sum_indices, add_u64, NULL, &total, sizeof total, NULL),
                 CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_EQ_U64(total, 5);
    free(m);
    CHECK_OK(cordon_pool_destroy(pool));
}

TEST(default_pool_is_one_pool_sized_to_the_usable_cpus) {
    cordon_pool a = {0}, b = {0};
    CHECK_STATUS(cordon_pool_default(NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_pool_default(&a));
    CHECK_OK(cordon_pool_default(&b));
    CHECK(a.handle != 0);
    CHECK_EQ_U64(a.handle, b.handle);
    cordon_system_info info;
    CHECK_OK(cordon_system_info_get(&info));
    unsigned size = 0;
    CHECK_OK(cordon_pool_size(a, &size));
    unsigned want = info.cpu_count_usable > CORDON_POOL_MAX_THREADS ? CORDON_POOL_MAX_THREADS : info.cpu_count_usable;
    CHECK_EQ_U64(size, want == 0 ? 1 : want);
    uint64_t total = 0;
    CHECK_OK(cordon_pool_parallel_reduce(a, 0, 1000, 0, sum_indices, add_u64, NULL, &total, sizeof total, NULL));
    CHECK_EQ_U64(total, 999u * 1000u / 2u);
    CHECK_OK(cordon__pool_default_shutdown());
}

static void *get_default(void *arg) {
    cordon_pool *out = (cordon_pool *)arg;
    if (cordon_pool_default(out) != CORDON_OK) {
        out->handle = 0;
    }
    return NULL;
}

TEST(concurrent_first_calls_create_one_default_pool) {
    enum { N = 8 };
    pthread_t t[N];
    cordon_pool got[N];
    for (int i = 0; i < N; i++) {
        CHECK(pthread_create(&t[i], NULL, get_default, &got[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK(pthread_join(t[i], NULL) == 0);
    }
    for (int i = 0; i < N; i++) {
        CHECK(got[i].handle != 0);
        CHECK_EQ_U64(got[i].handle, got[0].handle);
    }
    CHECK_OK(cordon__pool_default_shutdown());
}

TEST(destroying_the_default_pool_is_wrong_state_and_it_stays_usable) {
    cordon_pool pool;
    CHECK_OK(cordon_pool_default(&pool));
    CHECK_STATUS(cordon_pool_destroy(pool), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_pool_destroy(pool), CORDON_WRONG_STATE);
    uint64_t total = 0;
    CHECK_OK(cordon_pool_parallel_reduce(pool, 0, 100, 3, sum_indices, add_u64, NULL, &total, sizeof total, NULL));
    CHECK_EQ_U64(total, 99u * 100u / 2u);
    CHECK_OK(cordon__pool_default_shutdown());
    CHECK_STATUS(cordon_pool_size(pool, &(unsigned){0}), CORDON_STALE);
}

TEST(a_default_pool_creation_failure_is_reported_and_retried) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    cordon_pool pool = {777};
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, UINT64_MAX, ENOMEM));
    cordon_status st = cordon_pool_default(&pool);
    cordon__fault_stop();
    CHECK_STATUS(st, CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(pool.handle, 777);
    CHECK_OK(cordon_pool_default(&pool));
    CHECK(pool.handle != 777 && pool.handle != 0);
    CHECK_OK(cordon__pool_default_shutdown());
}

TEST(thread_counts_above_the_cap_are_refused_before_any_thread_starts) {
    cordon_pool pool = {777};
    bool counting = cordon__fault_available();
    if (counting) {
        cordon__fault_reset();
    }
    CHECK_STATUS(cordon_pool_create(CORDON_POOL_MAX_THREADS + 1u, &pool), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_create(100000u, &pool), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pool_create(UINT32_MAX, &pool), CORDON_INVALID_ARGUMENT);
    if (counting) {
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_PTHREAD_CREATE), 0);
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MALLOC), 0);
        cordon__fault_stop();
    }
    CHECK_EQ_U64(pool.handle, 777);
}
