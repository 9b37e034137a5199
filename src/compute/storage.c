/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — tensor storage: one reservation per device, size classes, free lists.
 *
 * Why: a heap allocation and a first touch per tensor costs ~10 µs per 4 KiB page on the machines this
 * runs on. Here a block is carved once from the device's reservation (bump offset, committed in steps
 * of at least 2 MiB) and, when its tensor dies, goes on the free list of its size class, so the next
 * tensor of a similar size reuses pages that are already backed.
 *
 * Size classes: four per power of two (64, 80, 96, 112, 128, 160, …), so a block wastes under 25% of
 * address space; the unused tail of a block is never touched, so it costs no memory. Blocks never
 * merge or split; everything returns to the OS when the device is destroyed.
 *
 * Block descriptors come from a process-wide pool that never frees (type-stable, bounded by the peak
 * number of live blocks). The arena lock is a cordon_mutex held for a list push or pop, or for one
 * commit system call. */
#include "compute/compute_internal.h"

#include "core/objpool.h"

#define MIN_CLASS_BYTES 64u
#define COMMIT_STEP (UINT64_C(2) << 20)
#define CLASS_COUNT 232u /* enough for blocks up to 2^62 bytes */

static cordon__objpool block_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__block));

static unsigned floor_log2(uint64_t v) {
    unsigned r = 0;
    while (v >>= 1) {
        r++;
    }
    return r;
}

/* The class of a size (bytes >= 1) and its capacity. */
static void class_of(uint64_t bytes, uint32_t *cls, uint64_t *capacity) {
    if (bytes <= MIN_CLASS_BYTES) {
        *cls = 0;
        *capacity = MIN_CLASS_BYTES;
        return;
    }
    unsigned g = floor_log2(bytes - 1) - 6u;      /* bytes in (64·2^g, 128·2^g] */
    uint64_t unit = UINT64_C(16) << g;            /* a quarter of 64·2^g */
    uint64_t quarters = (bytes + unit - 1) / unit; /* 5..8 */
    *cls = g * 4u + (uint32_t)(quarters - 4u);
    *capacity = quarters * unit;
}

cordon_status cordon__arena_init(cordon__arena *a, uint64_t reserve_bytes, bool huge_pages) {
    cordon_pages_options opt = {0};
    opt.reserve_bytes = reserve_bytes;
    opt.name = "tensors";
    opt.huge_pages = huge_pages;
    cordon_pages pages;
    cordon_status st = cordon_pages_reserve(&opt, &pages);
    if (st != CORDON_OK) {
        return st;
    }
    cordon_pages_info info;
    st = cordon_pages_info_get(pages, &info);
    if (st != CORDON_OK) {
        cordon_status ignored = cordon_pages_release(pages); /* undoing a fresh reservation */
        (void)ignored;
        return st;
    }
    *a = (cordon__arena){0};
    a->pages = pages;
    a->base = info.base;
    a->reserved = info.reserved_bytes;
    a->lock = (cordon_mutex)CORDON_MUTEX_INIT;
    return CORDON_OK;
}

cordon_status cordon__arena_release(cordon__arena *a) {
    cordon_status st = cordon_pages_release(a->pages);
    if (st != CORDON_OK) {
        return st;
    }
    for (unsigned c = 0; c < CLASS_COUNT && c < sizeof a->free_lists / sizeof a->free_lists[0]; c++) {
        cordon__block *b = a->free_lists[c];
        while (b != NULL) {
            cordon__block *next = b->next;
            cordon__objpool_put(&block_pool, b);
            b = next;
        }
        a->free_lists[c] = NULL;
    }
    return CORDON_OK;
}

static void lock_arena(cordon__arena *a) {
    /* A valid, aligned mutex: only fails on misuse, which cannot happen here. */
    cordon__lock(&a->lock);
}

static void unlock_arena(cordon__arena *a) {
    cordon__unlock(&a->lock);
}

cordon_status cordon__arena_get(cordon__arena *a, uint64_t bytes, cordon__block **out) {
    if (bytes == 0 || bytes > (UINT64_C(1) << 62)) {
        return bytes == 0 ? CORDON_INVALID_ARGUMENT : CORDON_OVERFLOW;
    }
    uint32_t cls;
    uint64_t capacity;
    class_of(bytes, &cls, &capacity);
    if (cls >= sizeof a->free_lists / sizeof a->free_lists[0]) {
        return CORDON_OVERFLOW;
    }
    void *desc = NULL;
    cordon_status st = cordon__objpool_get(&block_pool, &desc);
    if (st != CORDON_OK) {
        return st;
    }
    lock_arena(a);
    cordon__block *b = a->free_lists[cls];
    if (b != NULL) {
        a->free_lists[cls] = b->next;
        a->in_use += b->capacity;
        unlock_arena(a);
        cordon__objpool_put(&block_pool, desc);
        b->next = NULL;
        b->fresh = false;
        atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
        *out = b;
        return CORDON_OK;
    }
    /* A new block at the bump offset, aligned to 64 bytes (4 KiB from 64 KiB up). */
    uint64_t align = capacity >= (UINT64_C(64) << 10) ? 4096u : 64u;
    uint64_t start = (a->used + align - 1) & ~(align - 1);
    if (start > a->reserved || capacity > a->reserved - start) {
        unlock_arena(a);
        cordon__objpool_put(&block_pool, desc);
        return CORDON_OUT_OF_MEMORY;
    }
    uint64_t end = start + capacity;
    if (end > a->committed) {
        uint64_t target = end - a->committed < COMMIT_STEP ? a->committed + COMMIT_STEP : end;
        if (target > a->reserved) {
            target = a->reserved;
        }
        uint64_t page = 0;
        st = cordon_pages_os_page_size(&page);
        if (st == CORDON_OK) {
            target = (target + page - 1) & ~(page - 1);
            if (target > a->reserved) {
                target = a->reserved;
            }
            st = cordon_pages_commit(a->pages, target);
        }
        if (st != CORDON_OK) {
            unlock_arena(a);
            cordon__objpool_put(&block_pool, desc);
            return st;
        }
        a->committed = target;
    }
    a->used = end;
    a->in_use += capacity;
    unlock_arena(a);
    b = desc;
    b->data = a->base + start;
    b->capacity = capacity;
    b->size_class = cls;
    b->fresh = true;
    b->next = NULL;
    atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
    *out = b;
    return CORDON_OK;
}

void cordon__arena_put(cordon__arena *a, cordon__block *b) {
    lock_arena(a);
    b->next = a->free_lists[b->size_class];
    a->free_lists[b->size_class] = b;
    a->in_use -= b->capacity;
    unlock_arena(a);
}
