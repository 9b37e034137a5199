/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — facts about the machine on Windows: page size, CPUs, the monotonic clock, OS identity (what
 * every platform shares is info_common.c's).
 * Fault points keep the identifiers of the POSIX counterparts (SYSCONF, SCHED_GETAFFINITY,
 * CLOCK_GETTIME, UNAME); an injected value is an errno value. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

static void system_info(SYSTEM_INFO *si) {
    /* SAFETY: GetSystemInfo -- read the page size (4 KiB on x64; the protection granularity) and the
     * processor count.
     * Relies on: si points at a local SYSTEM_INFO the call fills completely.
     * On failure: cannot fail. */
    GetSystemInfo(si);
}

cordon_status cordon__sys_os_page_size(size_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(SYSCONF, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_SYSCONF, err);
    }
    SYSTEM_INFO si;
    system_info(&si);
    /* Reservations start on the allocation granularity (64 KiB) but are protected, committed and
     * released page by page: the page size is the unit the contract speaks of. */
    *out = (size_t)si.dwPageSize;
    return CORDON_OK;
}

cordon_status cordon__sys_cpu_counts(unsigned *online_out, unsigned *usable_out) {
    if (online_out == NULL || usable_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    SYSTEM_INFO si;
    system_info(&si);
    int err = 0;
    if (CORDON__FAULT(SCHED_GETAFFINITY, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_SCHED_GETAFFINITY, err);
    }
    DWORD_PTR process_mask = 0;
    DWORD_PTR system_mask = 0;
    /* SAFETY: GetCurrentProcess -- the pseudo-handle of this process, for the affinity query.
     * Relies on: a constant pseudo-handle that needs no closing, used only by the call that follows.
     * On failure: cannot fail. */
    HANDLE self = GetCurrentProcess();
    /* SAFETY: GetProcessAffinityMask -- count the processors this process may run on (job objects,
     * start /affinity).
     * Relies on: self is the pseudo-handle of this process (above), valid without closing; both
     * masks are locals the call fills and are read only on success. On a machine with more than one
     * processor group the mask covers the process's group only, which is where its threads run.
     * On failure: recorded as "GetProcessAffinityMask" with the Win32 error; outputs untouched. */
    if (!GetProcessAffinityMask(self, &process_mask, &system_mask)) {
        return cordon__sys_fail_win32("GetProcessAffinityMask", cordon__sys_win32_error());
    }
    unsigned usable = (unsigned)__builtin_popcountll((unsigned long long)process_mask);
    unsigned online = si.dwNumberOfProcessors > 0 ? (unsigned)si.dwNumberOfProcessors : 1u;
    *online_out = online;
    *usable_out = usable > 0 ? usable : 1u;
    return CORDON_OK;
}

/* Ticks per second of the performance counter: fixed at boot, so read once. */
static _Atomic uint64_t qpc_frequency;

cordon_status cordon__sys_monotonic_ns(uint64_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CLOCK_GETTIME, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_CLOCK_GETTIME, err);
    }
    uint64_t freq = atomic_load_explicit(&qpc_frequency, memory_order_relaxed);
    if (freq == 0) {
        LARGE_INTEGER f;
        /* SAFETY: QueryPerformanceFrequency -- the counter's ticks per second.
         * Relies on: f is a local the call fills; on Windows XP and later the call always succeeds and
         * the value is fixed at boot, so a racing second store writes the same value.
         * On failure: recorded as "QueryPerformanceFrequency"; *out untouched. */
        if (!QueryPerformanceFrequency(&f) || f.QuadPart <= 0) {
            return cordon__sys_fail_win32("QueryPerformanceFrequency", cordon__sys_win32_error());
        }
        freq = (uint64_t)f.QuadPart;
        atomic_store_explicit(&qpc_frequency, freq, memory_order_relaxed);
    }
    LARGE_INTEGER c;
    /* SAFETY: QueryPerformanceCounter -- read the monotonic performance counter.
     * Relies on: c is a local the call fills; the counter is monotonic across processors (documented
     * for Windows Vista and later) and non-negative.
     * On failure: recorded as "QueryPerformanceCounter"; *out untouched. */
    if (!QueryPerformanceCounter(&c) || c.QuadPart < 0) {
        return cordon__sys_fail_win32("QueryPerformanceCounter", cordon__sys_win32_error());
    }
    uint64_t ticks = (uint64_t)c.QuadPart;
    /* Split so the product cannot overflow: whole seconds, then the remainder scaled. */
    *out = (ticks / freq) * 1000000000u + ((ticks % freq) * 1000000000u) / freq;
    return CORDON_OK;
}

cordon_status cordon__sys_os_identity(char *name, size_t name_len, char *release, size_t release_len) {
    if (name == NULL || release == NULL || name_len == 0 || release_len == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(UNAME, &err)) {
        return cordon__sys_fail_injected(CORDON__CALL_UNAME, err);
    }
    OSVERSIONINFOW v;
    memset(&v, 0, sizeof v);
    v.dwOSVersionInfoSize = sizeof v;
    /* SAFETY: RtlGetVersion -- the Windows version and build for `cordon info` and bug reports (the true
     * version: GetVersionEx reports the one the program's manifest claims; declared in win32_internal.h).
     * Relies on: v is a local whose dwOSVersionInfoSize names its exact size, as the call requires;
     * only the numeric fields are read.
     * On failure: returns a nonzero NTSTATUS, recorded as "RtlGetVersion"; outputs untouched. */
    LONG ntst = RtlGetVersion(&v);
    if (ntst != 0) {
        return cordon__sys_fail_win32("RtlGetVersion", (int)ntst);
    }
    char text[64];
    unsigned long parts[3] = {v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber};
    size_t at = 0;
    for (size_t i = 0; i < 3; i++) {
        char digits[16];
        size_t nd = 0;
        unsigned long x = parts[i];
        do {
            digits[nd++] = (char)('0' + (int)(x % 10u));
            x /= 10u;
        } while (x != 0 && nd < sizeof digits);
        if (i > 0) {
            text[at++] = '.';
        }
        while (nd > 0) {
            text[at++] = digits[--nd];
        }
    }
    text[at] = '\0';
    cordon__sys_copy_truncated(name, name_len, "Windows");
    cordon__sys_copy_truncated(release, release_len, text);
    return CORDON_OK;
}

cordon_status cordon__sys_huge_page_info(size_t *size_out, char *mode, size_t mode_len) {
    if (size_out == NULL || mode == NULL || mode_len == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* Windows has large pages only on explicit request (MEM_LARGE_PAGES, with the lock-pages
     * privilege), never transparently: no transparent huge pages, mode "never". */
    *size_out = 0;
    cordon__sys_copy_truncated(mode, mode_len, "never");
    return CORDON_OK;
}
