/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenCL device kind: selection, transfers, every operation against the f64 references of
 * compute_ref.h under the tolerances ops.h documents (the same checkers the CPU tests use, over the
 * property-test shapes and the reduction widths around the work-group size), the CPU device beside it,
 * the semantics of issue 14, asynchronous queues, the program cache under concurrent first use, destroy
 * on another thread, reference counts (acquire/release per cl object type balanced, no context left
 * referenced) and fault injection on every cl* and CLBlast call.
 *
 * Every test needs an OpenCL device: without one (no ICD, no PoCL) each SKIPs, naming why. Under
 * valgrind they run with every kernel already compiled (test_compute_opencl.cmake: a setup test runs
 * them natively first, filling PoCL's on-disk cache), and the two longest loops take fewer rounds
 * (cordon_test_slow: 200 of the 1000 create/run/destroy iterations, 2 of the up to 12 failure
 * positions per faulted call). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "compute_check.h"
#include "probe.h"
#include "sys/fault.h"
#include "sys/sys.h"

static const ct_cfg OCL_CFG = {CORDON_ISA_AUTO, 1, CORDON_MATMUL_BLAS, false};

static cordon_status ocl_create(const char *name, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.name = name;
    return cordon_device_create(&o, out);
}

/* The OpenCL device, or SKIP naming why there is none. */
static cordon_device ocl_device(void) {
    cordon_device d = {0};
    cordon_status st = ocl_create("opencl", &d);
    if (st == CORDON_BACKEND_UNAVAILABLE) {
        /* The device kind's own description says which: not built in, or no platform/device found. */
        static char reason[320];
        cordon_device_kind kinds[8];
        size_t n = 0;
        const char *why = "unknown";
        if (cordon_device_kinds(kinds, 8, &n) == CORDON_OK) {
            for (size_t i = 0; i < n && i < 8; i++) {
                if (strcmp(kinds[i].name, "opencl") == 0) {
                    why = kinds[i].description;
                }
            }
        }
        snprintf(reason, sizeof reason, "no OpenCL device (the opencl device kind says: %s)%s", why,
#if defined(_WIN32)
                 ": the windows preset builds with CORDON_OPENCL=OFF (no CLBlast for MinGW-w64 in Debian)"
#else
                 ": build with OpenCL and CLBlast, and install an ICD (pocl-opencl-icd)"
#endif
        );
        SKIP(reason);
    }
    CHECK_OK(st);
    return d;
}

static void counts(cordon__sys_cl_counters *c) {
    cordon__sys_cl_counts(c);
}

static void check_balanced(const char *when) {
    cordon__sys_cl_counters c;
    counts(&c);
    static const char *const names[] = {"context", "queue", "buffer", "program", "kernel"};
    for (int i = 0; i < CORDON__CL_OBJECT_TYPES; i++) {
        CHECK_MSG(c.acquired[i] == c.released[i], "%s: %s acquired %" PRIu64 " released %" PRIu64, when, names[i],
                  c.acquired[i], c.released[i]);
    }
    CHECK_MSG(c.contexts_still_referenced == 0, "%s: %" PRIu64 " contexts still referenced at release", when,
              c.contexts_still_referenced);
    CHECK_EQ_U64(c.release_failures, 0);
}

/* ------------------------------------------------------------------------------------------------
 * The kind and its selection */

TEST(opencl_kind_is_listed_available_with_its_device) {
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    cordon_device_kind kinds[8];
    size_t n = 0;
    CHECK_OK(cordon_device_kinds(kinds, 8, &n));
    bool found = false;
    for (size_t i = 0; i < n && i < 8; i++) {
        if (strcmp(kinds[i].name, "opencl") == 0) {
            found = true;
            CHECK(kinds[i].available);
            CHECK(strstr(kinds[i].description, "CLBlast") != NULL);
        }
    }
    CHECK(found);
}

TEST(devices_are_selected_by_index_and_by_name) {
    cordon_device d = ocl_device();
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK(strcmp(info.kind, "opencl") == 0);
    CHECK_OK(cordon_device_destroy(d));
    CHECK_OK(ocl_create("opencl:0:0", &d));
    CHECK_OK(cordon_device_destroy(d));
    cordon__sys_cl_device_desc list[4];
    size_t n = 0;
    CHECK_OK(cordon__sys_cl_devices(list, 4, &n));
    CHECK(n >= 1);
    char name[120];
    snprintf(name, sizeof name, "opencl:%.6s", list[0].name);
    CHECK_OK(ocl_create(name, &d));
    CHECK_OK(cordon_device_destroy(d));
    CHECK_STATUS(ocl_create("opencl:99:0", &d), CORDON_BACKEND_UNAVAILABLE);
    CHECK_STATUS(ocl_create("opencl:no device has this name", &d), CORDON_BACKEND_UNAVAILABLE);
    CHECK_STATUS(ocl_create("opencl:", &d), CORDON_INVALID_ARGUMENT);
    check_balanced("after selection");
}

/* ------------------------------------------------------------------------------------------------
 * Transfers */

TEST(tensors_round_trip_through_views_and_between_devices) {
    cordon_device d = ocl_device(), cpu = ct_device((ct_cfg){CORDON_ISA_AUTO, 1, CORDON_MATMUL_BUILTIN, false});
    ct_rng r = {11};
    uint64_t sh[3] = {3, 17, 29};
    float *data = ct_falloc(3 * 17 * 29);
    ct_fill(&r, data, 3 * 17 * 29, -5, 5);
    for (int layout = 0; layout < CT_LAYOUTS; layout++) {
        ct_view v = ct_view_make(d, 3, sh, (ct_layout)layout, data);
        float *got = ct_read(v.t);
        CHECK(memcmp(got, data, sizeof(float) * 3 * 17 * 29) == 0);
        ct_view_check_outside(&v, "upload");
        /* to the CPU and back */
        cordon_tensor c = ct_tensor(cpu, 3, sh, NULL), back = ct_tensor(d, 3, sh, NULL);
        CHECK_OK(cordon_tensor_copy(c, v.t));
        CHECK_OK(cordon_tensor_copy(back, c));
        float *got2 = ct_read(back);
        CHECK(memcmp(got2, data, sizeof(float) * 3 * 17 * 29) == 0);
        /* on the device, view to view */
        ct_view w = ct_view_make(d, 3, sh, (ct_layout)((layout + 1) % CT_LAYOUTS), NULL);
        CHECK_OK(cordon_tensor_copy(w.t, v.t));
        float *got3 = ct_read(w.t);
        CHECK(memcmp(got3, data, sizeof(float) * 3 * 17 * 29) == 0);
        ct_view_check_outside(&w, "copy");
        free(got), free(got2), free(got3);
        ct_destroy(c), ct_destroy(back);
        ct_view_free(&v), ct_view_free(&w);
    }
    free(data);
    CHECK_OK(cordon_device_destroy(cpu));
    CHECK_OK(cordon_device_destroy(d));
}

TEST(new_tensors_read_as_zero_even_on_reused_buffers) {
    cordon_device d = ocl_device();
    float ones[1000];
    for (int i = 0; i < 1000; i++) ones[i] = 1.0f;
    for (int round = 0; round < 5; round++) {
        cordon_tensor t = ct_t1(d, 1000, NULL);
        float *got = ct_read(t);
        for (int i = 0; i < 1000; i++) CHECK(got[i] == 0.0f);
        free(got);
        ct_write(t, ones);
        ct_destroy(t);
    }
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * Every operation against the references, over property-test shapes */

static const uint64_t edge[] = {1, 2, 3, 5, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 999};
#define EDGES (sizeof edge / sizeof edge[0])

static uint64_t pick(ct_rng *r) {
    return ct_range(r, 0, 2) == 0 ? ct_range(r, 1, 700) : edge[ct_range(r, 0, EDGES - 1)];
}

static void shrink(ct_rng *r, uint64_t *d, unsigned n, uint64_t budget) {
    for (;;) {
        uint64_t p = 1;
        unsigned big = 0;
        for (unsigned i = 0; i < n; i++) {
            p *= d[i];
            if (d[i] > d[big]) big = i;
        }
        if (p <= budget || d[big] == 1) return;
        d[big] = ct_range(r, 1, d[big] / 2 > 0 ? d[big] / 2 : 1);
    }
}

static unsigned cases(unsigned base) {
    return ct_large() ? base * 10 : base;
}

TEST(matmul_matches_the_reference_over_shapes_flags_views_and_batches) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (unsigned n = 0; n < cases(24); n++) {
        mm_case c = {0};
        uint64_t dm[3] = {pick(&r), pick(&r), pick(&r)};
        if (n % 4 == 0) dm[0] = 1; /* gemv */
        shrink(&r, dm, 3, 200000);
        c.M = dm[0], c.N = dm[1], c.K = dm[2];
        c.ta = ct_range(&r, 0, 1), c.tb = ct_range(&r, 0, 1);
        static const float alphas[] = {1, -0.5f, 2, 0}, betas[] = {0, 1, 0.5f, -2};
        c.alpha = alphas[ct_range(&r, 0, 3)];
        c.beta = betas[ct_range(&r, 0, 3)];
        c.la = ct_pick_layout(&r), c.lb = ct_pick_layout(&r), c.lc = ct_pick_layout(&r);
        if (ct_range(&r, 0, 2) == 0 && c.M * c.N * c.K * 6 <= 200000) {
            c.nbatch = (unsigned)ct_range(&r, 1, 2);
            for (unsigned i = 0; i < c.nbatch; i++) {
                uint64_t e = ct_range(&r, 1, 3);
                c.ab[i] = ct_range(&r, 0, 1) ? e : 1;
                c.bb[i] = ct_range(&r, 0, 1) ? e : 1;
                c.cb[i] = c.ab[i] > c.bb[i] ? c.ab[i] : c.bb[i];
            }
        }
        check_matmul(d, OCL_CFG, &r, &c);
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(softmax_matches_the_reference_at_every_width_around_the_work_group) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (size_t w = 0; w < EDGES; w++) {
        uint64_t rows = ct_range(&r, 1, 9);
        sm_case c = {.ndim = 2, .shape = {1, 1, rows, edge[w]}, .scale = (float)ct_uniform(&r, 0.05, 3)};
        c.causal = ct_range(&r, 0, 1);
        c.lo = -ct_uniform(&r, 1, 40), c.hi = -c.lo;
        c.lx = ct_pick_layout(&r), c.ly = ct_pick_layout(&r);
        c.in_place = c.lx == c.ly && ct_range(&r, 0, 1);
        uint64_t m = ct_range(&r, 0, 2);
        if (m != 0) {
            c.mndim = m == 1 ? 1 : 2;
            c.mshape[0] = c.mshape[1] = 1;
            c.mshape[2] = m == 1 ? 1 : rows;
            c.mshape[3] = edge[w];
        }
        check_softmax(d, OCL_CFG, &r, &c);
        check_softmax_bwd(d, OCL_CFG, &r, rows, edge[w], (float)ct_uniform(&r, 0.1, 2), ct_range(&r, 0, 1),
                          ct_pick_layout(&r));
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(norms_forward_and_backward_match_the_reference_at_every_width) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (size_t w = 0; w < EDGES; w++) {
        uint64_t rows = ct_range(&r, 1, 70), n = edge[w];
        float eps = ct_range(&r, 0, 1) ? 1e-5f : 0.0f;
        ct_layout lx = ct_pick_layout(&r), ly = ct_pick_layout(&r);
        check_rms_norm(d, OCL_CFG, &r, rows, n, eps, false, lx, ly);
        check_rms_norm_bwd(d, OCL_CFG, &r, rows, n, eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1), lx);
        check_layer_norm(d, OCL_CFG, &r, rows, n, eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1),
                         lx == ly && ct_range(&r, 0, 1), lx, ly, ct_uniform(&r, -100, 100));
        check_layer_norm_bwd(d, OCL_CFG, &r, rows, n, eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1), ct_range(&r, 0, 1),
                             ct_range(&r, 0, 1), ly);
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(attention_forward_and_backward_match_the_reference) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (unsigned n = 0; n < cases(10); n++) {
        at_case c = {0};
        uint64_t hkv = ct_range(&r, 1, 3);
        c.s.B = ct_range(&r, 1, 2);
        c.s.Hkv = hkv;
        c.s.Hq = hkv * ct_range(&r, 1, 3);
        uint64_t dm[4] = {pick(&r), pick(&r), pick(&r), pick(&r)};
        shrink(&r, dm, 4, 6000 / (c.s.B * c.s.Hq));
        c.s.Tq = dm[0], c.s.Tk = dm[1], c.s.D = dm[2], c.s.Dv = dm[3];
        c.causal = ct_range(&r, 0, 1);
        c.mask = (int)ct_range(&r, 0, 2);
        c.mask_inf = ct_uniform(&r, 0, 0.5);
        c.lq = ct_pick_layout(&r), c.lk = ct_pick_layout(&r), c.lv = ct_pick_layout(&r), c.lo = ct_pick_layout(&r);
        c.scale = ct_range(&r, 0, 1) ? 0.0f : (float)ct_uniform(&r, 0.05, 1);
        check_attention(d, OCL_CFG, &r, &c);
        check_attention_bwd(d, OCL_CFG, &r, &c);
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(lora_forward_and_backward_match_the_reference) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (unsigned n = 0; n < cases(8); n++) {
        lora_case c = {0};
        c.xndim = (unsigned)ct_range(&r, 1, 3);
        uint64_t dm[3] = {pick(&r), pick(&r), pick(&r)};
        shrink(&r, dm, 3, 100000);
        c.lead[0] = dm[0];
        if (c.xndim == 3) c.lead[1] = ct_range(&r, 1, 3);
        c.in = dm[1], c.out = dm[2], c.r = ct_range(&r, 1, 16);
        c.bias = ct_range(&r, 0, 1);
        c.scaling = ct_range(&r, 0, 1) ? CORDON_LORA_SCALE_STANDARD : CORDON_LORA_SCALE_RSLORA;
        c.alpha = (float)ct_uniform(&r, 0.5, 32);
        c.lx = ct_pick_layout(&r), c.lw = ct_pick_layout(&r), c.la = ct_pick_layout(&r);
        c.lb = ct_pick_layout(&r), c.ly = ct_pick_layout(&r);
        check_lora(d, OCL_CFG, &r, &c);
        check_lora_bwd(d, OCL_CFG, &r, &c, ct_range(&r, 0, 1));
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(elementwise_ops_match_the_reference_with_broadcast_and_views) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (unsigned n = 0; n < cases(3) * EW_OPS; n++) {
        uint64_t dm[3] = {ct_range(&r, 1, 4), pick(&r), pick(&r)};
        shrink(&r, dm, 3, 40000);
        ew_op op = (ew_op)(n % EW_OPS);
        bool broadcast = op == EW_ADD || op == EW_MUL;
        uint64_t ash[3], bsh[3];
        for (int i = 0; i < 3; i++) {
            ash[i] = broadcast && ct_range(&r, 0, 2) == 0 ? 1 : dm[i];
            bsh[i] = broadcast && ct_range(&r, 0, 2) == 0 ? 1 : dm[i];
            dm[i] = ash[i] > bsh[i] ? ash[i] : bsh[i];
        }
        int in_place = 0;
        if (ct_range(&r, 0, 1)) {
            bool af = memcmp(ash, dm, sizeof dm) == 0, bf = memcmp(bsh, dm, sizeof dm) == 0;
            bool binary = broadcast || op >= EW_SILU_BWD;
            in_place = af ? 1 : (binary && bf ? 2 : 0);
        }
        double range = ct_uniform(&r, 1, 20);
        check_ew(d, OCL_CFG, &r, op, 3, dm, 3, ash, 3, bsh, in_place, ct_pick_layout(&r), ct_pick_layout(&r),
                 ct_pick_layout(&r), -range, range);
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

TEST(rope_matches_the_reference_in_both_layouts) {
    cordon_device d = ocl_device();
    ct_rng r = {cordon_test_seed()};
    for (unsigned n = 0; n < cases(8); n++) {
        uint64_t dm[3] = {ct_range(&r, 1, 3), pick(&r), pick(&r)};
        dm[2] = 2 * (dm[2] / 2 > 0 ? dm[2] / 2 : 1);
        shrink(&r, dm, 2, 30000 / dm[2]);
        bool in_place = ct_range(&r, 0, 1);
        ct_layout lx = ct_pick_layout(&r);
        check_rope(d, OCL_CFG, &r, 3, dm, n % 2 ? CORDON_ROPE_HALF : CORDON_ROPE_INTERLEAVED,
                   ct_range(&r, 0, 1) ? 10000.0f : (float)ct_uniform(&r, 2, 1e6), ct_range(&r, 0, 100000),
                   ct_range(&r, 0, 1), in_place, lx, in_place ? lx : ct_pick_layout(&r));
    }
    ct_report();
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * Semantics (issue 14) and the CPU device beside it */

TEST(beta_zero_never_reads_c_and_alpha_zero_never_reads_a_or_b) {
    cordon_device d = ocl_device();
    for (int gemv = 0; gemv < 2; gemv++) {
        uint64_t M = gemv ? 1 : 9;
        float a[9 * 7], b[7 * 5], c[9 * 5];
        for (int i = 0; i < 63; i++) a[i] = (float)(i % 5) - 2.0f;
        for (int i = 0; i < 35; i++) b[i] = (float)(i % 3) - 1.0f;
        for (int i = 0; i < 45; i++) c[i] = NAN;
        cordon_tensor ta = ct_t2(d, M, 7, a), tb = ct_t2(d, 7, 5, b), tc = ct_t2(d, M, 5, c);
        cordon_matmul_params p = {1.0f, 0.0f, false, false};
        CHECK_OK(cordon_matmul(tc, ta, tb, &p));
        float *got = ct_read(tc);
        for (uint64_t i = 0; i < M * 5; i++) CHECK(got[i] == got[i]);
        free(got);
        /* alpha = 0: NaN in A must not reach C = beta·C */
        float an[9 * 7];
        for (int i = 0; i < 63; i++) an[i] = NAN;
        ct_write(ta, an);
        p = (cordon_matmul_params){0.0f, 2.0f, false, false};
        CHECK_OK(cordon_matmul(tc, ta, tb, &p));
        got = ct_read(tc);
        for (uint64_t i = 0; i < M * 5; i++) CHECK(got[i] == got[i]);
        free(got);
        ct_destroy(ta), ct_destroy(tb), ct_destroy(tc);
    }
    CHECK_OK(cordon_device_destroy(d));
}

TEST(a_fully_masked_row_gives_zeros_and_nan_gives_a_nan_row) {
    cordon_device d = ocl_device();
    float x[2 * 70], m[2 * 70];
    for (int i = 0; i < 140; i++) {
        x[i] = (float)i * 0.01f;
        m[i] = i < 70 ? -INFINITY : 0.0f;
    }
    x[100] = NAN;
    cordon_tensor tx = ct_t2(d, 2, 70, x), tm = ct_t2(d, 2, 70, m), ty = ct_t2(d, 2, 70, NULL);
    cordon_softmax_params p;
    cordon_softmax_params_init(&p);
    p.mask = tm;
    CHECK_OK(cordon_softmax(ty, tx, &p));
    float *got = ct_read(ty);
    for (int i = 0; i < 70; i++) CHECK(got[i] == 0.0f);
    for (int i = 70; i < 140; i++) CHECK(got[i] != got[i]);
    free(got);
    ct_destroy(tx), ct_destroy(tm), ct_destroy(ty);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(results_agree_with_the_cpu_device) {
    cordon_device d = ocl_device(), cpu = ct_device((ct_cfg){CORDON_ISA_AUTO, 1, CORDON_MATMUL_BUILTIN, false});
    ct_rng r = {cordon_test_seed()};
    uint64_t n = 200, k = 129;
    float *x = ct_falloc(n * k), *w = ct_falloc(k * k), *g = ct_falloc(k);
    ct_fill(&r, x, n * k, -2, 2), ct_fill(&r, w, k * k, -0.2, 0.2), ct_fill(&r, g, k, 0.5, 1.5);
    float *res[2];
    cordon_device devs[2] = {d, cpu};
    for (int i = 0; i < 2; i++) {
        cordon_tensor tx = ct_t2(devs[i], n, k, x), tw = ct_t2(devs[i], k, k, w), tg = ct_t1(devs[i], k, g);
        cordon_tensor t1 = ct_t2(devs[i], n, k, NULL), t2 = ct_t2(devs[i], n, k, NULL);
        CHECK_OK(cordon_rms_norm(t1, tx, tg, 1e-5f));
        CHECK_OK(cordon_matmul(t2, t1, tw, NULL));
        CHECK_OK(cordon_silu(t2, t2));
        CHECK_OK(cordon_softmax(t1, t2, NULL));
        res[i] = ct_read(t1);
        ct_destroy(tx), ct_destroy(tw), ct_destroy(tg), ct_destroy(t1), ct_destroy(t2);
    }
    double worst = 0;
    for (uint64_t i = 0; i < n * k; i++) {
        double e = fabs((double)res[0][i] - (double)res[1][i]) / (fabs((double)res[1][i]) + 1e-30);
        worst = e > worst ? e : worst;
    }
    CHECK_MSG(worst < 1e-4, "OpenCL vs CPU: worst relative difference %g", worst);
    free(x), free(w), free(g), free(res[0]), free(res[1]);
    CHECK_OK(cordon_device_destroy(cpu));
    CHECK_OK(cordon_device_destroy(d));
}

/* ------------------------------------------------------------------------------------------------
 * Asynchrony, lifetimes, reference counts */

TEST(a_long_chain_of_queued_ops_is_correct_after_one_sync) {
    cordon_device d = ocl_device();
    float x[257];
    for (int i = 0; i < 257; i++) x[i] = 1.0f;
    cordon_tensor t = ct_t1(d, 257, x), s = ct_t1(d, 257, NULL);
    for (int i = 0; i < 100; i++) {
        CHECK_OK(cordon_add(s, s, t)); /* queued, never waited for */
    }
    CHECK_OK(cordon_device_sync(d));
    float *got = ct_read(s);
    for (int i = 0; i < 257; i++) CHECK(got[i] == 100.0f);
    free(got);
    ct_destroy(t), ct_destroy(s);
    CHECK_OK(cordon_device_destroy(d));
}

TEST(tensors_destroyed_with_work_still_queued_keep_later_results_right) {
    cordon_device d = ocl_device();
    for (int round = 0; round < 20; round++) {
        float x[4096];
        for (int i = 0; i < 4096; i++) x[i] = (float)round;
        cordon_tensor a = ct_t1(d, 4096, x), b = ct_t1(d, 4096, NULL);
        CHECK_OK(cordon_scale(b, a, 2.0f));
        ct_destroy(a); /* its buffer goes back to the free list with the scale still queued */
        cordon_tensor c = ct_t1(d, 4096, NULL); /* likely the same buffer: zeroed after the scale */
        float *got = ct_read(b), *gz = ct_read(c);
        for (int i = 0; i < 4096; i++) CHECK(got[i] == 2.0f * (float)round && gz[i] == 0.0f);
        free(got), free(gz);
        ct_destroy(b), ct_destroy(c);
    }
    CHECK_OK(cordon_device_destroy(d));
}

TEST(counts_balance_after_1000_create_run_destroy_iterations) {
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    check_balanced("after a first device");
    int dev_rounds = cordon_test_rounds(10, 2);
    for (int dev_round = 0; dev_round < dev_rounds; dev_round++) {
        CHECK_OK(ocl_create("opencl", &d));
        for (int i = 0; i < 100; i++) {
            uint64_t n = 1 + (uint64_t)((i * 37 + dev_round) % 300);
            cordon_tensor a = ct_t2(d, 4, n, NULL), b = ct_t2(d, n, 3, NULL), c = ct_t2(d, 4, 3, NULL);
            CHECK_OK(cordon_softmax(a, a, NULL));
            if (i % 10 == 0) CHECK_OK(cordon_matmul(c, a, b, NULL));
            ct_destroy(a), ct_destroy(b), ct_destroy(c);
        }
        CHECK_OK(cordon_device_destroy(d));
        check_balanced("after a device's 100 iterations");
    }
}

typedef struct first_use {
    cordon_device d;
    cordon_tensor t[4];
    atomic_int go;
    cordon_status st[4];
} first_use;

typedef struct first_use_arg {
    first_use *f;
    int i;
} first_use_arg;

static void *first_use_thread(void *p) {
    first_use_arg *a = p;
    while (atomic_load(&a->f->go) == 0) {
    }
    a->f->st[a->i] = cordon_softmax(a->f->t[a->i], a->f->t[a->i], NULL);
    return NULL;
}

TEST(concurrent_first_use_compiles_the_program_once) {
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    for (int round = 0; round < 3; round++) {
        first_use f = {0};
        CHECK_OK(ocl_create("opencl", &f.d));
        for (int i = 0; i < 4; i++) f.t[i] = ct_t2(f.d, 3, 50, NULL);
        cordon__sys_cl_counters before, after;
        counts(&before);
        pthread_t th[4];
        first_use_arg args[4];
        for (int i = 0; i < 4; i++) {
            args[i] = (first_use_arg){&f, i};
            CHECK(pthread_create(&th[i], NULL, first_use_thread, &args[i]) == 0);
        }
        atomic_store(&f.go, 1);
        for (int i = 0; i < 4; i++) CHECK(pthread_join(th[i], NULL) == 0);
        counts(&after);
        for (int i = 0; i < 4; i++) CHECK_OK(f.st[i]);
        CHECK_EQ_U64(after.acquired[CORDON__CL_PROGRAM] - before.acquired[CORDON__CL_PROGRAM], 1);
        for (int i = 0; i < 4; i++) ct_destroy(f.t[i]);
        CHECK_OK(cordon_device_destroy(f.d));
    }
    check_balanced("after concurrent first use");
}

typedef struct destroyer {
    cordon_device d;
    cordon_status st;
} destroyer;

static void *destroy_thread(void *p) {
    destroyer *x = p;
    x->st = cordon_device_destroy(x->d);
    return NULL;
}

TEST(a_device_and_its_tensors_are_destroyed_on_another_thread) {
    cordon_device d = ocl_device();
    cordon_tensor ts[8];
    for (int i = 0; i < 8; i++) {
        ts[i] = ct_t2(d, 16, 100, NULL);
        CHECK_OK(cordon_softmax(ts[i], ts[i], NULL)); /* queued work outstanding at the destroy */
    }
    destroyer x = {d, CORDON_OS_ERROR};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, destroy_thread, &x) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_OK(x.st);
    float buf[1600];
    CHECK_STATUS(cordon_tensor_read(ts[0], buf, sizeof buf), CORDON_STALE);
    CHECK_STATUS(cordon_device_sync(d), CORDON_STALE);
    check_balanced("after a destroy on another thread");
}

/* ------------------------------------------------------------------------------------------------
 * Fault injection: every cl* and CLBlast call failing gives a status, names the CL error, leaks nothing */

/* A device's whole life: create, tensors, a product, a softmax, a non-contiguous read, destroy. Returns
 * the first failure (the device and tensors are destroyed on every path). */
static cordon_status life(void) {
    cordon_device d = {0};
    cordon_status st = ocl_create("opencl", &d);
    if (st != CORDON_OK) {
        return st;
    }
    cordon_tensor a = {0}, b = {0}, c = {0}, v = {0};
    uint64_t sa[2] = {8, 33}, sb[2] = {33, 5}, sc[2] = {8, 5};
    float host[8 * 33];
    for (int i = 0; i < 8 * 33; i++) host[i] = (float)(i % 7);
    st = cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sa, &a);
    if (st == CORDON_OK) st = cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sb, &b);
    if (st == CORDON_OK) st = cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sc, &c);
    if (st == CORDON_OK) st = cordon_tensor_write(a, host, sizeof host);
    if (st == CORDON_OK) st = cordon_tensor_write(b, host, 33 * 5 * sizeof(float));
    if (st == CORDON_OK) st = cordon_matmul(c, a, b, NULL);
    if (st == CORDON_OK) st = cordon_softmax(a, a, NULL);
    cordon_tensor row = {0}, r1 = {0};
    uint64_t sr[2] = {1, 5};
    if (st == CORDON_OK) st = cordon_tensor_slice(a, 0, 0, 1, &row);
    if (st == CORDON_OK) st = cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sr, &r1);
    if (st == CORDON_OK) st = cordon_matmul(r1, row, b, NULL); /* M = 1: the gemv path */
    if (st == CORDON_OK) st = cordon_tensor_transpose(c, 0, 1, &v);
    if (st == CORDON_OK) st = cordon_tensor_read(v, host, 8 * 5 * sizeof(float));
    if (st == CORDON_OK) st = cordon_device_sync(d);
    cordon_status ds = cordon_device_destroy(d);
    if (ds != CORDON_OK) {
        /* a refused destroy (clFinish failed) leaves the device usable: destroy it again (faults are
         * armed for one call only) */
        cordon_status again = cordon_device_destroy(d);
        (void)again;
    }
    return st != CORDON_OK ? st : ds;
}

TEST(every_cl_call_failing_gives_a_status_names_the_error_and_leaks_nothing) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    CHECK_OK(life()); /* warm: every program compiled once, so later builds come from PoCL's cache */
    static const cordon__sys_call calls[] = {
        CORDON__CALL_CL_GET_PLATFORM_IDS,    CORDON__CALL_CL_GET_PLATFORM_INFO,   CORDON__CALL_CL_GET_DEVICE_IDS,
        CORDON__CALL_CL_GET_DEVICE_INFO,     CORDON__CALL_CL_CREATE_CONTEXT,      CORDON__CALL_CL_CREATE_COMMAND_QUEUE,
        CORDON__CALL_CL_FLUSH,               CORDON__CALL_CL_FINISH,              CORDON__CALL_CL_CREATE_BUFFER,
        CORDON__CALL_CL_ENQUEUE_WRITE_BUFFER, CORDON__CALL_CL_ENQUEUE_READ_BUFFER, CORDON__CALL_CL_ENQUEUE_FILL_BUFFER,
        CORDON__CALL_CL_CREATE_PROGRAM_WITH_SOURCE, CORDON__CALL_CL_BUILD_PROGRAM, CORDON__CALL_CL_CREATE_KERNEL,
        CORDON__CALL_CL_GET_KERNEL_WORK_GROUP_INFO, CORDON__CALL_CL_SET_KERNEL_ARG,
        CORDON__CALL_CL_ENQUEUE_NDRANGE_KERNEL, CORDON__CALL_CLBLAST_SGEMM,  CORDON__CALL_CLBLAST_SGEMV,
    };
    enum { NCALLS = sizeof calls / sizeof calls[0] };
    /* How many times does one life make each call? Then fail each of those in turn (up to 12 positions
     * spread over them; 2 under valgrind, where one life takes seconds). */
    uint64_t made_by_life[NCALLS];
    cordon__fault_reset();
    CHECK_OK(life());
    for (size_t i = 0; i < NCALLS; i++) {
        made_by_life[i] = cordon__fault_calls(calls[i]);
    }
    cordon__fault_stop();
    uint64_t positions = (uint64_t)cordon_test_rounds(12, 2);
    for (size_t i = 0; i < NCALLS; i++) {
        uint64_t made = made_by_life[i];
        uint64_t step = made > positions ? made / positions : 1;
        for (uint64_t nth = 1; nth <= made; nth += step) {
            cordon__fault_reset();
            CHECK_OK(cordon__fault_arm(calls[i], nth, 1, -5 /* CL_OUT_OF_RESOURCES */));
            cordon_clear_os_error();
            cordon_status st = life();
            uint64_t fired = cordon__fault_fired(calls[i]);
            cordon__fault_stop();
            CHECK_EQ_U64(fired, 1);
            CHECK_MSG(st != CORDON_OK, "%s failing at call %" PRIu64 " gave CORDON_OK", cordon__sys_call_name(calls[i]),
                      nth);
            cordon_os_error e = cordon_last_os_error();
            CHECK_MSG(strcmp(e.call, cordon__sys_call_name(calls[i])) == 0, "recorded call %s, expected %s", e.call,
                      cordon__sys_call_name(calls[i]));
            char text[200];
            cordon_format_os_error(text, sizeof text);
            CHECK_MSG(strstr(text, "CL_OUT_OF_RESOURCES") != NULL, "error detail: %s", text);
            check_balanced(cordon__sys_call_name(calls[i]));
        }
    }
    CHECK_OK(life());
    check_balanced("after every fault");
}

TEST(a_failed_blas_cache_clear_is_recorded_and_the_device_is_still_released) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_CLBLAST_CLEAR_CACHE, 1, 1, -5));
    cordon_clear_os_error();
    CHECK_OK(life()); /* the destroy goes on: its releases do not depend on the cache */
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_CLBLAST_CLEAR_CACHE), 1);
    cordon__fault_stop();
    CHECK(strcmp(cordon_last_os_error().call, "CLBlastClearCache") == 0);
    /* Every object cordon made is released; the context reference check reports the one reference
     * the uncleared CLBlast cache still holds, exactly as documented. */
    cordon__sys_cl_counters c;
    counts(&c);
    for (int i = 0; i < CORDON__CL_OBJECT_TYPES; i++) {
        CHECK_EQ_U64(c.acquired[i], c.released[i]);
    }
    CHECK_EQ_U64(c.contexts_still_referenced, 1);
    CHECK_EQ_U64(c.release_failures, 0);
}

TEST(a_failed_context_reference_check_is_skipped_and_everything_is_still_released) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
    cordon_device d = ocl_device();
    CHECK_OK(cordon_device_destroy(d));
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_CL_GET_CONTEXT_INFO, 1, 1, -5));
    CHECK_OK(life()); /* the check is diagnostic: its failure is no status */
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_CL_GET_CONTEXT_INFO), 1);
    cordon__fault_stop();
    check_balanced("context info failed");
}

/* ------------------------------------------------------------------------------------------------
 * Model files: saved from device memory through a host buffer, loaded through an upload */

TEST(safetensors_save_and_load_go_through_the_device) {
    cordon_device d = ocl_device();
    float data[6 * 11];
    for (int i = 0; i < 66; i++) data[i] = (float)i * 0.25f - 3.0f;
    cordon_tensor t = ct_t2(d, 6, 11, data), tv = {0};
    CHECK_OK(cordon_tensor_transpose(t, 0, 1, &tv)); /* a strided view: downloaded packed */
    char path[128];
    snprintf(path, sizeof path, "/tmp/cordon-opencl-test-%d.safetensors", (int)getpid());
    cordon_safetensors_item items[2] = {{"plain", t}, {"transposed", tv}};
    CHECK_OK(cordon_safetensors_save(path, items, 2, NULL, 0, 0));
    cordon_safetensors f;
    CHECK_OK(cordon_safetensors_open(path, &f));
    cordon_tensor a = {0}, b = {0};
    CHECK_OK(cordon_safetensors_load(f, "plain", d, &a));
    CHECK_OK(cordon_safetensors_load(f, "transposed", d, &b));
    CHECK_OK(cordon_safetensors_close(f));
    unlink(path);
    float *ga = ct_read(a), *gb = ct_read(b);
    for (int r = 0; r < 6; r++) {
        for (int c = 0; c < 11; c++) {
            CHECK(ga[r * 11 + c] == data[r * 11 + c]);
            CHECK(gb[c * 6 + r] == data[r * 11 + c]);
        }
    }
    free(ga), free(gb);
    ct_destroy(a), ct_destroy(b), ct_destroy(tv), ct_destroy(t);
    CHECK_OK(cordon_device_destroy(d));
}

/* BF16 weights live on host-memory devices only: an OpenCL device refuses BF16 tensors at creation
 * (nothing created), so no OpenCL kernel ever sees one; safetensors' load_as refuses the same way. */
TEST(bf16_tensors_are_refused_on_an_opencl_device) {
    cordon_device d = ocl_device();
    uint64_t sh[2] = {4, 4};
    cordon_tensor t = {3};
    CHECK_STATUS(cordon_tensor_create(d, CORDON_DTYPE_BF16, 2, sh, &t), CORDON_UNSUPPORTED);
    CHECK_EQ_U64(t.handle, 3);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(d, &info));
    CHECK_EQ_U64(info.tensors, 0);
    CHECK_OK(cordon_device_destroy(d));
}
