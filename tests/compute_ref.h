/* SPDX-License-Identifier: Apache-2.0 */
/* cordon compute tests: double-precision references of every operation in cordon/ops.h, forward and
 * backward, with the helpers the compute tests share (devices per configuration, tensors from host
 * arrays, a deterministic generator, tolerance comparison that names the worst element).
 *
 * Every reference works on logical row-major arrays (a strided view is written and read in row-major
 * order of its shape, so the host side never sees strides). Next to each value most references
 * compute a magnitude M: the same expression evaluated on absolute values, the scale of the rounding
 * errors an f32 evaluation makes. Tolerances are then |got - ref| <= tol·M (+ a floor near zero), the
 * form ops.h states per operation. */
#ifndef CORDON_TESTS_COMPUTE_REF_H
#define CORDON_TESTS_COMPUTE_REF_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cordon/cordon.h"
#include "cordon/ops.h"
#include "harness.h"

/* ------------------------------------------------------------------------------------------------
 * Deterministic generator (splitmix64) */

typedef struct ct_rng {
    uint64_t s;
} ct_rng;

static inline uint64_t ct_next(ct_rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline double ct_uniform(ct_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)(ct_next(r) >> 11) * (1.0 / 9007199254740992.0));
}

/* Uniform integer in [lo, hi]. */
static inline uint64_t ct_range(ct_rng *r, uint64_t lo, uint64_t hi) {
    return lo + ct_next(r) % (hi - lo + 1);
}

static inline void ct_fill(ct_rng *r, float *p, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) {
        p[i] = (float)ct_uniform(r, lo, hi);
    }
}

static inline double *ct_to_f64(const float *p, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        d[i] = (double)p[i];
    }
    return d;
}

static inline float *ct_falloc(size_t n) {
    return calloc(n ? n : 1, sizeof(float));
}

static inline double *ct_dalloc(size_t n) {
    return calloc(n ? n : 1, sizeof(double));
}

/* True when CORDON_TEST_LARGE is set: property tests run more and larger cases. */
static inline bool ct_large(void) {
    const char *e = getenv("CORDON_TEST_LARGE");
    return e != NULL && e[0] != '\0' && strcmp(e, "0") != 0;
}

/* ------------------------------------------------------------------------------------------------
 * Devices: every configuration the tests run under */

typedef struct ct_cfg {
    cordon_isa isa;
    unsigned threads;
    cordon_matmul_engine engine;
    bool deterministic;
} ct_cfg;

static inline cordon_status ct_device_create(ct_cfg c, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.isa = c.isa;
    o.threads = c.threads;
    o.matmul = c.engine;
    o.deterministic = c.deterministic;
    o.storage_bytes = UINT64_C(1) << 30;
    return cordon_device_create(&o, out);
}

static inline cordon_device ct_device(ct_cfg c) {
    cordon_device d = {0};
    CHECK_OK(ct_device_create(c, &d));
    return d;
}

/* Iterates the configurations: every instruction-set level × threads 1 and 2 (× BUILTIN and BLAS
 * when `engines`). A level or engine this machine or build lacks (valgrind, for one, offers no AVX-512)
 * is named on stderr by every test that wanted it and skipped; the tests
 * compute_ops.isa_<level>_is_exercised and compute_ops.blas_engine_is_exercised are reported SKIPPED
 * when it is, so a missing level is never counted as covered. */
typedef struct ct_iter {
    ct_cfg list[16];
    size_t n, i;
    cordon_device dev;
    ct_cfg cfg;
    char skipped[512];
} ct_iter;

static inline const char *ct_engine_name(cordon_matmul_engine e) {
    return e == CORDON_MATMUL_BLAS ? "blas" : e == CORDON_MATMUL_BUILTIN ? "builtin" : "auto";
}

static inline void ct_iter_init(ct_iter *it, bool engines) {
    memset(it, 0, sizeof *it);
    static const cordon_isa isas[4] = {CORDON_ISA_SCALAR, CORDON_ISA_AVX2, CORDON_ISA_AVX512, CORDON_ISA_NEON};
    for (unsigned e = 0; e < (engines ? 2u : 1u); e++) {
        for (unsigned i = 0; i < 4; i++) {
            for (unsigned t = 1; t <= 2; t++) {
                it->list[it->n++] = (ct_cfg){isas[i], t, e == 0 ? CORDON_MATMUL_BUILTIN : CORDON_MATMUL_BLAS, false};
            }
        }
    }
}

static inline void ct_iter_skip(ct_iter *it, const char *what) {
    if (strstr(it->skipped, what) == NULL) {
        size_t l = strlen(it->skipped);
        snprintf(it->skipped + l, sizeof it->skipped - l, "%s%s", l ? ", " : "", what);
    }
}

static inline bool ct_iter_next(ct_iter *it) {
    if (it->dev.handle != 0) {
        CHECK_OK(cordon_device_destroy(it->dev));
        it->dev.handle = 0;
    }
    while (it->i < it->n) {
        ct_cfg c = it->list[it->i++];
        cordon_status st = ct_device_create(c, &it->dev);
        if (st == CORDON_UNSUPPORTED) {
            char what[64];
            snprintf(what, sizeof what, "isa %s (CPU lacks it)", cordon_isa_name(c.isa));
            fprintf(stderr, "compute test: SKIPPING %s, threads %u, matmul %s: the CPU lacks the level\n",
                    cordon_isa_name(c.isa), c.threads, ct_engine_name(c.engine));
            ct_iter_skip(it, what);
            continue;
        }
        if (st == CORDON_BACKEND_UNAVAILABLE) {
            fprintf(stderr, "compute test: SKIPPING %s, threads %u, matmul blas: BLAS not built in\n",
                    cordon_isa_name(c.isa), c.threads);
            ct_iter_skip(it, "matmul blas (not built in)");
            continue;
        }
        CHECK_OK(st);
        it->cfg = c;
        return true;
    }
    return false;
}

static inline void ct_iter_end(ct_iter *it) {
    if (it->skipped[0] != '\0') {
        fprintf(stderr, "compute test: %s: every available configuration passed; NOT RUN: %s\n", cordon_test_current(),
                it->skipped);
    }
}

/* "avx2/t2/blas" for messages. */
static inline const char *ct_cfg_name(ct_cfg c) {
    static char buf[64];
    snprintf(buf, sizeof buf, "%s/t%u/%s%s", cordon_isa_name(c.isa), c.threads, ct_engine_name(c.engine),
             c.deterministic ? "/det" : "");
    return buf;
}

/* ------------------------------------------------------------------------------------------------
 * Tensors from and to host arrays */

static inline uint64_t ct_count(unsigned ndim, const uint64_t *shape) {
    uint64_t n = 1;
    for (unsigned i = 0; i < ndim; i++) {
        n *= shape[i];
    }
    return n;
}

/* A contiguous tensor holding `data` (row-major; NULL leaves zeros). */
static inline cordon_tensor ct_tensor(cordon_device dev, unsigned ndim, const uint64_t *shape, const float *data) {
    cordon_tensor t = {0};
    CHECK_OK(cordon_tensor_create(dev, CORDON_DTYPE_F32, ndim, shape, &t));
    if (data != NULL) {
        CHECK_OK(cordon_tensor_write(t, data, (size_t)ct_count(ndim, shape) * sizeof(float)));
    }
    return t;
}

static inline cordon_tensor ct_t1(cordon_device dev, uint64_t a, const float *data) {
    uint64_t s[1] = {a};
    return ct_tensor(dev, 1, s, data);
}
static inline cordon_tensor ct_t2(cordon_device dev, uint64_t a, uint64_t b, const float *data) {
    uint64_t s[2] = {a, b};
    return ct_tensor(dev, 2, s, data);
}
static inline cordon_tensor ct_t3(cordon_device dev, uint64_t a, uint64_t b, uint64_t c, const float *data) {
    uint64_t s[3] = {a, b, c};
    return ct_tensor(dev, 3, s, data);
}
static inline cordon_tensor ct_t4(cordon_device dev, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
                                  const float *data) {
    uint64_t s[4] = {a, b, c, d};
    return ct_tensor(dev, 4, s, data);
}

static inline uint64_t ct_elements(cordon_tensor t) {
    cordon_tensor_info info;
    CHECK_OK(cordon_tensor_info_get(t, &info));
    return info.elements;
}

/* The tensor's elements in row-major order of its shape, in a fresh array of ct_elements(t). */
static inline float *ct_read(cordon_tensor t) {
    uint64_t n = ct_elements(t);
    float *p = ct_falloc((size_t)n);
    CHECK_OK(cordon_tensor_read(t, p, (size_t)n * sizeof(float)));
    return p;
}

static inline void ct_write(cordon_tensor t, const float *p) {
    CHECK_OK(cordon_tensor_write(t, p, (size_t)ct_elements(t) * sizeof(float)));
}

static inline void ct_destroy(cordon_tensor t) {
    if (t.handle != 0) {
        CHECK_OK(cordon_tensor_destroy(t));
    }
}

/* Expands `src` of right-aligned shape `from` (extents 1 or equal) to `to` (both 4-vectors). */
static inline void ct_broadcast(const float *src, const uint64_t from[4], const uint64_t to[4], float *dst) {
    uint64_t idx = 0;
    for (uint64_t a = 0; a < to[0]; a++)
        for (uint64_t b = 0; b < to[1]; b++)
            for (uint64_t c = 0; c < to[2]; c++)
                for (uint64_t d = 0; d < to[3]; d++) {
                    uint64_t i = (((from[0] == 1 ? 0 : a) * from[1] + (from[1] == 1 ? 0 : b)) * from[2] +
                                  (from[2] == 1 ? 0 : c)) * from[3] + (from[3] == 1 ? 0 : d);
                    dst[idx++] = src[i];
                }
}

/* ------------------------------------------------------------------------------------------------
 * Comparison */

/* The worst ratio |got - ref| / bound seen per label, for the report of measured errors. */
typedef struct ct_worst {
    char label[48];
    double ratio;  /* err / (tol·M + floor) */
    double err_over_m; /* err / M: the measured constant to compare with the documented tol */
} ct_worst;

static ct_worst ct_worst_table[64];
static size_t ct_worst_count;

static inline ct_worst *ct_worst_slot(const char *label) {
    for (size_t i = 0; i < ct_worst_count; i++) {
        if (strcmp(ct_worst_table[i].label, label) == 0) {
            return &ct_worst_table[i];
        }
    }
    if (ct_worst_count == 64) {
        return &ct_worst_table[63];
    }
    ct_worst *w = &ct_worst_table[ct_worst_count++];
    snprintf(w->label, sizeof w->label, "%s", label);
    w->ratio = 0.0;
    w->err_over_m = 0.0;
    return w;
}

/* Prints the worst errors measured by this test (stdout; ctest keeps it with --output-on-failure and
 * -V). */
static inline void ct_report(void) {
    for (size_t i = 0; i < ct_worst_count; i++) {
        printf("measured %-28s worst |err|/M = %.3g (%.3g of the tolerance)\n", ct_worst_table[i].label,
               ct_worst_table[i].err_over_m, ct_worst_table[i].ratio);
    }
    fflush(stdout);
}

/* Checks |got[i] - ref[i]| <= tol·M[i] + floor for every i (M NULL: |ref[i]|). Equal infinities and
 * NaN against NaN match. On failure prints the worst element and fails the test. */
static inline void ct_close_at(const char *file, int line, const char *label, const char *cfg, const float *got,
                               const double *ref, const double *mag, size_t n, double tol, double floor_abs) {
    size_t worst = 0;
    double worst_ratio = -1.0, worst_m = 0.0;
    size_t bad = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        double g = (double)got[i], r = ref[i];
        double m = mag != NULL ? mag[i] : fabs(r);
        if (isnan(r) || isnan(g)) {
            if (!(isnan(r) && isnan(g)) && bad == SIZE_MAX) {
                bad = i;
            }
            continue;
        }
        if (isinf(r) || isinf(g)) {
            if (g != r && bad == SIZE_MAX) {
                bad = i;
            }
            continue;
        }
        double err = fabs(g - r);
        double bound = tol * m + floor_abs;
        double ratio = bound > 0.0 ? err / bound : (err == 0.0 ? 0.0 : INFINITY);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = i;
        }
        if (m > 0.0 && err / m > worst_m) {
            worst_m = err / m;
        }
    }
    ct_worst *w = ct_worst_slot(label);
    if (worst_ratio > w->ratio) {
        w->ratio = worst_ratio;
    }
    if (worst_m > w->err_over_m) {
        w->err_over_m = worst_m;
    }
    if (bad != SIZE_MAX) {
        cordon_test_fail(file, line, "%s [%s]: element %zu is %.9g, reference %.17g (non-finite mismatch)", label, cfg,
                         bad, (double)got[bad], ref[bad]);
    }
    if (worst_ratio > 1.0) {
        double m = mag != NULL ? mag[worst] : fabs(ref[worst]);
        cordon_test_fail(file, line,
                         "%s [%s]: worst element %zu of %zu is %.9g, reference %.17g: |err| %.3g > tol %.3g · M %.3g "
                         "+ %.3g (ratio %.3g)",
                         label, cfg, worst, n, (double)got[worst], ref[worst], fabs((double)got[worst] - ref[worst]),
                         tol, m, floor_abs, worst_ratio);
    }
}

#define CT_CLOSE(label, cfg, got, ref, mag, n, tol, floor_abs) \
    ct_close_at(__FILE__, __LINE__, label, cfg, got, ref, mag, n, tol, floor_abs)

/* Bitwise equality of two float arrays; prints the first difference. */
static inline void ct_same_bits_at(const char *file, int line, const char *label, const float *a, const float *b,
                                   size_t n) {
    if (memcmp(a, b, n * sizeof(float)) == 0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            cordon_test_fail(file, line, "%s: element %zu differs: %.9g vs %.9g", label, i, (double)a[i], (double)b[i]);
        }
    }
}
#define CT_SAME_BITS(label, a, b, n) ct_same_bits_at(__FILE__, __LINE__, label, a, b, n)

/* ------------------------------------------------------------------------------------------------
 * References: forward */

/* C = alpha·op(A)·op(B) + beta·C0 with batch broadcast. Shapes are right-aligned 4-vectors of the
 * stored operands (before the transpose); c holds C0 on entry. mag: |alpha|·Σ|a·b| + |beta·c0|. */
static inline void ref_matmul(double *c, double *mag, const uint64_t csh[4], const double *a, const uint64_t ash[4],
                              bool ta, const double *b, const uint64_t bsh[4], bool tb, double alpha, double beta) {
    uint64_t M = csh[2], N = csh[3], K = ta ? ash[2] : ash[3];
    for (uint64_t b0 = 0; b0 < csh[0]; b0++)
        for (uint64_t b1 = 0; b1 < csh[1]; b1++) {
            const double *ab = a + ((ash[0] == 1 ? 0 : b0) * ash[1] + (ash[1] == 1 ? 0 : b1)) * ash[2] * ash[3];
            const double *bb = b + ((bsh[0] == 1 ? 0 : b0) * bsh[1] + (bsh[1] == 1 ? 0 : b1)) * bsh[2] * bsh[3];
            double *cb = c + (b0 * csh[1] + b1) * M * N;
            double *mb = mag + (b0 * csh[1] + b1) * M * N;
            for (uint64_t i = 0; i < M; i++)
                for (uint64_t j = 0; j < N; j++) {
                    double s = 0.0, m = 0.0;
                    for (uint64_t k = 0; k < K; k++) {
                        double x = ta ? ab[k * ash[3] + i] : ab[i * ash[3] + k];
                        double y = tb ? bb[j * bsh[3] + k] : bb[k * bsh[3] + j];
                        s += x * y;
                        m += fabs(x * y);
                    }
                    double c0 = cb[i * N + j];
                    double bc = beta == 0.0 ? 0.0 : beta * c0;
                    cb[i * N + j] = alpha == 0.0 ? bc : alpha * s + bc;
                    mb[i * N + j] = fabs(alpha) * m + fabs(bc);
                }
        }
}

/* Softmax of rows of n columns; `rows_per_matrix` is R for the causal rule (j > i + n - R removed).
 * mask: full-shape additive mask or NULL. */
static inline void ref_softmax(double *y, const double *x, const double *mask, uint64_t rows, uint64_t n,
                               uint64_t rows_per_matrix, double scale, bool causal) {
    for (uint64_t r = 0; r < rows; r++) {
        uint64_t i = r % rows_per_matrix;
        double mx = -INFINITY;
        double *v = malloc(n * sizeof *v);
        for (uint64_t j = 0; j < n; j++) {
            bool removed = causal && j + rows_per_matrix > i + n;
            v[j] = removed ? -INFINITY : scale * x[r * n + j] + (mask != NULL ? mask[r * n + j] : 0.0);
            if (v[j] > mx) mx = v[j];
        }
        double s = 0.0;
        for (uint64_t j = 0; j < n; j++) {
            double e = mx == -INFINITY ? 0.0 : exp(v[j] - mx);
            y[r * n + j] = e;
            s += e;
        }
        for (uint64_t j = 0; j < n; j++) {
            y[r * n + j] = s > 0.0 ? y[r * n + j] / s : 0.0;
        }
        free(v);
    }
}

/* dx = scale·y⊙(dy − Σ dy⊙y); mag = |scale|·|y|·(|dy| + Σ|dy⊙y|). */
static inline void ref_softmax_bwd(double *dx, double *mag, const double *y, const double *dy, uint64_t rows,
                                   uint64_t n, double scale) {
    for (uint64_t r = 0; r < rows; r++) {
        double s = 0.0, sa = 0.0;
        for (uint64_t j = 0; j < n; j++) {
            s += dy[r * n + j] * y[r * n + j];
            sa += fabs(dy[r * n + j] * y[r * n + j]);
        }
        for (uint64_t j = 0; j < n; j++) {
            double yy = y[r * n + j], g = dy[r * n + j];
            dx[r * n + j] = scale * yy * (g - s);
            if (mag != NULL) mag[r * n + j] = fabs(scale * yy) * (fabs(g) + sa);
        }
    }
}

/* RMSNorm: y = x / sqrt(mean(x²) + eps) ⊙ w. mag = |y|. */
static inline void ref_rms_norm(double *y, const double *x, const double *w, uint64_t rows, uint64_t n, double eps) {
    for (uint64_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (uint64_t j = 0; j < n; j++) s += x[r * n + j] * x[r * n + j];
        double rs = 1.0 / sqrt(s / (double)n + eps);
        for (uint64_t j = 0; j < n; j++) y[r * n + j] = x[r * n + j] * rs * w[j];
    }
}

/* Gradients of RMSNorm: dx (mag: r|w·dy| + |x|·r³/n·Σ|dy·w·x|), dw summed over rows (mag: Σ r|dy·x|). */
static inline void ref_rms_norm_bwd(double *dx, double *dxm, double *dw, double *dwm, const double *dy,
                                    const double *x, const double *w, uint64_t rows, uint64_t n, double eps) {
    for (uint64_t j = 0; j < n; j++) {
        dw[j] = 0.0;
        dwm[j] = 0.0;
    }
    for (uint64_t r = 0; r < rows; r++) {
        const double *xr = x + r * n, *gr = dy + r * n;
        double s = 0.0;
        for (uint64_t j = 0; j < n; j++) s += xr[j] * xr[j];
        double rs = 1.0 / sqrt(s / (double)n + eps);
        double c = 0.0, ca = 0.0;
        for (uint64_t j = 0; j < n; j++) {
            c += gr[j] * w[j] * xr[j];
            ca += fabs(gr[j] * w[j] * xr[j]);
        }
        double k = rs * rs * rs / (double)n;
        for (uint64_t j = 0; j < n; j++) {
            dx[r * n + j] = rs * w[j] * gr[j] - k * c * xr[j];
            dxm[r * n + j] = rs * fabs(w[j] * gr[j]) + k * ca * fabs(xr[j]);
            dw[j] += gr[j] * xr[j] * rs;
            dwm[j] += fabs(gr[j] * xr[j]) * rs;
        }
    }
}

/* LayerNorm: y = (x − mean)·rstd⊙g + b (g, b NULL: 1, 0). mag = (|x̂| + 1)·|g| + |b|. */
static inline void ref_layer_norm(double *y, double *mag, const double *x, const double *g, const double *b,
                                  uint64_t rows, uint64_t n, double eps) {
    for (uint64_t r = 0; r < rows; r++) {
        const double *xr = x + r * n;
        double mean = 0.0, var = 0.0;
        for (uint64_t j = 0; j < n; j++) mean += xr[j];
        mean /= (double)n;
        for (uint64_t j = 0; j < n; j++) var += (xr[j] - mean) * (xr[j] - mean);
        double rstd = 1.0 / sqrt(var / (double)n + eps);
        for (uint64_t j = 0; j < n; j++) {
            double xh = (xr[j] - mean) * rstd, gj = g != NULL ? g[j] : 1.0, bj = b != NULL ? b[j] : 0.0;
            y[r * n + j] = xh * gj + bj;
            if (mag != NULL) mag[r * n + j] = (fabs(xh) + 1.0) * fabs(gj) + fabs(bj);
        }
    }
}

/* Gradients of LayerNorm. dx mag: rstd·(|gi| + mean|gi| + |x̂|·mean|gi·x̂|) with gi = dy·γ; dγ = Σ dy·x̂
 * (mag Σ|dy|·(|x̂| + 1)), dβ = Σ dy (mag Σ|dy|). */
static inline void ref_layer_norm_bwd(double *dx, double *dxm, double *dg, double *dgm, double *db, double *dbm,
                                      const double *dy, const double *x, const double *g, uint64_t rows, uint64_t n,
                                      double eps) {
    for (uint64_t j = 0; j < n; j++) dg[j] = dgm[j] = db[j] = dbm[j] = 0.0;
    for (uint64_t r = 0; r < rows; r++) {
        const double *xr = x + r * n, *gr = dy + r * n;
        double mean = 0.0, var = 0.0;
        for (uint64_t j = 0; j < n; j++) mean += xr[j];
        mean /= (double)n;
        for (uint64_t j = 0; j < n; j++) var += (xr[j] - mean) * (xr[j] - mean);
        double rstd = 1.0 / sqrt(var / (double)n + eps);
        double mg = 0.0, mga = 0.0, mgx = 0.0, mgxa = 0.0;
        for (uint64_t j = 0; j < n; j++) {
            double gi = gr[j] * (g != NULL ? g[j] : 1.0), xh = (xr[j] - mean) * rstd;
            mg += gi;
            mga += fabs(gi);
            mgx += gi * xh;
            mgxa += fabs(gi * xh);
        }
        mg /= (double)n;
        mga /= (double)n;
        mgx /= (double)n;
        mgxa /= (double)n;
        for (uint64_t j = 0; j < n; j++) {
            double gi = gr[j] * (g != NULL ? g[j] : 1.0), xh = (xr[j] - mean) * rstd;
            dx[r * n + j] = rstd * (gi - mg - xh * mgx);
            dxm[r * n + j] = rstd * (fabs(gi) + mga + (fabs(xh) + 1.0) * mgxa);
            dg[j] += gr[j] * xh;
            dgm[j] += fabs(gr[j]) * (fabs(xh) + 1.0);
            db[j] += gr[j];
            dbm[j] += fabs(gr[j]);
        }
    }
}

/* Elementwise references (scalar functions). */
static inline double ref_sigmoid(double x) {
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}
static inline double ref_silu(double x) {
    return x * ref_sigmoid(x);
}
static inline double ref_silu_grad(double x) {
    double s = ref_sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
}
/* Magnitude of the SiLU gradient's terms. */
static inline double ref_silu_grad_mag(double x) {
    double s = ref_sigmoid(x);
    return s * (1.0 + fabs(x) * (1.0 - s));
}
static inline double ref_gelu_erf(double x) {
    return x >= 0 ? 0.5 * x * (1.0 + erf(x / sqrt(2.0))) : 0.5 * x * erfc(-x / sqrt(2.0));
}
static inline double ref_gelu_erf_grad(double x) {
    double cdf = x >= 0 ? 0.5 * (1.0 + erf(x / sqrt(2.0))) : 0.5 * erfc(-x / sqrt(2.0));
    return cdf + x * exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}
/* GELU magnitudes: Φ(x) evaluated as (1 + |erf|)/2, the scale of an f32 evaluation of 1 + erf(·) (whose
 * rounding is absolute, about 2^-24, however small Φ(x) is for negative x). */
static inline double ref_gelu_erf_mag(double x) {
    return 0.5 * fabs(x) * (1.0 + fabs(erf(x / sqrt(2.0))));
}
static inline double ref_gelu_erf_grad_mag(double x) {
    return 0.5 * (1.0 + fabs(erf(x / sqrt(2.0)))) + fabs(x) * exp(-0.5 * x * x) / sqrt(2.0 * M_PI);
}
#define REF_GELU_K 0.7978845608028654 /* √(2/π) */
#define REF_GELU_C 0.044715
/* 0.5·x·(1 + tanh(u)) = x·σ(2u), the form without cancellation for negative x. */
static inline double ref_gelu_tanh(double x) {
    double u = REF_GELU_K * (x + REF_GELU_C * x * x * x);
    return x * ref_sigmoid(2.0 * u);
}
static inline double ref_gelu_tanh_grad(double x) {
    double u = REF_GELU_K * (x + REF_GELU_C * x * x * x);
    double s = ref_sigmoid(2.0 * u); /* (1 + tanh u)/2 */
    double sech2 = 4.0 * s * (1.0 - s);
    return s + 0.5 * x * sech2 * REF_GELU_K * (1.0 + 3.0 * REF_GELU_C * x * x);
}
static inline double ref_gelu_tanh_mag(double x) {
    double u = REF_GELU_K * (x + REF_GELU_C * x * x * x);
    return 0.5 * fabs(x) * (1.0 + fabs(tanh(u)));
}
static inline double ref_gelu_tanh_grad_mag(double x) {
    double u = REF_GELU_K * (x + REF_GELU_C * x * x * x), t = tanh(u);
    return 0.5 * (1.0 + fabs(t)) + 0.5 * fabs(x) * REF_GELU_K * (1.0 + 3.0 * REF_GELU_C * x * x) * (1.0 + t * t);
}

/* RoPE over rows of D (T rows per sequence, row t at position p0 + t); inverse rotates by −angle. The
 * angle uses the same f64 formula as ops.h states, and cos/sin are rounded to f32 only when `f32_cs`
 * (the documented "rounded once"). mag = |x0·c| + |x1·s|. */
static inline void ref_rope(double *y, double *mag, const double *x, uint64_t rows, uint64_t D, uint64_t T,
                            uint64_t p0, double base, bool half, bool inverse) {
    uint64_t h = D / 2;
    for (uint64_t r = 0; r < rows; r++) {
        double pos = (double)(p0 + r % T);
        for (uint64_t i = 0; i < h; i++) {
            double ang = pos * pow(base, -2.0 * (double)i / (double)D);
            double c = cos(ang), s = sin(ang);
            if (inverse) s = -s;
            uint64_t i0 = half ? i : 2 * i, i1 = half ? i + h : 2 * i + 1;
            double x0 = x[r * D + i0], x1 = x[r * D + i1];
            y[r * D + i0] = x0 * c - x1 * s;
            y[r * D + i1] = x0 * s + x1 * c;
            if (mag != NULL) {
                mag[r * D + i0] = fabs(x0 * c) + fabs(x1 * s);
                mag[r * D + i1] = fabs(x0 * s) + fabs(x1 * c);
            }
        }
    }
}

/* Attention shapes. */
typedef struct ref_attn_shape {
    uint64_t B, Hq, Hkv, Tq, Tk, D, Dv;
} ref_attn_shape;

/* Probabilities of query (b, h, i) into p[Tk]; |score| magnitudes into sm[Tk] (may be NULL). */
static inline void ref_attn_probs(const ref_attn_shape *s, const double *q, const double *k, const double *mask,
                                  double scale, bool causal, uint64_t b, uint64_t h, uint64_t i, double *p,
                                  double *sm) {
    uint64_t hk = h / (s->Hq / s->Hkv);
    const double *qr = q + ((b * s->Hq + h) * s->Tq + i) * s->D;
    double mx = -INFINITY;
    for (uint64_t j = 0; j < s->Tk; j++) {
        const double *kr = k + ((b * s->Hkv + hk) * s->Tk + j) * s->D;
        double d = 0.0, da = 0.0;
        for (uint64_t e = 0; e < s->D; e++) {
            d += qr[e] * kr[e];
            da += fabs(qr[e] * kr[e]);
        }
        double v = scale * d + (mask != NULL ? mask[((b * s->Hq + h) * s->Tq + i) * s->Tk + j] : 0.0);
        if (causal && j + s->Tq > i + s->Tk) v = -INFINITY;
        p[j] = v;
        if (sm != NULL) sm[j] = fabs(scale) * da;
        if (v > mx) mx = v;
    }
    double sum = 0.0;
    for (uint64_t j = 0; j < s->Tk; j++) {
        p[j] = mx == -INFINITY ? 0.0 : exp(p[j] - mx);
        sum += p[j];
    }
    for (uint64_t j = 0; j < s->Tk; j++) p[j] = sum > 0.0 ? p[j] / sum : 0.0;
}

/* out = softmax(scale·Q·Kᵀ + mask)·V; mag = Σ_j p_j·|v_j|·(1 + |s_j|) (scores' rounding carried). */
static inline void ref_attention(double *out, double *mag, const ref_attn_shape *s, const double *q,
                                 const double *k, const double *v, const double *mask, double scale, bool causal) {
    double *p = malloc(s->Tk * sizeof *p), *sm = malloc(s->Tk * sizeof *sm);
    for (uint64_t b = 0; b < s->B; b++)
        for (uint64_t h = 0; h < s->Hq; h++)
            for (uint64_t i = 0; i < s->Tq; i++) {
                uint64_t hk = h / (s->Hq / s->Hkv);
                ref_attn_probs(s, q, k, mask, scale, causal, b, h, i, p, sm);
                double *o = out + ((b * s->Hq + h) * s->Tq + i) * s->Dv;
                double *om = mag != NULL ? mag + ((b * s->Hq + h) * s->Tq + i) * s->Dv : NULL;
                for (uint64_t e = 0; e < s->Dv; e++) {
                    double acc = 0.0, m = 0.0;
                    for (uint64_t j = 0; j < s->Tk; j++) {
                        double vv = v[((b * s->Hkv + hk) * s->Tk + j) * s->Dv + e];
                        acc += p[j] * vv;
                        m += p[j] * fabs(vv) * (1.0 + sm[j]);
                    }
                    o[e] = acc;
                    if (om != NULL) om[e] = m;
                }
            }
    free(p);
    free(sm);
}

/* Gradients of attention; magnitudes evaluated on absolute values of every term (scores' rounding
 * carried as (1 + |s|)). */
static inline void ref_attention_bwd(double *dq, double *dqm, double *dk, double *dkm, double *dv, double *dvm,
                                     const ref_attn_shape *s, const double *dout, const double *q, const double *k,
                                     const double *v, const double *mask, double scale, bool causal) {
    uint64_t nq = s->B * s->Hq * s->Tq * s->D, nk = s->B * s->Hkv * s->Tk * s->D, nv = s->B * s->Hkv * s->Tk * s->Dv;
    memset(dq, 0, nq * sizeof *dq);
    memset(dqm, 0, nq * sizeof *dqm);
    memset(dk, 0, nk * sizeof *dk);
    memset(dkm, 0, nk * sizeof *dkm);
    memset(dv, 0, nv * sizeof *dv);
    memset(dvm, 0, nv * sizeof *dvm);
    double *p = malloc(s->Tk * sizeof *p), *sm = malloc(s->Tk * sizeof *sm);
    double *dp = malloc(s->Tk * sizeof *dp), *dpm = malloc(s->Tk * sizeof *dpm);
    double *ds = malloc(s->Tk * sizeof *ds), *dsm = malloc(s->Tk * sizeof *dsm);
    for (uint64_t b = 0; b < s->B; b++)
        for (uint64_t h = 0; h < s->Hq; h++)
            for (uint64_t i = 0; i < s->Tq; i++) {
                uint64_t hk = h / (s->Hq / s->Hkv);
                ref_attn_probs(s, q, k, mask, scale, causal, b, h, i, p, sm);
                const double *go = dout + ((b * s->Hq + h) * s->Tq + i) * s->Dv;
                const double *qr = q + ((b * s->Hq + h) * s->Tq + i) * s->D;
                double sum = 0.0, suma = 0.0;
                for (uint64_t j = 0; j < s->Tk; j++) {
                    const double *vr = v + ((b * s->Hkv + hk) * s->Tk + j) * s->Dv;
                    double d = 0.0, da = 0.0;
                    for (uint64_t e = 0; e < s->Dv; e++) {
                        d += go[e] * vr[e];
                        da += fabs(go[e] * vr[e]);
                    }
                    dp[j] = d;
                    dpm[j] = da;
                    sum += p[j] * d;
                    suma += p[j] * da;
                }
                for (uint64_t j = 0; j < s->Tk; j++) {
                    ds[j] = scale * p[j] * (dp[j] - sum);
                    dsm[j] = fabs(scale) * p[j] * (dpm[j] + suma) * (1.0 + sm[j]);
                }
                for (uint64_t j = 0; j < s->Tk; j++) {
                    const double *kr = k + ((b * s->Hkv + hk) * s->Tk + j) * s->D;
                    double *dkr = dk + ((b * s->Hkv + hk) * s->Tk + j) * s->D;
                    double *dkmr = dkm + ((b * s->Hkv + hk) * s->Tk + j) * s->D;
                    double *dvr = dv + ((b * s->Hkv + hk) * s->Tk + j) * s->Dv;
                    double *dvmr = dvm + ((b * s->Hkv + hk) * s->Tk + j) * s->Dv;
                    double *dqr = dq + ((b * s->Hq + h) * s->Tq + i) * s->D;
                    double *dqmr = dqm + ((b * s->Hq + h) * s->Tq + i) * s->D;
                    for (uint64_t e = 0; e < s->D; e++) {
                        dqr[e] += ds[j] * kr[e];
                        dqmr[e] += dsm[j] * fabs(kr[e]);
                        dkr[e] += ds[j] * qr[e];
                        dkmr[e] += dsm[j] * fabs(qr[e]);
                    }
                    for (uint64_t e = 0; e < s->Dv; e++) {
                        dvr[e] += p[j] * go[e];
                        dvmr[e] += p[j] * fabs(go[e]) * (1.0 + sm[j]);
                    }
                }
            }
    free(p);
    free(sm);
    free(dp);
    free(dpm);
    free(ds);
    free(dsm);
}

/* LoRA: y = x·W + bias + s·(x·A)·B over `rows` rows. mag: Σ|x·W| + |bias| + |s|·Σ_r (Σ|x·A|)·|B|. */
static inline void ref_lora(double *y, double *mag, const double *x, const double *w, const double *bias,
                            const double *a, const double *b, uint64_t rows, uint64_t in, uint64_t out, uint64_t r,
                            double s) {
    double *xa = malloc(r * sizeof *xa), *xam = malloc(r * sizeof *xam);
    for (uint64_t i = 0; i < rows; i++) {
        const double *xr = x + i * in;
        for (uint64_t q = 0; q < r; q++) {
            double t = 0.0, tm = 0.0;
            for (uint64_t k = 0; k < in; k++) {
                t += xr[k] * a[k * r + q];
                tm += fabs(xr[k] * a[k * r + q]);
            }
            xa[q] = t;
            xam[q] = tm;
        }
        for (uint64_t j = 0; j < out; j++) {
            double t = bias != NULL ? bias[j] : 0.0, tm = fabs(t);
            for (uint64_t k = 0; k < in; k++) {
                t += xr[k] * w[k * out + j];
                tm += fabs(xr[k] * w[k * out + j]);
            }
            double l = 0.0, lm = 0.0;
            for (uint64_t q = 0; q < r; q++) {
                l += xa[q] * b[q * out + j];
                lm += xam[q] * fabs(b[q * out + j]);
            }
            y[i * out + j] = t + s * l;
            if (mag != NULL) mag[i * out + j] = tm + fabs(s) * lm;
        }
    }
    free(xa);
    free(xam);
}

/* Gradients of LoRA (W frozen): dx = dy·Wᵀ + s·(dy·Bᵀ)·Aᵀ, dA = s·xᵀ·(dy·Bᵀ), dB = s·(x·A)ᵀ·dy. */
static inline void ref_lora_bwd(double *dx, double *dxm, double *da, double *dam, double *db, double *dbm,
                                const double *dy, const double *x, const double *w, const double *a,
                                const double *b, uint64_t rows, uint64_t in, uint64_t out, uint64_t r, double s) {
    double *g = malloc(r * sizeof *g), *gm = malloc(r * sizeof *gm);
    double *xa = malloc(r * sizeof *xa), *xam = malloc(r * sizeof *xam);
    memset(da, 0, in * r * sizeof *da);
    memset(dam, 0, in * r * sizeof *dam);
    memset(db, 0, r * out * sizeof *db);
    memset(dbm, 0, r * out * sizeof *dbm);
    for (uint64_t i = 0; i < rows; i++) {
        const double *gr = dy + i * out, *xr = x + i * in;
        for (uint64_t q = 0; q < r; q++) {
            double t = 0.0, tm = 0.0, u = 0.0, um = 0.0;
            for (uint64_t j = 0; j < out; j++) {
                t += gr[j] * b[q * out + j];
                tm += fabs(gr[j] * b[q * out + j]);
            }
            for (uint64_t k = 0; k < in; k++) {
                u += xr[k] * a[k * r + q];
                um += fabs(xr[k] * a[k * r + q]);
            }
            g[q] = t;
            gm[q] = tm;
            xa[q] = u;
            xam[q] = um;
        }
        for (uint64_t k = 0; k < in; k++) {
            if (dx != NULL) {
                double t = 0.0, tm = 0.0, l = 0.0, lm = 0.0;
                for (uint64_t j = 0; j < out; j++) {
                    t += gr[j] * w[k * out + j];
                    tm += fabs(gr[j] * w[k * out + j]);
                }
                for (uint64_t q = 0; q < r; q++) {
                    l += g[q] * a[k * r + q];
                    lm += gm[q] * fabs(a[k * r + q]);
                }
                dx[i * in + k] = t + s * l;
                dxm[i * in + k] = tm + fabs(s) * lm;
            }
            for (uint64_t q = 0; q < r; q++) {
                da[k * r + q] += s * xr[k] * g[q];
                dam[k * r + q] += fabs(s * xr[k]) * gm[q];
            }
        }
        for (uint64_t q = 0; q < r; q++)
            for (uint64_t j = 0; j < out; j++) {
                db[q * out + j] += s * xa[q] * gr[j];
                dbm[q * out + j] += fabs(s) * xam[q] * fabs(gr[j]);
            }
    }
    free(g);
    free(gm);
    free(xa);
    free(xam);
}

/* ------------------------------------------------------------------------------------------------
 * Central finite differences in f64 */

/* grad[i] = (L(p + h·e_i) − L(p − h·e_i)) / 2h, with p restored afterwards. */
static inline void ct_fd_grad(double (*loss)(void *ctx), void *ctx, double *p, size_t n, double *grad) {
    for (size_t i = 0; i < n; i++) {
        double v = p[i];
        double h = 1e-5 * (fabs(v) > 1.0 ? fabs(v) : 1.0);
        p[i] = v + h;
        double lp = loss(ctx);
        p[i] = v - h;
        double lm = loss(ctx);
        p[i] = v;
        grad[i] = (lp - lm) / (2.0 * h);
    }
}

static inline double ct_dotd(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

#endif /* CORDON_TESTS_COMPUTE_REF_H */
