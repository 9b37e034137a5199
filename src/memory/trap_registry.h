/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the live-region registry that the trap handler and cordon_trap_lookup read (trap.c).
 *
 * Every region (a cordon_pages reservation or a linear memory's backing store) holds one record from
 * the time it is mapped until it is unmapped. The record says where the mapping lies (guards included),
 * where byte 0 is, and which handle names it. Records are read from signal handlers, concurrently with
 * creates and destroys on other threads, without a lock:
 *   - records are type-stable: allocated once, pushed on a list that only grows, never freed; a
 *     destroyed region's record is reused by a later region. A reader holding a record pointer always
 *     reads a record, never freed memory;
 *   - each record's fields are atomics written only by its owner, under a sequence count (odd while
 *     being written); a reader that sees the count odd or changed skips the record, so it never pairs
 *     the bounds of one region with the handle of another;
 *   - a record is live (matched by lookups) only between publish (after the handle exists) and
 *     unpublish (before the unmap), so an address of a mapping that is gone, or not yet handed out,
 *     is never reported.
 * The hooks: region.c takes a record at reserve and gives it back at release (unpublishing before
 * the unmap, republishing when the unmap fails); memory.c and pages.c publish it once the handle
 * exists. */
#ifndef CORDON_MEMORY_TRAP_REGISTRY_H
#define CORDON_MEMORY_TRAP_REGISTRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cordon/status.h"

struct cordon__region;

typedef struct cordon__trap_record {
    _Atomic uint32_t seq;     /* even: stable; odd: the owner is writing */
    _Atomic bool live;        /* matched by lookups */
    _Atomic bool used;        /* owned by a region (taken, not given back) */
    _Atomic uintptr_t lo;     /* the mapping: [lo, hi) */
    _Atomic uintptr_t hi;
    _Atomic uintptr_t base;   /* byte 0 */
    _Atomic uint64_t prefix;  /* accessible bytes right before byte 0 (a memory's embedder prefix) */
    _Atomic uint64_t reserved;
    _Atomic uint64_t handle;
    _Atomic unsigned kind;    /* CORDON_TRAP_MEMORY or CORDON_TRAP_PAGES */
    struct cordon__trap_record *next; /* registry link, written before the record is pushed */
} cordon__trap_record;

/* A record for a region being reserved: reuses a free one or allocates (CORDON_OUT_OF_MEMORY and
 * the allocation's OS detail on failure). Not live until published. */
cordon_status cordon__trap_record_take(cordon__trap_record **out);

/* Makes the region r, named by handle (kind CORDON_TRAP_MEMORY or CORDON_TRAP_PAGES), visible to
 * lookups. rec NULL is ignored. */
void cordon__trap_record_publish(cordon__trap_record *rec, const struct cordon__region *r, unsigned kind,
                                 uint64_t handle);

/* Before the unmap: lookups stop matching. After a failed unmap: they match again (only a record
 * that was published). rec NULL is ignored. */
void cordon__trap_record_unpublish(cordon__trap_record *rec);
void cordon__trap_record_republish(cordon__trap_record *rec);

/* After the unmap (or when the reserve fails): the record is free for another region. */
void cordon__trap_record_give(cordon__trap_record *rec);

/* Records in the registry (used or free), for tests: bounded by the peak number of live regions, not
 * by the number of regions ever created. */
uint64_t cordon__trap_record_count(void);

#endif /* CORDON_MEMORY_TRAP_REGISTRY_H */
