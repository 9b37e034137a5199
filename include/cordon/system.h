/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what the library sees of the machine it runs on.
 *
 * Thread safety: every function here may be called from any thread at any time. */
#ifndef CORDON_SYSTEM_H
#define CORDON_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

typedef struct cordon_system_info {
    /* Operating system name and kernel release ("Linux", "6.1.0-…"). NUL-terminated, truncated. */
    char os_name[32];
    char os_release[64];
    /* The OS page size in bytes (the granularity of protection changes). */
    size_t page_size;
    /* The transparent huge page size in bytes, or 0 when the OS offers none. */
    size_t huge_page_size;
    /* Transparent huge pages mode as the OS reports it: "always", "madvise", "never" or "" unknown. */
    char huge_page_mode[16];
    /* CPUs online, and CPUs this process may run on (its affinity mask), both >= 1. */
    unsigned cpu_count_online;
    unsigned cpu_count_usable;
    /* The futex backend compiled in ("linux-futex", "macos-ulock", "parking-lot"). Static string. */
    const char *futex_backend;
    /* The compute backends compiled in, space separated ("cpu blas opencl"). Static string. */
    const char *compute_backends;
} cordon_system_info;

/* Fills *out. On failure *out is untouched and cordon_last_os_error() tells which call failed.
 * Returns CORDON_INVALID_ARGUMENT when out is NULL. */
CORDON_API CORDON_NODISCARD cordon_status cordon_system_info_get(cordon_system_info *out);

/* Nanoseconds on the monotonic clock (never jumps, unaffected by wall-clock changes). */
CORDON_API CORDON_NODISCARD cordon_status cordon_time_monotonic_ns(uint64_t *out);

CORDON_END_DECLS

#endif /* CORDON_SYSTEM_H */
