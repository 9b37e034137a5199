/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the public reservation API: a handle table over regions (see include/cordon/pages.h). */
#include "cordon/pages.h"

#include "core/handle.h"
#include "memory/access.h"
#include "memory/memory_internal.h"
#include "memory/region.h"
#include "memory/trap_registry.h"
#include "sys/sys.h"

static cordon__handle_table pages_table = CORDON__HANDLE_TABLE_INIT(1);

static cordon_status region_of(cordon_pages p, cordon__region **out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&pages_table, p.handle, &obj);
    if (st != CORDON_OK) {
        return st;
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
    cordon__access_init(); /* before the first handle is published: see memory/access.c */
    uint64_t h = 0;
    st = cordon__handle_insert(&pages_table, r, &h);
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)cordon__region_release(r);
        (void)cordon__sys_fail_as(st, first.call, first.code);
        cordon__sys_free(block);
        return st;
    }
    cordon__trap_record_publish(r->trap, r, CORDON__SYS_TRAP_PAGES, h); /* trap hook */
    out->handle = h;
    return CORDON_OK;
}

cordon_status cordon_pages_release(cordon_pages p) {
    void *obj = NULL;
    /* Claim first: a second release (even a concurrent one) now sees CORDON_STALE and never reaches
     * the unmap, so a reservation is unmapped exactly once. */
    cordon_status st = cordon__handle_claim(&pages_table, p.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    /* Every call that looked p up before the claim has finished (a protect racing the release holds
     * the region lock and calls mprotect on the range: it must be done before munmap); every later
     * one gets CORDON_STALE. */
    st = cordon__access_quiesce(p.handle);
    if (st == CORDON_OK) {
        st = cordon__region_release((cordon__region *)obj);
    }
    if (st != CORDON_OK) {
        /* The OS refused the barrier or the unmap: the reservation is whole and its handle live again. */
        cordon__handle_unclaim(&pages_table, p.handle);
        return st;
    }
    cordon__handle_finish(&pages_table, p.handle);
    cordon__sys_free(obj);
    return CORDON_OK;
}

static cordon_status commit_in(cordon_pages p, uint64_t bytes) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_grow_to(r, bytes);
}

static cordon_status grow_in(cordon_pages p, uint64_t delta_bytes, uint64_t *old_bytes_out) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_grow_by(r, delta_bytes, r->reserved, old_bytes_out);
}

static cordon_status grow_pages_in(cordon_pages p, uint64_t delta_pages, uint64_t *old_pages_out) {
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

static cordon_status decommit_in(cordon_pages p, uint64_t keep_bytes) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_decommit(r, keep_bytes);
}

static cordon_status discard_in(cordon_pages p, uint64_t offset, uint64_t len) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_discard(r, offset, len);
}

static cordon_status protect_in(cordon_pages p, uint64_t offset, uint64_t len, cordon_pages_access access) {
    cordon__region *r = NULL;
    cordon_status st = region_of(p, &r);
    return st != CORDON_OK ? st : cordon__region_protect(r, offset, len, access);
}

static cordon_status base_in(cordon_pages p, void **base_out) {
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

static cordon_status committed_in(cordon_pages p, uint64_t *bytes_out) {
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

static cordon_status info_get_in(cordon_pages p, cordon_pages_info *out) {
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

static cordon_status os_name_in(cordon_pages p, char *buf, size_t len) {
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

static cordon_status access_bookkeeping_in(cordon_pages p, uint64_t *runs_out, uint64_t *bytes_out) {
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

/* ---- the entry points: each call is one access of its reservation (see memory/access.h) --------- */

cordon_status cordon_pages_commit(cordon_pages p, uint64_t bytes) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = commit_in(p, bytes);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_grow(cordon_pages p, uint64_t delta_bytes, uint64_t *old_bytes_out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = grow_in(p, delta_bytes, old_bytes_out);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_grow_pages(cordon_pages p, uint64_t delta_pages, uint64_t *old_pages_out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = grow_pages_in(p, delta_pages, old_pages_out);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_decommit(cordon_pages p, uint64_t keep_bytes) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = decommit_in(p, keep_bytes);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_discard(cordon_pages p, uint64_t offset, uint64_t len) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = discard_in(p, offset, len);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_protect(cordon_pages p, uint64_t offset, uint64_t len, cordon_pages_access access) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = protect_in(p, offset, len, access);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_base(cordon_pages p, void **base_out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = base_in(p, base_out);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_committed(cordon_pages p, uint64_t *bytes_out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = committed_in(p, bytes_out);
    cordon__access_end(a);
    return st;
}

cordon_status cordon_pages_info_get(cordon_pages p, cordon_pages_info *out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = info_get_in(p, out);
    cordon__access_end(a);
    return st;
}

cordon_status cordon__pages_os_name(cordon_pages p, char *buf, size_t len) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = os_name_in(p, buf, len);
    cordon__access_end(a);
    return st;
}

cordon_status cordon__pages_access_bookkeeping(cordon_pages p, uint64_t *runs_out, uint64_t *bytes_out) {
    cordon__access_record *a = cordon__access_begin(p.handle);
    cordon_status st = access_bookkeeping_in(p, runs_out, bytes_out);
    cordon__access_end(a);
    return st;
}
