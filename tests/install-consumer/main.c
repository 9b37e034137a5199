/* SPDX-License-Identifier: Apache-2.0 */
/* A program built against an installed cordon, as a user would build it. */
#include <stdio.h>

#include <cordon/cordon.h>

int main(void) {
    cordon_system_info info;
    if (cordon_system_info_get(&info) != CORDON_OK) {
        return 1;
    }
    printf("cordon %s: %u CPUs, %zu-byte pages\n", cordon_version_string(), info.cpu_count_usable, info.page_size);
    return 0;
}
