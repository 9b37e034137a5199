/* SPDX-License-Identifier: Apache-2.0 */
/* Property tests of the compute operations: random shapes with extents in 1..1000 (biased to the sizes
 * just below and above the vector widths 16/32/64, the micro-tiles and KC = 256), random layouts
 * (contiguous, transposed, sliced, column-strided views as inputs and outputs), every instruction-set
 * level, threads 1 and 2, built-in matmul and BLAS, each result against the f64 reference. A few cases per
 * configuration by default (valgrind runs these too); CORDON_TEST_LARGE=1 runs many more and larger.
 * Seeded from cordon_test_seed() (printed; CORDON_TEST_SEED=… repeats a run). */
#include "compute_check.h"

static const uint64_t edge_sizes[] = {1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65,
                                      127, 128, 129, 255, 256, 257, 511, 512, 513, 999, 1000};

static uint64_t pick_dim(ct_rng *r) {
    if (ct_range(r, 0, 2) == 0) {
        return ct_range(r, 1, 1000);
    }
    return edge_sizes[ct_range(r, 0, sizeof edge_sizes / sizeof edge_sizes[0] - 1)];
}

/* Shrinks the largest of dims[0..n) (to a random size at most half) until their product fits. */
static void fit_budget(ct_rng *r, uint64_t *dims, unsigned n, uint64_t budget) {
    for (;;) {
        uint64_t p = 1;
        unsigned big = 0;
        for (unsigned i = 0; i < n; i++) {
            p *= dims[i];
            if (dims[i] > dims[big]) big = i;
        }
        if (p <= budget || dims[big] == 1) return;
        dims[big] = ct_range(r, 1, dims[big] / 2 > 0 ? dims[big] / 2 : 1);
    }
}

static unsigned iterations(void) {
    return ct_large() ? 25u : 2u;
}

static uint64_t budget(uint64_t base) {
    return ct_large() ? base * 40 : base;
}

TEST(matmul_random_shapes_flags_and_views) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations() + 2; n++) {
            mm_case c = {0};
            uint64_t d[3] = {pick_dim(&r), pick_dim(&r), pick_dim(&r)};
            if (n == 0) d[0] = 1; /* the gemv path every time */
            fit_budget(&r, d, 3, budget(300000));
            c.M = d[0], c.N = d[1], c.K = d[2];
            c.ta = ct_range(&r, 0, 1), c.tb = ct_range(&r, 0, 1);
            static const float alphas[] = {1, -0.5f, 2, 0}, betas[] = {0, 1, 0.5f, -2};
            c.alpha = alphas[ct_range(&r, 0, 3)];
            c.beta = betas[ct_range(&r, 0, 3)];
            c.la = ct_pick_layout(&r), c.lb = ct_pick_layout(&r), c.lc = ct_pick_layout(&r);
            if (ct_range(&r, 0, 3) == 0 && c.M * c.N * c.K * 6 <= budget(300000)) {
                c.nbatch = (unsigned)ct_range(&r, 1, 2);
                for (unsigned i = 0; i < c.nbatch; i++) {
                    uint64_t e = ct_range(&r, 1, 3);
                    c.ab[i] = ct_range(&r, 0, 1) ? e : 1;
                    c.bb[i] = ct_range(&r, 0, 1) ? e : 1;
                    c.cb[i] = c.ab[i] > c.bb[i] ? c.ab[i] : c.bb[i]; /* C has the broadcast batch shape */
                }
            }
            check_matmul(it.dev, it.cfg, &r, &c);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(softmax_random_shapes_masks_and_views) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations() + 1; n++) {
            uint64_t d[2] = {pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, d, 2, budget(60000));
            sm_case c = {.ndim = 2, .shape = {1, 1, d[0], d[1]}, .scale = (float)ct_uniform(&r, 0.05, 3)};
            c.causal = ct_range(&r, 0, 1);
            c.lo = -ct_uniform(&r, 1, 40), c.hi = -c.lo;
            c.lx = ct_pick_layout(&r), c.ly = ct_pick_layout(&r);
            c.in_place = c.lx == c.ly && ct_range(&r, 0, 1);
            uint64_t m = ct_range(&r, 0, 2);
            if (m != 0) {
                c.mndim = m == 1 ? 1 : 2;
                c.mshape[0] = c.mshape[1] = 1;
                c.mshape[2] = m == 1 ? 1 : d[0];
                c.mshape[3] = d[1];
            }
            check_softmax(it.dev, it.cfg, &r, &c);
            uint64_t b[2] = {pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, b, 2, budget(40000));
            check_softmax_bwd(it.dev, it.cfg, &r, b[0], b[1], (float)ct_uniform(&r, 0.1, 2), ct_range(&r, 0, 1),
                              ct_pick_layout(&r));
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(norms_random_shapes_and_views) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations(); n++) {
            uint64_t d[2] = {pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, d, 2, budget(50000));
            float eps = ct_range(&r, 0, 1) ? 1e-5f : 0.0f;
            ct_layout lx = ct_pick_layout(&r), ly = ct_pick_layout(&r);
            check_rms_norm(it.dev, it.cfg, &r, d[0], d[1], eps, false, lx, ly);
            check_rms_norm_bwd(it.dev, it.cfg, &r, d[0], d[1], eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1), lx);
            check_layer_norm(it.dev, it.cfg, &r, d[0], d[1], eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1),
                             lx == ly && ct_range(&r, 0, 1), lx, ly, ct_uniform(&r, -100, 100));
            check_layer_norm_bwd(it.dev, it.cfg, &r, d[0], d[1], eps, ct_range(&r, 0, 1), ct_range(&r, 0, 1),
                                 ct_range(&r, 0, 1), ct_range(&r, 0, 1), ly);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(attention_random_shapes_forward_and_backward) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations(); n++) {
            at_case c = {0};
            uint64_t hkv = ct_range(&r, 1, 3);
            c.s.B = ct_range(&r, 1, 2);
            c.s.Hkv = hkv;
            c.s.Hq = hkv * ct_range(&r, 1, 3);
            uint64_t d[4] = {pick_dim(&r), pick_dim(&r), pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, d, 4, budget(4000) / (c.s.B * c.s.Hq));
            c.s.Tq = d[0], c.s.Tk = d[1], c.s.D = d[2], c.s.Dv = d[3];
            c.causal = ct_range(&r, 0, 1);
            c.mask = (int)ct_range(&r, 0, 2);
            c.mask_inf = ct_uniform(&r, 0, 0.5);
            c.lq = ct_pick_layout(&r), c.lk = ct_pick_layout(&r), c.lv = ct_pick_layout(&r), c.lo = ct_pick_layout(&r);
            c.scale = ct_range(&r, 0, 1) ? 0.0f : (float)ct_uniform(&r, 0.05, 1);
            check_attention(it.dev, it.cfg, &r, &c);
            check_attention_bwd(it.dev, it.cfg, &r, &c);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(lora_random_shapes_forward_and_backward) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations(); n++) {
            lora_case c = {0};
            c.xndim = (unsigned)ct_range(&r, 1, 3);
            uint64_t d[3] = {pick_dim(&r), pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, d, 3, budget(100000));
            c.lead[0] = d[0];
            if (c.xndim == 3) {
                c.lead[1] = ct_range(&r, 1, 3);
            }
            c.in = d[1], c.out = d[2], c.r = ct_range(&r, 1, 16);
            c.bias = ct_range(&r, 0, 1);
            c.scaling = ct_range(&r, 0, 1) ? CORDON_LORA_SCALE_STANDARD : CORDON_LORA_SCALE_RSLORA;
            c.alpha = (float)ct_uniform(&r, 0.5, 32);
            c.lx = ct_pick_layout(&r), c.lw = ct_pick_layout(&r), c.la = ct_pick_layout(&r);
            c.lb = ct_pick_layout(&r), c.ly = ct_pick_layout(&r);
            check_lora(it.dev, it.cfg, &r, &c);
            check_lora_bwd(it.dev, it.cfg, &r, &c, ct_range(&r, 0, 1));
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(elementwise_random_shapes_broadcast_and_views) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations() + 2; n++) {
            uint64_t d[3] = {ct_range(&r, 1, 4), pick_dim(&r), pick_dim(&r)};
            fit_budget(&r, d, 3, budget(40000));
            ew_op op = (ew_op)ct_range(&r, 0, EW_OPS - 1);
            bool broadcast = op == EW_ADD || op == EW_MUL;
            uint64_t ash[3], bsh[3];
            for (int i = 0; i < 3; i++) {
                ash[i] = broadcast && ct_range(&r, 0, 2) == 0 ? 1 : d[i];
                bsh[i] = broadcast && ct_range(&r, 0, 2) == 0 ? 1 : d[i];
                d[i] = ash[i] > bsh[i] ? ash[i] : bsh[i]; /* y has the broadcast shape */
            }
            /* a full-shape operand may be updated in place */
            int in_place = 0;
            if (ct_range(&r, 0, 1)) {
                bool af = memcmp(ash, d, sizeof d) == 0, bf = memcmp(bsh, d, sizeof d) == 0;
                bool binary = broadcast || op >= EW_SILU_BWD;
                in_place = af ? 1 : (binary && bf ? 2 : 0);
            }
            double range = ct_uniform(&r, 1, 20);
            check_ew(it.dev, it.cfg, &r, op, 3, d, 3, ash, 3, bsh, in_place, ct_pick_layout(&r), ct_pick_layout(&r),
                     ct_pick_layout(&r), -range, range);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(rope_random_shapes_layouts_and_positions) {
    ct_rng r = {cordon_test_seed()};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        for (unsigned n = 0; n < iterations() + 1; n++) {
            uint64_t d[3] = {ct_range(&r, 1, 3), pick_dim(&r), pick_dim(&r)};
            d[2] = 2 * (d[2] / 2 > 0 ? d[2] / 2 : 1);
            fit_budget(&r, d, 2, budget(30000) / d[2]);
            bool in_place = ct_range(&r, 0, 1);
            ct_layout lx = ct_pick_layout(&r);
            check_rope(it.dev, it.cfg, &r, 3, d, ct_range(&r, 0, 1) ? CORDON_ROPE_HALF : CORDON_ROPE_INTERLEAVED,
                       ct_range(&r, 0, 1) ? 10000.0f : (float)ct_uniform(&r, 2, 1e6), ct_range(&r, 0, 100000),
                       ct_range(&r, 0, 1), in_place, lx, in_place ? lx : ct_pick_layout(&r));
        }
    }
    ct_report();
    ct_iter_end(&it);
}
