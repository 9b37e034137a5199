/* SPDX-License-Identifier: Apache-2.0 */
/* Suite "core": the cost of the status model and the clock, against plain C doing the same. */
#define _GNU_SOURCE

#include <time.h>

#include "bench.h"
#include "cordon/cordon.h"

static void clock_cordon(void *arg, uint64_t iters) {
    (void)arg;
    uint64_t t = 0;
    for (uint64_t i = 0; i < iters; i++) {
        if (cordon_time_monotonic_ns(&t) != CORDON_OK) {
            return;
        }
        cordon_bench_consume(&t);
    }
}

static void clock_raw(void *arg, uint64_t iters) {
    (void)arg;
    struct timespec ts;
    for (uint64_t i = 0; i < iters; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        cordon_bench_consume(&ts);
    }
}

CORDON_BENCH_SUITE(core, "status model and clock overhead against direct calls") {
    cordon_bench_compare(b, &(cordon_bench_case){.name = "monotonic_clock",
                                                 .fn = clock_cordon,
                                                 .baseline_name = "raw_clock_gettime",
                                                 .baseline_fn = clock_raw,
                                                 .goal = "<= 1.2"});
}
