/* SPDX-License-Identifier: Apache-2.0 */
// The whole public API included from C++: every declaration must have C linkage.
#include "cordon/cordon.h"
#include "cordon/memory_inline.h"

#include <cstdio>
#include <cstring>

int main() {
    if (std::strcmp(cordon_status_name(CORDON_OK), "CORDON_OK") != 0) {
        std::fprintf(stderr, "status name wrong from C++\n");
        return 1;
    }
    if (std::strcmp(cordon_version_string(), CORDON_VERSION_STRING) != 0) {
        std::fprintf(stderr, "version mismatch\n");
        return 1;
    }
    std::puts("ok");
    return 0;
}
