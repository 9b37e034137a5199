/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the process environment's settings on Windows (the Win32 counterpart of cpu.c; what the
 * processor can run is cpu_features.c's, shared). */
#define WIN32_LEAN_AND_MEAN

#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

cordon_status cordon__sys_env_get(const char *name, char *buf, size_t len, bool *found_out) {
    if (name == NULL || buf == NULL || len == 0 || found_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    char value[1024];
    /* SAFETY: GetEnvironmentVariableA -- read one setting from the process environment.
     * Relies on: name is NUL-terminated; value is a local array whose size is passed, and the call
     * copies at most that many characters (with the NUL), returning the length without it, or the
     * size needed (greater than the array) when it does not fit, or 0 when the variable is absent.
     * Windows has no set-user-ID programs, so the environment is the user's own.
     * On failure: 0 means absent (ERROR_ENVVAR_NOT_FOUND) or empty: both read as not set. */
    DWORD n = GetEnvironmentVariableA(name, value, (DWORD)sizeof value);
    if (n == 0) {
        *found_out = false;
        buf[0] = '\0';
        return CORDON_OK;
    }
    if (n >= sizeof value || (size_t)n >= len) {
        return CORDON_LIMIT_EXCEEDED;
    }
    memcpy(buf, value, (size_t)n + 1u);
    *found_out = true;
    return CORDON_OK;
}
