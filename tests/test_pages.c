/* Page reservations: guards trap, commit/grow/decommit/discard/protect do exactly what they say,
 * sizes are 64-bit and overflow-checked, and every OS failure leaves the reservation as it was. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "cordon/cordon.h"
#include "harness.h"
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
    CHECK_EQ_U64(info.os_page_size, (uint64_t)sysconf(_SC_PAGESIZE));
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
    o.reserve_bytes = UINT64_C(1) << 62;
    cordon_status st = cordon_pages_reserve(&o, &p);
    CHECK_MSG(st == CORDON_OUT_OF_MEMORY || st == CORDON_OVERFLOW, "got %s", cordon_status_name(st));
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
        SKIP("kernel cannot name anonymous mappings (CONFIG_ANON_VMA_NAME off): the query says so");
    }
    CHECK(maps_line_covers(info.base, "[anon:cordon:heap-7]"));
    CHECK(maps_line_covers((uint8_t *)info.base + MIB - 1, "[anon:cordon:heap-7]"));
    CHECK_OK(cordon_pages_release(p));
}

TEST(huge_page_hint_takes_where_the_os_has_huge_pages) {
    uint64_t huge = 0;
    CHECK_OK(cordon_pages_huge_page_size(&huge));
    cordon_pages_options o = {0};
    o.reserve_bytes = 16 * MIB;
    o.commit_bytes = 16 * MIB;
    o.huge_pages = true;
    cordon_pages p = {0};
    CHECK_OK(cordon_pages_reserve(&o, &p));
    cordon_pages_info info;
    CHECK_OK(cordon_pages_info_get(p, &info));
    CHECK(info.huge_pages == (huge != 0));
    memset(info.base, 1, 16 * MIB);
    CHECK_OK(cordon_pages_release(p));
    o.huge_pages = false;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    CHECK_OK(cordon_pages_info_get(p, &info));
    CHECK(!info.huge_pages);
    CHECK_OK(cordon_pages_release(p));
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
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_PRCTL), 1);
        CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_MADVISE), 1);
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
    int errs[] = {ENOMEM, EINVAL, EAGAIN};
    for (int i = 0; i < 3; i++) {
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, errs[i]));
        CHECK(cordon_pages_discard(p, 0, MIB) != CORDON_OK);
        CHECK_OK(cordon__fault_arm(CORDON__CALL_MPROTECT, 1, 1, errs[i]));
        CHECK(cordon_pages_protect(p, 0, pg, CORDON_PAGES_NONE) != CORDON_OK);
        cordon__fault_stop();
        CHECK(b[0] == 0x3C && b[MIB - 1] == 0x3C);
        b[0] = 0x3C; /* still writable */
    }
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MADVISE, 1, 1, EINTR));
    CHECK_OK(cordon_pages_discard(p, 0, pg));
    cordon__fault_stop();
    CHECK(b[0] == 0);
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
    CHECK(maps_line_covers(b, "") == 0);
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
