/* SPDX-License-Identifier: Apache-2.0 */
/* Generation-checked handles: stale use is detected, never undefined. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/handle.h"
#include "harness.h"
#include "sys/fault.h"

static int objects[4];

TEST(inserted_object_is_found_by_its_handle) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(7);
    uint64_t h = 0;
    CHECK_OK(cordon__handle_insert(&t, &objects[0], &h));
    CHECK(h != 0);
    void *o = NULL;
    CHECK_OK(cordon__handle_lookup(&t, h, &o));
    CHECK(o == &objects[0]);
}

TEST(removed_handle_is_stale_for_lookup_and_second_remove) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(7);
    uint64_t h = 0;
    CHECK_OK(cordon__handle_insert(&t, &objects[0], &h));
    void *o = NULL;
    CHECK_OK(cordon__handle_remove(&t, h, &o));
    CHECK(o == &objects[0]);
    o = NULL;
    CHECK_STATUS(cordon__handle_lookup(&t, h, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_remove(&t, h, &o), CORDON_STALE);
    CHECK(o == NULL);
}

TEST(reused_slot_does_not_revive_old_handle) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(7);
    uint64_t old = 0, fresh = 0;
    void *o = NULL;
    CHECK_OK(cordon__handle_insert(&t, &objects[0], &old));
    CHECK_OK(cordon__handle_remove(&t, old, &o));
    CHECK_OK(cordon__handle_insert(&t, &objects[1], &fresh));
    CHECK(fresh != old);
    CHECK((fresh & 0xFFFFFFu) == (old & 0xFFFFFFu)); /* same slot, new generation */
    CHECK_STATUS(cordon__handle_lookup(&t, old, &o), CORDON_STALE);
    CHECK_OK(cordon__handle_lookup(&t, fresh, &o));
    CHECK(o == &objects[1]);
}

TEST(handle_of_another_kind_or_garbage_is_stale) {
    static cordon__handle_table a = CORDON__HANDLE_TABLE_INIT(1);
    static cordon__handle_table b = CORDON__HANDLE_TABLE_INIT(2);
    uint64_t h = 0;
    void *o = NULL;
    CHECK_OK(cordon__handle_insert(&a, &objects[0], &h));
    CHECK_STATUS(cordon__handle_lookup(&b, h, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_lookup(&a, UINT64_MAX, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_lookup(&a, h + 5, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_lookup(&a, h ^ (1ull << 30), &o), CORDON_STALE);
}

TEST(handle_zero_is_stale_for_lookup_claim_and_remove) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(7);
    uint64_t h = 0;
    CHECK_OK(cordon__handle_insert(&t, &objects[0], &h)); /* a live object in the table */
    void *o = &objects[3];
    CHECK_STATUS(cordon__handle_lookup(&t, 0, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_claim(&t, 0, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_remove(&t, 0, &o), CORDON_STALE);
    CHECK(o == &objects[3]);
    CHECK_OK(cordon__handle_lookup(&t, h, &o)); /* untouched by the refused calls */
    CHECK(o == &objects[0]);
}

TEST(handle_zero_is_stale_even_in_an_empty_table) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(8);
    void *o = NULL;
    CHECK_STATUS(cordon__handle_lookup(&t, 0, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_claim(&t, 0, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_remove(&t, 0, &o), CORDON_STALE);
}

TEST(null_table_or_output_is_invalid_argument) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(7);
    uint64_t h = 0;
    void *o = NULL;
    CHECK_OK(cordon__handle_insert(&t, &objects[1], &h));
    CHECK_STATUS(cordon__handle_lookup(NULL, h, &o), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__handle_lookup(&t, h, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__handle_lookup(&t, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__handle_claim(NULL, h, &o), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__handle_claim(&t, h, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__handle_remove(&t, h, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon__handle_lookup(&t, h, &o)); /* still live */
}

TEST(many_handles_span_several_blocks) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(9);
    static uint64_t hs[3000];
    for (int i = 0; i < 3000; i++) {
        CHECK_OK(cordon__handle_insert(&t, &objects[i % 4], &hs[i]));
    }
    for (int i = 0; i < 3000; i += 2) {
        void *o = NULL;
        CHECK_OK(cordon__handle_remove(&t, hs[i], &o));
        CHECK(o == &objects[i % 4]);
    }
    for (int i = 0; i < 3000; i++) {
        void *o = NULL;
        CHECK_STATUS(cordon__handle_lookup(&t, hs[i], &o), (i % 2) ? CORDON_OK : CORDON_STALE);
    }
}

TEST(block_allocation_failure_is_reported_and_harmless) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(5);
    uint64_t h = 77;
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon__handle_insert(&t, &objects[0], &h), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(h, 77);
    cordon__fault_stop();
    CHECK_OK(cordon__handle_insert(&t, &objects[0], &h));
}

static cordon__handle_table shared_table = CORDON__HANDLE_TABLE_INIT(11);

static void *churn(void *arg) {
    for (int i = 0; i < 2000; i++) {
        uint64_t h = 0;
        void *o = NULL;
        if (cordon__handle_insert(&shared_table, arg, &h) != CORDON_OK) return NULL;
        if (cordon__handle_lookup(&shared_table, h, &o) != CORDON_OK || o != arg) return NULL;
        if (cordon__handle_remove(&shared_table, h, &o) != CORDON_OK || o != arg) return NULL;
        if (cordon__handle_lookup(&shared_table, h, &o) != CORDON_STALE) return NULL;
    }
    return arg;
}

TEST(concurrent_insert_lookup_remove_keep_handles_distinct) {
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&th[i], NULL, churn, &objects[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        CHECK(pthread_join(th[i], &r) == 0);
        CHECK(r == &objects[i]);
    }
}

TEST(claimed_handle_is_stale_until_unclaimed) {
    static cordon__handle_table t = CORDON__HANDLE_TABLE_INIT(13);
    uint64_t h = 0;
    void *o = NULL;
    CHECK_OK(cordon__handle_insert(&t, &objects[2], &h));
    CHECK_OK(cordon__handle_claim(&t, h, &o));
    CHECK(o == &objects[2]);
    CHECK_STATUS(cordon__handle_lookup(&t, h, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_claim(&t, h, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_remove(&t, h, &o), CORDON_STALE);
    cordon__handle_unclaim(&t, h);
    o = NULL;
    CHECK_OK(cordon__handle_lookup(&t, h, &o));
    CHECK(o == &objects[2]);
    CHECK_OK(cordon__handle_claim(&t, h, &o));
    cordon__handle_finish(&t, h);
    CHECK_STATUS(cordon__handle_lookup(&t, h, &o), CORDON_STALE);
    CHECK_STATUS(cordon__handle_claim(&t, h, &o), CORDON_STALE);
}

static cordon__handle_table race_table = CORDON__HANDLE_TABLE_INIT(14);
static uint64_t race_handle;
static atomic_int race_go;

static void *race_claim(void *arg) {
    (void)arg;
    while (!atomic_load(&race_go)) {
    }
    void *o = NULL;
    return (void *)(intptr_t)(cordon__handle_claim(&race_table, race_handle, &o) == CORDON_OK);
}

TEST(of_two_racing_claims_exactly_one_wins) {
    for (int round = 0; round < 200; round++) {
        CHECK_OK(cordon__handle_insert(&race_table, &objects[3], &race_handle));
        atomic_store(&race_go, 0);
        pthread_t a, b;
        CHECK(pthread_create(&a, NULL, race_claim, NULL) == 0);
        CHECK(pthread_create(&b, NULL, race_claim, NULL) == 0);
        atomic_store(&race_go, 1);
        void *ra = NULL, *rb = NULL;
        CHECK(pthread_join(a, &ra) == 0);
        CHECK(pthread_join(b, &rb) == 0);
        CHECK_EQ_I64((intptr_t)ra + (intptr_t)rb, 1);
        cordon__handle_finish(&race_table, race_handle);
    }
}
