/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: Wasm memory.atomic.wait32 / wait64 / notify with addresses, expected values and counts
 * taken from the input, as untrusted Wasm code would pass them, each address a memarg (addr, offset)
 * whose sum may overflow. Every wait uses timeout 0, so nothing
 * blocks. Each result is checked against the rules of the threads proposal, computed independently:
 * shared-ness, alignment, bounds, then the value comparison. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cordon/cordon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAGE UINT64_C(65536)

static uint64_t take(const uint8_t **p, size_t *n, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes && *n > 0; i++) {
        v |= (uint64_t)(**p) << (8 * i);
        (*p)++;
        (*n)--;
    }
    return v;
}

static void require(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

/* The status memory_wait.h documents for an access of `width` bytes at the memarg (addr, offset), in
 * its order: a wait on an unshared memory, then the alignment of the true sum (the wrapped sum has the
 * same remainder), then a sum past 2^64 - 1, then bounds. */
static cordon_status expected_status(bool shared, bool is_wait, uint64_t addr, uint64_t offset, unsigned width,
                                     uint64_t size) {
    if (is_wait && !shared) {
        return CORDON_WRONG_STATE;
    }
    uint64_t ea = addr + offset;
    if (ea % width != 0) {
        return CORDON_MISALIGNED;
    }
    if (ea < addr || ea > size || size - ea < width) {
        return CORDON_OUT_OF_BOUNDS;
    }
    return CORDON_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const uint8_t *p = data;
    size_t n = size;
    uint8_t flags = (uint8_t)take(&p, &n, 1);
    bool shared = (flags & 1u) != 0;
    uint64_t pages = 1 + (flags >> 1) % 2; /* 1 or 2 pages */
    cordon_memory_options opt;
    memset(&opt, 0, sizeof opt);
    opt.initial_pages = pages;
    opt.maximum_pages = 2;
    opt.has_maximum = true;
    opt.shared = shared;
    cordon_memory m;
    if (cordon_memory_create(&opt, &m) != CORDON_OK) {
        return 0;
    }
    uint64_t bytes = pages * PAGE;
    while (n > 0) {
        uint8_t op = (uint8_t)take(&p, &n, 1);
        /* Addresses cluster near the interesting edges: 0, the end, and anywhere (incl. huge). */
        uint64_t raw = take(&p, &n, 8);
        uint64_t addr;
        switch (op >> 6) {
        case 0: addr = raw % 64; break;
        case 1: addr = bytes - 16 + raw % 32; break;
        case 2: addr = raw % (bytes + 64); break;
        default: addr = raw; break;
        }
        /* The offset: none, small, near 2^64 (the sum overflows), or the rest of an address split. */
        uint64_t offset = 0;
        uint8_t k = (uint8_t)take(&p, &n, 1);
        switch (k % 4) {
        case 0: break;
        case 1: offset = k >> 2; break;
        case 2: offset = UINT64_MAX - (k >> 2); break;
        default: offset = addr / 2; addr -= offset; break;
        }
        uint64_t ea = addr + offset;
        switch (op % 4) {
        case 0: { /* store, to make the comparison of later waits interesting */
            uint32_t v = (uint32_t)take(&p, &n, 4);
            cordon_status st = cordon_memory_store_u32(m, addr, offset, v);
            require(st == CORDON_OK || st == CORDON_OUT_OF_BOUNDS);
            break;
        }
        case 1: {
            uint32_t expected = (uint32_t)take(&p, &n, 4);
            uint32_t result = 99;
            cordon_status want = expected_status(shared, true, addr, offset, 4, bytes);
            cordon_status st = cordon_memory_atomic_wait32(m, addr, offset, expected, 0, &result);
            require(st == want);
            if (st == CORDON_OK) {
                uint32_t cur = 0;
                require(cordon_memory_load_u32(m, ea, 0, &cur) == CORDON_OK);
                require(result == (cur == expected ? CORDON_WAIT_TIMED_OUT : CORDON_WAIT_NOT_EQUAL));
            } else {
                require(result == 99); /* nothing written on a failed call */
            }
            break;
        }
        case 2: {
            uint64_t expected = take(&p, &n, 8);
            uint32_t result = 99;
            cordon_status want = expected_status(shared, true, addr, offset, 8, bytes);
            cordon_status st = cordon_memory_atomic_wait64(m, addr, offset, expected, 0, &result);
            require(st == want);
            if (st == CORDON_OK) {
                uint64_t cur = 0;
                require(cordon_memory_load_u64(m, ea, 0, &cur) == CORDON_OK);
                require(result == (cur == expected ? CORDON_WAIT_TIMED_OUT : CORDON_WAIT_NOT_EQUAL));
            } else {
                require(result == 99);
            }
            break;
        }
        default: {
            uint32_t count = (uint32_t)take(&p, &n, 4);
            uint32_t woken = 99;
            cordon_status want = expected_status(shared, false, addr, offset, 4, bytes);
            cordon_status st = cordon_memory_atomic_notify(m, addr, offset, count, &woken);
            require(st == want);
            require(st == CORDON_OK ? woken == 0 : woken == 99); /* nobody waits in this harness */
            break;
        }
        }
    }
    require(cordon_memory_destroy(m) == CORDON_OK);
    return 0;
}
