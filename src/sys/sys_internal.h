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

#endif /* CORDON_SYS_INTERNAL_H */
