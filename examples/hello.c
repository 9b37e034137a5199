/* SPDX-License-Identifier: Apache-2.0 */
/* The smallest cordon program: what the library sees of this machine. */
#include <stdio.h>

#include <cordon/cordon.h>

int main(void) {
    cordon_system_info info;
    cordon_status st = cordon_system_info_get(&info);
    if (st != CORDON_OK) {
        fprintf(stderr, "cordon: %s\n", cordon_status_str(st));
        return 1;
    }
    printf("cordon %s on %s: %u CPUs, %zu-byte pages\n", cordon_version_string(), info.os_name,
           info.cpu_count_usable, info.page_size);
    return 0;
}
