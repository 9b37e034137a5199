/* SPDX-License-Identifier: Apache-2.0 */
/* Issue 13's "done when" for traps: an engine-style loop of raw loads and stores through the base
 * pointer of a bounds_check_free memory, with no software bounds check, run inside cordon_trap_run,
 * over the out-of-bounds cases of the WebAssembly spec test memory_trap.wast (and the constant-offset
 * cases of address.wast that need the 4 GiB guard), must report exactly the traps the spec expects and
 * keep running.
 *
 * The cases are written from the spec's rule, not copied from the .wast files: an access of width w at
 * i32 address a with constant offset o traps iff a + o + w > the memory's size in bytes, computed
 * without wrapping (a and o are each below 2^32). memory_trap.wast's cases are, for a one-page memory:
 * every width at the addresses from size - w to size + 1, the address -1 (0xffffffff) and size +
 * 0x80000000 (its `store`/`load` at addr_limit + i for i = -4 … 0 and -2^31), a failed grow by 65537
 * pages, and stores that trap leaving the bytes below the end untouched; address.wast adds offsets up
 * to 4294967295. After a grow the new page is accessible and the old end + 1 no longer traps. */
#include <string.h>

#if defined(__has_include)
#  if __has_include(<valgrind/memcheck.h>)
#    include <valgrind/memcheck.h>
#    define HAVE_MEMCHECK_H 1
#  endif
#endif

#include "cordon/cordon.h"
#include "harness.h"

#define PAGE UINT64_C(65536)

typedef uint16_t u16a __attribute__((aligned(1), may_alias));
typedef uint32_t u32a __attribute__((aligned(1), may_alias));
typedef uint64_t u64a __attribute__((aligned(1), may_alias));

typedef struct op {
    uint32_t addr;
    uint32_t offset;
    unsigned width; /* 1, 2, 4, 8 */
    bool store;
    uint64_t value;
} op;

/* The engine: executes ops[next..count) in order through base, recording loaded values; a trap ends
 * the run with `next` naming the op that trapped. */
typedef struct engine {
    uint8_t *base;
    const op *ops;
    size_t count;
    volatile size_t next;
    uint64_t *loaded;
} engine;

static void run_program(void *ctx) {
    engine *e = (engine *)ctx;
    for (size_t i = e->next; i < e->count; i++) {
        e->next = i;
        const op *o = &e->ops[i];
        uint8_t *p = e->base + (uint64_t)o->addr + (uint64_t)o->offset; /* no check: the guard is the check */
        uint64_t v = 0;
        if (o->store) {
            switch (o->width) {
            case 1: *(volatile uint8_t *)p = (uint8_t)o->value; break;
            case 2: *(volatile u16a *)p = (uint16_t)o->value; break;
            case 4: *(volatile u32a *)p = (uint32_t)o->value; break;
            default: *(volatile u64a *)p = o->value; break;
            }
        } else {
            switch (o->width) {
            case 1: v = *(volatile uint8_t *)p; break;
            case 2: v = *(volatile u16a *)p; break;
            case 4: v = *(volatile u32a *)p; break;
            default: v = *(volatile u64a *)p; break;
            }
        }
        e->loaded[i] = v;
    }
    e->next = e->count;
}

/* Runs the program to its end, resuming after each trap as an engine resumes with its next command;
 * trapped[i] tells whether op i trapped, checking each trap's memory and offset. */
static void execute(cordon_memory m, const op *ops, size_t count, bool *trapped, uint64_t *loaded, uint64_t size) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    engine e = {.base = (uint8_t *)b, .ops = ops, .count = count, .next = 0, .loaded = loaded};
    memset(trapped, 0, count * sizeof *trapped);
    while (e.next < count) {
        cordon_trap t;
        cordon_status st = cordon_trap_run(run_program, &e, &t);
        if (st == CORDON_OK) {
            break;
        }
        CHECK_STATUS(st, CORDON_TRAPPED);
        size_t i = e.next;
        const op *o = &ops[i];
        trapped[i] = true;
        CHECK(t.kind == CORDON_TRAP_MEMORY);
        CHECK_EQ_U64(t.region.memory.handle, m.handle);
        /* The fault is at the first inaccessible byte the access touched: in [size, end). */
        uint64_t end = (uint64_t)o->addr + o->offset + o->width;
        CHECK_MSG(t.region.offset >= (int64_t)size && (uint64_t)t.region.offset < end,
                  "op %zu: trap offset %lld outside [%llu, %llu)", i, (long long)t.region.offset,
                  (unsigned long long)size, (unsigned long long)end);
        e.next = i + 1;
    }
}

/* The memory's bytes after the program, per the spec: every store that does not trap writes its
 * bytes (little-endian); one that traps writes none. */
static void simulate(const op *ops, size_t n, uint8_t *image, uint64_t size) {
    for (size_t i = 0; i < n; i++) {
        uint64_t at = (uint64_t)ops[i].addr + ops[i].offset;
        if (ops[i].store && at + ops[i].width <= size) {
            for (unsigned b = 0; b < ops[i].width; b++) {
                image[at + b] = (uint8_t)(ops[i].value >> (8 * b));
            }
        }
    }
}

static void check_image(cordon_memory m, const uint8_t *image, uint64_t size) {
    static uint8_t actual[2 * 65536];
    CHECK(size <= sizeof actual);
    CHECK_OK(cordon_memory_read(m, 0, actual, size));
    for (uint64_t i = 0; i < size; i++) {
        CHECK_MSG(actual[i] == image[i], "byte %llu is 0x%02x, the spec says 0x%02x", (unsigned long long)i,
                  actual[i], image[i]);
    }
}

static bool spec_traps(const op *o, uint64_t size) {
    return (uint64_t)o->addr + o->offset + o->width > size;
}

static size_t add_edge_cases(op *ops, size_t n, uint64_t size) {
    static const unsigned widths[] = {1, 2, 4, 8};
    for (size_t w = 0; w < 4; w++) {
        unsigned width = widths[w];
        for (uint64_t a = size - width; a <= size + 1; a++) {
            ops[n++] = (op){.addr = (uint32_t)a, .width = width, .store = true, .value = 0x1122334455667788u};
            ops[n++] = (op){.addr = (uint32_t)a, .width = width};
        }
        ops[n++] = (op){.addr = UINT32_MAX, .width = width, .store = true, .value = 13};
        ops[n++] = (op){.addr = UINT32_MAX, .width = width};
        ops[n++] = (op){.addr = (uint32_t)(size + 0x80000000u), .width = width, .store = true, .value = 13};
        ops[n++] = (op){.addr = (uint32_t)(size + 0x80000000u), .width = width};
    }
    /* Constant offsets (address.wast): the sum needs 33 bits, the guard covers it. */
    ops[n++] = (op){.addr = 0, .offset = UINT32_MAX, .width = 4};
    ops[n++] = (op){.addr = 1, .offset = UINT32_MAX, .width = 8};
    ops[n++] = (op){.addr = UINT32_MAX, .offset = UINT32_MAX, .width = 8};
    ops[n++] = (op){.addr = UINT32_MAX, .offset = UINT32_MAX, .width = 8, .store = true, .value = 1};
    ops[n++] = (op){.addr = 0, .offset = 0x80000000u, .width = 8};
    ops[n++] = (op){.addr = 0, .offset = (uint32_t)(size - 1), .width = 1};
    ops[n++] = (op){.addr = 0, .offset = (uint32_t)size, .width = 1};
    ops[n++] = (op){.addr = 1, .offset = (uint32_t)(size - 2), .width = 1, .store = true, .value = 0x5a};
    ops[n++] = (op){.addr = 1, .offset = (uint32_t)(size - 1), .width = 1, .store = true, .value = 0x5a};
    return n;
}

static void check_against_spec(const op *ops, size_t n, const bool *trapped, uint64_t size, size_t *traps_out) {
    size_t traps = 0;
    for (size_t i = 0; i < n; i++) {
        bool want = spec_traps(&ops[i], size);
        CHECK_MSG(trapped[i] == want, "op %zu (%s width %u at %u + %u): trapped %d, the spec says %d", i,
                  ops[i].store ? "store" : "load", ops[i].width, ops[i].addr, ops[i].offset, trapped[i], want);
        traps += trapped[i];
    }
    *traps_out = traps;
}

TEST(raw_accesses_through_the_base_trap_exactly_where_memory_trap_wast_says_and_the_engine_keeps_running) {
    CHECK_OK(cordon_trap_install());
    cordon_memory_options mo = {.initial_pages = 1, .bounds_check_free = true};
    cordon_memory m;
    cordon_status cst = cordon_memory_create(&mo, &m);
    if (cst == CORDON_OUT_OF_MEMORY) {
        SKIP("the OS refused the 8 GiB reservation of a bounds_check_free memory (address space limit)");
    }
    CHECK_OK(cst);
#if defined(HAVE_MEMCHECK_H)
    {
        /* Memcheck reports each access to an inaccessible page before the signal; these are on purpose. */
        void *b = NULL;
        CHECK_OK(cordon_memory_base(m, &b));
        (void)VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(b, (UINT64_C(1) << 33) + PAGE);
    }
#endif
    /* (data (i32.const 0) "abcdefgh") (data (i32.const 0xfff8) "abcdefgh") */
    CHECK_OK(cordon_memory_write(m, 0, "abcdefgh", 8));
    CHECK_OK(cordon_memory_write(m, PAGE - 8, "abcdefgh", 8));

    enum { MAX_OPS = 256 };
    op ops[MAX_OPS];
    bool trapped[MAX_OPS];
    uint64_t loaded[MAX_OPS];
    size_t n = 0;
    /* store(-4, 42) then load(-4): in bounds. */
    ops[n++] = (op){.addr = (uint32_t)(PAGE - 4), .width = 4, .store = true, .value = 42};
    ops[n++] = (op){.addr = (uint32_t)(PAGE - 4), .width = 4};
    n = add_edge_cases(ops, n, PAGE);
    CHECK(n <= MAX_OPS);
    execute(m, ops, n, trapped, loaded, PAGE);
    size_t traps = 0;
    check_against_spec(ops, n, trapped, PAGE, &traps);
    CHECK(traps > 40);
    CHECK_EQ_U64(loaded[1], 42);

    /* A failed grow changes nothing: (memory.grow (i32.const 65537)) is -1. */
    uint64_t old = 0;
    CHECK_STATUS(cordon_memory_grow(m, 65537, &old), CORDON_LIMIT_EXCEEDED);

    /* Stores that trapped wrote no byte (not even the in-bounds part of one straddling the end);
     * the others wrote theirs: the memory is exactly what the spec says. */
    static uint8_t image[2 * 65536];
    memset(image, 0, sizeof image);
    memcpy(image, "abcdefgh", 8);
    memcpy(image + PAGE - 8, "abcdefgh", 8);
    simulate(ops, n, image, PAGE);
    check_image(m, image, PAGE);

    /* After a grow: the old end is accessible, the new end traps. */
    CHECK_OK(cordon_memory_grow(m, 1, &old));
    CHECK_EQ_U64(old, 1);
    op after[MAX_OPS];
    size_t k = 0;
    after[k++] = (op){.addr = (uint32_t)PAGE, .width = 4, .store = true, .value = 0xdeadbeef};
    after[k++] = (op){.addr = (uint32_t)PAGE, .width = 4};
    after[k++] = (op){.addr = (uint32_t)PAGE - 3, .width = 8};
    k = add_edge_cases(after, k, 2 * PAGE);
    CHECK(k <= MAX_OPS);
    execute(m, after, k, trapped, loaded, 2 * PAGE);
    check_against_spec(after, k, trapped, 2 * PAGE, &traps);
    CHECK(!trapped[0] && !trapped[1] && !trapped[2]);
    CHECK_EQ_U64(loaded[1], 0xdeadbeef);
    CHECK(traps > 40);
    simulate(after, k, image, 2 * PAGE);
    check_image(m, image, 2 * PAGE);
    CHECK_OK(cordon_memory_destroy(m));
}
