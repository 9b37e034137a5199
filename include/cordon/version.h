/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — version. The macros describe the headers compiled against; cordon_version_*() describe the
 * library loaded at run time. The two can differ when a program runs against a newer shared library. */
#ifndef CORDON_VERSION_H
#define CORDON_VERSION_H

#include "cordon/export.h"

#define CORDON_VERSION_MAJOR 0
#define CORDON_VERSION_MINOR 1
#define CORDON_VERSION_PATCH 0
#define CORDON_VERSION_STRING "0.1.0"
/* major * 10000 + minor * 100 + patch, for ordered comparisons in #if. */
#define CORDON_VERSION_NUMBER \
    (CORDON_VERSION_MAJOR * 10000 + CORDON_VERSION_MINOR * 100 + CORDON_VERSION_PATCH)

CORDON_BEGIN_DECLS

/* Thread-safe, never fails. The string is static. */
CORDON_API const char *cordon_version_string(void);
CORDON_API int cordon_version_number(void);

CORDON_END_DECLS

#endif /* CORDON_VERSION_H */
