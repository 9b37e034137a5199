/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — errno on POSIX systems: where it is read, and its description in words. The record of the
 * last failure and the mappings are error_common.c's.
 *
 * errno is read in exactly one place (cordon__sys_errno) so that "captured at once" is one audited
 * invariant rather than a convention repeated at every call site. */
/* XSI strerror_r (returns int, writes the caller's buffer): POSIX, not GNU. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <string.h>

#include "sys/sys_internal.h"

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

void cordon__sys_describe_error(int code, cordon__sys_error_kind kind, char *desc, size_t len) {
    (void)kind; /* every code recorded here is an errno value */
    /* SAFETY: strerror_r -- describe the recorded errno value in words.
     * Relies on: desc is the caller's array and len its size (> 0); the XSI variant (selected by
     * _POSIX_C_SOURCE=200809L without _GNU_SOURCE) writes into desc and returns an int, so no static
     * buffer shared between threads is involved; desc[0] is cleared first, so it is a string even if
     * the call fails.
     * On failure: the description stays empty and the caller still prints the number. */
    desc[0] = '\0';
    if (strerror_r(code, desc, len) != 0) {
        desc[0] = '\0';
    }
}
