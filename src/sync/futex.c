/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the public futex (include/cordon/futex.h) over the contract in src/sys/. */
#include "cordon/futex.h"

#include "sync/sync_internal.h"

cordon_status cordon_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns, unsigned flags) {
    if ((flags & ~(CORDON_FUTEX_SHARED | CORDON_FUTEX_ABSOLUTE)) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t deadline = CORDON__SYS_FOREVER;
    if (timeout_ns >= 0) {
        if ((flags & CORDON_FUTEX_ABSOLUTE) != 0) {
            deadline = (uint64_t)timeout_ns;
        } else {
            cordon_status st = cordon__deadline_after(timeout_ns, &deadline);
            if (st != CORDON_OK) {
                return st;
            }
        }
    }
    unsigned sys_flags = (flags & CORDON_FUTEX_SHARED) != 0 ? CORDON__SYS_FUTEX_SHARED : 0u;
    return cordon__sys_futex_wait(word, expected, deadline, sys_flags);
}

cordon_status cordon_futex_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out) {
    if ((flags & ~CORDON_FUTEX_SHARED) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    unsigned sys_flags = (flags & CORDON_FUTEX_SHARED) != 0 ? CORDON__SYS_FUTEX_SHARED : 0u;
    return cordon__sys_futex_wake(word, count, sys_flags, woken_out);
}
