/* SPDX-License-Identifier: Apache-2.0 */
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

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Moves len bytes from src to dst, as memmove (any overlap). A side marked shared is accessed only
 * through relaxed atomics; the other (a caller's buffer) through plain loads or stores. At least one
 * side is shared. */
void cordon__shared_move(uint8_t *dst, bool dst_shared, const uint8_t *src, bool src_shared, size_t len);

/* Sets len bytes at dst (in a shared memory) to value, through relaxed atomics. */
void cordon__shared_fill(uint8_t *dst, uint8_t value, size_t len);

/* The width-byte value (width 1, 2, 4 or 8) at p in a shared memory, through relaxed atomics: one
 * access of the width when p is aligned to it, else byte by byte. Host byte order. Inline and free of
 * calls: they sit on the typed access path, whose callers keep their registers when nothing is called.
 * The bytes are accessed through _Atomic lvalues, as in shared_bytes.c. */
static inline uint64_t cordon__shared_load(const uint8_t *p, unsigned width) {
    if (((uintptr_t)p & (width - 1u)) == 0) {
        switch (width) {
        case 8:
            return atomic_load_explicit((const _Atomic uint64_t *)(const void *)p, memory_order_relaxed);
        case 4:
            return atomic_load_explicit((const _Atomic uint32_t *)(const void *)p, memory_order_relaxed);
        case 2:
            return atomic_load_explicit((const _Atomic uint16_t *)(const void *)p, memory_order_relaxed);
        default:
            return atomic_load_explicit((const _Atomic uint8_t *)(const void *)p, memory_order_relaxed);
        }
    }
    uint8_t bytes[8] = {0};
    for (unsigned i = 0; i < width; i++) {
        bytes[i] = atomic_load_explicit((const _Atomic uint8_t *)(const void *)(p + i), memory_order_relaxed);
    }
    uint64_t v = 0;
    switch (width) {
    case 8:
        memcpy(&v, bytes, 8);
        return v;
    case 4: {
        uint32_t x;
        memcpy(&x, bytes, 4);
        return x;
    }
    default: {
        uint16_t x;
        memcpy(&x, bytes, 2);
        return x;
    }
    }
}

static inline void cordon__shared_store(uint8_t *p, unsigned width, uint64_t value) {
    if (((uintptr_t)p & (width - 1u)) == 0) {
        switch (width) {
        case 8:
            atomic_store_explicit((_Atomic uint64_t *)(void *)p, value, memory_order_relaxed);
            return;
        case 4:
            atomic_store_explicit((_Atomic uint32_t *)(void *)p, (uint32_t)value, memory_order_relaxed);
            return;
        case 2:
            atomic_store_explicit((_Atomic uint16_t *)(void *)p, (uint16_t)value, memory_order_relaxed);
            return;
        default:
            atomic_store_explicit((_Atomic uint8_t *)(void *)p, (uint8_t)value, memory_order_relaxed);
            return;
        }
    }
    uint8_t bytes[8];
    switch (width) {
    case 8:
        memcpy(bytes, &value, 8);
        break;
    case 4: {
        uint32_t x = (uint32_t)value;
        memcpy(bytes, &x, 4);
        break;
    }
    default: {
        uint16_t x = (uint16_t)value;
        memcpy(bytes, &x, 2);
        break;
    }
    }
    for (unsigned i = 0; i < width; i++) {
        atomic_store_explicit((_Atomic uint8_t *)(void *)(p + i), bytes[i], memory_order_relaxed);
    }
}

#endif /* CORDON_MEMORY_SHARED_BYTES_H */
