/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — fault injection for src/sys/ primitives (test builds only).
 *
 * In a build with CORDON_FAULT_INJECTION=1 every external call in src/sys/ passes through a fault point
 * first. A test arms a call ("the 3rd call to mmap from now fails with ENOMEM, once") and the primitive
 * then behaves exactly as if the OS had returned that error: it records the detail and returns the
 * mapped status, or retries if the error is EINTR. This is how every error path in cordon is executed
 * by a test rather than assumed.
 *
 * The counters are process-wide and atomic; arming is meant to be done by one test thread while no
 * other thread is inside the library. In builds without fault injection the control functions exist
 * but report CORDON_UNSUPPORTED, and the fault points compile to nothing. */
#ifndef CORDON_SYS_FAULT_H
#define CORDON_SYS_FAULT_H

/* Private to src/sys/ (and tests): CORDON__SYS_PRIVATE_HEADER is poisoned in safe code (cordon_safe.h),
 * so this mention stops a safe file that includes this header. */
#ifdef CORDON__SYS_PRIVATE_HEADER
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/status.h"

typedef enum cordon__sys_call {
#define CORDON__SYS_CALL(id, name) CORDON__CALL_##id,
#include "sys/calls.def"
#undef CORDON__SYS_CALL
    CORDON__CALL_COUNT
} cordon__sys_call;

/* The call's name ("mmap"), or "?" for an out-of-range value. */
const char *cordon__sys_call_name(cordon__sys_call call);

/* The identifier for a call name, or -1 when no call has that name. */
int cordon__sys_call_lookup(const char *name);

/* Is fault injection compiled in? */
bool cordon__fault_available(void);

/* From now on, calls number nth, nth+1, … nth+count-1 (1-based, counted from this arming) to `call`
 * fail with errno `err`. count == UINT64_MAX fails every call from the nth on. Re-arming a call
 * replaces its previous arming and restarts its counter. Returns CORDON_INVALID_ARGUMENT for nth == 0,
 * count == 0 or an unknown call, CORDON_UNSUPPORTED without fault injection. */
cordon_status cordon__fault_arm(cordon__sys_call call, uint64_t nth, uint64_t count, int err);

/* Disarms every call and zeroes every counter; counting stays on until cordon__fault_stop(). */
void cordon__fault_reset(void);

/* Disarms everything and stops counting (the fast path of every fault point is then one load). */
void cordon__fault_stop(void);

/* Calls made to `call` since the last reset or arming of it (counted only while fault injection is
 * active: after cordon__fault_reset() or an arming, until cordon__fault_stop()). */
uint64_t cordon__fault_calls(cordon__sys_call call);

/* How many injected failures `call` has produced since its last reset or arming. */
uint64_t cordon__fault_fired(cordon__sys_call call);

/* Page-size injection: from now on cordon__sys_page_size reports `bytes` instead of the OS's page size
 * (0 restores the OS's), so that the memory module's arithmetic runs with pages this machine does not
 * have (16 KiB as on Apple Silicon, 64 KiB as on some aarch64 and POWER kernels). `bytes` must be a
 * power of two and a multiple of the OS page size: every range aligned to it is then aligned for the
 * OS too, and cordon__sys_pages_reserve returns bases aligned to it, as that OS would. Set it before
 * anything else in the process asks for the page size (the memory module caches the answer). Not
 * undone by cordon__fault_reset/stop. CORDON_INVALID_ARGUMENT for a size the OS cannot honour,
 * CORDON_UNSUPPORTED without fault injection. */
cordon_status cordon__fault_page_size(size_t bytes);

/* Used by src/sys/: the injected page size, or 0 when none is; *os_page_out (when not NULL) gets the
 * OS's own page size measured at injection. */
size_t cordon__fault_injected_page(size_t *os_page_out);

/* Used by src/sys/ at each fault point: true (and *err set) when this call must fail. */
bool cordon__fault_hit(cordon__sys_call call, int *err);

#if defined(CORDON_FAULT_INJECTION) && CORDON_FAULT_INJECTION
#  define CORDON__FAULT(id, errp) cordon__fault_hit(CORDON__CALL_##id, (errp))
#else
#  define CORDON__FAULT(id, errp) ((void)(errp), false)
#endif

#endif /* CORDON_SYS_FAULT_H */
