/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the status model.
 *
 * Every fallible function in cordon returns a cordon_status. CORDON_OK is 0; every other value names
 * what went wrong. A failed call leaves every object it was given as it was before the call, and writes
 * no out-parameter.
 *
 * When a failure comes from the operating system or a foreign library, the library also records the
 * detail of that failure (the errno value and the name of the failing call, such as "mmap") for the
 * calling thread; cordon_last_os_error() returns it. The detail is per thread and is overwritten only by
 * the next OS failure on the same thread (successful calls do not clear it).
 *
 * Thread safety: every function here may be called from any thread at any time.
 * No cordon function prints, aborts or exits on bad input. */
#ifndef CORDON_STATUS_H
#define CORDON_STATUS_H

#include <stddef.h>

#include "cordon/export.h"

CORDON_BEGIN_DECLS

/* The values are stable across releases; new statuses are only ever appended. */
typedef enum cordon_status {
    CORDON_OK = 0,
    /* An argument is invalid: NULL where an object is required, an unknown flag, a zero size where
     * one is required, a size that is not a multiple of the page. */
    CORDON_INVALID_ARGUMENT = 1,
    /* The handle refers to an object that was destroyed (or never existed). A handle of 0 was never
     * issued, so it gives CORDON_STALE for every handle type (threads, pools, reservations, memories…). */
    CORDON_STALE = 2,
    /* An offset or range lies outside the object. */
    CORDON_OUT_OF_BOUNDS = 3,
    /* An address is not naturally aligned for the access. */
    CORDON_MISALIGNED = 4,
    /* A size or offset computation would overflow 64 bits (or the platform's address width). */
    CORDON_OVERFLOW = 5,
    /* The request exceeds a limit of the object: growing past its maximum or its reservation, a
     * semaphore count past UINT32_MAX, a read lock past a reader-writer lock's 2^30 - 1 readers. */
    CORDON_LIMIT_EXCEEDED = 6,
    /* The OS refused memory (ENOMEM) or an allocation failed. */
    CORDON_OUT_OF_MEMORY = 7,
    /* The OS refused another resource: threads, file descriptors, locked memory (EAGAIN, EMFILE…). */
    CORDON_OUT_OF_RESOURCES = 8,
    /* The OS denied permission (EPERM, EACCES). */
    CORDON_PERMISSION_DENIED = 9,
    /* The operation is not available on this platform or in this build. */
    CORDON_UNSUPPORTED = 10,
    /* Any other OS or foreign-library failure; cordon_last_os_error() has the detail. */
    CORDON_OS_ERROR = 11,
    /* A wait ended because its timeout expired. */
    CORDON_TIMED_OUT = 12,
    /* A wait did not start because the watched value differed from the expected one. */
    CORDON_NOT_EQUAL = 13,
    /* A try-operation could not proceed without blocking. */
    CORDON_BUSY = 14,
    /* The object is not in a state that allows the operation (for example waiting on a memory that is
     * not shared, a thread joining itself, or destroying a pool while one of its parallel-fors runs).
     * Joining a detached thread is CORDON_STALE: its handle is gone. */
    CORDON_WRONG_STATE = 15,
    /* A task run by cordon (for example in a thread pool) reported a failure. */
    CORDON_TASK_FAILED = 16,
    /* A backend (BLAS, OpenCL device…) is not present on this machine. */
    CORDON_BACKEND_UNAVAILABLE = 17,
    /* Tensors or arguments with shapes that do not fit together. */
    CORDON_SHAPE_MISMATCH = 18,
    /* The function run by cordon_trap_run faulted in a cordon memory or reservation (guard, or a part
     * not accessible), or overflowed its stack; the cordon_trap filled in says where (see trap.h). */
    CORDON_TRAPPED = 19
} cordon_status;

/* One past the largest status value; statuses are 0 .. CORDON_STATUS_COUNT - 1. */
#define CORDON_STATUS_COUNT 20

/* A short English description ("out of bounds"). Never NULL: an unknown value gives "unknown status".
 * The string is static. */
CORDON_API const char *cordon_status_str(cordon_status status);

/* The enumerator's name ("CORDON_OUT_OF_BOUNDS"), or "CORDON_UNKNOWN_STATUS". Static string. */
CORDON_API const char *cordon_status_name(cordon_status status);

/* The detail of the last OS or foreign-library failure on the calling thread. */
typedef struct cordon_os_error {
    /* The errno value (or the foreign library's error code); 0 when no failure has been recorded. */
    int code;
    /* The name of the failing call ("mmap", "futex", "pthread_create"…); "" when none. Static string. */
    const char *call;
} cordon_os_error;

CORDON_API cordon_os_error cordon_last_os_error(void);

/* Forget the calling thread's last OS failure. */
CORDON_API void cordon_clear_os_error(void);

/* Writes "call: description (errno N)" for the calling thread's last OS failure into buf, always
 * NUL-terminated when len > 0, truncated to fit. Returns the length the full text has (excluding the
 * NUL), like snprintf, so a caller can tell whether it was truncated. buf may be NULL when len is 0. */
CORDON_API size_t cordon_format_os_error(char *buf, size_t len);

CORDON_END_DECLS

#endif /* CORDON_STATUS_H */
