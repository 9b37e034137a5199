/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — errno and GetLastError on Windows: where each is read, the Win32 error code → status
 * mapping, and descriptions in words (the Win32 counterpart of error.c). The record of the last failure
 * is error_common.c's, which keeps which of the two a code is, so that cordon_format_os_error describes
 * it with the right table.
 *
 * errno (left by the C runtime's calls, such as the heap's) and GetLastError (left by Win32 calls) are
 * each read in exactly one place, so that "captured at once" is one audited invariant. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <string.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

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

cordon_status cordon__sys_fail_win32_as(cordon_status status, const char *call, int code) {
    return cordon__sys_record_error(status, call, code, CORDON__SYS_ERROR_WIN32);
}

cordon_status cordon__sys_fail_win32(const char *call, int code) {
    return cordon__sys_fail_win32_as(cordon__sys_status_from_win32(code), call, code);
}

void cordon__sys_describe_error(int code, cordon__sys_error_kind kind, char *desc, size_t len) {
    desc[0] = '\0';
    if (kind == CORDON__SYS_ERROR_WIN32) {
        /* SAFETY: FormatMessageA -- describe the recorded Win32 error code in words.
         * Relies on: desc is the caller's array and len its size in characters (> 0, far below 2^32);
         * FORMAT_MESSAGE_FROM_SYSTEM with FORMAT_MESSAGE_IGNORE_INSERTS reads no argument list (NULL);
         * the result counts the characters written without the NUL, so trailing line breaks are
         * trimmed inside the array.
         * On failure: returns 0; the description stays empty and the caller still prints the number. */
        DWORD got = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)code, 0,
                                   desc, (DWORD)len, NULL);
        size_t n = got < len ? (size_t)got : 0;
        while (n > 0 && (desc[n - 1] == '\n' || desc[n - 1] == '\r' || desc[n - 1] == ' ' || desc[n - 1] == '.')) {
            n--;
        }
        desc[n] = '\0';
        return;
    }
    /* SAFETY: strerror_s -- describe the recorded errno value in words.
     * Relies on: desc is the caller's array and len its size; the call writes only into desc and
     * returns 0 on success, involving no buffer shared between threads.
     * On failure: the description stays empty and the caller still prints the number. */
    if (strerror_s(desc, len, code) != 0) {
        desc[0] = '\0';
    }
}
