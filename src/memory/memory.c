/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — WebAssembly linear memory over a region (see include/cordon/memory.h).
 *
 * The size of the memory is the committed size of its region; growing commits exactly the new pages
 * and publishes the size with release order after they are accessible, so the access path needs one
 * handle lookup and one acquire load, and never a lock. */
#include "cordon/memory.h"

#include "core/handle.h"
#include "memory/access.h"
#include "memory/memory_internal.h"
#include "memory/region.h"
#include "memory/shared_bytes.h"
#include "memory/trap_registry.h"
#include "sys/sys.h"

typedef struct memory_obj {
    cordon__region region;
    uint64_t maximum_pages;
    bool shared;
} memory_obj;

static cordon__handle_table memory_table = CORDON__HANDLE_TABLE_INIT(2);

#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define HOST_BIG_ENDIAN 1
#else
#  define HOST_BIG_ENDIAN 0
#endif

/* Guard regions around a memory whose code does check bounds: catch a stray pointer near either end. */
#define SMALL_GUARD CORDON_MEMORY_PAGE_SIZE

static inline cordon_status memory_of(cordon_memory m, memory_obj **out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&memory_table, m.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    *out = (memory_obj *)obj;
    return CORDON_OK;
}

/* [addr, addr + len) inside [0, size)? Never overflows: len <= size is checked first. */
static inline bool in_bounds(uint64_t addr, uint64_t len, uint64_t size) {
    return len <= size && addr <= size - len;
}

static inline uint64_t size_of(memory_obj *o) {
    return atomic_load_explicit(&o->region.committed, memory_order_acquire);
}

/* Looks m up and bounds-checks [addr, addr + len); on success *ptr_out is the first byte. args_ok is
 * the caller's check of its other arguments: false gives INVALID_ARGUMENT after the handle check and
 * before the bounds check (the order memory.h documents). */
static inline cordon_status range_of(cordon_memory m, uint64_t addr, uint64_t len, bool args_ok, uint8_t **ptr_out,
                                     bool *shared_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (!args_ok) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (!in_bounds(addr, len, size_of(o))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    *ptr_out = o->region.base + addr;
    *shared_out = o->shared;
    return CORDON_OK;
}

cordon_status cordon_memory_create(const cordon_memory_options *opt, cordon_memory *out) {
    if (opt == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t cap = opt->memory64 ? CORDON_MEMORY64_MAX_PAGES : CORDON_MEMORY32_MAX_PAGES;
    uint64_t maximum = opt->has_maximum ? opt->maximum_pages
                                        : (opt->memory64 ? CORDON_MEMORY64_DEFAULT_MAX_PAGES : cap);
    if (maximum > cap || opt->initial_pages > maximum || (opt->shared && !opt->has_maximum) ||
        (opt->bounds_check_free && opt->memory64)) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* maximum <= 2^48 pages, so the byte counts below fit 64 bits except at the very cap. */
    if (maximum > UINT64_MAX / CORDON_MEMORY_PAGE_SIZE) {
        return CORDON_OVERFLOW;
    }
    cordon_pages_options po = {0};
    po.page_size = CORDON_MEMORY_PAGE_SIZE;
    po.commit_bytes = opt->initial_pages * CORDON_MEMORY_PAGE_SIZE;
    po.name = opt->name;
    po.huge_pages = opt->huge_pages;
    po.guard_before_bytes = SMALL_GUARD;
    if (opt->bounds_check_free) {
        po.bounds_check_free_32 = true;
        po.reserve_bytes = CORDON_PAGES_4GIB;
    } else {
        /* A memory with maximum 0 still has a (never accessible) page, so the mapping is not empty. */
        po.reserve_bytes = maximum != 0 ? maximum * CORDON_MEMORY_PAGE_SIZE : CORDON_MEMORY_PAGE_SIZE;
        po.guard_after_bytes = SMALL_GUARD;
    }
    void *block = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(memory_obj), &block);
    if (st != CORDON_OK) {
        return st;
    }
    memory_obj *o = (memory_obj *)block;
    st = cordon__region_reserve(&o->region, &po);
    if (st != CORDON_OK) {
        cordon__sys_free(block);
        return st;
    }
    o->maximum_pages = maximum;
    o->shared = opt->shared;
    cordon__access_init(); /* before the first handle is published: see memory/access.c */
    uint64_t h = 0;
    st = cordon__handle_insert(&memory_table, o, &h);
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)cordon__region_release(&o->region);
        (void)cordon__sys_fail_as(st, first.call, first.code);
        cordon__sys_free(block);
        return st;
    }
    cordon__trap_record_publish(o->region.trap, &o->region, CORDON__SYS_TRAP_MEMORY, h); /* trap hook */
    out->handle = h;
    return CORDON_OK;
}

cordon_status cordon_memory_destroy(cordon_memory m) {
    void *obj = NULL;
    /* Claim first: a second destroy (even a concurrent one) sees CORDON_STALE and never unmaps twice. */
    cordon_status st = cordon__handle_claim(&memory_table, m.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    /* Every call that looked m up before the claim has finished; every later one gets CORDON_STALE. */
    st = cordon__access_quiesce(m.handle);
    if (st == CORDON_OK) {
        memory_obj *o = (memory_obj *)obj;
        st = cordon__region_release(&o->region);
    }
    if (st != CORDON_OK) {
        /* The OS refused the barrier or the unmap: the memory is whole and its handle live again. */
        cordon__handle_unclaim(&memory_table, m.handle);
        return st;
    }
    cordon__handle_finish(&memory_table, m.handle);
    cordon__sys_free(obj);
    return CORDON_OK;
}

static inline cordon_status grow_in(cordon_memory m, uint64_t delta_pages, uint64_t *old_pages_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    /* The limit in bytes fits: maximum_pages * page size was checked at create. Any delta larger than
     * the maximum exceeds it whatever the size, so the multiplication below cannot overflow. */
    if (delta_pages > o->maximum_pages) {
        return CORDON_LIMIT_EXCEEDED;
    }
    uint64_t old = 0;
    st = cordon__region_grow_by(&o->region, delta_pages * CORDON_MEMORY_PAGE_SIZE,
                                o->maximum_pages * CORDON_MEMORY_PAGE_SIZE, &old);
    if (st == CORDON_OK && old_pages_out != NULL) {
        *old_pages_out = old / CORDON_MEMORY_PAGE_SIZE;
    }
    return st;
}

static inline cordon_status size_pages_in(cordon_memory m, uint64_t *pages_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (pages_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *pages_out = size_of(o) / CORDON_MEMORY_PAGE_SIZE;
    return CORDON_OK;
}

static inline cordon_status size_bytes_in(cordon_memory m, uint64_t *bytes_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (bytes_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *bytes_out = size_of(o);
    return CORDON_OK;
}

static inline cordon_status maximum_pages_in(cordon_memory m, uint64_t *pages_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (pages_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *pages_out = o->maximum_pages;
    return CORDON_OK;
}

static inline cordon_status is_shared_in(cordon_memory m, bool *shared_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (shared_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *shared_out = o->shared;
    return CORDON_OK;
}

static inline cordon_status base_in(cordon_memory m, void **base_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (base_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *base_out = o->region.base;
    return CORDON_OK;
}

/* ---- bulk access ------------------------------------------------------------------------------- */

static inline cordon_status read_in(cordon_memory m, uint64_t addr, void *dst, uint64_t len) {
    uint8_t *p = NULL;
    bool shared = false;
    cordon_status st = range_of(m, addr, len, dst != NULL || len == 0, &p, &shared);
    if (st == CORDON_OK && len != 0) {
        if (shared) {
            cordon__shared_move((uint8_t *)dst, false, p, true, (size_t)len);
        } else {
            memcpy(dst, p, (size_t)len);
        }
    }
    return st;
}

static inline cordon_status write_in(cordon_memory m, uint64_t addr, const void *src, uint64_t len) {
    uint8_t *p = NULL;
    bool shared = false;
    cordon_status st = range_of(m, addr, len, src != NULL || len == 0, &p, &shared);
    if (st == CORDON_OK && len != 0) {
        if (shared) {
            cordon__shared_move(p, true, (const uint8_t *)src, false, (size_t)len);
        } else {
            memcpy(p, src, (size_t)len);
        }
    }
    return st;
}

static inline cordon_status fill_in(cordon_memory m, uint64_t addr, uint8_t value, uint64_t len) {
    uint8_t *p = NULL;
    bool shared = false;
    cordon_status st = range_of(m, addr, len, true, &p, &shared);
    if (st == CORDON_OK && len != 0) {
        if (shared) {
            cordon__shared_fill(p, value, (size_t)len);
        } else {
            memset(p, value, (size_t)len);
        }
    }
    return st;
}

static inline cordon_status copy_in(cordon_memory m, uint64_t dst, uint64_t src, uint64_t len) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t size = size_of(o);
    if (!in_bounds(dst, len, size) || !in_bounds(src, len, size)) {
        return CORDON_OUT_OF_BOUNDS;
    }
    if (len != 0 && o->shared) {
        cordon__shared_move(o->region.base + dst, true, o->region.base + src, true, (size_t)len);
    } else if (len != 0) {
        memmove(o->region.base + dst, o->region.base + src, (size_t)len);
    }
    return CORDON_OK;
}

static inline cordon_status copy_between_in(cordon_memory dst, uint64_t dst_addr, cordon_memory src, uint64_t src_addr,
                                         uint64_t len) {
    memory_obj *d = NULL;
    memory_obj *s = NULL;
    cordon_status st = memory_of(dst, &d);
    if (st == CORDON_OK) {
        st = memory_of(src, &s);
    }
    if (st != CORDON_OK) {
        return st;
    }
    if (!in_bounds(dst_addr, len, size_of(d)) || !in_bounds(src_addr, len, size_of(s))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    /* memmove semantics either way: dst and src may be the same memory with overlapping ranges. */
    if (len != 0 && (d->shared || s->shared)) {
        cordon__shared_move(d->region.base + dst_addr, d->shared, s->region.base + src_addr, s->shared, (size_t)len);
    } else if (len != 0) {
        memmove(d->region.base + dst_addr, s->region.base + src_addr, (size_t)len);
    }
    return CORDON_OK;
}

/* ---- typed little-endian access ------------------------------------------------------------------ */

/* The effective address addr + offset, or OUT_OF_BOUNDS when it overflows 64 bits. */
static inline cordon_status typed_range(cordon_memory m, uint64_t addr, uint64_t offset, uint64_t width,
                                        bool args_ok, uint8_t **ptr_out, bool *shared_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (!args_ok) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (offset > UINT64_MAX - addr || !in_bounds(addr + offset, width, size_of(o))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    *ptr_out = o->region.base + addr + offset;
    *shared_out = o->shared;
    return CORDON_OK;
}

#if HOST_BIG_ENDIAN
static inline uint16_t le16(uint16_t v) {
    return __builtin_bswap16(v);
}
static inline uint32_t le32(uint32_t v) {
    return __builtin_bswap32(v);
}
static inline uint64_t le64(uint64_t v) {
    return __builtin_bswap64(v);
}
#else
static inline uint16_t le16(uint16_t v) {
    return v;
}
static inline uint32_t le32(uint32_t v) {
    return v;
}
static inline uint64_t le64(uint64_t v) {
    return v;
}
#endif

/* The bodies; each entry point is one access of m (see memory/access.h), defined below. */
#define DEFINE_LOAD_STORE(suffix, type, bits, swap)                                                          \
    static inline cordon_status load_##suffix##_in(cordon_memory m, uint64_t addr, uint64_t offset, type *out) { \
        uint8_t *p = NULL;                                                                                   \
        bool shared = false;                                                                                 \
        cordon_status st = typed_range(m, addr, offset, sizeof(type), out != NULL, &p, &shared);            \
        if (st != CORDON_OK) {                                                                               \
            return st;                                                                                       \
        }                                                                                                    \
        uint##bits##_t raw;                                                                                  \
        if (shared) {                                                                                        \
            raw = (uint##bits##_t)cordon__shared_load(p, sizeof raw);                                       \
        } else {                                                                                             \
            memcpy(&raw, p, sizeof raw);                                                                     \
        }                                                                                                    \
        raw = swap(raw);                                                                                     \
        memcpy(out, &raw, sizeof raw);                                                                       \
        return CORDON_OK;                                                                                    \
    }                                                                                                        \
    static inline cordon_status store_##suffix##_in(cordon_memory m, uint64_t addr, uint64_t offset, type value) { \
        uint8_t *p = NULL;                                                                                   \
        bool shared = false;                                                                                 \
        cordon_status st = typed_range(m, addr, offset, sizeof(type), true, &p, &shared);                   \
        if (st != CORDON_OK) {                                                                               \
            return st;                                                                                       \
        }                                                                                                    \
        uint##bits##_t raw;                                                                                  \
        memcpy(&raw, &value, sizeof raw);                                                                    \
        raw = swap(raw);                                                                                     \
        if (shared) {                                                                                        \
            cordon__shared_store(p, sizeof raw, raw);                                                        \
        } else {                                                                                             \
            memcpy(p, &raw, sizeof raw);                                                                     \
        }                                                                                                    \
        return CORDON_OK;                                                                                    \
    }                                                                                                        \
    CORDON__ACCESS_GUARDED(cordon_memory_load_##suffix, m.handle, 0,                                         \
                           (cordon_memory m, uint64_t addr, uint64_t offset, type *out), load_##suffix##_in,  \
                           (m, addr, offset, out))                                                           \
    CORDON__ACCESS_GUARDED(cordon_memory_store_##suffix, m.handle, 0,                                        \
                           (cordon_memory m, uint64_t addr, uint64_t offset, type value), store_##suffix##_in, \
                           (m, addr, offset, value))

#define NO_SWAP(v) (v)
DEFINE_LOAD_STORE(u8, uint8_t, 8, NO_SWAP)
DEFINE_LOAD_STORE(u16, uint16_t, 16, le16)
DEFINE_LOAD_STORE(u32, uint32_t, 32, le32)
DEFINE_LOAD_STORE(u64, uint64_t, 64, le64)
DEFINE_LOAD_STORE(f32, float, 32, le32)
DEFINE_LOAD_STORE(f64, double, 64, le64)

/* ---- atomics ------------------------------------------------------------------------------------ */

/* The aligned, in-bounds word for an atomic access. The memory's base is page-aligned, so an address
 * that is a multiple of width gives a naturally aligned pointer. */
static inline cordon_status atomic_range(memory_obj *o, uint64_t addr, unsigned width, uint8_t **ptr_out) {
    if (width != 1 && width != 2 && width != 4 && width != 8) {
        return CORDON_INVALID_ARGUMENT;
    }
    if ((addr & (uint64_t)(width - 1u)) != 0) {
        return CORDON_MISALIGNED;
    }
    if (!in_bounds(addr, width, size_of(o))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    *ptr_out = o->region.base + addr;
    return CORDON_OK;
}

/* args_ok: the caller's other arguments (output pointer, operation) are valid; checked with the width,
 * after the handle and before alignment and bounds (the order memory.h documents). */
static cordon_status atomic_prepare(cordon_memory m, uint64_t addr, unsigned width, bool args_ok, uint8_t **ptr_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (!args_ok || (width != 1 && width != 2 && width != 4 && width != 8)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (HOST_BIG_ENDIAN) {
        return CORDON_UNSUPPORTED;
    }
    return atomic_range(o, addr, width, ptr_out);
}

cordon_status cordon__memory_atomic_word(cordon_memory m, uint64_t addr, unsigned width, bool args_ok,
                                         void **word_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if ((width != 4 && width != 8) || word_out == NULL || !args_ok) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (!o->shared) {
        return CORDON_WRONG_STATE;
    }
    uint8_t *p = NULL;
    st = atomic_range(o, addr, width, &p);
    if (st == CORDON_OK) {
        *word_out = p;
    }
    return st;
}

/* The memory's bytes are accessed through _Atomic lvalues of the access width: the object was never
 * declared with an effective type other than bytes, and these types are lock-free on every supported
 * target (so they share the representation of the plain integer). */
#define A8(p) ((_Atomic uint8_t *)(void *)(p))
#define A16(p) ((_Atomic uint16_t *)(void *)(p))
#define A32(p) ((_Atomic uint32_t *)(void *)(p))
#define A64(p) ((_Atomic uint64_t *)(void *)(p))

static inline cordon_status atomic_load_in(cordon_memory m, uint64_t addr, unsigned width, uint64_t *out) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, width, out != NULL, &p);
    if (st != CORDON_OK) {
        return st;
    }
    switch (width) {
    case 1:
        *out = atomic_load(A8(p));
        break;
    case 2:
        *out = atomic_load(A16(p));
        break;
    case 4:
        *out = atomic_load(A32(p));
        break;
    default:
        *out = atomic_load(A64(p));
        break;
    }
    return CORDON_OK;
}

static inline cordon_status atomic_store_in(cordon_memory m, uint64_t addr, unsigned width, uint64_t value) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, width, true, &p);
    if (st != CORDON_OK) {
        return st;
    }
    switch (width) {
    case 1:
        atomic_store(A8(p), (uint8_t)value);
        break;
    case 2:
        atomic_store(A16(p), (uint16_t)value);
        break;
    case 4:
        atomic_store(A32(p), (uint32_t)value);
        break;
    default:
        atomic_store(A64(p), value);
        break;
    }
    return CORDON_OK;
}

#define RMW_CASES(ap, T)                                                                                    \
    switch (op) {                                                                                           \
    case CORDON_MEMORY_RMW_ADD:                                                                             \
        old = atomic_fetch_add(ap, (T)operand);                                                             \
        break;                                                                                              \
    case CORDON_MEMORY_RMW_SUB:                                                                             \
        old = atomic_fetch_sub(ap, (T)operand);                                                             \
        break;                                                                                              \
    case CORDON_MEMORY_RMW_AND:                                                                             \
        old = atomic_fetch_and(ap, (T)operand);                                                             \
        break;                                                                                              \
    case CORDON_MEMORY_RMW_OR:                                                                              \
        old = atomic_fetch_or(ap, (T)operand);                                                              \
        break;                                                                                              \
    case CORDON_MEMORY_RMW_XOR:                                                                             \
        old = atomic_fetch_xor(ap, (T)operand);                                                             \
        break;                                                                                              \
    default:                                                                                                \
        old = atomic_exchange(ap, (T)operand);                                                              \
        break;                                                                                              \
    }

static inline cordon_status atomic_rmw_in(cordon_memory m, uint64_t addr, unsigned width, cordon_memory_rmw_op op,
                                       uint64_t operand, uint64_t *old_out) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, width, (unsigned)op <= (unsigned)CORDON_MEMORY_RMW_XCHG, &p);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t old = 0;
    switch (width) {
    case 1:
        RMW_CASES(A8(p), uint8_t)
        break;
    case 2:
        RMW_CASES(A16(p), uint16_t)
        break;
    case 4:
        RMW_CASES(A32(p), uint32_t)
        break;
    default:
        RMW_CASES(A64(p), uint64_t)
        break;
    }
    if (old_out != NULL) {
        *old_out = old;
    }
    return CORDON_OK;
}

static inline cordon_status atomic_cmpxchg_in(cordon_memory m, uint64_t addr, unsigned width, uint64_t expected,
                                           uint64_t replacement, uint64_t *old_out) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, width, true, &p);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t old;
    switch (width) {
    case 1: {
        uint8_t e = (uint8_t)expected;
        atomic_compare_exchange_strong(A8(p), &e, (uint8_t)replacement);
        old = e;
        break;
    }
    case 2: {
        uint16_t e = (uint16_t)expected;
        atomic_compare_exchange_strong(A16(p), &e, (uint16_t)replacement);
        old = e;
        break;
    }
    case 4: {
        uint32_t e = (uint32_t)expected;
        atomic_compare_exchange_strong(A32(p), &e, (uint32_t)replacement);
        old = e;
        break;
    }
    default: {
        uint64_t e = expected;
        atomic_compare_exchange_strong(A64(p), &e, replacement);
        old = e;
        break;
    }
    }
    if (old_out != NULL) {
        *old_out = old;
    }
    return CORDON_OK;
}

/* ---- the public entry points: each call is one access of its memory (see memory/access.h) -------- */

CORDON__ACCESS_GUARDED(cordon_memory_grow, m.handle, 0,
                       (cordon_memory m, uint64_t delta_pages, uint64_t *old_pages_out),
                       grow_in, (m, delta_pages, old_pages_out))
CORDON__ACCESS_GUARDED(cordon_memory_size_pages, m.handle, 0,
                       (cordon_memory m, uint64_t *pages_out),
                       size_pages_in, (m, pages_out))
CORDON__ACCESS_GUARDED(cordon_memory_size_bytes, m.handle, 0,
                       (cordon_memory m, uint64_t *bytes_out),
                       size_bytes_in, (m, bytes_out))
CORDON__ACCESS_GUARDED(cordon_memory_maximum_pages, m.handle, 0,
                       (cordon_memory m, uint64_t *pages_out),
                       maximum_pages_in, (m, pages_out))
CORDON__ACCESS_GUARDED(cordon_memory_is_shared, m.handle, 0,
                       (cordon_memory m, bool *shared_out),
                       is_shared_in, (m, shared_out))
CORDON__ACCESS_GUARDED(cordon_memory_base, m.handle, 0, (cordon_memory m, void **base_out), base_in, (m, base_out))
CORDON__ACCESS_GUARDED(cordon_memory_read, m.handle, 0,
                       (cordon_memory m, uint64_t addr, void *dst, uint64_t len),
                       read_in, (m, addr, dst, len))
CORDON__ACCESS_GUARDED(cordon_memory_write, m.handle, 0,
                       (cordon_memory m, uint64_t addr, const void *src, uint64_t len),
                       write_in, (m, addr, src, len))
CORDON__ACCESS_GUARDED(cordon_memory_fill, m.handle, 0,
                       (cordon_memory m, uint64_t addr, uint8_t value, uint64_t len),
                       fill_in, (m, addr, value, len))
CORDON__ACCESS_GUARDED(cordon_memory_copy, m.handle, 0,
                       (cordon_memory m, uint64_t dst, uint64_t src, uint64_t len),
                       copy_in, (m, dst, src, len))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_load, m.handle, 0,
                       (cordon_memory m, uint64_t addr, unsigned width, uint64_t *out),
                       atomic_load_in, (m, addr, width, out))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_store, m.handle, 0,
                       (cordon_memory m, uint64_t addr, unsigned width, uint64_t value),
                       atomic_store_in, (m, addr, width, value))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_rmw, m.handle, 0,
                       (cordon_memory m, uint64_t addr, unsigned width, cordon_memory_rmw_op op, uint64_t operand,
                        uint64_t *old_out),
                       atomic_rmw_in, (m, addr, width, op, operand, old_out))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_cmpxchg, m.handle, 0,
                       (cordon_memory m, uint64_t addr, unsigned width, uint64_t expected, uint64_t replacement,
                        uint64_t *old_out),
                       atomic_cmpxchg_in, (m, addr, width, expected, replacement, old_out))
CORDON__ACCESS_GUARDED(cordon_memory_copy_between, dst.handle, src.handle,
                       (cordon_memory dst, uint64_t dst_addr, cordon_memory src, uint64_t src_addr, uint64_t len),
                       copy_between_in, (dst, dst_addr, src, src_addr, len))
