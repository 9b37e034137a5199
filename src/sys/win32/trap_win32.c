/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — traps on Windows: not provided yet. Guard-page faults become statuses on Linux through a
 * SIGSEGV handler and siglongjmp (signal.c); the Windows form (a vectored exception handler that
 * records the access violation and resumes at the run's recovery point) is not written, so
 * cordon_trap_install reports CORDON_UNSUPPORTED, as the contract allows, and nothing is installed. */
#include "sys/sys_internal.h"

cordon_status cordon__sys_trap_install(cordon__sys_trap_classify_fn classify) {
    if (classify == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    return CORDON_UNSUPPORTED;
}

bool cordon__sys_trap_installed(void) {
    return false;
}

cordon_status cordon__sys_trap_run(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out) {
    (void)ctx;
    if (fn == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    return CORDON_WRONG_STATE;
}

uint64_t cordon__sys_trap_altstacks_live(void) {
    return 0;
}
