/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — run-time version. */
#include "cordon/version.h"

const char *cordon_version_string(void) {
    return CORDON_VERSION_STRING;
}

int cordon_version_number(void) {
    return CORDON_VERSION_NUMBER;
}
