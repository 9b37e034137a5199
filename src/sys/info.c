/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — facts about the machine from a POSIX OS: page size, huge pages, CPUs, clock, OS identity
 * (what every platform shares is info_common.c's). */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sys/sys_internal.h"

/* sysconf(name) as a positive long, with fault injection. */
static cordon_status sysconf_positive(int name, long *out) {
    int err = 0;
    if (CORDON__FAULT(SYSCONF, &err)) {
        return cordon__sys_fail("sysconf", err);
    }
    /* SAFETY: sysconf -- ask for a machine limit (page size, CPUs online).
     * Relies on: name is one of the constants the callers below pass; errno was cleared just before,
     * so a -1 without errno (unsupported name) is told apart; the result is only used when positive.
     * On failure: recorded as "sysconf" with errno, or EINVAL when the OS gave no errno for an
     * unsupported name; CORDON_OS_ERROR. */
    cordon__sys_errno_reset();
    long v = sysconf(name);
    if (v <= 0) {
        int e = cordon__sys_errno();
        return cordon__sys_fail("sysconf", e != 0 ? e : EINVAL);
    }
    *out = v;
    return CORDON_OK;
}

cordon_status cordon__sys_os_page_size(size_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    long v = 0;
    cordon_status st = sysconf_positive(_SC_PAGESIZE, &v);
    if (st != CORDON_OK) {
        return st;
    }
    *out = (size_t)v;
    return CORDON_OK;
}

cordon_status cordon__sys_cpu_counts(unsigned *online_out, unsigned *usable_out) {
    if (online_out == NULL || usable_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    long online = 0;
    cordon_status st = sysconf_positive(_SC_NPROCESSORS_ONLN, &online);
    if (st != CORDON_OK) {
        return st;
    }
    int err = 0;
    if (CORDON__FAULT(SCHED_GETAFFINITY, &err)) {
        return cordon__sys_fail("sched_getaffinity", err);
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    /* SAFETY: sched_getaffinity -- count the CPUs this process may run on (containers, taskset).
     * Relies on: set is a local cpu_set_t and its exact size is passed; pid 0 means this thread.
     * Machines with more than CPU_SETSIZE (1024) CPUs make the call fail with EINVAL; that is
     * reported, not guessed around.
     * On failure: recorded as "sched_getaffinity" with errno; outputs untouched. */
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        return cordon__sys_fail("sched_getaffinity", cordon__sys_errno());
    }
    /* SAFETY: CPU_COUNT -- count the bits of the affinity mask (glibc implements the macro with
     * __sched_cpucount).
     * Relies on: set was filled by the successful call above; the size passed is sizeof set.
     * On failure: cannot fail. */
    int usable = CPU_COUNT(&set);
    *online_out = (unsigned)online;
    *usable_out = usable > 0 ? (unsigned)usable : 1u;
    return CORDON_OK;
}

cordon_status cordon__sys_monotonic_ns(uint64_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CLOCK_GETTIME, &err)) {
        return cordon__sys_fail("clock_gettime", err);
    }
    struct timespec ts;
    /* SAFETY: clock_gettime -- read the monotonic clock.
     * Relies on: ts is a local the call fills; CLOCK_MONOTONIC exists on every supported OS;
     * tv_sec and tv_nsec are non-negative for this clock, so the conversion to unsigned is exact
     * (2^64 ns is 584 years of uptime).
     * On failure: recorded as "clock_gettime" with errno; *out untouched. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return cordon__sys_fail("clock_gettime", cordon__sys_errno());
    }
    *out = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return CORDON_OK;
}

cordon_status cordon__sys_os_identity(char *name, size_t name_len, char *release, size_t release_len) {
    if (name == NULL || release == NULL || name_len == 0 || release_len == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(UNAME, &err)) {
        return cordon__sys_fail("uname", err);
    }
    struct utsname u;
    /* SAFETY: uname -- name the OS and its release for `cordon info` and bug reports.
     * Relies on: u is a local the call fills with NUL-terminated fields; they are copied out with
     * explicit truncation.
     * On failure: recorded as "uname" with errno; outputs untouched. */
    if (uname(&u) != 0) {
        return cordon__sys_fail("uname", cordon__sys_errno());
    }
    cordon__sys_copy_truncated(name, name_len, u.sysname);
    cordon__sys_copy_truncated(release, release_len, u.release);
    return CORDON_OK;
}

/* Reads up to len - 1 bytes of a small text file into buf (NUL-terminated). ENOENT is reported as
 * CORDON_UNSUPPORTED: the file describes a feature the kernel does not have. */
static cordon_status read_small_file(const char *path, char *buf, size_t len) {
    int err = 0;
    int fd = -1;
    for (;;) {
        if (CORDON__FAULT(OPEN, &err)) {
            fd = -1;
        } else {
            /* SAFETY: open -- open a read-only kernel information file (sysfs).
             * Relies on: path is a NUL-terminated constant from this file; O_CLOEXEC so no child
             * inherits the descriptor; the descriptor is closed on every path below.
             * On failure: EINTR retried; ENOENT → CORDON_UNSUPPORTED; others recorded as "open". */
            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                err = cordon__sys_errno();
            }
        }
        if (fd >= 0) {
            break;
        }
        if (err == EINTR) {
            continue;
        }
        return cordon__sys_fail_as(err == ENOENT ? CORDON_UNSUPPORTED : cordon__sys_status_from_errno(err),
                                   "open", err);
    }
    size_t used = 0;
    cordon_status st = CORDON_OK;
    while (used + 1 < len) {
        ssize_t n;
        if (CORDON__FAULT(READ, &err)) {
            n = -1;
        } else {
            /* SAFETY: read -- read the file's text.
             * Relies on: fd is the open descriptor from above; buf + used has len - 1 - used bytes
             * left, leaving room for the NUL; n is checked before it is used.
             * On failure: EINTR retried; others recorded as "read" and the descriptor closed. */
            n = read(fd, buf + used, len - 1 - used);
            if (n < 0) {
                err = cordon__sys_errno();
            }
        }
        if (n == 0) {
            break;
        }
        if (n < 0) {
            if (err == EINTR) {
                continue;
            }
            st = cordon__sys_fail("read", err);
            break;
        }
        used += (size_t)n;
    }
    buf[used] = '\0';
    if (CORDON__FAULT(CLOSE, &err)) {
        /* An injected close failure: the descriptor is still closed below, so nothing leaks. */
        if (st == CORDON_OK) {
            st = cordon__sys_fail("close", err);
        }
    }
    /* SAFETY: close -- release the descriptor opened above, exactly once.
     * Relies on: fd is open and owned by this function; close is not retried on EINTR because on
     * Linux the descriptor is released even then, and a retry could close a descriptor another thread
     * just opened.
     * On failure: a read-only file has nothing to flush, so the contents read stay valid; the
     * failure is recorded as "close" only if nothing failed before. */
    if (close(fd) != 0 && st == CORDON_OK) {
        st = cordon__sys_fail("close", cordon__sys_errno());
    }
    return st;
}

cordon_status cordon__sys_huge_page_info(size_t *size_out, char *mode, size_t mode_len) {
    if (size_out == NULL || mode == NULL || mode_len == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    char text[256];
    size_t size = 0;
    char mode_text[16] = "";
    cordon_status st = read_small_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", text, sizeof text);
    if (st == CORDON_OK) {
        unsigned long long v = 0;
        for (const char *p = text; *p >= '0' && *p <= '9'; p++) {
            v = v * 10u + (unsigned long long)(*p - '0');
            if (v > (1ull << 40)) {
                break;
            }
        }
        size = (size_t)v;
    } else if (st != CORDON_UNSUPPORTED) {
        return st;
    }
    st = read_small_file("/sys/kernel/mm/transparent_hugepage/enabled", text, sizeof text);
    if (st == CORDON_OK) {
        /* The active mode is the bracketed word: "always [madvise] never". */
        const char *open_br = strchr(text, '[');
        const char *close_br = open_br != NULL ? strchr(open_br, ']') : NULL;
        if (open_br != NULL && close_br != NULL) {
            size_t n = (size_t)(close_br - open_br - 1);
            if (n >= sizeof mode_text) {
                n = sizeof mode_text - 1;
            }
            memcpy(mode_text, open_br + 1, n);
            mode_text[n] = '\0';
        }
    } else if (st != CORDON_UNSUPPORTED) {
        return st;
    }
    if (strcmp(mode_text, "never") == 0) {
        size = 0;
    }
    *size_out = size;
    cordon__sys_copy_truncated(mode, mode_len, mode_text);
    return CORDON_OK;
}
