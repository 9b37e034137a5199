/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — what the synchronisation module needs from linear memories (wait/notify on their words),
 * and what the tests need to see of reservations. Internal: not part of the public API. */
#ifndef CORDON_MEMORY_INTERNAL_H
#define CORDON_MEMORY_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cordon/memory.h"
#include "cordon/pages.h"
#include "cordon/status.h"

/* The address of the width-byte word (width 4 or 8) at the memarg addr + offset of the shared memory
 * m, for futex-style waiting. Checks, in order: the handle (CORDON_STALE), width, word_out and the
 * caller's own arguments (args_ok false: CORDON_INVALID_ARGUMENT), that m is shared
 * (CORDON_WRONG_STATE), natural alignment of the effective address (CORDON_MISALIGNED), bounds and
 * the overflow of addr + offset (CORDON_OUT_OF_BOUNDS). The word stays valid until m is destroyed:
 * the memory never moves and never shrinks. */
cordon_status cordon__memory_atomic_word(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, bool args_ok,
                                         void **word_out);

/* The name the reservation p gave the OS at reserve ("cordon" or "cordon:<name>"), whether or not
 * the kernel accepted it (cordon_pages_info().named says that), copied NUL-terminated into
 * buf[len]. CORDON_STALE, INVALID_ARGUMENT (NULL buf), LIMIT_EXCEEDED (len too small: buf untouched).
 * For tests on kernels that cannot name mappings. */
cordon_status cordon__pages_os_name(cordon_pages p, char *buf, size_t len);

/* The restricted runs of the reservation p (see region.h) and the bytes allocated to record them.
 * CORDON_STALE, INVALID_ARGUMENT (NULL outputs). For tests: the bookkeeping stays proportional to the
 * number of distinct protected ranges. */
cordon_status cordon__pages_access_bookkeeping(cordon_pages p, uint64_t *runs_out, uint64_t *bytes_out);

#endif /* CORDON_MEMORY_INTERNAL_H */
