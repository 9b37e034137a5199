/* SPDX-License-Identifier: Apache-2.0 */
/* Nothing assumes 4 KiB pages: reservations, guards, commit, grow, protect, decommit and WebAssembly
 * memories (64 KiB pages and 1-byte pages, the embedder prefix) run with 4, 16 and 64 KiB OS pages.
 * This machine (and qemu-user) has one page size, so the others are injected through the src/sys/
 * contract (cordon__fault_page_size): cordon__sys_page_size reports the injected size and reservations
 * are aligned to it, as an OS with that page would align them. 64 KiB WebAssembly pages over 16 KiB
 * OS pages is the Apple Silicon case. Each test injects first, before anything asks for the page size
 * (the memory module caches it); every test runs in its own process. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "probe.h"
#include "sys/fault.h"

#define KIB (UINT64_C(1) << 10)
#define WASM_PAGE UINT64_C(65536)

static size_t real_os_page(void) {
#if defined(_WIN32)
    SYSTEM_INFO si; /* <windows.h> comes with probe.h */
    GetSystemInfo(&si);
    long v = (long)si.dwPageSize;
#else
    long v = sysconf(_SC_PAGESIZE);
#endif
    CHECK(v > 0);
    return (size_t)v;
}

/* Makes `page` the OS page size of this process, or skips when it cannot be. */
static void inject(uint64_t page) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION: the page size cannot be injected");
    }
    size_t real = real_os_page();
    if (page < real) {
        static char reason[128];
        snprintf(reason, sizeof reason, "the OS page is %zu bytes: a smaller page (%llu) cannot be injected", real,
                 (unsigned long long)page);
        SKIP(reason);
    }
    CHECK_OK(cordon__fault_page_size((size_t)page));
    uint64_t got = 0;
    CHECK_OK(cordon_pages_os_page_size(&got));
    CHECK_EQ_U64(got, page);
    cordon_system_info info;
    CHECK_OK(cordon_system_info_get(&info));
    CHECK_EQ_U64(info.page_size, page);
}

static cordon_pages_access access_of(const volatile uint8_t *a) {
    if (probe_read((void *)(uintptr_t)a) != PROBE_OK) {
        return CORDON_PAGES_NONE;
    }
    return probe_write((void *)(uintptr_t)a) == PROBE_OK ? CORDON_PAGES_READ_WRITE : CORDON_PAGES_READ;
}

#define CHECK_ACCESS(addr, want)                                                                  \
    do {                                                                                          \
        cordon_pages_access got_ = access_of(addr);                                               \
        CHECK_MSG(got_ == (want), "access of %s is %d, want %d", #addr, (int)got_, (int)(want));   \
    } while (0)

/* ---- page reservations ------------------------------------------------------------------------ */

static void reservation_follows_the_page(uint64_t pg) {
    inject(pg);
    cordon_pages_options o = {.reserve_bytes = 8 * pg, .commit_bytes = pg, .guard_before_bytes = pg,
                              .guard_after_bytes = pg};
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    uint8_t *b = (uint8_t *)info.base;
    CHECK_EQ_U64((uintptr_t)b % pg, 0);
    CHECK_EQ_U64(info.os_page_size, pg);
    CHECK_EQ_U64(info.committed_bytes, pg);
    CHECK_ACCESS(b - pg, CORDON_PAGES_NONE); /* leading guard */
    CHECK_ACCESS(b - 1, CORDON_PAGES_NONE);
    CHECK_ACCESS(b, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + pg - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + pg, CORDON_PAGES_NONE);
    uint64_t old = 0;
    CHECK_OK(cordon_pages_grow(p, pg, &old));
    CHECK_EQ_U64(old, pg);
    CHECK_ACCESS(b + 2 * pg - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + 2 * pg, CORDON_PAGES_NONE);
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_READ));
    CHECK_ACCESS(b + pg - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + pg, CORDON_PAGES_READ);
    CHECK_ACCESS(b + 2 * pg - 1, CORDON_PAGES_READ);
    CHECK_OK(cordon_pages_decommit(p, pg));
    CHECK_ACCESS(b + pg, CORDON_PAGES_NONE);
    CHECK_ACCESS(b, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + 8 * pg, CORDON_PAGES_NONE); /* trailing guard */
    CHECK_ACCESS(b + 9 * pg - 1, CORDON_PAGES_NONE);
    CHECK_OK(cordon_pages_release(p));
}

TEST(reservation_aligns_guards_commits_and_protects_in_4_kib_pages) {
    reservation_follows_the_page(4 * KIB);
}

TEST(reservation_aligns_guards_commits_and_protects_in_16_kib_pages) {
    reservation_follows_the_page(16 * KIB);
}

TEST(reservation_aligns_guards_commits_and_protects_in_64_kib_pages) {
    reservation_follows_the_page(64 * KIB);
}

/* Half a page: aligned for a smaller OS page, refused for this one, and nothing changes. */
static void half_pages_are_refused(uint64_t pg) {
    inject(pg);
    uint64_t half = pg / 2;
    cordon_pages p = {0};
    cordon_pages_options o = {.reserve_bytes = 8 * pg + half};
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o = (cordon_pages_options){.reserve_bytes = 8 * pg, .guard_before_bytes = half};
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    /* The *_pages unit must be a multiple of the OS page. */
    o = (cordon_pages_options){.reserve_bytes = 8 * pg, .page_size = half};
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o = (cordon_pages_options){.reserve_bytes = 8 * pg, .commit_bytes = pg};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    uint64_t old = 0;
    CHECK_STATUS(cordon_pages_commit(p, pg + half), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_grow(p, half, &old), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_protect(p, half, pg, CORDON_PAGES_READ), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_protect(p, 0, half, CORDON_PAGES_READ), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_discard(p, 0, half), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_decommit(p, half), CORDON_INVALID_ARGUMENT);
    uint64_t c = 0;
    CHECK_OK(cordon_pages_committed(p, &c));
    CHECK_EQ_U64(c, pg);
    void *b = NULL;
    CHECK_OK(cordon_pages_base(p, &b));
    CHECK_ACCESS((uint8_t *)b + pg - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS((uint8_t *)b + pg, CORDON_PAGES_NONE);
    CHECK_OK(cordon_pages_release(p));
}

TEST(half_page_sizes_and_offsets_are_refused_with_4_kib_pages) {
    half_pages_are_refused(4 * KIB);
}

TEST(half_page_sizes_and_offsets_are_refused_with_16_kib_pages) {
    half_pages_are_refused(16 * KIB);
}

TEST(half_page_sizes_and_offsets_are_refused_with_64_kib_pages) {
    half_pages_are_refused(64 * KIB);
}

TEST(an_injected_page_smaller_than_the_os_page_or_not_a_power_of_two_is_refused) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION: the page size cannot be injected");
    }
    size_t real = real_os_page();
    CHECK_STATUS(cordon__fault_page_size(real / 2), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__fault_page_size(3 * real), CORDON_INVALID_ARGUMENT);
    uint64_t got = 0;
    CHECK_OK(cordon_pages_os_page_size(&got));
    CHECK_EQ_U64(got, real); /* a refused injection changes nothing */
}

/* ---- WebAssembly memories ------------------------------------------------------------------- */

static uint8_t *memory_base(cordon_memory m) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    return (uint8_t *)b;
}

/* 64 KiB WebAssembly pages: one Wasm page is 64 KiB / pg OS pages, committed whole and no more. */
static void wasm_pages_over(uint64_t pg) {
    inject(pg);
    cordon_memory_options o = {.initial_pages = 1, .maximum_pages = 4, .has_maximum = true};
    cordon_memory m;
    CHECK_OK(cordon_memory_create(&o, &m));
    uint8_t *b = memory_base(m);
    CHECK_EQ_U64((uintptr_t)b % pg, 0);
    uint64_t reserved = 0;
    CHECK_OK(cordon_memory_reserved_bytes(m, &reserved));
    CHECK_EQ_U64(reserved % pg, 0);
    CHECK_OK(cordon_memory_store_u8(m, WASM_PAGE - 1, 0, 7));
    CHECK_STATUS(cordon_memory_store_u8(m, WASM_PAGE, 0, 7), CORDON_OUT_OF_BOUNDS);
    CHECK_ACCESS(b - 1, CORDON_PAGES_NONE);
    CHECK_ACCESS(b + WASM_PAGE - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + WASM_PAGE, CORDON_PAGES_NONE);
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, 1, &old));
    CHECK_EQ_U64(old, 1);
    CHECK_OK(cordon_memory_store_u8(m, 2 * WASM_PAGE - 1, 0, 9));
    uint8_t v = 0;
    CHECK_OK(cordon_memory_load_u8(m, WASM_PAGE - 1, 0, &v));
    CHECK_EQ_U64(v, 7);
    CHECK_STATUS(cordon_memory_load_u8(m, 2 * WASM_PAGE, 0, &v), CORDON_OUT_OF_BOUNDS);
    CHECK_ACCESS(b + 2 * WASM_PAGE - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + 2 * WASM_PAGE, CORDON_PAGES_NONE);
    CHECK_STATUS(cordon_memory_grow(m, 3, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_ACCESS(b + 2 * WASM_PAGE, CORDON_PAGES_NONE); /* a refused grow commits nothing */
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(wasm_memory_grows_in_64_kib_pages_over_4_kib_os_pages) {
    wasm_pages_over(4 * KIB);
}

TEST(wasm_memory_grows_in_64_kib_pages_over_16_kib_os_pages) {
    wasm_pages_over(16 * KIB);
}

TEST(wasm_memory_grows_in_64_kib_pages_over_64_kib_os_pages) {
    wasm_pages_over(64 * KIB);
}

/* 1-byte pages: the size is exact, the commit is whole OS pages, the prefix is one OS page at most. */
static void byte_pages_over(uint64_t pg) {
    inject(pg);
    cordon_memory_options o = {.initial_pages = 100, .maximum_pages = 4 * pg, .has_maximum = true,
                               .page_size = CORDON_MEMORY_BYTE_PAGE_SIZE, .prefix_bytes = pg + 1};
    cordon_memory m;
    CHECK_STATUS(cordon_memory_create(&o, &m), CORDON_INVALID_ARGUMENT);
    o.prefix_bytes = pg;
    CHECK_OK(cordon_memory_create(&o, &m));
    uint8_t *b = memory_base(m);
    void *prefix = NULL;
    uint64_t prefix_len = 0;
    CHECK_OK(cordon_memory_prefix(m, &prefix, &prefix_len));
    CHECK(prefix == b - pg && prefix_len == pg);
    CHECK_ACCESS(b - pg, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b - pg - 1, CORDON_PAGES_NONE);
    CHECK_OK(cordon_memory_store_u8(m, 99, 0, 1));
    CHECK_STATUS(cordon_memory_store_u8(m, 100, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_ACCESS(b + pg - 1, CORDON_PAGES_READ_WRITE); /* the committed OS page, past the memory's size */
    CHECK_ACCESS(b + pg, CORDON_PAGES_NONE);
    uint64_t old = 0;
    CHECK_OK(cordon_memory_grow(m, pg, &old));
    CHECK_EQ_U64(old, 100);
    CHECK_OK(cordon_memory_store_u8(m, pg + 99, 0, 1));
    CHECK_STATUS(cordon_memory_store_u8(m, pg + 100, 0, 1), CORDON_OUT_OF_BOUNDS);
    CHECK_ACCESS(b + 2 * pg - 1, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + 2 * pg, CORDON_PAGES_NONE);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(byte_page_memory_commits_whole_4_kib_os_pages) {
    byte_pages_over(4 * KIB);
}

TEST(byte_page_memory_commits_whole_16_kib_os_pages) {
    byte_pages_over(16 * KIB);
}

TEST(byte_page_memory_commits_whole_64_kib_os_pages) {
    byte_pages_over(64 * KIB);
}
