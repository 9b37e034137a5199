/* SPDX-License-Identifier: Apache-2.0 */
/* Traps (include/cordon/trap.h): faults in guard pages and inaccessible parts of cordon regions become
 * CORDON_TRAPPED inside cordon_trap_run; everything else keeps the behaviour it had without cordon.
 *
 * On Windows the same tests run against the vectored exception handler (src/sys/win32/trap_win32.c):
 * where a test observes a POSIX mechanism (sigaction, a signal mask, an alternate stack, fork) its
 * Windows form observes the Win32 counterpart (a vectored handler after cordon's, the C runtime's
 * signal() emulation, the thread's last-error value, a child process made with CreateProcess), and the
 * few with no counterpart skip, saying why. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <signal.h>
#  include <windows.h>
#else
#  include <signal.h>
#  include <sys/mman.h>
#  include <sys/resource.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

#include "cordon/cordon.h"
#include "harness.h"
#include "memory/trap_registry.h"
#include "sys/fault.h"
#include "sys/sys.h"

#define PAGE64K UINT64_C(65536)
#define GIB4 (UINT64_C(1) << 32)

/* Unaligned accesses of one instruction each, as compiled engine code makes them. */
typedef uint8_t u8a;
typedef uint16_t u16a __attribute__((aligned(1), may_alias));
typedef uint32_t u32a __attribute__((aligned(1), may_alias));
typedef uint64_t u64a __attribute__((aligned(1), may_alias));

#if defined(__has_include)
#  if __has_include(<valgrind/memcheck.h>)
#    include <valgrind/memcheck.h>
#    define HAVE_MEMCHECK_H 1
#  endif
#endif

static bool under_valgrind(void) {
#if defined(HAVE_MEMCHECK_H)
    return RUNNING_ON_VALGRIND != 0;
#else
    const char *p = getenv("LD_PRELOAD");
    return p != NULL && strstr(p, "vgpreload") != NULL;
#endif
}

/* Memcheck reports every access to an inaccessible page before the signal is delivered; these tests
 * make such accesses on purpose, so they tell memcheck not to report the ranges they fault in. */
static void expect_faults_in(const void *p, uint64_t len) {
#if defined(HAVE_MEMCHECK_H)
    (void)VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(p, len);
#else
    (void)p;
    (void)len;
#endif
}

/* A handler that returns makes the faulting instruction run again; valgrind can resume it only when
 * it keeps every register exact at memory accesses (--vex-iropt-register-updates=allregs-at-mem-access,
 * not the default: the instruction then re-runs with a register already overwritten). */
/* A trap on a thread other than the main one jumps from the alternate stack back to the thread's stack,
 * mapped near it: memcheck takes that stack-pointer move for a stack allocation (--max-stackframe) and
 * reports the thread's frames as uninitialised. */
static void skip_thread_jump_under_valgrind(void) {
    if (under_valgrind()) {
        SKIP("memcheck takes the jump from the alternate stack back to a thread stack mapped near it for a "
             "stack allocation (--max-stackframe) and reports the thread's frames as uninitialised; checked "
             "in the other configurations");
    }
}

static void skip_resume_under_valgrind(void) {
    if (under_valgrind()) {
        SKIP("valgrind does not resume a faulting instruction exactly by default (needs "
             "--vex-iropt-register-updates=allregs-at-mem-access); checked in the other configurations");
    }
}

static cordon_memory make_memory(uint64_t pages, bool bcf) {
    cordon_memory_options o = {0};
    o.initial_pages = pages;
    o.bounds_check_free = bcf;
    cordon_memory m;
    cordon_status st = cordon_memory_create(&o, &m);
    if (st == CORDON_OUT_OF_MEMORY && bcf) {
        SKIP("the OS refused the 8 GiB reservation of a bounds_check_free memory (address space limit)");
    }
    CHECK_OK(st);
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    cordon_trap_region r;
    CHECK_OK(cordon_trap_lookup(b, &r));
    /* The whole mapping: leading guard, reservation, trailing guard. */
    expect_faults_in((uint8_t *)b - PAGE64K, PAGE64K + r.reserved_bytes + GIB4 + PAGE64K);
    return m;
}

static uint8_t *base_of(cordon_memory m) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    return (uint8_t *)b;
}

/* ---- an access to run inside cordon_trap_run ---------------------------------------------------- */

typedef struct access_op {
    volatile uint8_t *p;
    unsigned width;
    bool store;
    uint64_t value;
    uint64_t loaded;
    int done;
} access_op;

static void do_access(void *ctx) {
    access_op *a = (access_op *)ctx;
    if (a->store) {
        switch (a->width) {
        case 1: *(volatile u8a *)a->p = (uint8_t)a->value; break;
        case 2: *(volatile u16a *)a->p = (uint16_t)a->value; break;
        case 4: *(volatile u32a *)a->p = (uint32_t)a->value; break;
        default: *(volatile u64a *)a->p = a->value; break;
        }
    } else {
        switch (a->width) {
        case 1: a->loaded = *(volatile u8a *)a->p; break;
        case 2: a->loaded = *(volatile u16a *)a->p; break;
        case 4: a->loaded = *(volatile u32a *)a->p; break;
        default: a->loaded = *(volatile u64a *)a->p; break;
        }
    }
    a->done = 1;
}

static cordon_status run_access(void *p, unsigned width, bool store, uint64_t value, cordon_trap *t, uint64_t *loaded) {
    access_op a = {.p = (volatile uint8_t *)p, .width = width, .store = store, .value = value};
    memset(t, 0xa5, sizeof *t);
    cordon_status st = cordon_trap_run(do_access, &a, t);
    if (st == CORDON_OK) {
        CHECK(a.done == 1);
        if (loaded != NULL) {
            *loaded = a.loaded;
        }
    } else if (st == CORDON_TRAPPED) {
        CHECK(a.done == 0);
    }
    return st;
}

static void expected_access(const cordon_trap *t, bool store) {
#if defined(_WIN32)
    /* The access-violation record's first parameter: 0 read, 1 write. */
    CHECK(t->access == (store ? CORDON_TRAP_ACCESS_WRITE : CORDON_TRAP_ACCESS_READ));
#elif defined(__x86_64__) && defined(__linux__)
    if (under_valgrind()) {
        CHECK(t->access == CORDON_TRAP_ACCESS_UNKNOWN || t->access == CORDON_TRAP_ACCESS_READ ||
              t->access == CORDON_TRAP_ACCESS_WRITE);
        return;
    }
    CHECK(t->access == (store ? CORDON_TRAP_ACCESS_WRITE : CORDON_TRAP_ACCESS_READ));
#else
    (void)store;
    CHECK(t->access == CORDON_TRAP_ACCESS_UNKNOWN);
#endif
}

static void nothing(void *ctx) {
    *(int *)ctx += 1;
}

/* ---- installation ------------------------------------------------------------------------------ */

TEST(run_before_install_is_wrong_state_and_creating_a_memory_installs_nothing) {
#if !defined(_WIN32) /* Windows cannot list the vectored handlers: installed() says it */
    struct sigaction before;
    CHECK(sigaction(SIGSEGV, NULL, &before) == 0);
#endif
    cordon_memory m = make_memory(1, true);
    cordon_pages_options po = {.reserve_bytes = PAGE64K};
    cordon_pages p;
    CHECK_OK(cordon_pages_reserve(&po, &p));
    CHECK(!cordon_trap_installed());
#if !defined(_WIN32)
    struct sigaction now;
    CHECK(sigaction(SIGSEGV, NULL, &now) == 0);
    CHECK(now.sa_sigaction == before.sa_sigaction && now.sa_flags == before.sa_flags);
#endif
    CHECK_OK(cordon_pages_release(p));
    int calls = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(nothing, &calls, &t), CORDON_WRONG_STATE);
    CHECK(calls == 0);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(run_checks_its_arguments) {
    CHECK_OK(cordon_trap_install());
    int calls = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(NULL, &calls, &t), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_trap_run(nothing, &calls, NULL), CORDON_INVALID_ARGUMENT);
    CHECK(calls == 0);
    CHECK_STATUS(cordon_trap_lookup(&calls, NULL), CORDON_INVALID_ARGUMENT);
}

static void *install_thread(void *arg) {
    (void)arg;
    return (void *)(uintptr_t)cordon_trap_install();
}

TEST(install_is_idempotent_and_thread_safe) {
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        CHECK(pthread_create(&th[i], NULL, install_thread, NULL) == 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r = NULL;
        CHECK(pthread_join(th[i], &r) == 0);
        CHECK_EQ_U64((uintptr_t)r, CORDON_OK);
    }
    CHECK(cordon_trap_installed());
#if defined(_WIN32)
    /* Windows cannot list the vectored handlers: after the concurrent and repeated installs, the
     * one in place traps. */
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, false);
    access_op a = {.p = base_of(m) + PAGE64K, .width = 1};
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(do_access, &a, &t), CORDON_TRAPPED);
    CHECK_OK(cordon_memory_destroy(m));
#else
    struct sigaction first;
    CHECK(sigaction(SIGSEGV, NULL, &first) == 0);
    CHECK((first.sa_flags & SA_SIGINFO) != 0 && (first.sa_flags & SA_ONSTACK) != 0);
    CHECK_OK(cordon_trap_install());
    struct sigaction again;
    CHECK(sigaction(SIGSEGV, NULL, &again) == 0);
    CHECK(again.sa_sigaction == first.sa_sigaction);
    struct sigaction bus;
    CHECK(sigaction(SIGBUS, NULL, &bus) == 0);
    CHECK(bus.sa_sigaction == first.sa_sigaction);
#endif
}

TEST(run_without_a_fault_runs_fn_once_and_returns_ok) {
    CHECK_OK(cordon_trap_install());
    int calls = 0;
    cordon_trap t;
    memset(&t, 0x5a, sizeof t);
    cordon_trap before = t;
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK(calls == 1);
    CHECK(memcmp(&t, &before, sizeof t) == 0); /* written only on a trap */
}

/* ---- traps in memories and reservations -------------------------------------------------------- */

TEST(guard_read_past_the_end_of_a_bounds_check_free_memory_traps_with_handle_offset_and_read) {
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, true);
    uint8_t *base = base_of(m);
    cordon_trap t;
    CHECK_STATUS(run_access(base + PAGE64K, 4, false, 0, &t, NULL), CORDON_TRAPPED);
    CHECK(t.kind == CORDON_TRAP_MEMORY);
    CHECK(t.region.kind == CORDON_TRAP_MEMORY);
    CHECK_EQ_U64(t.region.memory.handle, m.handle);
    CHECK_EQ_U64(t.region.pages.handle, 0);
    CHECK_EQ_I64(t.region.offset, (int64_t)PAGE64K);
    CHECK(t.address == base + PAGE64K);
    CHECK_EQ_U64(t.region.reserved_bytes, GIB4);
    CHECK(!t.region.in_guard); /* inside the 4 GiB reservation, past the size */
    CHECK(!t.bus_error);
    expected_access(&t, false);
    /* The process goes on: the memory works, and so does the next run. */
    CHECK_OK(cordon_memory_store_u32(m, 0, 0, 7));
    uint64_t v = 0;
    CHECK_OK(run_access(base, 4, false, 0, &t, &v));
    CHECK_EQ_U64(v, 7);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(guard_write_in_the_trailing_guard_traps_with_offset_and_write) {
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, true);
    uint8_t *base = base_of(m);
    cordon_trap t;
    uint64_t off = GIB4 + 12345;
    CHECK_STATUS(run_access(base + off, 8, true, 99, &t, NULL), CORDON_TRAPPED);
    CHECK(t.kind == CORDON_TRAP_MEMORY);
    CHECK_EQ_U64(t.region.memory.handle, m.handle);
    CHECK_EQ_I64(t.region.offset, (int64_t)off);
    CHECK(t.region.in_guard);
    expected_access(&t, true);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(leading_guard_access_reports_a_negative_offset) {
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, false);
    uint8_t *base = base_of(m);
    cordon_trap t;
    CHECK_STATUS(run_access(base - 1, 1, true, 1, &t, NULL), CORDON_TRAPPED);
    CHECK_EQ_U64(t.region.memory.handle, m.handle);
    CHECK_EQ_I64(t.region.offset, -1);
    CHECK(t.region.in_guard);
    expected_access(&t, true);
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(uncommitted_part_of_a_reservation_traps_with_the_reservation_handle) {
    CHECK_OK(cordon_trap_install());
    cordon_pages_options o = {0};
    o.reserve_bytes = 16 * PAGE64K;
    o.commit_bytes = PAGE64K;
    o.guard_before_bytes = PAGE64K;
    o.guard_after_bytes = PAGE64K;
    cordon_pages p;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    void *b = NULL;
    CHECK_OK(cordon_pages_base(p, &b));
    uint8_t *base = (uint8_t *)b;
    expect_faults_in(base, o.reserve_bytes);
    cordon_trap t;
    CHECK_OK(run_access(base + PAGE64K - 8, 8, true, 5, &t, NULL));
    CHECK_STATUS(run_access(base + 3 * PAGE64K + 4, 4, false, 0, &t, NULL), CORDON_TRAPPED);
    CHECK(t.kind == CORDON_TRAP_PAGES);
    CHECK_EQ_U64(t.region.pages.handle, p.handle);
    CHECK_EQ_U64(t.region.memory.handle, 0);
    CHECK_EQ_I64(t.region.offset, (int64_t)(3 * PAGE64K + 4));
    CHECK(!t.region.in_guard);
    expected_access(&t, false);
    /* After a grow the same address is accessible. */
    CHECK_OK(cordon_pages_commit(p, 4 * PAGE64K));
    CHECK_OK(run_access(base + 3 * PAGE64K + 4, 4, false, 0, &t, NULL));
    CHECK_OK(cordon_pages_release(p));
}

TEST(a_read_only_page_of_a_reservation_traps_on_write_only) {
    CHECK_OK(cordon_trap_install());
    cordon_pages_options o = {0};
    o.reserve_bytes = 4 * PAGE64K;
    o.commit_bytes = 4 * PAGE64K;
    cordon_pages p;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    void *b = NULL;
    CHECK_OK(cordon_pages_base(p, &b));
    CHECK_OK(cordon_pages_protect(p, PAGE64K, PAGE64K, CORDON_PAGES_READ));
    expect_faults_in(b, o.reserve_bytes);
    cordon_trap t;
    uint8_t *addr = (uint8_t *)b + PAGE64K + 16;
    CHECK_OK(run_access(addr, 4, false, 0, &t, NULL));
    CHECK_STATUS(run_access(addr, 4, true, 1, &t, NULL), CORDON_TRAPPED);
    CHECK_EQ_U64(t.region.pages.handle, p.handle);
    CHECK_EQ_I64(t.region.offset, (int64_t)(PAGE64K + 16));
    expected_access(&t, true);
    CHECK_OK(cordon_pages_release(p));
}

/* ---- nesting and threads ----------------------------------------------------------------------- */

typedef struct nested {
    uint8_t *bad;
    cordon_status inner;
    cordon_trap inner_trap;
    int after_inner;
} nested;

static void outer_fn(void *ctx) {
    nested *n = (nested *)ctx;
    n->inner = run_access(n->bad, 4, false, 0, &n->inner_trap, NULL);
    n->after_inner = 1; /* the outer run goes on after the inner one trapped */
}

TEST(nested_runs_the_inner_trap_returns_from_the_inner_run_and_the_outer_goes_on) {
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, true);
    uint8_t *base = base_of(m);
    nested n = {.bad = base + 2 * PAGE64K};
    cordon_trap outer;
    CHECK_OK(cordon_trap_run(outer_fn, &n, &outer));
    CHECK_STATUS(n.inner, CORDON_TRAPPED);
    CHECK(n.after_inner == 1);
    CHECK_EQ_I64(n.inner_trap.region.offset, (int64_t)(2 * PAGE64K));
    /* And after the outer run returned, a trap goes to the next run, not to a stale frame. */
    CHECK_STATUS(run_access(base + PAGE64K, 1, false, 0, &outer, NULL), CORDON_TRAPPED);
    CHECK_OK(cordon_memory_destroy(m));
}

typedef struct thread_job {
    cordon_memory m;
    _Atomic int *go;
    int traps;
    int wrong;
} thread_job;

static void *trap_many(void *arg) {
    thread_job *j = (thread_job *)arg;
    void *b = NULL;
    if (cordon_memory_base(j->m, &b) != CORDON_OK) {
        j->wrong = -1;
        return NULL;
    }
    while (atomic_load(j->go) == 0) {
    }
    for (int i = 0; i < 200; i++) {
        access_op a = {.p = (uint8_t *)b + PAGE64K + (uint64_t)i * 8, .width = 8, .store = (i & 1) != 0};
        cordon_trap t;
        cordon_status st = cordon_trap_run(do_access, &a, &t);
        if (st == CORDON_TRAPPED && t.region.memory.handle == j->m.handle &&
            t.region.offset == (int64_t)(PAGE64K + (uint64_t)i * 8)) {
            j->traps++;
        } else {
            j->wrong++;
        }
    }
    return NULL;
}

TEST(two_threads_trapping_at_once_each_get_their_own_trap) {
    skip_thread_jump_under_valgrind();
    CHECK_OK(cordon_trap_install());
    _Atomic int go = 0;
    thread_job j[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        j[i] = (thread_job){.m = make_memory(1, false), .go = &go};
        CHECK(pthread_create(&th[i], NULL, trap_many, &j[i]) == 0);
    }
    atomic_store(&go, 1);
    for (int i = 0; i < 2; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
    }
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_I64(j[i].wrong, 0);
        CHECK_EQ_I64(j[i].traps, 200);
        CHECK_OK(cordon_memory_destroy(j[i].m));
    }
}

static void *run_once(void *arg) {
    int calls = 0;
    cordon_trap t;
    *(cordon_status *)arg = cordon_trap_run(nothing, &calls, &t);
    return NULL;
}

/* On Windows there is no alternate stack: the count is of the per-thread trap states, released the same way. */
TEST(a_thread_alternate_stack_is_released_when_the_thread_exits) {
    CHECK_OK(cordon_trap_install());
    uint64_t before = cordon__sys_trap_altstacks_live();
    for (int i = 0; i < 3; i++) {
        pthread_t th;
        cordon_status st = CORDON_OS_ERROR;
        CHECK(pthread_create(&th, NULL, run_once, &st) == 0);
        CHECK(pthread_join(th, NULL) == 0);
        CHECK_OK(st);
        CHECK_EQ_U64(cordon__sys_trap_altstacks_live(), before);
    }
}

/* ---- faults that are not traps ----------------------------------------------------------------- */

static uint8_t *plain_page;
static _Atomic int prev_calls;
static void *prev_addr;

#if defined(_WIN32)
static size_t os_page(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return (size_t)si.dwPageSize;
}

static void unprotect_plain_page(void) {
    DWORD old = 0;
    (void)VirtualProtect(plain_page, os_page(), PAGE_READWRITE, &old);
}

/* A host's vectored handler, after cordon's in the list: fixes the fault and resumes the instruction. */
static LONG WINAPI prev_vectored_handler(EXCEPTION_POINTERS *ep) {
    const EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || rec->NumberParameters < 2 ||
        (uint8_t *)rec->ExceptionInformation[1] < plain_page ||
        (uint8_t *)rec->ExceptionInformation[1] >= plain_page + os_page()) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    atomic_fetch_add(&prev_calls, 1);
    prev_addr = (void *)rec->ExceptionInformation[1];
    unprotect_plain_page();
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* The C runtime's signal() emulation: its unhandled-exception filter calls this for an access
 * violation and resumes the instruction. */
static void prev_plain_handler(int sig) {
    (void)sig;
    atomic_fetch_add(&prev_calls, 1);
    unprotect_plain_page();
}

static void map_plain_page(void) {
    plain_page = VirtualAlloc(NULL, os_page(), MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    CHECK(plain_page != NULL);
}
#else
static void prev_siginfo_handler(int sig, siginfo_t *info, void *uctx) {
    (void)sig;
    (void)uctx;
    atomic_fetch_add(&prev_calls, 1);
    prev_addr = info->si_addr;
    /* Fix the fault and return: the instruction runs again. */
    (void)mprotect(plain_page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
}

static void prev_plain_handler(int sig) {
    (void)sig;
    atomic_fetch_add(&prev_calls, 1);
    (void)mprotect(plain_page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE);
}

static void map_plain_page(void) {
    plain_page = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(plain_page != MAP_FAILED);
    expect_faults_in(plain_page, (uint64_t)sysconf(_SC_PAGESIZE));
}
#endif

TEST(a_fault_outside_every_region_in_a_run_goes_to_the_previous_siginfo_handler) {
    skip_resume_under_valgrind();
    map_plain_page();
#if defined(_WIN32)
    /* Windows: the search goes on to the host's vectored handler (added before cordon's, which goes
     * first in the list), which fixes the fault and resumes. */
    void *veh = AddVectoredExceptionHandler(1, prev_vectored_handler);
    CHECK(veh != NULL);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prev_siginfo_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
#endif
    CHECK_OK(cordon_trap_install());
    cordon_trap t;
    CHECK_OK(run_access(plain_page + 8, 4, true, 3, &t, NULL));
    CHECK_EQ_I64(atomic_load(&prev_calls), 1);
    CHECK(prev_addr == plain_page + 8);
    CHECK(plain_page[8] == 3);
}

TEST(a_fault_outside_every_region_in_a_run_goes_to_the_previous_plain_handler) {
    skip_resume_under_valgrind();
    map_plain_page();
#if defined(_WIN32)
    /* Windows: the C runtime's signal(), which it serves from its unhandled-exception filter, at the
     * end of the search cordon's handler continues. */
    CHECK(signal(SIGSEGV, prev_plain_handler) != SIG_ERR);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prev_plain_handler;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
#endif
    CHECK_OK(cordon_trap_install());
    cordon_trap t;
    uint64_t v = 1;
    CHECK_OK(run_access(plain_page, 8, false, 0, &t, &v));
    CHECK_EQ_U64(v, 0);
    CHECK_EQ_I64(atomic_load(&prev_calls), 1);
}

TEST(a_signal_sent_with_kill_inside_a_run_is_not_a_trap) {
#if defined(_WIN32)
    SKIP("Windows has no kill(): no other thread or process can send this thread an access violation "
         "(RaiseException raises one on the calling thread only, and the C runtime's raise() calls the "
         "signal() handler without any exception), so there is no sent fault to tell from a real one");
#else
    map_plain_page();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prev_siginfo_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
    CHECK_OK(cordon_trap_install());
    int calls = 0;
    cordon_trap t;
    CHECK(raise(SIGBUS) == 0); /* outside a run */
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK_EQ_I64(atomic_load(&prev_calls), 1);
#endif
}

#if defined(_WIN32)
/* Windows has no fork: the test re-runs its own program (the same test, CORDON_TRAP_CHILD=1 in the
 * environment) with CreateProcess. The child ends the search with a last-chance filter that ends it by
 * the exception's code, as the system's own would, without starting Wine's or Windows' crash
 * debugger; the parent checks that code. */
static const void *volatile child_expected_addr; /* set before the fault: volatile keeps the order */

static LONG WINAPI child_last_filter(EXCEPTION_POINTERS *ep) {
    const EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    const void *addr = rec->NumberParameters >= 2 ? (const void *)rec->ExceptionInformation[1] : NULL;
    fprintf(stderr, "child: unhandled exception %#lx at %p (expected at %p)\n", (unsigned long)rec->ExceptionCode,
            addr, child_expected_addr);
    fflush(stderr);
    if (addr != child_expected_addr) {
        TerminateProcess(GetCurrentProcess(), 6);
    }
    return EXCEPTION_EXECUTE_HANDLER; /* ends the process with the exception code */
}

static bool in_child_process(void) {
    const char *e = getenv("CORDON_TRAP_CHILD");
    return e != NULL && strcmp(e, "1") == 0;
}

/* In the child: installs the last-chance filter and cordon's handler, runs body, exits 0 if it returns. */
static void child_main(void (*body)(void)) {
    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    (void)SetUnhandledExceptionFilter(child_last_filter);
    if (cordon_trap_install() != CORDON_OK) {
        exit(3);
    }
    body();
    exit(0);
}

/* In the parent: the child's exit code. */
static DWORD in_child(void) {
    char exe[MAX_PATH];
    DWORD n = GetModuleFileNameA(NULL, exe, MAX_PATH);
    CHECK(n > 0 && n < MAX_PATH);
    char cmd[2 * MAX_PATH];
    snprintf(cmd, sizeof cmd, "\"%s\" %s", exe, cordon_test_current());
    CHECK(SetEnvironmentVariableA("CORDON_TRAP_CHILD", "1"));
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    fflush(NULL);
    BOOL made = CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi);
    CHECK(SetEnvironmentVariableA("CORDON_TRAP_CHILD", NULL));
    CHECK(made);
    CHECK(WaitForSingleObject(pi.hProcess, INFINITE) == WAIT_OBJECT_0);
    DWORD code = 0;
    CHECK(GetExitCodeProcess(pi.hProcess, &code));
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    return code;
}

static void fault_outside_regions_in_run(void) {
    map_plain_page();
    child_expected_addr = plain_page;
    cordon_trap t;
    (void)run_access(plain_page, 4, false, 0, &t, NULL);
    exit(4);
}

static void fault_in_region_outside_run(void) {
    cordon_memory m = make_memory(1, false);
    volatile uint8_t *base = base_of(m);
    child_expected_addr = (const void *)(base + PAGE64K);
    (void)base[PAGE64K];
    exit(4);
}
#else
/* Runs body in a child process with SIGSEGV's previous action `prev` and returns its wait status. */
static int in_child(void (*body)(void), void (*prev)(int)) {
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &no_core);
        signal(SIGSEGV, prev); /* the sanitizers install their own: start from a known action */
        signal(SIGBUS, prev == SIG_IGN ? SIG_DFL : prev);
        if (cordon_trap_install() != CORDON_OK) {
            _exit(3);
        }
        body();
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    return status;
}

static void fault_outside_regions_in_run(void) {
    map_plain_page();
    cordon_trap t;
    (void)run_access(plain_page, 4, false, 0, &t, NULL);
    _exit(4);
}
#endif

TEST(a_fault_outside_every_region_in_a_run_with_the_default_action_ends_the_process_by_sigsegv) {
#if defined(_WIN32)
    /* Windows: the search goes past cordon's handler to the end; the process ends by the access violation. */
    if (in_child_process()) {
        child_main(fault_outside_regions_in_run);
    }
    DWORD code = in_child();
    CHECK_MSG(code == (DWORD)EXCEPTION_ACCESS_VIOLATION, "child exit code %#lx", (unsigned long)code);
#else
    skip_resume_under_valgrind(); /* the default action is reached by letting the fault happen again */
    int status = in_child(fault_outside_regions_in_run, SIG_DFL);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child status %d", status);
#endif
}

#if !defined(_WIN32)
static void fault_in_region_outside_run(void) {
    cordon_memory m = make_memory(1, false);
    volatile uint8_t *base = base_of(m);
    (void)base[PAGE64K];
    _exit(4);
}
#endif

TEST(a_fault_in_a_region_outside_any_run_ends_the_process_by_sigsegv) {
#if defined(_WIN32)
    if (in_child_process()) {
        child_main(fault_in_region_outside_run);
    }
    DWORD code = in_child();
    CHECK_MSG(code == (DWORD)EXCEPTION_ACCESS_VIOLATION, "child exit code %#lx", (unsigned long)code);
#else
    skip_resume_under_valgrind(); /* the default action is reached by letting the fault happen again */
    int status = in_child(fault_in_region_outside_run, SIG_DFL);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child status %d", status);
#endif
}

#if !defined(_WIN32)
static void sent_then_real_fault(void) {
    if (raise(SIGSEGV) != 0) { /* ignored, as before installation */
        _exit(5);
    }
    fault_outside_regions_in_run();
}
#endif

TEST(a_previous_sig_ign_ignores_a_sent_sigsegv_but_a_real_fault_still_ends_the_process) {
#if defined(_WIN32)
    SKIP("Windows has no SIG_IGN for faults: the C runtime's signal(SIGSEGV, SIG_IGN) makes its filter "
         "resume the faulting instruction forever, and raise() sends no exception; that a real fault "
         "ends the process is checked by the two tests before");
#else
    skip_resume_under_valgrind(); /* the default action is reached by letting the fault happen again */
    int status = in_child(sent_then_real_fault, SIG_IGN);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "child status %d", status);
#endif
}

/* ---- stack overflow ---------------------------------------------------------------------------- */

/* Never reached: the stack ends first. Volatile, so the compiler cannot prove the recursion endless. */
static volatile int depth_limit = 1 << 30;

static int recurse(volatile uint8_t *up, int depth) {
    volatile uint8_t frame[512];
    if (depth >= depth_limit) {
        return 0;
    }
    frame[0] = (uint8_t)depth;
    frame[511] = up != NULL ? up[0] : 0;
    return recurse(frame, depth + 1) + frame[3];
}

static void overflow(void *ctx) {
    *(int *)ctx = recurse(NULL, 0);
}

static void *overflow_thread(void *arg) {
    cordon_trap *t = (cordon_trap *)arg;
    int r = 0;
    cordon_status st = cordon_trap_run(overflow, &r, t);
    /* The thread goes on: a second overflow is caught too. */
    cordon_trap again;
    cordon_status st2 = cordon_trap_run(overflow, &r, &again);
    return (void *)(uintptr_t)(st == CORDON_TRAPPED && st2 == CORDON_TRAPPED ? 1 : 0);
}

TEST(stack_overflow_in_fn_is_a_stack_overflow_trap) {
    if (under_valgrind()) {
        SKIP("valgrind runs client stacks its own way (its own overflow report); checked in the other configurations");
    }
    CHECK_OK(cordon_trap_install());
    pthread_attr_t attr;
    CHECK(pthread_attr_init(&attr) == 0);
    CHECK(pthread_attr_setstacksize(&attr, 512 * 1024) == 0);
    pthread_t th;
    cordon_trap t;
    memset(&t, 0, sizeof t);
    CHECK(pthread_create(&th, &attr, overflow_thread, &t) == 0);
    void *ok = NULL;
    CHECK(pthread_join(th, &ok) == 0);
    CHECK(pthread_attr_destroy(&attr) == 0);
    CHECK_EQ_U64((uintptr_t)ok, 1);
    CHECK(t.kind == CORDON_TRAP_STACK_OVERFLOW);
    CHECK(t.region.kind == CORDON_TRAP_NONE);
    CHECK(t.region.offset < 0);
    CHECK(t.region.reserved_bytes >= 256 * 1024);
    expected_access(&t, true);
}

TEST(stack_overflow_on_the_main_thread_is_a_stack_overflow_trap) {
    if (under_valgrind()) {
        SKIP("valgrind runs client stacks its own way (its own overflow report); checked in the other configurations");
    }
    CHECK_OK(cordon_trap_install());
    int r = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(overflow, &r, &t), CORDON_TRAPPED);
    CHECK(t.kind == CORDON_TRAP_STACK_OVERFLOW);
    CHECK(t.region.offset < 0);
    /* And the thread goes on. */
    int calls = 0;
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK(calls == 1);
}

/* ---- the signal mask, cordon calls inside fn ---------------------------------------------------- */

TEST(the_signal_mask_is_restored_after_a_trap) {
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, false);
#if defined(_WIN32)
    /* Windows has no signal mask; the thread state a trap must leave as fn had it is the last-error
     * value (the handler reads a fiber-local slot, which may clear it), and traps keep coming. */
    cordon_trap t;
    for (int i = 0; i < 3; i++) {
        SetLastError(12345u + (DWORD)i);
        CHECK_STATUS(run_access(base_of(m) + PAGE64K, 1, false, 0, &t, NULL), CORDON_TRAPPED);
        CHECK_EQ_U64(GetLastError(), 12345u + (DWORD)i);
    }
    CHECK_OK(cordon_memory_destroy(m));
#else
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    CHECK(pthread_sigmask(SIG_BLOCK, &usr2, NULL) == 0);
    sigset_t before;
    CHECK(pthread_sigmask(SIG_SETMASK, NULL, &before) == 0);
    cordon_trap t;
    for (int i = 0; i < 3; i++) { /* a second and third trap on the thread: SIGSEGV is not left blocked */
        CHECK_STATUS(run_access(base_of(m) + PAGE64K, 1, false, 0, &t, NULL), CORDON_TRAPPED);
    }
    sigset_t after;
    CHECK(pthread_sigmask(SIG_SETMASK, NULL, &after) == 0);
    CHECK(!sigismember(&after, SIGSEGV));
    CHECK(!sigismember(&after, SIGBUS));
    CHECK(sigismember(&after, SIGUSR2));
    CHECK(sigismember(&after, SIGUSR1) == sigismember(&before, SIGUSR1));
    CHECK_OK(cordon_memory_destroy(m));
#endif
}

#if defined(__x86_64__)
/* A fault with the direction flag set, as in a backward string copy (memmove of overlapping bytes). */
static void fault_with_direction_flag_set(void *ctx) {
    __asm__ volatile("std\n\tmovb (%0), %%al\n\tcld" : : "r"(ctx) : "al", "memory", "cc");
}

static bool direction_flag_set(void) {
    uint64_t flags = 0;
    __asm__ volatile("pushfq\n\tpopq %0" : "=r"(flags));
    return (flags & 0x400u) != 0;
}
#endif

TEST(a_trap_with_the_direction_flag_set_returns_with_it_clear) {
#if defined(__x86_64__)
    CHECK_OK(cordon_trap_install());
    cordon_memory m = make_memory(1, false);
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(fault_with_direction_flag_set, base_of(m) + PAGE64K, &t), CORDON_TRAPPED);
    CHECK(!direction_flag_set()); /* the calling convention's state: memcpy after this copies forward */
    CHECK_EQ_I64(t.region.offset, (int64_t)PAGE64K);
    CHECK_OK(cordon_memory_destroy(m));
#else
    SKIP("the direction flag is x86's");
#endif
}

typedef struct read_into {
    cordon_memory src;
    uint8_t *dst;
} read_into;

static void read_into_guard(void *ctx) {
    read_into *r = (read_into *)ctx;
    cordon_status st = cordon_memory_read(r->src, 0, r->dst, 64);
    (void)st;
}

TEST(a_trap_inside_a_cordon_call_does_not_block_a_later_destroy) {
    CHECK_OK(cordon_trap_install());
    cordon_memory a = make_memory(1, false);
    cordon_memory b = make_memory(1, false);
    read_into r = {.src = a, .dst = base_of(b) + PAGE64K}; /* b's guard as the destination */
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(read_into_guard, &r, &t), CORDON_TRAPPED);
    CHECK_EQ_U64(t.region.memory.handle, b.handle);
    CHECK_OK(cordon_memory_destroy(a)); /* returns: no access of a is left in progress */
    CHECK_OK(cordon_memory_destroy(b));
}

typedef struct lent_job {
    cordon_memory a;
    cordon_memory b;
    int trapped;
    int failures;
} lent_job;

static void *trap_on_lent_records(void *arg) {
    lent_job *j = (lent_job *)arg;
    int calls = 0;
    cordon_trap t;
    if (cordon_trap_run(nothing, &calls, &t) != CORDON_OK) { /* prepares the thread first */
        j->failures = -1;
        return NULL;
    }
    /* The thread's access record cannot be registered: every access borrows one of the few pool
     * records. More traps than there are pool records: each must give its record back. */
    cordon__fault_reset();
    if (cordon__fault_arm(CORDON__CALL_PTHREAD_SETSPECIFIC, 1, UINT64_MAX, ENOMEM) != CORDON_OK) {
        j->failures = -2;
        return NULL;
    }
    void *bb = NULL;
    if (cordon_memory_base(j->b, &bb) != CORDON_OK) {
        j->failures = -3;
    }
    read_into r = {.src = j->a, .dst = (uint8_t *)bb + PAGE64K};
    for (int i = 0; i < 20 && j->failures == 0; i++) {
        if (cordon_trap_run(read_into_guard, &r, &t) == CORDON_TRAPPED && t.region.memory.handle == j->b.handle) {
            j->trapped++;
        } else {
            j->failures++;
        }
    }
    cordon__fault_stop();
    return NULL;
}

TEST(a_trap_inside_a_cordon_call_on_a_borrowed_access_record_gives_the_record_back) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
    skip_thread_jump_under_valgrind();
    CHECK_OK(cordon_trap_install());
    lent_job j = {.a = make_memory(1, false), .b = make_memory(1, false)};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, trap_on_lent_records, &j) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_I64(j.failures, 0);
    CHECK_EQ_I64(j.trapped, 20);
    CHECK_OK(cordon_memory_destroy(j.a)); /* returns: no borrowed record is left inside an access of a */
    CHECK_OK(cordon_memory_destroy(j.b));
}

/* ---- lookup ------------------------------------------------------------------------------------ */

TEST(lookup_finds_live_regions_and_forgets_destroyed_ones) {
    cordon_memory m = make_memory(2, false);
    uint8_t *base = base_of(m);
    cordon_trap_region r;
    CHECK_OK(cordon_trap_lookup(base + 100, &r));
    CHECK(r.kind == CORDON_TRAP_MEMORY);
    CHECK_EQ_U64(r.memory.handle, m.handle);
    CHECK_EQ_I64(r.offset, 100);
    CHECK(!r.in_guard);
    CHECK_OK(cordon_trap_lookup(base - PAGE64K, &r));
    CHECK_EQ_I64(r.offset, -(int64_t)PAGE64K);
    CHECK(r.in_guard);
    CHECK_STATUS(cordon_trap_lookup(base - PAGE64K - 1, &r), CORDON_OUT_OF_BOUNDS);
    int local = 0;
    CHECK_STATUS(cordon_trap_lookup(&local, &r), CORDON_OUT_OF_BOUNDS);
    CHECK_OK(cordon_memory_destroy(m));
    CHECK_STATUS(cordon_trap_lookup(base + 100, &r), CORDON_OUT_OF_BOUNDS);
    /* A new region reuses the record and is found under its own handle. */
    cordon_pages_options o = {.reserve_bytes = PAGE64K};
    cordon_pages p;
    CHECK_OK(cordon_pages_reserve(&o, &p));
    void *pb = NULL;
    CHECK_OK(cordon_pages_base(p, &pb));
    CHECK_OK(cordon_trap_lookup(pb, &r));
    CHECK(r.kind == CORDON_TRAP_PAGES);
    CHECK_EQ_U64(r.pages.handle, p.handle);
    CHECK_OK(cordon_pages_release(p));
}

TEST(region_records_are_reused_so_the_registry_grows_with_live_regions_only) {
    cordon_memory first = make_memory(1, false);
    CHECK_OK(cordon_memory_destroy(first));
    uint64_t before = cordon__trap_record_count();
    for (int i = 0, n = cordon_test_emulator() != NULL ? 20 : 100; i < n; i++) {
        cordon_memory m = make_memory(1, false);
        cordon_pages_options o = {.reserve_bytes = PAGE64K};
        cordon_pages p;
        CHECK_OK(cordon_pages_reserve(&o, &p));
        CHECK_OK(cordon_pages_release(p));
        CHECK_OK(cordon_memory_destroy(m));
    }
    CHECK(cordon__trap_record_count() <= before + 1); /* two live at once: at most one more record */
}

/* One thread creates and destroys regions, publishing (handle, base) pairs in an append-only log
 * before each region's first lookup can matter; another looks up addresses of recent regions. Every
 * answer must be a consistent record: a handle from the log with the offset from that handle's base
 * (never one region's bounds with another's handle), or "not found". */
#define CHURN_LOG 4096

typedef struct churn {
    uint64_t handle[CHURN_LOG];
    uintptr_t base[CHURN_LOG];
    uint32_t limit; /* regions to create, at most CHURN_LOG */
    _Atomic uint32_t count;
    _Atomic int done;
    int bad;
    uint64_t found;
} churn;

static void *churn_regions(void *arg) {
    churn *c = (churn *)arg;
    cordon_memory_options o = {.initial_pages = 1};
    for (uint32_t i = 0; i < c->limit; i++) {
        cordon_memory m;
        if (cordon_memory_create(&o, &m) != CORDON_OK) {
            c->bad = -1;
            break;
        }
        void *b = NULL;
        if (cordon_memory_base(m, &b) != CORDON_OK) {
            c->bad = -3;
            break;
        }
        c->handle[i] = m.handle;
        c->base[i] = (uintptr_t)b;
        atomic_store_explicit(&c->count, i + 1, memory_order_release);
        if (cordon_memory_destroy(m) != CORDON_OK) {
            c->bad = -2;
            break;
        }
    }
    atomic_store(&c->done, 1);
    return NULL;
}

TEST(lookup_racing_creates_and_destroys_never_pairs_one_region_with_another_handle) {
    static churn c;
    enum { MAX_SEEN = 1 << 16 };
    static uintptr_t seen_addr[MAX_SEEN];
    static cordon_trap_region seen[MAX_SEEN];
    size_t nseen = 0;
    pthread_t th;
    /* Under qemu-user a memory's creation and destruction take ~0.15 s (it keeps state per guest page
     * of the 8 GiB reservation). */
    c.limit = cordon_test_emulator() != NULL ? 64u : CHURN_LOG;
    CHECK(pthread_create(&th, NULL, churn_regions, &c) == 0);
    while (!atomic_load(&c.done) && nseen < MAX_SEEN) {
        uint32_t n = atomic_load_explicit(&c.count, memory_order_acquire);
        for (uint32_t k = n > 4 ? n - 4 : 0; k < n && nseen < MAX_SEEN; k++) {
            uintptr_t addr = c.base[k] + 100;
            if (cordon_trap_lookup((const void *)addr, &seen[nseen]) == CORDON_OK) {
                seen_addr[nseen++] = addr;
            }
        }
    }
    CHECK(pthread_join(th, NULL) == 0);
    CHECK_EQ_I64(c.bad, 0);
    /* Checked once every region is in the log (a region found at a reused address may have been
     * published before its creator logged it). */
    uint32_t total = atomic_load(&c.count);
    for (size_t i = 0; i < nseen; i++) {
        bool ok = false;
        for (uint32_t j = total; j-- > 0;) {
            if (c.handle[j] == seen[i].memory.handle) {
                ok = seen[i].kind == CORDON_TRAP_MEMORY && (int64_t)(seen_addr[i] - c.base[j]) == seen[i].offset;
                break;
            }
        }
        CHECK_MSG(ok, "lookup %zu: handle %llu with offset %lld matches no logged region", i,
                  (unsigned long long)seen[i].memory.handle, (long long)seen[i].offset);
    }
    printf("lookups that found a region while it was live: %zu\n", nseen);
}

static cordon_trap_region host_seen;
static cordon_status host_status;

#if defined(_WIN32)
/* The host's own vectored handler: classifies with lookup, then resumes in host_resume (the way
 * cordon's handler resumes, see trap_win32.c). */
static void *host_jump[5];

static __attribute__((noreturn, noinline)) void host_resume(void) {
    __builtin_longjmp(host_jump, 1);
}

static LONG WINAPI host_handler(EXCEPTION_POINTERS *ep) {
    const EXCEPTION_RECORD *rec = ep->ExceptionRecord;
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || rec->NumberParameters < 2) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    host_status = cordon_trap_lookup((const void *)rec->ExceptionInformation[1], &host_seen);
    CONTEXT *cx = ep->ContextRecord;
    cx->Rsp = ((cx->Rsp - 256u) & ~(DWORD64)15) - 8u;
    cx->Rip = (DWORD64)(uintptr_t)host_resume;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static __attribute__((noinline)) void host_store(volatile uint8_t *p) {
    *p = 1;
}
#else
static sigjmp_buf host_jump;

static void host_handler(int sig, siginfo_t *info, void *uctx) {
    (void)sig;
    (void)uctx;
    host_status = cordon_trap_lookup(info->si_addr, &host_seen);
    siglongjmp(host_jump, 1);
}
#endif

TEST(a_host_that_owns_its_handler_classifies_faults_with_lookup) {
    cordon_memory m = make_memory(1, true);
    volatile uint8_t *base = base_of(m);
#if defined(_WIN32)
    void *veh = AddVectoredExceptionHandler(1, host_handler);
    CHECK(veh != NULL);
    if (__builtin_setjmp(host_jump) == 0) {
        host_store(base + 3 * PAGE64K);
        CHECK_MSG(false, "the store did not fault");
    }
    (void)RemoveVectoredExceptionHandler(veh);
#else
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = host_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    if (sigsetjmp(host_jump, 1) == 0) {
        base[3 * PAGE64K] = 1;
        CHECK_MSG(false, "the store did not fault");
    }
#endif
    CHECK(!cordon_trap_installed());
    CHECK_OK(host_status);
    CHECK_EQ_U64(host_seen.memory.handle, m.handle);
    CHECK_EQ_I64(host_seen.offset, (int64_t)(3 * PAGE64K));
    CHECK_OK(cordon_memory_destroy(m));
}

/* ---- fault injection --------------------------------------------------------------------------- */

#if !defined(_WIN32)
static void same_action(int sig, const struct sigaction *want) {
    struct sigaction now;
    CHECK(sigaction(sig, NULL, &now) == 0);
    CHECK(now.sa_sigaction == want->sa_sigaction);
    CHECK(now.sa_flags == want->sa_flags);
}

#endif

TEST(install_failures_change_nothing) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
#if defined(_WIN32)
    /* One call: AddVectoredExceptionHandler, under sigaction's fault point. */
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_SIGACTION, 1, 1, EINVAL));
    CHECK_STATUS(cordon_trap_install(), CORDON_OS_ERROR);
    cordon__fault_stop();
    CHECK(strcmp(cordon_last_os_error().call, "sigaction") == 0);
    CHECK(!cordon_trap_installed());
    int calls = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(nothing, &calls, &t), CORDON_WRONG_STATE);
    CHECK(calls == 0);
    /* Nothing was registered: a fault in a region inside a run would otherwise have been a trap. */
    CHECK_OK(cordon_trap_install());
    CHECK(cordon_trap_installed());
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK(calls == 1);
#else
    map_plain_page();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = prev_siginfo_handler;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
    struct sigaction segv_before;
    struct sigaction bus_before;
    CHECK(sigaction(SIGSEGV, NULL, &segv_before) == 0);
    CHECK(sigaction(SIGBUS, NULL, &bus_before) == 0);
    /* Calls: read SIGSEGV, read SIGBUS, set SIGSEGV, set SIGBUS, read back. */
    for (uint64_t nth = 1; nth <= 5; nth++) {
        cordon__fault_reset();
        CHECK_OK(cordon__fault_arm(CORDON__CALL_SIGACTION, nth, 1, EINVAL));
        CHECK_STATUS(cordon_trap_install(), CORDON_OS_ERROR);
        cordon__fault_stop();
        CHECK(strcmp(cordon_last_os_error().call, "sigaction") == 0);
        CHECK(!cordon_trap_installed());
        same_action(SIGSEGV, &segv_before);
        same_action(SIGBUS, &bus_before);
        int calls = 0;
        cordon_trap t;
        CHECK_STATUS(cordon_trap_run(nothing, &calls, &t), CORDON_WRONG_STATE);
    }
    CHECK_OK(cordon_trap_install());
    CHECK(cordon_trap_installed());
#endif
}

#if defined(_WIN32)
/* The calling thread's stack guarantee, read without a change (ULONG_MAX if the call fails). Windows
 * has no alternate stack: the guarantee is where its handler runs after an overflow. */
static ULONG stack_guarantee(void) {
    ULONG size = 0;
    return SetThreadStackGuarantee(&size) ? size : ~(ULONG)0;
}
#else
static bool altstack_disabled(void) {
    stack_t cur;
    CHECK(sigaltstack(NULL, &cur) == 0);
    return (cur.ss_flags & SS_DISABLE) != 0;
}
#endif

typedef struct prep_case {
    cordon__sys_call call;
    uint64_t nth;
    int err;
    cordon_status expected;
    const char *name;
} prep_case;

static void *prep_failures(void *arg) {
    (void)arg;
#if defined(_WIN32)
    /* The steps of a thread's first run: its state (malloc), the guarantee read (sigaltstack's fault
     * point), the slot's value (pthread_setspecific's), the guard page (VirtualQuery, then mprotect's),
     * the guarantee raised (sigaltstack's, second). The guard steps happen where the stack is already
     * committed there (always under Wine). */
    ULONG guarantee = stack_guarantee();
    const prep_case cases[] = {
        {CORDON__CALL_MALLOC, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "malloc"},
        {CORDON__CALL_SIGALTSTACK, 1, EFAULT, CORDON_OS_ERROR, "sigaltstack"},
        {CORDON__CALL_PTHREAD_SETSPECIFIC, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "pthread_setspecific"},
        {CORDON__CALL_VIRTUAL_QUERY, 1, ERROR_INVALID_PARAMETER, CORDON_OS_ERROR, "VirtualQuery"},
        {CORDON__CALL_MPROTECT, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "mprotect"},
        {CORDON__CALL_SIGALTSTACK, 2, ENOMEM, CORDON_OUT_OF_MEMORY, "sigaltstack"},
    };
    uint64_t live = cordon__sys_trap_altstacks_live();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cordon__fault_reset();
        if (cordon__fault_arm(cases[i].call, cases[i].nth, 1, cases[i].err) != CORDON_OK) {
            return (void *)(uintptr_t)(100 + i);
        }
        int calls = 0;
        cordon_trap t;
        cordon_status st = cordon_trap_run(nothing, &calls, &t);
        uint64_t fired = cordon__fault_fired(cases[i].call);
        cordon__fault_stop();
        if (fired == 0 && (cases[i].call == CORDON__CALL_VIRTUAL_QUERY || cases[i].call == CORDON__CALL_MPROTECT)) {
            return (void *)(uintptr_t)(400 + i); /* the stack was not committed there: see the SKIP below */
        }
        if (st != cases[i].expected || calls != 0 || strcmp(cordon_last_os_error().call, cases[i].name) != 0 ||
            cordon__sys_trap_altstacks_live() != live || stack_guarantee() != guarantee) {
            return (void *)(uintptr_t)(200 + i);
        }
    }
    int calls = 0;
    cordon_trap t;
    if (cordon_trap_run(nothing, &calls, &t) != CORDON_OK || calls != 1) {
        return (void *)(uintptr_t)300;
    }
    if (cordon__sys_trap_altstacks_live() != live + 1 || stack_guarantee() < guarantee) {
        return (void *)(uintptr_t)301;
    }
    return NULL;
#else
    /* A fresh thread: no alternate stack (unless a sanitizer gave it one). */
    bool had_none = altstack_disabled();
    const prep_case cases[] = {
        {CORDON__CALL_PTHREAD_GETATTR_NP, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "pthread_getattr_np"},
        {CORDON__CALL_SIGALTSTACK, 1, EFAULT, CORDON_OS_ERROR, "sigaltstack"},
        {CORDON__CALL_MMAP, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "mmap"},
        {CORDON__CALL_MPROTECT, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "mprotect"},
        {CORDON__CALL_PTHREAD_SETSPECIFIC, 1, ENOMEM, CORDON_OUT_OF_MEMORY, "pthread_setspecific"},
        {CORDON__CALL_SIGALTSTACK, 2, ENOMEM, CORDON_OUT_OF_MEMORY, "sigaltstack"},
    };
    uint64_t live = cordon__sys_trap_altstacks_live();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!had_none && cases[i].call != CORDON__CALL_PTHREAD_GETATTR_NP &&
            !(cases[i].call == CORDON__CALL_SIGALTSTACK && cases[i].nth == 1)) {
            continue; /* the thread keeps its own alternate stack: those steps do not happen */
        }
        cordon__fault_reset();
        if (cordon__fault_arm(cases[i].call, cases[i].nth, 1, cases[i].err) != CORDON_OK) {
            return (void *)(uintptr_t)(100 + i);
        }
        int calls = 0;
        cordon_trap t;
        cordon_status st = cordon_trap_run(nothing, &calls, &t);
        cordon__fault_stop();
        if (st != cases[i].expected || calls != 0 || strcmp(cordon_last_os_error().call, cases[i].name) != 0 ||
            altstack_disabled() != had_none || cordon__sys_trap_altstacks_live() != live) {
            return (void *)(uintptr_t)(200 + i);
        }
    }
    int calls = 0;
    cordon_trap t;
    if (cordon_trap_run(nothing, &calls, &t) != CORDON_OK || calls != 1) {
        return (void *)(uintptr_t)300;
    }
    if (had_none && altstack_disabled()) {
        return (void *)(uintptr_t)301;
    }
    return NULL;
#endif
}

TEST(thread_preparation_failures_change_nothing_and_a_later_run_succeeds) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
    CHECK_OK(cordon_trap_install());
    pthread_t th;
    CHECK(pthread_create(&th, NULL, prep_failures, NULL) == 0);
    void *r = (void *)1;
    CHECK(pthread_join(th, &r) == 0);
#if defined(_WIN32)
    if ((uintptr_t)r >= 400 && (uintptr_t)r < 500) {
        SKIP("the new thread's stack is not committed where the overflow guard goes (Windows commits stacks "
             "as they grow), so the guard steps were not taken; the other steps were checked");
    }
#endif
    CHECK_EQ_U64((uintptr_t)r, 0);
}

TEST(the_exit_hook_key_failure_changes_nothing) {
    if (!cordon__fault_available()) {
        SKIP("fault injection is not compiled into this build");
    }
#if defined(_WIN32)
    /* Windows: the fiber-local slot of the thread states (FlsAlloc, under pthread_key_create's fault
     * point); no state is allocated until it exists. */
    CHECK_OK(cordon_trap_install());
    uint64_t live = cordon__sys_trap_altstacks_live();
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_KEY_CREATE, 1, 1, EAGAIN));
    int calls = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(nothing, &calls, &t), CORDON_OUT_OF_RESOURCES);
    cordon__fault_stop();
    CHECK(calls == 0);
    CHECK_EQ_U64(cordon__sys_trap_altstacks_live(), live);
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK(calls == 1);
    CHECK_EQ_U64(cordon__sys_trap_altstacks_live(), live + 1);
#else
    if (!altstack_disabled()) {
        SKIP("this thread already has an alternate stack (a sanitizer's): cordon keeps it and makes no key");
    }
    CHECK_OK(cordon_trap_install());
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_PTHREAD_KEY_CREATE, 1, 1, EAGAIN));
    int calls = 0;
    cordon_trap t;
    CHECK_STATUS(cordon_trap_run(nothing, &calls, &t), CORDON_OUT_OF_RESOURCES);
    cordon__fault_stop();
    CHECK(calls == 0);
    CHECK(altstack_disabled());
    CHECK_OK(cordon_trap_run(nothing, &calls, &t));
    CHECK(calls == 1);
    CHECK(!altstack_disabled());
#endif
}
