/* SPDX-License-Identifier: Apache-2.0 */
/* Machine facts, and the OS failures behind them (fault injection). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#if defined(_WIN32)
#  include <windows.h>
#endif

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"
#include "sys/sys.h"

TEST(system_info_matches_the_os) {
    cordon_system_info info;
    CHECK_OK(cordon_system_info_get(&info));
#if defined(_WIN32)
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    CHECK_EQ_U64(info.page_size, (uint64_t)si.dwPageSize);
#else
    CHECK_EQ_U64(info.page_size, (uint64_t)sysconf(_SC_PAGESIZE));
#endif
    CHECK(info.cpu_count_online >= 1);
    CHECK(info.cpu_count_usable >= 1 && info.cpu_count_usable <= info.cpu_count_online);
    CHECK(info.os_name[0] != '\0');
    CHECK(info.futex_backend != NULL && info.compute_backends != NULL);
    CHECK(info.huge_page_size == 0 || (info.huge_page_size & (info.huge_page_size - 1)) == 0);
}

TEST(system_info_rejects_null) {
    CHECK_STATUS(cordon_system_info_get(NULL), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon_time_monotonic_ns(NULL), CORDON_INVALID_ARGUMENT);
}

TEST(monotonic_clock_never_goes_back) {
    uint64_t prev = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t now = 0;
        CHECK_OK(cordon_time_monotonic_ns(&now));
        CHECK(now >= prev);
        prev = now;
    }
}

static void require_fault_injection(void) {
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
}

TEST(injected_failure_is_reported_and_leaves_output_untouched) {
    require_fault_injection();
    cordon_system_info info;
    memset(&info, 0xAB, sizeof info);
    cordon_system_info before = info;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_SCHED_GETAFFINITY, 1, 1, EPERM));
    CHECK_STATUS(cordon_system_info_get(&info), CORDON_PERMISSION_DENIED);
    CHECK(memcmp(&info, &before, sizeof info) == 0);
    cordon_os_error e = cordon_last_os_error();
    CHECK_EQ_I64(e.code, EPERM);
    CHECK(strcmp(e.call, "sched_getaffinity") == 0);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_SCHED_GETAFFINITY), 1);
    /* Only the first call was armed: the next one succeeds. */
    CHECK_OK(cordon_system_info_get(&info));
    cordon__fault_stop();
}

TEST(fault_fires_on_the_nth_call_only) {
    require_fault_injection();
    uint64_t t = 0;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_CLOCK_GETTIME, 3, 1, EINVAL));
    CHECK_OK(cordon_time_monotonic_ns(&t));
    CHECK_OK(cordon_time_monotonic_ns(&t));
    uint64_t kept = t;
    CHECK_STATUS(cordon_time_monotonic_ns(&t), CORDON_OS_ERROR);
    CHECK_EQ_U64(t, kept);
    CHECK_OK(cordon_time_monotonic_ns(&t));
    CHECK_EQ_U64(cordon__fault_calls(CORDON__CALL_CLOCK_GETTIME), 4);
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_CLOCK_GETTIME), 1);
    cordon__fault_stop();
}

TEST(fault_with_count_fails_every_call_in_the_window) {
    require_fault_injection();
    uint64_t t = 0;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_CLOCK_GETTIME, 2, UINT64_MAX, ENOMEM));
    CHECK_OK(cordon_time_monotonic_ns(&t));
    for (int i = 0; i < 5; i++) {
        CHECK_STATUS(cordon_time_monotonic_ns(&t), CORDON_OUT_OF_MEMORY);
    }
    cordon__fault_reset();
    CHECK_OK(cordon_time_monotonic_ns(&t));
    cordon__fault_stop();
}

TEST(injected_eintr_is_retried) {
    require_fault_injection();
#if defined(_WIN32)
    SKIP("Windows reads no file for the machine facts (no transparent huge pages): no read to interrupt");
#endif
    cordon_system_info info;
    /* The sysfs reads behind huge page detection retry EINTR: the call succeeds, one read later. */
    CHECK_OK(cordon__fault_arm(CORDON__CALL_READ, 1, 1, EINTR));
    CHECK_OK(cordon_system_info_get(&info));
    CHECK_EQ_U64(cordon__fault_fired(CORDON__CALL_READ), 1);
    uint64_t reads_with_retry = cordon__fault_calls(CORDON__CALL_READ);
    cordon__fault_reset();
    CHECK_OK(cordon_system_info_get(&info));
    if (cordon__fault_calls(CORDON__CALL_READ) == 0) {
        cordon__fault_stop();
        SKIP("this kernel exposes no transparent huge page files to read");
    }
    CHECK_EQ_U64(reads_with_retry, cordon__fault_calls(CORDON__CALL_READ) + 1);
    cordon__fault_stop();
}

TEST(every_foundation_call_failure_is_reported) {
    require_fault_injection();
    /* Sweep: fail each call made by cordon_system_info_get in turn; each failure must surface as a
     * status with the call's name recorded, and the output must stay untouched. */
    const cordon__sys_call calls[] = {CORDON__CALL_UNAME, CORDON__CALL_SYSCONF, CORDON__CALL_OPEN,
                                      CORDON__CALL_READ, CORDON__CALL_CLOSE, CORDON__CALL_SCHED_GETAFFINITY};
    int exercised = 0;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        for (uint64_t nth = 1; nth < 8; nth++) {
            cordon_system_info info;
            memset(&info, 0x5A, sizeof info);
            cordon__fault_reset();
            CHECK_OK(cordon__fault_arm(calls[i], nth, 1, EIO));
            cordon_clear_os_error();
            cordon_status st = cordon_system_info_get(&info);
            if (cordon__fault_fired(calls[i]) == 0) {
                CHECK_OK(st);
                break;
            }
            exercised++;
            CHECK_STATUS(st, CORDON_OS_ERROR);
            CHECK_EQ_I64(cordon_last_os_error().code, EIO);
            CHECK(strcmp(cordon_last_os_error().call, cordon__sys_call_name(calls[i])) == 0);
            unsigned char *bytes = (unsigned char *)&info;
            for (size_t b = 0; b < sizeof info; b++) {
                CHECK(bytes[b] == 0x5A);
            }
        }
    }
    CHECK(exercised >= 3);
    cordon__fault_stop();
}

TEST(fault_arm_rejects_bad_arguments) {
    require_fault_injection();
    CHECK_STATUS(cordon__fault_arm(CORDON__CALL_MALLOC, 0, 1, ENOMEM), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 0, ENOMEM), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__fault_arm(CORDON__CALL_COUNT, 1, 1, ENOMEM), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_I64(cordon__sys_call_lookup("mmap_no_such"), -1);
    CHECK_EQ_I64(cordon__sys_call_lookup("malloc"), CORDON__CALL_MALLOC);
    cordon__fault_stop();
}

TEST(heap_failures_are_injectable) {
    require_fault_injection();
    void *p = (void *)0x1;
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MALLOC, 1, 1, ENOMEM));
    CHECK_STATUS(cordon__sys_alloc(64, &p), CORDON_OUT_OF_MEMORY);
    CHECK(p == (void *)0x1);
    CHECK_OK(cordon__fault_arm(CORDON__CALL_POSIX_MEMALIGN, 1, 1, ENOMEM));
    CHECK_STATUS(cordon__sys_alloc_aligned(64, 64, &p), CORDON_OUT_OF_MEMORY);
    CHECK(p == (void *)0x1);
    cordon__fault_stop();
    CHECK_OK(cordon__sys_alloc_aligned(64, 100, &p));
    CHECK(((uintptr_t)p & 63u) == 0);
    for (int i = 0; i < 100; i++) {
        CHECK(((unsigned char *)p)[i] == 0);
    }
    cordon__sys_free(p);
    CHECK_STATUS(cordon__sys_alloc_aligned(48, 64, &p), CORDON_INVALID_ARGUMENT);
    CHECK_STATUS(cordon__sys_alloc(0, &p), CORDON_INVALID_ARGUMENT);
}
