/* SPDX-License-Identifier: Apache-2.0 */
/* Suite "trap": what guard pages with cordon_trap_run cost an engine, against what they replace.
 *   - entering and leaving cordon_trap_run when nothing traps, against a plain indirect call;
 *   - a loop of raw 32-bit loads through the base pointer of a bounds_check_free memory, inside one
 *     cordon_trap_run (the guard pages are the bounds check), against the same loop with a software
 *     check per access: cordon_memory_load_u32 (a call: handle lookup and bounds check), and the
 *     inline checked load of cordon/memory_inline.h;
 *   - one trap, end to end (fault, handler, lookup, jump back), against a run that does not trap. */
#define _GNU_SOURCE

#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cordon/cordon.h"
#include "cordon/memory_inline.h"

#define MIB (UINT64_C(1) << 20)

static int failed;

static void must(cordon_status st, const char *what) {
    if (st != CORDON_OK && !failed) {
        fprintf(stderr, "bench trap: %s: %s\n", what, cordon_status_str(st));
        failed = 1;
    }
}

/* ---- entering and leaving ---------------------------------------------------------------------- */

static __attribute__((noinline)) void empty_fn(void *ctx) {
    cordon_bench_consume(ctx);
}

static void (*volatile empty_ptr)(void *) = empty_fn;

static void run_empty(void *arg, uint64_t iters) {
    (void)arg;
    int x = 0;
    for (uint64_t i = 0; i < iters; i++) {
        cordon_trap t;
        must(cordon_trap_run(empty_fn, &x, &t), "run");
    }
}

static void call_empty(void *arg, uint64_t iters) {
    (void)arg;
    int x = 0;
    for (uint64_t i = 0; i < iters; i++) {
        empty_ptr(&x);
    }
}

/* ---- the guard-page loop ----------------------------------------------------------------------- */

/* A dependent pseudo-random walk over 32 KiB (the next address depends on the loaded value), the same
 * on every side, so no loop can be vectorised away and each pays the same dependency chain. The walk
 * stays in the L1 cache, where a check per access is not hidden behind memory latency (over 1 MiB all
 * three loops cost the same ~20 ns: the cache misses dominate). */
#define LOOP_MASK (UINT64_C(32768) - 8)
#define NEXT_ADDR(a) (((a) * 1103515245u + 12345u) & (uint32_t)LOOP_MASK & ~3u)

typedef struct loop_ctx {
    cordon_memory m;
    uint8_t *base;
    const cordon_memory_definition *def;
    uint64_t iters;
    uint32_t sum;
} loop_ctx;

static void raw_loop_body(void *arg) {
    loop_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < c->iters; i++) {
        uint32_t v;
        memcpy(&v, c->base + a, sizeof v); /* no check: an access past the size faults into a trap */
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    c->sum = sum;
}

static void guard_loop(void *arg, uint64_t iters) {
    loop_ctx *c = arg;
    c->iters = iters;
    cordon_trap t;
    must(cordon_trap_run(raw_loop_body, c, &t), "guard loop");
    cordon_bench_consume(&c->sum);
}

static void checked_loop(void *arg, uint64_t iters) {
    loop_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t v = 0;
        must(cordon_memory_load_u32(c->m, a, 0, &v), "load");
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    cordon_bench_consume(&sum);
}

static void inline_loop(void *arg, uint64_t iters) {
    loop_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t v = 0;
        must(cordon_memory_inline_load_u32(c->def, a, 0, &v), "inline load");
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    cordon_bench_consume(&sum);
}

/* ---- one trap, end to end ---------------------------------------------------------------------- */

static void fault_fn(void *arg) {
    loop_ctx *c = arg;
    volatile uint8_t *p = c->base + MIB; /* the first byte past the size */
    (void)*p;
}

static void trap_once(void *arg, uint64_t iters) {
    for (uint64_t i = 0; i < iters; i++) {
        cordon_trap t;
        cordon_status st = cordon_trap_run(fault_fn, arg, &t);
        if (st != CORDON_TRAPPED) {
            must(st == CORDON_OK ? CORDON_WRONG_STATE : st, "trap");
        }
    }
}

CORDON_BENCH_SUITE(trap, "cordon_trap_run: entry cost, guard-page loop vs software-checked loops, one trap") {
    cordon_status st = cordon_trap_install();
    if (st != CORDON_OK) {
        cordon_bench_note(b, "trap suite skipped: cordon_trap_install: %s", cordon_status_str(st));
        return;
    }
    cordon_bench_compare(b, &(cordon_bench_case){.name = "trap_run_enter_leave_ns", .fn = run_empty,
                                                 .baseline_name = "indirect_call", .baseline_fn = call_empty});

    loop_ctx c = {0};
    cordon_memory_options o = {.initial_pages = MIB / CORDON_MEMORY_PAGE_SIZE, .bounds_check_free = true};
    st = cordon_memory_create(&o, &c.m);
    if (st != CORDON_OK) {
        cordon_bench_note(b, "guard-page loop skipped: a bounds_check_free memory: %s", cordon_status_str(st));
        return;
    }
    void *base = NULL;
    must(cordon_memory_base(c.m, &base), "base");
    must(cordon_memory_definition_get(c.m, &c.def), "definition");
    if (failed) {
        return;
    }
    c.base = base;
    memset(c.base, 0, MIB); /* zeros: the address sequence does not depend on loaded values */
    cordon_bench_compare(b, &(cordon_bench_case){.name = "guard_page_loop_load_u32_ns", .fn = guard_loop, .arg = &c,
                                                 .baseline_name = "checked_call_cordon_memory_load_u32",
                                                 .baseline_fn = checked_loop, .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "guard_page_loop_load_u32_ns_vs_inline", .fn = guard_loop,
                                                 .arg = &c, .baseline_name = "inline_checked_load_u32",
                                                 .baseline_fn = inline_loop, .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "one_trap_end_to_end_ns", .fn = trap_once, .arg = &c,
                                                 .baseline_name = "trap_run_without_trap", .baseline_fn = run_empty});
    must(cordon_memory_destroy(c.m), "destroy");
}
