/* cordon — byte moves on shared linear memories, defined under the C11 memory model.
 *
 * WebAssembly lets threads race plain accesses against atomics on the same bytes of a shared memory;
 * in C11 a plain access racing any other access is undefined. So on a shared memory every byte moved
 * by read, write, fill, copy and the typed loads and stores goes through relaxed atomics: aligned
 * 8-byte words for the body, narrower ones at the edges (and throughout when the two sides of a copy
 * are not equally aligned). Relaxed accesses compile to plain moves; the cost is only that they cannot
 * be widened to vector copies. No ordering is promised beyond the WebAssembly rule (each byte is read
 * or written once; no tearing guarantee above the access width); the atomic functions synchronise.
 * Unshared memories keep memcpy / memmove / memset. */
#ifndef CORDON_MEMORY_SHARED_BYTES_H
#define CORDON_MEMORY_SHARED_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Moves len bytes from src to dst, as memmove (any overlap). A side marked shared is accessed only
 * through relaxed atomics; the other (a caller's buffer) through plain loads or stores. At least one
 * side is shared. */
void cordon__shared_move(uint8_t *dst, bool dst_shared, const uint8_t *src, bool src_shared, size_t len);

/* Sets len bytes at dst (in a shared memory) to value, through relaxed atomics. */
void cordon__shared_fill(uint8_t *dst, uint8_t value, size_t len);

/* The width-byte value (width 1, 2, 4 or 8) at p in a shared memory, through relaxed atomics: one
 * access of the width when p is aligned to it, else byte by byte. Host byte order. */
uint64_t cordon__shared_load(const uint8_t *p, unsigned width);
void cordon__shared_store(uint8_t *p, unsigned width, uint64_t value);

#endif /* CORDON_MEMORY_SHARED_BYTES_H */
