/* SPDX-License-Identifier: Apache-2.0 */
/* Linear memory: WebAssembly grow semantics, overflow-proof bounds checks, typed little-endian access,
 * atomics, guard traps, stale handles, and OS failures that leave the memory as it was. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "memory/memory_internal.h"
#include "probe.h"
#include "sys/fault.h"

#define PAGE CORDON_MEMORY_PAGE_SIZE
#define GIB (UINT64_C(1) << 30)

static cordon_memory create(uint64_t initial, uint64_t maximum, bool has_max) {
    cordon_memory_options o = {0};
    o.initial_pages = initial;
    o.maximum_pages = maximum;
    o.has_maximum = has_max;
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    return m;
}

static uint64_t size_bytes(cordon_memory m) {
    uint64_t s = 0;
    CHECK_OK(cordon_memory_size_bytes(m, &s));
    return s;
}

static uint64_t size_pages(cordon_memory m) {
    uint64_t s = 0;
    CHECK_OK(cordon_memory_size_pages(m, &s));
    return s;
}

static uint8_t *base_of(cordon_memory m) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    return (uint8_t *)b;
}

static void require_fault_injection(void) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
}

/* ---- creation and grow ------------------------------------------------------------------------- */

TEST(create_gives_zeroed_initial_pages_and_reports_sizes) {
    cordon_memory m = create(3, 10, true);
    CHECK_EQ_U64(size_pages(m), 3);
    CHECK_EQ_U64(size_bytes(m), 3 * PAGE);
    uint64_t max = 0;
    bool shared = true;
    CHECK_OK(cordon_memory_maximum_pages(m, &max));
    CHECK_OK(cordon_memory_is_shared(m, &shared));
    CHECK_EQ_U64(max, 10);
    CHECK(!shared);
    uint8_t buf[256];
    for (uint64_t a = 0; a < 3 * PAGE; a += sizeof buf) {
        memset(buf, 1, sizeof buf);
        CHECK_OK(cordon_memory_read(m, a, buf, sizeof buf));
        for (size_t i = 0; i < sizeof buf; i++) {
            CHECK(buf[i] == 0);
        }
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(create_rejects_invalid_limits) {
    cordon_memory m = {0};
    cordon_memory_options o = {0};
    CHECK_STATUS(cordon_memory_create(NULL, &m), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_create(&o, NULL), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.initial_pages = 5, .maximum_pages = 4, .has_maximum = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.maximum_pages = 65537, .has_maximum = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.initial_pages = 65537};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.shared = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.memory64 = true, .bounds_check_free = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.memory64 = true, .maximum_pages = CORDON_MEMORY64_MAX_PAGES + 1, .has_maximum = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.page_size = 2};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.page_size = 4096};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.page_size = 1, .maximum_pages = UINT64_C(1) << 32, .has_maximum = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.page_size = 1, .bounds_check_free = true};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.bounds_check_free = true, .reserve_bytes = 4 * GIB};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.initial_pages = 2, .reserve_bytes = PAGE};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.prefix_bytes = UINT64_C(1) << 30};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o = (cordon_memory_options){.name = "a]b"};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(m.handle, 0);
}

TEST(grow_returns_the_old_size_and_new_pages_read_zero) {
    cordon_memory m = create(1, 8, true);
    CHECK_OK(cordon_memory_fill(m, 0, 0xAB, PAGE));
    uint64_t old = 99;
    CHECK_OK(cordon_memory_grow(m, 2, &old));
    CHECK_EQ_U64(old, 1);
    CHECK_EQ_U64(size_pages(m), 3);
    uint8_t *b = base_of(m);
    for (uint64_t i = 0; i < 3 * PAGE; i++) {
        CHECK(b[i] == (i < PAGE ? 0xAB : 0));
    }
    CHECK_OK(cordon_memory_grow(m, 1, NULL));
    CHECK_EQ_U64(size_pages(m), 4);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(grow_by_zero_returns_the_size) {
    cordon_memory m = create(2, 2, true);
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 0, &old));
    CHECK_EQ_U64(old, 2);
    CHECK_EQ_U64(size_pages(m), 2);
    cordon_memory z = create(0, 0, true);
    CHECK_OK(cordon_memory_grow(z, 0, &old));
    CHECK_EQ_U64(old, 0);
    CHECK_STATUS(cordon_memory_grow(z, 1, &old), CORDON_LIMIT_EXCEEDED);
    uint8_t one = 0;
    CHECK_STATUS(cordon_memory_read(z, 0, &one, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_read(z, 0, NULL, 0));
    CHECK_OK(cordon_memory_destroy(z));
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(grow_to_exactly_the_maximum_then_past_it_fails_unchanged) {
    cordon_memory m = create(1, 5, true);
    CHECK_OK(cordon_memory_store_u32(m, 100, 0, 0xCAFEBABEu));
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 4, &old));
    CHECK_EQ_U64(old, 1);
    old = 77;
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_memory_grow(m, UINT64_MAX, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_memory_grow(m, UINT64_MAX / PAGE + 1, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_EQ_U64(old, 77);
    CHECK_EQ_U64(size_pages(m), 5);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, 100, 0, &v));
    CHECK_EQ_U64(v, 0xCAFEBABEu);
    CHECK_EQ_I64(probe_write(base_of(m) + 5 * PAGE), PROBE_SEGV);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(memory_of_65536_pages_grows_to_4_gib_and_no_further) {
    cordon_memory m = create(0, 0, false);
    uint64_t max = 0;
    CHECK_OK(cordon_memory_maximum_pages(m, &max));
    CHECK_EQ_U64(max, 65536);
    uint64_t old = 1;
    CHECK_OK(cordon_memory_grow(m, 65536, &old));
    CHECK_EQ_U64(old, 0);
    CHECK_EQ_U64(size_bytes(m), 4 * GIB);
    CHECK_OK(cordon_memory_store_u8(m, 4 * GIB - 1, 0, 0x11));
    CHECK_OK(cordon_memory_store_u32(m, 4 * GIB - 4, 0, 0x01020311));
    CHECK_STATUS(cordon_memory_store_u32(m, 4 * GIB - 3, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_store_u8(m, 4 * GIB, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_LIMIT_EXCEEDED);
    uint8_t v = 0;
    CHECK_OK(cordon_memory_load_u8(m, 4 * GIB - 4, 0, &v));
    CHECK_EQ_U64(v, 0x11);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(memory64_without_maximum_has_the_cap_as_maximum_and_grows_to_its_reservation) {
    cordon_memory_options o = {.memory64 = true, .initial_pages = 1};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    uint64_t max = 0, reserved = 0;
    CHECK_OK(cordon_memory_maximum_pages(m, &max));
    CHECK_EQ_U64(max, CORDON_MEMORY64_MAX_PAGES);
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    /* the default cap, or (a limited address space: valgrind) a fallback no smaller than 4 GiB */
    CHECK(reserved <= CORDON_MEMORY_DEFAULT_RESERVE_BYTES && reserved >= CORDON_MEMORY_MIN_DEFAULT_RESERVE_BYTES);
    CHECK(under_valgrind() || reserved == CORDON_MEMORY_DEFAULT_RESERVE_BYTES);
    uint64_t old = 5;
    /* within the maximum, past the reservation: refused before any system call */
    CHECK_STATUS(cordon_memory_grow(m, reserved / PAGE, &old), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(old, 5);
    CHECK_EQ_U64(size_bytes(m), PAGE);
#if defined(_WIN32)
    /* Windows charges committed memory against the commit limit (RAM + page file) when it is committed,
     * not when it is touched: making the whole reservation accessible is refused on most machines, as
     * a status, and the memory keeps its size. */
    {
        if (cordon_memory_grow(m, reserved / PAGE - 1, NULL) != CORDON_OK) {
            CHECK_EQ_U64(size_bytes(m), PAGE);
            CHECK_OK(cordon_memory_destroy(m));
            SKIP("the commit limit refuses committing the whole default reservation (Windows commit charge)");
        }
#else
    if (!under_valgrind()) { /* valgrind takes minutes to make 64 GiB accessible */
        CHECK_OK(cordon_memory_grow(m, reserved / PAGE - 1, NULL));
#endif
        CHECK_OK(cordon_memory_store_u8(m, reserved - 1, 0, 1));
        CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_OUT_OF_MEMORY);
        CHECK_EQ_U64(old, 5);
        CHECK_EQ_U64(size_bytes(m), reserved);
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(memory64_declared_with_the_largest_maximum_instantiates) {
    /* memory64.wast: (memory i64 0 0x1_0000_0000_0000) — 2^48 pages, 2^64 bytes: a limit, not a mapping */
    cordon_memory_options o = {.memory64 = true, .maximum_pages = CORDON_MEMORY64_MAX_PAGES, .has_maximum = true};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    cordon_memory_type t;
    CHECK_OK(cordon_memory_type_get(m, &t));
    CHECK(t.has_maximum && t.memory64 && !t.shared);
    CHECK_EQ_U64(t.maximum_pages, CORDON_MEMORY64_MAX_PAGES);
    CHECK_EQ_U64(t.minimum_pages, 0);
    CHECK_OK(cordon_memory_grow(m, 2, NULL));
    CHECK_OK(cordon_memory_store_u64(m, 2 * PAGE - 8, 0, 42));
    /* grow past the maximum, and a delta that would wrap the page count */
    CHECK_STATUS(cordon_memory_grow(m, CORDON_MEMORY64_MAX_PAGES - 1, NULL), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_memory_grow(m, UINT64_MAX, NULL), CORDON_LIMIT_EXCEEDED);
    /* within it but past the reservation: fails as memory.grow may, nothing changes */
    CHECK_STATUS(cordon_memory_grow(m, CORDON_MEMORY64_MAX_PAGES - 2, NULL), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(size_pages(m), 2);
    uint64_t v = 0;
    CHECK_OK(cordon_memory_load_u64(m, 2 * PAGE - 8, 0, &v));
    CHECK_EQ_U64(v, 42);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(explicit_reservation_above_ptrdiff_max_is_overflow_and_beyond_the_address_space_out_of_memory) {
    cordon_memory m = {0};
    bool counting = cordon__fault_available();
    if (counting) {
        cordon__fault_reset();
    }
    /* 2^63 bytes: not an object size, refused before any system call */
    cordon_memory_options o = {.memory64 = true, .reserve_bytes = UINT64_C(1) << 63};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OVERFLOW);
    o.reserve_bytes = (UINT64_C(1) << 63) - 2 * PAGE; /* 2^63 bytes with the two 64 KiB guards */
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OVERFLOW);
    /* an initial size that large needs that reservation too */
    o = (cordon_memory_options){.memory64 = true, .initial_pages = UINT64_C(1) << 47};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OVERFLOW);
    if (counting) {
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP), 0);
        cordon__fault_stop();
    }
    CHECK_EQ_U64(m.handle, 0);
    if (under_valgrind()) {
        SKIP("valgrind refuses huge mappings with EINVAL before the kernel sees them");
    }
    /* 2^62 bytes: representable, beyond any x86-64 or arm64 address space; explicit: no fallback */
    o = (cordon_memory_options){.memory64 = true, .reserve_bytes = UINT64_C(1) << 62};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(m.handle, 0);
}

TEST(memory64_addresses_beyond_4_gib) {
    cordon_memory_options o = {.memory64 = true, .initial_pages = 65536 + 16, .maximum_pages = 3 * 65536,
                               .has_maximum = true};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    uint64_t a = 4 * GIB + 12345;
    CHECK_OK(cordon_memory_store_u64(m, a, 8, 0x1122334455667788ull));
    uint64_t v = 0;
    CHECK_OK(cordon_memory_load_u64(m, a + 8, 0, &v));
    CHECK_EQ_U64(v, 0x1122334455667788ull);
    uint64_t end = (65536 + 16) * (uint64_t)PAGE;
    CHECK_STATUS(cordon_memory_load_u64(m, end - 7, 0, &v), CORDON_OUT_OF_BOUNDS);
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 65536, &old));
    CHECK_EQ_U64(old, 65536 + 16);
    CHECK_OK(cordon_memory_load_u64(m, end - 7, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- bounds --------------------------------------------------------------------------------------- */

TEST(bulk_access_boundaries_at_zero_size_minus_one_size_and_uint64_max) {
    cordon_memory m = create(1, 1, true);
    uint64_t size = PAGE;
    uint8_t buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    uint64_t addrs[] = {0, 1, size - 16, size - 1, size, size + 1, UINT64_MAX - 15, UINT64_MAX};
    uint64_t lens[] = {0, 1, 16, UINT64_MAX};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
            uint64_t a = addrs[i], l = lens[j];
            bool fits = l <= size && a <= size - l;
            cordon_status want = fits ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
            if (l == UINT64_MAX) {
                CHECK_STATUS(cordon_memory_write(m, a, buf, l), CORDON_OUT_OF_BOUNDS);
                CHECK_STATUS(cordon_memory_read(m, a, buf, l), CORDON_OUT_OF_BOUNDS);
            } else {
                CHECK_STATUS(cordon_memory_write(m, a, buf, l), want);
                CHECK_STATUS(cordon_memory_read(m, a, buf, l), want);
            }
            CHECK_STATUS(cordon_memory_fill(m, a, 0, l), want);
            CHECK_STATUS(cordon_memory_copy(m, a, 0, l), want);
            CHECK_STATUS(cordon_memory_copy(m, 0, a, l), want);
        }
    }
    CHECK_STATUS(cordon_memory_write(m, 0, NULL, 1), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_read(m, 0, NULL, 1), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(failed_access_writes_nothing) {
    cordon_memory m = create(1, 1, true);
    uint8_t *b = base_of(m);
    uint8_t src[64];
    memset(src, 0xFF, sizeof src);
    CHECK_STATUS(cordon_memory_write(m, PAGE - 32, src, 64), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_fill(m, PAGE - 32, 0xFF, 33), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_copy(m, PAGE - 32, 0, 33), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_store_u64(m, PAGE - 4, 0, UINT64_MAX), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_store_u32(m, 8, UINT64_MAX - 4, UINT32_MAX), CORDON_OUT_OF_BOUNDS);
    for (uint64_t i = 0; i < PAGE; i++) {
        CHECK(b[i] == 0);
    }
    uint8_t dst[64];
    memset(dst, 0x5A, sizeof dst);
    CHECK_STATUS(cordon_memory_read(m, PAGE - 32, dst, 64), CORDON_OUT_OF_BOUNDS);
    uint64_t v = 0x5A5A;
    CHECK_STATUS(cordon_memory_load_u64(m, PAGE - 7, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_EQ_U64(v, 0x5A5A);
    for (size_t i = 0; i < sizeof dst; i++) {
        CHECK(dst[i] == 0x5A);
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(typed_access_offset_overflow_is_out_of_bounds) {
    cordon_memory m = create(1, 1, true);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, PAGE - 8, 4, &v));
    CHECK_STATUS(cordon_memory_load_u32(m, PAGE - 8, 5, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_load_u32(m, 1, UINT64_MAX, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_load_u32(m, UINT64_MAX, 1, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_load_u32(m, UINT64_MAX - 3, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_load_u32(m, 0, UINT64_MAX - 3, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_load_u32(m, 0, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(errors_combine_in_the_documented_order) {
    /* handle (STALE), then NULL or invalid arguments (INVALID_ARGUMENT), then alignment (MISALIGNED),
     * then bounds (OUT_OF_BOUNDS), whatever else is wrong at the same time */
    cordon_memory m = create(1, 1, true);
    uint64_t v = 0;
    uint8_t buf[4] = {0};
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE, 0, 4, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE + 2, 0, 4, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE + 1, 0, 3, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE + 2, 0, 4, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_load(m, UINT64_MAX, 0, 8, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_store(m, PAGE + 1, 0, 16, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_store(m, PAGE + 1, 0, 2, 0), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 1, 0, 4, (cordon_memory_rmw_op)99, 1, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, PAGE + 1, 0, 4, (cordon_memory_rmw_op)99, 1, &v),
                 CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, PAGE + 1, 0, 4, CORDON_MEMORY_RMW_ADD, 1, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_cmpxchg(m, PAGE + 1, 0, 5, 0, 0, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_cmpxchg(m, PAGE + 1, 0, 2, 0, 0, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_load_u32(m, PAGE, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_load_u64(m, UINT64_MAX, 1, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_load_f64(m, PAGE, 0, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_read(m, PAGE, NULL, 4), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_write(m, PAGE, NULL, 4), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_read(m, UINT64_MAX, NULL, UINT64_MAX), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_read(m, PAGE + 1, NULL, 0), CORDON_OUT_OF_BOUNDS); /* NULL fine at len 0 */
    CHECK_STATUS(cordon_memory_read(m, PAGE, buf, 4), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_destroy(m));
    /* a stale handle wins over everything */
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE + 2, 0, 3, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 1, 0, 4, (cordon_memory_rmw_op)99, 1, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_load_u32(m, PAGE, 0, NULL), CORDON_STALE);
    CHECK_STATUS(cordon_memory_read(m, PAGE, NULL, 4), CORDON_STALE);
}

/* ---- bulk operations -------------------------------------------------------------------------------- */

TEST(copy_within_handles_overlap_both_ways) {
    cordon_memory m = create(1, 1, true);
    uint8_t seq[100];
    for (int i = 0; i < 100; i++) {
        seq[i] = (uint8_t)i;
    }
    CHECK_OK(cordon_memory_write(m, 0, seq, 100));
    CHECK_OK(cordon_memory_copy(m, 10, 0, 100)); /* forward overlap */
    uint8_t out[110];
    CHECK_OK(cordon_memory_read(m, 0, out, 110));
    for (int i = 0; i < 100; i++) {
        CHECK(out[10 + i] == i);
    }
    CHECK_OK(cordon_memory_copy(m, 5, 10, 100)); /* backward overlap */
    CHECK_OK(cordon_memory_read(m, 5, out, 100));
    for (int i = 0; i < 100; i++) {
        CHECK(out[i] == i);
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(copy_between_memories_checks_both_ranges_first) {
    cordon_memory a = create(1, 1, true);
    cordon_memory b = create(2, 2, true);
    CHECK_OK(cordon_memory_fill(a, 0, 0x11, PAGE));
    CHECK_OK(cordon_memory_copy_between(b, PAGE + 100, a, 50, 1000));
    uint8_t v = 0;
    CHECK_OK(cordon_memory_load_u8(b, PAGE + 100, 0, &v));
    CHECK_EQ_U64(v, 0x11);
    CHECK_OK(cordon_memory_load_u8(b, PAGE + 99, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_STATUS(cordon_memory_copy_between(b, 0, a, PAGE - 10, 11), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_copy_between(a, PAGE - 10, b, 0, 11), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_load_u8(b, 0, 0, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_copy_between(a, 0, a, 1, 100)); /* same memory: overlap-safe */
    CHECK_OK(cordon_memory_destroy(b));
    CHECK_STATUS(cordon_memory_copy_between(a, 0, b, 0, 1), CORDON_STALE);
    CHECK_STATUS(cordon_memory_copy_between(b, 0, a, 0, 1), CORDON_STALE);
    CHECK_OK(cordon_memory_destroy(a));
}

/* ---- typed access ------------------------------------------------------------------------------------ */

TEST(typed_stores_are_little_endian) {
    cordon_memory m = create(1, 1, true);
    CHECK_OK(cordon_memory_store_u16(m, 0, 0, 0xA1B2));
    CHECK_OK(cordon_memory_store_u32(m, 3, 0, 0x11223344u));
    CHECK_OK(cordon_memory_store_u64(m, 9, 0, 0x0102030405060708ull));
    uint8_t b[17];
    CHECK_OK(cordon_memory_read(m, 0, b, sizeof b));
    uint8_t want[17] = {0xB2, 0xA1, 0, 0x44, 0x33, 0x22, 0x11, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1};
    CHECK(memcmp(b, want, sizeof b) == 0);
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    uint64_t v64 = 0;
    CHECK_OK(cordon_memory_load_u16(m, 0, 0, &v16));
    CHECK_OK(cordon_memory_load_u32(m, 0, 3, &v32));
    CHECK_OK(cordon_memory_load_u64(m, 4, 5, &v64));
    CHECK_EQ_U64(v16, 0xA1B2);
    CHECK_EQ_U64(v32, 0x11223344u);
    CHECK_EQ_U64(v64, 0x0102030405060708ull);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(float_and_double_round_trip_bit_exactly) {
    cordon_memory m = create(1, 1, true);
    CHECK_OK(cordon_memory_store_f32(m, 1, 0, -1.5f));
    CHECK_OK(cordon_memory_store_f64(m, 13, 0, 3.141592653589793));
    uint32_t bits = 0;
    CHECK_OK(cordon_memory_load_u32(m, 1, 0, &bits));
    CHECK_EQ_U64(bits, 0xBFC00000u);
    float f = 0;
    double d = 0;
    CHECK_OK(cordon_memory_load_f32(m, 0, 1, &f));
    CHECK_OK(cordon_memory_load_f64(m, 13, 0, &d));
    CHECK(f == -1.5f);
    CHECK(d == 3.141592653589793);
    CHECK_STATUS(cordon_memory_store_f64(m, PAGE - 7, 0, 1.0), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- atomics --------------------------------------------------------------------------------------------- */

TEST(atomics_require_natural_alignment_and_a_valid_width) {
    cordon_memory m = create(1, 1, true);
    uint64_t v = 0;
    CHECK_STATUS(cordon_memory_atomic_load(m, 2, 0, 4, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_store(m, 4, 0, 8, 1), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 1, 0, 2, CORDON_MEMORY_RMW_ADD, 1, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_cmpxchg(m, 7, 0, 8, 0, 1, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_load(m, 0, 0, 3, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_load(m, 0, 0, 16, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 0, 0, 4, (cordon_memory_rmw_op)9, 1, &v), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_memory_atomic_load(m, PAGE, 0, 4, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_load(m, UINT64_MAX - 7, 0, 8, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_atomic_load(m, PAGE - 8, 0, 8, &v));
    CHECK_OK(cordon_memory_atomic_load(m, PAGE - 1, 0, 1, &v));
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(atomic_rmw_ops_return_the_old_value_and_wrap_at_the_width) {
    cordon_memory m = create(1, 1, true);
    uint64_t old = 0, v = 0;
    CHECK_OK(cordon_memory_atomic_store(m, 8, 0, 4, 0x1FFFFFFFFull)); /* truncated to 32 bits */
    CHECK_OK(cordon_memory_atomic_load(m, 8, 0, 4, &v));
    CHECK_EQ_U64(v, 0xFFFFFFFFu);
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_ADD, 2, &old));
    CHECK_EQ_U64(old, 0xFFFFFFFFu);
    CHECK_OK(cordon_memory_atomic_load(m, 8, 0, 4, &v));
    CHECK_EQ_U64(v, 1);
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_SUB, 3, &old));
    CHECK_OK(cordon_memory_atomic_load(m, 8, 0, 4, &v));
    CHECK_EQ_U64(v, 0xFFFFFFFEu);
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_AND, 0xF0F0, &old));
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_OR, 0x1, &old));
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_XOR, 0xFF, &old));
    CHECK_EQ_U64(old, 0xF0F1);
    CHECK_OK(cordon_memory_atomic_rmw(m, 8, 0, 4, CORDON_MEMORY_RMW_XCHG, 7, &old));
    CHECK_EQ_U64(old, 0xF00E);
    CHECK_OK(cordon_memory_atomic_rmw(m, 1, 0, 1, CORDON_MEMORY_RMW_ADD, 0x1FF, &old));
    CHECK_OK(cordon_memory_atomic_load(m, 1, 0, 1, &v));
    CHECK_EQ_U64(v, 0xFF);
    CHECK_OK(cordon_memory_atomic_rmw(m, 16, 0, 8, CORDON_MEMORY_RMW_SUB, 1, &old));
    CHECK_OK(cordon_memory_atomic_load(m, 16, 0, 8, &v));
    CHECK_EQ_U64(v, UINT64_MAX);
    CHECK_OK(cordon_memory_atomic_rmw(m, 2, 0, 2, CORDON_MEMORY_RMW_XCHG, 0xBEEF, NULL));
    uint16_t v16 = 0;
    CHECK_OK(cordon_memory_load_u16(m, 2, 0, &v16));
    CHECK_EQ_U64(v16, 0xBEEF);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(atomic_cmpxchg_stores_only_on_match) {
    cordon_memory m = create(1, 1, true);
    uint64_t old = 0, v = 0;
    CHECK_OK(cordon_memory_atomic_store(m, 0, 0, 8, 5));
    CHECK_OK(cordon_memory_atomic_cmpxchg(m, 0, 0, 8, 4, 9, &old));
    CHECK_EQ_U64(old, 5);
    CHECK_OK(cordon_memory_atomic_load(m, 0, 0, 8, &v));
    CHECK_EQ_U64(v, 5);
    CHECK_OK(cordon_memory_atomic_cmpxchg(m, 0, 0, 8, 5, 9, &old));
    CHECK_EQ_U64(old, 5);
    CHECK_OK(cordon_memory_atomic_load(m, 0, 0, 8, &v));
    CHECK_EQ_U64(v, 9);
    /* Narrow: expected is truncated to the width before comparing. */
    CHECK_OK(cordon_memory_atomic_store(m, 12, 0, 2, 0x1234));
    CHECK_OK(cordon_memory_atomic_cmpxchg(m, 12, 0, 2, 0xFF1234, 0x5678, &old));
    CHECK_EQ_U64(old, 0x1234);
    CHECK_OK(cordon_memory_atomic_load(m, 12, 0, 2, &v));
    CHECK_EQ_U64(v, 0x5678);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(atomics_take_a_memarg_offset_and_trap_when_it_overflows) {
    cordon_memory m = create(1, 1, true);
    uint64_t v = 0, old = 0;
    CHECK_OK(cordon_memory_atomic_store(m, 8, 8, 8, 0x1122334455667788ull)); /* the word at 16 */
    CHECK_OK(cordon_memory_atomic_load(m, 16, 0, 8, &v));
    CHECK_EQ_U64(v, 0x1122334455667788ull);
    CHECK_OK(cordon_memory_atomic_load(m, 0, 16, 8, &v));
    CHECK_EQ_U64(v, 0x1122334455667788ull);
    CHECK_OK(cordon_memory_atomic_rmw(m, 1, 15, 8, CORDON_MEMORY_RMW_ADD, 1, &old)); /* 1 + 15: aligned */
    CHECK_EQ_U64(old, 0x1122334455667788ull);
    CHECK_OK(cordon_memory_atomic_cmpxchg(m, 12, 4, 8, 0x1122334455667789ull, 7, &old));
    CHECK_OK(cordon_memory_atomic_load(m, 16, 0, 8, &v));
    CHECK_EQ_U64(v, 7);
    /* the alignment is that of the effective address */
    CHECK_STATUS(cordon_memory_atomic_load(m, 16, 2, 4, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_store(m, 3, 0, 4, 1), CORDON_MISALIGNED);
    CHECK_OK(cordon_memory_atomic_store(m, 3, 1, 4, 1));
    /* the end of the memory through the offset */
    CHECK_OK(cordon_memory_atomic_load(m, 0, PAGE - 8, 8, &v));
    CHECK_STATUS(cordon_memory_atomic_load(m, 8, PAGE - 8, 8, &v), CORDON_OUT_OF_BOUNDS);
    /* addr + offset past 2^64 - 1: out of bounds, even when the wrapped sum lands in the memory */
    CHECK_STATUS(cordon_memory_atomic_load(m, 16, UINT64_MAX - 7, 8, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_store(m, UINT64_MAX - 7, 16, 8, 9), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 8, UINT64_MAX - 3, 4, CORDON_MEMORY_RMW_XCHG, 9, &old),
                 CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_memory_atomic_cmpxchg(m, UINT64_MAX, 1, 1, 0, 9, &old), CORDON_OUT_OF_BOUNDS);
    /* the true sum 2^64 + 1 is odd: misaligned comes before bounds, as for any atomic */
    CHECK_STATUS(cordon_memory_atomic_load(m, 2, UINT64_MAX, 4, &v), CORDON_MISALIGNED);
    CHECK_STATUS(cordon_memory_atomic_load(m, 2, UINT64_MAX, 3, &v), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_memory_atomic_load(m, 0, 0, 8, &v));
    CHECK_EQ_U64(v, 0x100000000ull); /* the store at 3 + 1 above; nothing else was written */
    CHECK_OK(cordon_memory_atomic_load(m, 8, 0, 8, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_atomic_load(m, 2, UINT64_MAX, 3, NULL), CORDON_STALE);
}

TEST(atomic_word_for_wait_needs_a_shared_memory) {
    cordon_memory plain = create(1, 1, true);
    cordon_memory_options o = {.initial_pages = 1, .maximum_pages = 2, .has_maximum = true, .shared = true};
    cordon_memory shared = {0};
    CHECK_OK(cordon_memory_create(&o, &shared));
    bool is_shared = false;
    CHECK_OK(cordon_memory_is_shared(shared, &is_shared));
    CHECK(is_shared);
    void *w = NULL;
    CHECK_STATUS(cordon__memory_atomic_word(plain, 0, 0, 4, true, &w), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon__memory_atomic_word(shared, 2, 0, 4, true, &w), CORDON_MISALIGNED);
    CHECK_STATUS(cordon__memory_atomic_word(shared, 4, 0, 8, true, &w), CORDON_MISALIGNED);
    CHECK_STATUS(cordon__memory_atomic_word(shared, PAGE, 0, 4, true, &w), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon__memory_atomic_word(shared, 0, 0, 2, true, &w), CORDON_INVALID_ARGUMENT);
    CHECK(w == NULL);
    CHECK_OK(cordon__memory_atomic_word(shared, PAGE - 8, 0, 8, true, &w));
    CHECK(w == base_of(shared) + PAGE - 8);
    CHECK_OK(cordon_memory_destroy(shared));
    CHECK_STATUS(cordon__memory_atomic_word(shared, 0, 0, 4, true, &w), CORDON_STALE);
    CHECK_OK(cordon_memory_destroy(plain));
}

/* ---- traps through the base pointer --------------------------------------------------------------------- */

TEST(access_past_the_size_through_the_base_pointer_traps) {
    cordon_memory m = create(1, 4, true);
    uint8_t *b = base_of(m);
    CHECK_EQ_I64(probe_write(b + PAGE - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + PAGE), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b - 1), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + 4 * PAGE), PROBE_SEGV); /* trailing guard */
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 1, &old));
    CHECK(base_of(m) == b); /* never moves */
    CHECK_EQ_I64(probe_write(b + 2 * PAGE - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + 2 * PAGE), PROBE_SEGV);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(bounds_check_free_memory_traps_for_any_32_bit_address_and_offset) {
    cordon_memory_options o = {.initial_pages = 1, .bounds_check_free = true};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    uint8_t *b = base_of(m);
    CHECK_EQ_I64(probe_write(b + PAGE), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + UINT32_MAX), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + (uint64_t)UINT32_MAX + UINT32_MAX), PROBE_SEGV);
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 65535, &old));
    CHECK_EQ_I64(probe_write(b + UINT32_MAX), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + (uint64_t)UINT32_MAX + 1), PROBE_SEGV);
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- lifetime ---------------------------------------------------------------------------------------------- */

TEST(double_destroy_and_use_after_destroy_are_stale) {
    cordon_memory m = create(1, 2, true);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_memory_destroy(m), CORDON_STALE);
    uint8_t buf[4] = {0};
    uint64_t v = 0;
    uint32_t v32 = 0;
    float f = 0;
    bool s = false;
    void *b = NULL;
    CHECK_STATUS(cordon_memory_grow(m, 1, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_size_pages(m, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_size_bytes(m, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_maximum_pages(m, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_is_shared(m, &s), CORDON_STALE);
    CHECK_STATUS(cordon_memory_base(m, &b), CORDON_STALE);
    CHECK_STATUS(cordon_memory_read(m, 0, buf, 4), CORDON_STALE);
    CHECK_STATUS(cordon_memory_write(m, 0, buf, 4), CORDON_STALE);
    CHECK_STATUS(cordon_memory_fill(m, 0, 1, 4), CORDON_STALE);
    CHECK_STATUS(cordon_memory_copy(m, 0, 4, 4), CORDON_STALE);
    CHECK_STATUS(cordon_memory_load_u32(m, 0, 0, &v32), CORDON_STALE);
    CHECK_STATUS(cordon_memory_load_f32(m, 0, 0, &f), CORDON_STALE);
    CHECK_STATUS(cordon_memory_store_u64(m, 0, 0, 1), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_load(m, 0, 0, 4, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_store(m, 0, 0, 4, 1), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_rmw(m, 0, 0, 4, CORDON_MEMORY_RMW_ADD, 1, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_atomic_cmpxchg(m, 0, 0, 4, 0, 1, &v), CORDON_STALE);
    CHECK(b == NULL && v == 0);
    CHECK_STATUS(cordon_memory_destroy((cordon_memory){0}), CORDON_STALE);
}

TEST(a_pages_handle_is_not_a_memory_handle) {
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = PAGE}, &p));
    cordon_memory as_memory = {p.handle};
    uint64_t v = 0;
    CHECK_STATUS(cordon_memory_size_bytes(as_memory, &v), CORDON_STALE);
    CHECK_STATUS(cordon_memory_destroy(as_memory), CORDON_STALE);
    cordon_memory m = create(1, 1, true);
    cordon_pages as_pages = {m.handle};
    CHECK_STATUS(cordon_pages_release(as_pages), CORDON_STALE);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_OK(cordon_pages_release(p));
}

TEST(thousand_create_grow_access_destroy_cycles_leave_nothing) {
    /* One cycle first: the thread's access record (and, under a sanitizer, its allocator's first
     * region for that size) is a one-time cost, not a per-cycle one. */
    cordon_memory warm = create(1, 1, true);
    CHECK_OK(cordon_memory_store_u32(warm, 0, 0, 1));
    CHECK_OK(cordon_memory_destroy(warm));
    uint64_t vm = vm_size_kib();
    for (int i = 0; i < 1000; i++) {
        cordon_memory m = create((uint64_t)(i % 3), 8, true);
        uint64_t old = 0;
        CHECK_OK(cordon_memory_grow(m, 1 + (uint64_t)(i % 4), &old));
        CHECK_OK(cordon_memory_store_u32(m, old * PAGE, 0, (uint32_t)i));
        uint32_t v = 0;
        CHECK_OK(cordon_memory_load_u32(m, old * PAGE, 0, &v));
        CHECK_EQ_U64(v, (uint64_t)i);
        CHECK_OK(cordon_memory_fill(m, 0, (uint8_t)i, PAGE));
        CHECK_OK(cordon_memory_destroy(m));
        CHECK_STATUS(cordon_memory_destroy(m), CORDON_STALE);
    }
    CHECK(vm_size_kib() < vm + 64 * 1024);
}

/* ---- concurrency ------------------------------------------------------------------------------------------ */

typedef struct race_ctx {
    cordon_memory m;
    _Atomic int done;
    _Atomic uint64_t bad;
} race_ctx;

static void *reader(void *arg) {
    race_ctx *c = arg;
    while (!c->done) {
        uint64_t size = 0;
        if (cordon_memory_size_bytes(c->m, &size) != CORDON_OK) {
            c->bad++;
            break;
        }
        /* Any address below a size once observed stays accessible: the memory never moves or shrinks. */
        uint64_t v = 0;
        if (cordon_memory_atomic_load(c->m, size - 8, 0, 8, &v) != CORDON_OK || v != 0) {
            c->bad++;
        }
        if (cordon_memory_atomic_rmw(c->m, 0, 0, 8, CORDON_MEMORY_RMW_ADD, 1, NULL) != CORDON_OK) {
            c->bad++;
        }
    }
    return NULL;
}

TEST(grow_concurrent_with_access_is_safe) {
    race_ctx c = {.m = create(1, 256, true)};
    CHECK_OK(cordon_memory_atomic_store(c.m, 0, 0, 8, 0));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, reader, &c) == 0);
    /* Start growing only once the reader runs, so the two overlap. */
    uint64_t seen = 0;
    while (seen == 0) {
        CHECK_OK(cordon_memory_atomic_load(c.m, 0, 0, 8, &seen));
    }
    /* The reader checks the last word of the size it observed, which stays 0 as pages are added. */
    for (int i = 0; i < 255; i++) {
        CHECK_OK(cordon_memory_grow(c.m, 1, NULL));
    }
    c.done = 1;
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_U64(c.bad, 0);
    CHECK_EQ_U64(size_pages(c.m), 256);
    uint64_t count = 0;
    CHECK_OK(cordon_memory_atomic_load(c.m, 0, 0, 8, &count));
    CHECK(count > 0);
    CHECK_OK(cordon_memory_destroy(c.m));
}

static void *grower(void *arg) {
    cordon_memory m = *(cordon_memory *)arg;
    for (int i = 0; i < 100; i++) {
        if (cordon_memory_grow(m, 1, NULL) != CORDON_OK) {
            return arg;
        }
    }
    return NULL;
}

TEST(concurrent_grows_serialise) {
    cordon_memory m = create(0, 400, true);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&th[i], NULL, grower, &m) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r = &m;
        CHECK(pthread_join(th[i], &r) == 0);
        CHECK(r == NULL);
    }
    CHECK_EQ_U64(size_pages(m), 400);
    CHECK_OK(cordon_memory_store_u8(m, 400 * PAGE - 1, 0, 1));
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- OS failures (fault injection) ------------------------------------------------------------------------ */

TEST(create_fails_cleanly_when_any_os_call_fails) {
    require_fault_injection();
    cordon__sys_call calls[] = {CORDON__CALL_MALLOC, CORDON__CALL_MMAP, CORDON__CALL_MPROTECT};
    int errs[] = {ENOMEM, EINVAL};
    for (size_t c = 0; c < 3; c++) {
        for (size_t e = 0; e < 2; e++) {
            uint64_t vm = vm_size_kib();
            cordon_memory m = {77};
            cordon__fault_reset();
            CHECK_OK(cordon__fault_arm(calls[c], 1, 1, errs[e]));
            cordon_status st = cordon_memory_create(&(cordon_memory_options){.initial_pages = 1}, &m);
            CHECK_MSG(st == (errs[e] == ENOMEM ? CORDON_OUT_OF_MEMORY : CORDON_OS_ERROR), "call %s: %s",
                      cordon__sys_call_name(calls[c]), cordon_status_name(st));
            CHECK_EQ_U64(m.handle, 77);
            /* every mapping made was unmapped */
            CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP) - cordon__fault_fired(CORDON__CALL_MMAP),
                         cordon__fault_calls(CORDON__CALL_MUNMAP));
            CHECK(vm_size_kib() < vm + 1024 * 1024);
            cordon__fault_stop();
        }
    }
    /* EINTR anywhere is retried: creation succeeds. */
    for (size_t c = 1; c < 3; c++) {
        cordon_memory m = {0};
        CHECK_OK(cordon__fault_arm(calls[c], 1, 1, EINTR));
        CHECK_OK(cordon_memory_create(&(cordon_memory_options){.initial_pages = 1}, &m));
        CHECK_EQ_U64(cordon__fault_fired(calls[c]), 1);
        cordon__fault_stop();
        CHECK_OK(cordon_memory_destroy(m));
    }
}

TEST(a_refused_default_reservation_falls_back_to_smaller_ones) {
    require_fault_injection();
    /* memory64 without a maximum: 64 GiB by default; the OS refusing it once gives 32 GiB */
    cordon_memory_options o = {.memory64 = true, .initial_pages = 1};
    cordon_memory m = {0};
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 1, ENOMEM));
    CHECK_OK(cordon_memory_create(&o, &m));
    cordon__fault_stop();
    uint64_t reserved = 0;
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    CHECK_EQ_U64(reserved, CORDON_MEMORY_DEFAULT_RESERVE_BYTES / 2);
    CHECK_OK(cordon_memory_destroy(m));
    /* refused every time: 64, 32, 16, 8, 4 GiB tried, then the failure; nothing stays mapped */
    uint64_t vm = vm_size_kib();
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 100, ENOMEM));
    m = (cordon_memory){0};
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MMAP), 5);
    cordon__fault_stop();
    CHECK_EQ_U64(m.handle, 0);
    CHECK(vm_size_kib() < vm + 1024 * 1024);
    /* an explicit reservation is taken or the create fails: no fallback */
    o.reserve_bytes = 8 * GIB;
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP), 1);
    cordon__fault_stop();
    CHECK_EQ_U64(m.handle, 0);
}

TEST(grow_past_the_reservation_fails_unchanged_and_the_memory_never_moves) {
    cordon_memory_options o = {.initial_pages = 1, .maximum_pages = 10, .has_maximum = true, .reserve_bytes = 3 * PAGE};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    uint8_t *b = base_of(m);
    uint64_t reserved = 0, max = 0, old = 0;
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    CHECK_OK(cordon_memory_maximum_pages(m, &max));
    CHECK_EQ_U64(reserved, 3 * PAGE);
    CHECK_EQ_U64(max, 10);
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 0xABCDu));
    CHECK_OK(cordon_memory_grow(m, 2, &old));
    old = 77;
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_OUT_OF_MEMORY);
    CHECK_STATUS(cordon_memory_grow(m, 7, &old), CORDON_OUT_OF_MEMORY);
    CHECK_STATUS(cordon_memory_grow(m, 8, &old), CORDON_LIMIT_EXCEEDED); /* past the maximum first */
    CHECK_EQ_U64(old, 77);
    CHECK_EQ_U64(size_pages(m), 3);
    CHECK(base_of(m) == b);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, 0, 0, &v));
    CHECK_EQ_U64(v, 0xABCDu);
    CHECK_EQ_I64(probe_write(b + 3 * PAGE), PROBE_SEGV); /* the trailing guard */
    /* a reservation above the maximum is lowered to it; one below a page is rounded up to the OS page */
    cordon_memory n = {0};
    o = (cordon_memory_options){.maximum_pages = 2, .has_maximum = true, .reserve_bytes = 100 * PAGE};
    CHECK_OK(cordon_memory_create(&o, &n));
    CHECK_OK(cordon_memory_reserved_bytes(n, &reserved));
    CHECK_EQ_U64(reserved, 2 * PAGE);
    CHECK_OK(cordon_memory_destroy(n));
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(grow_failure_leaves_size_and_contents_unchanged) {
    require_fault_injection();
    cordon_memory m = create(1, 4, true);
    CHECK_OK(cordon_memory_fill(m, 0, 0x6B, PAGE));
    int errs[] = {ENOMEM, EINVAL};
    cordon_status want[] = {CORDON_OUT_OF_MEMORY, CORDON_OS_ERROR};
    for (int i = 0; i < 2; i++) {
        uint64_t old = 31;
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK_STATUS(cordon_memory_grow(m, 2, &old), want[i]);
        cordon__fault_stop();
        cordon_os_error e = cordon_last_os_error();
        CHECK(strcmp(e.call, "mprotect") == 0 && e.code == errs[i]);
        CHECK_EQ_U64(old, 31);
        CHECK_EQ_U64(size_pages(m), 1);
        CHECK_STATUS(cordon_memory_store_u8(m, PAGE, 0, 1), CORDON_OUT_OF_BOUNDS);
        CHECK_EQ_I64(probe_write(base_of(m) + PAGE), PROBE_SEGV);
        uint8_t v = 0;
        CHECK_OK(cordon_memory_load_u8(m, PAGE - 1, 0, &v));
        CHECK_EQ_U64(v, 0x6B);
    }
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, EINTR));
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 2, &old));
    cordon__fault_stop();
    CHECK_EQ_U64(old, 1);
    CHECK_EQ_U64(size_pages(m), 3);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(grow_whose_rollback_fails_refuses_further_grows) {
    require_fault_injection();
    cordon_memory m = create(1, 4, true);
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 0xC0DEu));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 2, ENOMEM)); /* the grow and its undo */
    uint64_t old = 9;
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    cordon_os_error e = cordon_last_os_error();
    CHECK(strcmp(e.call, "mprotect") == 0 && e.code == ENOMEM);
    CHECK_EQ_U64(old, 9);
    CHECK_EQ_U64(size_pages(m), 1);
    /* the pages past the size may be accessible now: never grow over them silently */
    CHECK_STATUS(cordon_memory_grow(m, 1, &old), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_memory_grow(m, 0, &old), CORDON_WRONG_STATE);
    CHECK_EQ_U64(size_pages(m), 1);
    uint32_t v = 0;
    CHECK_OK(cordon_memory_load_u32(m, 0, 0, &v)); /* usable up to its size */
    CHECK_EQ_U64(v, 0xC0DEu);
    CHECK_STATUS(cordon_memory_store_u8(m, PAGE, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(destroy_failure_keeps_the_memory_usable) {
    require_fault_injection();
    cordon_memory m = create(1, 1, true);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINVAL));
    CHECK_STATUS(cordon_memory_destroy(m), CORDON_OS_ERROR);
    cordon__fault_stop();
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 5));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINTR));
    CHECK_OK(cordon_memory_destroy(m));
    cordon__fault_stop();
    CHECK_STATUS(cordon_memory_destroy(m), CORDON_STALE);
}

TEST(every_os_call_failing_at_every_point_of_a_lifecycle_is_clean) {
    require_fault_injection();
    /* create (alloc, mmap, mprotect, prctl, madvise) → grow → destroy, with the nth call of each kind
     * failing, for each n until the lifecycle runs clean. Every step either succeeds or fails with a
     * status and leaves a consistent memory; nothing stays mapped. */
    cordon__sys_call calls[] = {CORDON__CALL_MALLOC, CORDON__CALL_MMAP, CORDON__CALL_MPROTECT,
                                CORDON__CALL_MADVISE, CORDON__CALL_MUNMAP, CORDON__CALL_PRCTL};
    int errs[] = {ENOMEM, EINVAL, EINTR};
    uint64_t vm = vm_size_kib();
    int injected = 0;
    for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++) {
        for (size_t e = 0; e < 3; e++) {
            for (uint64_t nth = 1; nth < 10; nth++) {
                cordon__fault_reset();
                CHECK_OK(cordon__fault_arm(calls[c], nth, 1, errs[e]));
                cordon_memory m = {0};
                cordon_memory_options o = {.initial_pages = 1, .maximum_pages = 8, .has_maximum = true,
                                           .huge_pages = true, .name = "sweep"};
                cordon_status st = cordon_memory_create(&o, &m);
                if (st == CORDON_OK) {
                    uint64_t before = size_pages(m);
                    st = cordon_memory_grow(m, 2, NULL);
                    CHECK_EQ_U64(size_pages(m), st == CORDON_OK ? before + 2 : before);
                    CHECK_OK(cordon_memory_store_u8(m, size_bytes(m) - 1, 0, 1));
                    st = cordon_memory_destroy(m);
                    if (st != CORDON_OK) {
                        CHECK_OK(cordon_memory_store_u8(m, 0, 0, 1)); /* still usable */
                        cordon__fault_stop();
                        CHECK_OK(cordon_memory_destroy(m));
                    }
                } else {
                    CHECK_EQ_U64(m.handle, 0);
                    CHECK(errs[e] != EINTR || calls[c] == CORDON__CALL_MALLOC);
                }
                uint64_t fired = cordon__fault_fired(calls[c]);
                injected += (int)fired;
                cordon__fault_stop();
                if (fired == 0) {
                    break; /* the lifecycle makes fewer than nth calls of this kind */
                }
            }
        }
    }
#if defined(_WIN32)
    /* Windows has no huge-page hint (madvise) and no mapping names (prctl): four kinds of call fail. */
    CHECK(injected >= 4 * 3);
#else
    CHECK(injected >= 6 * 3);
#endif
    CHECK(vm_size_kib() < vm + 1024 * 1024);
}
