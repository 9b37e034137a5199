/* SPDX-License-Identifier: Apache-2.0 */
/* cordon benchmark harness: timing, statistics and output. */
#define _GNU_SOURCE

#include "bench.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cordon/cordon.h"

#define MAX_SUITES 32
#define MAX_SAMPLES 64

struct cordon_bench {
    const char *suite;
    bool quick;
    bool json;
    const char *plot_dir; /* --plot DIR: suites that chart their figures write SVG files there */
    int samples;
    double sample_ns; /* target duration of one sample */
};

typedef struct suite_entry {
    const char *name;
    const char *description;
    cordon_bench_suite_fn fn;
} suite_entry;

static suite_entry suites[MAX_SUITES];
static int suite_count;

void cordon_bench_register(const char *name, const char *description, cordon_bench_suite_fn fn) {
    if (suite_count < MAX_SUITES) {
        suites[suite_count].name = name;
        suites[suite_count].description = description;
        suites[suite_count].fn = fn;
        suite_count++;
    }
}

uint64_t cordon_bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cordon_bench_consume(const void *p) {
    __asm__ volatile("" : : "r"(p) : "memory");
}

bool cordon_bench_quick(const cordon_bench *b) {
    return b->quick;
}

bool cordon_bench_json(const cordon_bench *b) {
    return b->json;
}

const char *cordon_bench_plot_dir(const cordon_bench *b) {
    return b->plot_dir;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cordon_bench_median(double *values, int n, double *spread_pct) {
    qsort(values, (size_t)n, sizeof values[0], cmp_double);
    double median = (n % 2) ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    if (spread_pct != NULL) {
        double q1 = values[n / 4], q3 = values[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
        *spread_pct = median > 0 ? 100.0 * (q3 - q1) / median : 0.0;
    }
    return median;
}

static double time_iters(cordon_bench_fn fn, void *arg, uint64_t iters) {
    uint64_t t0 = cordon_bench_now_ns();
    fn(arg, iters);
    return (double)(cordon_bench_now_ns() - t0);
}

/* Iterations per sample so that one sample lasts about b->sample_ns. */
static uint64_t calibrate(const cordon_bench *b, cordon_bench_fn fn, void *arg, uint64_t max_iters) {
    uint64_t iters = 1;
    for (;;) {
        double ns = time_iters(fn, arg, iters);
        if (ns >= b->sample_ns / 4 || (max_iters != 0 && iters >= max_iters) || iters >= (1ull << 40)) {
            double per = ns / (double)iters;
            uint64_t want = per > 0 ? (uint64_t)(b->sample_ns / per) : iters;
            if (want < 1) {
                want = 1;
            }
            if (max_iters != 0 && want > max_iters) {
                want = max_iters;
            }
            return want;
        }
        iters *= 4;
        if (max_iters != 0 && iters > max_iters) {
            iters = max_iters;
        }
    }
}

static void format_value(double ns_or_gbs, bool is_bw, char *out, size_t len, const char **unit) {
    if (is_bw) {
        snprintf(out, len, "%.2f", ns_or_gbs);
        *unit = "GB/s";
    } else if (ns_or_gbs >= 1e6) {
        snprintf(out, len, "%.3f", ns_or_gbs / 1e6);
        *unit = "ms";
    } else if (ns_or_gbs >= 1e3) {
        snprintf(out, len, "%.3f", ns_or_gbs / 1e3);
        *unit = "us";
    } else {
        snprintf(out, len, "%.2f", ns_or_gbs);
        *unit = "ns";
    }
}

static void emit(cordon_bench *b, const char *name, double value, const char *unit, double spread, int samples,
                 const char *baseline, double baseline_value, const char *goal) {
    double ratio = (baseline != NULL && baseline_value > 0) ? value / baseline_value : 0.0;
    if (b->json) {
        printf("{\"suite\":\"%s\",\"name\":\"%s\",\"value\":%.6g,\"unit\":\"%s\",\"spread_pct\":%.3g,\"samples\":%d",
               b->suite, name, value, unit, spread, samples);
        if (baseline != NULL) {
            printf(",\"baseline\":\"%s\",\"baseline_value\":%.6g,\"ratio\":%.4g", baseline, baseline_value, ratio);
        }
        if (goal != NULL) {
            printf(",\"goal\":\"%s\"", goal);
        }
        printf("}\n");
    } else {
        printf("  %-34s %12.4g %-5s ±%5.1f%%", name, value, unit, spread);
        if (baseline != NULL) {
            printf("   %-24s %12.4g %-5s  ratio %6.3f", baseline, baseline_value, unit, ratio);
            if (goal != NULL) {
                printf("  (goal %s)", goal);
            }
        }
        printf("\n");
    }
    fflush(stdout);
}

void cordon_bench_report(cordon_bench *b, const char *name, double value, const char *unit, double spread_pct,
                         const char *baseline_name, double baseline_value, const char *goal) {
    emit(b, name, value, unit, spread_pct, 0, baseline_name, baseline_value, goal);
}

void cordon_bench_note(cordon_bench *b, const char *fmt, ...) {
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (b->json) {
        printf("{\"suite\":\"%s\",\"note\":\"", b->suite);
        for (const char *p = text; *p; p++) {
            if (*p == '"' || *p == '\\') {
                putchar('\\');
            }
            putchar(*p);
        }
        printf("\"}\n");
    } else {
        printf("  # %s\n", text);
    }
}

void cordon_bench_compare(cordon_bench *b, const cordon_bench_case *c) {
    bool has_base = c->baseline_fn != NULL;
    bool is_bw = c->bytes_per_iter > 0;
    /* Warm-up: caches, page tables, branch predictors, CPU frequency. */
    uint64_t iters = calibrate(b, c->fn, c->arg, c->max_iters);
    uint64_t base_iters = has_base ? calibrate(b, c->baseline_fn, c->baseline_arg, c->max_iters) : 0;
    double ours[MAX_SAMPLES], base[MAX_SAMPLES];
    int n = b->samples;
    for (int i = 0; i < n; i++) {
        /* Alternate the order so neither side always runs first after the other. */
        if (has_base && (i & 1)) {
            base[i] = time_iters(c->baseline_fn, c->baseline_arg, base_iters) / (double)base_iters;
        }
        ours[i] = time_iters(c->fn, c->arg, iters) / (double)iters;
        if (has_base && !(i & 1)) {
            base[i] = time_iters(c->baseline_fn, c->baseline_arg, base_iters) / (double)base_iters;
        }
        if (is_bw) {
            ours[i] = c->bytes_per_iter / ours[i]; /* bytes per ns == GB/s */
            if (has_base) {
                base[i] = c->bytes_per_iter / base[i];
            }
        }
    }
    double spread = 0, base_spread = 0;
    double med = cordon_bench_median(ours, n, &spread);
    double base_med = has_base ? cordon_bench_median(base, n, &base_spread) : 0;
    const char *unit;
    char tmp[32];
    format_value(is_bw ? med : (has_base && base_med < med ? base_med : med), is_bw, tmp, sizeof tmp, &unit);
    double scale = 1.0;
    if (!is_bw) {
        scale = strcmp(unit, "ms") == 0 ? 1e-6 : strcmp(unit, "us") == 0 ? 1e-3 : 1.0;
    }
    emit(b, c->name, med * scale, unit, spread, n, has_base ? c->baseline_name : NULL, base_med * scale, c->goal);
}

static void usage(FILE *to) {
    fprintf(to,
            "usage: cordon bench [SUITE…] [--quick] [--json] [--plot DIR]\n"
            "  --quick   fewer samples and smaller sizes (while developing)\n"
            "  --json    one JSON object per figure per line (tools/bench-tables.py reads them)\n"
            "  --plot D  suites that chart their figures (compute) write SVG files into directory D\n"
            "suites (default: all):\n");
    for (int i = 0; i < suite_count; i++) {
        fprintf(to, "  %-10s %s\n", suites[i].name, suites[i].description);
    }
#if defined(CORDON_BENCH_STANDALONE)
    fprintf(to, "This installed tool has no peer libraries compiled in (nsync, OpenMP, OpenBLAS, oneDNN): their\n"
                "figures are skipped. Build tree: build/<preset>/tools/cordon bench runs them.\n");
#endif
}

int cordon_bench_main(int argc, char **argv) {
    cordon_bench b = {.suite = "", .quick = false, .json = false, .samples = 15, .sample_ns = 20e6};
    const char *wanted[MAX_SUITES];
    int nwanted = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            b.quick = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            b.json = true;
        } else if (strcmp(argv[i], "--plot") == 0 && i + 1 < argc) {
            b.plot_dir = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "cordon bench: unknown option %s\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (nwanted < MAX_SUITES) {
            wanted[nwanted++] = argv[i];
        }
    }
    if (b.quick) {
        b.samples = 5;
        b.sample_ns = 4e6;
    }
    for (int w = 0; w < nwanted; w++) {
        int found = 0;
        for (int i = 0; i < suite_count; i++) {
            found |= strcmp(suites[i].name, wanted[w]) == 0;
        }
        if (!found) {
            fprintf(stderr, "cordon bench: no suite named %s\n", wanted[w]);
            usage(stderr);
            return 2;
        }
    }
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    cordon_system_info info;
    if (cordon_system_info_get(&info) != CORDON_OK) {
        memset(&info, 0, sizeof info);
    }
    if (!b.json) {
        printf("cordon %s bench — %s %s, %u CPUs usable, page %zu, %s samples of ~%.0f ms, medians\n",
               cordon_version_string(), info.os_name, info.os_release, info.cpu_count_usable, info.page_size,
               b.quick ? "5 (quick)" : "15", b.sample_ns / 1e6);
        printf("  OPENBLAS_CORETYPE=%s\n", coretype ? coretype : "(unset)");
    }
    for (int i = 0; i < suite_count; i++) {
        int run = nwanted == 0;
        for (int w = 0; w < nwanted; w++) {
            run |= strcmp(suites[i].name, wanted[w]) == 0;
        }
        if (!run) {
            continue;
        }
        b.suite = suites[i].name;
        if (!b.json) {
            printf("\n[%s] %s\n", suites[i].name, suites[i].description);
        }
        suites[i].fn(&b);
    }
    return 0;
}
