/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the process-wide memory barrier behind the access guard (src/memory/access.c): Linux
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), which makes every running thread of the process execute
 * a full memory barrier before it returns. With it, readers need only a compiler barrier on their fast
 * path; without it (other systems, old kernels, a sandbox that filters the call) the guard falls back to
 * fences on both sides and these primitives report CORDON_UNSUPPORTED. */
#define _GNU_SOURCE

#include <errno.h>

#include "sys/sys_internal.h"

#if defined(__linux__)
#  include <linux/membarrier.h>
#  include <sys/syscall.h>
#  include <unistd.h>
#endif

#if defined(__linux__) && defined(SYS_membarrier)

/* One membarrier command with a fault point; EINTR cannot happen (the call never sleeps
 * interruptibly), but an injected one is retried like everywhere else. */
static cordon_status membarrier_cmd(int cmd) {
    for (;;) {
        int err = 0;
        long rc = -1;
        if (!CORDON__FAULT(MEMBARRIER, &err)) {
            /* SAFETY: syscall -- membarrier: register the process for, or issue, a private expedited
             * process-wide memory barrier (the access guard's destroyer side).
             * Relies on: cmd is MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED or
             * MEMBARRIER_CMD_PRIVATE_EXPEDITED (both callers are in this file); flags and cpu_id are 0;
             * the call takes no pointer and changes no memory, it only orders the memory accesses of
             * this process's threads; PRIVATE_EXPEDITED is issued only after a successful registration
             * (the caller's precondition, kept by src/memory/access.c).
             * On failure: errno recorded as "membarrier" (ENOSYS/EINVAL: no kernel support →
             * CORDON_UNSUPPORTED; EPERM: not registered or filtered), EINTR retried. */
            rc = syscall(SYS_membarrier, cmd, 0u, 0);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return err == EINVAL ? cordon__sys_fail_as(CORDON_UNSUPPORTED, "membarrier", err)
                                 : cordon__sys_fail("membarrier", err);
        }
    }
}

cordon_status cordon__sys_barrier_register(void) {
    return membarrier_cmd(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED);
}

cordon_status cordon__sys_barrier_process(void) {
    return membarrier_cmd(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
}

#else

cordon_status cordon__sys_barrier_register(void) {
    return CORDON_UNSUPPORTED;
}

cordon_status cordon__sys_barrier_process(void) {
    return CORDON_UNSUPPORTED;
}

#endif
