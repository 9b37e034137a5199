/* SPDX-License-Identifier: Apache-2.0 */
/* Compute devices and tensors: lifetimes, views, storage reuse, racing destroys, injected OS failures,
 * and the thread count during a BLAS call. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"
#include "sys/sys.h"

static cordon_device make_device(unsigned threads) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.threads = threads;
    o.storage_bytes = UINT64_C(1) << 30;
    cordon_device d;
    CHECK_OK(cordon_device_create(&o, &d));
    return d;
}

static cordon_tensor make2(cordon_device d, uint64_t r, uint64_t c) {
    uint64_t shape[2] = {r, c};
    cordon_tensor t;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, shape, &t));
    return t;
}

TEST(default_device_is_the_cpu_with_every_usable_cpu) {
    cordon_device d;
    CHECK_OK(cordon_device_create(NULL, &d));
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    cordon_system_info sys;
    CHECK_OK(cordon_system_info_get(&sys));
    CHECK(strcmp(info.kind, "cpu") == 0);
    CHECK_EQ_U64(info.threads, sys.cpu_count_usable);
    CHECK(info.isa != CORDON_ISA_AUTO);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(device_options_are_validated_before_anything_is_created) {
    cordon_device d = {77};
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.name = "tpu";
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_INVALID_ARGUMENT);
    o.name = "cpu:0";
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_INVALID_ARGUMENT); /* the CPU takes no detail */
    /* A kind cordon knows that this build or machine lacks is BACKEND_UNAVAILABLE, not INVALID. */
    cordon_device_kind kinds[8];
    size_t nkinds = 0;
    CHECK_OK(cordon_device_kinds(kinds, 8, &nkinds));
    for (size_t k = 0; k < nkinds && k < 8; k++) {
        if (strcmp(kinds[k].description, "not built in") == 0) {
            o.name = kinds[k].name;
            CHECK_STATUS(cordon_device_create(&o, &d), CORDON_BACKEND_UNAVAILABLE);
        }
    }
    o.name = NULL;
    o.threads = 5000;
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_INVALID_ARGUMENT);
    o.threads = 1;
    o.isa = (cordon_isa)99;
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_INVALID_ARGUMENT);
    o.isa = CORDON_ISA_AUTO;
    o.storage_bytes = 4096;
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_INVALID_ARGUMENT);
    o.storage_bytes = 0;
    o.deterministic = true;
    o.matmul = CORDON_MATMUL_BLAS;
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_device_create(NULL, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(d.handle, 77); /* untouched by every refusal */
}

TEST(an_instruction_set_the_processor_lacks_is_unsupported_not_sigill) {
    uint32_t f = cordon__sys_cpu_features();
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.threads = 1;
    cordon_isa missing = (f & CORDON__CPU_NEON) == 0 ? CORDON_ISA_NEON : CORDON_ISA_AVX512;
    if (missing == CORDON_ISA_AVX512 && (f & CORDON__CPU_AVX512) != 0) {
        SKIP("this processor has every instruction-set level");
    }
    o.isa = missing;
    cordon_device d;
    CHECK_STATUS(cordon_device_create(&o, &d), CORDON_UNSUPPORTED);
}

TEST(cordon_isa_environment_variable_caps_the_automatic_level) {
    setenv("CORDON_ISA", "scalar", 1);
    cordon_device d = make_device(1);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.isa, CORDON_ISA_SCALAR);
    CHECK(strcmp(info.isa_name, "scalar") == 0);
    CHECK_OK(cordon_device_destroy(d));
    unsetenv("CORDON_ISA");
}

TEST(device_kinds_list_the_cpu_as_available) {
    size_t n = 0;
    CHECK_OK(cordon_device_kinds(NULL, 0, &n));
    CHECK(n >= 1);
    cordon_device_kind kinds[8];
    CHECK_OK(cordon_device_kinds(kinds, 8, &n));
    CHECK(strcmp(kinds[0].name, "cpu") == 0 && kinds[0].available);
    CHECK_STATUS(cordon_device_kinds(NULL, 1, &n), CORDON_INVALID_ARGUMENT);
}

TEST(new_tensor_is_zero_and_round_trips_its_bytes) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 3, 5);
    float buf[15], back[15];
    CHECK_OK(cordon_tensor_read(t, buf, sizeof buf));
    for (int i = 0; i < 15; i++) {
        CHECK(buf[i] == 0.0f);
        buf[i] = (float)i * 0.5f - 3.0f;
    }
    CHECK_OK(cordon_tensor_write(t, buf, sizeof buf));
    CHECK_OK(cordon_tensor_read(t, back, sizeof back));
    CHECK(memcmp(buf, back, sizeof buf) == 0);
    CHECK_STATUS(cordon_tensor_read(t, back, sizeof back - 4), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_write(t, NULL, sizeof buf), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(a_reused_block_reads_as_zero_in_a_new_tensor) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 64, 64);
    static float buf[64 * 64];
    for (int i = 0; i < 64 * 64; i++) {
        buf[i] = 1.0f;
    }
    CHECK_OK(cordon_tensor_write(t, buf, sizeof buf));
    CHECK_OK(cordon_tensor_destroy(t));
    cordon_tensor u = make2(d, 64, 64); /* same size class: the same block */
    CHECK_OK(cordon_tensor_read(u, buf, sizeof buf));
    for (int i = 0; i < 64 * 64; i++) {
        CHECK(buf[i] == 0.0f);
    }
    CHECK_OK(cordon_device_destroy(d));
}

TEST(create_refuses_bad_shapes_and_dtypes) {
    cordon_device d = make_device(1);
    cordon_tensor t = {5};
    uint64_t zero[2] = {3, 0}, big[4] = {UINT64_C(1) << 31, UINT64_C(1) << 31, 4, 4}, ok[2] = {2, 2};
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, zero, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 0, ok, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 5, big, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 4, big, &t), CORDON_OVERFLOW);
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F16, 2, ok, &t), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon_tensor_create(d, (cordon_dtype)9, 2, ok, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, NULL, &t), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(t.handle, 5);
    uint64_t huge[2] = {UINT64_C(1) << 20, UINT64_C(1) << 20}; /* 4 TiB: more than the 1 GiB storage */
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, huge, &t), CORDON_OUT_OF_MEMORY);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(destroyed_or_garbage_handles_are_stale) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 2, 2);
    CHECK_OK(cordon_tensor_destroy(t));
    float f[4];
    cordon_tensor_info info;
    CHECK_STATUS(cordon_tensor_destroy(t), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_read(t, f, sizeof f), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_info_get(t, &info), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_info_get(CORDON_TENSOR_NONE, &info), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_info_get((cordon_tensor){0x123456789abcdefULL}, &info), CORDON_STALE);
    /* A device handle is not a tensor handle. */
    CHECK_STATUS(cordon_tensor_info_get((cordon_tensor){d.handle}, &info), CORDON_STALE);
    CHECK_OK(cordon_device_destroy(d));
    CHECK_STATUS(cordon_device_destroy(d), CORDON_STALE);
    CHECK_STATUS(cordon_device_sync(d), CORDON_STALE);
    uint64_t s[1] = {4};
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, s, &t), CORDON_STALE);
    CHECK_STATUS(cordon_device_destroy((cordon_device){0}), CORDON_STALE);
}

TEST(destroying_a_device_makes_its_tensors_stale_and_frees_them) {
    cordon_device d = make_device(2);
    cordon_tensor a = make2(d, 8, 8), b = make2(d, 8, 8), v;
    CHECK_OK(cordon_tensor_transpose(a, 0, 1, &v));
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 3);
    CHECK_OK(cordon_device_destroy(d));
    float f[64];
    CHECK_STATUS(cordon_tensor_read(a, f, sizeof f), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_read(v, f, sizeof f), CORDON_STALE);
    CHECK_STATUS(cordon_tensor_destroy(b), CORDON_STALE);
}

TEST(views_share_storage_and_outlive_their_parent) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 3, 4);
    float src[12];
    for (int i = 0; i < 12; i++) {
        src[i] = (float)i;
    }
    CHECK_OK(cordon_tensor_write(t, src, sizeof src));
    cordon_tensor tr, sl;
    CHECK_OK(cordon_tensor_transpose(t, 0, 1, &tr));
    CHECK_OK(cordon_tensor_slice(t, 1, 1, 2, &sl));
    CHECK_OK(cordon_tensor_destroy(t)); /* the views keep the storage */
    float trb[12], slb[6];
    CHECK_OK(cordon_tensor_read(tr, trb, sizeof trb));
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++) {
            CHECK(trb[i * 3 + j] == src[j * 4 + i]);
        }
    }
    CHECK_OK(cordon_tensor_read(sl, slb, sizeof slb));
    for (int i = 0; i < 3; i++) {
        CHECK(slb[i * 2] == src[i * 4 + 1] && slb[i * 2 + 1] == src[i * 4 + 2]);
    }
    /* Writing through the slice is seen through the transpose. */
    float ones[6] = {1, 1, 1, 1, 1, 1};
    CHECK_OK(cordon_tensor_write(sl, ones, sizeof ones));
    CHECK_OK(cordon_tensor_read(tr, trb, sizeof trb));
    CHECK(trb[1 * 3 + 0] == 1.0f && trb[0] == 0.0f);
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(tr, &info));
    CHECK(!info.contiguous && info.shape[0] == 4 && info.strides[0] == 1 && info.strides[1] == 4);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(views_outside_the_storage_are_out_of_bounds) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 4, 4), v = {9};
    uint64_t shape[2] = {4, 4}, strides[2] = {4, 1}, wide[2] = {5, 1}, huge[2] = {UINT64_MAX / 2, 1};
    CHECK_OK(cordon_tensor_view(t, 2, shape, strides, 0, &v));
    CHECK_OK(cordon_tensor_destroy(v));
    v.handle = 9;
    CHECK_STATUS(cordon_tensor_view(t, 2, shape, strides, 1, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_tensor_view(t, 2, shape, wide, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_tensor_view(t, 2, shape, huge, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_tensor_view(t, 2, shape, strides, UINT64_MAX, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_tensor_slice(t, 0, 3, 2, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_tensor_slice(t, 2, 0, 1, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_tensor_transpose(t, 0, 2, &v), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(v.handle, 9);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(broadcast_views_can_be_read_but_not_written) {
    cordon_device d = make_device(1);
    uint64_t s1[1] = {3};
    cordon_tensor row;
    CHECK_OK(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, s1, &row));
    float r[3] = {1, 2, 3};
    CHECK_OK(cordon_tensor_write(row, r, sizeof r));
    uint64_t shape[2] = {4, 3}, strides[2] = {0, 1};
    cordon_tensor b;
    CHECK_OK(cordon_tensor_view(row, 2, shape, strides, 0, &b));
    float out[12];
    CHECK_OK(cordon_tensor_read(b, out, sizeof out));
    CHECK(out[9] == 1.0f && out[11] == 3.0f);
    CHECK_STATUS(cordon_tensor_write(b, out, sizeof out), CORDON_INVALID_ARGUMENT);
    cordon_tensor full = make2(d, 4, 3);
    CHECK_STATUS(cordon_tensor_copy(b, full), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_tensor_copy(full, b));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(reshape_needs_a_contiguous_tensor_and_the_same_count) {
    cordon_device d = make_device(1);
    cordon_tensor t = make2(d, 4, 6), r, tr;
    uint64_t s3[3] = {2, 3, 4}, bad[2] = {5, 5};
    CHECK_OK(cordon_tensor_reshape(t, 3, s3, &r));
    CHECK_STATUS(cordon_tensor_reshape(t, 2, bad, &r), CORDON_SHAPE_MISMATCH);
    CHECK_OK(cordon_tensor_transpose(t, 0, 1, &tr));
    CHECK_STATUS(cordon_tensor_reshape(tr, 3, s3, &r), CORDON_WRONG_STATE);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(copy_moves_strided_data_across_devices) {
    cordon_device d1 = make_device(1), d2 = make_device(2);
    cordon_tensor a = make2(d1, 5, 7), b = make2(d2, 7, 5), at;
    float src[35], back[35];
    for (int i = 0; i < 35; i++) {
        src[i] = (float)(i * 3 % 11);
    }
    CHECK_OK(cordon_tensor_write(a, src, sizeof src));
    CHECK_OK(cordon_tensor_transpose(a, 0, 1, &at));
    CHECK_OK(cordon_tensor_copy(b, at));
    CHECK_OK(cordon_tensor_read(b, back, sizeof back));
    for (int i = 0; i < 7; i++) {
        for (int j = 0; j < 5; j++) {
            CHECK(back[i * 5 + j] == src[j * 7 + i]);
        }
    }
    CHECK_STATUS(cordon_tensor_copy(b, a), CORDON_SHAPE_MISMATCH);
    CHECK_STATUS(cordon_tensor_copy(a, at), CORDON_SHAPE_MISMATCH);
    cordon_tensor sl;
    CHECK_OK(cordon_tensor_slice(a, 1, 0, 5, &sl));
    cordon_tensor a2 = make2(d1, 5, 5);
    CHECK_OK(cordon_tensor_copy(a2, sl));
    cordon_tensor sl2;
    CHECK_OK(cordon_tensor_slice(a, 1, 1, 5, &sl2));
    CHECK_STATUS(cordon_tensor_copy(sl2, sl), CORDON_INVALID_ARGUMENT); /* overlapping */
    CHECK_OK(cordon_device_destroy(d1));
    CHECK_OK(cordon_device_destroy(d2));
}

TEST(storage_is_reused_so_a_steady_workload_commits_nothing_new) {
    cordon_device d = make_device(1);
    for (int i = 0; i < 3; i++) {
        cordon_tensor t = make2(d, 256, 1000);
        CHECK_OK(cordon_tensor_destroy(t));
    }
    cordon_device_info before, after;
    CHECK_OK(cordon_device_info_get(d, &before));
    for (int i = 0; i < 1000; i++) {
        cordon_tensor t = make2(d, 256, 1000 - (uint64_t)(i % 50)); /* sizes within one size class */
        CHECK_OK(cordon_tensor_destroy(t));
    }
    CHECK_OK(cordon_device_info_get(d, &after));
    CHECK_EQ_U64(after.storage_committed_bytes, before.storage_committed_bytes);
    CHECK_EQ_U64(after.storage_in_use_bytes, 0);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(a_thousand_device_lifecycles_leave_nothing_behind) {
    /* Under valgrind and LeakSanitizer this fails on any leak; everywhere it checks the counts. Under
     * qemu-user each device costs ~30 ms (it keeps state per guest page of the arena's reservation). */
    for (int i = 0, n = cordon_test_emulator() != NULL ? 100 : 1000; i < n; i++) {
        cordon_device d = make_device(i % 3 == 0 ? 2 : 1);
        cordon_tensor a = make2(d, 4, 8), b = make2(d, 8, 3), c = make2(d, 4, 3), v;
        CHECK_OK(cordon_tensor_transpose(b, 0, 1, &v));
        CHECK_OK(cordon_matmul(c, a, b, NULL));
        CHECK_OK(cordon_softmax(c, c, NULL));
        if (i % 2 == 0) {
            CHECK_OK(cordon_tensor_destroy(a));
        }
        CHECK_OK(cordon_device_destroy(d));
    }
}

TEST(injected_storage_failures_are_statuses_and_leak_nothing) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled in");
    }
    cordon__sys_call calls[3] = {CORDON__CALL_MMAP, CORDON__CALL_MPROTECT, CORDON__CALL_MALLOC};
    for (int c = 0; c < 3; c++) {
        for (uint64_t nth = 1; nth <= 6; nth++) {
            cordon__fault_reset();
            CHECK_OK(cordon__fault_arm(calls[c], nth, 1, 12 /* ENOMEM */));
            cordon_device_options o;
            cordon_device_options_init(&o);
            o.threads = 1;
            o.storage_bytes = UINT64_C(1) << 30;
            cordon_device d;
            cordon_status st = cordon_device_create(&o, &d);
            if (st == CORDON_OK) {
                uint64_t shape[2] = {600, 1000}; /* more than the first 2 MiB commit */
                cordon_tensor t;
                st = cordon_tensor_create(d, CORDON_DTYPE_F32, 2, shape, &t);
                CHECK_MSG(st == CORDON_OK || st == CORDON_OUT_OF_MEMORY, "create: %s", cordon_status_name(st));
                cordon__fault_stop();
                CHECK_OK(cordon_device_destroy(d));
            } else {
                CHECK_MSG(st == CORDON_OUT_OF_MEMORY, "device create: %s", cordon_status_name(st));
            }
            cordon__fault_stop();
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Racing destroys */

typedef struct race {
    cordon_tensor c, a, b;
    atomic_int stop;
    atomic_long ok, stale, other;
} race;

static void *hammer(void *p) {
    race *r = p;
    while (!atomic_load(&r->stop)) {
        cordon_status st = cordon_matmul(r->c, r->a, r->b, NULL);
        if (st == CORDON_OK) {
            st = cordon_softmax(r->c, r->c, NULL);
        }
        if (st == CORDON_OK) {
            atomic_fetch_add(&r->ok, 1);
        } else if (st == CORDON_STALE) {
            atomic_fetch_add(&r->stale, 1);
        } else {
            atomic_fetch_add(&r->other, 1);
        }
    }
    return NULL;
}

TEST(tensors_destroyed_while_another_thread_runs_ops_on_them_give_ok_or_stale) {
    for (int round = 0; round < 40; round++) {
        cordon_device d = make_device(1);
        race r = {0};
        r.a = make2(d, 32, 64);
        r.b = make2(d, 64, 48);
        r.c = make2(d, 32, 48);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, hammer, &r) == 0);
        for (volatile int spin = 0; spin < 2000 * (round % 5); spin = spin + 1) {
        }
        /* Destroy an input mid-stream; the op either ran on live storage or saw STALE. */
        CHECK_OK(cordon_tensor_destroy(round % 2 ? r.a : r.b));
        cordon_tensor fresh = make2(d, 64, 64); /* likely reuses the freed block */
        for (volatile int spin = 0; spin < 20000; spin = spin + 1) {
        }
        atomic_store(&r.stop, 1);
        CHECK(pthread_join(th, NULL) == 0);
        CHECK_EQ_I64(atomic_load(&r.other), 0);
        CHECK_OK(cordon_tensor_destroy(fresh));
        CHECK_OK(cordon_device_destroy(d));
    }
}

typedef struct device_race {
    cordon_device d;
    cordon_tensor t;
    atomic_long ok, stale, other;
} device_race;

static void *create_many(void *p) {
    device_race *r = p;
    for (int i = 0; i < 2000; i++) {
        uint64_t s[1] = {16};
        cordon_tensor t;
        cordon_status st = cordon_tensor_create(r->d, CORDON_DTYPE_F32, 1, s, &t);
        if (st == CORDON_OK) {
            st = cordon_scale(t, t, 2.0f);
        }
        if (st == CORDON_OK) {
            atomic_fetch_add(&r->ok, 1);
        } else if (st == CORDON_STALE) {
            atomic_fetch_add(&r->stale, 1);
        } else {
            atomic_fetch_add(&r->other, 1);
        }
    }
    return NULL;
}

TEST(a_device_destroyed_on_another_thread_while_tensors_are_created_stays_consistent) {
    for (int round = 0; round < 20; round++) {
        device_race r = {0};
        r.d = make_device(2);
        pthread_t th;
        CHECK(pthread_create(&th, NULL, create_many, &r) == 0);
        for (volatile int spin = 0; spin < 5000 * round; spin = spin + 1) {
        }
        CHECK_OK(cordon_device_destroy(r.d));
        CHECK(pthread_join(th, NULL) == 0);
        CHECK_EQ_I64(atomic_load(&r.other), 0);
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Threads: BLAS inside cordon's tasks never adds threads of its own */

/* Threads of this process that are running or runnable now (state R in /proc/self/task/<tid>/stat):
 * idle threads a library keeps parked do not count, busy ones do. */
static int running_threads(void) {
    DIR *dir = opendir("/proc/self/task");
    if (dir == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue;
        }
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        const char *close_paren = strrchr(buf, ')'); /* the state follows "(comm) " */
        if (close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'R') {
            n++;
        }
    }
    closedir(dir);
    return n;
}

typedef struct counting {
    atomic_int stop;
    atomic_int max_seen;
} counting;

static void *count_threads(void *p) {
    counting *c = p;
    while (!atomic_load(&c->stop)) {
        int n = running_threads();
        int m = atomic_load(&c->max_seen);
        while (n > m && !atomic_compare_exchange_weak(&c->max_seen, &m, n)) {
        }
    }
    return NULL;
}

/* OpenBLAS's own control, when the library is linked (weak: the test builds without BLAS too). */
extern void openblas_set_num_threads(int n) __attribute__((weak));

#if defined(__SANITIZE_THREAD__)
#  define UNDER_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define UNDER_TSAN 1
#  endif
#endif

TEST(blas_matmul_never_runs_more_threads_than_the_device_setting) {
#if defined(UNDER_TSAN)
    SKIP("ThreadSanitizer's runtime runs a thread of its own, so running threads cannot be counted");
#endif
    /* OpenBLAS's pthread build starts its own workers when the library is loaded; they spin for its
     * thread timeout (about 0.1 s here) and then sleep. Wait for that to end (at most 3 s), so that what
     * is counted below is what runs during cordon's calls. */
    for (int i = 0; i < 300 && running_threads() > 1; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.threads = 2;
    o.matmul = CORDON_MATMUL_BLAS;
    cordon_device d;
    cordon_status st = cordon_device_create(&o, &d);
    if (st == CORDON_BACKEND_UNAVAILABLE) {
#if defined(_WIN32)
        SKIP("built without BLAS (the windows preset sets CORDON_BLAS=OFF: Debian has no OpenBLAS for MinGW-w64)");
#endif
        SKIP("built without BLAS");
    }
    CHECK_OK(st);
    counting c = {0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, count_threads, &c) == 0);
    cordon_tensor a = make2(d, 384, 384), b = make2(d, 384, 384), out = make2(d, 384, 384);
    for (int i = 0; i < 20; i++) {
        CHECK_OK(cordon_matmul(out, a, b, NULL));
    }
    /* A host that raises OpenBLAS's own count afterwards does not make BLAS start threads inside
     * cordon's tasks: the device sets it back before each product. */
    if (openblas_set_num_threads != NULL) {
        openblas_set_num_threads(2);
    }
    for (int i = 0; i < 20; i++) {
        CHECK_OK(cordon_matmul(out, a, b, NULL));
    }
    atomic_store(&c.stop, 1);
    CHECK(pthread_join(th, NULL) == 0);
    /* The device's 2 threads (this one and its worker) plus the counting thread. */
    CHECK_MSG(atomic_load(&c.max_seen) <= 3, "running threads seen: %d", atomic_load(&c.max_seen));
    CHECK_MSG(atomic_load(&c.max_seen) >= 2, "the counter never saw this thread run: %d", atomic_load(&c.max_seen));
    CHECK_OK(cordon_device_destroy(d));
}
