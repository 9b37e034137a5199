/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — page reservations with guard regions.
 *
 * A reservation is a range of address space taken with no access: no physical memory and no commit
 * charge (Linux: MAP_NORESERVE) until a prefix of it is committed. Around it lie guard regions that
 * stay inaccessible for the reservation's whole life, so an access just before or after the range
 * faults (SIGSEGV) instead of reaching another object.
 *
 *     [ guard_before | committed prefix (read-write) | rest of the reservation (no access) | guard_after ]
 *                    ^ base                           ^ base + committed                  ^ base + reserved
 *
 * Units. Every size is a byte count in 64 bits, and every byte size and offset given to this API must
 * be a multiple of the OS page size (cordon_pages_os_page_size). The *_pages variants count in the
 * reservation's own page size (default 64 KiB, the WebAssembly page), chosen at reserve time as a
 * power of two that is a multiple of the OS page size. All arithmetic is overflow-checked before any
 * system call: CORDON_OVERFLOW when a size does not fit 64 bits (or a reservation exceeds PTRDIFF_MAX).
 *
 * Failure. A failed call changes nothing the caller can observe: committed size, access and contents
 * stay as they were (an mprotect the kernel applied halfway is undone page by page, back to exactly
 * the access each page had; see cordon_pages_grow and cordon_pages_protect). cordon_last_os_error()
 * names the failing call ("mmap", "mprotect", "madvise", "munmap", "prctl") of the first failure.
 *
 * Degraded. The undo is itself a system call and can fail too (never expected: it only restores a
 * state the kernel accepted before). Then the reservation is "degraded": the call reports its
 * original failure, cordon_pages_info_get reports `degraded` true, and from then on commit, grow,
 * decommit and protect return CORDON_WRONG_STATE (queries, discard, direct access and release still
 * work; release is the way out). In a degraded reservation, pages past the committed size may be
 * accessible after a failed grow (so the bounds_check_free_32 guarantee no longer holds), and pages
 * of a failed protect or decommit are left with their previous access, the requested one, or none:
 * never wider than both. A failed reserve whose cleanup munmap also fails leaves its address space
 * mapped (never touched, so no memory) and reports the original failure.
 *
 * Lifetime. A reservation is released exactly once by cordon_pages_release. Afterwards every function
 * given its handle returns CORDON_STALE, including a second release; the library never touches the
 * released memory. Pointers obtained from cordon_pages_base must not be used after release.
 *
 * Thread safety. Queries and cordon_pages_base may run concurrently with anything. Commit, grow,
 * decommit, discard and protect on the same reservation serialise on an internal lock (they may be
 * called from several threads; each sees the others' effects whole). Release may run on any thread,
 * concurrently with any other call on the same reservation: a call that overlaps it either completes
 * on the live reservation (release waits for it before unmapping) or returns CORDON_STALE having done
 * nothing. Memory accessed directly through the pointer from cordon_pages_base is not covered: the
 * caller must stop using it before release. Different reservations are fully independent. */
#ifndef CORDON_PAGES_H
#define CORDON_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* A reservation, named by a generation-checked handle (0 is never a live handle). */
typedef struct cordon_pages {
    uint64_t handle;
} cordon_pages;

/* The WebAssembly page: the default unit of the *_pages functions. */
#define CORDON_WASM_PAGE_SIZE 65536u

/* 4 GiB: the span of a 32-bit index. */
#define CORDON_PAGES_4GIB (UINT64_C(1) << 32)

typedef enum cordon_pages_access {
    CORDON_PAGES_NONE = 0,      /* any access faults */
    CORDON_PAGES_READ = 1,      /* reads allowed, writes fault */
    CORDON_PAGES_READ_WRITE = 2 /* reads and writes allowed */
} cordon_pages_access;

typedef struct cordon_pages_options {
    /* Bytes of the usable range (after the leading guard). Nonzero multiple of the OS page size.
     * In bounds_check_free_32 mode: 0 or at most 4 GiB (the reservation is then 4 GiB). */
    uint64_t reserve_bytes;
    /* Bytes committed (read-write) at once from the start; 0..reserve_bytes, OS-page multiple. */
    uint64_t commit_bytes;
    /* Inaccessible bytes before and after the usable range; OS-page multiples, may be 0. */
    uint64_t guard_before_bytes;
    uint64_t guard_after_bytes;
    /* The unit of the *_pages functions; 0 means CORDON_WASM_PAGE_SIZE. A power of two and a multiple
     * of the OS page size; reserve_bytes and commit_bytes need not be multiples of it. */
    uint64_t page_size;
    /* Shown in /proc/self/maps as "[anon:cordon:<name>]" ("[anon:cordon]" when NULL) where the OS
     * can name mappings; 1..64 printable ASCII characters without [ ] \ $ `. Naming is best effort:
     * cordon_pages_info_get tells whether it took (`named`). */
    const char *name;
    /* Ask for transparent huge pages over the usable range (best effort; cordon_pages_info_get tells
     * whether it took, in `huge_pages`). First touch of a 4 KiB page costs ~10 µs on a VM; a huge page
     * cuts the per-byte cost ~10×. */
    bool huge_pages;
    /* Reserve for a bounds-check-free 32-bit memory: the usable range is 4 GiB and guard_after_bytes
     * is raised to at least 4 GiB + 64 KiB, so an access of up to 64 KiB at base + any uint32 index +
     * any uint32 offset lies inside the mapping and either hits committed memory or faults. Costs
     * 8 GiB + 64 KiB of address space, no memory. */
    bool bounds_check_free_32;
} cordon_pages_options;

/* What a reservation is, as cordon_pages_info_get reports it. */
typedef struct cordon_pages_info {
    void *base;                    /* start of the usable range; never moves */
    uint64_t reserved_bytes;       /* size of the usable range */
    uint64_t committed_bytes;      /* the read-write prefix */
    uint64_t guard_before_bytes;   /* as mapped (after bounds_check_free_32 adjustment) */
    uint64_t guard_after_bytes;
    uint64_t page_size;            /* the unit of the *_pages functions */
    uint64_t os_page_size;         /* the protection granularity */
    bool named;                    /* the OS accepted the mapping's name */
    bool huge_pages;               /* the huge-page hint was requested and accepted */
    bool degraded;                 /* a rollback failed: see "Degraded" above */
} cordon_pages_info;

/* Reserves address space as opt describes and commits opt->commit_bytes.
 * Errors: INVALID_ARGUMENT (NULL, zero or unaligned sizes, commit > reserve, bad page_size or name),
 * OVERFLOW (guards + reserve exceed 64 bits or PTRDIFF_MAX, checked before any system call),
 * OUT_OF_MEMORY (the OS refused the address space, e.g. beyond what the address space holds, or the
 * commit), other OS statuses. On failure nothing stays mapped and *out is
 * untouched. Thread safety: may be called from any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_reserve(const cordon_pages_options *opt, cordon_pages *out);

/* Unmaps the whole reservation, guards included. A second release, or any use afterwards, returns
 * CORDON_STALE (as does handle 0, never issued). Calls on p running on other threads finish first;
 * calls that start later return CORDON_STALE. If the OS refuses the unmap or the process-wide barrier
 * (never expected), the reservation stays fully usable and the handle live. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_release(cordon_pages p);

/* Makes the committed prefix at least `bytes` long: mprotect of exactly [committed, bytes) to
 * read-write; no effect when it is already that long. Errors: INVALID_ARGUMENT (unaligned),
 * LIMIT_EXCEEDED (bytes > reserved), WRONG_STATE (degraded), OS statuses with nothing changed. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_commit(cordon_pages p, uint64_t bytes);

/* Grows the committed prefix in place by delta_bytes (0 is allowed and changes nothing), writing the
 * previous committed size to *old_bytes_out (may be NULL). Exactly the new range becomes read-write;
 * its pages read as zero. Errors: INVALID_ARGUMENT (unaligned), OVERFLOW, LIMIT_EXCEEDED (past the
 * reservation: nothing changes), WRONG_STATE (degraded), OS statuses (nothing changes: if the kernel
 * applied part of the mprotect, that part is made inaccessible again). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_grow(cordon_pages p, uint64_t delta_bytes,
                                                            uint64_t *old_bytes_out);

/* cordon_pages_grow counted in the reservation's pages; *old_pages_out gets the previous committed
 * size in pages (rounded down when the committed size is not a whole number of pages). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_grow_pages(cordon_pages p, uint64_t delta_pages,
                                                                  uint64_t *old_pages_out);

/* Shrinks the committed prefix to keep_bytes: the tail [keep_bytes, committed) is discarded (its
 * memory returned to the OS) and made inaccessible. Committing it again later gives zero-filled
 * pages. keep_bytes >= committed changes nothing. Errors: INVALID_ARGUMENT (unaligned), WRONG_STATE
 * (degraded), OS statuses (committed size and access unchanged; the tail may already read as zeros:
 * its contents are not preserved). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_decommit(cordon_pages p, uint64_t keep_bytes);

/* Returns the memory behind [offset, offset + len) of the committed prefix to the OS while keeping it
 * accessible: afterwards the range READS BACK AS ZEROS, and touching it takes fresh pages. len 0 is a
 * no-op. Errors: INVALID_ARGUMENT (unaligned), OVERFLOW, OUT_OF_BOUNDS (not inside the committed
 * prefix), OS statuses (contents of the range then unspecified: either kept or zero, page by page). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_discard(cordon_pages p, uint64_t offset, uint64_t len);

/* Sets the access of [offset, offset + len) inside the committed prefix (the committed size does not
 * change; decommit and commit do that). len 0 is a no-op. Pages decommitted and committed again are
 * read-write. So that a failure can be undone exactly, the reservation keeps a list of its
 * restricted ranges (NONE or READ), merged where equal neighbours touch: its size grows with the
 * number of distinct ranges (about 24 bytes each), never with the size of the commit, so a protect
 * near the end of a terabyte commit allocates a few hundred bytes.
 * Errors: INVALID_ARGUMENT (unaligned or unknown access), OVERFLOW, OUT_OF_BOUNDS, OUT_OF_MEMORY (the
 * list could not grow: no system call made, nothing changed), WRONG_STATE (degraded), OS statuses
 * (every page keeps exactly the access it had, also when the kernel applied part of the change). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_protect(cordon_pages p, uint64_t offset, uint64_t len,
                                                               cordon_pages_access access);

/* The start of the usable range, for code that accesses memory directly (a JIT, a copy loop).
 * Valid until release; growing never moves it. Only [base, base + committed) may be accessed.
 * Accesses through it are not covered by release's wait for running calls: stop them before release. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_base(cordon_pages p, void **base_out);

/* The committed size in bytes (one atomic load). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_committed(cordon_pages p, uint64_t *bytes_out);

/* Everything about the reservation. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_info_get(cordon_pages p, cordon_pages_info *out);

/* The OS page size (the granularity of every byte size here). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_os_page_size(uint64_t *out);

/* The transparent huge page size, or 0 when the OS offers none (mode "never" or no THP at all). */
CORDON_API CORDON_NODISCARD cordon_status cordon_pages_huge_page_size(uint64_t *out);

CORDON_END_DECLS

#endif /* CORDON_PAGES_H */
