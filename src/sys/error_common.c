/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the per-thread record of the last OS failure, its description, and the errno → status
 * mapping: the same on every platform. Only reading the OS's error values and describing a code in
 * words (cordon__sys_describe_error) are per platform (error.c, win32/error_win32.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sys/sys_internal.h"

typedef struct os_error_slot {
    int code;
    const char *call;
    cordon__sys_error_kind kind; /* which table code belongs to */
} os_error_slot;

/* Thread-local: each thread sees only its own failures, and no lock is needed. */
static _Thread_local os_error_slot last_error = {0, "", CORDON__SYS_ERROR_ERRNO};

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
#if defined(EOPNOTSUPP)
    case EOPNOTSUPP:
#endif
#if defined(ENOTSUP) && (!defined(EOPNOTSUPP) || ENOTSUP != EOPNOTSUPP)
    case ENOTSUP:
#endif
        return CORDON_UNSUPPORTED;
    case ETIMEDOUT:
        return CORDON_TIMED_OUT;
    default:
        return CORDON_OS_ERROR;
    }
}

cordon_status cordon__sys_record_error(cordon_status status, const char *call, int code, cordon__sys_error_kind kind) {
    last_error.code = code;
    last_error.call = call != NULL ? call : "";
    last_error.kind = kind;
    return status;
}

cordon_status cordon__sys_fail_as(cordon_status status, const char *call, int err) {
    return cordon__sys_record_error(status, call, err, CORDON__SYS_ERROR_ERRNO);
}

cordon_status cordon__sys_fail(const char *call, int err) {
    return cordon__sys_fail_as(cordon__sys_status_from_errno(err), call, err);
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
    last_error.kind = CORDON__SYS_ERROR_ERRNO;
}

size_t cordon_format_os_error(char *buf, size_t len) {
    if (buf == NULL) {
        len = 0; /* a NULL buffer only asks for the length */
    }
    if (last_error.code == 0) {
        /* Nothing recorded: still a well-formed answer. */
        int n = snprintf(buf, len, "no OS error recorded");
        return n > 0 ? (size_t)n : 0;
    }
    if (strncmp(last_error.call, "cl", 2) == 0 || strncmp(last_error.call, "CLBlast", 7) == 0) {
        /* An OpenCL or CLBlast call records its own error code (opencl.c), not an errno. */
        int n = snprintf(buf, len, "%s: %s (CL error %d)", last_error.call, cordon__sys_cl_error_name(last_error.code),
                         last_error.code);
        return n > 0 ? (size_t)n : 0;
    }
    char desc[128];
    desc[0] = '\0';
    cordon__sys_describe_error(last_error.code, last_error.kind, desc, sizeof desc);
    int n = snprintf(buf, len, "%s: %s (%s %d)", last_error.call, desc[0] ? desc : "unknown error",
                     last_error.kind == CORDON__SYS_ERROR_WIN32 ? "Win32 error" : "errno", last_error.code);
    return n > 0 ? (size_t)n : 0;
}
