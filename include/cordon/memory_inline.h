/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — checked loads and stores compiled into the caller, for an engine's hot path.
 *
 * Each helper reads the memory's definition (cordon_memory_definition_get: { base, length, shared }
 * at an address stable until destroy), checks the memarg access [addr + offset, + width) against the
 * length exactly as cordon_memory_load_* / cordon_memory_store_* do (the sum computed without
 * wrapping; past 2^64 - 1 or past the size is CORDON_OUT_OF_BOUNDS, nothing read or written), and moves
 * the bytes little-endian. No call, no handle lookup: one acquire load of the length, the compare,
 * the access, what an engine's own inline check costs (figures: `cordon bench memory`,
 * inline_*_u32 rows).
 *
 * Concurrency. The length is loaded with acquire order, pairing with grow's release store made after
 * the new pages became accessible, so a size seen is a size that may be accessed; the helpers may run
 * concurrently with grow on any thread. On a shared memory every access is a relaxed atomic of the
 * access width when the effective address is aligned to it, byte-wise relaxed atomics otherwise,
 * exactly as the library's own calls on shared memories: racing accesses (and the atomics of
 * memory.h) on the same bytes stay defined under C11. On an unshared memory they are plain memcpy
 * moves.
 *
 * What they do NOT do: look up a handle. A definition is valid from cordon_memory_definition_get
 * until cordon_memory_destroy, and — like the base pointer — destroy does not wait for these
 * helpers: the engine must stop using the definition before destroying the memory. def and the
 * output pointer must be valid (not checked). Statuses: CORDON_OK or CORDON_OUT_OF_BOUNDS only.
 *
 * Language: C11 with <stdatomic.h> (the bytes and the length are accessed through _Atomic lvalues of
 * their width, as the library does); from C++ the GCC/Clang __atomic builtins, which have the same
 * meaning. Not included by cordon/cordon.h: include it where the helpers are used. */
#ifndef CORDON_MEMORY_INLINE_H
#define CORDON_MEMORY_INLINE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cordon/memory.h"
#include "cordon/status.h"

#if defined(__cplusplus)
#  if !defined(__GNUC__) && !defined(__clang__)
#    error "cordon/memory_inline.h from C++ needs the GCC/Clang __atomic builtins"
#  endif
#  define CORDON__INL_LOAD_ACQ_U64(p) __atomic_load_n((const uint64_t *)(p), __ATOMIC_ACQUIRE)
#  define CORDON__INL_LOAD_RLX(T, p) __atomic_load_n((const T *)(const void *)(p), __ATOMIC_RELAXED)
#  define CORDON__INL_STORE_RLX(T, p, v) __atomic_store_n((T *)(void *)(p), (T)(v), __ATOMIC_RELAXED)
#else
#  if defined(__STDC_NO_ATOMICS__)
#    error "cordon/memory_inline.h needs C11 atomics"
#  endif
#  include <stdatomic.h>
#  define CORDON__INL_LOAD_ACQ_U64(p) \
      atomic_load_explicit((const _Atomic uint64_t *)(const void *)(p), memory_order_acquire)
#  define CORDON__INL_LOAD_RLX(T, p) atomic_load_explicit((const _Atomic T *)(const void *)(p), memory_order_relaxed)
#  define CORDON__INL_STORE_RLX(T, p, v) \
      atomic_store_explicit((_Atomic T *)(void *)(p), (T)(v), memory_order_relaxed)
#endif

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define CORDON__INL_LE16(v) __builtin_bswap16(v)
#  define CORDON__INL_LE32(v) __builtin_bswap32(v)
#  define CORDON__INL_LE64(v) __builtin_bswap64(v)
#else
#  define CORDON__INL_LE16(v) (v)
#  define CORDON__INL_LE32(v) (v)
#  define CORDON__INL_LE64(v) (v)
#endif
#define CORDON__INL_LE8(v) (v)

/* The helpers are small once the width is a constant, but the shared / unaligned branches make them
 * look large to the inliner: force them into the caller, which is their point. */
#if defined(__GNUC__) || defined(__clang__)
#  define CORDON__INL_ALWAYS __attribute__((always_inline))
#else
#  define CORDON__INL_ALWAYS
#endif

CORDON_BEGIN_DECLS

/* The memory's current size in bytes, loaded with acquire order: [0, length) may be accessed at once. */
CORDON__INL_ALWAYS static inline uint64_t cordon_memory_definition_length(const cordon_memory_definition *def) {
    return CORDON__INL_LOAD_ACQ_U64(&def->length);
}

/* The first byte of [addr + offset, + width) when it lies inside the memory, else NULL. */
CORDON__INL_ALWAYS static inline unsigned char *cordon__inline_at(const cordon_memory_definition *def, uint64_t addr,
                                                                  uint64_t offset, uint64_t width) {
    uint64_t ea = addr + offset;
    uint64_t length = cordon_memory_definition_length(def);
    if (ea < addr || width > length || ea > length - width) {
        return NULL;
    }
    return def->base + ea;
}

/* The width-byte value at p (host order): relaxed atomics on a shared memory, memcpy otherwise. The
 * width is a constant at every call, so the switch folds away. */
CORDON__INL_ALWAYS static inline uint64_t cordon__inline_get(const unsigned char *p, unsigned width, bool shared) {
    if (!shared) {
        switch (width) {
        case 8: {
            uint64_t v;
            memcpy(&v, p, 8);
            return v;
        }
        case 4: {
            uint32_t v;
            memcpy(&v, p, 4);
            return v;
        }
        case 2: {
            uint16_t v;
            memcpy(&v, p, 2);
            return v;
        }
        default:
            return *p;
        }
    }
    if (((uintptr_t)p & (uintptr_t)(width - 1u)) == 0) {
        switch (width) {
        case 8:
            return CORDON__INL_LOAD_RLX(uint64_t, p);
        case 4:
            return CORDON__INL_LOAD_RLX(uint32_t, p);
        case 2:
            return CORDON__INL_LOAD_RLX(uint16_t, p);
        default:
            return CORDON__INL_LOAD_RLX(uint8_t, p);
        }
    }
    unsigned char bytes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (unsigned i = 0; i < width; i++) {
        bytes[i] = CORDON__INL_LOAD_RLX(uint8_t, p + i);
    }
    switch (width) {
    case 8: {
        uint64_t v;
        memcpy(&v, bytes, 8);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, bytes, 4);
        return v;
    }
    default: {
        uint16_t v;
        memcpy(&v, bytes, 2);
        return v;
    }
    }
}

CORDON__INL_ALWAYS static inline void cordon__inline_put(unsigned char *p, unsigned width, bool shared,
                                                         uint64_t value) {
    if (!shared) {
        switch (width) {
        case 8:
            memcpy(p, &value, 8);
            return;
        case 4: {
            uint32_t v = (uint32_t)value;
            memcpy(p, &v, 4);
            return;
        }
        case 2: {
            uint16_t v = (uint16_t)value;
            memcpy(p, &v, 2);
            return;
        }
        default:
            *p = (unsigned char)value;
            return;
        }
    }
    if (((uintptr_t)p & (uintptr_t)(width - 1u)) == 0) {
        switch (width) {
        case 8:
            CORDON__INL_STORE_RLX(uint64_t, p, value);
            return;
        case 4:
            CORDON__INL_STORE_RLX(uint32_t, p, value);
            return;
        case 2:
            CORDON__INL_STORE_RLX(uint16_t, p, value);
            return;
        default:
            CORDON__INL_STORE_RLX(uint8_t, p, value);
            return;
        }
    }
    unsigned char bytes[8];
    switch (width) {
    case 8:
        memcpy(bytes, &value, 8);
        break;
    case 4: {
        uint32_t v = (uint32_t)value;
        memcpy(bytes, &v, 4);
        break;
    }
    default: {
        uint16_t v = (uint16_t)value;
        memcpy(bytes, &v, 2);
        break;
    }
    }
    for (unsigned i = 0; i < width; i++) {
        CORDON__INL_STORE_RLX(uint8_t, p + i, bytes[i]);
    }
}

/* cordon_memory_inline_load_<t>(def, addr, offset, &out) and cordon_memory_inline_store_<t>(def, addr,
 * offset, value): the memarg access of memory.h's cordon_memory_load_<t> / cordon_memory_store_<t>,
 * checked inline against def's length. OK or OUT_OF_BOUNDS (then nothing is read or written). */
#define CORDON__INL_DEFINE(suffix, T, U, swap)                                                                   \
    CORDON_NODISCARD CORDON__INL_ALWAYS static inline cordon_status cordon_memory_inline_load_##suffix(           \
        const cordon_memory_definition *def, uint64_t addr, uint64_t offset, T *out) {                           \
        const unsigned char *p = cordon__inline_at(def, addr, offset, sizeof(T));                                \
        if (p == NULL) {                                                                                         \
            return CORDON_OUT_OF_BOUNDS;                                                                         \
        }                                                                                                        \
        U raw = (U)cordon__inline_get(p, (unsigned)sizeof(T), def->shared);                                      \
        raw = (U)swap(raw);                                                                                      \
        memcpy(out, &raw, sizeof raw);                                                                           \
        return CORDON_OK;                                                                                        \
    }                                                                                                            \
    CORDON_NODISCARD CORDON__INL_ALWAYS static inline cordon_status cordon_memory_inline_store_##suffix(          \
        const cordon_memory_definition *def, uint64_t addr, uint64_t offset, T value) {                          \
        unsigned char *p = cordon__inline_at(def, addr, offset, sizeof(T));                                      \
        if (p == NULL) {                                                                                         \
            return CORDON_OUT_OF_BOUNDS;                                                                         \
        }                                                                                                        \
        U raw;                                                                                                   \
        memcpy(&raw, &value, sizeof raw);                                                                        \
        raw = (U)swap(raw);                                                                                      \
        cordon__inline_put(p, (unsigned)sizeof(T), def->shared, raw);                                            \
        return CORDON_OK;                                                                                        \
    }

CORDON__INL_DEFINE(u8, uint8_t, uint8_t, CORDON__INL_LE8)
CORDON__INL_DEFINE(u16, uint16_t, uint16_t, CORDON__INL_LE16)
CORDON__INL_DEFINE(u32, uint32_t, uint32_t, CORDON__INL_LE32)
CORDON__INL_DEFINE(u64, uint64_t, uint64_t, CORDON__INL_LE64)
CORDON__INL_DEFINE(f32, float, uint32_t, CORDON__INL_LE32)
CORDON__INL_DEFINE(f64, double, uint64_t, CORDON__INL_LE64)

CORDON_END_DECLS

#undef CORDON__INL_DEFINE
#undef CORDON__INL_ALWAYS
#undef CORDON__INL_LE8
#undef CORDON__INL_LE16
#undef CORDON__INL_LE32
#undef CORDON__INL_LE64
#undef CORDON__INL_LOAD_ACQ_U64
#undef CORDON__INL_LOAD_RLX
#undef CORDON__INL_STORE_RLX

#endif /* CORDON_MEMORY_INLINE_H */
