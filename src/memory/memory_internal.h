/* cordon — what the synchronisation module needs from linear memories (wait/notify on their words).
 * Internal: not part of the public API. */
#ifndef CORDON_MEMORY_INTERNAL_H
#define CORDON_MEMORY_INTERNAL_H

#include <stdint.h>

#include "cordon/memory.h"
#include "cordon/status.h"

/* The address of the width-byte word (width 4 or 8) at addr of the shared memory m, for futex-style
 * waiting. Checks, in order: the handle (CORDON_STALE), width (CORDON_INVALID_ARGUMENT), that m is
 * shared (CORDON_WRONG_STATE), natural alignment (CORDON_MISALIGNED), bounds (CORDON_OUT_OF_BOUNDS).
 * The word stays valid until m is destroyed: the memory never moves and never shrinks. */
cordon_status cordon__memory_atomic_word(cordon_memory m, uint64_t addr, unsigned width, void **word_out);

#endif /* CORDON_MEMORY_INTERNAL_H */
