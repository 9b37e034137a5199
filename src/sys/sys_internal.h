/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — shared by the files of src/sys/ only (never included by a safe module).
 * Defines the feature-test macros every src/sys/ file is compiled with (set on the command line by
 * the build) and declares helpers private to the cordon. */
#ifndef CORDON_SYS_INTERNAL_H
#define CORDON_SYS_INTERNAL_H

/* Private to src/sys/ (and tests): CORDON__SYS_PRIVATE_HEADER is poisoned in safe code (cordon_safe.h),
 * so this mention stops a safe file that includes this header. */
#ifdef CORDON__SYS_PRIVATE_HEADER
#endif

#if !defined(CORDON_SYS_INTERNAL)
#  error "sys/sys_internal.h is private to src/sys/; safe modules include only sys/sys.h"
#endif

#include "sys/fault.h"
#include "sys/sys.h"

/* The errno value left by the call that just failed. Call it first thing on the failure branch. */
int cordon__sys_errno(void);

/* The OS's own page size, whatever page size a test injected (fault.h); cordon__sys_page_size is the
 * one everything else uses. */
cordon_status cordon__sys_os_page_size(size_t *out);

/* Sets errno to 0, for the few calls that can fail without setting it. */
void cordon__sys_errno_reset(void);

/* Which table a recorded error code belongs to. */
typedef enum cordon__sys_error_kind {
    CORDON__SYS_ERROR_ERRNO, /* an errno value */
    CORDON__SYS_ERROR_WIN32  /* a Win32 error code (GetLastError) */
} cordon__sys_error_kind;

/* Records (call, code) as the calling thread's last OS failure and returns status (error_common.c). */
cordon_status cordon__sys_record_error(cordon_status status, const char *call, int code, cordon__sys_error_kind kind);

/* Writes the OS's description of code (of the given kind) into desc, NUL-terminated, or leaves desc
 * empty when the OS has none (per platform: error.c, win32/error_win32.c). len > 0. */
void cordon__sys_describe_error(int code, cordon__sys_error_kind kind, char *desc, size_t len);

/* A once that may fail: *state is 0 (not done), 1 (init running in one thread) or 2 (done). Runs init
 * in exactly one thread at a time until it succeeds; others wait (yielding) for its outcome. Returns
 * CORDON_OK once done, or init's failure (the state back at 0). Everything init wrote is visible to
 * every caller that gets CORDON_OK. (thread_exit_common.c) */
cordon_status cordon__sys_once_retry(_Atomic unsigned *state, cordon_status (*init)(void));

/* The thread-exit key, per platform (thread_exit.c, win32/thread_exit_win32.c), for
 * thread_exit_common.c: creates the key whose destructor calls cordon__sys_thread_exit_run (called by
 * one thread at a time until it succeeds once), and sets the calling thread's value (arg non-NULL). */
cordon_status cordon__sys_exit_key_create(void);
cordon_status cordon__sys_exit_key_set(void *arg);

/* Runs the registered thread-exit callback with arg; called by the key's destructor. */
void cordon__sys_thread_exit_run(void *arg);

/* Copies src into dst (dst_len > 0), cut to dst_len - 1 bytes, NUL-terminated (info_common.c). */
void cordon__sys_copy_truncated(char *dst, size_t dst_len, const char *src);

#endif /* CORDON_SYS_INTERNAL_H */
