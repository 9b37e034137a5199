/* SPDX-License-Identifier: Apache-2.0 */
/* Page reservations: guards trap, commit/grow/decommit/discard/protect do exactly what they say,
 * sizes are 64-bit and overflow-checked, and every OS failure leaves the reservation as it was.
 * The same checks run on Windows: accesses are probed under a vectored exception handler and the OS's
 * view of the pages is read with VirtualQuery (probe.h); the Win32 side keeps the POSIX calls' fault
 * points (mmap, mprotect, madvise, munmap), so one injection drives the same path on both. */
#include <errno.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "memory/memory_internal.h"
#include "probe.h"
#include "sys/fault.h"
#include "sys/sys.h"

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static uint64_t os_page(void) {
    uint64_t p = 0;
    CHECK_OK(cordon_pages_os_page_size(&p));
    return p;
}

static cordon_pages reserve(uint64_t reserve_bytes, uint64_t commit_bytes, uint64_t guard) {
    cordon_pages_options o = {0};
    o.reserve_bytes = reserve_bytes;
    o.commit_bytes = commit_bytes;
    o.guard_before_bytes = guard;
    o.guard_after_bytes = guard;
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    return p;
}

static uint8_t *base_of(cordon_pages p) {
    void *b = NULL;
    CHECK_OK(cordon_pages_base(p, &b));
    return (uint8_t *)b;
}

static uint64_t committed(cordon_pages p) {
    uint64_t c = 0;
    CHECK_OK(cordon_pages_committed(p, &c));
    return c;
}

static bool degraded(cordon_pages p) {
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    return info.degraded;
}

/* The access of the byte at a, as a probe sees it (probe.h). */
static cordon_pages_access access_of(void *a) {
    if (probe_read(a) != PROBE_OK) {
        return CORDON_PAGES_NONE;
    }
    return probe_write(a) == PROBE_OK ? CORDON_PAGES_READ_WRITE : CORDON_PAGES_READ;
}

#define CHECK_ACCESS(addr, want)                                                                  \
    do {                                                                                          \
        cordon_pages_access got_ = access_of(addr);                                               \
        CHECK_MSG(got_ == (want), "access of %s is %d, want %d", #addr, (int)got_, (int)(want));   \
    } while (0)

_Static_assert(PROBE_ACCESS_NONE == CORDON_PAGES_NONE && PROBE_ACCESS_READ == CORDON_PAGES_READ &&
                   PROBE_ACCESS_READ_WRITE == CORDON_PAGES_READ_WRITE,
               "probe.h's access codes are cordon_pages_access's");

static void require_fault_injection(void) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
}

/* ---- basic shape ----------------------------------------------------------------------------- */

TEST(reserve_commits_the_prefix_and_reports_sizes) {
    cordon_pages p = reserve(16 * MIB, 128 * KIB, 64 * KIB);
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    CHECK_EQ_U64(info.reserved_bytes, 16 * MIB);
    CHECK_EQ_U64(info.committed_bytes, 128 * KIB);
    CHECK_EQ_U64(info.guard_before_bytes, 64 * KIB);
    CHECK_EQ_U64(info.guard_after_bytes, 64 * KIB);
    CHECK_EQ_U64(info.page_size, CORDON_WASM_PAGE_SIZE);
    CHECK_EQ_U64(info.os_page_size, probe_os_page_size());
    CHECK(info.base != NULL);
    CHECK_EQ_U64((uintptr_t)info.base % info.os_page_size, 0);
    uint8_t *b = info.base;
    for (uint64_t i = 0; i < 128 * KIB; i++) {
        CHECK(b[i] == 0);
    }
    memset(b, 0x77, 128 * KIB);
    CHECK_OK(cordon_pages_release(p));
}

TEST(reserve_rejects_invalid_options) {
    uint64_t pg = os_page();
    cordon_pages p = {0};
    cordon_pages_options o = {0};
    CHECK_STATUS(cordon_pages_reserve(NULL, &p), CORDON_INVALID_ARGUMENT);
    o.reserve_bytes = MIB;
    CHECK_STATUS(cordon_pages_reserve(&o, NULL), CORDON_INVALID_ARGUMENT);
    o.reserve_bytes = 0;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.reserve_bytes = MIB + 1;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.reserve_bytes = MIB;
    o.commit_bytes = 2 * MIB;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.commit_bytes = pg / 2;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.commit_bytes = 0;
    o.guard_before_bytes = 1;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.guard_before_bytes = 0;
    o.page_size = 3 * pg;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.page_size = pg / 2;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.page_size = 0;
    o.name = "bad]name";
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.name = "";
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    o.name = NULL;
    o.bounds_check_free_32 = true;
    o.reserve_bytes = 8 * GIB;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(p.handle, 0);
}

TEST(reserve_overflowing_64_bits_is_overflow) {
    uint64_t pg = os_page();
    cordon_pages p = {0};
    cordon_pages_options o = {0};
    o.reserve_bytes = UINT64_MAX - pg + 1; /* the largest page multiple */
    o.guard_before_bytes = pg;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_OVERFLOW);
    o.reserve_bytes = pg;
    o.guard_before_bytes = UINT64_MAX - pg + 1;
    o.guard_after_bytes = pg;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_OVERFLOW);
    CHECK_EQ_U64(p.handle, 0);
}

TEST(reserve_beyond_the_address_space_is_out_of_memory) {
    if (under_valgrind()) {
        SKIP("valgrind refuses huge mappings with EINVAL before the kernel sees them");
    }
    cordon_pages p = {0};
    cordon_pages_options o = {0};
    /* 2^62 bytes: representable (below PTRDIFF_MAX), beyond any x86-64 or arm64 address space. */
    o.reserve_bytes = UINT64_C(1) << 62;
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(p.handle, 0);
}

TEST(reserve_above_ptrdiff_max_is_overflow_before_any_system_call) {
    cordon_pages p = {0};
    cordon_pages_options o = {0};
    o.reserve_bytes = UINT64_C(1) << 63; /* fits 64 bits, not an object size */
    bool counting = cordon__fault_available();
    if (counting) {
        cordon__fault_reset();
    }
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_OVERFLOW);
    o.reserve_bytes = UINT64_C(1) << 62;
    o.guard_before_bytes = UINT64_C(1) << 62; /* sum is 2^63 */
    CHECK_STATUS(cordon_pages_reserve(&o, &p), CORDON_OVERFLOW);
    if (counting) {
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP), 0);
        cordon__fault_stop();
    }
    CHECK_EQ_U64(p.handle, 0);
}

/* ---- guards and committed size trap ------------------------------------------------------------ */

TEST(write_into_leading_guard_is_killed_by_sigsegv) {
    cordon_pages p = reserve(MIB, MIB, 64 * KIB);
    uint8_t *b = base_of(p);
    CHECK_EQ_I64(probe_write(b), PROBE_OK);
    CHECK_EQ_I64(probe_write(b - 1), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b - 64 * KIB), PROBE_SEGV);
    CHECK_EQ_I64(probe_read(b - 1), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

TEST(write_into_trailing_guard_is_killed_by_sigsegv) {
    cordon_pages p = reserve(MIB, MIB, 64 * KIB);
    uint8_t *b = base_of(p);
    CHECK_EQ_I64(probe_write(b + MIB - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + MIB), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + MIB + 64 * KIB - 1), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

TEST(write_past_the_committed_size_is_killed_by_sigsegv) {
    cordon_pages p = reserve(MIB, 64 * KIB, 0);
    uint8_t *b = base_of(p);
    CHECK_EQ_I64(probe_write(b + 64 * KIB - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + 64 * KIB), PROBE_SEGV);
    CHECK_EQ_I64(probe_read(b + MIB - 1), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

TEST(grow_makes_exactly_the_new_pages_accessible) {
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, 64 * KIB, pg);
    uint8_t *b = base_of(p);
    uint64_t old = 0;
    CHECK_OK(cordon_pages_grow(p, 3 * pg, &old));
    CHECK_EQ_U64(old, 64 * KIB);
    CHECK_EQ_U64(committed(p), 64 * KIB + 3 * pg);
    /* Every new page is readable (as zeros) and writable, and the first byte after is not. */
    for (uint64_t off = 64 * KIB; off < 64 * KIB + 3 * pg; off += pg) {
        CHECK(b[off] == 0 && b[off + pg - 1] == 0);
        b[off] = 1;
        b[off + pg - 1] = 2;
    }
    CHECK_EQ_I64(probe_write(b + 64 * KIB + 3 * pg), PROBE_SEGV);
    CHECK_EQ_I64(probe_read(b + 64 * KIB + 3 * pg), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + 64 * KIB + 3 * pg - 1), PROBE_OK);
    CHECK_OK(cordon_pages_release(p));
}

TEST(grow_pages_counts_in_the_chosen_page_size) {
    cordon_pages_options o = {0};
    o.reserve_bytes = 4 * MIB;
    o.page_size = 256 * KIB;
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    uint64_t old = 99;
    CHECK_OK(cordon_pages_grow_pages(p, 3, &old));
    CHECK_EQ_U64(old, 0);
    CHECK_OK(cordon_pages_grow_pages(p, 0, &old));
    CHECK_EQ_U64(old, 3);
    CHECK_EQ_U64(committed(p), 768 * KIB);
    CHECK_STATUS(cordon_pages_grow_pages(p, 14, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_pages_grow_pages(p, UINT64_MAX / 1024, &old), CORDON_OVERFLOW);
    CHECK_OK(cordon_pages_grow_pages(p, 13, &old));
    CHECK_EQ_U64(committed(p), 4 * MIB);
    CHECK_OK(cordon_pages_release(p));
}

TEST(grow_past_the_reservation_fails_and_changes_nothing) {
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB - pg, 64 * KIB);
    uint8_t *b = base_of(p);
    b[0] = 9;
    uint64_t old = 42;
    CHECK_STATUS(cordon_pages_grow(p, 2 * pg, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_STATUS(cordon_pages_grow(p, UINT64_MAX - pg + 1, &old), CORDON_OVERFLOW);
    CHECK_STATUS(cordon_pages_grow(p, 1, &old), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_pages_commit(p, 2 * MIB), CORDON_LIMIT_EXCEEDED);
    CHECK_EQ_U64(old, 42);
    CHECK_EQ_U64(committed(p), MIB - pg);
    CHECK(b[0] == 9);
    CHECK_EQ_I64(probe_write(b + MIB - pg), PROBE_SEGV);
    /* Exactly to the end works. */
    CHECK_OK(cordon_pages_grow(p, pg, &old));
    CHECK_EQ_U64(committed(p), MIB);
    CHECK_OK(cordon_pages_release(p));
}

TEST(grow_by_zero_succeeds_and_changes_nothing) {
    cordon_pages p = reserve(MIB, 64 * KIB, 0);
    uint64_t old = 0;
    CHECK_OK(cordon_pages_grow(p, 0, &old));
    CHECK_EQ_U64(old, 64 * KIB);
    CHECK_EQ_U64(committed(p), 64 * KIB);
    CHECK_OK(cordon_pages_commit(p, 0)); /* already at least that long */
    CHECK_EQ_U64(committed(p), 64 * KIB);
    CHECK_OK(cordon_pages_release(p));
}

TEST(sixty_five_thousand_five_hundred_thirty_six_wasm_pages_commit_whole) {
    cordon_pages p = reserve(65536 * (uint64_t)CORDON_WASM_PAGE_SIZE, 0, 64 * KIB);
    uint64_t old = 1;
    CHECK_OK(cordon_pages_grow_pages(p, 65535, &old));
    CHECK_EQ_U64(old, 0);
    CHECK_OK(cordon_pages_grow_pages(p, 1, &old));
    CHECK_EQ_U64(old, 65535);
    CHECK_EQ_U64(committed(p), 4 * GIB);
    uint8_t *b = base_of(p);
    b[0] = 1;
    b[4 * GIB - 1] = 2;
    CHECK(b[4 * GIB - 1] == 2);
    CHECK_STATUS(cordon_pages_grow_pages(p, 1, &old), CORDON_LIMIT_EXCEEDED);
    CHECK_EQ_I64(probe_write(b + 4 * GIB), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

TEST(reservations_larger_than_4_gib_work) {
    cordon_pages p = reserve(12 * GIB, 0, 0);
    CHECK_OK(cordon_pages_commit(p, 9 * GIB));
    CHECK_EQ_U64(committed(p), 9 * GIB);
    uint8_t *b = base_of(p);
    b[5 * GIB + 3] = 7;
    b[9 * GIB - 1] = 8;
    CHECK(b[5 * GIB + 3] == 7 && b[9 * GIB - 1] == 8);
    CHECK_EQ_I64(probe_write(b + 9 * GIB), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

/* ---- discard, decommit, protect ------------------------------------------------------------------ */

TEST(discard_returns_memory_and_reads_back_zeros) {
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    memset(b, 0xCC, MIB);
    CHECK_OK(cordon_pages_discard(p, pg, 2 * pg));
    for (uint64_t i = 0; i < 4 * pg; i++) {
        uint8_t want = (i >= pg && i < 3 * pg) ? 0 : 0xCC;
        CHECK_MSG(b[i] == want, "byte %" PRIu64 " is %u", i, b[i]);
    }
    b[pg] = 5; /* still accessible */
    CHECK(b[pg] == 5);
    CHECK_EQ_U64(committed(p), MIB);
    CHECK_OK(cordon_pages_discard(p, 0, 0));
    CHECK_STATUS(cordon_pages_discard(p, MIB - pg, 2 * pg), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_pages_discard(p, pg, UINT64_MAX - pg + 1), CORDON_OVERFLOW);
    CHECK_STATUS(cordon_pages_discard(p, 1, pg), CORDON_INVALID_ARGUMENT);
    CHECK(b[MIB - 1] == 0xCC);
    CHECK_OK(cordon_pages_release(p));
}

TEST(decommit_makes_the_tail_trap_and_recommit_reads_zeros) {
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    memset(b, 0xEE, MIB);
    CHECK_OK(cordon_pages_decommit(p, 256 * KIB));
    CHECK_EQ_U64(committed(p), 256 * KIB);
    CHECK(b[256 * KIB - 1] == 0xEE);
    CHECK_EQ_I64(probe_read(b + 256 * KIB), PROBE_SEGV);
    CHECK_OK(cordon_pages_decommit(p, MIB)); /* longer than committed: nothing */
    CHECK_EQ_U64(committed(p), 256 * KIB);
    CHECK_OK(cordon_pages_commit(p, MIB));
    for (uint64_t i = 256 * KIB; i < MIB; i++) {
        CHECK(b[i] == 0);
    }
    CHECK_OK(cordon_pages_release(p));
}

TEST(protect_read_only_lets_reads_through_and_traps_writes) {
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    b[pg] = 3;
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_READ));
    CHECK(b[pg] == 3);
    CHECK_EQ_I64(probe_read(b + pg), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + pg), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + 2 * pg), PROBE_OK);
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_NONE));
    CHECK_EQ_I64(probe_read(b + pg), PROBE_SEGV);
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_READ_WRITE));
    b[pg] = 4;
    CHECK(b[pg] == 4);
    CHECK_STATUS(cordon_pages_protect(p, 0, 2 * MIB, CORDON_PAGES_READ), CORDON_OUT_OF_BOUNDS);
    CHECK_STATUS(cordon_pages_protect(p, pg, UINT64_MAX - pg + 1, CORDON_PAGES_READ), CORDON_OVERFLOW);
    CHECK_STATUS(cordon_pages_protect(p, 0, pg, (cordon_pages_access)7), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_pages_release(p));
}

/* ---- naming, huge pages, bounds-check-free mode ---------------------------------------------------- */

TEST(reservation_is_named_in_proc_self_maps) {
    cordon_pages_options o = {0};
    o.reserve_bytes = MIB;
    o.commit_bytes = 64 * KIB;
    o.name = "heap-7";
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    if (!info.named) {
        CHECK_OK(cordon_pages_release(p));
#if defined(_WIN32)
        SKIP("Windows has no names for anonymous memory (nothing like /proc/self/maps' [anon:...]): the "
             "query says so");
#endif
        if (cordon_test_emulator() != NULL) {
            SKIP("qemu-user refuses prctl(PR_SET_VMA) (EINVAL) whatever the kernel supports: the query says so");
        }
        SKIP("kernel cannot name anonymous mappings (CONFIG_ANON_VMA_NAME off): the query says so");
    }
    CHECK(maps_line_covers(info.base, "[anon:cordon:heap-7]"));
    CHECK(maps_line_covers((uint8_t *)info.base + MIB - 1, "[anon:cordon:heap-7]"));
    CHECK_OK(cordon_pages_release(p));
}

TEST(the_name_given_to_the_os_is_cordon_colon_name) {
    /* Checked without kernel support: the name the reservation passed down to prctl. */
    cordon_pages_options o = {0};
    o.reserve_bytes = MIB;
    o.name = "heap-7";
    cordon_pages p = {0};
    bool counting = cordon__fault_available();
    if (counting) {
        cordon__fault_reset();
    }
    CHECK_OK(cordon_pages_reserve(&o, &p));
    if (counting) {
#if defined(_WIN32)
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_PRCTL), 0); /* Windows has no naming call */
#else
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_PRCTL), 1); /* the naming call was reached */
#endif
        cordon__fault_stop();
    }
    char name[96];
    CHECK_OK(cordon__pages_os_name(p, name, sizeof name));
    CHECK_MSG(strcmp(name, "cordon:heap-7") == 0, "name is \"%s\"", name);
    memset(name, 'x', sizeof name);
    CHECK_STATUS(cordon__pages_os_name(p, name, 13), CORDON_LIMIT_EXCEEDED); /* needs 14 */
    CHECK(name[0] == 'x');
    CHECK_STATUS(cordon__pages_os_name(p, NULL, 0), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_pages_release(p));
    CHECK_STATUS(cordon__pages_os_name(p, name, sizeof name), CORDON_STALE);

    o.name = NULL;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    CHECK_OK(cordon__pages_os_name(p, name, sizeof name));
    CHECK_MSG(strcmp(name, "cordon") == 0, "name is \"%s\"", name);
    CHECK_OK(cordon_pages_release(p));

    char longest[65];
    memset(longest, 'n', 64);
    longest[64] = '\0';
    o.name = longest;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    CHECK_OK(cordon__pages_os_name(p, name, sizeof name));
    CHECK(strncmp(name, "cordon:", 7) == 0 && strcmp(name + 7, longest) == 0);
    CHECK_OK(cordon_pages_release(p));
}

/* AnonHugePages (KiB) of the mapping that contains addr, from /proc/self/smaps; -1 when unknown. */
static long long anon_huge_kib(const void *addr) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        return -1;
    }
    char line[512];
    int inside = 0;
    long long kib = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long lo = 0, hi = 0;
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strstr(line, " kB") == NULL) {
            inside = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
            continue;
        }
        long long v = 0;
        if (inside && sscanf(line, "AnonHugePages: %lld kB", &v) == 1) {
            kib = v;
            break;
        }
    }
    fclose(f);
    return kib;
}

TEST(huge_page_hint_takes_where_the_os_has_huge_pages) {
    size_t huge = 0;
    char mode[16] = "";
    CHECK_OK(cordon__sys_huge_page_info(&huge, mode, sizeof mode));
    cordon_pages_options o = {0};
    o.reserve_bytes = 16 * MIB;
    o.commit_bytes = 16 * MIB;
    o.huge_pages = true;
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    bool thp_on = huge != 0 && (strcmp(mode, "always") == 0 || strcmp(mode, "madvise") == 0);
    if (thp_on) {
        CHECK(info.huge_pages); /* a kernel with THP enabled accepts MADV_HUGEPAGE */
    }
    /* In mode "never" the kernel may still accept the hint (THP is compiled in): either answer. */
    memset(info.base, 1, 16 * MIB);
    long long hp = thp_on ? anon_huge_kib(info.base) : -1;
    CHECK_OK(cordon_pages_release(p));
    o.huge_pages = false;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    CHECK_OK(cordon_pages_info_get(p, &info));
    CHECK(!info.huge_pages);
    CHECK_OK(cordon_pages_release(p));
#if defined(_WIN32)
    CHECK(!thp_on);
    SKIP("Windows has no huge-page hint over existing pages (large pages are a separate, privileged "
         "allocation): only the hint's status was checked");
#endif
    if (!thp_on) {
        SKIP("transparent huge pages off (mode is not always/madvise): only the hint's status was checked");
    }
    if (under_valgrind()) {
        SKIP("under valgrind the kernel's huge-page backing is not checked");
    }
    if (cordon_test_emulator() != NULL) {
        SKIP("qemu-user accepts MADV_HUGEPAGE without passing it to the kernel: the backing is not checked");
    }
    /* 16 MiB touched after MADV_HUGEPAGE contains whole aligned 2 MiB ranges: some are huge. */
    CHECK_MSG(hp > 0, "AnonHugePages of the hinted range is %lld kB (mode %s)", hp, mode);
}

TEST(bounds_check_free_mode_covers_every_32_bit_index_plus_offset) {
    cordon_pages_options o = {0};
    o.bounds_check_free_32 = true;
    o.commit_bytes = 64 * KIB;
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    CHECK_EQ_U64(info.reserved_bytes, 4 * GIB);
    CHECK(info.guard_after_bytes >= 4 * GIB + 64 * KIB);
    uint8_t *b = info.base;
    CHECK_EQ_I64(probe_write(b + 64 * KIB - 1), PROBE_OK);
    CHECK_EQ_I64(probe_write(b + 64 * KIB), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + UINT32_MAX), PROBE_SEGV);
    CHECK_EQ_I64(probe_write(b + (uint64_t)UINT32_MAX + UINT32_MAX), PROBE_SEGV);
    CHECK_EQ_I64(probe_read(b + (uint64_t)UINT32_MAX + UINT32_MAX + 7), PROBE_SEGV);
    CHECK_OK(cordon_pages_release(p));
}

/* ---- lifetime -------------------------------------------------------------------------------------- */

TEST(double_release_and_use_after_release_are_stale) {
    cordon_pages p = reserve(MIB, 64 * KIB, 64 * KIB);
    CHECK_OK(cordon_pages_release(p));
    CHECK_STATUS(cordon_pages_release(p), CORDON_STALE);
    uint64_t v = 0;
    void *b = NULL;
    cordon_pages_info info;
    CHECK_STATUS(cordon_pages_commit(p, MIB), CORDON_STALE);
    CHECK_STATUS(cordon_pages_grow(p, 64 * KIB, &v), CORDON_STALE);
    CHECK_STATUS(cordon_pages_grow_pages(p, 1, &v), CORDON_STALE);
    CHECK_STATUS(cordon_pages_decommit(p, 0), CORDON_STALE);
    CHECK_STATUS(cordon_pages_discard(p, 0, 64 * KIB), CORDON_STALE);
    CHECK_STATUS(cordon_pages_protect(p, 0, 64 * KIB, CORDON_PAGES_READ), CORDON_STALE);
    CHECK_STATUS(cordon_pages_base(p, &b), CORDON_STALE);
    CHECK_STATUS(cordon_pages_committed(p, &v), CORDON_STALE);
    CHECK_STATUS(cordon_pages_info_get(p, &info), CORDON_STALE);
    CHECK(b == NULL && v == 0);
    cordon_pages zero = {0};
    CHECK_STATUS(cordon_pages_release(zero), CORDON_STALE);
    /* A new reservation reusing the slot does not revive the old handle. */
    cordon_pages q = reserve(MIB, 0, 0);
    CHECK(q.handle != p.handle);
    CHECK_STATUS(cordon_pages_release(p), CORDON_STALE);
    CHECK_OK(cordon_pages_release(q));
}

/* ---- OS failures (fault injection) ------------------------------------------------------------------ */

TEST(reserve_mmap_failure_reports_and_maps_nothing) {
    require_fault_injection();
    int errs[] = {ENOMEM, EINVAL, EPERM};
    cordon_status want[] = {CORDON_OUT_OF_MEMORY, CORDON_OS_ERROR, CORDON_PERMISSION_DENIED};
    for (int i = 0; i < 3; i++) {
        cordon_pages p = {77};
        uint64_t vm = vm_size_kib();
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 1, errs[i]));
        CHECK_STATUS(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = GIB}, &p), want[i]);
        CHECK_EQ_U64(p.handle, 77);
        cordon_os_error e = cordon_last_os_error();
        CHECK(strcmp(e.call, "mmap") == 0 && e.code == errs[i]);
        CHECK(vm_size_kib() < vm + 256 * 1024);
        cordon__fault_stop();
    }
}

TEST(reserve_retries_eintr_transparently) {
    require_fault_injection();
    cordon_pages p = {0};
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MMAP, 1, 2, EINTR));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, EINTR));
    CHECK_OK(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = MIB, .commit_bytes = MIB}, &p));
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MMAP), 2);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MPROTECT), 1);
    cordon__fault_stop();
    base_of(p)[MIB - 1] = 1;
    CHECK_OK(cordon_pages_release(p));
}

TEST(reserve_commit_failure_unmaps_and_reports_mprotect) {
    require_fault_injection();
    uint64_t vm = vm_size_kib();
    cordon_pages p = {77};
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = 4 * GIB, .commit_bytes = MIB}, &p),
                 CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(p.handle, 77);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MUNMAP), 1);
    cordon_os_error e = cordon_last_os_error();
    CHECK(strcmp(e.call, "mprotect") == 0 && e.code == ENOMEM);
    CHECK(vm_size_kib() < vm + GIB / 1024);
    cordon__fault_stop();
}

TEST(reserve_allocation_failure_maps_nothing) {
    require_fault_injection();
    cordon_pages p = {77};
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = MIB}, &p), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(p.handle, 77);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP), 0);
    cordon__fault_stop();
}

TEST(naming_and_huge_hint_failures_are_best_effort) {
    require_fault_injection();
    int errs[] = {EINVAL, ENOMEM, EPERM};
    for (int i = 0; i < 3; i++) {
        cordon_pages p = {0};
        CHECK_OK(cordon__fault_arm(CORDON__CALL_PRCTL, 1, 1, errs[i]));
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, errs[i]));
        CHECK_OK(cordon_pages_reserve(
            &(cordon_pages_options){.reserve_bytes = 4 * MIB, .commit_bytes = MIB, .huge_pages = true}, &p));
#if defined(_WIN32)
        /* Windows has neither call (no names, no huge-page hint): nothing to fail, the same answer. */
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_PRCTL), 0);
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MADVISE), 0);
#else
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_PRCTL), 1);
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MADVISE), 1);
#endif
        cordon_pages_info info;
        CHECK_OK(cordon_pages_info_get(p, &info));
        CHECK(!info.named && !info.huge_pages);
        memset(info.base, 1, MIB);
        cordon__fault_stop();
        CHECK_OK(cordon_pages_release(p));
    }
}

TEST(grow_mprotect_failure_changes_nothing) {
    require_fault_injection();
    int errs[] = {ENOMEM, EINVAL, EACCES};
    cordon_status want[] = {CORDON_OUT_OF_MEMORY, CORDON_OS_ERROR, CORDON_PERMISSION_DENIED};
    cordon_pages p = reserve(MIB, 64 * KIB, 0);
    uint8_t *b = base_of(p);
    b[100] = 42;
    for (int i = 0; i < 3; i++) {
        uint64_t old = 5;
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK_STATUS(cordon_pages_grow(p, 64 * KIB, &old), want[i]);
        CHECK_STATUS(cordon_pages_commit(p, MIB), CORDON_OK); /* the window was one call: grows now */
        CHECK_OK(cordon_pages_decommit(p, 64 * KIB));
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK_STATUS(cordon_pages_commit(p, MIB), want[i]);
        cordon__fault_stop();
        CHECK_EQ_U64(old, 5);
        CHECK_EQ_U64(committed(p), 64 * KIB);
        CHECK(b[100] == 42);
        CHECK_EQ_I64(probe_write(b + 64 * KIB), PROBE_SEGV);
    }
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, EINTR));
    CHECK_OK(cordon_pages_grow(p, 64 * KIB, NULL));
    cordon__fault_stop();
    CHECK_EQ_U64(committed(p), 128 * KIB);
    CHECK_OK(cordon_pages_release(p));
}

TEST(decommit_failures_keep_the_committed_prefix_usable) {
    require_fault_injection();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    /* discard refused */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_decommit(p, 0), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_EQ_U64(committed(p), MIB);
    CHECK_EQ_I64(probe_write(b + MIB - 1), PROBE_OK);
    /* protection refused after the discard: access restored, size kept */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, EINVAL));
    CHECK_STATUS(cordon_pages_decommit(p, 0), CORDON_OS_ERROR);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MPROTECT), 2);
    cordon__fault_stop();
    CHECK_EQ_U64(committed(p), MIB);
    b[0] = 1;
    b[MIB - 1] = 1;
    CHECK_OK(cordon_pages_release(p));
}

TEST(discard_and_protect_failures_keep_contents_and_access) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    memset(b, 0x3C, MIB);
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_READ));
    int errs[] = {ENOMEM, EINVAL, EAGAIN};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, errs[i]));
        CHECK(cordon_pages_discard(p, 0, MIB) != CORDON_OK);
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_NONE) != CORDON_OK);
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_NONE) != CORDON_OK);
        cordon__fault_stop();
        CHECK(b[0] == 0x3C && b[pg] == 0x3C && b[MIB - 1] == 0x3C);
        /* exactly the previous access: read-write stays read-write, read-only stays read-only */
        CHECK_ACCESS(b, CORDON_PAGES_READ_WRITE);
        CHECK_ACCESS(b + pg, CORDON_PAGES_READ);
        b[0] = 0x3C;
    }
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, EINTR));
    CHECK_OK(cordon_pages_discard(p, 0, pg));
    cordon__fault_stop();
    CHECK(b[0] == 0);
    CHECK_OK(cordon_pages_release(p));
}

TEST(failed_protect_restores_exactly_the_previous_access) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    /* read-only, then a restriction to none that the OS refuses: still read-only, not writable */
    CHECK_OK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_protect(p, 0, pg, CORDON_PAGES_NONE), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_ACCESS(b, CORDON_PAGES_READ);
    CHECK_ACCESS(b + pg, CORDON_PAGES_READ_WRITE);
    CHECK(!degraded(p));
    CHECK_OK(cordon_pages_release(p));
}

TEST(failed_protect_applied_part_way_is_undone_page_by_page) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    /* pages 0..4: read, none, read-write, read, none */
    CHECK_OK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ));
    CHECK_OK(cordon_pages_protect(p, pg, pg, CORDON_PAGES_NONE));
    CHECK_OK(cordon_pages_protect(p, 3 * pg, pg, CORDON_PAGES_READ));
    CHECK_OK(cordon_pages_protect(p, 4 * pg, pg, CORDON_PAGES_NONE));
    cordon_pages_access want[5] = {CORDON_PAGES_READ, CORDON_PAGES_NONE, CORDON_PAGES_READ_WRITE,
                                   CORDON_PAGES_READ, CORDON_PAGES_NONE};
    cordon_pages_access asked[3] = {CORDON_PAGES_READ_WRITE, CORDON_PAGES_NONE, CORDON_PAGES_READ};
    int prots[3] = {PROBE_ACCESS_READ_WRITE, PROBE_ACCESS_NONE, PROBE_ACCESS_READ};
    for (int i = 0; i < 3; i++) {
        /* What a kernel that applied the change to a prefix and then failed leaves behind (Linux
         * applies mprotect VMA by VMA): the first four pages changed, the fifth not. */
        CHECK(probe_set_access(b, 4 * pg, prots[i]) == 0);
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
        CHECK_STATUS(cordon_pages_protect(p, 0, 5 * pg, asked[i]), CORDON_OUT_OF_MEMORY);
        /* the failed call, then one mprotect per run of equal access */
        CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MPROTECT), 1 + 5);
        cordon_os_error e = cordon_last_os_error();
        CHECK(strcmp(e.call, "mprotect") == 0 && e.code == ENOMEM);
        cordon__fault_stop();
        for (int k = 0; k < 5; k++) {
            CHECK_ACCESS(b + (uint64_t)k * pg, want[k]);
        }
        CHECK_ACCESS(b + 5 * pg, CORDON_PAGES_READ_WRITE);
        CHECK(!degraded(p));
    }
    /* The recorded access is kept: a successful protect of the whole range then works as asked. */
    CHECK_OK(cordon_pages_protect(p, 0, 5 * pg, CORDON_PAGES_READ_WRITE));
    for (int k = 0; k < 5; k++) {
        CHECK_ACCESS(b + (uint64_t)k * pg, CORDON_PAGES_READ_WRITE);
    }
    CHECK_OK(cordon_pages_release(p));
}

TEST(failed_decommit_keeps_read_only_pages_read_only) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    memset(b, 0x21, MIB);
    CHECK_OK(cordon_pages_protect(p, MIB - pg, pg, CORDON_PAGES_READ));
    CHECK(probe_set_access(b + MIB - 2 * pg, 2 * pg, PROBE_ACCESS_NONE) == 0); /* as if applied part-way */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, EINVAL));
    CHECK_STATUS(cordon_pages_decommit(p, MIB - 2 * pg), CORDON_OS_ERROR);
    cordon__fault_stop();
    CHECK_EQ_U64(committed(p), MIB);
    CHECK_ACCESS(b + MIB - 2 * pg, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + MIB - pg, CORDON_PAGES_READ);
    CHECK(!degraded(p));
    /* decommitted and committed again, the read-only page is read-write (and a failed protect of it
     * restores read-write, not the old read-only) */
    CHECK_OK(cordon_pages_decommit(p, MIB - 2 * pg));
    CHECK_OK(cordon_pages_commit(p, MIB));
    CHECK_ACCESS(b + MIB - pg, CORDON_PAGES_READ_WRITE);
    CHECK(probe_set_access(b + MIB - pg, pg, PROBE_ACCESS_NONE) == 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_protect(p, MIB - pg, pg, CORDON_PAGES_NONE), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_ACCESS(b + MIB - pg, CORDON_PAGES_READ_WRITE);
    CHECK_OK(cordon_pages_release(p));
}

TEST(protect_bookkeeping_allocation_failure_fails_before_any_system_call) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MPROTECT), 0);
    cordon__fault_stop();
    CHECK_ACCESS(b, CORDON_PAGES_READ_WRITE);
    /* read-write with nothing restricted needs no bookkeeping at all */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, UINT64_MAX, ENOMEM));
    CHECK_OK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ_WRITE));
    cordon__fault_stop();
    /* Separate read-only pages 0, 2, 4…: each is a run of its own, so the list grows now and then.
     * Every growth that fails is refused before the system call and changes nothing. */
    uint64_t refused = 0;
    for (uint64_t i = 0; i < 40; i++) {
        uint64_t off = 2 * i * pg;
        uint64_t runs_before = 0, bytes_before = 0, runs = 0, bytes = 0;
        CHECK_OK(cordon__pages_access_bookkeeping(p, &runs_before, &bytes_before));
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
        cordon_status st = cordon_pages_protect(p, off, pg, CORDON_PAGES_READ);
        uint64_t mprotects = cordon__fault_calls(CORDON__CALL_MPROTECT);
        cordon__fault_stop();
        if (st == CORDON_OUT_OF_MEMORY) {
            refused++;
            CHECK_EQ_U64(mprotects, 0);
            CHECK_OK(cordon__pages_access_bookkeeping(p, &runs, &bytes));
            CHECK_EQ_U64(runs, runs_before);
            CHECK_EQ_U64(bytes, bytes_before);
            CHECK_ACCESS(b + off, CORDON_PAGES_READ_WRITE);
            CHECK_OK(cordon_pages_protect(p, off, pg, CORDON_PAGES_READ));
        } else {
            CHECK_OK(st);
        }
        CHECK_OK(cordon__pages_access_bookkeeping(p, &runs, &bytes));
        CHECK_EQ_U64(runs, i + 1);
    }
    CHECK(refused >= 3); /* the first allocation and at least two growths */
    CHECK_ACCESS(b, CORDON_PAGES_READ);
    CHECK_ACCESS(b + pg, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + 78 * pg, CORDON_PAGES_READ);
    CHECK_OK(cordon_pages_release(p));
}

/* Resident set size in bytes (probe.h). */
static uint64_t rss_bytes(void) {
    uint64_t r = probe_rss_bytes();
    CHECK(r != 0);
    return r;
}

TEST(protect_at_the_end_of_an_8_tib_commit_keeps_its_bookkeeping_small) {
    if (cordon_test_emulator() != NULL) {
        /* qemu 7.2 keeps flags for every guest page of a mapping: 2^31 pages here. */
        SKIP("qemu-user keeps per-page state for every guest page: an 8 TiB commit exhausts host memory");
    }
    uint64_t pg = os_page();
    const uint64_t size = UINT64_C(1) << 43;
    /* Committing only makes the range read-write (MAP_NORESERVE: no commit charge); nothing is
     * touched, so the commit costs address space, not memory. */
    cordon_pages_options o = {.reserve_bytes = size, .commit_bytes = size};
    cordon_pages p = {0};
    cordon_status st = cordon_pages_reserve(&o, &p);
    if (st != CORDON_OK && strcmp(cordon_last_os_error().call, "mmap") == 0) {
        /* ThreadSanitizer's and valgrind's address-space managers refuse a mapping this large. */
        SKIP("this environment refuses 8 TiB of address space (mmap failed)");
    }
#if defined(_WIN32)
    if (st != CORDON_OK && strcmp(cordon_last_os_error().call, "VirtualAlloc") == 0) {
        /* Unlike Linux's MAP_NORESERVE, a Windows commit is charged against the commit limit (RAM and
         * page file) at once, touched or not. */
        SKIP("the commit limit refuses committing 8 TiB (Windows charges a commit when it is made)");
    }
#endif
    CHECK_OK(st);
    uint8_t *b = base_of(p);
    uint64_t rss_before = rss_bytes();
    CHECK_OK(cordon_pages_protect(p, size - pg, pg, CORDON_PAGES_NONE));
    CHECK_OK(cordon_pages_protect(p, size / 2, pg, CORDON_PAGES_READ));
    uint64_t rss_after = rss_bytes();
    uint64_t runs = 0, bytes = 0;
    CHECK_OK(cordon__pages_access_bookkeeping(p, &runs, &bytes));
    CHECK_EQ_U64(runs, 2);
    CHECK_MSG(bytes <= 1024, "bookkeeping of 2 runs takes %llu bytes", (unsigned long long)bytes);
    /* A byte per page would be 2 GiB here; allow for unrelated noise only. */
    CHECK_MSG(rss_after < rss_before + 16 * MIB, "RSS grew from %llu to %llu bytes",
              (unsigned long long)rss_before, (unsigned long long)rss_after);
    CHECK_ACCESS(b + size - pg, CORDON_PAGES_NONE);
    CHECK_ACCESS(b + size - 2 * pg, CORDON_PAGES_READ_WRITE);
    CHECK_ACCESS(b + size / 2, CORDON_PAGES_READ);
    /* The whole 8 TiB made read-write again: no run left. */
    CHECK_OK(cordon_pages_protect(p, 0, size, CORDON_PAGES_READ_WRITE));
    CHECK_OK(cordon__pages_access_bookkeeping(p, &runs, &bytes));
    CHECK_EQ_U64(runs, 0);
    CHECK_ACCESS(b + size - pg, CORDON_PAGES_READ_WRITE);
    CHECK_OK(cordon_pages_release(p));
}

/* The access of each of n pages from base, as the OS records it (/proc/self/maps; VirtualQuery). */
static void maps_access(const uint8_t *base, uint64_t pg, uint64_t n, cordon_pages_access *out) {
    int seen[64];
    CHECK(n <= 64);
    CHECK(probe_os_access(base, pg, n, seen) == 0);
    for (uint64_t i = 0; i < n; i++) {
        out[i] = (cordon_pages_access)seen[i];
    }
}

/* Runs of equal access among the n model pages, and how many of them are restricted. */
static uint64_t model_runs(const cordon_pages_access *m, uint64_t n, uint64_t *restricted) {
    uint64_t runs = 0;
    *restricted = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (i == 0 || m[i] != m[i - 1]) {
            runs++;
            if (m[i] != CORDON_PAGES_READ_WRITE) {
                (*restricted)++;
            }
        }
    }
    return runs;
}

TEST(random_protects_and_decommits_keep_the_run_list_exact) {
    enum { N = 48 };
    uint64_t pg = os_page();
    uint64_t seed = cordon_test_seed();
    cordon_pages p = reserve(N * pg, N * pg, 0);
    uint8_t *b = base_of(p);
    cordon_pages_access model[N];
    cordon_pages_access seen[N];
    for (int i = 0; i < N; i++) {
        model[i] = CORDON_PAGES_READ_WRITE;
    }
    uint64_t committed_pages = N;
    bool faults = cordon__fault_available();
    for (int step = 0; step < 400; step++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t x = seed >> 16;
        if (x % 16 == 0 && committed_pages > 0) {
            uint64_t keep = (x >> 8) % committed_pages;
            CHECK_OK(cordon_pages_decommit(p, keep * pg));
            CHECK_OK(cordon_pages_commit(p, committed_pages * pg)); /* back, read-write */
            for (uint64_t i = keep; i < committed_pages; i++) {
                model[i] = CORDON_PAGES_READ_WRITE;
            }
        } else {
            uint64_t first = (x >> 8) % N;
            uint64_t len = 1 + (x >> 20) % (N - first);
            cordon_pages_access a = (cordon_pages_access)((x >> 30) % 3);
            CHECK_OK(cordon_pages_protect(p, first * pg, len * pg, a));
            for (uint64_t i = first; i < first + len; i++) {
                model[i] = a;
            }
        }
        uint64_t restricted = 0;
        uint64_t all_runs = model_runs(model, N, &restricted);
        uint64_t runs = 0, bytes = 0;
        CHECK_OK(cordon__pages_access_bookkeeping(p, &runs, &bytes));
        CHECK_MSG(runs == restricted, "step %d: %llu runs recorded, the model has %llu", step,
                  (unsigned long long)runs, (unsigned long long)restricted);
        if (faults && step % 8 == 0) {
            /* A protect of everything that the OS refuses after applying it: put back from the runs,
             * one mprotect per run of equal access. */
            CHECK(probe_set_access(b, N * pg, PROBE_ACCESS_READ_WRITE) == 0);
            cordon__fault_reset();
            CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
            CHECK_STATUS(cordon_pages_protect(p, 0, N * pg, CORDON_PAGES_NONE), CORDON_OUT_OF_MEMORY);
            CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MPROTECT), 1 + all_runs);
            cordon__fault_stop();
            CHECK(!degraded(p));
        }
        maps_access(b, pg, N, seen);
        for (int i = 0; i < N; i++) {
            CHECK_MSG(seen[i] == model[i], "step %d: page %d has access %d, want %d", step, i, (int)seen[i],
                      (int)model[i]);
        }
    }
    CHECK_OK(cordon_pages_release(p));
}

/* ---- rollbacks that fail too: the reservation is degraded, never silently wrong ---------------------- */

static void check_degraded_refuses_changes(cordon_pages p) {
    uint64_t pg = os_page();
    CHECK(degraded(p));
    CHECK_STATUS(cordon_pages_grow(p, pg, NULL), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_pages_commit(p, MIB), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_pages_decommit(p, 0), CORDON_WRONG_STATE);
    CHECK_STATUS(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ), CORDON_WRONG_STATE);
    CHECK_OK(cordon_pages_discard(p, 0, 0));
}

TEST(grow_whose_rollback_fails_degrades_the_reservation) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, 64 * KIB, 0);
    uint8_t *b = base_of(p);
    b[0] = 7;
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 2, ENOMEM)); /* the grow and its undo */
    uint64_t old = 3;
    CHECK_STATUS(cordon_pages_grow(p, 4 * pg, &old), CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MPROTECT), 2);
    cordon_os_error e = cordon_last_os_error();
    CHECK(strcmp(e.call, "mprotect") == 0 && e.code == ENOMEM);
    cordon__fault_stop();
    CHECK_EQ_U64(old, 3);
    CHECK_EQ_U64(committed(p), 64 * KIB);
    check_degraded_refuses_changes(p);
    CHECK(b[0] == 7); /* the committed prefix stays usable */
    b[64 * KIB - 1] = 1;
    CHECK_OK(cordon_pages_release(p)); /* and release is the way out */
}

TEST(protect_whose_restore_fails_degrades_and_never_widens) {
    require_fault_injection();
    uint64_t pg = os_page();
    for (uint64_t failing = 2; failing <= 3; failing++) {
        cordon_pages p = reserve(MIB, MIB, 0);
        uint8_t *b = base_of(p);
        CHECK_OK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ));
        CHECK(probe_set_access(b, pg, PROBE_ACCESS_READ_WRITE) == 0); /* the kernel applied the widening */
        /* the protect, its restore to read-only, and (failing == 3) the fallback to none all fail */
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, failing, ENOMEM));
        CHECK_STATUS(cordon_pages_protect(p, 0, pg, CORDON_PAGES_READ_WRITE), CORDON_OUT_OF_MEMORY);
        cordon__fault_stop();
        if (failing == 2) {
            CHECK_ACCESS(b, CORDON_PAGES_NONE); /* the fallback: narrower, never wider */
        }
        check_degraded_refuses_changes(p);
        CHECK_OK(cordon_pages_release(p));
    }
}

TEST(decommit_whose_restore_fails_degrades_and_keeps_the_size) {
    require_fault_injection();
    cordon_pages p = reserve(MIB, MIB, 0);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 2, ENOMEM));
    CHECK_STATUS(cordon_pages_decommit(p, 0), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_EQ_U64(committed(p), MIB);
    check_degraded_refuses_changes(p);
    CHECK_OK(cordon_pages_release(p));
}

TEST(reserve_whose_cleanup_munmap_fails_reports_the_first_failure) {
    require_fault_injection();
    cordon_pages p = {77};
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, ENOMEM));
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINVAL));
    /* Documented: the (untouched) address space stays mapped; the commit failure is reported. */
    CHECK_STATUS(cordon_pages_reserve(&(cordon_pages_options){.reserve_bytes = MIB, .commit_bytes = MIB}, &p),
                 CORDON_OUT_OF_MEMORY);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MUNMAP), 1);
    cordon_os_error e = cordon_last_os_error();
    CHECK(strcmp(e.call, "mprotect") == 0 && e.code == ENOMEM);
    CHECK_EQ_U64(p.handle, 77);
    cordon__fault_stop();
}

TEST(page_size_query_failure_stops_a_primitive_before_its_system_call) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_SYSCONF, 1, 1, EINVAL));
    CHECK_STATUS(cordon__sys_pages_protect(b, (size_t)pg, CORDON__SYS_PROT_READ), CORDON_OS_ERROR);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MPROTECT), 0);
    cordon_os_error e = cordon_last_os_error();
    CHECK(strcmp(e.call, "sysconf") == 0);
    cordon__fault_stop();
    CHECK_ACCESS(b, CORDON_PAGES_READ_WRITE);
    CHECK_OK(cordon_pages_release(p));
}

TEST(release_failure_keeps_the_reservation_and_its_handle) {
    require_fault_injection();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINVAL));
    CHECK_STATUS(cordon_pages_release(p), CORDON_OS_ERROR);
    cordon__fault_stop();
    b[0] = 1;
    CHECK_EQ_U64(committed(p), MIB);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MUNMAP, 1, 1, EINTR));
    CHECK_OK(cordon_pages_release(p));
    cordon__fault_stop();
    CHECK_STATUS(cordon_pages_release(p), CORDON_STALE);
    CHECK(!probe_mapped(b));
}

/* ---- the src/sys/ primitives themselves ----------------------------------------------------------------- */

TEST(sys_primitives_refuse_unaligned_or_empty_ranges_without_calling_the_os) {
    require_fault_injection();
    uint64_t pg = os_page();
    cordon_pages p = reserve(MIB, MIB, 0);
    uint8_t *b = base_of(p);
    void *out = NULL;
    cordon__fault_reset();
    CHECK_STATUS(cordon__sys_pages_reserve(0, &out), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_reserve((size_t)pg + 1, &out), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_reserve((size_t)pg, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_protect(b + 1, (size_t)pg, CORDON__SYS_PROT_READ), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_protect(b, 0, CORDON__SYS_PROT_READ), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_protect(b, (size_t)pg, (cordon__sys_prot)9), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_discard(b, (size_t)pg - 1), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_hint_huge(NULL, (size_t)pg), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_name(b, (size_t)pg, "has\nnewline"), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_name(b, (size_t)pg, NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_release(b, 0), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_pages_release((void *)(uintptr_t)(UINTPTR_MAX - pg + 1), (size_t)(2 * pg)),
                 CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_MMAP) + cordon__fault_calls(CORDON__CALL_MPROTECT) +
                     cordon__fault_calls(CORDON__CALL_MADVISE) + cordon__fault_calls(CORDON__CALL_PRCTL) +
                     cordon__fault_calls(CORDON__CALL_MUNMAP),
                 0);
    cordon__fault_stop();
    CHECK(b[0] == 0);
    CHECK_OK(cordon_pages_release(p));
}
