/* SPDX-License-Identifier: Apache-2.0 */
/* A plain-array model of a linear memory, and an interpreter that drives random operation sequences
 * against both a cordon_memory and the model, comparing every status and every byte.
 *
 * The three memories: 0 unshared with 64 KiB pages and a reservation (3 pages) below its maximum (4),
 * so grow meets both limits; 1 shared with 64 KiB pages; 2 unshared with 1-byte pages
 * (custom-page-sizes). Besides the calls, the checked pointer and the inline helpers of
 * cordon/memory_inline.h are driven and checked the same way.
 *
 * Shared by the property test (tests/test_memory_property.c: operations from a seeded generator) and
 * the fuzz harness (fuzz/fuzz_memory.c: operations from fuzz input). The program is a byte string;
 * each operation consumes a few bytes; running out of bytes reads zeros. Header-only so both builds
 * compile it with their own flags. */
#ifndef CORDON_TEST_MEMORY_MODEL_H
#define CORDON_TEST_MEMORY_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cordon/memory.h"
#include "cordon/memory_inline.h"

#define MODEL_PAGE 65536u
#define MODEL_MAX_PAGES 4u
#define MODEL_MEMORIES 3
#define MODEL_BYTES ((uint64_t)MODEL_MAX_PAGES * MODEL_PAGE)

typedef struct model_mem {
    cordon_memory handle;
    const cordon_memory_definition *def;
    uint8_t *bytes; /* MODEL_BYTES, of which pages * page_size are live */
    uint64_t pages;
    uint64_t max_pages;
    uint64_t page_size;
    uint64_t reserve; /* bytes grow may reach */
} model_mem;

typedef struct model_prog {
    const uint8_t *data;
    size_t len;
    size_t pos;
} model_prog;

static inline uint8_t prog_u8(model_prog *p) {
    return p->pos < p->len ? p->data[p->pos++] : 0;
}

static inline uint64_t prog_u64(model_prog *p, unsigned nbytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < nbytes; i++) {
        v |= (uint64_t)prog_u8(p) << (8 * i);
    }
    return v;
}

/* An address that lands near the interesting places: 0, the end, inside, far out, UINT64_MAX. */
static inline uint64_t prog_addr(model_prog *p, uint64_t size) {
    uint8_t kind = prog_u8(p);
    uint64_t small = prog_u64(p, 2);
    switch (kind % 8) {
    case 0:
        return small % 64;
    case 1:
        return size - (small % 16); /* size, size - 1, …; wraps to huge when size is small */
    case 2:
        return size + (small % 16);
    case 3:
        return UINT64_MAX - (small % 16);
    case 4:
        return MODEL_BYTES + small;
    default:
        return size != 0 ? prog_u64(p, 3) % size : small;
    }
}

static inline uint64_t prog_len(model_prog *p) {
    uint8_t kind = prog_u8(p);
    uint64_t small = prog_u64(p, 2);
    switch (kind % 8) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX - (small % 4);
    case 2:
        return small; /* up to 64 KiB */
    default:
        return small % 300;
    }
}

/* Expected status of an access of [addr, addr + len) against size, computed the naive way (the end,
 * with wrap-around detected), so the model does not share the implementation's formula. */
static inline bool model_in_bounds(uint64_t addr, uint64_t len, uint64_t size) {
    uint64_t end = addr + len;
    return end >= addr && end <= size;
}

typedef struct model_state {
    model_mem mem[MODEL_MEMORIES];
    uint8_t *scratch; /* 64 KiB + room */
    char failure[256];
    size_t op_index;
} model_state;

#define MODEL_SCRATCH (2u * 65536u)

static inline bool model_fail(model_state *s, const char *what, cordon_status got, cordon_status want) {
    snprintf(s->failure, sizeof s->failure, "op %zu (%s): got %s, expected %s", s->op_index, what,
             cordon_status_name(got), cordon_status_name(want));
    return false;
}

static inline bool model_init(model_state *s, uint64_t init0, uint64_t init1) {
    memset(s, 0, sizeof *s);
    s->scratch = (uint8_t *)calloc(1, MODEL_SCRATCH);
    if (s->scratch == NULL) {
        return false;
    }
    uint64_t init[MODEL_MEMORIES] = {init0 % MODEL_MAX_PAGES, init1 % (MODEL_MAX_PAGES + 1),
                                     (init0 * 977u + init1 * 131u) % (MODEL_BYTES - 2)};
    for (int i = 0; i < MODEL_MEMORIES; i++) {
        model_mem *m = &s->mem[i];
        m->bytes = (uint8_t *)calloc(1, (size_t)MODEL_BYTES);
        m->pages = init[i];
        m->page_size = i == 2 ? 1u : MODEL_PAGE;
        m->max_pages = i == 2 ? MODEL_BYTES - 3u : MODEL_MAX_PAGES; /* not a multiple of the OS page */
        m->reserve = i == 0 ? 3u * MODEL_PAGE : m->max_pages * m->page_size;
        cordon_memory_options o = {0};
        o.initial_pages = init[i];
        o.maximum_pages = m->max_pages;
        o.has_maximum = true;
        o.shared = (i == 1);
        o.page_size = m->page_size;
        o.reserve_bytes = i == 0 ? m->reserve : 0;
        if (m->bytes == NULL || cordon_memory_create(&o, &m->handle) != CORDON_OK ||
            cordon_memory_definition_get(m->handle, &m->def) != CORDON_OK) {
            return false;
        }
    }
    return true;
}

static inline void model_free(model_state *s) {
    for (int i = 0; i < MODEL_MEMORIES; i++) {
        if (s->mem[i].handle.handle != 0) {
            cordon_status st = cordon_memory_destroy(s->mem[i].handle);
            (void)st;
        }
        free(s->mem[i].bytes);
    }
    free(s->scratch);
}

/* Every byte of every memory, and the sizes, equal the model's. */
static inline bool model_compare_all(model_state *s) {
    for (int i = 0; i < MODEL_MEMORIES; i++) {
        model_mem *m = &s->mem[i];
        uint64_t pages = 0;
        cordon_status st = cordon_memory_size_pages(m->handle, &pages);
        if (st != CORDON_OK || pages != m->pages) {
            snprintf(s->failure, sizeof s->failure, "op %zu: memory %d has %llu pages (%s), model %llu",
                     s->op_index, i, (unsigned long long)pages, cordon_status_name(st), (unsigned long long)m->pages);
            return false;
        }
        void *base = NULL;
        if (cordon_memory_base(m->handle, &base) != CORDON_OK) {
            return false;
        }
        uint64_t size = m->pages * m->page_size;
        if (m->def->base != base || cordon_memory_definition_length(m->def) != size) {
            snprintf(s->failure, sizeof s->failure, "op %zu: memory %d's definition disagrees with its size",
                     s->op_index, i);
            return false;
        }
        if (size != 0 && memcmp(base, m->bytes, (size_t)size) != 0) {
            for (uint64_t b = 0; b < size; b++) {
                if (((uint8_t *)base)[b] != m->bytes[b]) {
                    snprintf(s->failure, sizeof s->failure, "op %zu: memory %d byte %llu is %u, model %u", s->op_index,
                             i, (unsigned long long)b, ((uint8_t *)base)[b], m->bytes[b]);
                    break;
                }
            }
            return false;
        }
    }
    return true;
}

static inline uint64_t model_load_le(const uint8_t *p, unsigned width) {
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static inline void model_store_le(uint8_t *p, unsigned width, uint64_t v) {
    for (unsigned i = 0; i < width; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static inline uint64_t width_mask(unsigned width) {
    return width == 8 ? UINT64_MAX : ((UINT64_C(1) << (8 * width)) - 1u);
}

/* Runs one operation; false (with s->failure set) when the implementation and the model disagree. */
/* An effective-address offset: usually small, sometimes near 2^64 (the sum overflows). */
static inline uint64_t prog_offset(model_prog *p, uint64_t size) {
    uint8_t k = prog_u8(p);
    switch (k % 4) {
    case 0:
        return 0;
    case 1:
        return UINT64_MAX - (uint64_t)(k >> 2);
    case 2:
        return prog_addr(p, size);
    default:
        return k >> 2;
    }
}

/* The status of an atomic access of width at addr + offset, the naive way: the true sum's alignment
 * (the wrapped sum has the same remainder), then overflow and bounds. */
static inline cordon_status model_atomic_status(uint64_t addr, uint64_t offset, unsigned width, uint64_t size) {
    uint64_t ea = addr + offset;
    if (ea % width != 0) {
        return CORDON_MISALIGNED;
    }
    return ea >= addr && model_in_bounds(ea, width, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
}

static inline bool model_step(model_state *s, model_prog *p) {
    uint8_t op = prog_u8(p);
    unsigned mi = (unsigned)(op >> 4) % MODEL_MEMORIES;
    model_mem *m = &s->mem[mi];
    uint64_t size = m->pages * m->page_size;
    cordon_status st, want;
    switch (op % 15) {
    case 0: { /* grow */
        uint8_t k = prog_u8(p);
        uint64_t delta = (k & 0x80) ? UINT64_MAX - (k & 3u) : (uint64_t)(k % (MODEL_MAX_PAGES + 2));
        if (m->page_size == 1 && !(k & 0x80)) {
            delta = prog_u64(p, 3) % (MODEL_BYTES / 2u);
        }
        uint64_t old = 12345;
        st = cordon_memory_grow(m->handle, delta, &old);
        want = delta > m->max_pages - m->pages                 ? CORDON_LIMIT_EXCEEDED
               : (m->pages + delta) * m->page_size > m->reserve ? CORDON_OUT_OF_MEMORY
                                                                : CORDON_OK;
        if (st != want) {
            return model_fail(s, "grow", st, want);
        }
        if (st == CORDON_OK) {
            if (old != m->pages) {
                snprintf(s->failure, sizeof s->failure, "op %zu: grow returned %llu, model %llu", s->op_index,
                         (unsigned long long)old, (unsigned long long)m->pages);
                return false;
            }
            m->pages += delta;
        } else if (old != 12345) {
            snprintf(s->failure, sizeof s->failure, "op %zu: failed grow wrote its out-parameter", s->op_index);
            return false;
        }
        return true;
    }
    case 1: { /* write */
        uint64_t addr = prog_addr(p, size), len = prog_len(p);
        uint8_t seed = prog_u8(p);
        uint64_t n = len < MODEL_SCRATCH ? len : MODEL_SCRATCH;
        for (uint64_t i = 0; i < n; i++) {
            s->scratch[i] = (uint8_t)(seed + i * 7u);
        }
        /* A length beyond the scratch buffer is only ever out of bounds (the memory is smaller). */
        want = model_in_bounds(addr, len, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        if (want == CORDON_OK && len > MODEL_SCRATCH) {
            return true;
        }
        st = cordon_memory_write(m->handle, addr, s->scratch, len);
        if (st != want) {
            return model_fail(s, "write", st, want);
        }
        if (st == CORDON_OK && len != 0) {
            memcpy(m->bytes + addr, s->scratch, (size_t)len);
        }
        return true;
    }
    case 2: { /* read */
        uint64_t addr = prog_addr(p, size), len = prog_len(p);
        want = model_in_bounds(addr, len, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        if (want == CORDON_OK && len > MODEL_SCRATCH) {
            return true;
        }
        memset(s->scratch, 0xA5, MODEL_SCRATCH);
        st = cordon_memory_read(m->handle, addr, s->scratch, len);
        if (st != want) {
            return model_fail(s, "read", st, want);
        }
        if (st == CORDON_OK && len != 0 && memcmp(s->scratch, m->bytes + addr, (size_t)len) != 0) {
            snprintf(s->failure, sizeof s->failure, "op %zu: read returned other bytes than the model", s->op_index);
            return false;
        }
        if (st != CORDON_OK && s->scratch[0] != 0xA5) {
            snprintf(s->failure, sizeof s->failure, "op %zu: failed read wrote the buffer", s->op_index);
            return false;
        }
        return true;
    }
    case 3: { /* fill */
        uint64_t addr = prog_addr(p, size), len = prog_len(p);
        uint8_t v = prog_u8(p);
        want = model_in_bounds(addr, len, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        st = cordon_memory_fill(m->handle, addr, v, len);
        if (st != want) {
            return model_fail(s, "fill", st, want);
        }
        if (st == CORDON_OK && len != 0) {
            memset(m->bytes + addr, v, (size_t)len);
        }
        return true;
    }
    case 4: { /* copy within */
        uint64_t dst = prog_addr(p, size), src = prog_addr(p, size), len = prog_len(p);
        want = model_in_bounds(dst, len, size) && model_in_bounds(src, len, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        st = cordon_memory_copy(m->handle, dst, src, len);
        if (st != want) {
            return model_fail(s, "copy", st, want);
        }
        if (st == CORDON_OK && len != 0) {
            memmove(m->bytes + dst, m->bytes + src, (size_t)len);
        }
        return true;
    }
    case 5: { /* copy between */
        model_mem *o = &s->mem[(mi + 1u + (unsigned)(prog_u8(p) & 1u)) % MODEL_MEMORIES];
        uint64_t osize = o->pages * o->page_size;
        uint64_t dst = prog_addr(p, size), src = prog_addr(p, osize), len = prog_len(p);
        want = model_in_bounds(dst, len, size) && model_in_bounds(src, len, osize) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        st = cordon_memory_copy_between(m->handle, dst, o->handle, src, len);
        if (st != want) {
            return model_fail(s, "copy_between", st, want);
        }
        if (st == CORDON_OK && len != 0) {
            memmove(m->bytes + dst, o->bytes + src, (size_t)len);
        }
        return true;
    }
    case 6:
    case 7: { /* typed store / load with an offset */
        unsigned width = 1u << (prog_u8(p) % 4);
        uint64_t addr = prog_addr(p, size);
        uint64_t offset = (prog_u8(p) & 1) ? prog_addr(p, size) : prog_u8(p);
        uint64_t value = prog_u64(p, 8) & width_mask(width);
        bool ok = offset <= UINT64_MAX - addr && model_in_bounds(addr + offset, width, size);
        want = ok ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        if (op % 15 == 6) {
            switch (width) {
            case 1: st = cordon_memory_store_u8(m->handle, addr, offset, (uint8_t)value); break;
            case 2: st = cordon_memory_store_u16(m->handle, addr, offset, (uint16_t)value); break;
            case 4: st = cordon_memory_store_u32(m->handle, addr, offset, (uint32_t)value); break;
            default: st = cordon_memory_store_u64(m->handle, addr, offset, value); break;
            }
            if (st != want) {
                return model_fail(s, "store", st, want);
            }
            if (ok) {
                model_store_le(m->bytes + addr + offset, width, value);
            }
        } else {
            uint64_t got = 0xDEAD;
            switch (width) {
            case 1: { uint8_t v = 0; st = cordon_memory_load_u8(m->handle, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            case 2: { uint16_t v = 0; st = cordon_memory_load_u16(m->handle, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            case 4: { uint32_t v = 0; st = cordon_memory_load_u32(m->handle, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            default: st = cordon_memory_load_u64(m->handle, addr, offset, &got); break;
            }
            if (st != want) {
                return model_fail(s, "load", st, want);
            }
            if (ok && got != model_load_le(m->bytes + addr + offset, width)) {
                snprintf(s->failure, sizeof s->failure, "op %zu: load of width %u gave %llx, model %llx", s->op_index,
                         width, (unsigned long long)got,
                         (unsigned long long)model_load_le(m->bytes + addr + offset, width));
                return false;
            }
        }
        return true;
    }
    case 8:
    case 9: { /* atomic rmw / cmpxchg */
        unsigned width = 1u << (prog_u8(p) % 4);
        uint64_t addr = prog_addr(p, size);
        if (prog_u8(p) & 1) {
            addr &= ~(uint64_t)(width - 1u); /* mostly aligned, sometimes not */
        }
        uint64_t operand = prog_u64(p, 8);
        uint64_t expected = prog_u64(p, 1);
        uint8_t rop = prog_u8(p) % 6;
        uint64_t offset = prog_offset(p, size);
        if (prog_u8(p) & 1) {
            offset -= (addr + offset) % width; /* keep the sum aligned, most of the time */
        }
        want = model_atomic_status(addr, offset, width, size);
        uint64_t old = 0xDEAD;
        if (op % 15 == 8) {
            st = cordon_memory_atomic_rmw(m->handle, addr, offset, width, (cordon_memory_rmw_op)rop, operand, &old);
        } else {
            st = cordon_memory_atomic_cmpxchg(m->handle, addr, offset, width, expected, operand, &old);
        }
        if (st != want) {
            return model_fail(s, op % 15 == 8 ? "atomic_rmw" : "atomic_cmpxchg", st, want);
        }
        if (st != CORDON_OK) {
            if (old != 0xDEAD) {
                snprintf(s->failure, sizeof s->failure, "op %zu: failed atomic wrote its out-parameter", s->op_index);
                return false;
            }
            return true;
        }
        addr += offset;
        uint64_t mask = width_mask(width);
        uint64_t cur = model_load_le(m->bytes + addr, width);
        if (old != cur) {
            snprintf(s->failure, sizeof s->failure, "op %zu: atomic returned old %llx, model %llx", s->op_index,
                     (unsigned long long)old, (unsigned long long)cur);
            return false;
        }
        uint64_t next = cur;
        if (op % 15 == 8) {
            switch (rop) {
            case 0: next = cur + operand; break;
            case 1: next = cur - operand; break;
            case 2: next = cur & operand; break;
            case 3: next = cur | operand; break;
            case 4: next = cur ^ operand; break;
            default: next = operand; break;
            }
        } else if (cur == (expected & mask)) {
            next = operand;
        }
        model_store_le(m->bytes + addr, width, next & mask);
        return true;
    }
    case 10: { /* atomic load / store */
        unsigned width = 1u << (prog_u8(p) % 4);
        uint64_t addr = prog_addr(p, size) & ~(uint64_t)(width - 1u);
        uint64_t offset = prog_offset(p, size);
        uint64_t value = prog_u64(p, 8);
        bool store = prog_u8(p) & 1;
        want = model_atomic_status(addr, offset, width, size);
        if (store) {
            st = cordon_memory_atomic_store(m->handle, addr, offset, width, value);
            if (st != want) {
                return model_fail(s, "atomic_store", st, want);
            }
            if (st == CORDON_OK) {
                model_store_le(m->bytes + addr + offset, width, value & width_mask(width));
            }
        } else {
            uint64_t got = 0;
            st = cordon_memory_atomic_load(m->handle, addr, offset, width, &got);
            if (st != want) {
                return model_fail(s, "atomic_load", st, want);
            }
            if (st == CORDON_OK && got != model_load_le(m->bytes + addr + offset, width)) {
                snprintf(s->failure, sizeof s->failure, "op %zu: atomic load mismatch", s->op_index);
                return false;
            }
        }
        return true;
    }
    case 11: { /* checked pointer for a host call */
        uint64_t addr = prog_addr(p, size), len = prog_len(p);
        uint64_t align = (uint64_t)1 << (prog_u8(p) % 5); /* 1 .. 16 */
        want = (addr % align) != 0 ? CORDON_MISALIGNED
               : model_in_bounds(addr, len, size) ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        void *ptr = s;
        st = cordon_memory_pointer(m->handle, addr, len, align, &ptr);
        if (st != want) {
            return model_fail(s, "pointer", st, want);
        }
        if (st != CORDON_OK ? ptr != (void *)s
                            : (ptr != (void *)(m->def->base + addr) ||
                               (len != 0 && memcmp(ptr, m->bytes + addr, (size_t)len) != 0))) {
            snprintf(s->failure, sizeof s->failure, "op %zu: pointer gave a wrong address or bytes", s->op_index);
            return false;
        }
        return true;
    }
    case 12:
    case 13: { /* inline store / load through the definition, as the typed calls */
        unsigned width = 1u << (prog_u8(p) % 4);
        uint64_t addr = prog_addr(p, size);
        uint64_t offset = prog_offset(p, size);
        uint64_t value = prog_u64(p, 8) & width_mask(width);
        bool ok = offset <= UINT64_MAX - addr && model_in_bounds(addr + offset, width, size);
        want = ok ? CORDON_OK : CORDON_OUT_OF_BOUNDS;
        const cordon_memory_definition *d = m->def;
        if (op % 15 == 12) {
            switch (width) {
            case 1: st = cordon_memory_inline_store_u8(d, addr, offset, (uint8_t)value); break;
            case 2: st = cordon_memory_inline_store_u16(d, addr, offset, (uint16_t)value); break;
            case 4: st = cordon_memory_inline_store_u32(d, addr, offset, (uint32_t)value); break;
            default: st = cordon_memory_inline_store_u64(d, addr, offset, value); break;
            }
            if (st != want) {
                return model_fail(s, "inline store", st, want);
            }
            if (ok) {
                model_store_le(m->bytes + addr + offset, width, value);
            }
        } else {
            uint64_t got = 0xDEAD;
            switch (width) {
            case 1: { uint8_t v = 0; st = cordon_memory_inline_load_u8(d, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            case 2: { uint16_t v = 0; st = cordon_memory_inline_load_u16(d, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            case 4: { uint32_t v = 0; st = cordon_memory_inline_load_u32(d, addr, offset, &v); if (st == CORDON_OK) got = v; break; }
            default: st = cordon_memory_inline_load_u64(d, addr, offset, &got); break;
            }
            if (st != want) {
                return model_fail(s, "inline load", st, want);
            }
            if (ok ? got != model_load_le(m->bytes + addr + offset, width) : got != 0xDEAD) {
                snprintf(s->failure, sizeof s->failure, "op %zu: inline load of width %u gave %llx", s->op_index,
                         width, (unsigned long long)got);
                return false;
            }
        }
        return true;
    }
    default:
        return model_compare_all(s);
    }
}

/* Runs the whole program: true when the implementation matched the model throughout. */
static inline bool model_run(model_state *s, const uint8_t *data, size_t len) {
    model_prog p = {data, len, 0};
    uint64_t init0 = prog_u8(&p), init1 = prog_u8(&p);
    if (!model_init(s, init0, init1)) {
        snprintf(s->failure, sizeof s->failure, "could not create the memories");
        model_free(s);
        return false;
    }
    bool ok = true;
    while (ok && p.pos < p.len) {
        ok = model_step(s, &p);
        s->op_index++;
    }
    if (ok) {
        ok = model_compare_all(s);
    }
    model_free(s);
    return ok;
}

#endif /* CORDON_TEST_MEMORY_MODEL_H */
