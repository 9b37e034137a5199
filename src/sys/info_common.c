/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the facts about the machine that are the same on every platform: the build's backends and
 * the page size everything uses (the OS's, or one a test injected); the OS's own facts are per platform
 * (info.c, win32/info_win32.c). */
#include <string.h>

#include "sys/sys_internal.h"

#ifndef CORDON_FUTEX_BACKEND_NAME
#  define CORDON_FUTEX_BACKEND_NAME "none"
#endif
#ifndef CORDON_COMPUTE_BACKENDS
#  define CORDON_COMPUTE_BACKENDS "none"
#endif

const char *cordon__sys_futex_backend_name(void) {
    return CORDON_FUTEX_BACKEND_NAME;
}

const char *cordon__sys_compute_backends(void) {
    return CORDON_COMPUTE_BACKENDS;
}

cordon_status cordon__sys_page_size(size_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
#if defined(CORDON_FAULT_INJECTION) && CORDON_FAULT_INJECTION
    /* An injected page size (fault.h). On Windows reservations start on the 64 KiB allocation
     * granularity, so an injected page up to 64 KiB needs no slack at reserve there. */
    size_t injected = cordon__fault_injected_page(NULL);
    if (injected != 0) {
        *out = injected;
        return CORDON_OK;
    }
#endif
    return cordon__sys_os_page_size(out);
}

void cordon__sys_copy_truncated(char *dst, size_t dst_len, const char *src) {
    size_t n = strlen(src);
    if (n >= dst_len) {
        n = dst_len - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}
