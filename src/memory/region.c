/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — reservation state and its changes (see region.h for the invariants). */
#include "memory/region.h"

#include "memory/trap_registry.h"
#include "sys/sys.h"

/* A reservation name as the OS shows it: "cordon" or "cordon:<user name>". */
#define NAME_PREFIX "cordon"
#define USER_NAME_MAX 64u

static _Atomic uint64_t os_page_cache;

cordon_status cordon__os_page_size(uint64_t *out) {
    uint64_t p = atomic_load_explicit(&os_page_cache, memory_order_relaxed);
    if (p == 0) {
        size_t v = 0;
        cordon_status st = cordon__sys_page_size(&v);
        if (st != CORDON_OK) {
            return st;
        }
        p = (uint64_t)v;
        atomic_store_explicit(&os_page_cache, p, memory_order_relaxed);
    }
    *out = p;
    return CORDON_OK;
}

static bool is_pow2(uint64_t v) {
    return v != 0 && (v & (v - 1u)) == 0;
}

static bool aligned(uint64_t v, uint64_t page) {
    return (v & (page - 1u)) == 0;
}

/* The region lock is held across system calls (a discard of 256 MiB takes ~14 ms), so a waiter parks
 * on a futex instead of spinning. Neither call can fail here: the mutex is not NULL, a lock without a
 * deadline returns only once taken, and unlock is called only by the holder. */
static void lock(cordon__region *r) {
    cordon_status st = cordon_mutex_lock(&r->lock);
    (void)st;
}

static void unlock(cordon__region *r) {
    cordon_status st = cordon_mutex_unlock(&r->lock);
    (void)st;
}

/* Runs `cleanup` (a system call made on a failure path) without losing the OS detail of the failure
 * that is being reported: the detail of the first failure is put back afterwards. */
static void keep_first_error(cordon_status reported, cordon_os_error first) {
    (void)cordon__sys_fail_as(reported, first.call, first.code);
}

/* ---- per-page access (see region.h) ---------------------------------------------------------------- */

static cordon__sys_prot prot_of(cordon_pages_access access) {
    switch (access) {
    case CORDON_PAGES_NONE:
        return CORDON__SYS_PROT_NONE;
    case CORDON_PAGES_READ:
        return CORDON__SYS_PROT_READ;
    default:
        return CORDON__SYS_PROT_READ_WRITE;
    }
}

/* The index of the first run that ends after `page` (run_count when none). Lock held. */
static uint64_t first_run_ending_after(const cordon__region *r, uint64_t page) {
    uint64_t lo = 0;
    uint64_t hi = r->run_count;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2u;
        if (r->runs[mid].end <= page) {
            lo = mid + 1u;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Makes room for one set_access of a restriction, which adds at most two runs (one run split in
 * three). Called before any system call of the operation, so running out of memory fails it with
 * nothing changed. Lock held. */
static cordon_status reserve_runs(cordon__region *r) {
    if (r->run_count + 2u <= r->run_capacity) {
        return CORDON_OK;
    }
    /* run_count <= committed pages < 2^52, so doubling cannot wrap; the byte size is checked. */
    uint64_t cap = r->run_capacity == 0 ? 8u : r->run_capacity * 2u;
    if (cap > (uint64_t)SIZE_MAX / sizeof(cordon__access_run)) {
        return CORDON_OUT_OF_MEMORY;
    }
    void *block = NULL;
    cordon_status st = cordon__sys_alloc((size_t)cap * sizeof(cordon__access_run), &block);
    if (st != CORDON_OK) {
        return st;
    }
    if (r->run_count != 0) {
        memcpy(block, r->runs, (size_t)r->run_count * sizeof(cordon__access_run));
    }
    cordon__sys_free(r->runs);
    r->runs = (cordon__access_run *)block;
    r->run_capacity = cap;
    return CORDON_OK;
}

/* Records `access` for pages [first, end) (first < end), keeping the run invariants of region.h.
 * Needs room for two more runs (reserve_runs), except when making read-write a range that reaches
 * past every run (decommit: runs end at or before `committed`), which never adds one. Lock held. */
static void set_access(cordon__region *r, uint64_t first, uint64_t end, cordon_pages_access access) {
    if (r->runs == NULL) {
        return; /* no run yet, so access is READ_WRITE: reserve_runs ran before any restriction */
    }
    cordon__access_run *runs = r->runs;
    uint64_t i = first_run_ending_after(r, first);
    uint64_t j = i;
    while (j < r->run_count && runs[j].first < end) {
        j++;
    }
    /* runs[i, j) overlap [first, end): they are replaced by what is left of the first and the last
     * outside the range, and the range itself unless it becomes read-write. */
    cordon__access_run piece[3];
    uint64_t k = 0;
    if (i < j && runs[i].first < first) {
        piece[k++] = (cordon__access_run){runs[i].first, first, runs[i].access};
    }
    if (access != CORDON_PAGES_READ_WRITE) {
        piece[k++] = (cordon__access_run){first, end, (uint8_t)access};
    }
    if (i < j && runs[j - 1u].end > end) {
        piece[k++] = (cordon__access_run){end, runs[j - 1u].end, runs[j - 1u].access};
    }
    if (k > j - i && r->run_count + (k - (j - i)) > r->run_capacity) {
        return; /* unreachable: callers reserved room (see above) */
    }
    uint64_t tail = r->run_count - j;
    if (tail != 0 && k != j - i) {
        memmove(&runs[i + k], &runs[j], (size_t)tail * sizeof *runs);
    }
    for (uint64_t n = 0; n < k; n++) {
        runs[i + n] = piece[n];
    }
    r->run_count = r->run_count - (j - i) + k;
    /* Only the new pieces and their two neighbours can now touch with equal access. */
    uint64_t p = i > 0 ? i - 1u : 0;
    uint64_t stop = i + k + 1u;
    while (p + 1u < r->run_count && p + 1u < stop) {
        if (runs[p].end == runs[p + 1u].first && runs[p].access == runs[p + 1u].access) {
            runs[p].end = runs[p + 1u].end;
            uint64_t after = r->run_count - (p + 2u);
            if (after != 0) {
                memmove(&runs[p + 1u], &runs[p + 2u], (size_t)after * sizeof *runs);
            }
            r->run_count--;
            stop--;
        } else {
            p++;
        }
    }
}

/* After a failed mprotect of pages [first, end): puts every page back to its recorded access, one
 * mprotect per run of equal access (the gaps between runs are read-write). A run that cannot be put
 * back is made PROT_NONE instead (never wider than before or than what was asked) and the region is
 * marked degraded; returns false then. Lock held. */
static bool restore_access(cordon__region *r, uint64_t first, uint64_t end) {
    bool whole = true;
    uint64_t p = first;
    uint64_t i = first_run_ending_after(r, first);
    while (p < end) {
        uint8_t a = (uint8_t)CORDON_PAGES_READ_WRITE;
        uint64_t q = end;
        if (i < r->run_count && r->runs[i].first <= p) {
            a = r->runs[i].access;
            q = r->runs[i].end < end ? r->runs[i].end : end;
            i++;
        } else if (i < r->run_count && r->runs[i].first < end) {
            q = r->runs[i].first;
        }
        uint8_t *addr = r->base + p * r->os_page;
        size_t len = (size_t)((q - p) * r->os_page);
        if (cordon__sys_pages_protect(addr, len, prot_of((cordon_pages_access)a)) != CORDON_OK) {
            whole = false;
            if (a != CORDON_PAGES_NONE) {
                (void)cordon__sys_pages_protect(addr, len, CORDON__SYS_PROT_NONE);
            }
        }
        p = q;
    }
    if (!whole) {
        atomic_store_explicit(&r->degraded, true, memory_order_relaxed);
    }
    return whole;
}

static bool is_degraded(const cordon__region *r) {
    return atomic_load_explicit(&r->degraded, memory_order_relaxed);
}

static bool valid_user_name(const char *name) {
    size_t n = 0;
    while (n <= USER_NAME_MAX && name[n] != '\0') {
        n++;
    }
    if (n == 0 || n > USER_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '\\' || c == '$' || c == '`') {
            return false;
        }
    }
    return true;
}

cordon_status cordon__region_reserve(cordon__region *r, const cordon_pages_options *opt) {
    return cordon__region_reserve_prefixed(r, opt, 0);
}

cordon_status cordon__region_reserve_prefixed(cordon__region *r, const cordon_pages_options *opt, uint64_t prefix) {
    if (r == NULL || opt == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t os_page = 0;
    cordon_status st = cordon__os_page_size(&os_page);
    if (st != CORDON_OK) {
        return st;
    }
    uint64_t page_size = opt->page_size != 0 ? opt->page_size : CORDON_WASM_PAGE_SIZE;
    if (!is_pow2(page_size) || page_size < os_page) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t reserved = opt->reserve_bytes;
    uint64_t guard_after = opt->guard_after_bytes;
    if (opt->bounds_check_free_32) {
        if (reserved > CORDON_PAGES_4GIB) {
            return CORDON_INVALID_ARGUMENT;
        }
        reserved = CORDON_PAGES_4GIB;
        /* An access at base + uint32 index + uint32 offset spans at most up to
         * base + 2 * (4 GiB - 1) + (width - 1): inside reserved + guard for any width up to 64 KiB. */
        if (guard_after < CORDON_PAGES_4GIB + CORDON_WASM_PAGE_SIZE) {
            guard_after = CORDON_PAGES_4GIB + CORDON_WASM_PAGE_SIZE;
        }
    }
    if (reserved == 0 || !aligned(reserved, os_page) || !aligned(opt->commit_bytes, os_page) ||
        !aligned(opt->guard_before_bytes, os_page) || !aligned(guard_after, os_page) ||
        opt->commit_bytes > reserved || !aligned(prefix, os_page) || prefix > os_page) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (opt->name != NULL && !valid_user_name(opt->name)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (prefix > UINT64_MAX - opt->guard_before_bytes) {
        return CORDON_OVERFLOW;
    }
    uint64_t total = opt->guard_before_bytes + prefix;
    if (reserved > UINT64_MAX - total) {
        return CORDON_OVERFLOW;
    }
    total += reserved;
    if (guard_after > UINT64_MAX - total) {
        return CORDON_OVERFLOW;
    }
    total += guard_after;
    if (total > (uint64_t)SIZE_MAX || total > (uint64_t)PTRDIFF_MAX) {
        return CORDON_OVERFLOW;
    }

    void *map = NULL;
    st = cordon__sys_pages_reserve((size_t)total, &map);
    if (st != CORDON_OK) {
        return st;
    }
    uint8_t *base = (uint8_t *)map + opt->guard_before_bytes + prefix;
    if (opt->commit_bytes + prefix != 0) {
        /* The prefix page and the initial commit are adjacent: one call makes both read-write. */
        st = cordon__sys_pages_protect(base - prefix, (size_t)(opt->commit_bytes + prefix),
                                       CORDON__SYS_PROT_READ_WRITE);
        if (st != CORDON_OK) {
            cordon_os_error first = cordon_last_os_error();
            /* Nothing else holds the mapping yet; if even this fails the address space (not memory:
             * nothing was touched) is lost, and the commit failure is still what is reported. */
            (void)cordon__sys_pages_release(map, (size_t)total);
            keep_first_error(st, first);
            return st;
        }
    }
    /* Trap hook: a record in the live-region registry (memory/trap_registry.h). */
    cordon__trap_record *trap = NULL;
    st = cordon__trap_record_take(&trap);
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)cordon__sys_pages_release(map, (size_t)total);
        keep_first_error(st, first);
        return st;
    }
    /* Best effort from here: a kernel without mapping names or huge pages still gives a working
     * reservation, and cordon_pages_info says what took. */
    _Static_assert(sizeof NAME_PREFIX + 1u + USER_NAME_MAX <= sizeof r->os_name, "os_name too small");
    char *name = r->os_name;
    memcpy(name, NAME_PREFIX, sizeof NAME_PREFIX);
    if (opt->name != NULL) {
        size_t n = strlen(opt->name);
        name[sizeof NAME_PREFIX - 1u] = ':';
        memcpy(name + sizeof NAME_PREFIX, opt->name, n + 1u);
    }
    bool named = cordon__sys_pages_name(map, (size_t)total, name) == CORDON_OK;
    bool huge = opt->huge_pages && cordon__sys_pages_hint_huge(base, (size_t)reserved) == CORDON_OK;

    r->map = (uint8_t *)map;
    r->map_len = total;
    r->base = base;
    r->reserved = reserved;
    atomic_store_explicit(&r->committed, opt->commit_bytes, memory_order_release);
    r->guard_before = opt->guard_before_bytes;
    r->prefix = prefix;
    r->guard_after = guard_after;
    r->page_size = page_size;
    r->os_page = os_page;
    r->runs = NULL;
    r->run_count = 0;
    r->run_capacity = 0;
    r->named = named;
    r->huge = huge;
    atomic_store_explicit(&r->degraded, false, memory_order_relaxed);
    r->lock = (cordon_mutex)CORDON_MUTEX_INIT;
    r->trap = trap;
    return CORDON_OK;
}

/* Commits [old, target) with the lock held; old < target <= reserved. */
static cordon_status commit_locked(cordon__region *r, uint64_t old, uint64_t target) {
    cordon_status st = cordon__sys_pages_protect(r->base + old, (size_t)(target - old), CORDON__SYS_PROT_READ_WRITE);
    if (st != CORDON_OK) {
        /* Linux applies mprotect VMA by VMA, so a failure may leave a prefix of the range read-write.
         * Everything past the committed size is PROT_NONE by invariant: put it back. If even that
         * fails, pages past the size may be accessible (which a bounds-check-free user relies on
         * never happening): the region is degraded and refuses further changes. */
        cordon_os_error first = cordon_last_os_error();
        if (cordon__sys_pages_protect(r->base + old, (size_t)(target - old), CORDON__SYS_PROT_NONE) != CORDON_OK) {
            atomic_store_explicit(&r->degraded, true, memory_order_relaxed);
        }
        keep_first_error(st, first);
        return st;
    }
    atomic_store_explicit(&r->committed, target, memory_order_release);
    return CORDON_OK;
}

cordon_status cordon__region_grow_to(cordon__region *r, uint64_t target) {
    if (!aligned(target, r->os_page)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (target > r->reserved) {
        return CORDON_LIMIT_EXCEEDED;
    }
    lock(r);
    uint64_t old = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = CORDON_OK;
    if (is_degraded(r)) {
        st = CORDON_WRONG_STATE;
    } else if (target > old) {
        st = commit_locked(r, old, target);
    }
    unlock(r);
    return st;
}

cordon_status cordon__region_grow_by(cordon__region *r, uint64_t delta, uint64_t limit, uint64_t *old_out) {
    if (!aligned(delta, r->os_page)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (limit > r->reserved) {
        limit = r->reserved;
    }
    lock(r);
    uint64_t old = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = CORDON_OK;
    if (is_degraded(r)) {
        st = CORDON_WRONG_STATE;
    } else if (delta > UINT64_MAX - old) {
        st = CORDON_OVERFLOW;
    } else if (old + delta > limit) {
        st = CORDON_LIMIT_EXCEEDED;
    } else if (delta != 0) {
        st = commit_locked(r, old, old + delta);
    }
    unlock(r);
    if (st == CORDON_OK && old_out != NULL) {
        *old_out = old;
    }
    return st;
}

cordon_status cordon__region_decommit(cordon__region *r, uint64_t keep) {
    if (!aligned(keep, r->os_page)) {
        return CORDON_INVALID_ARGUMENT;
    }
    lock(r);
    uint64_t old = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = CORDON_OK;
    if (is_degraded(r)) {
        st = CORDON_WRONG_STATE;
    } else if (keep < old) {
        uint8_t *tail = r->base + keep;
        size_t len = (size_t)(old - keep);
        /* Discard first: while the tail is still accessible a failure leaves a fully usable region
         * (contents of the tail may be zero, as documented). */
        st = cordon__sys_pages_discard(tail, len);
        if (st == CORDON_OK) {
            st = cordon__sys_pages_protect(tail, len, CORDON__SYS_PROT_NONE);
            if (st != CORDON_OK) {
                /* A prefix of the tail may now be PROT_NONE while still counted as committed: put
                 * back exactly the access each page had (read-only pages stay read-only). */
                cordon_os_error first = cordon_last_os_error();
                (void)restore_access(r, keep / r->os_page, old / r->os_page);
                keep_first_error(st, first);
            }
        }
        if (st == CORDON_OK) {
            /* Committing these pages again makes them read-write. The range reaches `old`, past every
             * run, so this only drops or shortens runs: no room needed. */
            set_access(r, keep / r->os_page, old / r->os_page, CORDON_PAGES_READ_WRITE);
            atomic_store_explicit(&r->committed, keep, memory_order_release);
        }
    }
    unlock(r);
    return st;
}

/* Validates [offset, offset + len) against the committed prefix. */
static cordon_status check_committed_range(cordon__region *r, uint64_t offset, uint64_t len, uint64_t committed) {
    if (!aligned(offset, r->os_page) || !aligned(len, r->os_page)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (len > UINT64_MAX - offset) {
        return CORDON_OVERFLOW;
    }
    if (offset + len > committed) {
        return CORDON_OUT_OF_BOUNDS;
    }
    return CORDON_OK;
}

cordon_status cordon__region_discard(cordon__region *r, uint64_t offset, uint64_t len) {
    lock(r);
    uint64_t committed = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = check_committed_range(r, offset, len, committed);
    if (st == CORDON_OK && len != 0) {
        st = cordon__sys_pages_discard(r->base + offset, (size_t)len);
    }
    unlock(r);
    return st;
}

cordon_status cordon__region_protect(cordon__region *r, uint64_t offset, uint64_t len, cordon_pages_access access) {
    if (access != CORDON_PAGES_NONE && access != CORDON_PAGES_READ && access != CORDON_PAGES_READ_WRITE) {
        return CORDON_INVALID_ARGUMENT;
    }
    lock(r);
    uint64_t committed = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = check_committed_range(r, offset, len, committed);
    if (st == CORDON_OK && is_degraded(r)) {
        st = CORDON_WRONG_STATE;
    }
    uint64_t first_page = offset / r->os_page;
    uint64_t end_page = first_page + len / r->os_page;
    if (st == CORDON_OK && len != 0 && (access != CORDON_PAGES_READ_WRITE || r->run_count != 0)) {
        /* Room for the record before the system call: a failure to allocate changes nothing. With no
         * restricted page at all, read-write is recorded by doing nothing. */
        st = reserve_runs(r);
    }
    if (st == CORDON_OK && len != 0) {
        st = cordon__sys_pages_protect(r->base + offset, (size_t)len, prot_of(access));
        if (st == CORDON_OK) {
            set_access(r, first_page, end_page, access);
        } else {
            /* Linux may have applied the change to a prefix of the range (widening it, for a
             * read-write request): put back exactly what each page had. */
            cordon_os_error first = cordon_last_os_error();
            (void)restore_access(r, first_page, end_page);
            keep_first_error(st, first);
        }
    }
    unlock(r);
    return st;
}

cordon_status cordon__region_release(cordon__region *r) {
    cordon__trap_record_unpublish(r->trap); /* trap hook: no lookup matches an unmapped range */
    cordon_status st = cordon__sys_pages_release(r->map, (size_t)r->map_len);
    if (st == CORDON_OK) {
        cordon__sys_free(r->runs);
        r->runs = NULL;
        r->run_count = 0;
        r->run_capacity = 0;
        cordon__trap_record_give(r->trap); /* trap hook */
        r->trap = NULL;
    } else {
        cordon__trap_record_republish(r->trap); /* trap hook: still mapped, still live */
    }
    return st;
}

void cordon__region_access_bookkeeping(cordon__region *r, uint64_t *runs_out, uint64_t *bytes_out) {
    lock(r);
    *runs_out = r->run_count;
    *bytes_out = r->run_capacity * sizeof(cordon__access_run);
    unlock(r);
}

bool cordon__region_degraded(const cordon__region *r) {
    return is_degraded(r);
}
