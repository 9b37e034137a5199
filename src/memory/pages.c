/* cordon — the public reservation API: a handle table over regions (see include/cordon/pages.h). */
#include "cordon/pages.h"

#include "core/handle.h"
#include "memory/memory_internal.h"
#include "memory/region.h"
#include "sys/sys.h"

static cordon__handle_table pages_table = CORDON__HANDLE_TABLE_INIT(1);

static cordon_status region_of(cordon_pages p, cordon__region **out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&pages_table, p.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    *out = (cordon__region *)obj;
    return CORDON_OK;
}

cordon_status cordon_pages_reserve(const cordon_pages_options *opt, cordon_pages *out) {
    if (opt == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *block = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__region), &block);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__region *r = (cordon__region *)block;
    st = cordon__region_reserve(r, opt);
    if (st != CORDON_OK) {
        cordon__sys_free(block);
        return st;
    }
    uint64_t h = 0;
    st = cordon__handle_insert(&pages_table, r, &h);
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)cordon__region_release(r);
        (void)cordon__sys_fail_as(st, first.call, first.code);
        cordon__sys_free(block);
        return st;
    }
    out->handle = h;
    return CORDON_OK;
}

cordon_status cordon_pages_release(cordon_pages p) {
    void *obj = NULL;
    /* Claim first: a second release (even a concurrent one) now sees CORDON_STALE and never reaches
     * the unmap, so a reservation is unmapped exactly once. */
    cordon_status st = cordon__handle_claim(&pages_table, p.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    st = cordon__region_release((cordon__region *)obj);
    if (st != CORDON_OK) {
        /* The OS refused: the reservation is whole and its handle live again. */
        cordon__handle_unclaim(&pages_table, p.handle);
        return st;
    }
    cordon__handle_finish(&pages_table, p.handle);
    cordon__sys_free(obj);
    return CORDON_OK;
}

cordon_status cordon_pages_commit(cordon_pages p, uint64_t bytes) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_grow_to(r, bytes);
}

cordon_status cordon_pages_grow(cordon_pages p, uint64_t delta_bytes, uint64_t *old_bytes_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_grow_by(r, delta_bytes, r->reserved, old_bytes_out);
}

cordon_status cordon_pages_grow_pages(cordon_pages p, uint64_t delta_pages, uint64_t *old_pages_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (delta_pages > UINT64_MAX / r->page_size) {
        return CORDON_OVERFLOW;
    }
    uint64_t old = 0;
    st = cordon__region_grow_by(r, delta_pages * r->page_size, r->reserved, &old);
    if (st == CORDON_OK && old_pages_out != NULL) {
        *old_pages_out = old / r->page_size;
    }
    return st;
}

cordon_status cordon_pages_decommit(cordon_pages p, uint64_t keep_bytes) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_decommit(r, keep_bytes);
}

cordon_status cordon_pages_discard(cordon_pages p, uint64_t offset, uint64_t len) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_discard(r, offset, len);
}

cordon_status cordon_pages_protect(cordon_pages p, uint64_t offset, uint64_t len, cordon_pages_access access) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_protect(r, offset, len, access);
}

cordon_status cordon_pages_base(cordon_pages p, void **base_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (base_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *base_out = r->base;
    return CORDON_OK;
}

cordon_status cordon_pages_committed(cordon_pages p, uint64_t *bytes_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (bytes_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    *bytes_out = atomic_load_explicit(&r->committed, memory_order_acquire);
    return CORDON_OK;
}

cordon_status cordon_pages_info_get(cordon_pages p, cordon_pages_info *out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_pages_info info;
    info.base = r->base;
    info.reserved_bytes = r->reserved;
    info.committed_bytes = atomic_load_explicit(&r->committed, memory_order_acquire);
    info.guard_before_bytes = r->guard_before;
    info.guard_after_bytes = r->guard_after;
    info.page_size = r->page_size;
    info.os_page_size = r->os_page;
    info.named = r->named;
    info.huge_pages = r->huge;
    info.degraded = cordon__region_degraded(r);
    *out = info;
    return CORDON_OK;
}

cordon_status cordon_pages_os_page_size(uint64_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    return cordon__os_page_size(out);
}

cordon_status cordon_pages_huge_page_size(uint64_t *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    size_t size = 0;
    char mode[16];
    cordon_status st = cordon__sys_huge_page_info(&size, mode, sizeof mode);
    if (st != CORDON_OK) {
        return st;
    }
    *out = (uint64_t)size;
    return CORDON_OK;
}

cordon_status cordon__pages_os_name(cordon_pages p, char *buf, size_t len) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (buf == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    size_t n = strlen(r->os_name);
    if (n >= len) {
        return CORDON_LIMIT_EXCEEDED;
    }
    memcpy(buf, r->os_name, n + 1u);
    return CORDON_OK;
}

cordon_status cordon__pages_access_bookkeeping(cordon_pages p, uint64_t *runs_out, uint64_t *bytes_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    if (st != CORDON_OK) {
        return st;
    }
    if (runs_out == NULL || bytes_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon__region_access_bookkeeping(r, runs_out, bytes_out);
    return CORDON_OK;
}
