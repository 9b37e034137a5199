/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the public view of the machine, assembled from src/sys/ primitives. */
#include "cordon/system.h"

#include "sys/sys.h"

cordon_status cordon_system_info_get(cordon_system_info *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* Filled in a local copy so that a failure half-way leaves *out untouched. */
    cordon_system_info info;
    memset(&info, 0, sizeof info);
    cordon_status st = cordon__sys_os_identity(info.os_name, sizeof info.os_name, info.os_release,
                                               sizeof info.os_release);
    if (st == CORDON_OK) {
        st = cordon__sys_page_size(&info.page_size);
    }
    if (st == CORDON_OK) {
        st = cordon__sys_huge_page_info(&info.huge_page_size, info.huge_page_mode, sizeof info.huge_page_mode);
    }
    if (st == CORDON_OK) {
        st = cordon__sys_cpu_counts(&info.cpu_count_online, &info.cpu_count_usable);
    }
    if (st != CORDON_OK) {
        return st;
    }
    info.futex_backend = cordon__sys_futex_backend_name();
    info.compute_backends = cordon__sys_compute_backends();
    *out = info;
    return CORDON_OK;
}

cordon_status cordon_time_monotonic_ns(uint64_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    return cordon__sys_monotonic_ns(out);
}
