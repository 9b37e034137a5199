/* cordon — reservation state and its changes (see region.h for the invariants). */
#include "memory/region.h"

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

static void lock(cordon__region *r) {
    /* Held across one or two system calls of a few microseconds; contention means another thread is
     * changing the same reservation. */
    while (atomic_flag_test_and_set_explicit(&r->lock, memory_order_acquire)) {
    }
}

static void unlock(cordon__region *r) {
    atomic_flag_clear_explicit(&r->lock, memory_order_release);
}

/* Runs `cleanup` (a system call made on a failure path) without losing the OS detail of the failure
 * that is being reported: the detail of the first failure is put back afterwards. */
static void keep_first_error(cordon_status reported, cordon_os_error first) {
    (void)cordon__sys_fail_as(reported, first.call, first.code);
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
        opt->commit_bytes > reserved) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (opt->name != NULL && !valid_user_name(opt->name)) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t total = opt->guard_before_bytes;
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
    uint8_t *base = (uint8_t *)map + opt->guard_before_bytes;
    if (opt->commit_bytes != 0) {
        st = cordon__sys_pages_protect(base, (size_t)opt->commit_bytes, CORDON__SYS_PROT_READ_WRITE);
        if (st != CORDON_OK) {
            cordon_os_error first = cordon_last_os_error();
            /* Nothing else holds the mapping yet; if even this fails the address space (not memory:
             * nothing was touched) is lost, and the commit failure is still what is reported. */
            (void)cordon__sys_pages_release(map, (size_t)total);
            keep_first_error(st, first);
            return st;
        }
    }
    /* Best effort from here: a kernel without mapping names or huge pages still gives a working
     * reservation, and cordon_pages_info says what took. */
    char name[sizeof NAME_PREFIX + 1u + USER_NAME_MAX];
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
    r->guard_after = guard_after;
    r->page_size = page_size;
    r->os_page = os_page;
    r->named = named;
    r->huge = huge;
    atomic_flag_clear(&r->lock);
    return CORDON_OK;
}

/* Commits [old, target) with the lock held; old < target <= reserved. */
static cordon_status commit_locked(cordon__region *r, uint64_t old, uint64_t target) {
    cordon_status st = cordon__sys_pages_protect(r->base + old, (size_t)(target - old), CORDON__SYS_PROT_READ_WRITE);
    if (st != CORDON_OK) {
        /* Linux applies mprotect VMA by VMA, so a failure may leave a prefix of the range read-write.
         * Everything past the committed size is PROT_NONE by invariant: put it back. */
        cordon_os_error first = cordon_last_os_error();
        (void)cordon__sys_pages_protect(r->base + old, (size_t)(target - old), CORDON__SYS_PROT_NONE);
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
    cordon_status st = target > old ? commit_locked(r, old, target) : CORDON_OK;
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
    if (delta > UINT64_MAX - old) {
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
    if (keep < old) {
        uint8_t *tail = r->base + keep;
        size_t len = (size_t)(old - keep);
        /* Discard first: while the tail is still accessible a failure leaves a fully usable region
         * (contents of the tail may be zero, as documented). */
        st = cordon__sys_pages_discard(tail, len);
        if (st == CORDON_OK) {
            st = cordon__sys_pages_protect(tail, len, CORDON__SYS_PROT_NONE);
            if (st != CORDON_OK) {
                /* A prefix of the tail may now be PROT_NONE while still counted as committed: make
                 * the whole tail read-write again so that the committed prefix is accessible. */
                cordon_os_error first = cordon_last_os_error();
                (void)cordon__sys_pages_protect(tail, len, CORDON__SYS_PROT_READ_WRITE);
                keep_first_error(st, first);
            }
        }
        if (st == CORDON_OK) {
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
    cordon__sys_prot prot;
    switch (access) {
    case CORDON_PAGES_NONE:
        prot = CORDON__SYS_PROT_NONE;
        break;
    case CORDON_PAGES_READ:
        prot = CORDON__SYS_PROT_READ;
        break;
    case CORDON_PAGES_READ_WRITE:
        prot = CORDON__SYS_PROT_READ_WRITE;
        break;
    default:
        return CORDON_INVALID_ARGUMENT;
    }
    lock(r);
    uint64_t committed = atomic_load_explicit(&r->committed, memory_order_relaxed);
    cordon_status st = check_committed_range(r, offset, len, committed);
    if (st == CORDON_OK && len != 0) {
        st = cordon__sys_pages_protect(r->base + offset, (size_t)len, prot);
        if (st != CORDON_OK && prot != CORDON__SYS_PROT_READ_WRITE) {
            /* A failure part-way may have restricted a prefix of the range; read-write is the
             * committed prefix's default access, so restore it (documented in pages.h). */
            cordon_os_error first = cordon_last_os_error();
            (void)cordon__sys_pages_protect(r->base + offset, (size_t)len, CORDON__SYS_PROT_READ_WRITE);
            keep_first_error(st, first);
        }
    }
    unlock(r);
    return st;
}

cordon_status cordon__region_release(cordon__region *r) {
    return cordon__sys_pages_release(r->map, (size_t)r->map_len);
}
