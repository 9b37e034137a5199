/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — byte moves on shared linear memories through relaxed atomics (see shared_bytes.h).
 *
 * The memory's bytes are accessed through _Atomic lvalues of the access width, as the atomic functions
 * of memory.c do: the bytes were never given another effective type, and these types are lock-free
 * with the plain integer's representation on every supported target. An atomic access is made only at
 * an address aligned to its width. */
#include "memory/shared_bytes.h"

#define RELAXED memory_order_relaxed

static inline uint64_t load_w(const uint8_t *p, unsigned w, bool shared) {
    if (shared) {
        switch (w) {
        case 8:
            return atomic_load_explicit((const _Atomic uint64_t *)(const void *)p, RELAXED);
        case 4:
            return atomic_load_explicit((const _Atomic uint32_t *)(const void *)p, RELAXED);
        case 2:
            return atomic_load_explicit((const _Atomic uint16_t *)(const void *)p, RELAXED);
        default:
            return atomic_load_explicit((const _Atomic uint8_t *)(const void *)p, RELAXED);
        }
    }
    switch (w) {
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

static inline void store_w(uint8_t *p, unsigned w, bool shared, uint64_t v) {
    if (shared) {
        switch (w) {
        case 8:
            atomic_store_explicit((_Atomic uint64_t *)(void *)p, v, RELAXED);
            return;
        case 4:
            atomic_store_explicit((_Atomic uint32_t *)(void *)p, (uint32_t)v, RELAXED);
            return;
        case 2:
            atomic_store_explicit((_Atomic uint16_t *)(void *)p, (uint16_t)v, RELAXED);
            return;
        default:
            atomic_store_explicit((_Atomic uint8_t *)(void *)p, (uint8_t)v, RELAXED);
            return;
        }
    }
    switch (w) {
    case 8: {
        uint64_t x = v;
        memcpy(p, &x, 8);
        return;
    }
    case 4: {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, 4);
        return;
    }
    case 2: {
        uint16_t x = (uint16_t)v;
        memcpy(p, &x, 2);
        return;
    }
    default:
        *p = (uint8_t)v;
        return;
    }
}

/* n elements of width W (a constant in each instantiation, so the switches above fold), forward or
 * backward. Each side is aligned to W where it is shared. */
#define DEFINE_RUN(W)                                                                                     \
    static void run_fwd_##W(uint8_t *d, bool ds, const uint8_t *s, bool ss, size_t n) {                  \
        for (size_t i = 0; i < n; i++) {                                                                  \
            store_w(d + i * W, W, ds, load_w(s + i * W, W, ss));                                          \
        }                                                                                                 \
    }                                                                                                     \
    static void run_bwd_##W(uint8_t *d, bool ds, const uint8_t *s, bool ss, size_t n) {                  \
        for (size_t i = n; i > 0; i--) {                                                                  \
            store_w(d + (i - 1u) * W, W, ds, load_w(s + (i - 1u) * W, W, ss));                            \
        }                                                                                                 \
    }
DEFINE_RUN(1)
DEFINE_RUN(2)
DEFINE_RUN(4)
DEFINE_RUN(8)

static void run_fwd(unsigned w, uint8_t *d, bool ds, const uint8_t *s, bool ss, size_t n) {
    switch (w) {
    case 8:
        run_fwd_8(d, ds, s, ss, n);
        return;
    case 4:
        run_fwd_4(d, ds, s, ss, n);
        return;
    case 2:
        run_fwd_2(d, ds, s, ss, n);
        return;
    default:
        run_fwd_1(d, ds, s, ss, n);
        return;
    }
}

static void run_bwd(unsigned w, uint8_t *d, bool ds, const uint8_t *s, bool ss, size_t n) {
    switch (w) {
    case 8:
        run_bwd_8(d, ds, s, ss, n);
        return;
    case 4:
        run_bwd_4(d, ds, s, ss, n);
        return;
    case 2:
        run_bwd_2(d, ds, s, ss, n);
        return;
    default:
        run_bwd_1(d, ds, s, ss, n);
        return;
    }
}

void cordon__shared_move(uint8_t *dst, bool dst_shared, const uint8_t *src, bool src_shared, size_t len) {
    if (len == 0) {
        return;
    }
    /* The widest element both shared sides can be aligned to at once: when both are shared they must
     * agree modulo the width. Alignment is taken on a shared side (the anchor). */
    uintptr_t skew = dst_shared && src_shared ? ((uintptr_t)dst ^ (uintptr_t)src) : 0;
    unsigned w = 8;
    while (w > 1u && (skew & (w - 1u)) != 0) {
        w >>= 1;
    }
    uintptr_t anchor = dst_shared ? (uintptr_t)dst : (uintptr_t)src;
    /* memmove: copy backward when dst starts inside [src, src + len), so no byte is overwritten
     * before it is read. */
    bool backward = (uintptr_t)dst > (uintptr_t)src && (uintptr_t)dst - (uintptr_t)src < len;
    if (!backward) {
        size_t head = (size_t)((w - (anchor & (w - 1u))) & (w - 1u));
        if (head > len) {
            head = len;
        }
        run_fwd_1(dst, dst_shared, src, src_shared, head);
        size_t words = (len - head) / w;
        run_fwd(w, dst + head, dst_shared, src + head, src_shared, words);
        size_t done = head + words * w;
        run_fwd_1(dst + done, dst_shared, src + done, src_shared, len - done);
    } else {
        size_t tail = (size_t)((anchor + len) & (w - 1u));
        if (tail > len) {
            tail = len;
        }
        run_bwd_1(dst + len - tail, dst_shared, src + len - tail, src_shared, tail);
        size_t words = (len - tail) / w;
        size_t rest = len - tail - words * w;
        run_bwd(w, dst + rest, dst_shared, src + rest, src_shared, words);
        run_bwd_1(dst, dst_shared, src, src_shared, rest);
    }
}

void cordon__shared_fill(uint8_t *dst, uint8_t value, size_t len) {
    size_t head = (size_t)((8u - ((uintptr_t)dst & 7u)) & 7u);
    if (head > len) {
        head = len;
    }
    for (size_t i = 0; i < head; i++) {
        store_w(dst + i, 1, true, value);
    }
    uint64_t pattern = (uint64_t)value * UINT64_C(0x0101010101010101);
    size_t words = (len - head) / 8u;
    for (size_t i = 0; i < words; i++) {
        store_w(dst + head + i * 8u, 8, true, pattern);
    }
    for (size_t i = head + words * 8u; i < len; i++) {
        store_w(dst + i, 1, true, value);
    }
}
