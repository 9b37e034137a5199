/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the process-wide memory barrier behind the access guard, on Windows: not provided, so the
 * guard (src/memory/access.c) uses fences on both sides, which is correct on every system.
 * FlushProcessWriteBuffers would give the asymmetric barrier; it is not used until it is tested on a
 * real Windows system (Wine's implementation is not the one users run). */
#include "sys/sys_internal.h"

cordon_status cordon__sys_barrier_register(void) {
    return CORDON_UNSUPPORTED;
}

cordon_status cordon__sys_barrier_process(void) {
    return CORDON_UNSUPPORTED;
}
