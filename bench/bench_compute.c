/* SPDX-License-Identifier: Apache-2.0 */
/* Suite "compute": cordon's CPU operations against the libraries users would otherwise call, timed in
 * the same run with samples interleaved: OpenBLAS cblas_sgemm / cblas_sgemv (when built with
 * libopenblas-dev), oneDNN softmax and LayerNorm (libdnnl-dev), and plain C loops. Each line gives the
 * operation, its shape, the threads both sides used, cordon's instruction-set level and matmul engine,
 * the median time per call with the min-max of the samples, the baseline's, the ratio cordon / baseline
 * (below 1: cordon faster) and both rates (GFLOP/s for products, GB/s of x read + y written for row
 * operations). Then the small-work threshold: where a second thread starts to pay for a row operation.
 *
 * Threads: a baseline runs with the same thread count as the cordon line it is compared with (OpenBLAS
 * through openblas_set_num_threads, oneDNN through OpenMP), except the plain C loops, which are
 * single-threaded always. cordon sets OpenBLAS to one thread process-wide when one of its devices first
 * uses BLAS; since this suite changes that setting for its baselines, it puts it back to 1 before
 * timing cordon's BLAS engine. */
#define _GNU_SOURCE

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cordon/cordon.h"

#if defined(CORDON_BENCH_HAVE_OPENBLAS)
#  include <cblas.h>
#endif
#if defined(CORDON_BENCH_HAVE_DNNL)
#  include <oneapi/dnnl/dnnl.h>
#endif
#if defined(_OPENMP)
#  include <omp.h>
#endif
#if defined(_WIN32)
/* Windows has no load average: the notes that quote it are left out. */
static int getloadavg(double *loadavg, int nelem) {
    (void)loadavg;
    (void)nelem;
    return -1;
}
#endif

#define MAX_SAMPLES 15
#define MAX_CONTENDERS 4
#define EPS 1e-5f

static int failed;

static bool must(cordon_status st, const char *what) {
    if (st != CORDON_OK) {
        if (!failed) {
            fprintf(stderr, "bench compute: %s: %s\n", what, cordon_status_str(st));
        }
        failed = 1;
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------------------------
 * Timing: contenders sampled in turn, each sample a calibrated number of calls */

typedef struct contender {
    const char *label;
    void (*fn)(void *arg); /* one call */
    void *arg;
    unsigned threads;      /* threads this contender computes on (for baselines: set before sampling) */
    void (*setup)(unsigned threads);
    bool present;
    double min_us, med_us, max_us, spread_pct;
} contender;

static double target_ns(const cordon_bench *b) {
    return cordon_bench_quick(b) ? 2e6 : 8e6;
}

static int sample_count(const cordon_bench *b) {
    return cordon_bench_quick(b) ? 5 : 9;
}

static double time_calls(contender *c, uint64_t iters) {
    if (c->setup != NULL) {
        c->setup(c->threads);
    }
    uint64_t t0 = cordon_bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        c->fn(c->arg);
    }
    return (double)(cordon_bench_now_ns() - t0);
}

/* Between two contenders: a pause long enough for the previous one's threads to stop spinning and park
 * (cordon's pool and libgomp spin briefly after a job), so that they do not steal the next one's cores. */
static void settle(void) {
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
}

/* Measures every present contender: a warm-up call, calibration, then samples round-robin (the order
 * rotating from sample to sample) so that machine noise falls on all of them alike. */
static void measure(const cordon_bench *b, contender *cs, int n) {
    uint64_t iters[MAX_CONTENDERS];
    double samples[MAX_CONTENDERS][MAX_SAMPLES];
    int ns = sample_count(b);
    for (int i = 0; i < n; i++) {
        if (!cs[i].present) {
            continue;
        }
        double once = time_calls(&cs[i], 1); /* warm-up: pages, caches, thread wake-up */
        once = time_calls(&cs[i], 1);
        iters[i] = once >= target_ns(b) ? 1 : (uint64_t)(target_ns(b) / (once > 1 ? once : 1));
        if (iters[i] < 1) {
            iters[i] = 1;
        }
    }
    for (int s = 0; s < ns; s++) {
        for (int k = 0; k < n; k++) {
            int i = (k + s) % n;
            if (cs[i].present) {
                settle();
                samples[i][s] = time_calls(&cs[i], iters[i]) / (double)iters[i] / 1e3;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        if (cs[i].present) {
            cs[i].med_us = cordon_bench_median(samples[i], ns, &cs[i].spread_pct);
            cs[i].min_us = samples[i][0];
            cs[i].max_us = samples[i][ns - 1];
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Output */

typedef struct line_info {
    const char *op;
    const char *shape;
    const char *isa;
    const char *engine; /* cordon's matmul engine, or "" */
    double flops;       /* per call; 0: a memory-bound operation, rated by bytes */
    double bytes;
    double x;           /* abscissa in the --plot charts (elements, or n of a square product); 0: not charted */
} line_info;

/* ---------------------------------------------------------------------------------------------------
 * Chart points (--plot DIR): per chart (operation and threads), per series (cordon, each baseline), the
 * rate at each size; the measured machine limits are drawn as horizontal lines. */

#define MAX_POINTS 640
typedef struct chart_point {
    char chart[40];
    char series[40];
    double x, rate;
    bool gflops;
    unsigned threads;
} chart_point;
static chart_point points[MAX_POINTS];
static int npoints;
/* Measured in the same run: read bandwidth (GB/s) and FMA peak (GFLOP/s), indexed by threads. */
static double read_bw[3], fma_peak[3];

static void record_point(const char *chart, const char *series, double x, double rate, bool gflops, unsigned threads) {
    for (int i = 0; i < npoints; i++) {
        if (strcmp(points[i].chart, chart) == 0 && strcmp(points[i].series, series) == 0 && points[i].x == x) {
            return;
        }
    }
    if (npoints < MAX_POINTS) {
        chart_point *p = &points[npoints++];
        snprintf(p->chart, sizeof p->chart, "%s", chart);
        snprintf(p->series, sizeof p->series, "%s", series);
        p->x = x;
        p->rate = rate;
        p->gflops = gflops;
        p->threads = threads;
    }
}

static void print_header(const cordon_bench *b) {
    if (cordon_bench_json(b)) {
        return;
    }
    printf("  %-12s %-13s %3s %-7s %-9s %10s %19s  %-15s %10s %19s %7s %10s %10s\n", "op", "shape", "thr", "isa",
           "cordon", "median us", "min-max us", "baseline", "median us", "min-max us", "ratio", "cordon", "baseline");
}

static void rate(const line_info *li, double us, double *value, const char **unit) {
    if (li->flops > 0) {
        *value = li->flops / (us * 1e3);
        *unit = "GFLOP/s";
    } else {
        *value = li->bytes / (us * 1e3);
        *unit = "GB/s";
    }
}

/* One line: cordon's contender c against baseline base (NULL or absent: cordon alone, with why). */
static void emit(const cordon_bench *b, const line_info *li, const contender *c, const contender *base,
                 const char *missing) {
    double r = 0, rb = 0;
    const char *unit = "", *unit_b = "";
    rate(li, c->med_us, &r, &unit);
    bool has_base = base != NULL && base->present;
    if (has_base) {
        rate(li, base->med_us, &rb, &unit_b);
    }
    if (li->x > 0) {
        char chart[40], series[40];
        snprintf(chart, sizeof chart, "%s_t%u", li->op, c->threads);
        snprintf(series, sizeof series, "cordon%s%s", li->engine[0] ? " " : "", li->engine);
        record_point(chart, series, li->x, r, li->flops > 0, c->threads);
        if (has_base) {
            record_point(chart, base->label, li->x, rb, li->flops > 0, c->threads);
        }
    }
    if (cordon_bench_json(b)) {
        /* Names are unique per line (tools/bench-tables.py keys figures by name): op/shape/threads, the
         * engine when there is a choice, and the baseline. */
        printf("{\"suite\":\"compute\",\"name\":\"%s/%s/t%u%s%s/vs %s\",\"op\":\"%s\",\"shape\":\"%s\","
               "\"threads\":%u,\"isa\":\"%s\",\"engine\":\"%s\",\"value\":%.6g,\"unit\":\"us\",\"min\":%.6g,"
               "\"max\":%.6g,\"spread_pct\":%.3g,\"samples\":%d,\"rate\":%.6g,\"rate_unit\":\"%s\"",
               li->op, li->shape, c->threads, li->engine[0] ? "/" : "", li->engine, has_base ? base->label : "none",
               li->op, li->shape, c->threads, li->isa, li->engine, c->med_us, c->min_us, c->max_us, c->spread_pct,
               sample_count(b), r, unit);
        if (has_base) {
            printf(",\"baseline\":\"%s\",\"baseline_threads\":%u,\"baseline_value\":%.6g,\"baseline_min\":%.6g,"
                   "\"baseline_max\":%.6g,\"baseline_rate\":%.6g,\"ratio\":%.4g",
                   base->label, base->threads, base->med_us, base->min_us, base->max_us, rb, c->med_us / base->med_us);
        } else if (missing != NULL) {
            printf(",\"baseline\":null,\"baseline_skipped\":\"%s\"", missing);
        }
        printf("}\n");
    } else {
        char range[40], brange[40], bmed[24], ratio[16], brate[24], crate[24];
        snprintf(range, sizeof range, "%.1f-%.1f", c->min_us, c->max_us);
        snprintf(crate, sizeof crate, "%.2f %s", r, li->flops > 0 ? "GF/s" : "GB/s");
        if (has_base) {
            snprintf(brange, sizeof brange, "%.1f-%.1f", base->min_us, base->max_us);
            snprintf(bmed, sizeof bmed, "%.1f", base->med_us);
            snprintf(ratio, sizeof ratio, "%.3f", c->med_us / base->med_us);
            snprintf(brate, sizeof brate, "%.2f %s", rb, li->flops > 0 ? "GF/s" : "GB/s");
        } else {
            snprintf(brange, sizeof brange, "-");
            snprintf(bmed, sizeof bmed, "-");
            snprintf(ratio, sizeof ratio, "-");
            snprintf(brate, sizeof brate, "-");
        }
        char blabel[40];
        if (has_base) {
            snprintf(blabel, sizeof blabel, "%s%s", base->label,
                     base->threads != c->threads ? (base->threads == 1 ? " (1t)" : " (?t)") : "");
        } else {
            snprintf(blabel, sizeof blabel, "%s", missing != NULL ? missing : "-");
        }
        printf("  %-12s %-13s %3u %-7s %-9s %10.1f %19s  %-15s %10s %19s %7s %10s %10s\n", li->op, li->shape,
               c->threads, li->isa, li->engine, c->med_us, range, blabel, bmed, brange, ratio, crate, brate);
    }
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------------------
 * Baseline thread settings */

#if defined(CORDON_BENCH_HAVE_OPENBLAS)
static void openblas_threads(unsigned t) {
    openblas_set_num_threads((int)t);
}
#endif

/* cordon's BLAS engine expects OpenBLAS single-threaded (it splits the product on its own pool). */
static void cordon_blas_setup(unsigned t) {
    (void)t;
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
    openblas_set_num_threads(1);
#endif
}

#if defined(CORDON_BENCH_HAVE_DNNL)
static void omp_threads(unsigned t) {
#  if defined(_OPENMP)
    omp_set_num_threads((int)t);
#  else
    (void)t;
#  endif
}
#endif

/* ---------------------------------------------------------------------------------------------------
 * Plain C row operations: what a user writes without a library (-O3, no -ffast-math: the sums are not
 * reassociated, expf is libm's) */

static void plain_softmax(float *y, const float *x, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float mx = xr[0];
        for (size_t i = 1; i < n; i++) {
            mx = xr[i] > mx ? xr[i] : mx;
        }
        float sum = 0;
        for (size_t i = 0; i < n; i++) {
            yr[i] = expf(xr[i] - mx);
            sum += yr[i];
        }
        float inv = 1.0f / sum;
        for (size_t i = 0; i < n; i++) {
            yr[i] *= inv;
        }
    }
}

static void plain_rms_norm(float *y, const float *x, const float *w, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float ss = 0;
        for (size_t i = 0; i < n; i++) {
            ss += xr[i] * xr[i];
        }
        float inv = 1.0f / sqrtf(ss / (float)n + EPS);
        for (size_t i = 0; i < n; i++) {
            yr[i] = xr[i] * inv * w[i];
        }
    }
}

static void plain_layer_norm(float *y, const float *x, const float *g, const float *bt, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        float mean = 0, var = 0;
        for (size_t i = 0; i < n; i++) {
            mean += xr[i];
        }
        mean /= (float)n;
        for (size_t i = 0; i < n; i++) {
            var += (xr[i] - mean) * (xr[i] - mean);
        }
        float inv = 1.0f / sqrtf(var / (float)n + EPS);
        for (size_t i = 0; i < n; i++) {
            yr[i] = (xr[i] - mean) * inv * g[i] + bt[i];
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Shared state: devices per thread count and engine */

typedef struct devices {
    cordon_device builtin[3]; /* index: threads (1, 2) */
    cordon_device blas[3];
    bool have_blas;
    const char *isa;
} devices;

static float *host_random(size_t n, uint64_t seed) {
    float *p = malloc(n * sizeof *p);
    if (p == NULL) {
        failed = 1;
        return NULL;
    }
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        p[i] = (float)((double)(s >> 40) / (double)(1u << 24) * 2.0 - 1.0);
    }
    return p;
}

static bool tensor_from(cordon_device dev, unsigned ndim, const uint64_t *shape, const float *src, size_t n,
                        cordon_tensor *out) {
    if (!must(cordon_tensor_create(dev, CORDON_DTYPE_F32, ndim, shape, out), "tensor_create")) {
        return false;
    }
    return src == NULL || must(cordon_tensor_write(*out, src, n * sizeof *src), "tensor_write");
}

/* ---------------------------------------------------------------------------------------------------
 * Row operations: softmax, RMSNorm, LayerNorm */

enum row_op { ROW_SOFTMAX, ROW_RMS, ROW_LAYER };

typedef struct row_ctx {
    enum row_op op;
    cordon_tensor x, y, w, bias;
    cordon_softmax_params sp;
    const float *hx, *hw, *hb;
    float *hy;
    size_t rows, n;
#if defined(CORDON_BENCH_HAVE_DNNL)
    dnnl_primitive_t prim;
    dnnl_stream_t stream;
    dnnl_exec_arg_t args[4];
    int nargs;
#endif
} row_ctx;

static void row_cordon(void *arg) {
    row_ctx *c = arg;
    cordon_status st = c->op == ROW_SOFTMAX ? cordon_softmax(c->y, c->x, &c->sp)
                       : c->op == ROW_RMS   ? cordon_rms_norm(c->y, c->x, c->w, EPS)
                                            : cordon_layer_norm(c->y, c->x, c->w, c->bias, EPS);
    must(st, "row op");
}

static void row_plain(void *arg) {
    row_ctx *c = arg;
    if (c->op == ROW_SOFTMAX) {
        plain_softmax(c->hy, c->hx, c->rows, c->n);
    } else if (c->op == ROW_RMS) {
        plain_rms_norm(c->hy, c->hx, c->hw, c->rows, c->n);
    } else {
        plain_layer_norm(c->hy, c->hx, c->hw, c->hb, c->rows, c->n);
    }
    cordon_bench_consume(c->hy);
}

#if defined(CORDON_BENCH_HAVE_DNNL)
static dnnl_engine_t dnnl_eng;
static dnnl_stream_t dnnl_str;

/* The oneDNN engine and stream the row lines use; false when oneDNN cannot make them (its lines then say
 * "oneDNN failed"). */
static bool dnnl_open(void) {
    if (dnnl_engine_create(&dnnl_eng, dnnl_cpu, 0) != dnnl_success) {
        return false;
    }
    if (dnnl_stream_create(&dnnl_str, dnnl_eng, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(dnnl_eng);
        return false;
    }
    return true;
}

static void dnnl_close(bool opened) {
    if (opened) {
        dnnl_stream_destroy(dnnl_str);
        dnnl_engine_destroy(dnnl_eng);
    }
}

static void row_dnnl(void *arg) {
    row_ctx *c = arg;
    if (dnnl_primitive_execute(c->prim, c->stream, c->nargs, c->args) != dnnl_success ||
        dnnl_stream_wait(c->stream) != dnnl_success) {
        failed = 1;
    }
    cordon_bench_consume(c->hy);
}

/* A oneDNN softmax (accurate) or layer normalization (scale and shift) primitive over (rows, n), reading
 * and writing the plain C baseline's buffers. */
static bool dnnl_row_setup(row_ctx *c, dnnl_memory_t mems[4]) {
    dnnl_memory_desc_t md, pmd;
    dnnl_dims_t dims = {(dnnl_dim_t)c->rows, (dnnl_dim_t)c->n};
    dnnl_dims_t pdims = {(dnnl_dim_t)c->n};
    if (dnnl_memory_desc_init_by_tag(&md, 2, dims, dnnl_f32, dnnl_ab) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&pmd, 1, pdims, dnnl_f32, dnnl_a) != dnnl_success) {
        return false;
    }
    dnnl_primitive_desc_t pd = NULL;
    if (c->op == ROW_SOFTMAX) {
        dnnl_softmax_v2_desc_t sd;
        if (dnnl_softmax_v2_forward_desc_init(&sd, dnnl_forward_inference, dnnl_softmax_accurate, &md, &md, 1) !=
                dnnl_success ||
            dnnl_primitive_desc_create(&pd, &sd, NULL, dnnl_eng, NULL) != dnnl_success) {
            return false;
        }
    } else {
        dnnl_layer_normalization_desc_t ld;
        if (dnnl_layer_normalization_forward_desc_init(&ld, dnnl_forward_inference, &md, NULL, EPS,
                                                       dnnl_use_scale | dnnl_use_shift) != dnnl_success ||
            dnnl_primitive_desc_create(&pd, &ld, NULL, dnnl_eng, NULL) != dnnl_success) {
            return false;
        }
    }
    bool ok = dnnl_primitive_create(&c->prim, pd) == dnnl_success;
    dnnl_primitive_desc_destroy(pd);
    ok = ok && dnnl_memory_create(&mems[0], &md, dnnl_eng, (void *)c->hx) == dnnl_success;
    ok = ok && dnnl_memory_create(&mems[1], &md, dnnl_eng, c->hy) == dnnl_success;
    c->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, mems[0]};
    c->args[1] = (dnnl_exec_arg_t){DNNL_ARG_DST, mems[1]};
    c->nargs = 2;
    if (ok && c->op == ROW_LAYER) {
        ok = dnnl_memory_create(&mems[2], &pmd, dnnl_eng, (void *)c->hw) == dnnl_success &&
             dnnl_memory_create(&mems[3], &pmd, dnnl_eng, (void *)c->hb) == dnnl_success;
        c->args[2] = (dnnl_exec_arg_t){DNNL_ARG_SCALE, mems[2]};
        c->args[3] = (dnnl_exec_arg_t){DNNL_ARG_SHIFT, mems[3]};
        c->nargs = 4;
    }
    c->stream = dnnl_str;
    return ok;
}
#endif

typedef struct row_shape {
    unsigned ndim;
    uint64_t dims[3];
    const char *name;
} row_shape;

static void bench_rows(cordon_bench *b, devices *dv, enum row_op op, const row_shape *sh, unsigned threads) {
    static const char *const names[] = {"softmax", "rms_norm", "layer_norm"};
    size_t n = (size_t)sh->dims[sh->ndim - 1], total = 1;
    for (unsigned i = 0; i < sh->ndim; i++) {
        total *= (size_t)sh->dims[i];
    }
    row_ctx c = {.op = op, .rows = total / n, .n = n};
    cordon_softmax_params_init(&c.sp);
    cordon_device dev = dv->builtin[threads];
    uint64_t wshape[1] = {n};
    float *hx = host_random(total, 1), *hw = host_random(n, 2), *hb = host_random(n, 3);
    c.hy = calloc(total, sizeof(float));
    if (hx == NULL || hw == NULL || hb == NULL || c.hy == NULL) {
        failed = 1;
        free(hx), free(hw), free(hb), free(c.hy);
        return;
    }
    c.hx = hx, c.hw = hw, c.hb = hb;
    bool ok = tensor_from(dev, sh->ndim, sh->dims, hx, total, &c.x) && tensor_from(dev, sh->ndim, sh->dims, NULL, 0, &c.y) &&
              tensor_from(dev, 1, wshape, hw, n, &c.w) && tensor_from(dev, 1, wshape, hb, n, &c.bias);
    line_info li = {.op = names[op], .shape = sh->name, .isa = dv->isa, .engine = "", .bytes = 8.0 * (double)total,
                    .x = sh->ndim == 2 ? (double)total : 0};
    contender cs[3] = {
        {.label = "cordon", .fn = row_cordon, .arg = &c, .threads = threads, .present = ok},
        {.label = "plain C", .fn = row_plain, .arg = &c, .threads = 1, .present = ok},
        {.label = "oneDNN", .arg = &c, .threads = threads, .present = false},
    };
#if defined(CORDON_BENCH_HAVE_DNNL)
    dnnl_memory_t mems[4] = {0};
    if (ok && op != ROW_RMS) {
        cs[2].present = dnnl_row_setup(&c, mems);
        cs[2].fn = row_dnnl;
        cs[2].setup = omp_threads;
    }
#endif
    if (ok) {
        measure(b, cs, 3);
        emit(b, &li, &cs[0], &cs[1], NULL);
        if (op != ROW_SOFTMAX && read_bw[threads] > 0 && total >= 512 * 4096) {
            /* The machine limit: the same bytes at the read bandwidth measured in this run. */
            contender lim = {.label = "read bandwidth", .threads = threads, .present = true};
            lim.med_us = lim.min_us = lim.max_us = li.bytes / (read_bw[threads] * 1e3);
            emit(b, &li, &cs[0], &lim, NULL);
        }
        if (op != ROW_RMS) {
#if defined(CORDON_BENCH_HAVE_DNNL)
            emit(b, &li, &cs[0], &cs[2], cs[2].present ? NULL : "oneDNN failed");
#else
            emit(b, &li, &cs[0], NULL, "oneDNN: skipped");
#endif
        }
    }
#if defined(CORDON_BENCH_HAVE_DNNL)
    if (c.prim != NULL) {
        dnnl_primitive_destroy(c.prim);
    }
    for (int i = 0; i < 4; i++) {
        if (mems[i] != NULL) {
            dnnl_memory_destroy(mems[i]);
        }
    }
#endif
    cordon_tensor ts[4] = {c.x, c.y, c.w, c.bias};
    for (int i = 0; i < 4; i++) {
        if (ts[i].handle != 0) {
            must(cordon_tensor_destroy(ts[i]), "tensor_destroy");
        }
    }
    free(hx), free(hw), free(hb), free(c.hy);
}

/* ---------------------------------------------------------------------------------------------------
 * Matrix products */

/* A product whose B is larger than MM_COPY_BYTES rotates over MM_COPIES copies of B (for each contender:
 * its own device tensors, and the host copies for the direct OpenBLAS calls), one per call, as a model's
 * layers are visited in turn. A sample of such a product is only a few calls, and a processor whose
 * last-level cache holds most of one copy would otherwise time some contenders on a B left warm by the
 * previous sample (the direct sgemv after the direct sgemm on the same host array) and others cold. */
#define MM_COPIES 4
#define MM_COPY_BYTES (16u << 20)

typedef struct mm_ctx {
    cordon_tensor a, b[MM_COPIES], c;
    cordon_matmul_params p;
    const float *ha;
    const float *hb[MM_COPIES];
    float *hc;
    size_t m, n, k;
    bool wt; /* B = Wᵀ of a row-major W (N × K), a linear layer's weight */
    unsigned copies, next;
} mm_ctx;

static unsigned mm_take(mm_ctx *c) {
    unsigned i = c->next;
    c->next = (c->next + 1) % c->copies;
    return i;
}

static void mm_cordon(void *arg) {
    mm_ctx *c = arg;
    must(cordon_matmul(c->c, c->a, c->b[mm_take(c)], &c->p), "matmul");
}

#if defined(CORDON_BENCH_HAVE_OPENBLAS)
static void mm_sgemm(void *arg) {
    mm_ctx *c = arg;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, c->wt ? CblasTrans : CblasNoTrans, (int)c->m, (int)c->n, (int)c->k, 1.0f,
                c->ha, (int)c->k, c->hb[mm_take(c)], c->wt ? (int)c->k : (int)c->n, 0.0f, c->hc, (int)c->n);
    cordon_bench_consume(c->hc);
}

static void mm_sgemv(void *arg) {
    mm_ctx *c = arg;
    /* y (1 × N) = x (1 × K) · B (K × N): y = Bᵀ·x with B row-major. */
    cblas_sgemv(CblasRowMajor, CblasTrans, (int)c->k, (int)c->n, 1.0f, c->hb[mm_take(c)], (int)c->n, c->ha, 1, 0.0f,
                c->hc, 1);
    cordon_bench_consume(c->hc);
}
#endif

static void bench_matmul_b(cordon_bench *b, devices *dv, size_t m, size_t n, size_t k, const char *op, unsigned threads,
                           bool wt) {
    char name[48];
    snprintf(name, sizeof name, "%zux%zux%zu%s", m, n, k, wt ? "-Wt" : "");
    unsigned copies = (double)k * (double)n * sizeof(float) > (double)MM_COPY_BYTES ? MM_COPIES : 1;
    float *ha = host_random(m * k, 4), *hc = calloc(m * n, sizeof(float));
    float *hb[MM_COPIES] = {0};
    bool host_ok = ha != NULL && hc != NULL;
    for (unsigned j = 0; j < copies; j++) {
        hb[j] = host_random(k * n, 5 + j);
        host_ok = host_ok && hb[j] != NULL;
    }
    if (!host_ok) {
        failed = 1;
        free(ha), free(hc);
        for (unsigned j = 0; j < copies; j++) {
            free(hb[j]);
        }
        return;
    }
    uint64_t sa[2] = {m, k}, sb[2] = {wt ? n : k, wt ? k : n}, sc[2] = {m, n};
    mm_ctx ctx[2];
    cordon_device devs[2] = {dv->builtin[threads], dv->have_blas ? dv->blas[threads] : dv->builtin[threads]};
    bool ok = true;
    int ndev = dv->have_blas ? 2 : 1;
    for (int i = 0; i < ndev; i++) {
        ctx[i] = (mm_ctx){.ha = ha, .hc = hc, .m = m, .n = n, .k = k, .wt = wt, .copies = copies};
        cordon_matmul_params_init(&ctx[i].p);
        ctx[i].p.trans_b = wt;
        ok = ok && tensor_from(devs[i], 2, sa, ha, m * k, &ctx[i].a) && tensor_from(devs[i], 2, sc, NULL, 0, &ctx[i].c);
        for (unsigned j = 0; j < copies && ok; j++) {
            ctx[i].hb[j] = hb[j];
            ok = tensor_from(devs[i], 2, sb, hb[j], k * n, &ctx[i].b[j]);
        }
    }
    contender cs[4] = {
        {.label = "cordon", .fn = mm_cordon, .arg = &ctx[0], .threads = threads, .present = ok},
        {.label = "cordon", .fn = mm_cordon, .arg = &ctx[1], .threads = threads, .present = ok && ndev == 2,
         .setup = cordon_blas_setup},
        {.label = "OpenBLAS sgemm", .arg = &ctx[0], .threads = threads},
        {.label = "OpenBLAS sgemv", .arg = &ctx[0], .threads = threads},
    };
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
    cs[2].fn = mm_sgemm, cs[2].setup = openblas_threads, cs[2].present = ok;
    cs[3].fn = mm_sgemv, cs[3].setup = openblas_threads, cs[3].present = ok && m == 1 && !wt;
#endif
    if (ok) {
        measure(b, cs, 4);
        line_info li = {.op = op, .shape = name, .isa = dv->isa, .flops = 2.0 * (double)m * (double)n * (double)k,
                        .x = m == n && n == k ? (double)n : 0};
        for (int i = 0; i < ndev; i++) {
            li.engine = i == 0 ? "built-in" : "openblas";
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
            emit(b, &li, &cs[i], &cs[2], NULL);
            if (m == 1 && !wt) {
                emit(b, &li, &cs[i], &cs[3], NULL);
            }
            if (m == 1 && read_bw[threads] > 0) {
                /* Decode reads B once: its bytes at the read bandwidth measured in this run. */
                contender lim = {.label = "read bandwidth", .threads = threads, .present = true};
                lim.med_us = lim.min_us = lim.max_us = 4.0 * (double)k * (double)n / (read_bw[threads] * 1e3);
                emit(b, &li, &cs[i], &lim, NULL);
            }
#else
            emit(b, &li, &cs[i], NULL, "OpenBLAS: skipped");
#endif
        }
    }
    for (int i = 0; i < ndev; i++) {
        cordon_tensor ts[2 + MM_COPIES] = {ctx[i].a, ctx[i].c};
        for (unsigned j = 0; j < copies; j++) {
            ts[2 + j] = ctx[i].b[j];
        }
        for (int j = 0; j < 2 + MM_COPIES; j++) {
            if (ts[j].handle != 0) {
                must(cordon_tensor_destroy(ts[j]), "tensor_destroy");
            }
        }
    }
    free(ha), free(hc);
    for (unsigned j = 0; j < copies; j++) {
        free(hb[j]);
    }
}

static void bench_matmul(cordon_bench *b, devices *dv, size_t m, size_t n, size_t k, const char *op, unsigned threads) {
    bench_matmul_b(b, dv, m, n, k, op, threads, false);
}

/* ---------------------------------------------------------------------------------------------------
 * Decode on bf16 weights: y (1 × N) = x (1 × K) · B with B stored as BF16, against the same product with B
 * stored as F32, on the same device, in the same run (samples interleaved). Two layouts: B (K × N)
 * row-major (the axpy path) and B = Wᵀ of a row-major W (N × K), the layout of a linear layer's weight
 * (the dot path). Each call uses the next of DECODE_COPIES weight matrices in turn, as a model's layers
 * are visited in turn: their bytes (bf16 128 MiB, f32 256 MiB at 4096²) exceed any last-level cache, so
 * every call reads its weights from memory, never from a cache the previous call filled. Decode reads
 * the weights once, so the speed-up is bounded by the bytes: 2× at most. */

#define DECODE_TARGET_SPEEDUP 1.8
#define DECODE_COPIES 4

typedef struct decode_ctx {
    cordon_tensor a, c, b[DECODE_COPIES];
    cordon_matmul_params p;
    unsigned next;
} decode_ctx;

static void decode_cordon(void *arg) {
    decode_ctx *c = arg;
    must(cordon_matmul(c->c, c->a, c->b[c->next], &c->p), "matmul");
    c->next = (c->next + 1) % DECODE_COPIES;
}

static void bench_decode_bf16(cordon_bench *b, devices *dv, size_t n, size_t k, bool wt, unsigned threads) {
    char name[48];
    snprintf(name, sizeof name, "1x%zux%zu%s", n, k, wt ? "-Wt" : "");
    float *ha = host_random(k, 6), *hb = host_random(k * n, 7);
    if (ha == NULL || hb == NULL) {
        failed = 1;
        free(ha), free(hb);
        return;
    }
    cordon_device dev = dv->builtin[threads];
    uint64_t sa[2] = {1, k}, sb[2] = {wt ? n : k, wt ? k : n}, sc[2] = {1, n};
    decode_ctx ctx[2];
    memset(ctx, 0, sizeof ctx);
    bool ok = true;
    for (int i = 0; i < 2; i++) {
        cordon_matmul_params_init(&ctx[i].p);
        ctx[i].p.trans_b = wt;
        ok = ok && tensor_from(dev, 2, sa, ha, k, &ctx[i].a) && tensor_from(dev, 2, sc, NULL, 0, &ctx[i].c);
    }
    /* ctx[0]: BF16 weights (rounded from the same f32 values); ctx[1]: F32 weights. */
    for (int j = 0; j < DECODE_COPIES && ok; j++) {
        hb[j] += 1.0f; /* copies differ, so no layer of caching could merge them */
        ok = must(cordon_tensor_create(dev, CORDON_DTYPE_BF16, 2, sb, &ctx[0].b[j]), "tensor_create bf16") &&
             must(cordon_tensor_write_f32(ctx[0].b[j], hb, k * n), "tensor_write_f32") &&
             tensor_from(dev, 2, sb, hb, k * n, &ctx[1].b[j]);
    }
    contender cs[2] = {
        {.label = "cordon f32", .fn = decode_cordon, .arg = &ctx[1], .threads = threads, .present = ok},
        {.label = "cordon", .fn = decode_cordon, .arg = &ctx[0], .threads = threads, .present = ok},
    };
    if (ok) {
        measure(b, cs, 2);
        line_info li = {.op = "decode_bf16", .shape = name, .isa = dv->isa, .engine = "built-in",
                        .flops = 2.0 * (double)n * (double)k};
        emit(b, &li, &cs[1], &cs[0], NULL);
        if (read_bw[threads] > 0) {
            /* The machine limit: the bf16 weights' bytes at the read bandwidth measured in this run. */
            contender lim = {.label = "read bandwidth", .threads = threads, .present = true};
            lim.med_us = lim.min_us = lim.max_us = 2.0 * (double)k * (double)n / (read_bw[threads] * 1e3);
            emit(b, &li, &cs[1], &lim, NULL);
        }
        double speedup = cs[0].med_us / cs[1].med_us;
        if (cordon_bench_json(b)) {
            printf("{\"suite\":\"compute\",\"name\":\"decode_bf16/%s/t%u/speedup over f32\",\"op\":\"decode_bf16\","
                   "\"shape\":\"%s\",\"threads\":%u,\"isa\":\"%s\",\"value\":%.4g,\"unit\":\"x\","
                   "\"bf16_us\":%.6g,\"bf16_spread_pct\":%.3g,\"f32_us\":%.6g,\"f32_spread_pct\":%.3g,"
                   "\"target\":%.2g,\"met\":%s}\n",
                   name, threads, name, threads, dv->isa, speedup, cs[1].med_us, cs[1].spread_pct, cs[0].med_us,
                   cs[0].spread_pct, DECODE_TARGET_SPEEDUP, speedup >= DECODE_TARGET_SPEEDUP ? "true" : "false");
            fflush(stdout);
        } else {
            cordon_bench_note(b, "decode bf16 %s, %u thread%s: %.2fx the f32 decode speed (target >= %.1fx: %s)", name,
                              threads, threads == 1 ? "" : "s", speedup, DECODE_TARGET_SPEEDUP,
                              speedup >= DECODE_TARGET_SPEEDUP ? "met" : "NOT met");
        }
    }
    for (int i = 0; i < 2; i++) {
        cordon_tensor ts[2 + DECODE_COPIES] = {ctx[i].a, ctx[i].c};
        for (int j = 0; j < DECODE_COPIES; j++) {
            ts[2 + j] = ctx[i].b[j];
        }
        for (int j = 0; j < 2 + DECODE_COPIES; j++) {
            if (ts[j].handle != 0) {
                must(cordon_tensor_destroy(ts[j]), "tensor_destroy");
            }
        }
    }
    free(ha), free(hb);
}

/* ---------------------------------------------------------------------------------------------------
 * LoRA: the adapter path y = (alpha/r)·(x·A)·B on x (4, 16, 512), rank 8 (metal-candle's benchmark), and
 * the whole layer y = x·W + adapter */

#define LORA_T 64
#define LORA_D 512
#define LORA_R 8
#define LORA_ALPHA 16.0f

typedef struct lora_ctx {
    cordon_tensor x, w, a, bm, xa, y;
    cordon_matmul_params p1, p2;
    cordon_lora_params lp;
    const float *hx, *hw, *ha, *hb;
    float *hxa, *hy;
    bool with_w;
} lora_ctx;

static void lora_cordon(void *arg) {
    lora_ctx *c = arg;
    if (c->with_w) {
        must(cordon_lora_linear(c->y, c->x, c->w, CORDON_TENSOR_NONE, c->a, c->bm, &c->lp), "lora_linear");
    } else {
        /* The adapter alone (no W): one fused op on the CPU device. */
        must(cordon_lora_linear(c->y, c->x, CORDON_TENSOR_NONE, CORDON_TENSOR_NONE, c->a, c->bm, &c->lp), "lora adapter");
    }
}

static void lora_plain(void *arg) {
    lora_ctx *c = arg;
    float s = LORA_ALPHA / LORA_R;
    for (size_t t = 0; t < LORA_T; t++) {
        for (size_t r = 0; r < LORA_R; r++) {
            float acc = 0;
            for (size_t i = 0; i < LORA_D; i++) {
                acc += c->hx[t * LORA_D + i] * c->ha[i * LORA_R + r];
            }
            c->hxa[t * LORA_R + r] = acc;
        }
        float *yt = c->hy + t * LORA_D;
        for (size_t j = 0; j < LORA_D; j++) {
            yt[j] = 0;
        }
        if (c->with_w) {
            for (size_t i = 0; i < LORA_D; i++) {
                float xi = c->hx[t * LORA_D + i];
                for (size_t j = 0; j < LORA_D; j++) {
                    yt[j] += xi * c->hw[i * LORA_D + j];
                }
            }
        }
        for (size_t r = 0; r < LORA_R; r++) {
            float v = s * c->hxa[t * LORA_R + r];
            for (size_t j = 0; j < LORA_D; j++) {
                yt[j] += v * c->hb[r * LORA_D + j];
            }
        }
    }
    cordon_bench_consume(c->hy);
}

#if defined(CORDON_BENCH_HAVE_OPENBLAS)
static void lora_sgemm(void *arg) {
    lora_ctx *c = arg;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, LORA_T, LORA_R, LORA_D, 1.0f, c->hx, LORA_D, c->ha, LORA_R,
                0.0f, c->hxa, LORA_R);
    if (c->with_w) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, LORA_T, LORA_D, LORA_D, 1.0f, c->hx, LORA_D, c->hw,
                    LORA_D, 0.0f, c->hy, LORA_D);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, LORA_T, LORA_D, LORA_R, LORA_ALPHA / LORA_R, c->hxa, LORA_R,
                c->hb, LORA_D, c->with_w ? 1.0f : 0.0f, c->hy, LORA_D);
    cordon_bench_consume(c->hy);
}
#endif

static void bench_lora(cordon_bench *b, devices *dv, bool with_w, unsigned threads) {
    cordon_device dev = dv->builtin[threads];
    lora_ctx c = {.with_w = with_w};
    cordon_matmul_params_init(&c.p1);
    cordon_matmul_params_init(&c.p2);
    c.p2.alpha = LORA_ALPHA / LORA_R;
    c.lp = (cordon_lora_params){.alpha = LORA_ALPHA, .scaling = CORDON_LORA_SCALE_STANDARD};
    float *hx = host_random(LORA_T * LORA_D, 6), *hw = host_random(LORA_D * LORA_D, 7);
    float *ha = host_random(LORA_D * LORA_R, 8), *hb = host_random(LORA_R * LORA_D, 9);
    c.hxa = calloc(LORA_T * LORA_R, sizeof(float));
    c.hy = calloc(LORA_T * LORA_D, sizeof(float));
    if (!hx || !hw || !ha || !hb || !c.hxa || !c.hy) {
        failed = 1;
        free(hx), free(hw), free(ha), free(hb), free(c.hxa), free(c.hy);
        return;
    }
    c.hx = hx, c.hw = hw, c.ha = ha, c.hb = hb;
    uint64_t sx[3] = {4, 16, LORA_D}, sw[2] = {LORA_D, LORA_D}, sa[2] = {LORA_D, LORA_R}, sb[2] = {LORA_R, LORA_D};
    uint64_t sxa[3] = {4, 16, LORA_R};
    bool ok = tensor_from(dev, 3, sx, hx, LORA_T * LORA_D, &c.x) && tensor_from(dev, 2, sw, hw, LORA_D * LORA_D, &c.w) &&
              tensor_from(dev, 2, sa, ha, LORA_D * LORA_R, &c.a) && tensor_from(dev, 2, sb, hb, LORA_R * LORA_D, &c.bm) &&
              tensor_from(dev, 3, sxa, NULL, 0, &c.xa) && tensor_from(dev, 3, sx, NULL, 0, &c.y);
    contender cs[3] = {
        {.label = "cordon", .fn = lora_cordon, .arg = &c, .threads = threads, .present = ok},
        {.label = "plain C", .fn = lora_plain, .arg = &c, .threads = 1, .present = ok},
        {.label = "OpenBLAS sgemm", .arg = &c, .threads = threads},
    };
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
    cs[2].fn = lora_sgemm, cs[2].setup = openblas_threads, cs[2].present = ok;
#endif
    if (ok) {
        measure(b, cs, 3);
        double flops = 2.0 * LORA_T * LORA_D * LORA_R * 2 + (with_w ? 2.0 * LORA_T * LORA_D * LORA_D : 0.0);
        line_info li = {.op = with_w ? "lora_linear" : "lora_adapter", .shape = "4x16x512 r8", .isa = dv->isa,
                        .engine = "built-in", .flops = flops};
        emit(b, &li, &cs[0], &cs[1], NULL);
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
        emit(b, &li, &cs[0], &cs[2], NULL);
#else
        emit(b, &li, &cs[0], NULL, "OpenBLAS: skipped");
#endif
    }
    cordon_tensor ts[6] = {c.x, c.w, c.a, c.bm, c.xa, c.y};
    for (int i = 0; i < 6; i++) {
        if (ts[i].handle != 0) {
            must(cordon_tensor_destroy(ts[i]), "tensor_destroy");
        }
    }
    free(hx), free(hw), free(ha), free(hb), free(c.hxa), free(c.hy);
}

/* ---------------------------------------------------------------------------------------------------
 * The small-work threshold: RMSNorm rows of 512 at growing sizes, 1 thread against 2.
 *  - cordon's device with 1 and with 2 threads: what the library does today (below its INLINE_PS
 *    the 2-thread device runs on the caller alone, so the two agree there);
 *  - the same plain C rows on the caller against split over a 2-thread cordon_pool: what waking the
 *    pool costs, free of any threshold, so where a second thread starts to win. */

#define THR_N 512

typedef struct thr_ctx {
    const float *x, *w;
    float *y;
    size_t rows;
    cordon_pool pool;
} thr_ctx;

static cordon_status thr_task(void *ctx, size_t begin, size_t end) {
    thr_ctx *c = ctx;
    plain_rms_norm(c->y + begin * THR_N, c->x + begin * THR_N, c->w, end - begin, THR_N);
    return CORDON_OK;
}

static void thr_inline(void *arg) {
    thr_ctx *c = arg;
    plain_rms_norm(c->y, c->x, c->w, c->rows, THR_N);
    cordon_bench_consume(c->y);
}

static void thr_pool(void *arg) {
    thr_ctx *c = arg;
    /* Two halves, one per thread (the caller takes one). */
    size_t chunk = (c->rows + 1) / 2;
    must(cordon_pool_parallel_for(c->pool, 0, c->rows, chunk, thr_task, c), "parallel_for");
    cordon_bench_consume(c->y);
}

static void bench_threshold(cordon_bench *b, devices *dv) {
    size_t max_rows = 4096;
    float *x = host_random(max_rows * THR_N, 10), *w = host_random(THR_N, 11), *y = calloc(max_rows * THR_N, sizeof(float));
    cordon_pool pool;
    if (x == NULL || w == NULL || y == NULL || !must(cordon_pool_create(2, &pool), "pool_create")) {
        failed = 1;
        free(x), free(w), free(y);
        return;
    }
    if (!cordon_bench_json(b)) {
        printf("\n  small-work threshold: RMSNorm rows of %d, 1 thread vs 2 (cordon estimates 3 x 40 ps per element;\n"
               "  its INLINE_PS is 4 us, i.e. %d elements here)\n",
               THR_N, 4000000 / 120);
        printf("  %8s %6s %9s | %12s %12s %7s | %12s %12s %7s\n", "elements", "rows", "units", "cordon t1 us",
               "cordon t2 us", "t1/t2", "C inline us", "C pool(2) us", "speedup");
    }
    /* Speedups per size, to find where 2 threads win from then on. */
    double pool_speedup_at[16] = {0}, dev_speedup_at[16] = {0};
    size_t elements_at[16] = {0};
    int sizes = 0;
    for (size_t rows = 1; rows <= max_rows; rows *= 2) {
        size_t total = rows * THR_N;
        uint64_t dims[2] = {rows, THR_N}, wdims[1] = {THR_N};
        cordon_tensor tx[3], ty[3], tw[3];
        bool ok = true;
        for (unsigned t = 1; t <= 2; t++) {
            ok = ok && tensor_from(dv->builtin[t], 2, dims, x, total, &tx[t]) &&
                 tensor_from(dv->builtin[t], 2, dims, NULL, 0, &ty[t]) && tensor_from(dv->builtin[t], 1, wdims, w, THR_N, &tw[t]);
        }
        if (!ok) {
            break;
        }
        row_ctx r1 = {.op = ROW_RMS, .x = tx[1], .y = ty[1], .w = tw[1]}, r2 = {.op = ROW_RMS, .x = tx[2], .y = ty[2], .w = tw[2]};
        thr_ctx tc = {.x = x, .w = w, .y = y, .rows = rows, .pool = pool};
        contender cs[4] = {
            {.label = "cordon t1", .fn = row_cordon, .arg = &r1, .threads = 1, .present = true},
            {.label = "cordon t2", .fn = row_cordon, .arg = &r2, .threads = 2, .present = true},
            {.label = "C inline", .fn = thr_inline, .arg = &tc, .threads = 1, .present = true},
            {.label = "C pool", .fn = thr_pool, .arg = &tc, .threads = 2, .present = true},
        };
        measure(b, cs, 4);
        double dev_speedup = cs[0].med_us / cs[1].med_us, pool_speedup = cs[2].med_us / cs[3].med_us;
        if (sizes < 16) {
            pool_speedup_at[sizes] = pool_speedup;
            dev_speedup_at[sizes] = dev_speedup;
            elements_at[sizes] = total;
            sizes++;
        }
        if (cordon_bench_json(b)) {
            printf("{\"suite\":\"compute\",\"name\":\"threshold/rms_norm/%zux%d\",\"elements\":%zu,\"work_units\":%zu,"
                   "\"cordon_t1_us\":%.6g,\"cordon_t2_us\":%.6g,\"plain_inline_us\":%.6g,\"plain_pool2_us\":%.6g,"
                   "\"value\":%.6g,\"unit\":\"speedup\"}\n",
                   rows, THR_N, total, 3 * total, cs[0].med_us, cs[1].med_us, cs[2].med_us, cs[3].med_us, pool_speedup);
        } else {
            printf("  %8zu %6zu %9zu | %12.2f %12.2f %7.2f | %12.2f %12.2f %7.2f\n", total, rows, 3 * total, cs[0].med_us,
                   cs[1].med_us, dev_speedup, cs[2].med_us, cs[3].med_us, pool_speedup);
        }
        fflush(stdout);
        for (unsigned t = 1; t <= 2; t++) {
            must(cordon_tensor_destroy(tx[t]), "destroy");
            must(cordon_tensor_destroy(ty[t]), "destroy");
            must(cordon_tensor_destroy(tw[t]), "destroy");
        }
    }
    /* "Starts to win": the smallest size from which every larger size measured is at least 10% faster on
     * 2 threads. */
    size_t first_win_pool = 0, first_win_dev = 0;
    for (int i = sizes - 1; i >= 0 && pool_speedup_at[i] >= 1.1; i--) {
        first_win_pool = elements_at[i];
    }
    for (int i = sizes - 1; i >= 0 && dev_speedup_at[i] >= 1.1; i--) {
        first_win_dev = elements_at[i];
    }
    char text[512];
    char pool_txt[64], dev_txt[64];
    if (first_win_pool != 0) {
        snprintf(pool_txt, sizeof pool_txt, "%zu elements (%zu work units)", first_win_pool, 3 * first_win_pool);
    } else {
        snprintf(pool_txt, sizeof pool_txt, "at no size up to %zu elements", max_rows * THR_N);
    }
    if (first_win_dev != 0) {
        snprintf(dev_txt, sizeof dev_txt, "%zu elements (%zu work units)", first_win_dev, 3 * first_win_dev);
    } else {
        snprintf(dev_txt, sizeof dev_txt, "at no size up to %zu elements", max_rows * THR_N);
    }
    snprintf(text, sizeof text,
             "threshold: 2 threads beat 1 by >= 10%% at every size from: plain C on a 2-thread pool %s; cordon's "
             "device %s; INLINE_PS = 4 us (about 33000 RMSNorm elements)",
             pool_txt, dev_txt);
    cordon_bench_note(b, "%s", text);
    must(cordon_pool_destroy(pool), "pool_destroy");
    free(x), free(w), free(y);
}

/* ---------------------------------------------------------------------------------------------------
 * The suite */

static bool make_device(unsigned threads, cordon_matmul_engine engine, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.threads = threads;
    o.matmul = engine;
    o.huge_pages = true;
    return cordon_device_create(&o, out) == CORDON_OK;
}

/* The 1- and 2-thread devices with cordon's own kernels; false (nothing left behind) on failure. */
static bool make_builtin_devices(devices *dv, cordon_device_info *info) {
    if (!make_device(1, CORDON_MATMUL_BUILTIN, &dv->builtin[1])) {
        return false;
    }
    if (!make_device(2, CORDON_MATMUL_BUILTIN, &dv->builtin[2])) {
        must(cordon_device_destroy(dv->builtin[1]), "device_destroy");
        return false;
    }
    if (!must(cordon_device_info_get(dv->builtin[1], info), "device_info")) {
        must(cordon_device_destroy(dv->builtin[1]), "device_destroy");
        must(cordon_device_destroy(dv->builtin[2]), "device_destroy");
        return false;
    }
    dv->isa = info->isa_name;
    return true;
}

/* A suite's devices: the 1- and 2-thread built-in ones and, with_blas, the BLAS pair when the library has
 * a BLAS engine (dv->have_blas). False, with a note and nothing left behind, when the built-in ones
 * cannot be made. */
static bool open_devices(cordon_bench *b, devices *dv, cordon_device_info *info, bool with_blas) {
    if (!make_builtin_devices(dv, info)) {
        cordon_bench_note(b, "cannot create the CPU devices: suite skipped");
        return false;
    }
    dv->have_blas = with_blas && make_device(1, CORDON_MATMUL_BLAS, &dv->blas[1]);
    if (dv->have_blas && !make_device(2, CORDON_MATMUL_BLAS, &dv->blas[2])) {
        must(cordon_device_destroy(dv->blas[1]), "device_destroy");
        dv->have_blas = false;
    }
    return true;
}

static void close_devices(devices *dv) {
    for (unsigned t = 1; t <= 2; t++) {
        must(cordon_device_destroy(dv->builtin[t]), "device_destroy");
        if (dv->have_blas) {
            must(cordon_device_destroy(dv->blas[t]), "device_destroy");
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Machine limits, measured in the same run: read bandwidth (a STREAM-like sum over an array far larger
 * than the caches) and the FMA peak (independent FMA chains on the widest vectors the processor has),
 * on 1 thread and on 2 (a 2-thread cordon_pool, each thread half of the array or its own chains). */

#define BW_FLOATS_FULL ((size_t)64 << 20) /* 256 MiB */
#define BW_FLOATS_QUICK ((size_t)32 << 20)

typedef struct limit_ctx {
    const float *x;
    size_t n;
    cordon_pool pool;
    volatile float sink;
    uint64_t fma_iters;
} limit_ctx;

/* Plain C (what -O3 vectorises without -ffast-math: sixteen independent partial sums), and the same with
 * the widest loads this processor has, which is what the bandwidth figure uses. */
static float sum_stream_c(const float *x, size_t n) {
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int l = 0; l < 16; l++) {
            acc[l] += x[i + (size_t)l];
        }
    }
    float s = 0;
    for (int l = 0; l < 16; l++) {
        s += acc[l];
    }
    return s;
}

#if defined(__x86_64__)
#  include <immintrin.h>
__attribute__((target("avx512f"))) static float sum_stream_avx512(const float *x, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) + sum_stream_c(x + i, n - i);
}
#endif

static float sum_stream(const float *x, size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        return sum_stream_avx512(x, n);
    }
#endif
    return sum_stream_c(x, n);
}

static void read_one(void *arg) {
    limit_ctx *c = arg;
    c->sink = sum_stream(c->x, c->n);
}

static cordon_status read_half(void *ctx, size_t begin, size_t end) {
    limit_ctx *c = ctx;
    for (size_t h = begin; h < end; h++) {
        c->sink = sum_stream(c->x + h * (c->n / 2), c->n / 2);
    }
    return CORDON_OK;
}

static void read_two(void *arg) {
    limit_ctx *c = arg;
    must(cordon_pool_parallel_for(c->pool, 0, 2, 1, read_half, c), "parallel_for");
}

#if defined(__x86_64__)
#  define FMA_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
__attribute__((target("avx512f,fma"))) static float fma_avx512(uint64_t iters) {
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
#  define DECL(i) __m512 v##i = _mm512_set1_ps((float)(i));
#  define STEP(i) v##i = _mm512_fmadd_ps(v##i, m, a);
#  define SUM(i) t = _mm512_add_ps(t, v##i);
    FMA_CHAINS(DECL)
    for (uint64_t it = 0; it < iters; it++) {
        FMA_CHAINS(STEP)
    }
    __m512 t = _mm512_setzero_ps();
    FMA_CHAINS(SUM)
    return _mm512_reduce_add_ps(t);
}
#  undef DECL
#  undef STEP
#  undef SUM
__attribute__((target("avx2,fma"))) static float fma_avx2(uint64_t iters) {
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
#  define DECL(i) __m256 v##i = _mm256_set1_ps((float)(i));
#  define STEP(i) v##i = _mm256_fmadd_ps(v##i, m, a);
#  define SUM(i) t = _mm256_add_ps(t, v##i);
    FMA_CHAINS(DECL)
    for (uint64_t it = 0; it < iters; it++) {
        FMA_CHAINS(STEP)
    }
    __m256 t = _mm256_setzero_ps();
    FMA_CHAINS(SUM)
    float o[8];
    _mm256_storeu_ps(o, t);
    return o[0] + o[7];
}
#  undef DECL
#  undef STEP
#  undef SUM
#endif

/* FLOPs per iteration of the widest FMA loop this processor runs, 0 when none. */
static double fma_flops_per_iter(void) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        return 16.0 * 16 * 2;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return 16.0 * 8 * 2;
    }
#endif
    return 0;
}

static float fma_run(uint64_t iters) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f")) {
        return fma_avx512(iters);
    }
    return fma_avx2(iters);
#else
    (void)iters;
    return 0;
#endif
}

static void fma_one(void *arg) {
    limit_ctx *c = arg;
    c->sink = fma_run(c->fma_iters);
}

static cordon_status fma_half(void *ctx, size_t begin, size_t end) {
    limit_ctx *c = ctx;
    for (size_t h = begin; h < end; h++) {
        c->sink = fma_run(c->fma_iters);
    }
    return CORDON_OK;
}

static void fma_two(void *arg) {
    limit_ctx *c = arg;
    must(cordon_pool_parallel_for(c->pool, 0, 2, 1, fma_half, c), "parallel_for");
}

static void bench_limits(cordon_bench *b, devices *dv) {
    size_t n = cordon_bench_quick(b) ? BW_FLOATS_QUICK : BW_FLOATS_FULL;
    float *x = host_random(n, 42);
    limit_ctx c = {.x = x, .n = n, .fma_iters = 1u << 16};
    if (x == NULL || !must(cordon_pool_create(2, &c.pool), "pool_create")) {
        free(x);
        return;
    }
    contender cs[4] = {
        {.label = "read", .fn = read_one, .arg = &c, .threads = 1, .present = true},
        {.label = "read", .fn = read_two, .arg = &c, .threads = 2, .present = true},
        {.label = "fma", .fn = fma_one, .arg = &c, .threads = 1, .present = fma_flops_per_iter() > 0},
        {.label = "fma", .fn = fma_two, .arg = &c, .threads = 2, .present = fma_flops_per_iter() > 0},
    };
    measure(b, cs, 4);
    char shape[32];
    snprintf(shape, sizeof shape, "%zuMiB", n * sizeof(float) >> 20);
    for (unsigned t = 1; t <= 2; t++) {
        line_info li = {.op = "read_bw", .shape = shape, .isa = "simd sum", .engine = "", .bytes = 4.0 * (double)n};
        read_bw[t] = li.bytes / (cs[t - 1].med_us * 1e3);
        emit(b, &li, &cs[t - 1], NULL, "machine limit");
        if (cs[t + 1].present) {
            line_info lf = {.op = "fma_peak", .shape = "16 chains", .isa = dv->isa, .engine = "",
                            .flops = fma_flops_per_iter() * (double)c.fma_iters * t};
            fma_peak[t] = lf.flops / (cs[t + 1].med_us * 1e3);
            emit(b, &lf, &cs[t + 1], NULL, "machine limit");
        }
    }
    must(cordon_pool_destroy(c.pool), "pool_destroy");
    free(x);
}

/* ---------------------------------------------------------------------------------------------------
 * Dispatch cost: an operation on a 1-element tensor (the whole fixed cost of a call: handles, pins,
 * validation, the kernel), and the pool's dispatch (a 2-chunk parallel-for of an empty task on a
 * 2-thread pool against the same task called directly). */

typedef struct disp_ctx {
    cordon_tensor y, a;
    cordon_pool pool;
} disp_ctx;

static void disp_add(void *arg) {
    disp_ctx *c = arg;
    must(cordon_add(c->y, c->a, c->a), "add");
}

static void disp_rms(void *arg) {
    disp_ctx *c = arg;
    must(cordon_rms_norm(c->y, c->a, c->a, EPS), "rms_norm");
}

static cordon_status empty_task(void *ctx, size_t begin, size_t end) {
    (void)ctx, (void)begin, (void)end;
    return CORDON_OK;
}

static void disp_pool(void *arg) {
    disp_ctx *c = arg;
    must(cordon_pool_parallel_for(c->pool, 0, 2, 1, empty_task, NULL), "parallel_for");
}

static void disp_inline(void *arg) {
    (void)arg;
    must(empty_task(NULL, 0, 2), "task");
    cordon_bench_consume(arg);
}

static void bench_dispatch(cordon_bench *b, devices *dv) {
    uint64_t one[1] = {1};
    for (unsigned t = 1; t <= 2; t++) {
        disp_ctx c = {0};
        float v = 0.5f;
        if (!tensor_from(dv->builtin[t], 1, one, &v, 1, &c.y) || !tensor_from(dv->builtin[t], 1, one, &v, 1, &c.a)) {
            return;
        }
        contender cs[2] = {{.label = "add", .fn = disp_add, .arg = &c, .threads = t, .present = true},
                           {.label = "rms_norm", .fn = disp_rms, .arg = &c, .threads = t, .present = true}};
        measure(b, cs, 2);
        line_info li = {.op = "add", .shape = "1 element", .isa = dv->isa, .engine = "", .bytes = 12};
        emit(b, &li, &cs[0], NULL, "fixed cost per call");
        li.op = "rms_norm";
        emit(b, &li, &cs[1], NULL, "fixed cost per call");
        must(cordon_tensor_destroy(c.y), "destroy");
        must(cordon_tensor_destroy(c.a), "destroy");
    }
    disp_ctx c = {0};
    if (!must(cordon_pool_create(2, &c.pool), "pool_create")) {
        return;
    }
    contender cs[2] = {{.label = "pool", .fn = disp_pool, .arg = &c, .threads = 2, .present = true},
                       {.label = "direct call", .fn = disp_inline, .arg = &c, .threads = 1, .present = true}};
    measure(b, cs, 2);
    line_info li = {.op = "pool_dispatch", .shape = "2 chunks", .isa = "-", .engine = "", .bytes = 1};
    emit(b, &li, &cs[0], &cs[1], NULL);
    must(cordon_pool_destroy(c.pool), "pool_destroy");
}

/* ---------------------------------------------------------------------------------------------------
 * Backward passes against their forward pass at the same shape (target: backward <= 2.5x forward) */

typedef struct bwd_ctx {
    enum row_op op;
    cordon_tensor x, y, dy, dx, w, dw, db, bias;
    cordon_softmax_params sp;
} bwd_ctx;

static void bwd_forward(void *arg) {
    bwd_ctx *c = arg;
    cordon_status st = c->op == ROW_SOFTMAX ? cordon_softmax(c->y, c->x, &c->sp)
                       : c->op == ROW_RMS   ? cordon_rms_norm(c->y, c->x, c->w, EPS)
                                            : cordon_layer_norm(c->y, c->x, c->w, c->bias, EPS);
    must(st, "forward");
}

static void bwd_backward(void *arg) {
    bwd_ctx *c = arg;
    cordon_status st = c->op == ROW_SOFTMAX ? cordon_softmax_backward(c->dx, c->y, c->dy, 1.0f)
                       : c->op == ROW_RMS   ? cordon_rms_norm_backward(c->dx, c->dw, c->dy, c->x, c->w, EPS)
                                            : cordon_layer_norm_backward(c->dx, c->dw, c->db, c->dy, c->x, c->w, EPS);
    must(st, "backward");
}

static void bench_backward(cordon_bench *b, devices *dv, enum row_op op, const row_shape *sh, unsigned threads) {
    static const char *const names[] = {"softmax_bwd", "rms_norm_bwd", "layer_norm_bwd"};
    size_t n = (size_t)sh->dims[sh->ndim - 1], total = 1;
    for (unsigned i = 0; i < sh->ndim; i++) {
        total *= (size_t)sh->dims[i];
    }
    cordon_device dev = dv->builtin[threads];
    float *hx = host_random(total, 7), *hg = host_random(total, 8), *hw = host_random(n, 9);
    bwd_ctx c = {.op = op};
    cordon_softmax_params_init(&c.sp);
    uint64_t wshape[1] = {n};
    bool ok = hx != NULL && hg != NULL && hw != NULL && tensor_from(dev, sh->ndim, sh->dims, hx, total, &c.x) &&
              tensor_from(dev, sh->ndim, sh->dims, NULL, 0, &c.y) && tensor_from(dev, sh->ndim, sh->dims, hg, total, &c.dy) &&
              tensor_from(dev, sh->ndim, sh->dims, NULL, 0, &c.dx) && tensor_from(dev, 1, wshape, hw, n, &c.w) &&
              tensor_from(dev, 1, wshape, NULL, 0, &c.dw) && tensor_from(dev, 1, wshape, NULL, 0, &c.db) &&
              tensor_from(dev, 1, wshape, hw, n, &c.bias);
    if (ok) {
        bwd_forward(&c); /* y for the softmax gradient */
        contender cs[2] = {{.label = "backward", .fn = bwd_backward, .arg = &c, .threads = threads, .present = true},
                           {.label = "forward", .fn = bwd_forward, .arg = &c, .threads = threads, .present = true}};
        measure(b, cs, 2);
        line_info li = {.op = names[op], .shape = sh->name, .isa = dv->isa, .engine = "",
                        .bytes = (op == ROW_SOFTMAX ? 12.0 : 12.0) * (double)total};
        emit(b, &li, &cs[0], &cs[1], NULL);
    }
    cordon_tensor ts[8] = {c.x, c.y, c.dy, c.dx, c.w, c.dw, c.db, c.bias};
    for (int i = 0; i < 8; i++) {
        if (ts[i].handle != 0) {
            must(cordon_tensor_destroy(ts[i]), "tensor_destroy");
        }
    }
    free(hx), free(hg), free(hw);
}

/* ---------------------------------------------------------------------------------------------------
 * RoPE and attention */

typedef struct ra_ctx {
    cordon_tensor x, y, q, k, v, o, dout, dq, dk, dv;
    cordon_rope_params rp;
    cordon_attention_params ap;
} ra_ctx;

static void ra_rope(void *arg) {
    ra_ctx *c = arg;
    must(cordon_rope(c->y, c->x, &c->rp), "rope");
}

static void ra_attention(void *arg) {
    ra_ctx *c = arg;
    must(cordon_attention(c->o, c->q, c->k, c->v, &c->ap), "attention");
}

static void ra_attention_bwd(void *arg) {
    ra_ctx *c = arg;
    must(cordon_attention_backward(c->dq, c->dk, c->dv, c->dout, c->q, c->k, c->v, &c->ap), "attention_backward");
}

static void bench_rope_attention(cordon_bench *b, devices *dv, unsigned threads) {
    cordon_device dev = dv->builtin[threads];
    ra_ctx c = {0};
    c.rp = (cordon_rope_params){.layout = CORDON_ROPE_HALF, .base = 10000.0f, .position0 = 0};
    cordon_attention_params_init(&c.ap);
    c.ap.causal = true;
    uint64_t rs[4] = {1, 32, 512, 128}, as[4] = {1, 8, 512, 64};
    size_t rn = 32 * 512 * 128, an = 8 * 512 * 64;
    float *hr = host_random(rn, 12), *ha = host_random(an, 13);
    bool ok = hr != NULL && ha != NULL && tensor_from(dev, 4, rs, hr, rn, &c.x) && tensor_from(dev, 4, rs, NULL, 0, &c.y) &&
              tensor_from(dev, 4, as, ha, an, &c.q) && tensor_from(dev, 4, as, ha, an, &c.k) &&
              tensor_from(dev, 4, as, ha, an, &c.v) && tensor_from(dev, 4, as, NULL, 0, &c.o) &&
              tensor_from(dev, 4, as, ha, an, &c.dout) && tensor_from(dev, 4, as, NULL, 0, &c.dq) &&
              tensor_from(dev, 4, as, NULL, 0, &c.dk) && tensor_from(dev, 4, as, NULL, 0, &c.dv);
    if (ok) {
        contender cs[3] = {{.label = "rope", .fn = ra_rope, .arg = &c, .threads = threads, .present = true},
                           {.label = "forward", .fn = ra_attention, .arg = &c, .threads = threads, .present = true},
                           {.label = "backward", .fn = ra_attention_bwd, .arg = &c, .threads = threads, .present = true}};
        measure(b, cs, 3);
        line_info li = {.op = "rope", .shape = "1x32x512x128", .isa = dv->isa, .engine = "", .bytes = 8.0 * (double)rn};
        if (read_bw[threads] > 0) {
            contender lim = {.label = "read bandwidth", .threads = threads, .present = true};
            lim.med_us = lim.min_us = lim.max_us = li.bytes / (read_bw[threads] * 1e3);
            emit(b, &li, &cs[0], &lim, NULL);
        } else {
            emit(b, &li, &cs[0], NULL, "-");
        }
        /* causal: about half of the T×T scores; QKᵀ and P·V each 2·T²·D/2 per head */
        line_info la = {.op = "attention", .shape = "1x8x512x64 c", .isa = dv->isa, .engine = "",
                        .flops = 2.0 * 8 * 512.0 * 512.0 * 64.0};
        if (fma_peak[threads] > 0) {
            contender lim = {.label = "FMA peak", .threads = threads, .present = true};
            lim.med_us = lim.min_us = lim.max_us = la.flops / (fma_peak[threads] * 1e3);
            emit(b, &la, &cs[1], &lim, NULL);
        } else {
            emit(b, &la, &cs[1], NULL, "-");
        }
        /* Backward recomputes the scores and then forms dP, dQ, dK and dV: five products of the
         * forward's size against its two. */
        line_info lb = {.op = "attention_bwd", .shape = "1x8x512x64 c", .isa = dv->isa, .engine = "",
                        .flops = 5.0 * 8 * 512.0 * 512.0 * 64.0};
        emit(b, &lb, &cs[2], &cs[1], NULL);
    }
    cordon_tensor ts[10] = {c.x, c.y, c.q, c.k, c.v, c.o, c.dout, c.dq, c.dk, c.dv};
    for (int i = 0; i < 10; i++) {
        if (ts[i].handle != 0) {
            must(cordon_tensor_destroy(ts[i]), "tensor_destroy");
        }
    }
    free(hr), free(ha);
}

/* ---------------------------------------------------------------------------------------------------
 * SVG charts (--plot DIR): one file per chart, rate against size on a log axis, one polyline per
 * series, the measured machine limit dashed. */

static const char *const series_colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

static void write_chart(const char *dir, const char *chart) {
    char path[512];
    int len = snprintf(path, sizeof path, "%s/%s.svg", dir, chart);
    FILE *f = len > 0 && (size_t)len < sizeof path ? fopen(path, "w") : NULL;
    if (f == NULL) {
        fprintf(stderr, "bench compute: cannot write %s\n", path);
        return;
    }
    double xmin = 0, xmax = 0, ymax = 0;
    bool gflops = false;
    unsigned threads = 1;
    const char *series[8];
    int nseries = 0;
    for (int i = 0; i < npoints; i++) {
        chart_point *p = &points[i];
        if (strcmp(p->chart, chart) != 0) {
            continue;
        }
        xmin = xmin == 0 || p->x < xmin ? p->x : xmin;
        xmax = p->x > xmax ? p->x : xmax;
        ymax = p->rate > ymax ? p->rate : ymax;
        gflops = p->gflops;
        threads = p->threads;
        bool seen = false;
        for (int s = 0; s < nseries; s++) {
            seen |= strcmp(series[s], p->series) == 0;
        }
        if (!seen && nseries < 8) {
            series[nseries++] = p->series;
        }
    }
    double limit = gflops ? fma_peak[threads] : read_bw[threads];
    ymax = (limit > ymax ? limit : ymax) * 1.1;
    if (ymax <= 0) {
        ymax = 1;
    }
    if (xmax <= xmin) {
        xmax = xmin * 2;
    }
    const double W = 640, H = 400, L = 70, R = 190, T = 40, B = 50;
    double pw = W - L - R, ph = H - T - B;
#define XPOS(x) (L + pw * (log((x) / xmin) / log(xmax / xmin)))
#define YPOS(y) (T + ph * (1.0 - (y) / ymax))
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" "
               "font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"15\">%s, %u thread%s (%s against size)</text>\n", L, chart, threads,
            threads > 1 ? "s" : "", gflops ? "GFLOP/s" : "GB/s");
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, T + ph, L + pw, T + ph);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, T, L, T + ph);
    for (int i = 0; i <= 4; i++) {
        double y = ymax * i / 4;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, YPOS(y), L + pw, YPOS(y));
        fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>\n", L - 6, YPOS(y) + 4, y);
    }
    for (int i = 0; i < npoints; i++) {
        if (strcmp(points[i].chart, chart) == 0 && strcmp(points[i].series, series[0]) == 0) {
            fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.0f</text>\n", XPOS(points[i].x), T + ph + 18,
                    points[i].x);
        }
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", L + pw / 2, H - 10,
            gflops ? "n (n×n×n product)" : "elements");
    for (int s = 0; s < nseries; s++) {
        const char *color = series_colors[s % 6];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        /* points in increasing x */
        double last = 0;
        for (;;) {
            int best = -1;
            for (int i = 0; i < npoints; i++) {
                chart_point *p = &points[i];
                if (strcmp(p->chart, chart) == 0 && strcmp(p->series, series[s]) == 0 && p->x > last &&
                    (best < 0 || p->x < points[best].x)) {
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            fprintf(f, "%.1f,%.1f ", XPOS(points[best].x), YPOS(points[best].rate));
            last = points[best].x;
        }
        fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n", L + pw + 10, T + 16.0 * s + 10, color,
                series[s]);
    }
    if (limit > 0) {
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"black\" stroke-dasharray=\"6,4\"/>\n", L,
                YPOS(limit), L + pw, YPOS(limit));
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s %.0f (measured)</text>\n", L + pw + 10, T + 16.0 * nseries + 10,
                gflops ? "FMA peak" : "read bandwidth", limit);
    }
#undef XPOS
#undef YPOS
    fprintf(f, "</svg>\n");
    fclose(f);
}

static void write_charts(cordon_bench *b) {
    const char *dir = cordon_bench_plot_dir(b);
    if (dir == NULL) {
        return;
    }
    int written = 0;
    for (int i = 0; i < npoints; i++) {
        bool first = true;
        for (int j = 0; j < i; j++) {
            first &= strcmp(points[j].chart, points[i].chart) != 0;
        }
        if (first) {
            write_chart(dir, points[i].chart);
            written++;
        }
    }
    cordon_bench_note(b, "--plot: %d SVG charts written to %s", written, dir);
}

/* The threshold alone (also part of "compute"), for tuning the CPU backend's INLINE_PS. */
CORDON_BENCH_SUITE(compute_threshold, "small-work threshold alone: RMSNorm on 1 thread vs 2 at growing sizes") {
    failed = 0;
    devices dv = {0};
    cordon_device_info info;
    if (!open_devices(b, &dv, &info, false)) {
        return;
    }
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) {
        cordon_bench_note(b, "cordon CPU device: %s; load average %.2f at the start", info.description, load[0]);
    }
    bench_threshold(b, &dv);
    close_devices(&dv);
}

/* Decode on bf16 weights alone (also part of "compute"): the read bandwidth, then bf16 against f32. */
CORDON_BENCH_SUITE(compute_decode, "decode (M = 1, K = N = 4096) on BF16 weights vs F32 weights, and the read bandwidth") {
    failed = 0;
    devices dv = {0};
    cordon_device_info info;
    if (!open_devices(b, &dv, &info, false)) {
        return;
    }
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) {
        cordon_bench_note(b, "cordon CPU device: %s; load average %.2f at the start", info.description, load[0]);
    }
    print_header(b);
    bench_limits(b, &dv);
    for (unsigned t = 1; t <= 2 && !failed; t++) {
        bench_decode_bf16(b, &dv, 4096, 4096, false, t);
        bench_decode_bf16(b, &dv, 4096, 4096, true, t);
    }
    close_devices(&dv);
}

/* The small shapes alone (also part of "compute"): the fixed cost of an op and the pool's dispatch,
 * metal-candle's (4,16,1024) rows and LoRA adapter, and the M = 8 products, for tuning the CPU backend's
 * small-work paths. */
CORDON_BENCH_SUITE(compute_gemm, "square sgemm 512-2048 and the 512x4096x4096 product alone, on 1 and 2 threads") {
    failed = 0;
    devices dv = {0};
    cordon_device_info info;
    if (!open_devices(b, &dv, &info, true)) {
        return;
    }
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) {
        cordon_bench_note(b, "cordon CPU device: %s; load average %.2f at the start", info.description, load[0]);
    }
    print_header(b);
    static const size_t squares[] = {512, 1024, 2048};
    for (size_t i = 0; i < 3 && !failed; i++) {
        for (unsigned t = 1; t <= 2; t++) {
            bench_matmul(b, &dv, squares[i], squares[i], squares[i], "sgemm", t);
        }
    }
    for (unsigned t = 1; t <= 2 && !failed; t++) {
        bench_matmul(b, &dv, 512, 4096, 4096, "matmul", t);
    }
    close_devices(&dv);
}

CORDON_BENCH_SUITE(compute_small, "small shapes alone: 1-element ops, pool dispatch, (4,16,1024) rows, LoRA, M = 8") {
    failed = 0;
    devices dv = {0};
    cordon_device_info info;
    if (!open_devices(b, &dv, &info, true)) {
        return;
    }
    double load[1] = {0};
    if (getloadavg(load, 1) == 1) {
        cordon_bench_note(b, "cordon CPU device: %s; load average %.2f at the start", info.description, load[0]);
    }
#if defined(CORDON_BENCH_HAVE_DNNL)
    bool have_dnnl = dnnl_open();
#endif
    print_header(b);
    bench_limits(b, &dv);
    bench_dispatch(b, &dv);
    static const row_shape small = {3, {4, 16, 1024}, "4x16x1024"};
    for (int op = ROW_SOFTMAX; op <= ROW_LAYER && !failed; op++) {
        for (unsigned t = 1; t <= 2; t++) {
            bench_rows(b, &dv, (enum row_op)op, &small, t);
        }
    }
    for (unsigned t = 1; t <= 2 && !failed; t++) {
        bench_lora(b, &dv, false, t);
    }
    for (unsigned t = 1; t <= 2 && !failed; t++) {
        bench_matmul(b, &dv, 8, 4096, 4096, "matmul", t);
        bench_matmul_b(b, &dv, 8, 4096, 4096, "matmul", t, true);
    }
#if defined(CORDON_BENCH_HAVE_DNNL)
    dnnl_close(have_dnnl);
#endif
    close_devices(&dv);
}

/* The whole compute suite, or (rows_only) the machine limits and the row operations (softmax, RMSNorm,
 * LayerNorm, forward and backward) alone, for work on those kernels. */
static void run_compute(cordon_bench *b, bool rows_only) {
    failed = 0;
    devices dv = {0};
    cordon_device_info info;
    if (!open_devices(b, &dv, &info, true)) {
        return;
    }
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    cordon_bench_note(b, "cordon CPU device: %s; ISA level %s (CORDON_ISA=%s)", info.description, info.isa_name,
                      getenv("CORDON_ISA") ? getenv("CORDON_ISA") : "(unset)");
#if defined(CORDON_BENCH_HAVE_OPENBLAS)
    cordon_bench_note(b, "OpenBLAS baseline: %s, core %s; OPENBLAS_CORETYPE=%s%s", openblas_get_config(),
                      openblas_get_corename(), coretype ? coretype : "(unset)",
                      coretype && strcmp(coretype, "Haswell") == 0
                          ? " (forces the AVX2 kernels: about half of what OpenBLAS does here unset)"
                          : "");
#else
    cordon_bench_note(b, "OpenBLAS baseline: SKIPPED (libopenblas-dev not found at build time); OPENBLAS_CORETYPE=%s",
                      coretype ? coretype : "(unset)");
#endif
    cordon_bench_note(b, "cordon matmul engines: built-in%s", dv.have_blas ? " and openblas (cordon's BLAS path)"
                                                                           : " only (cordon built without BLAS)");
#if defined(CORDON_BENCH_HAVE_DNNL)
    bool have_dnnl = dnnl_open();
    const dnnl_version_t *ver = dnnl_version();
    cordon_bench_note(b, "oneDNN baseline: %d.%d.%d (%s threads, set per line)%s", ver->major, ver->minor, ver->patch,
#  if defined(_OPENMP)
                      "OpenMP",
#  else
                      "default",
#  endif
                      have_dnnl ? "" : ": engine creation FAILED, skipped");
#else
    cordon_bench_note(b, "oneDNN baseline: SKIPPED (libdnnl-dev not found at build time)");
#endif
    cordon_bench_note(b, "plain C baseline: single-threaded loops, -O3 without -ffast-math (libm expf)");
    double load[1] = {0};
    cordon_system_info sys;
    if (getloadavg(load, 1) == 1 && cordon_system_info_get(&sys) == CORDON_OK) {
        cordon_bench_note(b, "load average %.2f on %u usable CPUs at the start%s", load[0], sys.cpu_count_usable,
                          load[0] > 0.5 * (double)sys.cpu_count_usable
                              ? ": other work competes, 2-thread figures are noisy"
                              : "");
    }
    cordon_bench_note(b, "ratio = cordon median / baseline median (below 1: cordon faster); rates: GB/s of x read + "
                      "y written, GFLOP/s = 2MNK");

    bool quick = cordon_bench_quick(b);
    npoints = 0;
    print_header(b);
    bench_limits(b, &dv);
    if (!rows_only) {
        bench_dispatch(b, &dv);
    }
    static const row_shape row_shapes[] = {{2, {1, 4096, 0}, "1x4096"},
                                       {2, {32, 4096, 0}, "32x4096"},
                                       {2, {512, 4096, 0}, "512x4096"},
                                       {2, {4096, 4096, 0}, "4096x4096"},
                                       {3, {4, 16, 1024}, "4x16x1024"}};
    for (int op = ROW_SOFTMAX; op <= ROW_LAYER && !failed; op++) {
        for (size_t s = 0; s < sizeof row_shapes / sizeof row_shapes[0] && !failed; s++) {
            if (quick && row_shapes[s].dims[0] == 4096) {
                continue;
            }
            for (unsigned t = 1; t <= 2; t++) {
                bench_rows(b, &dv, (enum row_op)op, &row_shapes[s], t);
            }
        }
    }
    static const row_shape bwd_shapes[] = {{2, {512, 4096, 0}, "512x4096"}, {3, {4, 16, 1024}, "4x16x1024"}};
    for (int op = ROW_SOFTMAX; op <= ROW_LAYER && !failed; op++) {
        for (size_t s = 0; s < 2 && !failed; s++) {
            for (unsigned t = 1; t <= 2; t++) {
                bench_backward(b, &dv, (enum row_op)op, &bwd_shapes[s], t);
            }
        }
    }
    for (unsigned t = 1; t <= 2 && !failed && !rows_only; t++) {
        bench_rope_attention(b, &dv, t);
    }
    if (!rows_only) {
        static const size_t squares[] = {512, 1024, 2048};
        for (size_t i = 0; i < 3 && !failed; i++) {
            if (quick && squares[i] == 2048) {
                continue;
            }
            for (unsigned t = 1; t <= 2; t++) {
                bench_matmul(b, &dv, squares[i], squares[i], squares[i], "sgemm", t);
            }
        }
        static const size_t ms[] = {1, 8, 512};
        for (size_t i = 0; i < 3 && !failed; i++) {
            for (unsigned t = 1; t <= 2; t++) {
                bench_matmul(b, &dv, ms[i], 4096, 4096, ms[i] == 1 ? "gemv" : "matmul", t);
                if (ms[i] == 8) {
                    bench_matmul_b(b, &dv, 8, 4096, 4096, "matmul", t, true);
                }
            }
        }
        for (unsigned t = 1; t <= 2 && !failed; t++) {
            bench_decode_bf16(b, &dv, 4096, 4096, false, t);
            bench_decode_bf16(b, &dv, 4096, 4096, true, t);
        }
        for (unsigned t = 1; t <= 2 && !failed; t++) {
            bench_lora(b, &dv, false, t);
        }
        for (unsigned t = 1; t <= 2 && !failed; t++) {
            bench_lora(b, &dv, true, t);
        }
        if (!failed) {
            bench_threshold(b, &dv);
        }
    }
    write_charts(b);
#if defined(CORDON_BENCH_HAVE_DNNL)
    dnnl_close(have_dnnl);
#endif
    close_devices(&dv);
    if (failed) {
        cordon_bench_note(b, "a cordon call failed during the suite: figures above are not valid");
    }
}

CORDON_BENCH_SUITE(compute, "tensor ops (matmul, softmax, norms, LoRA, RoPE, attention, backward) vs OpenBLAS, oneDNN, plain C and measured machine limits") {
    run_compute(b, false);
}

CORDON_BENCH_SUITE(compute_rows, "the machine limits and the row operations alone (softmax, RMSNorm, LayerNorm, forward and backward)") {
    run_compute(b, true);
}
