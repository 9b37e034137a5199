/* SPDX-License-Identifier: Apache-2.0 */
/* A WebAssembly host written from cordon's headers alone, built against an installed prefix: it
 * creates the linear memory a module imports, lets the "guest" fill it, serves a host call
 * sum(ptr, len) that validates the guest's (ptr, len) and sums the u32 words on the default pool, and
 * does memory.atomic.wait32 with a memarg offset: guest_range() is cordon_memory_pointer (the range
 * and its alignment checked, a native pointer valid until destroy), and the wait passes the memarg
 * (addr, offset) straight to cordon_memory_atomic_wait32, which traps on an overflowing sum. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cordon/cordon.h>

#define GUEST_PTR 1024u
#define GUEST_WORDS 10000u

/* Validates the guest's (ptr, len) — in bounds, 4-byte aligned — and gives a native pointer to it, or
 * NULL: a trap. */
static const uint32_t *guest_range(cordon_memory m, uint64_t ptr, uint64_t len_words) {
    void *p = NULL;
    if (len_words > UINT64_MAX / 4 || cordon_memory_pointer(m, ptr, len_words * 4, 4, &p) != CORDON_OK) {
        return NULL;
    }
    return (const uint32_t *)p;
}

static int32_t sum_chunk(void *ctx, size_t begin, size_t end, void *slot) {
    const uint32_t *words = (const uint32_t *)ctx;
    uint64_t *acc = (uint64_t *)slot;
    for (size_t i = begin; i < end; i++) {
        *acc += words[i];
    }
    return 0;
}

static void add(void *ctx, void *acc, const void *slot) {
    (void)ctx;
    *(uint64_t *)acc += *(const uint64_t *)slot;
}

static int fail(const char *what, cordon_status st) {
    fprintf(stderr, "wasm host: %s: %s\n", what, cordon_status_str(st));
    return 1;
}

int main(void) {
    cordon_memory_options opt;
    memset(&opt, 0, sizeof opt);
    opt.initial_pages = 1;
    opt.maximum_pages = 4;
    opt.has_maximum = true;
    opt.shared = true;
    cordon_memory mem;
    cordon_status st = cordon_memory_create(&opt, &mem);
    if (st != CORDON_OK) {
        return fail("create the imported memory", st);
    }
    /* The guest's part: words 1..GUEST_WORDS at GUEST_PTR (one page is too small: grow first). */
    if ((st = cordon_memory_grow(mem, 1, NULL)) != CORDON_OK) {
        return fail("grow", st);
    }
    for (uint32_t i = 0; i < GUEST_WORDS; i++) {
        uint32_t v = i + 1;
        if ((st = cordon_memory_write(mem, GUEST_PTR + 4u * (uint64_t)i, &v, sizeof v)) != CORDON_OK) {
            return fail("guest write", st);
        }
    }
    /* Host call sum(ptr, len). */
    const uint32_t *words = guest_range(mem, GUEST_PTR, GUEST_WORDS);
    if (words == NULL) {
        return fail("a valid guest range was refused", CORDON_OUT_OF_BOUNDS);
    }
    if (guest_range(mem, 2 * 65536 - 4, 2) != NULL || guest_range(mem, UINT64_MAX - 3, 1) != NULL ||
        guest_range(mem, GUEST_PTR + 2, 1) != NULL) {
        return fail("an out-of-bounds guest range was accepted", CORDON_OK);
    }
    cordon_pool pool;
    if ((st = cordon_pool_default(&pool)) != CORDON_OK) {
        return fail("default pool", st);
    }
    uint64_t sum = 0;
    st = cordon_pool_parallel_reduce(pool, 0, GUEST_WORDS, 0, sum_chunk, add, (void *)(uintptr_t)words, &sum,
                                     sizeof sum, NULL);
    if (st != CORDON_OK) {
        return fail("parallel_reduce", st);
    }
    if (sum != (uint64_t)GUEST_WORDS * (GUEST_WORDS + 1) / 2) {
        fprintf(stderr, "wasm host: sum %" PRIu64 " is wrong\n", sum);
        return 1;
    }
    /* memory.atomic.wait32 with offset 8 on the word holding 3: not-equal at once, then a timed-out wait. */
    uint32_t result = 0;
    if ((st = cordon_memory_atomic_wait32(mem, GUEST_PTR, 8, 7, -1, &result)) != CORDON_OK ||
        result != CORDON_WAIT_NOT_EQUAL) {
        return fail("wait32 (not-equal)", st);
    }
    if ((st = cordon_memory_atomic_wait32(mem, GUEST_PTR, 8, 3, 1000000, &result)) != CORDON_OK ||
        result != CORDON_WAIT_TIMED_OUT) {
        return fail("wait32 (timed-out)", st);
    }
    if (cordon_memory_atomic_wait32(mem, UINT64_MAX - 3, 8, 0, 0, &result) != CORDON_OUT_OF_BOUNDS) {
        return fail("wait32 past the address space did not trap", CORDON_OK);
    }
    if ((st = cordon_memory_destroy(mem)) != CORDON_OK) {
        return fail("destroy", st);
    }
    printf("cordon wasm host: sum %" PRIu64 ", wait32 not-equal and timed-out as specified\n", sum);
    return 0;
}
