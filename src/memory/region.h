/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a reservation without its handle: the state and operations shared by cordon_pages (which
 * wraps one per handle) and cordon_memory (which embeds one as its backing store).
 *
 * Invariants, held whenever the lock is free:
 *   - [map, map + map_len) is one mapping owned by this region (until release);
 *   - base = map + guard_before + prefix; [base, base + reserved) is the usable range;
 *   - [map, map + guard_before) and [base + reserved, map + map_len) are PROT_NONE for the region's
 *     whole life; [base - prefix, base) (prefix 0 or one OS page: a linear memory's embedder prefix)
 *     is read-write for its whole life and is no part of the committed size;
 *   - [base, base + committed) has been committed; [base + committed, base + reserved) is PROT_NONE;
 *   - every size is a multiple of os_page, and guard_before + prefix + reserved + guard_after = map_len
 *     with no overflow (checked at reserve);
 *   - runs[0 .. run_count) lists the committed pages whose access is restricted (NONE or READ), as
 *     maximal runs of equal access in OS pages: sorted, disjoint, each inside [0, committed / os_page),
 *     and two runs that touch have different access. Every other page is READ_WRITE (what committing
 *     it gives). The list costs one entry per distinct restricted range, never one byte per page, so a
 *     protect at the end of a huge commit stays small; a failed protect or decommit puts back exactly
 *     the access each page had from it. run_capacity >= run_count; the array grows (doubling) before
 *     the system calls of a protect, so running out of memory fails the protect with nothing changed;
 *   - degraded: a rollback system call failed, so the access of some pages is not what the above
 *     says (see pages.h, "Degraded"). Then every change of committed size or access is refused.
 * `committed` only changes under the lock, and only after the system calls that back the change have
 * succeeded; it is stored with release order, so a reader that loads it with acquire order may access
 * [base, base + committed) at once (the pages were made accessible before the store). */
#ifndef CORDON_MEMORY_REGION_H
#define CORDON_MEMORY_REGION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cordon/pages.h"
#include "cordon/status.h"
#include "cordon/sync.h"

/* Pages [first, end) (OS pages from base) have access `access` (NONE or READ). */
typedef struct cordon__access_run {
    uint64_t first;
    uint64_t end;
    uint8_t access;
} cordon__access_run;

typedef struct cordon__region {
    uint8_t *map;
    uint64_t map_len;
    uint8_t *base;
    uint64_t reserved;
    _Atomic uint64_t committed;
    uint64_t guard_before;
    uint64_t prefix; /* read-write bytes right before base: 0 or os_page */
    uint64_t guard_after;
    uint64_t page_size;
    uint64_t os_page;
    struct cordon__access_run *runs; /* guarded by lock; NULL until the first restriction */
    uint64_t run_count;
    uint64_t run_capacity;
    bool named;
    bool huge;
    _Atomic bool degraded; /* set under lock, read lock-free by info queries */
    char os_name[80];      /* the name given to the OS at reserve (whether or not it took) */
    cordon_mutex lock; /* serialises the changes of committed size and access; parks, never spins long */
    /* Trap hook: the region's record in the live-region registry (memory/trap_registry.h), taken at
     * reserve, published by the owner once the handle exists, given back at release. */
    struct cordon__trap_record *trap;
} cordon__region;

/* The OS page size, cached after the first successful query. */
cordon_status cordon__os_page_size(uint64_t *out);

/* Validates opt (see cordon_pages_options) and maps the region into *r, which the caller provides
 * (zeroed). On failure nothing stays mapped. */
cordon_status cordon__region_reserve(cordon__region *r, const cordon_pages_options *opt);

/* The same with `prefix` (0 or the OS page size) read-write bytes between the leading guard and
 * base, committed at reserve with the initial commit (one system call) and never changed. */
cordon_status cordon__region_reserve_prefixed(cordon__region *r, const cordon_pages_options *opt, uint64_t prefix);

/* Commits [committed, new_committed); no effect when new_committed <= committed. LIMIT_EXCEEDED past
 * the reservation. */
cordon_status cordon__region_grow_to(cordon__region *r, uint64_t new_committed);

/* Grows by delta (bytes); *old_out (may be NULL) gets the committed size before. OVERFLOW when the
 * sum does not fit, LIMIT_EXCEEDED past `limit` (at most the reservation). */
cordon_status cordon__region_grow_by(cordon__region *r, uint64_t delta, uint64_t limit, uint64_t *old_out);

cordon_status cordon__region_decommit(cordon__region *r, uint64_t keep);
cordon_status cordon__region_discard(cordon__region *r, uint64_t offset, uint64_t len);
cordon_status cordon__region_protect(cordon__region *r, uint64_t offset, uint64_t len, cordon_pages_access access);

/* Unmaps the whole region and frees its run list. On failure the region is unchanged and still
 * owned. */
cordon_status cordon__region_release(cordon__region *r);

/* The number of restricted runs and the bytes allocated for them (for tests: the bookkeeping stays
 * proportional to the number of distinct ranges). Takes the lock. */
void cordon__region_access_bookkeeping(cordon__region *r, uint64_t *runs_out, uint64_t *bytes_out);

/* A rollback failed (see the invariants): changes of committed size and access are refused. */
bool cordon__region_degraded(const cordon__region *r);

#endif /* CORDON_MEMORY_REGION_H */
