/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the per-thread record of the last OS failure, and the errno → status mapping.
 *
 * errno is read in exactly one place (cordon__sys_errno) so that "captured at once" is one audited
 * invariant rather than a convention repeated at every call site. */
/* XSI strerror_r (returns int, writes the caller's buffer): POSIX, not GNU. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sys/sys_internal.h"

typedef struct os_error_slot {
    int code;
    const char *call;
} os_error_slot;

/* Thread-local: each thread sees only its own failures, and no lock is needed. */
static _Thread_local os_error_slot last_error = {0, ""};

int cordon__sys_errno(void) {
    /* SAFETY: errno -- read the error code the failed call just left.
     * Relies on: called directly after the failing call with no other library call in between (every
     * call site in src/sys/ does so on its failure branch); errno is thread-local, so no other thread
     * can overwrite it.
     * On failure: cannot fail. */
    return errno;
}

void cordon__sys_errno_reset(void) {
    /* SAFETY: errno -- clear the error code before a call that may fail without setting it (sysconf).
     * Relies on: errno is thread-local; no library call sits between this reset and the call it
     * prepares.
     * On failure: cannot fail. */
    errno = 0;
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

cordon_status cordon__sys_fail_as(cordon_status status, const char *call, int err) {
    last_error.code = err;
    last_error.call = call != NULL ? call : "";
    return status;
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
}

size_t cordon_format_os_error(char *buf, size_t len) {
    if (buf == NULL) {
        len = 0; /* a NULL buffer only asks for the length */
    }
    char desc[128];
    desc[0] = '\0';
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
    /* SAFETY: strerror_r -- describe the recorded errno value in words.
     * Relies on: desc is a local array and its size is passed; the XSI variant (selected by
     * _POSIX_C_SOURCE=200809L without _GNU_SOURCE) writes into desc and returns an int, so no static
     * buffer shared between threads is involved; desc was initialised, so it is a string even if the
     * call fails.
     * On failure: the description stays empty and the number is still printed. */
    if (strerror_r(last_error.code, desc, sizeof desc) != 0) {
        desc[0] = '\0';
    }
    int n = snprintf(buf, len, "%s: %s (errno %d)", last_error.call, desc[0] ? desc : "unknown error",
                     last_error.code);
    return n > 0 ? (size_t)n : 0;
}
