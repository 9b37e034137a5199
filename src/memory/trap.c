/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — traps (include/cordon/trap.h): the registry of live regions (trap_registry.h), the
 * lookup the signal handler and hosts' own handlers use, and cordon_trap_run over the handler and the
 * jump in src/sys/signal.c.
 *
 * Everything reachable from classify() and cordon_trap_lookup() is async-signal-safe: relaxed and
 * acquire loads of lock-free atomics in records that are never freed, and no call. */
#include "cordon/trap.h"

#include "memory/access.h"
#include "memory/region.h"
#include "memory/trap_registry.h"
#include "sys/sys.h"

_Static_assert(ATOMIC_POINTER_LOCK_FREE == 2 && ATOMIC_LLONG_LOCK_FREE == 2 && ATOMIC_INT_LOCK_FREE == 2 &&
                   ATOMIC_BOOL_LOCK_FREE == 2,
               "records are read from signal handlers: their atomics must be lock-free");
_Static_assert(CORDON__SYS_TRAP_MEMORY == (unsigned)CORDON_TRAP_MEMORY &&
                   CORDON__SYS_TRAP_PAGES == (unsigned)CORDON_TRAP_PAGES &&
                   CORDON__SYS_TRAP_STACK == (unsigned)CORDON_TRAP_STACK_OVERFLOW,
               "the sys layer's trap kinds are the public ones");

/* How many times a reader re-reads a record whose owner was writing it before skipping it. The owner
 * may be the thread the reader interrupted, so the reader never waits for it. */
#define READ_ATTEMPTS 4

static cordon__trap_record *_Atomic registry;

/* ---- the owner's side ---------------------------------------------------------------------------- */

static void write_begin(cordon__trap_record *rec) {
    uint32_t s = atomic_load_explicit(&rec->seq, memory_order_relaxed);
    atomic_store_explicit(&rec->seq, s + 1u, memory_order_relaxed);
    atomic_thread_fence(memory_order_release); /* the odd count is seen before any field changes */
}

static void write_end(cordon__trap_record *rec) {
    uint32_t s = atomic_load_explicit(&rec->seq, memory_order_relaxed);
    atomic_store_explicit(&rec->seq, s + 1u, memory_order_release);
}

cordon_status cordon__trap_record_take(cordon__trap_record **out) {
    for (cordon__trap_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        bool expected = false;
        if (!atomic_load_explicit(&r->used, memory_order_relaxed) &&
            atomic_compare_exchange_strong_explicit(&r->used, &expected, true, memory_order_acquire,
                                                    memory_order_relaxed)) {
            *out = r;
            return CORDON_OK;
        }
    }
    void *block = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__trap_record), &block);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__trap_record *r = (cordon__trap_record *)block;
    atomic_init(&r->seq, 0u);
    atomic_init(&r->live, false);
    atomic_init(&r->used, true);
    atomic_init(&r->lo, 0u);
    atomic_init(&r->hi, 0u);
    atomic_init(&r->base, 0u);
    atomic_init(&r->prefix, 0u);
    atomic_init(&r->reserved, 0u);
    atomic_init(&r->handle, 0u);
    atomic_init(&r->kind, 0u);
    cordon__trap_record *head = atomic_load_explicit(&registry, memory_order_relaxed);
    do {
        r->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&registry, &head, r, memory_order_release, memory_order_relaxed));
    *out = r;
    return CORDON_OK;
}

void cordon__trap_record_publish(cordon__trap_record *rec, const cordon__region *r, unsigned kind, uint64_t handle) {
    if (rec == NULL) {
        return;
    }
    write_begin(rec);
    atomic_store_explicit(&rec->lo, (uintptr_t)r->map, memory_order_relaxed);
    atomic_store_explicit(&rec->hi, (uintptr_t)r->map + (uintptr_t)r->map_len, memory_order_relaxed);
    atomic_store_explicit(&rec->base, (uintptr_t)r->base, memory_order_relaxed);
    atomic_store_explicit(&rec->prefix, r->prefix, memory_order_relaxed);
    atomic_store_explicit(&rec->reserved, r->reserved, memory_order_relaxed);
    atomic_store_explicit(&rec->handle, handle, memory_order_relaxed);
    atomic_store_explicit(&rec->kind, kind, memory_order_relaxed);
    atomic_store_explicit(&rec->live, true, memory_order_relaxed);
    write_end(rec);
}

static void set_live(cordon__trap_record *rec, bool live) {
    write_begin(rec);
    atomic_store_explicit(&rec->live, live, memory_order_relaxed);
    write_end(rec);
}

void cordon__trap_record_unpublish(cordon__trap_record *rec) {
    if (rec != NULL && atomic_load_explicit(&rec->live, memory_order_relaxed)) {
        set_live(rec, false);
    }
}

void cordon__trap_record_republish(cordon__trap_record *rec) {
    if (rec != NULL && atomic_load_explicit(&rec->handle, memory_order_relaxed) != 0) {
        set_live(rec, true);
    }
}

void cordon__trap_record_give(cordon__trap_record *rec) {
    if (rec == NULL) {
        return;
    }
    write_begin(rec);
    atomic_store_explicit(&rec->live, false, memory_order_relaxed);
    atomic_store_explicit(&rec->handle, 0u, memory_order_relaxed);
    write_end(rec);
    atomic_store_explicit(&rec->used, false, memory_order_release);
}

uint64_t cordon__trap_record_count(void) {
    uint64_t n = 0;
    for (cordon__trap_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        n++;
    }
    return n;
}

/* ---- the readers' side (async-signal-safe) -------------------------------------------------------- */

/* One consistent read of rec: true with *out filled when it is live and holds addr. */
static bool match(cordon__trap_record *rec, uintptr_t addr, cordon__sys_trap_info *out) {
    for (int attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        uint32_t s1 = atomic_load_explicit(&rec->seq, memory_order_acquire);
        if ((s1 & 1u) != 0) {
            continue;
        }
        bool live = atomic_load_explicit(&rec->live, memory_order_relaxed);
        uintptr_t lo = atomic_load_explicit(&rec->lo, memory_order_relaxed);
        uintptr_t hi = atomic_load_explicit(&rec->hi, memory_order_relaxed);
        uintptr_t base = atomic_load_explicit(&rec->base, memory_order_relaxed);
        uint64_t prefix = atomic_load_explicit(&rec->prefix, memory_order_relaxed);
        uint64_t reserved = atomic_load_explicit(&rec->reserved, memory_order_relaxed);
        uint64_t handle = atomic_load_explicit(&rec->handle, memory_order_relaxed);
        unsigned kind = atomic_load_explicit(&rec->kind, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire); /* the field loads complete before the re-check */
        if (atomic_load_explicit(&rec->seq, memory_order_relaxed) != s1) {
            continue;
        }
        if (!live || addr < lo || addr >= hi) {
            return false;
        }
        out->kind = kind;
        out->handle = handle;
        /* |addr - base| < the mapping's length <= PTRDIFF_MAX (checked at reserve): fits int64. */
        out->offset = addr >= base ? (int64_t)(addr - base) : -(int64_t)(base - addr);
        out->reserved = reserved;
        out->in_guard = (addr < base && base - addr > prefix) || (addr >= base && addr - base >= reserved);
        return true;
    }
    return false;
}

static bool find(uintptr_t addr, cordon__sys_trap_info *out) {
    for (cordon__trap_record *r = atomic_load_explicit(&registry, memory_order_acquire); r != NULL; r = r->next) {
        if (match(r, addr, out)) {
            return true;
        }
    }
    return false;
}

/* The classifier the signal handler calls (see cordon__sys_trap_classify_fn). */
static bool classify(uintptr_t addr, cordon__sys_trap_info *out) {
    return find(addr, out);
}

static void region_from(const cordon__sys_trap_info *info, cordon_trap_region *out) {
    out->kind = (cordon_trap_kind)info->kind;
    out->memory.handle = info->kind == CORDON__SYS_TRAP_MEMORY ? info->handle : 0u;
    out->pages.handle = info->kind == CORDON__SYS_TRAP_PAGES ? info->handle : 0u;
    out->offset = info->offset;
    out->reserved_bytes = info->reserved;
    out->in_guard = info->in_guard;
}

cordon_status cordon_trap_lookup(const void *addr, cordon_trap_region *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon__sys_trap_info info = {0};
    if (!find((uintptr_t)addr, &info)) {
        return CORDON_OUT_OF_BOUNDS;
    }
    region_from(&info, out);
    return CORDON_OK;
}

/* ---- installation and the run --------------------------------------------------------------------- */

cordon_status cordon_trap_install(void) {
    return cordon__sys_trap_install(classify);
}

bool cordon_trap_installed(void) {
    return cordon__sys_trap_installed();
}

cordon_status cordon_trap_run(cordon_trap_fn fn, void *ctx, cordon_trap *trap_out) {
    if (fn == NULL || trap_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon__sys_trap_info info = {0};
    cordon_status st = cordon__sys_trap_run(fn, ctx, &info);
    if (st != CORDON_TRAPPED) {
        return st;
    }
    /* fn may have trapped inside a cordon call that was handed a pointer into an inaccessible part of
     * a region (a read into a guard page): that call's access never ended. cordon_trap_run itself is
     * never inside an access, so no access of this thread is in progress now: clear its slots (and
     * give back a borrowed record), or a destroy of that handle would wait for them forever. */
    cordon__access_record *self = cordon__access_self;
    if (self != NULL && !self->lent) {
        cordon__access_leave2(self);
    }
    cordon__access_record *lent = cordon__access_lent_self;
    if (lent != NULL) {
        /* The trapped access had borrowed a pool record: clear it and give it back, as its end would. */
        cordon__access_leave2(lent);
        cordon__access_return_lent(lent);
    }
    cordon_trap t = {0};
    t.kind = (cordon_trap_kind)info.kind;
    t.access = (cordon_trap_access)info.access;
    t.address = (const void *)info.address;
    t.bus_error = info.bus;
    if (info.kind == CORDON__SYS_TRAP_STACK) {
        t.region.kind = CORDON_TRAP_NONE;
        t.region.offset = info.offset;
        t.region.reserved_bytes = info.reserved;
        t.region.in_guard = true;
    } else {
        region_from(&info, &t.region);
    }
    *trap_out = t;
    return CORDON_TRAPPED;
}
