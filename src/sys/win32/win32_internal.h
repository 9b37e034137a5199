/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — shared by the Win32 files of src/sys/ only: how a Win32 failure is read and recorded.
 *
 * A Win32 call reports its failure through GetLastError(), not errno. It is read in one place
 * (cordon__sys_win32_error, error_win32.c) right after the failing call, and recorded with the call's
 * name and the Win32 error code (cordon_last_os_error().code; cordon_format_os_error says "Win32 error").
 * Injected faults of the Win32 calls (calls.def) carry a Win32 error code as their error value. */
#ifndef CORDON_SYS_WIN32_INTERNAL_H
#define CORDON_SYS_WIN32_INTERNAL_H

#ifdef CORDON__SYS_PRIVATE_HEADER
#endif

#include <windows.h>

#include "sys/sys_internal.h"

/* ntdll's version query, which the user-mode headers of MinGW-w64 do not declare (info_win32.c). */
NTSYSAPI LONG NTAPI RtlGetVersion(OSVERSIONINFOW *info);

/* The Win32 error code the call that just failed left (GetLastError). First thing on the failure branch. */
int cordon__sys_win32_error(void);

/* The status a Win32 error code maps to: ERROR_NOT_ENOUGH_MEMORY/ERROR_OUTOFMEMORY/ERROR_COMMITMENT_LIMIT →
 * OUT_OF_MEMORY; ERROR_TOO_MANY_OPEN_FILES/ERROR_NO_SYSTEM_RESOURCES/ERROR_DISK_FULL/… →
 * OUT_OF_RESOURCES; ERROR_ACCESS_DENIED/ERROR_PRIVILEGE_NOT_HELD → PERMISSION_DENIED;
 * ERROR_NOT_SUPPORTED/ERROR_CALL_NOT_IMPLEMENTED → UNSUPPORTED; ERROR_TIMEOUT → TIMED_OUT; else OS_ERROR. */
cordon_status cordon__sys_status_from_win32(int code);

/* Records (call, Win32 code) as the calling thread's last OS failure and returns the mapped status. */
cordon_status cordon__sys_fail_win32(const char *call, int code);

/* Same, returning the given status. */
cordon_status cordon__sys_fail_win32_as(cordon_status status, const char *call, int code);

/* An injected failure (test builds) at a fault point that keeps a POSIX call's identifier: the value
 * is an errno value, recorded under the fault point's name (calls.def), which is what the test armed. */
static inline cordon_status cordon__sys_fail_injected(cordon__sys_call call, int err) {
    return cordon__sys_fail(cordon__sys_call_name(call), err);
}

#endif /* CORDON_SYS_WIN32_INTERNAL_H */
