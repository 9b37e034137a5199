/* SPDX-License-Identifier: Apache-2.0 */
/* cordon benchmark harness.
 *
 * A suite is a function registered with CORDON_BENCH_SUITE(name, "description"). Inside it, each figure is
 * timed against a baseline measured in the same run, samples of the two interleaved so that machine
 * noise hits both alike:
 *
 *     cordon_bench_compare(b, &(cordon_bench_case){
 *         .name = "grow_1_page", .fn = grow_one, .arg = &ctx,
 *         .baseline_name = "raw_mprotect", .baseline_fn = raw_grow_one, .baseline_arg = &raw });
 *
 * fn(arg, iters) runs the operation iters times. The harness warms up, picks iters so one sample lasts
 * long enough to time, takes several samples and reports the median with its spread (interquartile
 * range as a percentage of the median), and the ratio ours / baseline. With .bytes_per_iter set, figures
 * are reported as GB/s (higher is better) instead of ns per iteration (lower is better).
 *
 * Output: a readable table, or with --json one JSON object per figure per line:
 *   {"suite":"memory","name":"grow_1_page","value":1.31,"unit":"us","spread_pct":2.1,"samples":15,
 *    "baseline":"raw_mprotect","baseline_value":1.25,"ratio":1.05,"goal":"<= 1.2"} */
#ifndef CORDON_BENCH_H
#define CORDON_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* MinGW's printf is the C99-conforming one (__USE_MINGW_ANSI_STDIO), which GCC calls gnu_printf. */
#if defined(__MINGW32__)
#  define CORDON_BENCH_PRINTF gnu_printf
#else
#  define CORDON_BENCH_PRINTF printf
#endif

typedef struct cordon_bench cordon_bench;
typedef void (*cordon_bench_fn)(void *arg, uint64_t iters);

typedef struct cordon_bench_case {
    const char *name;
    cordon_bench_fn fn;
    void *arg;
    /* Optional baseline, timed in the same run with samples interleaved. */
    const char *baseline_name;
    cordon_bench_fn baseline_fn;
    void *baseline_arg;
    /* When > 0, report GB/s computed from the bytes one iteration moves. */
    double bytes_per_iter;
    /* Optional goal printed beside the ratio, for example "<= 1.2" or ">= 0.95". */
    const char *goal;
    /* Upper bound on iterations per sample (0: no bound), for operations that consume a resource. */
    uint64_t max_iters;
} cordon_bench_case;

/* Times c (and its baseline) and reports them. */
void cordon_bench_compare(cordon_bench *b, const cordon_bench_case *c);

/* Reports a figure measured by the suite itself (threads, latency distributions…). baseline_name may be
 * NULL. The ratio printed is value / baseline_value. */
void cordon_bench_report(cordon_bench *b, const char *name, double value, const char *unit, double spread_pct,
                         const char *baseline_name, double baseline_value, const char *goal);

/* Prints a note line (table) or {"suite":…,"note":…} (JSON): settings that affect figures. */
void cordon_bench_note(cordon_bench *b, const char *fmt, ...) __attribute__((format(CORDON_BENCH_PRINTF, 2, 3)));

/* --quick: fewer samples and smaller sizes; suites should shrink their problem sizes. */
bool cordon_bench_quick(const cordon_bench *b);

/* --json: for suites that print their own lines (one JSON object per line, "suite" first). */
bool cordon_bench_json(const cordon_bench *b);

/* The directory given with --plot (suites that chart their figures write SVG files there), or NULL. */
const char *cordon_bench_plot_dir(const cordon_bench *b);

/* Median of the n values (n > 0); the array is sorted in place. spread_pct receives the interquartile
 * range as a percentage of the median (may be NULL). For suites that collect their own samples. */
double cordon_bench_median(double *values, int n, double *spread_pct);

/* Nanoseconds on the monotonic clock. */
uint64_t cordon_bench_now_ns(void);

/* Keeps the compiler from optimising a computed value away. */
void cordon_bench_consume(const void *p);

typedef void (*cordon_bench_suite_fn)(cordon_bench *b);
void cordon_bench_register(const char *name, const char *description, cordon_bench_suite_fn fn);

#define CORDON_BENCH_SUITE(name, description)                                     \
    static void bench_suite_##name(cordon_bench *b);                              \
    __attribute__((constructor)) static void bench_register_##name(void) {        \
        cordon_bench_register(#name, description, bench_suite_##name);            \
    }                                                                             \
    static void bench_suite_##name(cordon_bench *b)

/* Entry point used by `cordon bench`: argv after the word "bench". Returns the exit code. */
int cordon_bench_main(int argc, char **argv);

#endif /* CORDON_BENCH_H */
