/* SPDX-License-Identifier: Apache-2.0 */
/* What an engine embedding the linear memory uses beyond the calls: the memory's type for import
 * matching, checked pointers for host calls, the embedder's prefix before byte 0, 1-byte pages
 * (custom-page-sizes), and the definition with the inline checked loads and stores of
 * cordon/memory_inline.h, checked against the calls they mirror. */
#include <pthread.h>
#include <string.h>

#include "cordon/cordon.h"
#include "cordon/memory_inline.h"
#include "harness.h"
#include "probe.h"

#define PAGE CORDON_MEMORY_PAGE_SIZE
#define GIB (UINT64_C(1) << 30)

static cordon_memory make(cordon_memory_options o) {
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    return m;
}

static uint8_t *base_of(cordon_memory m) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    return (uint8_t *)b;
}

static uint64_t os_page(void) {
    uint64_t p = 0;
    CHECK_OK(cordon_pages_os_page_size(&p));
    return p;
}

/* ---- the type ---------------------------------------------------------------------------------------- */

TEST(type_get_reports_how_the_memory_was_declared) {
    cordon_memory a = make((cordon_memory_options){.initial_pages = 2});
    cordon_memory b = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 65536, .has_maximum = true,
                                                   .shared = true});
    cordon_memory c = make((cordon_memory_options){.memory64 = true, .page_size = 1, .initial_pages = 10,
                                                   .maximum_pages = 1000, .has_maximum = true});
    cordon_memory_type t;
    memset(&t, 0xEE, sizeof t);
    CHECK_OK(cordon_memory_type_get(a, &t));
    CHECK(!t.has_maximum && !t.memory64 && !t.shared);
    CHECK_EQ_U64(t.minimum_pages, 2);
    CHECK_EQ_U64(t.maximum_pages, CORDON_MEMORY32_MAX_PAGES); /* none declared: the cap */
    CHECK_EQ_U64(t.page_size, PAGE);
    CHECK_OK(cordon_memory_type_get(b, &t));
    CHECK(t.has_maximum && !t.memory64 && t.shared);
    CHECK_EQ_U64(t.maximum_pages, 65536); /* declared, equal to the cap: still "declared" */
    CHECK_OK(cordon_memory_type_get(c, &t));
    CHECK(t.has_maximum && t.memory64 && !t.shared);
    CHECK_EQ_U64(t.page_size, 1);
    CHECK_EQ_U64(t.minimum_pages, 10);
    CHECK_EQ_U64(t.maximum_pages, 1000);
    /* the minimum of the instance's type follows grow, as the spec's memory instance does */
    CHECK_OK(cordon_memory_grow(c, 7, NULL));
    CHECK_OK(cordon_memory_type_get(c, &t));
    CHECK_EQ_U64(t.minimum_pages, 17);
    CHECK_STATUS(cordon_memory_type_get(c, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(c));
    memset(&t, 0xEE, sizeof t);
    CHECK_STATUS(cordon_memory_type_get(c, &t), CORDON_STALE);
    CHECK_STATUS(cordon_memory_type_get(c, NULL), CORDON_STALE);
    CHECK_EQ_U64(t.page_size, UINT64_C(0xEEEEEEEEEEEEEEEE));
    CHECK_OK(cordon_memory_destroy(b));
    CHECK_OK(cordon_memory_destroy(a));
}

TEST(max_pages_for_gives_the_cap_of_each_index_type_and_page_size) {
    CHECK_EQ_U64(cordon_memory_max_pages_for(false, 0), UINT64_C(1) << 16);
    CHECK_EQ_U64(cordon_memory_max_pages_for(false, PAGE), UINT64_C(1) << 16);
    CHECK_EQ_U64(cordon_memory_max_pages_for(true, PAGE), UINT64_C(1) << 48);
    CHECK_EQ_U64(cordon_memory_max_pages_for(false, 1), (UINT64_C(1) << 32) - 1);
    CHECK_EQ_U64(cordon_memory_max_pages_for(true, 1), UINT64_MAX);
    CHECK_EQ_U64(cordon_memory_max_pages_for(false, 4096), 0);
}

/* ---- checked pointers ------------------------------------------------------------------------------- */

TEST(checked_pointer_validates_the_range_and_points_into_the_memory) {
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 2, .has_maximum = true});
    uint8_t *b = base_of(m);
    void *p = NULL;
    CHECK_OK(cordon_memory_pointer(m, 100, 16, 4, &p));
    CHECK(p == b + 100);
    CHECK_OK(cordon_memory_pointer(m, 0, PAGE, 0, &p));
    CHECK(p == b);
    CHECK_OK(cordon_memory_pointer(m, PAGE, 0, 1, &p)); /* empty range at the end */
    CHECK(p == b + PAGE);
    CHECK_OK(cordon_memory_pointer(m, PAGE - 1, 1, 1, &p));
    /* the bytes are the memory's */
    CHECK_OK(cordon_memory_store_u32(m, 100, 0, 0xA1B2C3D4u));
    CHECK_OK(cordon_memory_pointer(m, 100, 4, 4, &p));
    uint32_t w = 0;
    memcpy(&w, p, 4);
    CHECK_EQ_U64(w, 0xA1B2C3D4u);
    /* out of bounds, overflow: nothing written */
    void *untouched = (void *)&w;
    p = untouched;
    CHECK_STATUS(cordon_memory_pointer(m, PAGE, 1, 1, &p), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_pointer(m, PAGE + 1, 0, 1, &p), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_pointer(m, 8, UINT64_MAX - 3, 1, &p), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_pointer(m, UINT64_MAX - 3, 8, 1, &p), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_pointer(m, 1, UINT64_MAX, 1, &p), CORDON_OUT_OF_BOUNDS);
    CHECK(p == untouched);
    /* after a grow the new pages are reachable, and earlier pointers stay valid (never moves) */
    CHECK_OK(cordon_memory_grow(m, 1, NULL));
    CHECK_OK(cordon_memory_pointer(m, PAGE, PAGE, 8, &p));
    CHECK(p == b + PAGE);
    memset(p, 0x3C, PAGE);
    uint8_t v = 0;
    CHECK_OK(cordon_memory_load_u8(m, 2 * PAGE - 1, 0, &v));
    CHECK_EQ_U64(v, 0x3C);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(checked_pointer_errors_come_in_the_documented_order) {
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 1, .has_maximum = true});
    void *p = NULL;
    CHECK_STATUS(cordon_memory_pointer(m, 2, 4, 4, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_pointer(m, UINT64_MAX, 4, 4, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_pointer(m, UINT64_MAX, 4, 3, &p), CORDON_INVALID_ARGUMENT); /* not a power of 2 */
    CHECK_STATUS(cordon_memory_pointer(m, PAGE + 2, 4, 4, &p), CORDON_MISALIGNED);        /* before bounds */
    CHECK_STATUS(cordon_memory_pointer(m, 2, 4, 4, &p), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_pointer(m, PAGE + 4, 4, 4, &p), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_pointer(m, 2, 4, 2, &p));
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_pointer(m, UINT64_MAX, 4, 3, NULL), CORDON_STALE);
}

/* ---- the embedder's prefix ----------------------------------------------------------------------------- */

TEST(prefix_is_writable_zeroed_and_invisible_to_accesses) {
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 2, .has_maximum = true,
                                                   .prefix_bytes = 64});
    uint8_t *b = base_of(m);
    void *pre = NULL;
    uint64_t n = 0;
    CHECK_OK(cordon_memory_prefix(m, &pre, &n));
    CHECK(pre == b - 64);
    CHECK_EQ_U64(n, 64);
    uint8_t *h = pre;
    for (int i = 0; i < 64; i++) {
        CHECK(h[i] == 0);
    }
    memset(h, 0xFF, 64); /* the engine's header */
    /* the memory still starts at byte 0 and reads zeros; no access reaches below it */
    uint8_t v = 1;
    CHECK_OK(cordon_memory_load_u8(m, 0, 0, &v));
    CHECK_EQ_U64(v, 0);
    uint32_t w = 0;
    CHECK_STATUS(cordon_memory_load_u32(m, UINT64_MAX - 63, 60, &w), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_read(m, UINT64_MAX - 63, &w, 4), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_fill(m, 0, 0x11, PAGE));
    CHECK(h[63] == 0xFF);
    CHECK_OK(cordon_memory_grow(m, 1, NULL));
    CHECK(base_of(m) == b && h[0] == 0xFF);
    /* only the OS page holding the prefix is accessible before byte 0: the guard lies below it */
    CHECK_EQ_I64(probe_write(b - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b - os_page()), PROBE_OK);
    CHECK_EQ_I64(probe_write(b - os_page() - 1), PROBE_SEGV);
    /* one getter output is enough; none is an error */
    CHECK_OK(cordon_memory_prefix(m, NULL, &n));
    CHECK_STATUS(cordon_memory_prefix(m, NULL, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_prefix(m, &pre, &n), CORDON_STALE);
}

TEST(prefix_of_a_whole_os_page_and_no_prefix) {
    uint64_t page = os_page();
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .prefix_bytes = page, .bounds_check_free = true});
    uint8_t *b = base_of(m);
    void *pre = NULL;
    uint64_t n = 0;
    CHECK_OK(cordon_memory_prefix(m, &pre, &n));
    CHECK(pre == b - page && n == page);
    memset(pre, 0x7E, (size_t)page);
    CHECK_EQ_I64(probe_write(b + PAGE), PROBE_SEGV); /* bounds-check-free guard unchanged */
    CHECK_OK(cordon_memory_destroy(m));
    cordon_memory z = make((cordon_memory_options){.initial_pages = 1});
    pre = &n;
    CHECK_OK(cordon_memory_prefix(z, &pre, &n));
    CHECK(pre == NULL && n == 0);
    CHECK_EQ_I64(probe_write(base_of(z) - 1), PROBE_SEGV);
    CHECK_OK(cordon_memory_destroy(z));
    cordon_memory_options o = {.prefix_bytes = page + 1};
    CHECK_STATUS(cordon_memory_create(&o, &z), CORDON_INVALID_ARGUMENT);
}

/* ---- 1-byte pages ------------------------------------------------------------------------------------- */

TEST(byte_pages_count_grow_size_and_limits_in_bytes) {
    cordon_memory m = make((cordon_memory_options){.page_size = 1, .initial_pages = 10, .maximum_pages = 100000,
                                                   .has_maximum = true});
    uint64_t pages = 0, bytes = 0, old = 0, reserved = 0;
    CHECK_OK(cordon_memory_size_pages(m, &pages));
    CHECK_OK(cordon_memory_size_bytes(m, &bytes));
    CHECK_EQ_U64(pages, 10);
    CHECK_EQ_U64(bytes, 10);
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    CHECK_EQ_U64(reserved % os_page(), 0); /* the reservation is whole OS pages */
    CHECK(reserved >= 100000 && reserved < 100000 + os_page());
    CHECK_OK(cordon_memory_store_u8(m, 9, 0, 1));
    CHECK_STATUS(cordon_memory_store_u8(m, 10, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_store_u16(m, 9, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_grow(m, 5, &old));
    CHECK_EQ_U64(old, 10);
    CHECK_OK(cordon_memory_store_u32(m, 11, 0, 0xDEADBEEFu));
    CHECK_STATUS(cordon_memory_store_u32(m, 12, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_grow(m, 100000 - 15, &old));
    CHECK_EQ_U64(old, 15);
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_OK(cordon_memory_size_bytes(m, &bytes));
    CHECK_EQ_U64(bytes, 100000);
    CHECK_OK(cordon_memory_fill(m, 99990, 0x42, 10));
    CHECK_STATUS(cordon_memory_fill(m, 99990, 0x42, 11), CORDON_OUT_OF_BOUNDS);
    /* atomics keep natural alignment: the base is page-aligned */
    uint64_t v = 0;
    CHECK_OK(cordon_memory_atomic_rmw(m, 99992, 0, 8, CORDON_MEMORY_RMW_ADD, 1, &v));
    CHECK_EQ_U64(v, 0x4242424242424242ull);
    CHECK_STATUS(cordon_memory_atomic_load(m, 99993, 0, 8, &v), CORDON_MISALIGNED);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(byte_pages_new_bytes_read_zero_even_after_a_write_past_the_size) {
    cordon_memory m = make((cordon_memory_options){.page_size = 1, .initial_pages = 10, .maximum_pages = 3 * PAGE,
                                                   .has_maximum = true});
    uint8_t *b = base_of(m);
    /* the rest of the last OS page is mapped; code holding the base pointer could write there */
    b[12] = 0x77;
    b[os_page() - 1] = 0x78;
    CHECK_EQ_I64(probe_write(b + os_page()), PROBE_SEGV);
    uint8_t v = 1;
    CHECK_STATUS(cordon_memory_load_u8(m, 12, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_grow(m, os_page() + 5, NULL));
    CHECK_OK(cordon_memory_load_u8(m, 12, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_load_u8(m, os_page() - 1, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_load_u8(m, os_page() + 4, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(byte_pages_32_bit_cap_is_2_32_minus_1_bytes) {
    cordon_memory m = make((cordon_memory_options){.page_size = 1});
    uint64_t max = 0, reserved = 0;
    CHECK_OK(cordon_memory_maximum_pages(m, &max));
    CHECK_EQ_U64(max, (UINT64_C(1) << 32) - 1);
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    CHECK_EQ_U64(reserved, 4 * GIB);
    CHECK_OK(cordon_memory_grow(m, max, NULL));
    CHECK_OK(cordon_memory_store_u8(m, max - 1, 0, 9));
    CHECK_STATUS(cordon_memory_store_u8(m, max, 0, 9), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_grow(m, 1, NULL), CORDON_LIMIT_EXCEEDED);
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- the definition and the inline helpers ------------------------------------------------------------ */

TEST(definition_is_stable_and_tracks_grow) {
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 4, .has_maximum = true,
                                                   .shared = true});
    const cordon_memory_definition *d = NULL, *again = NULL;
    CHECK_OK(cordon_memory_definition_get(m, &d));
    CHECK(d != NULL && d->base == base_of(m) && d->shared);
    CHECK_EQ_U64(cordon_memory_definition_length(d), PAGE);
    CHECK_OK(cordon_memory_grow(m, 2, NULL));
    CHECK_OK(cordon_memory_definition_get(m, &again));
    CHECK(again == d && d->base == base_of(m));
    CHECK_EQ_U64(cordon_memory_definition_length(d), 3 * PAGE);
    CHECK_STATUS(cordon_memory_definition_get(m, NULL), CORDON_INVALID_ARGUMENT);
    cordon_memory u = make((cordon_memory_options){.initial_pages = 0, .page_size = 1});
    CHECK_OK(cordon_memory_definition_get(u, &again));
    CHECK(again != d && !again->shared);
    CHECK_EQ_U64(cordon_memory_definition_length(again), 0);
    CHECK_OK(cordon_memory_destroy(u));
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_definition_get(m, &d), CORDON_STALE);
}

/* Every inline load and store against the call it mirrors, at addresses and offsets around 0, the
 * end and 2^64: the same status, the same bytes, nothing written by a failure. */
static void inline_matches_calls(cordon_memory m) {
    const cordon_memory_definition *d = NULL;
    CHECK_OK(cordon_memory_definition_get(m, &d));
    uint64_t size = cordon_memory_definition_length(d);
    uint64_t addrs[] = {0, 1, 3, size / 2, size - 9, size - 8, size - 4, size - 1, size, size + 1, UINT64_MAX - 7,
                        UINT64_MAX};
    uint64_t offsets[] = {0, 1, 7, 8, size, UINT64_MAX - 8, UINT64_MAX};
    uint32_t seq = 1;
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        for (size_t j = 0; j < sizeof offsets / sizeof offsets[0]; j++) {
            uint64_t a = addrs[i], o = offsets[j];
            seq = seq * 1103515245u + 12345u;
            /* stores: inline into the memory, then the call's load must see it (and vice versa) */
            uint8_t v8 = 0xAA, w8 = 0xBB;
            uint16_t v16 = 0xAAAA, w16 = 0xBBBB;
            uint32_t v32 = 0xAAAAAAAA, w32 = 0xBBBBBBBB;
            uint64_t v64 = 0xAAAAAAAAAAAAAAAAull, w64 = 0xBBBBBBBBBBBBBBBBull;
            float f = 1.0f, g = 2.0f;
            double df = 1.0, dg = 2.0;
            cordon_status want = cordon_memory_store_u32(m, a, o, seq);
            CHECK_STATUS(cordon_memory_inline_store_u32(d, a, o, seq ^ 1u), want);
            CHECK_STATUS(cordon_memory_inline_load_u32(d, a, o, &v32), want);
            CHECK_STATUS(cordon_memory_load_u32(m, a, o, &w32), want);
            CHECK(want != CORDON_OK ? (v32 == 0xAAAAAAAA && w32 == 0xBBBBBBBB) : (v32 == (seq ^ 1u) && w32 == v32));
            want = cordon_memory_store_u8(m, a, o, (uint8_t)seq);
            CHECK_STATUS(cordon_memory_inline_load_u8(d, a, o, &v8), want);
            CHECK(want != CORDON_OK ? v8 == 0xAA : v8 == (uint8_t)seq);
            CHECK_STATUS(cordon_memory_inline_store_u8(d, a, o, (uint8_t)(seq + 1)), want);
            CHECK_STATUS(cordon_memory_load_u8(m, a, o, &w8), want);
            CHECK(want != CORDON_OK ? w8 == 0xBB : w8 == (uint8_t)(seq + 1));
            want = cordon_memory_store_u16(m, a, o, (uint16_t)seq);
            CHECK_STATUS(cordon_memory_inline_load_u16(d, a, o, &v16), want);
            CHECK(want != CORDON_OK ? v16 == 0xAAAA : v16 == (uint16_t)seq);
            CHECK_STATUS(cordon_memory_inline_store_u16(d, a, o, (uint16_t)(seq + 1)), want);
            CHECK_STATUS(cordon_memory_load_u16(m, a, o, &w16), want);
            CHECK(want != CORDON_OK ? w16 == 0xBBBB : w16 == (uint16_t)(seq + 1));
            uint64_t s64 = ((uint64_t)seq << 32) | (seq ^ 0x5A5A5A5Au);
            want = cordon_memory_store_u64(m, a, o, s64);
            CHECK_STATUS(cordon_memory_inline_load_u64(d, a, o, &v64), want);
            CHECK(want != CORDON_OK ? v64 == 0xAAAAAAAAAAAAAAAAull : v64 == s64);
            CHECK_STATUS(cordon_memory_inline_store_u64(d, a, o, ~s64), want);
            CHECK_STATUS(cordon_memory_load_u64(m, a, o, &w64), want);
            CHECK(want != CORDON_OK ? w64 == 0xBBBBBBBBBBBBBBBBull : w64 == ~s64);
            want = cordon_memory_store_f32(m, a, o, -3.25f);
            CHECK_STATUS(cordon_memory_inline_load_f32(d, a, o, &f), want);
            CHECK(want != CORDON_OK ? f == 1.0f : f == -3.25f);
            CHECK_STATUS(cordon_memory_inline_store_f32(d, a, o, 0.5f), want);
            CHECK_STATUS(cordon_memory_load_f32(m, a, o, &g), want);
            CHECK(want != CORDON_OK ? g == 2.0f : g == 0.5f);
            want = cordon_memory_store_f64(m, a, o, 6.5e300);
            CHECK_STATUS(cordon_memory_inline_load_f64(d, a, o, &df), want);
            CHECK(want != CORDON_OK ? df == 1.0 : df == 6.5e300);
            CHECK_STATUS(cordon_memory_inline_store_f64(d, a, o, -0.125), want);
            CHECK_STATUS(cordon_memory_load_f64(m, a, o, &dg), want);
            CHECK(want != CORDON_OK ? dg == 2.0 : dg == -0.125);
        }
    }
}

TEST(inline_helpers_agree_with_the_calls_at_every_boundary) {
    cordon_memory plain = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 2, .has_maximum = true});
    cordon_memory shared = make((cordon_memory_options){.initial_pages = 2, .maximum_pages = 2, .has_maximum = true,
                                                        .shared = true});
    cordon_memory bytes = make((cordon_memory_options){.page_size = 1, .initial_pages = 1001, .memory64 = true,
                                                       .maximum_pages = 5000, .has_maximum = true});
    cordon_memory empty = make((cordon_memory_options){.initial_pages = 0});
    inline_matches_calls(plain);
    inline_matches_calls(shared);
    inline_matches_calls(bytes);
    inline_matches_calls(empty);
    CHECK_OK(cordon_memory_grow(bytes, 7, NULL)); /* the helpers read the new length */
    inline_matches_calls(bytes);
    CHECK_OK(cordon_memory_destroy(empty));
    CHECK_OK(cordon_memory_destroy(bytes));
    CHECK_OK(cordon_memory_destroy(shared));
    CHECK_OK(cordon_memory_destroy(plain));
}

TEST(inline_stores_are_little_endian_and_byte_exact) {
    cordon_memory m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 1, .has_maximum = true,
                                                   .shared = true});
    const cordon_memory_definition *d = NULL;
    CHECK_OK(cordon_memory_definition_get(m, &d));
    CHECK_OK(cordon_memory_inline_store_u16(d, 0, 0, 0xA1B2));
    CHECK_OK(cordon_memory_inline_store_u32(d, 1, 2, 0x11223344u)); /* unaligned: byte by byte */
    CHECK_OK(cordon_memory_inline_store_u64(d, 9, 0, 0x0102030405060708ull));
    uint8_t b[17];
    CHECK_OK(cordon_memory_read(m, 0, b, sizeof b));
    uint8_t want[17] = {0xB2, 0xA1, 0, 0x44, 0x33, 0x22, 0x11, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
    CHECK(memcmp(b, want, sizeof b) == 0);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_inline_load_u32(d, 3, 0, &v));
    CHECK_EQ_U64(v, 0x11223344u);
    CHECK_OK(cordon_memory_destroy(m));
}

/* A shared memory raced the way WebAssembly lets threads race it: inline plain stores and loads
 * against atomic read-modify-writes of the same words. Defined in C11 (relaxed atomics inside the
 * helpers), so ThreadSanitizer reports nothing; the RMW counts are exact. */
typedef struct race_ctx {
    cordon_memory m;
    const cordon_memory_definition *d;
    _Atomic int stop;
    _Atomic uint64_t bad;
} race_ctx;

static void *inline_racer(void *arg) {
    race_ctx *c = arg;
    uint32_t v = 0;
    for (uint32_t i = 0; !c->stop; i++) {
        if (cordon_memory_inline_store_u32(c->d, 64, 0, i) != CORDON_OK ||
            cordon_memory_inline_load_u32(c->d, 0, 68, &v) != CORDON_OK ||
            cordon_memory_inline_store_u8(c->d, 129, 0, (uint8_t)i) != CORDON_OK) {
            c->bad++;
        }
        /* the size only grows: the last word of any size seen is accessible */
        uint64_t len = cordon_memory_definition_length(c->d);
        if (cordon_memory_inline_load_u32(c->d, len - 4, 0, &v) != CORDON_OK) {
            c->bad++;
        }
    }
    return NULL;
}

TEST(inline_accesses_race_atomics_and_grow_on_a_shared_memory) {
    race_ctx c = {.m = make((cordon_memory_options){.initial_pages = 1, .maximum_pages = 64, .has_maximum = true,
                                                    .shared = true})};
    CHECK_OK(cordon_memory_definition_get(c.m, &c.d));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, inline_racer, &c) == 0);
    uint64_t old = 0;
    for (int i = 0; i < 20000; i++) {
        CHECK_OK(cordon_memory_atomic_rmw(c.m, 68, 0, 4, CORDON_MEMORY_RMW_ADD, 1, &old));
        CHECK_OK(cordon_memory_atomic_rmw(c.m, 128, 0, 4, CORDON_MEMORY_RMW_XOR, 0x100, NULL));
        if (i % 400 == 0) {
            CHECK_OK(cordon_memory_grow(c.m, 1, NULL));
        }
    }
    c.stop = 1;
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_U64(c.bad, 0);
    CHECK_EQ_U64(old, 19999); /* only the atomics write the word at 68 */
    uint64_t pages = 0;
    CHECK_OK(cordon_memory_size_pages(c.m, &pages));
    CHECK_EQ_U64(pages, 51);
    CHECK_OK(cordon_memory_destroy(c.m));
}
