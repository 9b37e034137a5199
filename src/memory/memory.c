/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — WebAssembly linear memory over a region (see include/cordon/memory.h).
 *
 * The memory's size in bytes is the `length` of its definition, a whole number of its pages (64 KiB
 * or 1 byte). The region under it commits whole OS pages: committed = length rounded up to the OS
 * page (equal for 64 KiB pages). Grow, under the memory's grow lock, commits the OS pages the new
 * length needs, zeroes the bytes of already committed pages it takes into the memory, and only then
 * stores the new length with release order; every reader loads it with acquire order. So the access
 * path needs one handle lookup and one acquire load, and never a lock, and a length seen is a length
 * that may be accessed. The reservation (region.reserved) bounds every grow; the declared maximum
 * (maximum_pages) is only a limit: it need not be mapped. */
#include "cordon/memory.h"

#include "core/handle.h"
#include "memory/access.h"
#include "memory/memory_internal.h"
#include "memory/region.h"
#include "memory/shared_bytes.h"
#include "memory/trap_registry.h"
#include "sys/sys.h"

typedef struct memory_obj {
    cordon_memory_definition def; /* length: release-stored by grow (grow_lock held), acquire-loaded */
    cordon__region region;
    uint64_t maximum_pages; /* declared, or the cap */
    unsigned page_shift;    /* log2 of the page size: 16 or 0 */
    bool has_maximum;
    bool memory64;
    uint64_t prefix_bytes;
    cordon_mutex grow_lock; /* serialises grows: length and committed size change together */
} memory_obj;

/* The length is a plain uint64_t in the public struct and is accessed through an _Atomic lvalue of
 * the same size and alignment (as memory_inline.h does): lock-free, same representation. */
_Static_assert(sizeof(_Atomic uint64_t) == sizeof(uint64_t) && _Alignof(_Atomic uint64_t) == _Alignof(uint64_t),
               "the definition's length must be accessible as an _Atomic uint64_t");
#define LENGTH(o) ((_Atomic uint64_t *)(void *)&(o)->def.length)

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
    return atomic_load_explicit(LENGTH(o), memory_order_acquire);
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
    *ptr_out = o->def.base + addr;
    *shared_out = o->def.shared;
    return CORDON_OK;
}

static void lock_grow(memory_obj *o) {
    cordon_status st = cordon_mutex_lock(&o->grow_lock); /* no deadline: returns only once taken */
    (void)st;
}

static void unlock_grow(memory_obj *o) {
    cordon_status st = cordon_mutex_unlock(&o->grow_lock); /* called by the holder only */
    (void)st;
}

uint64_t cordon_memory_max_pages_for(bool memory64, uint64_t page_size) {
    if (page_size == 0 || page_size == CORDON_MEMORY_PAGE_SIZE) {
        return memory64 ? CORDON_MEMORY64_MAX_PAGES : CORDON_MEMORY32_MAX_PAGES;
    }
    if (page_size == CORDON_MEMORY_BYTE_PAGE_SIZE) {
        return memory64 ? UINT64_MAX : (UINT64_C(1) << 32) - 1u;
    }
    return 0;
}

/* x rounded up to a multiple of the power of two `page`, saturating at the largest multiple. */
static uint64_t round_up_sat(uint64_t x, uint64_t page) {
    if (x > UINT64_MAX - (page - 1u)) {
        return UINT64_MAX & ~(page - 1u);
    }
    return (x + page - 1u) & ~(page - 1u);
}

static uint64_t min_u64(uint64_t a, uint64_t b) {
    return a < b ? a : b;
}

/* The reservation and the region options for opt, validated; *fallback_floor_out is the smallest
 * reservation a refused default may fall back to (0: no fallback). */
static cordon_status plan_memory(const cordon_memory_options *opt, uint64_t os_page, cordon_pages_options *po,
                                 uint64_t *maximum_out, unsigned *shift_out, uint64_t *initial_bytes_out,
                                 uint64_t *fallback_floor_out) {
    uint64_t page_size = opt->page_size == 0 ? CORDON_MEMORY_PAGE_SIZE : opt->page_size;
    uint64_t cap = cordon_memory_max_pages_for(opt->memory64, page_size);
    if (cap == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t maximum = opt->has_maximum ? opt->maximum_pages : cap;
    if (maximum > cap || opt->initial_pages > maximum || (opt->shared && !opt->has_maximum) ||
        (opt->bounds_check_free &&
         (opt->memory64 || page_size != CORDON_MEMORY_PAGE_SIZE || opt->reserve_bytes != 0)) ||
        opt->prefix_bytes > os_page) {
        return CORDON_INVALID_ARGUMENT;
    }
    unsigned shift = page_size == 1 ? 0u : 16u;
    if (opt->initial_pages > (UINT64_MAX >> shift)) {
        return CORDON_OVERFLOW; /* 2^48 pages of 64 KiB: 2^64 bytes */
    }
    uint64_t initial_bytes = opt->initial_pages << shift;
    if (initial_bytes > UINT64_MAX - (os_page - 1u)) {
        return CORDON_OVERFLOW;
    }
    uint64_t commit = round_up_sat(initial_bytes, os_page);
    uint64_t max_bytes = maximum > (UINT64_MAX >> shift) ? UINT64_MAX : maximum << shift;
    uint64_t max_reserve = round_up_sat(max_bytes, os_page);
    uint64_t reserve = 0;
    uint64_t floor = 0;
    if (opt->bounds_check_free) {
        po->bounds_check_free_32 = true;
        reserve = CORDON_PAGES_4GIB;
    } else if (opt->reserve_bytes != 0) {
        if (opt->reserve_bytes < initial_bytes) {
            return CORDON_INVALID_ARGUMENT;
        }
        reserve = min_u64(round_up_sat(opt->reserve_bytes, os_page), max_reserve);
    } else {
        reserve = min_u64(max_reserve, CORDON_MEMORY_DEFAULT_RESERVE_BYTES);
        if (reserve < commit) {
            reserve = commit; /* a memory64 created larger than the default cap */
        }
        floor = CORDON_MEMORY_MIN_DEFAULT_RESERVE_BYTES > commit ? CORDON_MEMORY_MIN_DEFAULT_RESERVE_BYTES : commit;
    }
    if (reserve == 0) {
        reserve = os_page; /* maximum 0: one never accessible page, so the mapping is not empty */
    }
    po->page_size = CORDON_MEMORY_PAGE_SIZE;
    po->reserve_bytes = reserve;
    po->commit_bytes = commit;
    po->name = opt->name;
    po->huge_pages = opt->huge_pages;
    po->guard_before_bytes = SMALL_GUARD;
    po->guard_after_bytes = opt->bounds_check_free ? 0 : SMALL_GUARD;
    *maximum_out = maximum;
    *shift_out = shift;
    *initial_bytes_out = initial_bytes;
    *fallback_floor_out = floor;
    return CORDON_OK;
}

cordon_status cordon_memory_create(const cordon_memory_options *opt, cordon_memory *out) {
    if (opt == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t os_page = 0;
    cordon_status st = cordon__os_page_size(&os_page);
    if (st != CORDON_OK) {
        return st;
    }
    cordon_pages_options po = {0};
    uint64_t maximum = 0;
    uint64_t initial_bytes = 0;
    uint64_t floor = 0;
    unsigned shift = 0;
    st = plan_memory(opt, os_page, &po, &maximum, &shift, &initial_bytes, &floor);
    if (st != CORDON_OK) {
        return st;
    }
    void *block = NULL;
    st = cordon__sys_alloc(sizeof(memory_obj), &block);
    if (st != CORDON_OK) {
        return st;
    }
    memory_obj *o = (memory_obj *)block;
    uint64_t prefix_page = opt->prefix_bytes != 0 ? os_page : 0;
    for (;;) {
        st = cordon__region_reserve_prefixed(&o->region, &po, prefix_page);
        /* A default reservation the OS refused (a limited address space) is halved, down to the
         * floor; argument errors and explicit reservations are final. */
        if (st == CORDON_OK || floor == 0 || st == CORDON_INVALID_ARGUMENT || st == CORDON_OVERFLOW ||
            po.reserve_bytes <= floor) {
            break;
        }
        uint64_t half = round_up_sat(po.reserve_bytes / 2u, os_page);
        po.reserve_bytes = half > floor ? half : floor;
    }
    if (st != CORDON_OK) {
        cordon__sys_free(block);
        return st;
    }
    o->def.base = o->region.base;
    atomic_init(LENGTH(o), initial_bytes);
    o->def.shared = opt->shared;
    o->maximum_pages = maximum;
    o->page_shift = shift;
    o->has_maximum = opt->has_maximum;
    o->memory64 = opt->memory64;
    o->prefix_bytes = opt->prefix_bytes;
    o->grow_lock = (cordon_mutex)CORDON_MUTEX_INIT;
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

/* Grow with the grow lock held: the checks, the commit of the OS pages the new length needs, the
 * zeroing of bytes taken from pages committed before (with 1-byte pages the last OS page of the
 * memory is committed past its length; nothing of this API writes there, but the base pointer
 * could), then the release store of the length. */
static cordon_status grow_locked(memory_obj *o, uint64_t delta_pages, uint64_t *old_pages_out) {
    if (cordon__region_degraded(&o->region)) {
        return CORDON_WRONG_STATE;
    }
    uint64_t length = atomic_load_explicit(LENGTH(o), memory_order_relaxed); /* only grow writes it */
    uint64_t old_pages = length >> o->page_shift;
    if (delta_pages > o->maximum_pages - old_pages) {
        return CORDON_LIMIT_EXCEEDED;
    }
    uint64_t new_pages = old_pages + delta_pages;
    if (new_pages > (o->region.reserved >> o->page_shift)) {
        return CORDON_OUT_OF_MEMORY; /* past the reservation: the memory would have to move */
    }
    if (delta_pages != 0) {
        uint64_t new_length = new_pages << o->page_shift; /* <= reserved: fits */
        uint64_t committed = atomic_load_explicit(&o->region.committed, memory_order_relaxed);
        uint64_t target = round_up_sat(new_length, o->region.os_page); /* reserved is a multiple */
        if (target > committed) {
            cordon_status st = cordon__region_grow_to(&o->region, target);
            if (st != CORDON_OK) {
                return st;
            }
        }
        if (committed > length) {
            memset(o->def.base + length, 0, (size_t)(min_u64(new_length, committed) - length));
        }
        atomic_store_explicit(LENGTH(o), new_length, memory_order_release);
    }
    *old_pages_out = old_pages;
    return CORDON_OK;
}

static inline cordon_status grow_in(cordon_memory m, uint64_t delta_pages, uint64_t *old_pages_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t old = 0;
    lock_grow(o);
    st = grow_locked(o, delta_pages, &old);
    unlock_grow(o);
    if (st == CORDON_OK && old_pages_out != NULL) {
        *old_pages_out = old;
    }
    return st;
}

/* Looks m up and checks that `out` is not NULL: the common head of the queries. */
static inline cordon_status query_of(cordon_memory m, const void *out, memory_obj **o) {
    cordon_status st = memory_of(m, o);
    if (st != CORDON_OK) {
        return st;
    }
    return out == NULL ? CORDON_INVALID_ARGUMENT : CORDON_OK;
}

static inline cordon_status size_pages_in(cordon_memory m, uint64_t *pages_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, pages_out, &o);
    if (st == CORDON_OK) {
        *pages_out = size_of(o) >> o->page_shift;
    }
    return st;
}

static inline cordon_status size_bytes_in(cordon_memory m, uint64_t *bytes_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, bytes_out, &o);
    if (st == CORDON_OK) {
        *bytes_out = size_of(o);
    }
    return st;
}

static inline cordon_status maximum_pages_in(cordon_memory m, uint64_t *pages_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, pages_out, &o);
    if (st == CORDON_OK) {
        *pages_out = o->maximum_pages;
    }
    return st;
}

static inline cordon_status is_shared_in(cordon_memory m, bool *shared_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, shared_out, &o);
    if (st == CORDON_OK) {
        *shared_out = o->def.shared;
    }
    return st;
}

static inline cordon_status reserved_bytes_in(cordon_memory m, uint64_t *bytes_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, bytes_out, &o);
    if (st == CORDON_OK) {
        *bytes_out = o->region.reserved;
    }
    return st;
}

static inline cordon_status type_get_in(cordon_memory m, cordon_memory_type *out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, out, &o);
    if (st == CORDON_OK) {
        cordon_memory_type t;
        t.minimum_pages = size_of(o) >> o->page_shift;
        t.maximum_pages = o->maximum_pages;
        t.page_size = UINT64_C(1) << o->page_shift;
        t.has_maximum = o->has_maximum;
        t.memory64 = o->memory64;
        t.shared = o->def.shared;
        *out = t;
    }
    return st;
}

static inline cordon_status base_in(cordon_memory m, void **base_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, base_out, &o);
    if (st == CORDON_OK) {
        *base_out = o->def.base;
    }
    return st;
}

static inline cordon_status definition_get_in(cordon_memory m, const cordon_memory_definition **def_out) {
    memory_obj *o = NULL;
    cordon_status st = query_of(m, def_out, &o);
    if (st == CORDON_OK) {
        *def_out = &o->def;
    }
    return st;
}

static inline cordon_status prefix_in(cordon_memory m, void **prefix_out, uint64_t *bytes_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (prefix_out == NULL && bytes_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (prefix_out != NULL) {
        *prefix_out = o->prefix_bytes != 0 ? (void *)(o->def.base - o->prefix_bytes) : NULL;
    }
    if (bytes_out != NULL) {
        *bytes_out = o->prefix_bytes;
    }
    return CORDON_OK;
}

static inline cordon_status pointer_in(cordon_memory m, uint64_t addr, uint64_t len, uint64_t align, void **ptr_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if (ptr_out == NULL || (align & (align - 1u)) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (align > 1u && (addr & (align - 1u)) != 0) {
        return CORDON_MISALIGNED;
    }
    if (!in_bounds(addr, len, size_of(o))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    *ptr_out = o->def.base + addr;
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
    if (len != 0 && o->def.shared) {
        cordon__shared_move(o->def.base + dst, true, o->def.base + src, true, (size_t)len);
    } else if (len != 0) {
        memmove(o->def.base + dst, o->def.base + src, (size_t)len);
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
    if (len != 0 && (d->def.shared || s->def.shared)) {
        cordon__shared_move(d->def.base + dst_addr, d->def.shared, s->def.base + src_addr, s->def.shared, (size_t)len);
    } else if (len != 0) {
        memmove(d->def.base + dst_addr, s->def.base + src_addr, (size_t)len);
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
    *ptr_out = o->def.base + addr + offset;
    *shared_out = o->def.shared;
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

/* The aligned, in-bounds word for an atomic access at the memarg addr + offset. The memory's base is
 * page-aligned, so an effective address that is a multiple of width gives a naturally aligned
 * pointer. The alignment of the wrapped sum is that of the true sum (width divides 2^64), so it is
 * checked first, as memory.h orders MISALIGNED before bounds. */
static inline cordon_status atomic_range(memory_obj *o, uint64_t addr, uint64_t offset, unsigned width,
                                         uint8_t **ptr_out) {
    if (width != 1 && width != 2 && width != 4 && width != 8) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t ea = addr + offset;
    if ((ea & (uint64_t)(width - 1u)) != 0) {
        return CORDON_MISALIGNED;
    }
    if (offset > UINT64_MAX - addr || !in_bounds(ea, width, size_of(o))) {
        return CORDON_OUT_OF_BOUNDS;
    }
    *ptr_out = o->def.base + ea;
    return CORDON_OK;
}

/* args_ok: the caller's other arguments (output pointer, operation) are valid; checked with the width,
 * after the handle and before alignment and bounds (the order memory.h documents). */
static cordon_status atomic_prepare(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, bool args_ok,
                                    uint8_t **ptr_out) {
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
    return atomic_range(o, addr, offset, width, ptr_out);
}

cordon_status cordon__memory_atomic_word(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width,
                                         bool args_ok, void **word_out) {
    memory_obj *o = NULL;
    cordon_status st = memory_of(m, &o);
    if (st != CORDON_OK) {
        return st;
    }
    if ((width != 4 && width != 8) || word_out == NULL || !args_ok) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (!o->def.shared) {
        return CORDON_WRONG_STATE;
    }
    uint8_t *p = NULL;
    st = atomic_range(o, addr, offset, width, &p);
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

static inline cordon_status atomic_load_in(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width,
                                           uint64_t *out) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, offset, width, out != NULL, &p);
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

static inline cordon_status atomic_store_in(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width,
                                            uint64_t value) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, offset, width, true, &p);
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

static inline cordon_status atomic_rmw_in(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width,
                                          cordon_memory_rmw_op op, uint64_t operand, uint64_t *old_out) {
    uint8_t *p = NULL;
    cordon_status st =
        atomic_prepare(m, addr, offset, width, (unsigned)op <= (unsigned)CORDON_MEMORY_RMW_XCHG, &p);
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

static inline cordon_status atomic_cmpxchg_in(cordon_memory m, uint64_t addr, uint64_t offset, unsigned width,
                                              uint64_t expected, uint64_t replacement, uint64_t *old_out) {
    uint8_t *p = NULL;
    cordon_status st = atomic_prepare(m, addr, offset, width, true, &p);
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
                       (cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, uint64_t *out),
                       atomic_load_in, (m, addr, offset, width, out))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_store, m.handle, 0,
                       (cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, uint64_t value),
                       atomic_store_in, (m, addr, offset, width, value))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_rmw, m.handle, 0,
                       (cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, cordon_memory_rmw_op op,
                        uint64_t operand, uint64_t *old_out),
                       atomic_rmw_in, (m, addr, offset, width, op, operand, old_out))
CORDON__ACCESS_GUARDED(cordon_memory_atomic_cmpxchg, m.handle, 0,
                       (cordon_memory m, uint64_t addr, uint64_t offset, unsigned width, uint64_t expected,
                        uint64_t replacement, uint64_t *old_out),
                       atomic_cmpxchg_in, (m, addr, offset, width, expected, replacement, old_out))
CORDON__ACCESS_GUARDED(cordon_memory_reserved_bytes, m.handle, 0, (cordon_memory m, uint64_t *bytes_out),
                       reserved_bytes_in, (m, bytes_out))
CORDON__ACCESS_GUARDED(cordon_memory_type_get, m.handle, 0, (cordon_memory m, cordon_memory_type *out),
                       type_get_in, (m, out))
CORDON__ACCESS_GUARDED(cordon_memory_definition_get, m.handle, 0,
                       (cordon_memory m, const cordon_memory_definition **def_out), definition_get_in, (m, def_out))
CORDON__ACCESS_GUARDED(cordon_memory_prefix, m.handle, 0, (cordon_memory m, void **prefix_out, uint64_t *bytes_out),
                       prefix_in, (m, prefix_out, bytes_out))
CORDON__ACCESS_GUARDED(cordon_memory_pointer, m.handle, 0,
                       (cordon_memory m, uint64_t addr, uint64_t len, uint64_t align, void **ptr_out), pointer_in,
                       (m, addr, len, align, ptr_out))
CORDON__ACCESS_GUARDED(cordon_memory_copy_between, dst.handle, src.handle,
                       (cordon_memory dst, uint64_t dst_addr, cordon_memory src, uint64_t src_addr, uint64_t len),
                       copy_between_in, (dst, dst_addr, src, src_addr, len))
