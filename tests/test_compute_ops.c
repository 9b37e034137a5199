/* SPDX-License-Identifier: Apache-2.0 */
/* Compute operations against double-precision references, forward and backward, at every
 * instruction-set level, with 1 and 2 threads, with the built-in matmul and BLAS; backward also against
 * central finite differences; and the semantics of issue 14 (beta = 0, alpha = 0, fully masked rows,
 * RoPE and GELU forms, f32 accumulation, denormals). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#  define CT_HAVE_MXCSR 1
#else
#  define CT_HAVE_MXCSR 0
#endif

#include "compute_check.h"

#define SEED 0x5eed0001u

/* ------------------------------------------------------------------------------------------------
 * Coverage: the levels and engines every test below iterates over. Each test runs the configurations
 * available and names the others on stderr; these report the missing ones as SKIPPED. */

static void check_level(cordon_isa isa, cordon_matmul_engine engine) {
    ct_cfg c = {isa, 1, engine, false};
    cordon_device dev = {0};
    cordon_status st = ct_device_create(c, &dev);
    if (st == CORDON_UNSUPPORTED) {
        SKIP("this CPU (or valgrind) lacks the level (NEON is aarch64's, AVX-512 and AVX2 x86-64's): the "
             "compute tests ran without it");
    }
    if (st == CORDON_BACKEND_UNAVAILABLE) {
#if defined(_WIN32)
        SKIP("BLAS is not built in (the windows preset builds with CORDON_BLAS=OFF: Debian has no OpenBLAS "
             "for MinGW-w64): the compute tests ran the built-in matmul only");
#endif
        SKIP("BLAS is not built in: the compute tests ran the built-in matmul only");
    }
    CHECK_OK(st);
    cordon_device_info info;
    CHECK_OK(cordon_device_info_get(dev, &info));
    CHECK(info.isa == isa);
    CHECK(info.matmul == engine);
    CHECK_OK(cordon_device_destroy(dev));
}

TEST(isa_scalar_is_exercised) {
    check_level(CORDON_ISA_SCALAR, CORDON_MATMUL_BUILTIN);
}

TEST(isa_avx2_is_exercised) {
    check_level(CORDON_ISA_AVX2, CORDON_MATMUL_BUILTIN);
}

TEST(isa_avx512_is_exercised) {
    check_level(CORDON_ISA_AVX512, CORDON_MATMUL_BUILTIN);
}

TEST(isa_neon_is_exercised) {
    check_level(CORDON_ISA_NEON, CORDON_MATMUL_BUILTIN);
}

TEST(blas_engine_is_exercised) {
    check_level(CORDON_ISA_SCALAR, CORDON_MATMUL_BLAS);
}

/* ------------------------------------------------------------------------------------------------
 * matmul */

TEST(matmul_matches_reference_for_every_alpha_beta_and_transpose) {
    static const float ab[][2] = {{1, 0}, {0.5f, 0}, {1, 1}, {-1.5f, 0.75f}, {0, 0.5f}, {0, 0}, {2, -1}};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int t = 0; t < 4; t++) {
            for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
                mm_case c = {.M = 37, .N = 45, .K = 70, .ta = t & 1, .tb = t >> 1, .alpha = ab[i][0], .beta = ab[i][1]};
                check_matmul(it.dev, it.cfg, &r, &c);
            }
            mm_case big = {.M = 19, .N = 70, .K = 600, .ta = t & 1, .tb = t >> 1, .alpha = 1, .beta = 0.25f};
            check_matmul(it.dev, it.cfg, &r, &big);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* Rank-k updates (K <= 16) and products of at most 16 columns (a LoRA adapter's two products) take
 * their own kernels: every alpha/beta, transpose and layout, with tails in both dimensions. */
TEST(matmul_small_k_and_small_n_match_reference) {
    static const float ab[][2] = {{1, 0}, {2, 0}, {1, 1}, {-1.5f, 0.75f}, {0, 0.5f}};
    static const uint64_t shapes[][3] = {{37, 45, 9}, {20, 70, 16}, {9, 130, 1}, {37, 7, 70}, {21, 16, 33}, {12, 1, 40}};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            for (int t = 0; t < 4; t++) {
                for (size_t i = 0; i < sizeof ab / sizeof ab[0]; i++) {
                    mm_case c = {.M = shapes[s][0], .N = shapes[s][1], .K = shapes[s][2], .ta = t & 1, .tb = t >> 1,
                                 .alpha = ab[i][0], .beta = ab[i][1], .la = (ct_layout)((s + i) % CT_LAYOUTS),
                                 .lb = (ct_layout)((s + (size_t)t) % CT_LAYOUTS), .lc = (ct_layout)(i % CT_LAYOUTS)};
                    check_matmul(it.dev, it.cfg, &r, &c);
                }
            }
        }
        mm_case batched = {.M = 10, .N = 5, .K = 40, .nbatch = 2, .ab = {2, 3}, .bb = {1, 1}, .cb = {2, 3}, .alpha = 1};
        check_matmul(it.dev, it.cfg, &r, &batched);
        mm_case per_batch_b = {.M = 11, .N = 6, .K = 20, .nbatch = 1, .ab = {3}, .bb = {3}, .cb = {3}, .tb = true,
                               .alpha = 0.5f, .beta = 1};
        check_matmul(it.dev, it.cfg, &r, &per_batch_b);
        mm_case rank = {.M = 9, .N = 50, .K = 8, .nbatch = 1, .ab = {4}, .bb = {4}, .cb = {4}, .alpha = 2, .beta = 0};
        check_matmul(it.dev, it.cfg, &r, &rank);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(matmul_broadcasts_batch_dimensions) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        mm_case c1 = {.M = 9, .N = 11, .K = 13, .nbatch = 2, .ab = {2, 1}, .bb = {1, 3}, .cb = {2, 3}, .alpha = 1};
        check_matmul(it.dev, it.cfg, &r, &c1);
        mm_case c2 = {.M = 5, .N = 33, .K = 17, .nbatch = 1, .ab = {1}, .bb = {4}, .cb = {4}, .ta = true, .alpha = 0.5f,
                      .beta = 2};
        check_matmul(it.dev, it.cfg, &r, &c2);
        mm_case c3 = {.M = 1, .N = 40, .K = 31, .nbatch = 2, .ab = {3, 2}, .bb = {3, 1}, .cb = {3, 2}, .tb = true,
                      .alpha = 1, .beta = 1};
        check_matmul(it.dev, it.cfg, &r, &c3);
        mm_case c4 = {.M = 1, .N = 300, .K = 20, .nbatch = 1, .ab = {5}, .bb = {1}, .cb = {5}, .alpha = -1};
        check_matmul(it.dev, it.cfg, &r, &c4);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(matmul_single_row_uses_gemv_path_and_matches_reference) {
    static const uint64_t ns[] = {1, 7, 16, 33, 255, 257, 600};
    static const uint64_t ks[] = {1, 3, 64, 257};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            for (size_t j = 0; j < sizeof ks / sizeof ks[0]; j++) {
                mm_case c = {.M = 1, .N = ns[i], .K = ks[j], .alpha = 1, .beta = (float)(j % 2)};
                c.ta = (i + j) % 3 == 0;
                c.tb = (i + j) % 4 == 1;
                c.la = (ct_layout)((i + j) % CT_LAYOUTS);
                c.lc = (ct_layout)(i % 3 == 0 ? CT_SLICED : CT_CONTIG);
                check_matmul(it.dev, it.cfg, &r, &c);
            }
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* Few rows (M = 2..16, decode with a handful of tokens): B streamed in place for all the rows at once,
 * in groups of at most 8 rows and slices of K; tails in N (partial tiles of 32 and of 16 columns) and
 * in K, both B layouts, beta kept or not. */
TEST(matmul_few_rows_match_reference_for_both_b_layouts) {
    static const uint64_t ms[] = {2, 5, 8, 9, 16};
    static const uint64_t ns[] = {1, 15, 17, 33, 130};
    static const uint64_t ks[] = {1, 31, 70};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
            for (size_t j = 0; j < sizeof ns / sizeof ns[0]; j++) {
                for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
                    mm_case c = {.M = ms[i], .N = ns[j], .K = ks[q], .alpha = (i + q) % 2 ? 1.0f : -0.5f,
                                 .beta = (float)((j + q) % 2)};
                    c.tb = (i + j + q) % 2 == 1;
                    check_matmul(it.dev, it.cfg, &r, &c);
                }
            }
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* The few-row kernels (gemm_rows: register tiles over chunks of columns and slices of K) promise the
 * arithmetic of the one-row path: each row of a product of M = 2..16 rows equals, bit for bit, the
 * product of that row alone, on 1 and 2 threads (built-in engine). Levels without gemm_rows (scalar,
 * NEON) make that promise up to M = 8 (axpy row by row; more rows take the packed GEMM). N = 300 spans
 * two column chunks and every tail shape; K = 70 spans several slices of B's rows. */
TEST(matmul_few_rows_equal_each_row_alone_bit_for_bit) {
    static const uint64_t ms[] = {2, 5, 8, 9, 16};
    const uint64_t N = 300, K = 70;
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t q = 0; q < sizeof ms / sizeof ms[0]; q++) {
            uint64_t M = ms[q];
            if (M > 8 && (it.cfg.isa == CORDON_ISA_SCALAR || it.cfg.isa == CORDON_ISA_NEON)) {
                continue;
            }
            float *a = ct_falloc((size_t)(M * K)), *b = ct_falloc((size_t)(K * N)), *c0 = ct_falloc((size_t)(M * N));
            ct_fill(&r, a, (size_t)(M * K), -1, 1);
            ct_fill(&r, b, (size_t)(K * N), -1, 1);
            ct_fill(&r, c0, (size_t)(M * N), -1, 1);
            cordon_matmul_params p = {-1.25f, 0.5f, false, false};
            cordon_tensor ta = ct_t2(it.dev, M, K, a), tb = ct_t2(it.dev, K, N, b), tc = ct_t2(it.dev, M, N, c0);
            CHECK_OK(cordon_matmul(tc, ta, tb, &p));
            float *all = ct_read(tc);
            for (uint64_t i = 0; i < M; i++) {
                cordon_tensor ra = ct_t2(it.dev, 1, K, a + i * K), rc = ct_t2(it.dev, 1, N, c0 + i * N);
                CHECK_OK(cordon_matmul(rc, ra, tb, &p));
                float *row = ct_read(rc);
                char label[160];
                snprintf(label, sizeof label, "%s M%" PRIu64 " row %" PRIu64, ct_cfg_name(it.cfg), M, i);
                CT_SAME_BITS(label, all + i * N, row, (size_t)N);
                free(row);
                ct_destroy(ra), ct_destroy(rc);
            }
            free(all), free(a), free(b), free(c0);
            ct_destroy(ta), ct_destroy(tb), ct_destroy(tc);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(matmul_accepts_strided_transposed_and_sliced_views) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int la = 0; la < CT_LAYOUTS; la++) {
            for (int lb = 0; lb < CT_LAYOUTS; lb++) {
                mm_case c = {.M = 21, .N = 35, .K = 29, .alpha = 1.25f, .beta = 0.5f, .la = (ct_layout)la,
                             .lb = (ct_layout)lb, .lc = (ct_layout)((la + lb) % CT_LAYOUTS), .ta = la == 2};
                check_matmul(it.dev, it.cfg, &r, &c);
            }
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * softmax */

TEST(softmax_matches_reference_with_scale_mask_and_causal) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        sm_case base = {.ndim = 2, .shape = {1, 1, 13, 77}, .scale = 1, .lo = -5, .hi = 5};
        check_softmax(it.dev, it.cfg, &r, &base);
        sm_case sc = base;
        sc.scale = 0.37f;
        sc.lo = -60, sc.hi = 60;
        check_softmax(it.dev, it.cfg, &r, &sc);
        /* Masks broadcast from (C), (R, C) and the full shape. */
        sm_case m1 = {.ndim = 3, .shape = {1, 3, 7, 40}, .mndim = 1, .mshape = {1, 1, 1, 40}, .scale = 1, .lo = -3, .hi = 3};
        check_softmax(it.dev, it.cfg, &r, &m1);
        sm_case m2 = m1;
        m2.mndim = 2, m2.mshape[2] = 7;
        check_softmax(it.dev, it.cfg, &r, &m2);
        sm_case m3 = m1;
        m3.mndim = 3, m3.mshape[1] = 3, m3.mshape[2] = 7;
        m3.in_place = true;
        check_softmax(it.dev, it.cfg, &r, &m3);
        /* Causal with as many rows as columns, more columns (a key/value cache) and fewer. */
        sm_case c1 = {.ndim = 4, .shape = {2, 2, 9, 9}, .scale = 0.5f, .causal = true, .lo = -4, .hi = 4};
        check_softmax(it.dev, it.cfg, &r, &c1);
        sm_case c2 = c1;
        c2.shape[2] = 5, c2.shape[3] = 23;
        check_softmax(it.dev, it.cfg, &r, &c2);
        sm_case c3 = c1;
        c3.shape[2] = 12, c3.shape[3] = 4; /* the first 8 rows see nothing */
        c3.mndim = 2, c3.mshape[0] = 1, c3.mshape[1] = 1, c3.mshape[2] = 12, c3.mshape[3] = 4;
        check_softmax(it.dev, it.cfg, &r, &c3);
        for (int l = 0; l < CT_LAYOUTS; l++) {
            sm_case v = {.ndim = 2, .shape = {1, 1, 17, 33}, .scale = 2, .lo = -2, .hi = 2, .lx = (ct_layout)l,
                         .ly = (ct_layout)((l + 1) % CT_LAYOUTS), .causal = l % 2 == 0};
            check_softmax(it.dev, it.cfg, &r, &v);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(softmax_backward_matches_reference) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        check_softmax_bwd(it.dev, it.cfg, &r, 11, 53, 1.0f, false, CT_CONTIG);
        check_softmax_bwd(it.dev, it.cfg, &r, 4, 300, 0.125f, true, CT_CONTIG);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            check_softmax_bwd(it.dev, it.cfg, &r, 7, 19, 0.7f, l == 2, (ct_layout)l);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Norms */

TEST(rms_norm_matches_reference) {
    static const uint64_t ns[] = {1, 15, 16, 17, 100, 257, 1000};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            check_rms_norm(it.dev, it.cfg, &r, 5, ns[i], i % 2 ? 1e-5f : 0.0f, i == 3, (ct_layout)(i % CT_LAYOUTS),
                           (ct_layout)((i + 2) % CT_LAYOUTS));
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(rms_norm_backward_matches_reference) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        check_rms_norm_bwd(it.dev, it.cfg, &r, 9, 31, 1e-6f, false, true, CT_CONTIG);
        check_rms_norm_bwd(it.dev, it.cfg, &r, 130, 40, 1e-5f, true, true, CT_CONTIG); /* > 64-row blocks */
        check_rms_norm_bwd(it.dev, it.cfg, &r, 3, 300, 0.0f, false, false, CT_CONTIG);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            check_rms_norm_bwd(it.dev, it.cfg, &r, 6, 17, 1e-5f, false, true, (ct_layout)l);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(layer_norm_matches_reference_with_optional_gamma_beta) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int g = 0; g < 2; g++) {
            for (int b = 0; b < 2; b++) {
                check_layer_norm(it.dev, it.cfg, &r, 6, 77, 1e-5f, g, b, false, CT_CONTIG, CT_CONTIG, 0.0);
            }
        }
        /* A large mean: the two-pass variance keeps the accuracy. */
        check_layer_norm(it.dev, it.cfg, &r, 4, 256, 1e-5f, true, true, true, CT_CONTIG, CT_CONTIG, 1000.0);
        check_layer_norm(it.dev, it.cfg, &r, 3, 1, 1e-3f, true, true, false, CT_CONTIG, CT_CONTIG, 0.0);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            check_layer_norm(it.dev, it.cfg, &r, 5, 33, 0.0f, true, l % 2, false, (ct_layout)l,
                             (ct_layout)((l + 1) % CT_LAYOUTS), 3.0);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(layer_norm_backward_matches_reference) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        check_layer_norm_bwd(it.dev, it.cfg, &r, 9, 45, 1e-5f, true, true, true, false, CT_CONTIG);
        check_layer_norm_bwd(it.dev, it.cfg, &r, 140, 20, 1e-5f, false, true, true, true, CT_CONTIG);
        check_layer_norm_bwd(it.dev, it.cfg, &r, 2, 300, 0.0f, true, false, true, false, CT_CONTIG);
        check_layer_norm_bwd(it.dev, it.cfg, &r, 2, 64, 1e-5f, true, false, false, false, CT_CONTIG);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            check_layer_norm_bwd(it.dev, it.cfg, &r, 5, 18, 1e-5f, true, true, true, false, (ct_layout)l);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* Rows long enough for every vector loop of the kernels and a mean far from zero: the corrected
 * two-pass moments keep the backward pass as accurate as the forward one. */
TEST(layer_norm_backward_keeps_accuracy_with_a_large_mean) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        check_layer_norm_bwd_at(it.dev, it.cfg, &r, 3, 1000, 1e-5f, true, true, true, false, CT_CONTIG, 1000.0);
        check_layer_norm_bwd_at(it.dev, it.cfg, &r, 70, 77, 1e-5f, false, true, true, true, CT_CONTIG, -300.0);
    }
    ct_report();
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Attention */

TEST(attention_matches_reference_grouped_causal_and_masked) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        at_case plain = {.s = {2, 2, 2, 7, 7, 16, 16}};
        check_attention(it.dev, it.cfg, &r, &plain);
        at_case gqa = {.s = {1, 6, 2, 5, 9, 8, 12}, .causal = true, .scale = 0.3f};
        check_attention(it.dev, it.cfg, &r, &gqa);
        at_case kv = {.s = {1, 4, 1, 3, 17, 33, 5}, .causal = true, .mask = 1, .mask_inf = 0.2};
        check_attention(it.dev, it.cfg, &r, &kv);
        at_case few = {.s = {1, 2, 2, 6, 3, 4, 4}, .causal = true}; /* Tk < Tq: first rows fully masked */
        check_attention(it.dev, it.cfg, &r, &few);
        at_case full = {.s = {2, 4, 2, 4, 6, 5, 7}, .mask = 2, .mask_inf = 0.3};
        check_attention(it.dev, it.cfg, &r, &full);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            at_case v = {.s = {1, 2, 1, 5, 6, 9, 7}, .causal = l % 2, .lq = (ct_layout)l,
                         .lk = (ct_layout)((l + 1) % CT_LAYOUTS), .lv = (ct_layout)((l + 2) % CT_LAYOUTS),
                         .lo = (ct_layout)((l + 3) % CT_LAYOUTS)};
            check_attention(it.dev, it.cfg, &r, &v);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(attention_backward_matches_reference) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        at_case plain = {.s = {2, 2, 2, 6, 6, 8, 8}};
        check_attention_bwd(it.dev, it.cfg, &r, &plain);
        at_case gqa = {.s = {1, 6, 2, 5, 9, 8, 12}, .causal = true, .scale = 0.3f};
        check_attention_bwd(it.dev, it.cfg, &r, &gqa);
        at_case kv = {.s = {1, 4, 1, 3, 17, 16, 5}, .causal = true, .mask = 1, .mask_inf = 0.2};
        check_attention_bwd(it.dev, it.cfg, &r, &kv);
        at_case few = {.s = {1, 2, 1, 6, 3, 4, 4}, .causal = true, .mask = 2, .mask_inf = 0.1};
        check_attention_bwd(it.dev, it.cfg, &r, &few);
        for (int l = 1; l < CT_LAYOUTS; l++) {
            at_case v = {.s = {1, 2, 1, 4, 5, 6, 3}, .causal = l % 2, .lq = (ct_layout)l,
                         .lk = (ct_layout)((l + 1) % CT_LAYOUTS), .lv = (ct_layout)((l + 2) % CT_LAYOUTS),
                         .lo = (ct_layout)((l + 3) % CT_LAYOUTS)};
            check_attention_bwd(it.dev, it.cfg, &r, &v);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* One attention forward and backward with every operand (q, k, v, dout, out, dq, dk, dv) in `layout`;
 * out, dq, dk, dv read back in logical order into res (no, nq, nk, nv floats in turn). */
static void attention_in_layout(cordon_device dev, ct_layout layout, const uint64_t *qsh, const uint64_t *ksh,
                                const uint64_t *vsh, const uint64_t *osh, const float *q, const float *k,
                                const float *v, const float *go, cordon_tensor mask, bool causal, float **res) {
    ct_view vq = ct_view_make(dev, 4, qsh, layout, q), vk = ct_view_make(dev, 4, ksh, layout, k);
    ct_view vv = ct_view_make(dev, 4, vsh, layout, v), vgo = ct_view_make(dev, 4, osh, layout, go);
    ct_view vo = ct_view_make(dev, 4, osh, layout, NULL), vdq = ct_view_make(dev, 4, qsh, layout, NULL);
    ct_view vdk = ct_view_make(dev, 4, ksh, layout, NULL), vdv = ct_view_make(dev, 4, vsh, layout, NULL);
    cordon_attention_params p;
    cordon_attention_params_init(&p);
    p.causal = causal;
    p.mask = mask;
    CHECK_OK(cordon_attention(vo.t, vq.t, vk.t, vv.t, &p));
    CHECK_OK(cordon_attention_backward(vdq.t, vdk.t, vdv.t, vgo.t, vq.t, vk.t, vv.t, &p));
    res[0] = ct_read(vo.t), res[1] = ct_read(vdq.t), res[2] = ct_read(vdk.t), res[3] = ct_read(vdv.t);
    ct_view_free(&vq), ct_view_free(&vk), ct_view_free(&vv), ct_view_free(&vgo), ct_view_free(&vo),
        ct_view_free(&vdq), ct_view_free(&vdk), ct_view_free(&vdv);
}

/* Scores and weighted sums take four contiguous key rows at a time (dot4, axpy4) and strided rows one
 * at a time through a copy; both must be the single kernels' arithmetic. So attention and its backward
 * on strided views of every operand equal them on contiguous tensors, bit for bit, at every level. D = 40
 * and Dv = 20 reach each vector loop and tail, Tk = 11 makes groups of four and a remainder, grouped
 * query heads share K and V, and the mask's -inf entries (zero weights) break groups. */
TEST(attention_on_strided_views_equals_contiguous_bit_for_bit) {
    enum { B = 1, HQ = 4, HK = 2, TQ = 9, TK = 11, D = 40, DV = 20 };
    const uint64_t qsh[4] = {B, HQ, TQ, D}, ksh[4] = {B, HK, TK, D}, vsh[4] = {B, HK, TK, DV}, osh[4] = {B, HQ, TQ, DV};
    const size_t n[4] = {B * HQ * TQ * DV, B * HQ * TQ * D, B * HK * TK * D, B * HK * TK * DV};
    static const char *const what[4] = {"out", "dq", "dk", "dv"};
    static const ct_layout layouts[] = {CT_TRANSPOSED, CT_SLICED, CT_COLSTRIDE};
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        float *q = ct_falloc(n[1]), *k = ct_falloc(n[2]), *v = ct_falloc(n[3]), *go = ct_falloc(n[0]);
        float m[TQ * TK];
        ct_fill(&r, q, n[1], -1.5, 1.5);
        ct_fill(&r, k, n[2], -1.5, 1.5);
        ct_fill(&r, v, n[3], -1, 1);
        ct_fill(&r, go, n[0], -1, 1);
        ct_fill(&r, m, TQ * TK, -1, 1);
        for (int i = 0; i < TQ * TK; i++) m[i] = i % 7 == 3 ? -INFINITY : m[i];
        cordon_tensor tm = ct_t2(it.dev, TQ, TK, m);
        for (int variant = 0; variant < 2; variant++) {
            cordon_tensor mask = variant == 0 ? CORDON_TENSOR_NONE : tm;
            bool causal = variant == 0;
            float *want[4];
            attention_in_layout(it.dev, CT_CONTIG, qsh, ksh, vsh, osh, q, k, v, go, mask, causal, want);
            for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
                float *got[4];
                attention_in_layout(it.dev, layouts[l], qsh, ksh, vsh, osh, q, k, v, go, mask, causal, got);
                for (int t = 0; t < 4; t++) {
                    char label[160];
                    snprintf(label, sizeof label, "%s %s, layout %d vs contiguous, %s", ct_cfg_name(it.cfg), what[t],
                             (int)layouts[l], causal ? "causal" : "masked");
                    CT_SAME_BITS(label, got[t], want[t], n[t]);
                    free(got[t]);
                }
            }
            for (int t = 0; t < 4; t++) free(want[t]);
        }
        free(q), free(k), free(v), free(go);
        ct_destroy(tm);
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * LoRA */

TEST(lora_linear_matches_reference_with_and_without_bias_both_scalings) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int bias = 0; bias < 2; bias++) {
            for (int sc = 1; sc <= 2; sc++) {
                lora_case c = {.xndim = 3, .lead = {2, 5}, .in = 37, .out = 29, .r = 4, .bias = bias,
                               .scaling = (cordon_lora_scaling)sc, .alpha = 8};
                check_lora(it.dev, it.cfg, &r, &c);
            }
        }
        lora_case one = {.xndim = 1, .in = 64, .out = 100, .r = 8, .bias = true, .scaling = CORDON_LORA_SCALE_RSLORA,
                         .alpha = 16};
        check_lora(it.dev, it.cfg, &r, &one);
        lora_case views = {.xndim = 2, .lead = {7}, .in = 20, .out = 18, .r = 3, .scaling = CORDON_LORA_SCALE_STANDARD,
                           .alpha = 6, .lx = CT_SLICED, .lw = CT_TRANSPOSED, .la = CT_COLSTRIDE, .lb = CT_TRANSPOSED,
                           .ly = CT_SLICED};
        check_lora(it.dev, it.cfg, &r, &views);
    }
    ct_report();
    ct_iter_end(&it);
}

/* The adapter alone (W absent): the fused pass on the CPU device for ranks up to 16 (blocks of 8 rows,
 * a partial last block, tails of 16 columns), and the composed products beyond (rank 17, or x not
 * contiguous), with and without bias, W present or not (the fused pass adds to x·W + bias). */
TEST(lora_adapter_alone_and_fused_match_reference) {
    static const uint64_t ranks[] = {1, 8, 16, 17};
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (size_t i = 0; i < sizeof ranks / sizeof ranks[0]; i++) {
            for (int bias = 0; bias < 2; bias++) {
                lora_case c = {.xndim = 3, .lead = {3, 7}, .in = 71, .out = 45, .r = ranks[i], .bias = bias,
                               .scaling = CORDON_LORA_SCALE_STANDARD, .alpha = 16, .no_w = (i + (size_t)bias) % 2 == 0};
                check_lora(it.dev, it.cfg, &r, &c);
            }
        }
        lora_case sliced = {.xndim = 2, .lead = {9}, .in = 33, .out = 17, .r = 8, .scaling = CORDON_LORA_SCALE_RSLORA,
                            .alpha = 4, .lx = CT_SLICED, .ly = CT_SLICED, .no_w = true};
        check_lora(it.dev, it.cfg, &r, &sliced);
        lora_case one = {.xndim = 1, .in = 16, .out = 1, .r = 2, .bias = true, .scaling = CORDON_LORA_SCALE_STANDARD,
                         .alpha = 2, .no_w = true};
        check_lora(it.dev, it.cfg, &r, &one);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(lora_backward_matches_reference) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        lora_case c = {.xndim = 3, .lead = {2, 5}, .in = 37, .out = 29, .r = 4, .scaling = CORDON_LORA_SCALE_STANDARD,
                       .alpha = 8};
        check_lora_bwd(it.dev, it.cfg, &r, &c, true);
        c.scaling = CORDON_LORA_SCALE_RSLORA;
        check_lora_bwd(it.dev, it.cfg, &r, &c, false);
        lora_case views = {.xndim = 3, .lead = {3, 4}, .in = 20, .out = 18, .r = 3, .scaling = CORDON_LORA_SCALE_STANDARD,
                           .alpha = 6, .lx = CT_SLICED, .lw = CT_TRANSPOSED, .la = CT_COLSTRIDE, .lb = CT_TRANSPOSED,
                           .ly = CT_COLSTRIDE};
        check_lora_bwd(it.dev, it.cfg, &r, &views, true);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(lora_merge_matches_reference_and_the_unmerged_forward) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int sc = 1; sc <= 2; sc++) {
            for (int in_place = 0; in_place < 2; in_place++) {
                uint64_t in = 48, out = 35, rk = 6, rows = 9;
                float *x = ct_falloc(rows * in), *w = ct_falloc(in * out), *a = ct_falloc(in * rk), *b = ct_falloc(rk * out);
                ct_fill(&r, x, rows * in, -1, 1);
                ct_fill(&r, w, in * out, -0.5, 0.5);
                ct_fill(&r, a, in * rk, -0.5, 0.5);
                ct_fill(&r, b, rk * out, -0.5, 0.5);
                cordon_tensor tx = ct_t2(it.dev, rows, in, x), tw = ct_t2(it.dev, in, out, w);
                cordon_tensor ta = ct_t2(it.dev, in, rk, a), tb = ct_t2(it.dev, rk, out, b);
                cordon_tensor ty = ct_t2(it.dev, rows, out, NULL), ym = ct_t2(it.dev, rows, out, NULL);
                cordon_lora_params p = {5.0f, (cordon_lora_scaling)sc};
                CHECK_OK(cordon_lora_linear(ty, tx, tw, CORDON_TENSOR_NONE, ta, tb, &p));
                cordon_tensor wo = in_place ? tw : ct_t2(it.dev, in, out, NULL);
                CHECK_OK(cordon_lora_merge(wo, tw, ta, tb, &p));
                /* The merged weight against W + s·A·B. */
                float *gw = ct_read(wo);
                double s = sc == 1 ? (double)(float)(5.0 / (double)rk) : (double)(float)(5.0 / sqrt((double)rk));
                double *ref = ct_dalloc(in * out), *mag = ct_dalloc(in * out);
                for (uint64_t i = 0; i < in; i++)
                    for (uint64_t j = 0; j < out; j++) {
                        double t = 0, tm = 0;
                        for (uint64_t q = 0; q < rk; q++) {
                            t += (double)a[i * rk + q] * b[q * out + j];
                            tm += fabs((double)a[i * rk + q] * b[q * out + j]);
                        }
                        ref[i * out + j] = w[i * out + j] + s * t;
                        mag[i * out + j] = fabs(w[i * out + j]) + fabs(s) * tm;
                    }
                CT_CLOSE("lora_merge", ct_cfg_name(it.cfg), gw, ref, mag, in * out, TOL_LORA, FLOOR_TINY);
                /* x·merged against the unmerged forward: both within the LoRA tolerance of the reference. */
                cordon_matmul_params mp;
                cordon_matmul_params_init(&mp);
                CHECK_OK(cordon_matmul(ym, tx, wo, &mp));
                float *y1 = ct_read(ty), *y2 = ct_read(ym);
                double *yr = ct_dalloc(rows * out), *ymag = ct_dalloc(rows * out);
                double *xd = ct_to_f64(x, rows * in), *wd = ct_to_f64(w, in * out), *ad = ct_to_f64(a, in * rk),
                       *bd = ct_to_f64(b, rk * out);
                ref_lora(yr, ymag, xd, wd, NULL, ad, bd, rows, in, out, rk, s);
                CT_CLOSE("lora_linear (unmerged)", ct_cfg_name(it.cfg), y1, yr, ymag, rows * out, TOL_LORA, FLOOR_TINY);
                CT_CLOSE("x·lora_merge", ct_cfg_name(it.cfg), y2, yr, ymag, rows * out, 2 * TOL_LORA, FLOOR_TINY);
                free(x), free(w), free(a), free(b), free(gw), free(ref), free(mag), free(y1), free(y2), free(yr),
                    free(ymag), free(xd), free(wd), free(ad), free(bd);
                if (!in_place) ct_destroy(wo);
                ct_destroy(tx), ct_destroy(tw), ct_destroy(ta), ct_destroy(tb), ct_destroy(ty), ct_destroy(ym);
            }
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Elementwise and RoPE */

TEST(add_and_mul_broadcast_exactly) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        uint64_t y[3] = {4, 5, 33}, a1[1] = {33}, a2[2] = {5, 1}, b3[3] = {4, 1, 33}, full[3] = {4, 5, 33};
        for (int op = EW_ADD; op <= EW_MUL; op++) {
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 3, y, 3, full, 3, full, 0, CT_CONTIG, CT_CONTIG, CT_CONTIG, -10, 10);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 3, y, 1, a1, 3, full, 2, CT_CONTIG, CT_CONTIG, CT_CONTIG, -10, 10);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 3, y, 2, a2, 3, full, 0, CT_SLICED, CT_COLSTRIDE,
                     CT_TRANSPOSED, -3, 3);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 3, y, 3, b3, 2, a2, 0, CT_COLSTRIDE, CT_CONTIG, CT_SLICED, -3, 3);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 3, y, 3, full, 3, full, 1, CT_TRANSPOSED, CT_SLICED, CT_CONTIG, -3, 3);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(scale_silu_gelu_and_their_gradients_match_reference) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        uint64_t sh[2] = {7, 301};
        for (int op = EW_SCALE; op < EW_OPS; op++) {
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 2, sh, 2, sh, 2, sh, 0, CT_CONTIG, CT_CONTIG, CT_CONTIG, -12, 12);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 2, sh, 2, sh, 2, sh, 1, CT_SLICED, CT_CONTIG, CT_CONTIG, -4, 4);
            check_ew(it.dev, it.cfg, &r, (ew_op)op, 2, sh, 2, sh, 2, sh, op >= EW_SILU_BWD ? 2 : 0, CT_TRANSPOSED,
                     CT_COLSTRIDE, CT_COLSTRIDE, -30, 30);
        }
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(rope_matches_reference_both_layouts_with_position0) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        uint64_t s4[4] = {2, 3, 9, 16}, s2[2] = {5, 2}, s3[3] = {2, 7, 130};
        for (int lay = 1; lay <= 2; lay++) {
            for (int inv = 0; inv < 2; inv++) {
                check_rope(it.dev, it.cfg, &r, 4, s4, (cordon_rope_layout)lay, 10000.0f, 0, inv, false, CT_CONTIG,
                           CT_CONTIG);
                check_rope(it.dev, it.cfg, &r, 2, s2, (cordon_rope_layout)lay, 500.0f, 77, inv, true, CT_CONTIG,
                           CT_CONTIG);
                check_rope(it.dev, it.cfg, &r, 3, s3, (cordon_rope_layout)lay, 1e6f, 4000, inv, false, CT_TRANSPOSED,
                           CT_SLICED);
                check_rope(it.dev, it.cfg, &r, 3, s3, (cordon_rope_layout)lay, 10000.0f, 123456, inv, false,
                           CT_COLSTRIDE, CT_COLSTRIDE);
            }
        }
    }
    ct_report();
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Backward against central finite differences of the f64 reference forward */

#define FD_TOL 1e-6 /* the f64 reference backward against finite differences */

/* The op's f32 gradient against the f64 finite difference: the op's tolerance plus the difference's. */
#define CT_CLOSE_FD(label, cfg, got, fd, mag, n, tol) CT_CLOSE(label, cfg, got, fd, mag, n, (tol) + FD_TOL, 1e-9)

typedef struct fd_softmax {
    double *x, *dy, *y;
    uint64_t rows, n;
    double scale;
} fd_softmax;

static double fd_softmax_loss(void *ctx) {
    fd_softmax *c = ctx;
    ref_softmax(c->y, c->x, NULL, c->rows, c->n, c->rows, c->scale, false);
    return ct_dotd(c->y, c->dy, (size_t)(c->rows * c->n));
}

TEST(softmax_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        uint64_t rows = 3, n = 7;
        float scale = 0.8f;
        float x[21], dy[21];
        ct_fill(&r, x, 21, -2, 2);
        ct_fill(&r, dy, 21, -1, 1);
        cordon_tensor tx = ct_t2(it.dev, rows, n, x), ty = ct_t2(it.dev, rows, n, NULL), tg = ct_t2(it.dev, rows, n, dy);
        cordon_tensor tdx = ct_t2(it.dev, rows, n, NULL);
        cordon_softmax_params p;
        cordon_softmax_params_init(&p);
        p.scale = scale;
        CHECK_OK(cordon_softmax(ty, tx, &p));
        CHECK_OK(cordon_softmax_backward(tdx, ty, tg, scale));
        float *got = ct_read(tdx);
        double xd[21], dyd[21], yd[21], fd[21], ref[21], mag[21];
        for (int i = 0; i < 21; i++) xd[i] = x[i], dyd[i] = dy[i];
        fd_softmax c = {xd, dyd, yd, rows, n, scale};
        ct_fd_grad(fd_softmax_loss, &c, xd, 21, fd);
        ref_softmax(yd, xd, NULL, rows, n, rows, scale, false);
        ref_softmax_bwd(ref, mag, yd, dyd, rows, n, scale);
        for (int i = 0; i < 21; i++) CHECK_MSG(fabs(ref[i] - fd[i]) <= FD_TOL * mag[i] + 1e-9, "ref vs fd at %d", i);
        CT_CLOSE_FD("softmax_backward vs fd", ct_cfg_name(it.cfg), got, fd, mag, 21, TOL_SOFTMAX_BWD);
        free(got);
        ct_destroy(tx), ct_destroy(ty), ct_destroy(tg), ct_destroy(tdx);
    }
    ct_iter_end(&it);
}

typedef struct fd_norm {
    double *x, *w, *b, *dy, *y;
    uint64_t rows, n;
    double eps;
    bool layer;
} fd_norm;

static double fd_norm_loss(void *ctx) {
    fd_norm *c = ctx;
    if (c->layer) {
        ref_layer_norm(c->y, NULL, c->x, c->w, c->b, c->rows, c->n, c->eps);
    } else {
        ref_rms_norm(c->y, c->x, c->w, c->rows, c->n, c->eps);
    }
    return ct_dotd(c->y, c->dy, (size_t)(c->rows * c->n));
}

TEST(rms_norm_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        enum { R = 3, N = 9 };
        float x[R * N], w[N], dy[R * N];
        ct_fill(&r, x, R * N, -2, 2);
        ct_fill(&r, w, N, -2, 2);
        ct_fill(&r, dy, R * N, -1, 1);
        float eps = 1e-3f;
        cordon_tensor tx = ct_t2(it.dev, R, N, x), tw = ct_t1(it.dev, N, w), tg = ct_t2(it.dev, R, N, dy);
        cordon_tensor tdx = ct_t2(it.dev, R, N, NULL), tdw = ct_t1(it.dev, N, NULL);
        CHECK_OK(cordon_rms_norm_backward(tdx, tdw, tg, tx, tw, eps));
        float *gx = ct_read(tdx), *gw = ct_read(tdw);
        double xd[R * N], wd[N], dyd[R * N], yd[R * N], fdx[R * N], fdw[N];
        double dx[R * N], dxm[R * N], dw[N], dwm[N];
        for (int i = 0; i < R * N; i++) xd[i] = x[i], dyd[i] = dy[i];
        for (int i = 0; i < N; i++) wd[i] = w[i];
        fd_norm c = {xd, wd, NULL, dyd, yd, R, N, eps, false};
        ct_fd_grad(fd_norm_loss, &c, xd, R * N, fdx);
        ct_fd_grad(fd_norm_loss, &c, wd, N, fdw);
        ref_rms_norm_bwd(dx, dxm, dw, dwm, dyd, xd, wd, R, N, eps);
        for (int i = 0; i < R * N; i++) CHECK_MSG(fabs(dx[i] - fdx[i]) <= FD_TOL * dxm[i] + 1e-9, "ref dx vs fd at %d", i);
        for (int i = 0; i < N; i++) CHECK_MSG(fabs(dw[i] - fdw[i]) <= FD_TOL * dwm[i] + 1e-9, "ref dw vs fd at %d", i);
        CT_CLOSE_FD("rms_norm_backward dx vs fd", ct_cfg_name(it.cfg), gx, fdx, dxm, R * N, TOL_RMS_BWD);
        CT_CLOSE_FD("rms_norm_backward dweight vs fd", ct_cfg_name(it.cfg), gw, fdw, dwm, N, TOL_RMS_BWD);
        free(gx), free(gw);
        ct_destroy(tx), ct_destroy(tw), ct_destroy(tg), ct_destroy(tdx), ct_destroy(tdw);
    }
    ct_iter_end(&it);
}

TEST(layer_norm_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        enum { R = 3, N = 8 };
        float x[R * N], g[N], b[N], dy[R * N];
        ct_fill(&r, x, R * N, -2, 2);
        ct_fill(&r, g, N, -2, 2);
        ct_fill(&r, b, N, -1, 1);
        ct_fill(&r, dy, R * N, -1, 1);
        float eps = 1e-3f;
        cordon_tensor tx = ct_t2(it.dev, R, N, x), tgam = ct_t1(it.dev, N, g), tg = ct_t2(it.dev, R, N, dy);
        cordon_tensor tdx = ct_t2(it.dev, R, N, NULL), tdg = ct_t1(it.dev, N, NULL), tdb = ct_t1(it.dev, N, NULL);
        CHECK_OK(cordon_layer_norm_backward(tdx, tdg, tdb, tg, tx, tgam, eps));
        float *gx = ct_read(tdx), *gg = ct_read(tdg), *gb = ct_read(tdb);
        double xd[R * N], gd[N], bd[N], dyd[R * N], yd[R * N], fdx[R * N], fdg[N], fdb[N];
        double dx[R * N], dxm[R * N], dg[N], dgm[N], db[N], dbm[N];
        for (int i = 0; i < R * N; i++) xd[i] = x[i], dyd[i] = dy[i];
        for (int i = 0; i < N; i++) gd[i] = g[i], bd[i] = b[i];
        fd_norm c = {xd, gd, bd, dyd, yd, R, N, eps, true};
        ct_fd_grad(fd_norm_loss, &c, xd, R * N, fdx);
        ct_fd_grad(fd_norm_loss, &c, gd, N, fdg);
        ct_fd_grad(fd_norm_loss, &c, bd, N, fdb);
        ref_layer_norm_bwd(dx, dxm, dg, dgm, db, dbm, dyd, xd, gd, R, N, eps);
        for (int i = 0; i < R * N; i++) CHECK_MSG(fabs(dx[i] - fdx[i]) <= FD_TOL * dxm[i] + 1e-9, "ref dx vs fd at %d", i);
        for (int i = 0; i < N; i++) {
            CHECK_MSG(fabs(dg[i] - fdg[i]) <= FD_TOL * dgm[i] + 1e-9, "ref dgamma vs fd at %d", i);
            CHECK_MSG(fabs(db[i] - fdb[i]) <= FD_TOL * dbm[i] + 1e-9, "ref dbeta vs fd at %d", i);
        }
        CT_CLOSE_FD("layer_norm_backward dx vs fd", ct_cfg_name(it.cfg), gx, fdx, dxm, R * N, TOL_LAYER_BWD);
        CT_CLOSE_FD("layer_norm_backward dgamma vs fd", ct_cfg_name(it.cfg), gg, fdg, dgm, N, TOL_LAYER_BWD);
        CT_CLOSE_FD("layer_norm_backward dbeta vs fd", ct_cfg_name(it.cfg), gb, fdb, dbm, N, TOL_LAYER_BWD);
        free(gx), free(gg), free(gb);
        ct_destroy(tx), ct_destroy(tgam), ct_destroy(tg), ct_destroy(tdx), ct_destroy(tdg), ct_destroy(tdb);
    }
    ct_iter_end(&it);
}

typedef struct fd_act {
    int kind; /* 0 silu, 1 gelu erf, 2 gelu tanh */
    double *x;
    size_t i;
} fd_act;

static double fd_act_loss(void *ctx) {
    fd_act *c = ctx;
    double x = c->x[c->i];
    return c->kind == 0 ? ref_silu(x) : c->kind == 1 ? ref_gelu_erf(x) : ref_gelu_tanh(x);
}

/* SiLU's special values at every level (the vector kernels take them through their exponential):
 * silu(-inf) = -0, silu(+inf) = +inf, NaN → NaN, silu(±0) = ±0, far negative → -0; silu'(+inf) = 1,
 * silu'(-inf) = 0, silu'(0) = 0.5. 19 elements: whole vectors and a tail at every level, each special
 * value in both. */
TEST(silu_special_values_at_every_level) {
    static const float xs[19] = {-INFINITY, INFINITY, NAN, 0.0f, -0.0f, -200.0f, 200.0f, 1.0f, -1.0f, 3.0f,
                                 -3.0f, 0.5f, 2.0f, -INFINITY, INFINITY, NAN, 0.0f, -200.0f, 200.0f};
    float ones[19];
    for (size_t i = 0; i < 19; i++) {
        ones[i] = 1.0f;
    }
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        cordon_tensor tx = ct_t1(it.dev, 19, xs), ty = ct_t1(it.dev, 19, NULL), tg = ct_t1(it.dev, 19, ones),
                      td = ct_t1(it.dev, 19, NULL);
        CHECK_OK(cordon_silu(ty, tx));
        CHECK_OK(cordon_silu_backward(td, tg, tx));
        float *y = ct_read(ty), *d = ct_read(td);
        for (size_t i = 0; i < 19; i++) {
            float x = xs[i];
            if (x != x) {
                CHECK_MSG(y[i] != y[i] && d[i] != d[i], "[%s] silu(NaN) %g, grad %g", ct_cfg_name(it.cfg), (double)y[i],
                          (double)d[i]);
            } else if (x == -INFINITY || x == -200.0f) {
                CHECK_MSG(y[i] == 0.0f && signbit(y[i]) && d[i] == 0.0f, "[%s] x %g: silu %g, grad %g",
                          ct_cfg_name(it.cfg), (double)x, (double)y[i], (double)d[i]);
            } else if (x == INFINITY || x == 200.0f) {
                CHECK_MSG(y[i] == x && d[i] == 1.0f, "[%s] x %g: silu %g, grad %g", ct_cfg_name(it.cfg), (double)x,
                          (double)y[i], (double)d[i]);
            } else if (x == 0.0f) {
                CHECK_MSG(y[i] == 0.0f && signbit(y[i]) == signbit(x) && d[i] == 0.5f, "[%s] x %g: silu %g, grad %g",
                          ct_cfg_name(it.cfg), (double)x, (double)y[i], (double)d[i]);
            } else {
                double ref = (double)x / (1.0 + exp(-(double)x));
                CHECK_MSG(fabs((double)y[i] - ref) <= 4e-7 * fabs(ref), "[%s] silu(%g) = %.9g, want %.9g",
                          ct_cfg_name(it.cfg), (double)x, (double)y[i], ref);
            }
        }
        free(y), free(d);
        ct_destroy(tx), ct_destroy(ty), ct_destroy(tg), ct_destroy(td);
    }
    ct_report();
    ct_iter_end(&it);
}

TEST(silu_and_gelu_gradients_match_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        enum { N = 41 };
        float x[N], ones[N];
        for (int i = 0; i < N; i++) {
            x[i] = (float)(-10.0 + 0.5 * i) + 0.013f;
            ones[i] = 1.0f;
        }
        cordon_tensor tx = ct_t1(it.dev, N, x), tg = ct_t1(it.dev, N, ones), tdx = ct_t1(it.dev, N, NULL);
        for (int kind = 0; kind < 3; kind++) {
            if (kind == 0) {
                CHECK_OK(cordon_silu_backward(tdx, tg, tx));
            } else {
                CHECK_OK(cordon_gelu_backward(tdx, tg, tx, kind == 1 ? CORDON_GELU_ERF : CORDON_GELU_TANH));
            }
            float *got = ct_read(tdx);
            double xd[N], fd[N], mag[N];
            for (int i = 0; i < N; i++) xd[i] = x[i];
            for (int i = 0; i < N; i++) {
                fd_act c = {kind, xd, (size_t)i};
                ct_fd_grad(fd_act_loss, &c, &xd[i], 1, &fd[i]);
                mag[i] = kind == 0 ? ref_silu_grad_mag(xd[i]) : kind == 1 ? ref_gelu_erf_grad_mag(xd[i])
                                                                          : ref_gelu_tanh_grad_mag(xd[i]);
                double an = kind == 0 ? ref_silu_grad(xd[i]) : kind == 1 ? ref_gelu_erf_grad(xd[i]) : ref_gelu_tanh_grad(xd[i]);
                CHECK_MSG(fabs(an - fd[i]) <= FD_TOL * mag[i] + 1e-9, "kind %d: reference gradient vs fd at x=%g", kind,
                          xd[i]);
            }
            static const char *const names[3] = {"silu_backward vs fd", "gelu_erf_backward vs fd",
                                                 "gelu_tanh_backward vs fd"};
            CT_CLOSE_FD(names[kind], ct_cfg_name(it.cfg), got, fd, mag, N, kind == 0 ? TOL_SILU : TOL_GELU);
            free(got);
        }
        ct_destroy(tx), ct_destroy(tg), ct_destroy(tdx);
    }
    ct_report();
    ct_iter_end(&it);
}

typedef struct fd_rope {
    double *x, *dy, *y;
    uint64_t rows, D, T, p0;
    double base;
    bool half;
} fd_rope;

static double fd_rope_loss(void *ctx) {
    fd_rope *c = ctx;
    ref_rope(c->y, NULL, c->x, c->rows, c->D, c->T, c->p0, c->base, c->half, false);
    return ct_dotd(c->y, c->dy, (size_t)(c->rows * c->D));
}

TEST(rope_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        enum { T = 4, D = 6 };
        for (int lay = 1; lay <= 2; lay++) {
            float x[T * D], dy[T * D];
            ct_fill(&r, x, T * D, -1, 1);
            ct_fill(&r, dy, T * D, -1, 1);
            cordon_tensor tg = ct_t2(it.dev, T, D, dy), tdx = ct_t2(it.dev, T, D, NULL);
            cordon_rope_params p = {(cordon_rope_layout)lay, 100.0f, 3};
            CHECK_OK(cordon_rope_backward(tdx, tg, &p));
            float *got = ct_read(tdx);
            double xd[T * D], dyd[T * D], yd[T * D], fd[T * D], mag[T * D], ref[T * D];
            for (int i = 0; i < T * D; i++) xd[i] = x[i], dyd[i] = dy[i];
            fd_rope c = {xd, dyd, yd, T, D, T, 3, 100.0, lay == 2};
            ct_fd_grad(fd_rope_loss, &c, xd, T * D, fd);
            ref_rope(ref, mag, dyd, T, D, T, 3, 100.0, lay == 2, true);
            for (int i = 0; i < T * D; i++) CHECK_MSG(fabs(ref[i] - fd[i]) <= FD_TOL * mag[i] + 1e-9, "ref vs fd at %d", i);
            CT_CLOSE_FD("rope_backward vs fd", ct_cfg_name(it.cfg), got, fd, mag, T * D, TOL_ROPE);
            free(got);
            ct_destroy(tg), ct_destroy(tdx);
        }
    }
    ct_iter_end(&it);
}

typedef struct fd_attn {
    ref_attn_shape s;
    double *q, *k, *v, *mask, *dout, *out;
    double scale;
    bool causal;
} fd_attn;

static double fd_attn_loss(void *ctx) {
    fd_attn *c = ctx;
    ref_attention(c->out, NULL, &c->s, c->q, c->k, c->v, c->mask, c->scale, c->causal);
    return ct_dotd(c->out, c->dout, (size_t)(c->s.B * c->s.Hq * c->s.Tq * c->s.Dv));
}

TEST(attention_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        for (int causal = 0; causal < 2; causal++) {
            ref_attn_shape s = {1, 4, 2, 3, 5, 4, 3};
            size_t nq = 4 * 3 * 4, nk = 2 * 5 * 4, nv = 2 * 5 * 3, no = 4 * 3 * 3, nm = 3 * 5;
            float q[48], k[40], v[30], go[36], m[15];
            ct_fill(&r, q, nq, -1, 1);
            ct_fill(&r, k, nk, -1, 1);
            ct_fill(&r, v, nv, -1, 1);
            ct_fill(&r, go, no, -1, 1);
            ct_fill(&r, m, nm, -1, 1);
            m[4] = -INFINITY;
            cordon_tensor tq = ct_t4(it.dev, 1, 4, 3, 4, q), tk = ct_t4(it.dev, 1, 2, 5, 4, k);
            cordon_tensor tv = ct_t4(it.dev, 1, 2, 5, 3, v), tgo = ct_t4(it.dev, 1, 4, 3, 3, go);
            cordon_tensor tm = ct_t2(it.dev, 3, 5, m);
            cordon_tensor dq = ct_t4(it.dev, 1, 4, 3, 4, NULL), dk = ct_t4(it.dev, 1, 2, 5, 4, NULL),
                          dv = ct_t4(it.dev, 1, 2, 5, 3, NULL);
            cordon_attention_params p;
            cordon_attention_params_init(&p);
            p.causal = causal;
            p.mask = tm;
            CHECK_OK(cordon_attention_backward(dq, dk, dv, tgo, tq, tk, tv, &p));
            float *gq = ct_read(dq), *gk = ct_read(dk), *gv = ct_read(dv);
            double qd[48], kd[40], vd[30], god[36], out[36], mfull[60];
            for (size_t i = 0; i < nq; i++) qd[i] = q[i];
            for (size_t i = 0; i < nk; i++) kd[i] = k[i];
            for (size_t i = 0; i < nv; i++) vd[i] = v[i];
            for (size_t i = 0; i < no; i++) god[i] = go[i];
            for (size_t i = 0; i < 60; i++) mfull[i] = m[i % 15];
            double scale = (double)(float)(1.0 / sqrt(4.0));
            fd_attn c = {s, qd, kd, vd, mfull, god, out, scale, causal};
            double fq[48], fk[40], fv[30], rq[48], rqm[48], rk[40], rkm[40], rv[30], rvm[30];
            ct_fd_grad(fd_attn_loss, &c, qd, nq, fq);
            ct_fd_grad(fd_attn_loss, &c, kd, nk, fk);
            ct_fd_grad(fd_attn_loss, &c, vd, nv, fv);
            ref_attention_bwd(rq, rqm, rk, rkm, rv, rvm, &s, god, qd, kd, vd, mfull, scale, causal);
            for (size_t i = 0; i < nq; i++) CHECK_MSG(fabs(rq[i] - fq[i]) <= FD_TOL * rqm[i] + 1e-9, "ref dq vs fd %zu", i);
            for (size_t i = 0; i < nk; i++) CHECK_MSG(fabs(rk[i] - fk[i]) <= FD_TOL * rkm[i] + 1e-9, "ref dk vs fd %zu", i);
            for (size_t i = 0; i < nv; i++) CHECK_MSG(fabs(rv[i] - fv[i]) <= FD_TOL * rvm[i] + 1e-9, "ref dv vs fd %zu", i);
            CT_CLOSE_FD("attention_backward dq vs fd", ct_cfg_name(it.cfg), gq, fq, rqm, nq, TOL_ATTN_BWD);
            CT_CLOSE_FD("attention_backward dk vs fd", ct_cfg_name(it.cfg), gk, fk, rkm, nk, TOL_ATTN_BWD);
            CT_CLOSE_FD("attention_backward dv vs fd", ct_cfg_name(it.cfg), gv, fv, rvm, nv, TOL_ATTN_BWD);
            free(gq), free(gk), free(gv);
            ct_destroy(tq), ct_destroy(tk), ct_destroy(tv), ct_destroy(tgo), ct_destroy(tm), ct_destroy(dq),
                ct_destroy(dk), ct_destroy(dv);
        }
    }
    ct_iter_end(&it);
}

typedef struct fd_lora {
    double *x, *w, *a, *b, *dy, *y;
    uint64_t rows, in, out, r;
    double s;
} fd_lora;

static double fd_lora_loss(void *ctx) {
    fd_lora *c = ctx;
    ref_lora(c->y, NULL, c->x, c->w, NULL, c->a, c->b, c->rows, c->in, c->out, c->r, c->s);
    return ct_dotd(c->y, c->dy, (size_t)(c->rows * c->out));
}

TEST(lora_backward_matches_finite_differences) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        enum { ROWS = 4, IN = 5, OUT = 6, RK = 2 };
        float x[ROWS * IN], w[IN * OUT], a[IN * RK], b[RK * OUT], dy[ROWS * OUT];
        ct_fill(&r, x, ROWS * IN, -1, 1);
        ct_fill(&r, w, IN * OUT, -1, 1);
        ct_fill(&r, a, IN * RK, -1, 1);
        ct_fill(&r, b, RK * OUT, -1, 1);
        ct_fill(&r, dy, ROWS * OUT, -1, 1);
        cordon_tensor tx = ct_t2(it.dev, ROWS, IN, x), tw = ct_t2(it.dev, IN, OUT, w), ta = ct_t2(it.dev, IN, RK, a);
        cordon_tensor tb = ct_t2(it.dev, RK, OUT, b), tg = ct_t2(it.dev, ROWS, OUT, dy);
        cordon_tensor dx = ct_t2(it.dev, ROWS, IN, NULL), da = ct_t2(it.dev, IN, RK, NULL), db = ct_t2(it.dev, RK, OUT, NULL);
        cordon_lora_params p = {3.0f, CORDON_LORA_SCALE_RSLORA};
        CHECK_OK(cordon_lora_linear_backward(dx, da, db, tg, tx, tw, ta, tb, &p));
        float *gx = ct_read(dx), *ga = ct_read(da), *gb = ct_read(db);
        double xd[ROWS * IN], wd[IN * OUT], ad[IN * RK], bd[RK * OUT], dyd[ROWS * OUT], yd[ROWS * OUT];
        for (int i = 0; i < ROWS * IN; i++) xd[i] = x[i];
        for (int i = 0; i < IN * OUT; i++) wd[i] = w[i];
        for (int i = 0; i < IN * RK; i++) ad[i] = a[i];
        for (int i = 0; i < RK * OUT; i++) bd[i] = b[i];
        for (int i = 0; i < ROWS * OUT; i++) dyd[i] = dy[i];
        double s = (double)(float)(3.0 / sqrt(2.0));
        fd_lora c = {xd, wd, ad, bd, dyd, yd, ROWS, IN, OUT, RK, s};
        double fx[ROWS * IN], fa[IN * RK], fb[RK * OUT];
        ct_fd_grad(fd_lora_loss, &c, xd, ROWS * IN, fx);
        ct_fd_grad(fd_lora_loss, &c, ad, IN * RK, fa);
        ct_fd_grad(fd_lora_loss, &c, bd, RK * OUT, fb);
        double rx[ROWS * IN], rxm[ROWS * IN], ra[IN * RK], ram[IN * RK], rb[RK * OUT], rbm[RK * OUT];
        ref_lora_bwd(rx, rxm, ra, ram, rb, rbm, dyd, xd, wd, ad, bd, ROWS, IN, OUT, RK, s);
        for (int i = 0; i < ROWS * IN; i++) CHECK_MSG(fabs(rx[i] - fx[i]) <= FD_TOL * rxm[i] + 1e-9, "ref dx vs fd %d", i);
        for (int i = 0; i < IN * RK; i++) CHECK_MSG(fabs(ra[i] - fa[i]) <= FD_TOL * ram[i] + 1e-9, "ref dA vs fd %d", i);
        for (int i = 0; i < RK * OUT; i++) CHECK_MSG(fabs(rb[i] - fb[i]) <= FD_TOL * rbm[i] + 1e-9, "ref dB vs fd %d", i);
        CT_CLOSE_FD("lora_backward dx vs fd", ct_cfg_name(it.cfg), gx, fx, rxm, ROWS * IN, TOL_LORA);
        CT_CLOSE_FD("lora_backward dA vs fd", ct_cfg_name(it.cfg), ga, fa, ram, IN * RK, TOL_LORA);
        CT_CLOSE_FD("lora_backward dB vs fd", ct_cfg_name(it.cfg), gb, fb, rbm, RK * OUT, TOL_LORA);
        free(gx), free(ga), free(gb);
        ct_destroy(tx), ct_destroy(tw), ct_destroy(ta), ct_destroy(tb), ct_destroy(tg), ct_destroy(dx), ct_destroy(da),
            ct_destroy(db);
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Issue 14, item 4: beta = 0 never reads C; alpha = 0 never reads A or B */

static void nan_fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = NAN;
}

TEST(matmul_beta_zero_never_lets_nan_in_c_reach_the_result) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        /* gemm shapes, the M = 1 (gemv) shape, a transposed B, and a strided C. */
        static const uint64_t shapes[][3] = {{7, 9, 5}, {1, 40, 33}, {40, 1, 17}, {64, 64, 64}};
        for (size_t s = 0; s < 4; s++) {
            for (int tb = 0; tb < 2; tb++) {
                uint64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                float *a = ct_falloc(M * K), *b = ct_falloc(K * N), *c = ct_falloc(M * N);
                for (size_t i = 0; i < M * K; i++) a[i] = 1.0f;
                for (size_t i = 0; i < K * N; i++) b[i] = 2.0f;
                nan_fill(c, M * N);
                uint64_t ash[2] = {M, K}, bsh[2] = {tb ? N : K, tb ? K : N}, csh[2] = {M, N};
                ct_view va = ct_view_make(it.dev, 2, ash, CT_CONTIG, a), vb = ct_view_make(it.dev, 2, bsh, CT_CONTIG, b);
                ct_view vc = ct_view_make(it.dev, 2, csh, s == 3 ? CT_SLICED : CT_CONTIG, c);
                cordon_matmul_params p = {1.0f, 0.0f, false, tb};
                CHECK_OK(cordon_matmul(vc.t, va.t, vb.t, &p));
                float *got = ct_read(vc.t);
                for (size_t i = 0; i < M * N; i++) {
                    CHECK_MSG(got[i] == 2.0f * (float)K, "[%s] M%" PRIu64 " N%" PRIu64 " K%" PRIu64 ": C[%zu] = %g",
                              ct_cfg_name(it.cfg), M, N, K, i, (double)got[i]);
                }
                free(a), free(b), free(c), free(got);
                ct_view_free(&va), ct_view_free(&vb), ct_view_free(&vc);
            }
        }
    }
    ct_iter_end(&it);
}

TEST(matmul_alpha_zero_never_reads_a_or_b) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        static const uint64_t shapes[][3] = {{7, 9, 5}, {1, 40, 33}, {33, 70, 300}};
        for (size_t s = 0; s < 3; s++) {
            for (int beta_zero = 0; beta_zero < 2; beta_zero++) {
                uint64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                float *a = ct_falloc(M * K), *b = ct_falloc(K * N), *c = ct_falloc(M * N);
                nan_fill(a, M * K);
                for (size_t i = 0; i < K * N; i++) b[i] = i % 3 ? NAN : INFINITY;
                for (size_t i = 0; i < M * N; i++) c[i] = (float)i;
                cordon_tensor ta = ct_t2(it.dev, M, K, a), tb = ct_t2(it.dev, K, N, b), tc = ct_t2(it.dev, M, N, c);
                cordon_matmul_params p = {0.0f, beta_zero ? 0.0f : -0.5f, false, false};
                CHECK_OK(cordon_matmul(tc, ta, tb, &p));
                float *got = ct_read(tc);
                for (size_t i = 0; i < M * N; i++) {
                    float want = beta_zero ? 0.0f : -0.5f * (float)i;
                    CHECK_MSG(got[i] == want, "[%s] alpha 0, beta %g: C[%zu] = %g, expected %g", ct_cfg_name(it.cfg),
                              (double)p.beta, i, (double)got[i], (double)want);
                }
                free(a), free(b), free(c), free(got);
                ct_destroy(ta), ct_destroy(tb), ct_destroy(tc);
            }
        }
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Issue 14, item 5: fully masked rows give zeros and zero gradients */

TEST(softmax_fully_masked_row_gives_zeros_and_zero_gradient) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        enum { R = 3, C = 20 };
        float x[R * C], m[R * C], dy[R * C];
        for (int i = 0; i < R * C; i++) {
            x[i] = (float)(i % 7) - 3.0f;
            m[i] = i / C == 1 ? -INFINITY : 0.0f; /* row 1 fully masked */
            dy[i] = (float)(i % 5) - 2.0f;
        }
        cordon_tensor tx = ct_t2(it.dev, R, C, x), tm = ct_t2(it.dev, R, C, m), ty = ct_t2(it.dev, R, C, NULL);
        cordon_tensor tg = ct_t2(it.dev, R, C, dy), tdx = ct_t2(it.dev, R, C, NULL);
        cordon_softmax_params p;
        cordon_softmax_params_init(&p);
        p.mask = tm;
        CHECK_OK(cordon_softmax(ty, tx, &p));
        float *y = ct_read(ty);
        CHECK_OK(cordon_softmax_backward(tdx, ty, tg, 1.0f));
        float *dx = ct_read(tdx);
        for (int j = 0; j < C; j++) {
            CHECK_MSG(y[C + j] == 0.0f && !signbit(y[C + j]), "[%s] y[1][%d] = %g", ct_cfg_name(it.cfg), j, (double)y[C + j]);
            CHECK_MSG(dx[C + j] == 0.0f, "[%s] dx[1][%d] = %g", ct_cfg_name(it.cfg), j, (double)dx[C + j]);
        }
        double s0 = 0, s2 = 0;
        for (int j = 0; j < C; j++) s0 += y[j], s2 += y[2 * C + j];
        /* A partly masked row: every removed element is exactly +0, its gradient too. */
        m[3] = m[7] = -INFINITY;
        x[0] = 30.0f; /* one dominant element: the row sum is about 1, so nothing tiny rounds away */
        ct_write(tm, m);
        ct_write(tx, x);
        CHECK_OK(cordon_softmax(ty, tx, &p));
        CHECK_OK(cordon_softmax_backward(tdx, ty, tg, 1.0f));
        float *yp = ct_read(ty), *dxp = ct_read(tdx);
        CHECK_MSG(yp[3] == 0.0f && yp[7] == 0.0f, "[%s] masked elements give %g and %g, not 0", ct_cfg_name(it.cfg),
                  (double)yp[3], (double)yp[7]);
        CHECK(dxp[3] == 0.0f && dxp[7] == 0.0f && yp[4] > 0.0f);
        free(yp), free(dxp);
        CHECK(fabs(s0 - 1.0) < 1e-5 && fabs(s2 - 1.0) < 1e-5);
        /* Causal with fewer columns than rows: the first rows see nothing. */
        cordon_tensor tc = ct_t2(it.dev, 5, 2, x), tyc = ct_t2(it.dev, 5, 2, NULL);
        cordon_softmax_params_init(&p);
        p.causal = true;
        CHECK_OK(cordon_softmax(tyc, tc, &p));
        float *yc = ct_read(tyc);
        for (int i = 0; i < 3; i++) CHECK(yc[2 * i] == 0.0f && yc[2 * i + 1] == 0.0f);
        CHECK(yc[6] == 1.0f && yc[7] == 0.0f);
        free(y), free(dx), free(yc);
        ct_destroy(tx), ct_destroy(tm), ct_destroy(ty), ct_destroy(tg), ct_destroy(tdx), ct_destroy(tc), ct_destroy(tyc);
    }
    ct_iter_end(&it);
}

TEST(attention_fully_masked_query_gives_zeros_and_zero_gradient) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        ct_rng r = {SEED};
        enum { H = 2, TQ = 3, TK = 4, D = 5 };
        float q[H * TQ * D], k[TK * D], v[TK * D], go[H * TQ * D], m[TQ * TK];
        ct_fill(&r, q, H * TQ * D, -1, 1);
        ct_fill(&r, k, TK * D, -1, 1);
        ct_fill(&r, v, TK * D, -1, 1);
        ct_fill(&r, go, H * TQ * D, -1, 1);
        for (int i = 0; i < TQ * TK; i++) m[i] = i / TK == 1 ? -INFINITY : 0.0f; /* query 1 sees no key */
        cordon_tensor tq = ct_t4(it.dev, 1, H, TQ, D, q), tk = ct_t4(it.dev, 1, 1, TK, D, k);
        cordon_tensor tv = ct_t4(it.dev, 1, 1, TK, D, v), tgo = ct_t4(it.dev, 1, H, TQ, D, go);
        cordon_tensor tm = ct_t2(it.dev, TQ, TK, m), to = ct_t4(it.dev, 1, H, TQ, D, NULL);
        cordon_tensor dq = ct_t4(it.dev, 1, H, TQ, D, NULL), dk = ct_t4(it.dev, 1, 1, TK, D, NULL),
                      dv = ct_t4(it.dev, 1, 1, TK, D, NULL);
        cordon_attention_params p;
        cordon_attention_params_init(&p);
        p.mask = tm;
        CHECK_OK(cordon_attention(to, tq, tk, tv, &p));
        CHECK_OK(cordon_attention_backward(dq, dk, dv, tgo, tq, tk, tv, &p));
        float *o = ct_read(to), *gq = ct_read(dq), *gk = ct_read(dk), *gv = ct_read(dv);
        for (int h = 0; h < H; h++) {
            for (int e = 0; e < D; e++) {
                size_t i = ((size_t)h * TQ + 1) * D + (size_t)e;
                CHECK_MSG(o[i] == 0.0f, "[%s] out of the masked query = %g", ct_cfg_name(it.cfg), (double)o[i]);
                CHECK_MSG(gq[i] == 0.0f, "[%s] dq of the masked query = %g", ct_cfg_name(it.cfg), (double)gq[i]);
            }
        }
        for (int i = 0; i < TK * D; i++) CHECK(isfinite(gk[i]) && isfinite(gv[i]));
        /* Keys masked for every query get no gradient at all: exactly zero. */
        for (int i = 0; i < TQ * TK; i++) m[i] = i % TK == 2 ? -INFINITY : m[i];
        ct_write(tm, m);
        CHECK_OK(cordon_attention_backward(dq, dk, dv, tgo, tq, tk, tv, &p));
        free(gk), free(gv);
        gk = ct_read(dk), gv = ct_read(dv);
        for (int e = 0; e < D; e++) {
            CHECK_MSG(gk[2 * D + e] == 0.0f && gv[2 * D + e] == 0.0f, "[%s] masked key 2: dk %g, dv %g",
                      ct_cfg_name(it.cfg), (double)gk[2 * D + e], (double)gv[2 * D + e]);
        }
        /* Every query masked: every gradient is zero. */
        for (int i = 0; i < TQ * TK; i++) m[i] = -INFINITY;
        ct_write(tm, m);
        CHECK_OK(cordon_attention(to, tq, tk, tv, &p));
        CHECK_OK(cordon_attention_backward(dq, dk, dv, tgo, tq, tk, tv, &p));
        free(o), free(gq), free(gk), free(gv);
        o = ct_read(to), gq = ct_read(dq), gk = ct_read(dk), gv = ct_read(dv);
        for (int i = 0; i < H * TQ * D; i++) CHECK(o[i] == 0.0f && gq[i] == 0.0f);
        for (int i = 0; i < TK * D; i++) CHECK(gk[i] == 0.0f && gv[i] == 0.0f);
        free(o), free(gq), free(gk), free(gv);
        ct_destroy(tq), ct_destroy(tk), ct_destroy(tv), ct_destroy(tgo), ct_destroy(tm), ct_destroy(to), ct_destroy(dq),
            ct_destroy(dk), ct_destroy(dv);
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Issue 14, item 6: RoPE layouts and GELU modes, named */

TEST(rope_layouts_match_hand_computed_values_and_differ) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        /* D = 4, base 100, position 1 (position0 = 1, one row): pair 0 turns by 1 rad, pair 1 by
         * 1·100^(-2/4) = 0.1 rad. x = (1, 2, 3, 4). */
        float x[4] = {1, 2, 3, 4};
        cordon_tensor tx = ct_t2(it.dev, 1, 4, x), ty = ct_t2(it.dev, 1, 4, NULL);
        double c1 = cos(1.0), s1 = sin(1.0), c2 = cos(0.1), s2 = sin(0.1);
        /* Interleaved: pairs (x0, x1) by 1 rad and (x2, x3) by 0.1 rad. */
        double inter[4] = {1 * c1 - 2 * s1, 1 * s1 + 2 * c1, 3 * c2 - 4 * s2, 3 * s2 + 4 * c2};
        /* Half: pairs (x0, x2) by 1 rad and (x1, x3) by 0.1 rad. */
        double half[4] = {1 * c1 - 3 * s1, 2 * c2 - 4 * s2, 1 * s1 + 3 * c1, 2 * s2 + 4 * c2};
        cordon_rope_params p = {CORDON_ROPE_INTERLEAVED, 100.0f, 1};
        CHECK_OK(cordon_rope(ty, tx, &p));
        float *yi = ct_read(ty);
        p.layout = CORDON_ROPE_HALF;
        CHECK_OK(cordon_rope(ty, tx, &p));
        float *yh = ct_read(ty);
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(fabs(yi[i] - inter[i]) <= 1e-6 * 5, "[%s] interleaved[%d] = %.9g, expected %.9g", ct_cfg_name(it.cfg),
                      i, (double)yi[i], inter[i]);
            CHECK_MSG(fabs(yh[i] - half[i]) <= 1e-6 * 5, "[%s] half[%d] = %.9g, expected %.9g", ct_cfg_name(it.cfg), i,
                      (double)yh[i], half[i]);
        }
        CHECK(memcmp(yi, yh, sizeof(float) * 4) != 0);
        /* Position 0 is the identity; an unnamed layout (0) is refused and writes nothing. */
        p.position0 = 0;
        CHECK_OK(cordon_rope(ty, tx, &p));
        float *y0 = ct_read(ty);
        CHECK(memcmp(y0, x, sizeof x) == 0);
        p.layout = (cordon_rope_layout)0;
        CHECK_STATUS(cordon_rope(ty, tx, &p), CORDON_INVALID_ARGUMENT);
        CHECK_STATUS(cordon_rope_backward(ty, tx, &p), CORDON_INVALID_ARGUMENT);
        float *y1 = ct_read(ty);
        CHECK(memcmp(y1, y0, sizeof x) == 0);
        free(yi), free(yh), free(y0), free(y1);
        ct_destroy(tx), ct_destroy(ty);
    }
    ct_iter_end(&it);
}

TEST(gelu_modes_are_named_and_an_unnamed_mode_is_refused) {
    ct_iter it;
    ct_iter_init(&it, false);
    while (ct_iter_next(&it)) {
        float x[4] = {1.0f, -1.0f, 2.0f, -3.0f};
        /* x·Φ(x) and x/2·(1 + tanh(√(2/π)(x + 0.044715x³))), computed in f64. */
        double erf_ref[4], tanh_ref[4];
        for (int i = 0; i < 4; i++) {
            double v = x[i];
            erf_ref[i] = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
            tanh_ref[i] = 0.5 * v * (1.0 + tanh(sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        }
        cordon_tensor tx = ct_t1(it.dev, 4, x), ty = ct_t1(it.dev, 4, NULL), tg = ct_t1(it.dev, 4, x);
        CHECK_OK(cordon_gelu(ty, tx, CORDON_GELU_ERF));
        float *ye = ct_read(ty);
        CHECK_OK(cordon_gelu(ty, tx, CORDON_GELU_TANH));
        float *yt = ct_read(ty);
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(fabs(ye[i] - erf_ref[i]) <= 1e-6, "erf mode at %g: %.9g vs %.9g", (double)x[i], (double)ye[i],
                      erf_ref[i]);
            CHECK_MSG(fabs(yt[i] - tanh_ref[i]) <= 1e-6, "tanh mode at %g: %.9g vs %.9g", (double)x[i], (double)yt[i],
                      tanh_ref[i]);
            CHECK(ye[i] != yt[i]); /* the two forms differ at these points (by about 1e-4) */
        }
        /* Mode 0 (and any unnamed value) is refused, forward and backward, writing nothing. */
        CHECK_STATUS(cordon_gelu(ty, tx, (cordon_gelu_mode)0), CORDON_INVALID_ARGUMENT);
        CHECK_STATUS(cordon_gelu(ty, tx, (cordon_gelu_mode)3), CORDON_INVALID_ARGUMENT);
        CHECK_STATUS(cordon_gelu_backward(ty, tg, tx, (cordon_gelu_mode)0), CORDON_INVALID_ARGUMENT);
        float *after = ct_read(ty);
        CHECK(memcmp(after, yt, sizeof x) == 0);
        free(ye), free(yt), free(after);
        ct_destroy(tx), ct_destroy(ty), ct_destroy(tg);
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Issue 14, item 7: accumulation in f32 at least. A sum of 4096 ones stalls at 256 in bf16 and at
 * 2048 in f16; 1 + 4095·2^-12 loses every small term below f32. */

TEST(long_reductions_accumulate_in_f32_at_least) {
    ct_iter it;
    ct_iter_init(&it, true);
    while (ct_iter_next(&it)) {
        enum { K = 4096 };
        float *ones = ct_falloc(K), *small = ct_falloc(K);
        for (int i = 0; i < K; i++) {
            ones[i] = 1.0f;
            small[i] = i == 0 ? 1.0f : 1.0f / 4096.0f;
        }
        /* matmul (gemv and gemm) */
        cordon_tensor a = ct_t2(it.dev, 1, K, ones), b = ct_t2(it.dev, K, 1, ones), c = ct_t2(it.dev, 1, 1, NULL);
        cordon_tensor a2 = ct_t2(it.dev, 2, K, NULL), c2 = ct_t2(it.dev, 2, 1, NULL), bs = ct_t2(it.dev, K, 1, small);
        float two[2 * K];
        for (int i = 0; i < 2 * K; i++) two[i] = 1.0f;
        ct_write(a2, two);
        cordon_matmul_params p;
        cordon_matmul_params_init(&p);
        CHECK_OK(cordon_matmul(c, a, b, &p));
        float *g = ct_read(c);
        CHECK_MSG(g[0] == 4096.0f, "[%s] sum of 4096 ones = %g", ct_cfg_name(it.cfg), (double)g[0]);
        free(g);
        CHECK_OK(cordon_matmul(c2, a2, bs, &p));
        g = ct_read(c2);
        double want = 1.0 + 4095.0 / 4096.0;
        CHECK_MSG(fabs(g[0] - want) <= 1e-6 && fabs(g[1] - want) <= 1e-6, "[%s] 1 + 4095/4096 = %.9g",
                  ct_cfg_name(it.cfg), (double)g[0]);
        free(g);
        /* softmax over 4096 equal elements: each exactly 1/4096 */
        cordon_tensor sy = ct_t2(it.dev, 1, K, NULL);
        CHECK_OK(cordon_softmax(sy, a, NULL));
        g = ct_read(sy);
        for (int i = 0; i < K; i++) CHECK_MSG(fabs(g[i] - 1.0 / 4096.0) <= 1e-5 / 4096.0, "softmax[%d] = %g", i, (double)g[i]);
        free(g);
        /* RMSNorm and LayerNorm of a row of ones and of (1, 2^-12, …): the mean of squares is exact */
        cordon_tensor w = ct_t1(it.dev, K, ones), ny = ct_t2(it.dev, 1, K, NULL), xs = ct_t2(it.dev, 1, K, small);
        CHECK_OK(cordon_rms_norm(ny, a, w, 0.0f));
        g = ct_read(ny);
        for (int i = 0; i < K; i++) CHECK(g[i] == 1.0f);
        free(g);
        CHECK_OK(cordon_layer_norm(ny, xs, CORDON_TENSOR_NONE, CORDON_TENSOR_NONE, 0.0f));
        g = ct_read(ny);
        double mean = (1.0 + 4095.0 / 4096.0) / 4096.0, var = 0;
        for (int i = 0; i < K; i++) var += ((double)small[i] - mean) * ((double)small[i] - mean);
        double rstd = 1.0 / sqrt(var / K);
        CHECK_MSG(fabs(g[0] - (1.0 - mean) * rstd) <= 1e-5 * fabs((1.0 - mean) * rstd), "layer_norm[0] = %.9g vs %.9g",
                  (double)g[0], (1.0 - mean) * rstd);
        free(g);
        free(ones), free(small);
        ct_destroy(a), ct_destroy(b), ct_destroy(c), ct_destroy(a2), ct_destroy(c2), ct_destroy(bs), ct_destroy(sy),
            ct_destroy(w), ct_destroy(ny), ct_destroy(xs);
    }
    ct_iter_end(&it);
}

/* ------------------------------------------------------------------------------------------------
 * Issue 14, item 8: denormals */

#if CT_HAVE_MXCSR
#define CT_FTZ 0x8000u
#define CT_DAZ 0x0040u

/* SKIPs when setting FTZ and DAZ does not stick (valgrind's emulation of MXCSR drops both bits). */
static void require_ftz_daz(void) {
    unsigned original = _mm_getcsr();
    _mm_setcsr(original | CT_FTZ | CT_DAZ);
    unsigned now = _mm_getcsr();
    _mm_setcsr(original);
    if ((now & (CT_FTZ | CT_DAZ)) != (CT_FTZ | CT_DAZ)) {
        SKIP("MXCSR does not keep FTZ/DAZ here (valgrind does not emulate them)");
    }
}

/* Runs every operation once on small operands (some subnormal). */
static void run_every_op(cordon_device dev) {
    enum { N = 8 };
    float x[N * N];
    for (int i = 0; i < N * N; i++) x[i] = (i % 3 == 0) ? 1e-40f : (float)(i % 5) - 2.0f;
    cordon_tensor a = ct_t2(dev, N, N, x), b = ct_t2(dev, N, N, x), c = ct_t2(dev, N, N, NULL);
    cordon_tensor w = ct_t1(dev, N, x), d = ct_t2(dev, N, N, NULL), e = ct_t2(dev, N, N, NULL);
    cordon_tensor q = ct_t4(dev, 1, 1, N, N, x), k4 = ct_t4(dev, 1, 1, N, N, x), o4 = ct_t4(dev, 1, 1, N, N, NULL);
    cordon_tensor dq = ct_t4(dev, 1, 1, N, N, NULL), dk = ct_t4(dev, 1, 1, N, N, NULL), dv = ct_t4(dev, 1, 1, N, N, NULL);
    cordon_tensor la = ct_t2(dev, N, 2, x), lb = ct_t2(dev, 2, N, x), dla = ct_t2(dev, N, 2, NULL), dlb = ct_t2(dev, 2, N, NULL);
    cordon_matmul_params mp;
    cordon_matmul_params_init(&mp);
    CHECK_OK(cordon_matmul(c, a, b, &mp));
    CHECK_OK(cordon_softmax(c, a, NULL));
    CHECK_OK(cordon_softmax_backward(d, c, a, 1.0f));
    CHECK_OK(cordon_rms_norm(c, a, w, 1e-6f));
    cordon_tensor v1 = ct_t1(dev, N, NULL), v2 = ct_t1(dev, N, NULL);
    CHECK_OK(cordon_rms_norm_backward(c, v1, a, b, w, 1e-6f));
    CHECK_OK(cordon_layer_norm(c, a, w, w, 1e-6f));
    CHECK_OK(cordon_layer_norm_backward(c, v1, v2, a, b, w, 1e-6f));
    CHECK_OK(cordon_attention(o4, q, k4, k4, NULL));
    CHECK_OK(cordon_attention_backward(dq, dk, dv, o4, q, k4, k4, NULL));
    cordon_lora_params lp = {2.0f, CORDON_LORA_SCALE_STANDARD};
    CHECK_OK(cordon_lora_linear(c, a, b, w, la, lb, &lp));
    CHECK_OK(cordon_lora_linear_backward(d, dla, dlb, a, b, c, la, lb, &lp));
    CHECK_OK(cordon_lora_merge(e, b, la, lb, &lp));
    CHECK_OK(cordon_add(c, a, b));
    CHECK_OK(cordon_mul(c, a, b));
    CHECK_OK(cordon_scale(c, a, 0.5f));
    CHECK_OK(cordon_silu(c, a));
    CHECK_OK(cordon_silu_backward(c, a, b));
    CHECK_OK(cordon_gelu(c, a, CORDON_GELU_ERF));
    CHECK_OK(cordon_gelu_backward(c, a, b, CORDON_GELU_TANH));
    cordon_rope_params rp = {CORDON_ROPE_HALF, 10000.0f, 5};
    CHECK_OK(cordon_rope(c, a, &rp));
    CHECK_OK(cordon_rope_backward(c, a, &rp));
    ct_destroy(a), ct_destroy(b), ct_destroy(c), ct_destroy(w), ct_destroy(d), ct_destroy(e), ct_destroy(q),
        ct_destroy(k4), ct_destroy(o4), ct_destroy(dq), ct_destroy(dk), ct_destroy(dv), ct_destroy(la), ct_destroy(lb),
        ct_destroy(dla), ct_destroy(dlb), ct_destroy(v1), ct_destroy(v2);
}
#endif

TEST(every_op_leaves_ftz_and_daz_as_the_caller_set_them) {
#if CT_HAVE_MXCSR
    require_ftz_daz();
    ct_iter it;
    ct_iter_init(&it, true);
    unsigned original = _mm_getcsr();
    while (ct_iter_next(&it)) {
        static const unsigned settings[4] = {0, CT_FTZ, CT_DAZ, CT_FTZ | CT_DAZ};
        for (int s = 0; s < 4; s++) {
            unsigned csr = (original & ~(CT_FTZ | CT_DAZ)) | settings[s];
            _mm_setcsr(csr);
            run_every_op(it.dev);
            unsigned after = _mm_getcsr();
            _mm_setcsr(original);
            /* Exception flags (the low 6 bits) are sticky status, not settings: ignore them. */
            CHECK_MSG((after & ~0x3Fu) == (csr & ~0x3Fu), "[%s] MXCSR %#x before, %#x after", ct_cfg_name(it.cfg), csr,
                      after);
        }
    }
    ct_iter_end(&it);
#else
    SKIP("no MXCSR on this architecture");
#endif
}

TEST(subnormal_inputs_give_ieee_results_without_ftz_daz) {
#if CT_HAVE_MXCSR
    ct_iter it;
    ct_iter_init(&it, true);
    unsigned original = _mm_getcsr();
    _mm_setcsr(original & ~(CT_FTZ | CT_DAZ));
    while (ct_iter_next(&it)) {
        const float tiny = 1e-40f; /* subnormal */
        float xs[64], xs_small[64], ones[64];
        for (int i = 0; i < 64; i++) {
            xs[i] = tiny * (float)(i + 1);
            xs_small[i] = 1e-42f * (float)(i + 1); /* sums stay subnormal: exact */
            ones[i] = 1.0f;
        }
        cordon_tensor x = ct_t2(it.dev, 1, 64, xs), y = ct_t2(it.dev, 1, 64, NULL), o = ct_t2(it.dev, 1, 64, ones);
        /* scale and add on subnormals: exact IEEE results */
        CHECK_OK(cordon_scale(y, x, 0.5f));
        float *g = ct_read(y);
        for (int i = 0; i < 64; i++) CHECK_MSG(g[i] == xs[i] * 0.5f && g[i] != 0.0f, "scale[%d] = %g", i, (double)g[i]);
        free(g);
        CHECK_OK(cordon_add(y, x, x));
        g = ct_read(y);
        for (int i = 0; i < 64; i++) CHECK(g[i] == xs[i] + xs[i]);
        free(g);
        CHECK_OK(cordon_mul(y, x, o));
        g = ct_read(y);
        CHECK(memcmp(g, xs, sizeof xs) == 0);
        free(g);
        /* matmul: Σ tiny·1 stays subnormal and exact */
        cordon_tensor b = ct_t2(it.dev, 64, 1, ones), c = ct_t2(it.dev, 1, 1, NULL);
        cordon_matmul_params p;
        cordon_matmul_params_init(&p);
        cordon_tensor xsm = ct_t2(it.dev, 1, 64, xs_small);
        CHECK_OK(cordon_matmul(c, xsm, b, &p));
        ct_destroy(xsm);
        g = ct_read(c);
        double want = 0;
        for (int i = 0; i < 64; i++) want += xs_small[i];
        CHECK_MSG(g[0] == (float)want, "[%s] matmul of subnormals = %g, expected %g", ct_cfg_name(it.cfg), (double)g[0],
                  want);
        free(g);
        /* softmax whose small element is e^-100 (a subnormal result), not flushed to 0 */
        float sx[2] = {0.0f, -100.0f};
        cordon_tensor s = ct_t2(it.dev, 1, 2, sx), sy = ct_t2(it.dev, 1, 2, NULL);
        CHECK_OK(cordon_softmax(sy, s, NULL));
        g = ct_read(sy);
        CHECK_MSG(g[1] > 0.0f && fabs(g[1] - exp(-100.0)) <= 1e-6 * exp(-100.0) + 1.5e-45,
                  "[%s] softmax e^-100 = %g, expected %g", ct_cfg_name(it.cfg), (double)g[1], exp(-100.0));
        free(g);
        /* SiLU of a subnormal: x·σ(x) = x/2 */
        CHECK_OK(cordon_silu(y, x));
        g = ct_read(y);
        for (int i = 0; i < 64; i++) CHECK_MSG(g[i] == xs[i] * 0.5f, "silu[%d] = %g", i, (double)g[i]);
        free(g);
        ct_destroy(x), ct_destroy(y), ct_destroy(o), ct_destroy(b), ct_destroy(c), ct_destroy(s), ct_destroy(sy);
    }
    _mm_setcsr(original);
    ct_iter_end(&it);
#else
    SKIP("no MXCSR on this architecture");
#endif
}

TEST(callers_ftz_daz_setting_applies_on_every_thread) {
#if CT_HAVE_MXCSR
    /* With DAZ set by the caller, a subnormal input reads as zero; the result must not depend on
     * whether a pool worker or the calling thread computed an element. */
    require_ftz_daz();
    unsigned original = _mm_getcsr();
    enum { ROWS = 256, COLS = 4096, N = ROWS * COLS };
    float *xs = ct_falloc(N), *outs[2];
    for (int i = 0; i < N; i++) xs[i] = 1e-40f;
    for (unsigned t = 1; t <= 2; t++) {
        ct_cfg cfg = {CORDON_ISA_AUTO, t, CORDON_MATMUL_BUILTIN, true};
        cordon_device dev = ct_device(cfg);
        cordon_tensor x = ct_t2(dev, ROWS, COLS, xs), y = ct_t2(dev, ROWS, COLS, NULL);
        _mm_setcsr(original | CT_FTZ | CT_DAZ);
        cordon_status st = cordon_scale(y, x, 1.0f);
        _mm_setcsr(original);
        CHECK_OK(st);
        outs[t - 1] = ct_read(y);
        ct_destroy(x), ct_destroy(y);
        CHECK_OK(cordon_device_destroy(dev));
    }
    for (int i = 0; i < N; i++) {
        CHECK_MSG(outs[0][i] == 0.0f, "threads 1: element %d = %g under DAZ", i, (double)outs[0][i]);
    }
    CT_SAME_BITS("scale under FTZ/DAZ, threads 1 vs 2", outs[0], outs[1], N);
    free(xs), free(outs[0]), free(outs[1]);
#else
    SKIP("no MXCSR on this architecture");
#endif
}
