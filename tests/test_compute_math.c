/* SPDX-License-Identifier: Apache-2.0 */
/* The compute kernels' single-precision exponential (src/compute/cpu/vmath.h) against f64 exp: the
 * largest error in ulps over a dense sweep of [-104, 89] and random arguments, and the special values
 * (NaN, ±inf, overflow, underflow, subnormal results). The bound checked here is the one vmath.h states. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "compute/cpu/vmath.h"
#include "compute_ref.h"

/* The documented bound (vmath.h): at most VEXP_MAX_ULP ulp of the correctly rounded result, where
 * results in the subnormal range count ulps of the smallest subnormal 2^-149. */
#define VEXP_MAX_ULP 2.0

static double ulp_of(double ref) {
    int e = ref == 0.0 ? -126 : ilogb(ref);
    if (e < -126) e = -126;
    return ldexp(1.0, e - 23);
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

typedef struct ulp_worst {
    double ulp;
    float at;
    float got;
    unsigned long points;
} ulp_worst;

/* Error of cordon__vexp(x) in ulps; results above FLT_MAX must be +inf. */
static void measure(float x, ulp_worst *w) {
    double ref = exp((double)x);
    float got = cordon__vexp(x);
    w->points++;
    double err;
    if (ref > (double)FLT_MAX) {
        err = isinf(got) && got > 0 ? 0.0 : INFINITY;
    } else {
        err = fabs((double)got - ref) / ulp_of(ref);
    }
    if (!(err <= w->ulp)) {
        w->ulp = err;
        w->at = x;
        w->got = got;
    }
}

/* Every `stride`-th float between lo and hi, through their bit patterns (both signs). */
static void sweep(float lo, float hi, uint32_t stride, ulp_worst *w) {
    /* negative part: bit patterns of [-|lo|, -0] decrease in magnitude */
    for (uint32_t u = to_bits(lo); u > 0x80000000u; u = u > 0x80000000u + stride ? u - stride : 0x80000000u) {
        measure(from_bits(u), w);
    }
    for (uint32_t u = 0; u <= to_bits(hi); u += stride) {
        measure(from_bits(u), w);
    }
    measure(lo, w);
    measure(hi, w);
}

TEST(vexp_error_over_dense_sweep_is_within_documented_ulps) {
    ulp_worst w = {0, 0, 0, 0};
    /* About 2·10^6 points by default; CORDON_TEST_LARGE: every 7th float of the range. */
    sweep(-104.0f, 89.0f, ct_large() ? 7u : 1009u, &w);
    printf("measured vexp dense sweep: %lu points, worst %.3f ulp at x = %.9g (got %.9g, exp %.17g)\n", w.points,
           w.ulp, (double)w.at, (double)w.got, exp((double)w.at));
    CHECK_MSG(w.ulp <= VEXP_MAX_ULP, "vexp: %.3f ulp at x = %.9g (got %.9g, exp %.17g)", w.ulp, (double)w.at,
              (double)w.got, exp((double)w.at));
}

TEST(vexp_error_at_random_points_is_within_documented_ulps) {
    ct_rng r = {cordon_test_seed()};
    ulp_worst w = {0, 0, 0, 0};
    unsigned long n = ct_large() ? 50000000ul : 300000ul;
    for (unsigned long i = 0; i < n; i++) {
        /* uniform in the range, and small arguments of every magnitude */
        float x = (i & 1) ? (float)ct_uniform(&r, -104.0, 89.0)
                          : from_bits((uint32_t)(ct_next(&r) & 0x7FFFFFFFu) % 0x42B20000u) * ((i & 2) ? -1.0f : 1.0f);
        measure(x, &w);
    }
    printf("measured vexp random: %lu points, worst %.3f ulp at x = %.9g\n", w.points, w.ulp, (double)w.at);
    CHECK_MSG(w.ulp <= VEXP_MAX_ULP, "vexp: %.3f ulp at x = %.9g (got %.9g, exp %.17g)", w.ulp, (double)w.at,
              (double)w.got, exp((double)w.at));
}

TEST(vexp_special_values) {
    CHECK(isnan(cordon__vexp(NAN)));
    CHECK(isnan(cordon__vexp(-NAN)));
    CHECK(cordon__vexp(INFINITY) == INFINITY);
    CHECK(cordon__vexp(-INFINITY) == 0.0f && !signbit(cordon__vexp(-INFINITY)));
    CHECK(cordon__vexp(0.0f) == 1.0f);
    CHECK(cordon__vexp(-0.0f) == 1.0f);
    CHECK(cordon__vexp(1.0f) == (float)exp(1.0) || fabs(cordon__vexp(1.0f) - exp(1.0)) <= ulp_of(exp(1.0)));
    /* Overflow: above ln(FLT_MAX) the result is +inf, just below it finite. */
    CHECK(cordon__vexp(88.8f) == INFINITY);
    CHECK(cordon__vexp(1000.0f) == INFINITY);
    CHECK(cordon__vexp(FLT_MAX) == INFINITY);
    float below = 88.72283f;
    CHECK(isfinite(cordon__vexp(below)) && cordon__vexp(below) > 3.0e38f);
    /* Underflow: results in the subnormal range are subnormal numbers, not zero; far below, +0. */
    float s = cordon__vexp(-100.0f);
    CHECK_MSG(s > 0.0f && s < FLT_MIN && fabs((double)s - exp(-100.0)) <= 2 * 0x1p-149, "exp(-100) = %g", (double)s);
    float t = cordon__vexp(-103.0f);
    CHECK_MSG(t > 0.0f && fabs((double)t - exp(-103.0)) <= 2 * 0x1p-149, "exp(-103) = %g", (double)t);
    CHECK(cordon__vexp(-88.0f) > 0.0f && cordon__vexp(-88.0f) < FLT_MIN * 2.0f);
    CHECK(cordon__vexp(-104.0f) == 0.0f);
    CHECK(cordon__vexp(-1000.0f) == 0.0f && !signbit(cordon__vexp(-1000.0f)));
    CHECK(cordon__vexp(-FLT_MAX) == 0.0f);
    /* Subnormal and tiny arguments: e^x = 1 (correctly rounded). */
    CHECK(cordon__vexp(1e-40f) == 1.0f);
    CHECK(cordon__vexp(-1e-40f) == 1.0f);
    CHECK(cordon__vexp(1e-10f) == 1.0f);
}

TEST(vexp_is_monotonic_across_the_sweep) {
    /* A non-decreasing exponential: softmax's ordering of elements survives. */
    float prev = cordon__vexp(-104.0f);
    for (float x = -104.0f; x <= 89.0f; x += 0.001953125f) {
        float y = cordon__vexp(x);
        CHECK_MSG(y >= prev, "vexp(%.9g) = %.9g < vexp(previous) = %.9g", (double)x, (double)y, (double)prev);
        prev = y;
    }
}

TEST(vsigmoid_special_values_and_accuracy) {
    CHECK(cordon__vsigmoid(INFINITY) == 1.0f);
    CHECK(cordon__vsigmoid(-INFINITY) == 0.0f);
    CHECK(isnan(cordon__vsigmoid(NAN)));
    CHECK(cordon__vsigmoid(0.0f) == 0.5f);
    CHECK(cordon__vsigmoid(200.0f) == 1.0f);
    CHECK(cordon__vsigmoid(-200.0f) == 0.0f);
    double worst = 0;
    for (float x = -80.0f; x <= 80.0f; x += 0.01f) {
        double ref = ref_sigmoid((double)x);
        double err = fabs((double)cordon__vsigmoid(x) - ref) / ulp_of(ref);
        if (err > worst) worst = err;
    }
    printf("measured vsigmoid worst %.3f ulp over [-80, 80]\n", worst);
    CHECK_MSG(worst <= 4.0, "vsigmoid: %.3f ulp", worst);
}

/* ------------------------------------------------------------------------------------------------
 * The exponential of every kernel table (the AVX2 and AVX-512 ones are intrinsics: rows_<level>.c),
 * run on arrays of every length modulo the vector widths, against the same bound and special values. */

#include "compute/cpu/kernels.h"
#include "sys/sys.h"

/* The tables this processor can run; names the others on stderr. */
static int exp_tables(const struct cordon__cpu_kernels **out) {
    int n = 0;
    out[n++] = &cordon__kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    uint32_t f = cordon__sys_cpu_features();
    if ((f & CORDON__CPU_AVX2) != 0) {
        out[n++] = &cordon__kernels_avx2;
    } else {
        fprintf(stderr, "exp_row: avx2 table not run (processor lacks it)\n");
    }
    if ((f & CORDON__CPU_AVX512) != 0) {
        out[n++] = &cordon__kernels_avx512;
    } else {
        fprintf(stderr, "exp_row: avx512 table not run (processor lacks it)\n");
    }
#elif defined(__aarch64__)
    if ((cordon__sys_cpu_features() & CORDON__CPU_NEON) != 0) {
        out[n++] = &cordon__kernels_neon;
    } else {
        fprintf(stderr, "exp_row: neon table not run (processor lacks it)\n");
    }
#endif
    return n;
}

#define EXP_BATCH 4099 /* not a multiple of any vector width: every tail length is met */

TEST(exp_row_of_every_table_is_within_documented_ulps) {
    const struct cordon__cpu_kernels *tabs[4];
    int nt = exp_tables(tabs);
    static float xs[EXP_BATCH], ys[EXP_BATCH];
    ct_rng r = {cordon_test_seed()};
    for (int t = 0; t < nt; t++) {
        double worst = 0;
        float at = 0;
        unsigned long points = 0;
        /* dense sweep through the bit patterns of [-104, 89], then random arguments */
        uint32_t stride = ct_large() ? 17u : 1009u;
        uint32_t u = 0, v = to_bits(-104.0f);
        int phase = 0;
        while (phase < 3) {
            size_t n = 0;
            while (n < EXP_BATCH && phase < 3) {
                if (phase == 0) {
                    xs[n++] = from_bits(u);
                    u += stride;
                    if (u > to_bits(89.0f)) phase = 1;
                } else if (phase == 1) {
                    xs[n++] = from_bits(v);
                    v = v > 0x80000000u + stride ? v - stride : 0x80000000u;
                    if (v == 0x80000000u) phase = 2;
                } else {
                    for (int i = 0; i < 200000 && n < EXP_BATCH; i++) {
                        xs[n++] = (float)ct_uniform(&r, -104.0, 89.0);
                    }
                    if (points > 400000) phase = 3;
                }
            }
            /* a varying length, so the masked tails of every width are used */
            size_t len = n - (points / EXP_BATCH) % 17;
            if (len == 0 || len > n) len = n;
            tabs[t]->exp_row(ys, xs, len);
            for (size_t i = 0; i < len; i++) {
                double ref = exp((double)xs[i]);
                double err = ref > (double)FLT_MAX ? (isinf(ys[i]) && ys[i] > 0 ? 0.0 : INFINITY)
                                                   : fabs((double)ys[i] - ref) / ulp_of(ref);
                if (!(err <= worst)) {
                    worst = err;
                    at = xs[i];
                }
                points++;
            }
        }
        printf("measured exp_row[%s]: %lu points, worst %.3f ulp at x = %.9g\n", tabs[t]->name, points, worst, (double)at);
        CHECK_MSG(worst <= VEXP_MAX_ULP, "exp_row[%s]: %.3f ulp at x = %.9g", tabs[t]->name, worst, (double)at);
    }
}

TEST(exp_row_of_every_table_keeps_the_special_values) {
    const struct cordon__cpu_kernels *tabs[4];
    int nt = exp_tables(tabs);
    const float in[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.8f, 1000.0f, FLT_MAX, -104.0f, -1000.0f,
                        -FLT_MAX, 1e-40f, -1e-40f, -100.0f, -103.0f, 88.72283f};
    const size_t n = sizeof in / sizeof in[0];
    for (int t = 0; t < nt; t++) {
        float y[sizeof in / sizeof in[0]];
        tabs[t]->exp_row(y, in, n);
        const char *nm = tabs[t]->name;
        CHECK_MSG(isnan(y[0]) && isnan(y[1]), "%s: NaN", nm);
        CHECK_MSG(y[2] == INFINITY, "%s: +inf", nm);
        CHECK_MSG(y[3] == 0.0f && !signbit(y[3]), "%s: -inf", nm);
        CHECK_MSG(y[4] == 1.0f && y[5] == 1.0f, "%s: ±0", nm);
        CHECK_MSG(y[6] == INFINITY && y[7] == INFINITY && y[8] == INFINITY, "%s: overflow", nm);
        CHECK_MSG(y[9] == 0.0f && y[10] == 0.0f && y[11] == 0.0f && !signbit(y[10]), "%s: underflow", nm);
        CHECK_MSG(y[12] == 1.0f && y[13] == 1.0f, "%s: subnormal arguments", nm);
        CHECK_MSG(y[14] > 0.0f && y[14] < FLT_MIN && fabs((double)y[14] - exp(-100.0)) <= 2 * 0x1p-149, "%s: exp(-100)", nm);
        CHECK_MSG(y[15] > 0.0f && fabs((double)y[15] - exp(-103.0)) <= 2 * 0x1p-149, "%s: exp(-103)", nm);
        CHECK_MSG(isfinite(y[16]) && y[16] > 3.0e38f, "%s: just below overflow", nm);
    }
}
