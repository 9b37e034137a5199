/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the per-thread record of the last OS failure on Windows, and the errno and Win32 error code
 * → status mappings (the Win32 counterpart of error.c).
 *
 * errno (left by the C runtime's calls, such as the heap's) and GetLastError (left by Win32 calls) are
 * each read in exactly one place, so that "captured at once" is one audited invariant. The record keeps
 * which of the two a code is, so that cordon_format_os_error describes it with the right table. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

typedef struct os_error_slot {
    int code;
    const char *call;
    bool win32; /* code is a Win32 error code (GetLastError), not an errno value */
} os_error_slot;

/* Thread-local: each thread sees only its own failures, and no lock is needed. */
static _Thread_local os_error_slot last_error = {0, "", false};

int cordon__sys_errno(void) {
    /* SAFETY: errno -- read the error code the failed C runtime call just left.
     * Relies on: called directly after the failing call with no other library call in between; errno
     * is per thread in the Windows C runtime, so no other thread can overwrite it.
     * On failure: cannot fail. */
    return errno;
}

void cordon__sys_errno_reset(void) {
    /* SAFETY: errno -- clear the error code before a call that may fail without setting it.
     * Relies on: errno is per thread; no library call sits between this reset and the call it prepares.
     * On failure: cannot fail. */
    errno = 0;
}

int cordon__sys_win32_error(void) {
    /* SAFETY: GetLastError -- read the Win32 error code the failed call just left.
     * Relies on: called first thing on the failure branch of a Win32 call, with no other call in
     * between (the calling thread's last-error value is per thread); codes used by the system are below
     * 2^31, so the conversion to int keeps the value.
     * On failure: cannot fail. */
    return (int)GetLastError();
}

cordon_status cordon__sys_status_from_errno(int err) {
    switch (err) {
    case ENOMEM:
        return CORDON_OUT_OF_MEMORY;
    case EAGAIN:
    case EMFILE:
    case ENFILE:
    case ENOSPC:
        return CORDON_OUT_OF_RESOURCES;
    case EPERM:
    case EACCES:
        return CORDON_PERMISSION_DENIED;
    case ENOSYS:
    case EOPNOTSUPP:
        return CORDON_UNSUPPORTED;
    case ETIMEDOUT:
        return CORDON_TIMED_OUT;
    default:
        return CORDON_OS_ERROR;
    }
}

cordon_status cordon__sys_status_from_win32(int code) {
    switch (code) {
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_COMMITMENT_LIMIT:
        return CORDON_OUT_OF_MEMORY;
    case ERROR_TOO_MANY_OPEN_FILES:
    case ERROR_NO_SYSTEM_RESOURCES:
    case ERROR_NOT_ENOUGH_QUOTA:
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_MAX_THRDS_REACHED:
        return CORDON_OUT_OF_RESOURCES;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
        return CORDON_PERMISSION_DENIED;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
        return CORDON_UNSUPPORTED;
    case ERROR_TIMEOUT:
        return CORDON_TIMED_OUT;
    default:
        return CORDON_OS_ERROR;
    }
}

static cordon_status record(cordon_status status, const char *call, int code, bool win32) {
    last_error.code = code;
    last_error.call = call != NULL ? call : "";
    last_error.win32 = win32;
    return status;
}

cordon_status cordon__sys_fail_as(cordon_status status, const char *call, int err) {
    return record(status, call, err, false);
}

cordon_status cordon__sys_fail(const char *call, int err) {
    return record(cordon__sys_status_from_errno(err), call, err, false);
}

cordon_status cordon__sys_fail_win32_as(cordon_status status, const char *call, int code) {
    return record(status, call, code, true);
}

cordon_status cordon__sys_fail_win32(const char *call, int code) {
    return record(cordon__sys_status_from_win32(code), call, code, true);
}

cordon_os_error cordon_last_os_error(void) {
    cordon_os_error e;
    e.code = last_error.code;
    e.call = last_error.call;
    return e;
}

void cordon_clear_os_error(void) {
    last_error.code = 0;
    last_error.call = "";
    last_error.win32 = false;
}

size_t cordon_format_os_error(char *buf, size_t len) {
    if (buf == NULL) {
        len = 0; /* a NULL buffer only asks for the length */
    }
    char desc[128];
    desc[0] = '\0';
    if (last_error.code == 0) {
        int n = snprintf(buf, len, "no OS error recorded");
        return n > 0 ? (size_t)n : 0;
    }
    if (strncmp(last_error.call, "cl", 2) == 0 || strncmp(last_error.call, "CLBlast", 7) == 0) {
        int n = snprintf(buf, len, "%s: %s (CL error %d)", last_error.call, cordon__sys_cl_error_name(last_error.code),
                         last_error.code);
        return n > 0 ? (size_t)n : 0;
    }
    if (last_error.win32) {
        /* SAFETY: FormatMessageA -- describe the recorded Win32 error code in words.
         * Relies on: desc is a local array and its size in characters is passed; FORMAT_MESSAGE_FROM_SYSTEM
         * with FORMAT_MESSAGE_IGNORE_INSERTS reads no argument list (NULL); the result counts the
         * characters written without the NUL, so trailing line breaks are trimmed inside the array.
         * On failure: returns 0; the description stays empty and the number is still printed. */
        DWORD got = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                                   (DWORD)last_error.code, 0, desc, (DWORD)sizeof desc, NULL);
        size_t n = got < sizeof desc ? (size_t)got : 0;
        while (n > 0 && (desc[n - 1] == '\n' || desc[n - 1] == '\r' || desc[n - 1] == ' ' || desc[n - 1] == '.')) {
            n--;
        }
        desc[n] = '\0';
        int w = snprintf(buf, len, "%s: %s (Win32 error %d)", last_error.call, desc[0] ? desc : "unknown error",
                         last_error.code);
        return w > 0 ? (size_t)w : 0;
    }
    /* SAFETY: strerror_s -- describe the recorded errno value in words.
     * Relies on: desc is a local array and its size is passed; the call writes only into desc and
     * returns 0 on success, involving no buffer shared between threads.
     * On failure: the description stays empty and the number is still printed. */
    if (strerror_s(desc, sizeof desc, last_error.code) != 0) {
        desc[0] = '\0';
    }
    int n = snprintf(buf, len, "%s: %s (errno %d)", last_error.call, desc[0] ? desc : "unknown error",
                     last_error.code);
    return n > 0 ? (size_t)n : 0;
}
