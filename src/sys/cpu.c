/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the process environment's settings (the compute kernels' instruction-set choice and others)
 * on POSIX systems; what the processor can run is cpu_features.c's. */
#define _GNU_SOURCE /* secure_getenv */

#include <stdlib.h>
#include <string.h>

#include "sys/sys_internal.h"

cordon_status cordon__sys_env_get(const char *name, char *buf, size_t len, bool *found_out) {
    if (name == NULL || buf == NULL || len == 0 || found_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* SAFETY: secure_getenv -- read one setting from the process environment.
     * Relies on: name is a NUL-terminated string; the result is copied out at once (the environment
     * may change after this call, so the pointer is not kept); secure_getenv ignores the environment
     * in set-user-ID programs, so a setting cannot be injected into a privileged process. Concurrent
     * setenv calls in the host program are the host's data race, as for every getenv.
     * On failure: NULL means absent; nothing to report. */
    const char *v = secure_getenv(name);
    if (v == NULL) {
        *found_out = false;
        buf[0] = '\0';
        return CORDON_OK;
    }
    size_t n = strlen(v);
    if (n >= len) {
        return CORDON_LIMIT_EXCEEDED;
    }
    memcpy(buf, v, n + 1);
    *found_out = true;
    return CORDON_OK;
}
