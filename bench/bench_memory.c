/* SPDX-License-Identifier: Apache-2.0 */
/* Suite "memory": reservations and linear memory against the raw system calls and plain memcpy /
 * memset / pointer access doing the same work, timed in the same run. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#  include <windows.h>
#else
#  include <sys/mman.h>
#  include <unistd.h>
#endif

#include "bench.h"
#include "cordon/cordon.h"
#include "cordon/memory_inline.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static int failed;

static void must(cordon_status st, const char *what) {
    if (st != CORDON_OK && !failed) {
        fprintf(stderr, "bench memory: %s: %s\n", what, cordon_status_str(st));
        failed = 1;
    }
}

/* ---- the raw baselines: the calls src/sys/ makes for the same operation on this OS ---------------- */

#if defined(_WIN32)
#  define RAW_RESERVE_NAME "raw_VirtualAlloc_VirtualFree"
#  define RAW_GROW_NAME "raw_VirtualAlloc_commit"
#  define RAW_DISCARD_NAME "raw_decommit_recommit"
static void *raw_reserve(size_t len) {
    return VirtualAlloc(NULL, len, MEM_RESERVE, PAGE_NOACCESS);
}
static void raw_release(void *p, size_t len) {
    (void)len;
    VirtualFree(p, 0, MEM_RELEASE);
}
static int raw_make_rw(void *p, size_t len) {
    return VirtualAlloc(p, len, MEM_COMMIT, PAGE_READWRITE) != NULL ? 0 : -1;
}
static void raw_decommit(void *p, size_t len) {
    VirtualFree(p, len, MEM_DECOMMIT);
}
/* Windows has no MADV_DONTNEED on committed memory that keeps it accessible: decommit and commit again,
 * as src/sys/win32/pages_win32.c does. */
static int raw_discard(void *p, size_t len) {
    return VirtualFree(p, len, MEM_DECOMMIT) && VirtualAlloc(p, len, MEM_COMMIT, PAGE_READWRITE) != NULL ? 0 : -1;
}
#else
#  define RAW_RESERVE_NAME "raw_mmap_munmap"
#  define RAW_GROW_NAME "raw_mprotect"
#  define RAW_DISCARD_NAME "raw_madvise"
static void *raw_reserve(size_t len) {
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
static void raw_release(void *p, size_t len) {
    munmap(p, len);
}
static int raw_make_rw(void *p, size_t len) {
    return mprotect(p, len, PROT_READ | PROT_WRITE);
}
static void raw_decommit(void *p, size_t len) {
    madvise(p, len, MADV_DONTNEED);
    mprotect(p, len, PROT_NONE);
}
static int raw_discard(void *p, size_t len) {
    return madvise(p, len, MADV_DONTNEED);
}
#endif

/* ---- reserve + release -------------------------------------------------------------------------- */

#define RESERVE_BYTES (8 * GIB)

static void reserve_cordon(void *arg, uint64_t iters) {
    (void)arg;
    cordon_pages_options o = {.reserve_bytes = RESERVE_BYTES, .guard_before_bytes = 64 * KIB,
                              .guard_after_bytes = 64 * KIB};
    for (uint64_t i = 0; i < iters; i++) {
        cordon_pages p;
        must(cordon_pages_reserve(&o, &p), "reserve");
        must(cordon_pages_release(p), "release");
    }
}

static void reserve_raw(void *arg, uint64_t iters) {
    (void)arg;
    size_t len = (size_t)(RESERVE_BYTES + 128 * KIB);
    for (uint64_t i = 0; i < iters; i++) {
        void *p = raw_reserve(len);
        if (p == NULL) {
            failed = 1;
            return;
        }
        raw_release(p, len);
    }
}

/* ---- grow ----------------------------------------------------------------------------------------- */

/* A terabyte of address space, so that a sample rarely has to start over (start over = decommit all). */
#define GROW_SPACE (UINT64_C(1) << 40)

typedef struct grow_ctx {
    uint64_t delta;
    cordon_pages pages;
    uint8_t *raw;
    uint64_t raw_committed;
} grow_ctx;

static void grow_cordon(void *arg, uint64_t iters) {
    grow_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t old = 0;
        cordon_status st = cordon_pages_grow(c->pages, c->delta, &old);
        if (st == CORDON_LIMIT_EXCEEDED) {
            must(cordon_pages_decommit(c->pages, 0), "decommit");
            st = cordon_pages_grow(c->pages, c->delta, &old);
        }
        must(st, "grow");
    }
}

static void grow_raw(void *arg, uint64_t iters) {
    grow_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        if (c->raw_committed + c->delta > GROW_SPACE) {
            raw_decommit(c->raw, (size_t)c->raw_committed);
            c->raw_committed = 0;
        }
        if (raw_make_rw(c->raw + c->raw_committed, (size_t)c->delta) != 0) {
            failed = 1;
            return;
        }
        c->raw_committed += c->delta;
    }
}

static void bench_grow(cordon_bench *b, const char *name, uint64_t pages) {
    grow_ctx c = {.delta = pages * CORDON_WASM_PAGE_SIZE};
    cordon_pages_options o = {.reserve_bytes = GROW_SPACE};
    must(cordon_pages_reserve(&o, &c.pages), "reserve");
    void *raw = raw_reserve((size_t)GROW_SPACE);
    if (raw == NULL || failed) {
        failed = 1;
        return;
    }
    c.raw = raw;
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = grow_cordon, .arg = &c,
                                                 .baseline_name = RAW_GROW_NAME, .baseline_fn = grow_raw,
                                                 .baseline_arg = &c, .goal = "<= 1.2"});
    must(cordon_pages_release(c.pages), "release");
    raw_release(raw, (size_t)GROW_SPACE);
}

/* ---- discard ---------------------------------------------------------------------------------------- */

typedef struct discard_ctx {
    cordon_pages pages;
    uint8_t *base;
    uint64_t len;
    uint64_t page;
    bool touch;
} discard_ctx;

static void touch_pages(uint8_t *p, uint64_t len, uint64_t page) {
    for (uint64_t off = 0; off < len; off += page) {
        p[off] = 1;
    }
}

static void discard_cordon(void *arg, uint64_t iters) {
    discard_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        if (c->touch) {
            touch_pages(c->base, c->len, c->page);
        }
        must(cordon_pages_discard(c->pages, 0, c->len), "discard");
    }
}

static void discard_raw(void *arg, uint64_t iters) {
    discard_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        if (c->touch) {
            touch_pages(c->base + c->len, c->len, c->page);
        }
        if (raw_discard(c->base + c->len, (size_t)c->len) != 0) {
            failed = 1;
            return;
        }
    }
}

static void bench_discard(cordon_bench *b, const char *name, uint64_t len, bool touch) {
    /* One reservation, the first half for cordon, the second half for the raw calls. */
    discard_ctx c = {.len = len, .touch = touch};
    cordon_pages_options o = {.reserve_bytes = 2 * len, .commit_bytes = 2 * len};
    must(cordon_pages_reserve(&o, &c.pages), "reserve");
    void *base = NULL;
    must(cordon_pages_base(c.pages, &base), "base");
    must(cordon_pages_os_page_size(&c.page), "page size");
    if (failed) {
        return;
    }
    c.base = base;
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = discard_cordon, .arg = &c,
                                                 .baseline_name = RAW_DISCARD_NAME, .baseline_fn = discard_raw,
                                                 .baseline_arg = &c, .goal = "<= 1.2"});
    must(cordon_pages_release(c.pages), "release");
}

/* ---- bulk copy and fill -------------------------------------------------------------------------------- */

typedef struct bulk_ctx {
    cordon_memory m;
    uint8_t *base;
    uint8_t *host;
    uint64_t len;
} bulk_ctx;

static void copy_cordon(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        must(cordon_memory_copy(c->m, c->len, 0, c->len), "copy");
    }
    cordon_bench_consume(c->base);
}

static void copy_raw(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        memcpy(c->base + c->len, c->base, (size_t)c->len);
        cordon_bench_consume(c->base);
    }
}

static void read_cordon(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        must(cordon_memory_read(c->m, 0, c->host, c->len), "read");
    }
    cordon_bench_consume(c->host);
}

static void read_raw(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        memcpy(c->host, c->base, (size_t)c->len);
        cordon_bench_consume(c->host);
    }
}

static void fill_cordon(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        must(cordon_memory_fill(c->m, 0, (uint8_t)i, c->len), "fill");
    }
    cordon_bench_consume(c->base);
}

static void fill_raw(void *arg, uint64_t iters) {
    bulk_ctx *c = arg;
    for (uint64_t i = 0; i < iters; i++) {
        memset(c->base, (int)(uint8_t)i, (size_t)c->len);
        cordon_bench_consume(c->base);
    }
}

static void bench_bulk(cordon_bench *b, uint64_t len) {
    bulk_ctx c = {.len = len};
    uint64_t pages = (2 * len + CORDON_MEMORY_PAGE_SIZE - 1) / CORDON_MEMORY_PAGE_SIZE;
    cordon_memory_options o = {.initial_pages = pages, .maximum_pages = pages, .has_maximum = true};
    must(cordon_memory_create(&o, &c.m), "create");
    void *base = NULL;
    must(cordon_memory_base(c.m, &base), "base");
    c.host = malloc((size_t)len);
    if (failed || c.host == NULL) {
        failed = 1;
        return;
    }
    c.base = base;
    /* Populate every page first: first touch (~10 µs per 4 KiB page here) is not what is measured. */
    memset(c.base, 1, (size_t)(2 * len));
    memset(c.host, 1, (size_t)len);
    char name[64];
    const char *unit = len >= MIB ? "MiB" : "KiB";
    uint64_t n = len >= MIB ? len / MIB : len / KIB;
    snprintf(name, sizeof name, "copy_within_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = copy_cordon, .arg = &c,
                                                 .baseline_name = "memcpy", .baseline_fn = copy_raw,
                                                 .baseline_arg = &c, .bytes_per_iter = (double)len,
                                                 .goal = ">= 0.95"});
    snprintf(name, sizeof name, "read_out_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = read_cordon, .arg = &c,
                                                 .baseline_name = "memcpy", .baseline_fn = read_raw,
                                                 .baseline_arg = &c, .bytes_per_iter = (double)len,
                                                 .goal = ">= 0.95"});
    snprintf(name, sizeof name, "fill_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = fill_cordon, .arg = &c,
                                                 .baseline_name = "memset", .baseline_fn = fill_raw,
                                                 .baseline_arg = &c, .bytes_per_iter = (double)len,
                                                 .goal = ">= 0.95"});
    free(c.host);
    must(cordon_memory_destroy(c.m), "destroy");
}

/* ---- small typed access ------------------------------------------------------------------------------------ */

/* Addresses from a linear congruential sequence inside a 1 MiB window (L2-resident), the same sequence
 * on both sides, so neither loop can be vectorised away and both pay the same dependency chain. */
#define TYPED_MASK (MIB - 8)
#define NEXT_ADDR(a) (((a) * 1103515245u + 12345u) & (uint32_t)TYPED_MASK & ~3u)

typedef struct typed_ctx {
    cordon_memory m;
    uint8_t *base;
    const cordon_memory_definition *def;
} typed_ctx;

static void load_cordon(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t v = 0;
        must(cordon_memory_load_u32(c->m, a, 0, &v), "load");
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    cordon_bench_consume(&sum);
}

static void load_raw(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t v;
        memcpy(&v, c->base + a, sizeof v);
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    cordon_bench_consume(&sum);
}

/* The same loops through the inline helpers of cordon/memory_inline.h: the definition's length loaded
 * (acquire) and checked at every access, no call. */
static void load_inline(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t v = 0;
        must(cordon_memory_inline_load_u32(c->def, a, 0, &v), "inline load");
        sum += v;
        a = NEXT_ADDR(a ^ v);
    }
    cordon_bench_consume(&sum);
}

static void store_inline(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0;
    for (uint64_t i = 0; i < iters; i++) {
        must(cordon_memory_inline_store_u32(c->def, a, 0, 0), "inline store");
        cordon_bench_consume(c->base);
        a = NEXT_ADDR(a);
    }
}

static void store_cordon(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0;
    for (uint64_t i = 0; i < iters; i++) {
        must(cordon_memory_store_u32(c->m, a, 0, 0), "store");
        a = NEXT_ADDR(a);
    }
    cordon_bench_consume(c->base);
}

static void store_raw(void *arg, uint64_t iters) {
    typed_ctx *c = arg;
    uint32_t a = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t z = 0;
        memcpy(c->base + a, &z, sizeof z);
        cordon_bench_consume(c->base);
        a = NEXT_ADDR(a);
    }
}

static void bench_typed(cordon_bench *b) {
    typed_ctx c;
    cordon_memory_options o = {.initial_pages = MIB / CORDON_MEMORY_PAGE_SIZE};
    must(cordon_memory_create(&o, &c.m), "create");
    void *base = NULL;
    must(cordon_memory_base(c.m, &base), "base");
    if (failed) {
        return;
    }
    c.base = base;
    must(cordon_memory_definition_get(c.m, &c.def), "definition");
    memset(c.base, 0, MIB); /* zeros: the address sequence does not depend on loaded values */
    cordon_bench_compare(b, &(cordon_bench_case){.name = "load_u32_ns_per_access", .fn = load_cordon, .arg = &c,
                                                 .baseline_name = "raw_pointer_load", .baseline_fn = load_raw,
                                                 .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "store_u32_ns_per_access", .fn = store_cordon, .arg = &c,
                                                 .baseline_name = "raw_pointer_store", .baseline_fn = store_raw,
                                                 .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "inline_load_u32_ns_per_access", .fn = load_inline,
                                                 .arg = &c, .baseline_name = "raw_pointer_load",
                                                 .baseline_fn = load_raw, .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "inline_store_u32_ns_per_access", .fn = store_inline,
                                                 .arg = &c, .baseline_name = "raw_pointer_store",
                                                 .baseline_fn = store_raw, .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "call_vs_inline_load_u32", .fn = load_cordon, .arg = &c,
                                                 .baseline_name = "inline_load", .baseline_fn = load_inline,
                                                 .baseline_arg = &c});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "call_vs_inline_store_u32", .fn = store_cordon, .arg = &c,
                                                 .baseline_name = "inline_store", .baseline_fn = store_inline,
                                                 .baseline_arg = &c});
    must(cordon_memory_destroy(c.m), "destroy");
}

/* ---- shared memories: the same calls on a shared and an unshared memory ----------------------------- */

/* A shared memory moves bytes through relaxed atomics (defined when plain accesses race atomics, as
 * WebAssembly allows), which cannot become vector copies; an unshared one uses memcpy. Each figure is
 * the shared memory against the same call on an unshared memory, in the same run. */
static bool make_bulk(bulk_ctx *c, uint64_t len, bool shared) {
    uint64_t pages = (2 * len + CORDON_MEMORY_PAGE_SIZE - 1) / CORDON_MEMORY_PAGE_SIZE;
    cordon_memory_options o = {.initial_pages = pages, .maximum_pages = pages, .has_maximum = true, .shared = shared};
    c->len = len;
    must(cordon_memory_create(&o, &c->m), "create");
    void *base = NULL;
    must(cordon_memory_base(c->m, &base), "base");
    c->host = malloc((size_t)len);
    if (failed || c->host == NULL) {
        failed = 1;
        return false;
    }
    c->base = base;
    memset(c->base, 1, (size_t)(2 * len)); /* populated: first touch is not what is measured */
    memset(c->host, 1, (size_t)len);
    return true;
}

static void bench_shared_bulk(cordon_bench *b, uint64_t len) {
    bulk_ctx s, u;
    if (!make_bulk(&s, len, true) || !make_bulk(&u, len, false)) {
        return;
    }
    char name[64];
    const char *unit = len >= MIB ? "MiB" : "KiB";
    uint64_t n = len >= MIB ? len / MIB : len / KIB;
    snprintf(name, sizeof name, "shared_copy_within_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = copy_cordon, .arg = &s,
                                                 .baseline_name = "unshared", .baseline_fn = copy_cordon,
                                                 .baseline_arg = &u, .bytes_per_iter = (double)len});
    snprintf(name, sizeof name, "shared_read_out_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = read_cordon, .arg = &s,
                                                 .baseline_name = "unshared", .baseline_fn = read_cordon,
                                                 .baseline_arg = &u, .bytes_per_iter = (double)len});
    snprintf(name, sizeof name, "shared_fill_%llu%s", (unsigned long long)n, unit);
    cordon_bench_compare(b, &(cordon_bench_case){.name = name, .fn = fill_cordon, .arg = &s,
                                                 .baseline_name = "unshared", .baseline_fn = fill_cordon,
                                                 .baseline_arg = &u, .bytes_per_iter = (double)len});
    free(s.host);
    free(u.host);
    must(cordon_memory_destroy(s.m), "destroy");
    must(cordon_memory_destroy(u.m), "destroy");
}

static void bench_shared_typed(cordon_bench *b) {
    typed_ctx s, u;
    cordon_memory_options o = {.initial_pages = MIB / CORDON_MEMORY_PAGE_SIZE,
                               .maximum_pages = MIB / CORDON_MEMORY_PAGE_SIZE, .has_maximum = true};
    must(cordon_memory_create(&o, &u.m), "create");
    o.shared = true;
    must(cordon_memory_create(&o, &s.m), "create");
    void *bs = NULL, *bu = NULL;
    must(cordon_memory_base(s.m, &bs), "base");
    must(cordon_memory_base(u.m, &bu), "base");
    if (failed) {
        return;
    }
    s.base = bs;
    u.base = bu;
    must(cordon_memory_definition_get(s.m, &s.def), "definition");
    must(cordon_memory_definition_get(u.m, &u.def), "definition");
    memset(s.base, 0, MIB);
    memset(u.base, 0, MIB);
    cordon_bench_compare(b, &(cordon_bench_case){.name = "shared_load_u32_ns_per_access", .fn = load_cordon,
                                                 .arg = &s, .baseline_name = "unshared", .baseline_fn = load_cordon,
                                                 .baseline_arg = &u});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "shared_store_u32_ns_per_access", .fn = store_cordon,
                                                 .arg = &s, .baseline_name = "unshared", .baseline_fn = store_cordon,
                                                 .baseline_arg = &u});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "shared_inline_load_u32_ns_per_access", .fn = load_inline,
                                                 .arg = &s, .baseline_name = "raw_pointer_load",
                                                 .baseline_fn = load_raw, .baseline_arg = &u});
    cordon_bench_compare(b, &(cordon_bench_case){.name = "shared_inline_store_u32_ns_per_access",
                                                 .fn = store_inline, .arg = &s, .baseline_name = "raw_pointer_store",
                                                 .baseline_fn = store_raw, .baseline_arg = &u});
    must(cordon_memory_destroy(s.m), "destroy");
    must(cordon_memory_destroy(u.m), "destroy");
}

CORDON_BENCH_SUITE(memory, "reservations, grow, discard, bounds-checked bulk and typed access vs raw calls") {
    cordon_system_info info;
    if (cordon_system_info_get(&info) == CORDON_OK) {
        cordon_bench_note(b, "%s %s, %u CPUs, page %zu B, THP %s", info.os_name, info.os_release,
                          info.cpu_count_usable, info.page_size, info.huge_page_mode);
    }
    cordon_bench_compare(b, &(cordon_bench_case){.name = "reserve_release_8GiB", .fn = reserve_cordon,
                                                 .baseline_name = RAW_RESERVE_NAME, .baseline_fn = reserve_raw,
                                                 .goal = "<= 1.2"});
    bench_grow(b, "grow_1_page", 1);
    bench_grow(b, "grow_64_pages", 64);
    bench_discard(b, "discard_2MiB_empty", 2 * MIB, false);
    bench_discard(b, "discard_2MiB_touched", 2 * MIB, true);
    uint64_t sizes[] = {64 * KIB, MIB, 16 * MIB, 64 * MIB};
    int count = cordon_bench_quick(b) ? 2 : 4;
    for (int i = 0; i < count; i++) {
        bench_bulk(b, sizes[i]);
    }
    bench_typed(b);
    uint64_t shared_sizes[] = {64 * KIB, MIB, 16 * MIB};
    for (int i = 0; i < (cordon_bench_quick(b) ? 2 : 3); i++) {
        bench_shared_bulk(b, shared_sizes[i]);
    }
    bench_shared_typed(b);
    if (failed) {
        cordon_bench_note(b, "a cordon call failed during the suite: figures above are not valid");
    }
}
