/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — WebAssembly memory.atomic.wait32 / wait64 / notify on a shared linear memory (threads
 * proposal), provided by the synchronisation module.
 *
 * Addresses are memargs, as for every access of memory.h: the word is at the effective address
 * addr + offset, computed without wrapping (a sum past 2^64 - 1 is CORDON_OUT_OF_BOUNDS, the trap the
 * spec defines); its alignment is that of the effective address.
 *
 * Semantics as the proposal defines them:
 *   wait:   reads the real word at the effective address (atomically, the same word Wasm code stores to); if it differs
 *           from expected the result is 1 "not-equal" at once; otherwise the thread sleeps until a
 *           notify on the same address wakes it (result 0 "ok") or the timeout passes (result 2
 *           "timed-out"). The timeout is relative, in nanoseconds; negative waits forever. A result of
 *           0 is never spurious: it means a notify chose this waiter.
 *   notify: wakes up to count waiters of addr, oldest first (FIFO), and reports how many it woke.
 *           With nobody waiting it returns 0 without any system call.
 * Traps become statuses (nothing else happens), checked in this order: a destroyed memory or a handle
 * never issued (0 included) → CORDON_STALE; a NULL result_out (wait) → CORDON_INVALID_ARGUMENT; a
 * memory that is not shared → CORDON_WRONG_STATE for wait (a notify on it is valid and wakes 0, after
 * the alignment and bounds checks); an effective address not a multiple of the width →
 * CORDON_MISALIGNED; a word not inside the memory, or addr + offset past 2^64 - 1 →
 * CORDON_OUT_OF_BOUNDS.
 *
 * Thread safety: any number of threads may wait and notify on any addresses concurrently, and destroy
 * may race them: the read of the word and the queueing are guarded like every memory call (they end
 * before the unmap, or the call returns CORDON_STALE). A thread already asleep does not touch the
 * memory and is not woken by the destroy: it sleeps until its timeout or a notify of the same
 * address, so wake waiters before destroying. */
#ifndef CORDON_MEMORY_WAIT_H
#define CORDON_MEMORY_WAIT_H

#include <stdint.h>

#include "cordon/export.h"
#include "cordon/memory.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* Results of a wait, as memory.atomic.wait returns them. */
#define CORDON_WAIT_OK 0u
#define CORDON_WAIT_NOT_EQUAL 1u
#define CORDON_WAIT_TIMED_OUT 2u

/* memory.atomic.wait32 at addr + offset: *result_out receives 0, 1 or 2 when the status is CORDON_OK. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_wait32(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                      uint32_t expected, int64_t timeout_ns,
                                                                      uint32_t *result_out);
/* memory.atomic.wait64: the same on an 8-byte word. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_wait64(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                      uint64_t expected, int64_t timeout_ns,
                                                                      uint32_t *result_out);
/* memory.atomic.notify: wakes up to count waiters on the word at addr + offset (4-byte aligned),
 * oldest first; *woken_out (may be NULL) receives how many were woken. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_notify(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                      uint32_t count, uint32_t *woken_out);

CORDON_END_DECLS

#endif /* CORDON_MEMORY_WAIT_H */
