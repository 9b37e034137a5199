/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a bounds-checked WebAssembly linear memory.
 *
 * A linear memory is a byte array of `size` bytes, a whole number of pages, that can grow up to a
 * maximum and never shrinks. The page is 64 KiB, or 1 byte (the custom-page-sizes proposal: the
 * `page_size` option); sizes, grow deltas, limits and maximums count in the memory's own pages. It
 * follows WebAssembly semantics:
 *   - grow(delta) returns the old size in pages, or fails leaving size and contents unchanged;
 *   - new pages read as zero;
 *   - the maximum is optional and capped by the index type and the page size (see
 *     cordon_memory_max_pages_for).
 *
 * Declared maximum and reservation. The maximum is what grow may reach according to the module; the
 * reservation is the address space mapped at create (guards aside), which no grow ever exceeds,
 * because the memory NEVER MOVES: a pointer from cordon_memory_base stays valid across grow, and an
 * access past `size` through it faults (SIGSEGV) instead of reading another object. The reservation
 * is the `reserve_bytes` option, by default the whole maximum when it is at most
 * CORDON_MEMORY_DEFAULT_RESERVE_BYTES, that cap otherwise (smaller when the OS refuses it; see the
 * option). A grow past the reservation but within the maximum fails with CORDON_OUT_OF_MEMORY and
 * changes nothing, as the spec lets memory.grow fail (-1). So a memory64 declared with a maximum of
 * 2^48 pages instantiates; address space only is taken, no memory until pages are touched.
 *
 * Bounds checks. Every access computes its end (address + offset + length) in 64 bits with overflow
 * checks and compares it with the current size before any byte moves. A range that does not fit, or
 * whose end overflows 64 bits, gives CORDON_OUT_OF_BOUNDS; nothing is read or written by a failed call
 * (out-parameters are untouched too). A zero-length access is in bounds when address <= size (the
 * WebAssembly bulk-memory rule). Argument checks come in this order: handle (CORDON_STALE), NULL or
 * invalid arguments (CORDON_INVALID_ARGUMENT), alignment of atomics (CORDON_MISALIGNED), bounds.
 *
 * Memargs. Typed loads and stores, atomics and wait/notify (memory_wait.h) take the WebAssembly memarg
 * pair (addr, offset): the effective address is addr + offset, computed without wrapping; a sum past
 * 2^64 - 1 is CORDON_OUT_OF_BOUNDS (the trap the spec defines). An atomic's alignment is that of the
 * effective address (the sum modulo 2^64 has the same remainder modulo the width).
 *
 * Byte order. Typed loads and stores are little-endian on every host, as WebAssembly requires.
 *
 * Lifetime. cordon_memory_destroy releases the memory exactly once; afterwards every function given
 * the handle returns CORDON_STALE (a second destroy included, and handle 0, which is never issued) and
 * no byte of it is touched.
 *
 * Thread safety. Every access function (read, write, fill, copy, loads, stores, atomics) and every
 * query may run concurrently with each other and with grow, on any thread: grow never moves the
 * memory and publishes the new size only after the new pages are accessible. Size ordering: grow
 * stores the new size with release order after making the new pages accessible (and zero), and every
 * reader of the size (cordon_memory_size_*, the bounds check of every call, the length of
 * cordon_memory_definition read as memory_inline.h does) loads it with acquire order. So a thread that
 * reads size S — of a shared memory grown on another thread included — may access [0, S) at once, and
 * sees whatever the growing thread wrote before its grow; sizes one thread reads never decrease;
 * concurrent grows serialise (their sizes are published in one order). Nothing more is promised: a
 * size read does not order the thread's other accesses (use the atomics to synchronise). On a SHARED
 * memory, non-atomic accesses (read, write, fill, copy, typed loads and stores, the inline helpers of
 * memory_inline.h) may race each other and the atomics on the same bytes exactly as WebAssembly
 * allows: they move bytes through relaxed atomic accesses (aligned 8-byte words for the body, narrower
 * ones at the edges), so such a program is defined in C11 as well; no tearing guarantee beyond a byte
 * is promised (an aligned typed access is whole); use the atomic functions to synchronise. Bulk access
 * to a shared memory costs more than memcpy for that reason (it cannot use vector copies). An unshared
 * memory uses memcpy: concurrent non-atomic accesses to the same bytes of it from several threads are
 * a data race in C (they do not crash, but nothing is promised about the bytes); make the memory
 * shared to race. Destroy may race any call on the same memory: a call that overlaps it either
 * completes on the live memory (destroy waits for it before unmapping) or returns CORDON_STALE having
 * touched nothing. The cost on each call is a store to a per-thread slot and a compiler barrier (Linux
 * membarrier; elsewhere a fence). Direct access — through the pointer from cordon_memory_base or
 * cordon_memory_pointer, the definition of cordon_memory_definition_get (and memory_inline.h's
 * helpers that read it), the prefix — cannot be guarded this way: code holding them must stop using
 * them before destroy (use after destroy faults or reaches whatever is mapped there later). */
#ifndef CORDON_MEMORY_H
#define CORDON_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/pages.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* A linear memory, named by a generation-checked handle (0 is never a live handle). */
typedef struct cordon_memory {
    uint64_t handle;
} cordon_memory;

/* The default size of a linear memory page: 64 KiB. */
#define CORDON_MEMORY_PAGE_SIZE CORDON_WASM_PAGE_SIZE
/* The other page size the custom-page-sizes proposal allows: 1 byte. */
#define CORDON_MEMORY_BYTE_PAGE_SIZE 1u
/* The largest 32-bit memory with 64 KiB pages: 65536 pages, 4 GiB. With 1-byte pages the cap is
 * 2^32 - 1 pages (the proposal's limit); see cordon_memory_max_pages_for. */
#define CORDON_MEMORY32_MAX_PAGES (UINT64_C(1) << 16)
/* The memory64 cap with 64 KiB pages (2^48 pages = 2^64 bytes); with 1-byte pages it is 2^64 - 1.
 * A larger maximum is CORDON_INVALID_ARGUMENT. The maximum is only a limit: what is mapped is the
 * reservation (reserve_bytes), so any maximum up to the cap can be created. */
#define CORDON_MEMORY64_MAX_PAGES (UINT64_C(1) << 48)
/* The reservation when reserve_bytes is 0 and the maximum (in bytes) is larger: 64 GiB of address
 * space (every 32-bit memory's maximum, 4 GiB at most, is reserved whole). */
#define CORDON_MEMORY_DEFAULT_RESERVE_BYTES (UINT64_C(1) << 36)
/* The smallest reservation the default falls back to when the OS refuses a larger one: 4 GiB. */
#define CORDON_MEMORY_MIN_DEFAULT_RESERVE_BYTES (UINT64_C(1) << 32)

typedef struct cordon_memory_options {
    /* Pages accessible from the start (zero-filled), in the memory's pages. */
    uint64_t initial_pages;
    /* The declared maximum, when has_maximum; otherwise the cap of the index type and page size.
     * initial <= maximum <= cap. */
    uint64_t maximum_pages;
    bool has_maximum;
    /* A 64-bit memory (memory64): addresses and sizes beyond 4 GiB. */
    bool memory64;
    /* A shared memory (threads proposal): needs has_maximum. Wait/notify on its words is provided by
     * the synchronisation module. */
    bool shared;
    /* 32-bit memories with 64 KiB pages only: reserve 4 GiB plus a 4 GiB + 64 KiB guard so that code
     * holding the base pointer may skip software bounds checks (an access of up to 64 KiB at any
     * uint32 address + uint32 offset faults when out of bounds). Costs 8 GiB of address space, no
     * memory. Not with 1-byte pages (a size that is not a multiple of the OS page leaves accessible
     * bytes past it: INVALID_ARGUMENT), nor with reserve_bytes. */
    bool bounds_check_free;
    /* Ask for transparent huge pages (first touch ~10x cheaper per byte). Best effort. */
    bool huge_pages;
    /* Name shown in /proc/self/maps ("[anon:cordon:<name>]"); NULL: "[anon:cordon]". Best effort. */
    const char *name;
    /* The page size: 0 or 65536 (CORDON_MEMORY_PAGE_SIZE), or 1 (CORDON_MEMORY_BYTE_PAGE_SIZE);
     * anything else is INVALID_ARGUMENT. The reservation is still whole OS pages. */
    uint64_t page_size;
    /* The address space to reserve for the memory's bytes (guards aside), rounded up to the OS page
     * and lowered to the maximum's bytes (rounded up too); grow never goes past it. At least the
     * initial size (INVALID_ARGUMENT otherwise). 0: the default, min(maximum's bytes,
     * CORDON_MEMORY_DEFAULT_RESERVE_BYTES); when the OS refuses a default above 4 GiB (a limited
     * address space: RLIMIT_AS, valgrind), create halves it and tries again, down to
     * max(4 GiB, initial size): cordon_memory_reserved_bytes tells what was taken. An explicit value
     * is taken or the create fails. */
    uint64_t reserve_bytes;
    /* An embedder-owned writable area of prefix_bytes (0 .. the OS page size) right before byte 0:
     * [base - prefix_bytes, base). It lies in one read-write OS page between the leading guard and
     * the memory, is zero at create, and is never reachable by any access of this API (every bounds
     * check is unchanged: byte 0 is still the first). cordon_memory_prefix gives its address. For an
     * engine that keeps a header next to the memory and reaches both through one register. */
    uint64_t prefix_bytes;
} cordon_memory_options;

/* The cap on the page count of a memory of this index type and page size (1 or 65536; 0 means
 * 65536): 2^16 or 2^32 - 1 for 32-bit memories, 2^48 or 2^64 - 1 for memory64; 0 for another page
 * size. */
CORDON_API uint64_t cordon_memory_max_pages_for(bool memory64, uint64_t page_size);

/* Creates a linear memory. Errors: INVALID_ARGUMENT (NULL, initial > maximum, maximum above the cap,
 * shared without maximum, bounds_check_free on a 64-bit memory or with 1-byte pages or with
 * reserve_bytes, a page size other than 1 or 65536, reserve_bytes below the initial size,
 * prefix_bytes above the OS page, bad name), OVERFLOW (the reservation with its guards exceeds
 * PTRDIFF_MAX bytes, e.g. reserve_bytes of 2^63; checked before any system call), OUT_OF_MEMORY (the
 * OS refused the address space or the initial pages) and other OS statuses. On failure nothing is
 * left mapped or allocated and *out is untouched. Thread safety: any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_create(const cordon_memory_options *opt, cordon_memory *out);

/* Destroys the memory (unmaps it). Afterwards the handle is stale. Calls on m running on other threads
 * finish first (destroy waits for them; it never waits for a thread that is not inside a call);
 * calls that start later return CORDON_STALE. If the OS refuses the unmap or the process-wide barrier
 * (never expected: the unmap is of a whole mapping this memory owns, and the barrier was registered
 * at the first create), the memory stays usable and the handle live, and destroy may be called
 * again. Ignoring that status (an engine's void teardown) costs the memory itself and nothing else:
 * its address space, the pages it touched, its handle slot and a small allocation stay until a later
 * destroy succeeds or the process ends; nothing becomes unsafe, no other object is affected. Any
 * thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_destroy(cordon_memory m);

/* memory.grow: adds delta_pages zero-filled pages (the memory's pages) and writes the previous size
 * in pages to *old_pages_out (may be NULL). delta 0 succeeds and returns the size. Errors:
 * LIMIT_EXCEEDED (past the maximum), OUT_OF_MEMORY (past the reservation, though within the
 * maximum: the memory cannot grow without moving; or the OS refused the pages) and OS statuses;
 * nothing changes on any of them. Any thread; concurrent grows serialise, concurrent accesses see
 * either the old or the new size. WRONG_STATE when an earlier failed grow could not be undone (its
 * pages past the size may be accessible: see "Degraded" in pages.h); the memory stays usable up to
 * its size and destroy works. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_grow(cordon_memory m, uint64_t delta_pages,
                                                             uint64_t *old_pages_out);

/* Current size, in pages and in bytes; the maximum in pages (declared, or the cap); whether the
 * memory is shared. Sizes are read with acquire order (see "Size ordering" above). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_size_pages(cordon_memory m, uint64_t *pages_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_size_bytes(cordon_memory m, uint64_t *bytes_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_maximum_pages(cordon_memory m, uint64_t *pages_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_is_shared(cordon_memory m, bool *shared_out);

/* The bytes reserved for the memory (guards and prefix aside): no grow goes past them. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_reserved_bytes(cordon_memory m, uint64_t *bytes_out);

/* How the memory was declared, for import matching. */
typedef struct cordon_memory_type {
    /* The current size in pages: the minimum of the memory instance's type, which the spec raises at
     * every grow (an import of this memory matches a declared minimum up to it). */
    uint64_t minimum_pages;
    /* The declared maximum when has_maximum; otherwise the cap of the index type and page size. */
    uint64_t maximum_pages;
    /* 65536 or 1. */
    uint64_t page_size;
    bool has_maximum;
    /* The index type: true for i64 (memory64), false for i32. */
    bool memory64;
    bool shared;
} cordon_memory_type;

/* Fills *out with m's type. CORDON_STALE, INVALID_ARGUMENT (NULL out). Any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_type_get(cordon_memory m, cordon_memory_type *out);

/* The address of byte 0, for code that accesses the memory directly (a JIT). Valid until destroy;
 * growing never moves it. Only [base, base + size) is accessible; with bounds_check_free the whole
 * base + [0, 8 GiB + 64 KiB) range is reserved and faults outside [0, size). With 1-byte pages the
 * bytes from size to the next OS page boundary are accessible too (never through this API's calls).
 * Accesses through this pointer are NOT covered by destroy's wait (only calls of this API are): the
 * caller must make sure no thread uses it once destroy may start. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_base(cordon_memory m, void **base_out);

/* A checked pointer for a host call: validates the guest's range [addr, addr + len) against the
 * current size (as every access does: the end computed without wrapping; len 0 is in bounds when
 * addr <= size) and, when align is not 0 or 1, that addr is a multiple of align (a power of two:
 * INVALID_ARGUMENT otherwise; CORDON_MISALIGNED when it is not), then writes base + addr to *ptr_out.
 * Order: STALE, INVALID_ARGUMENT (NULL ptr_out, bad align), MISALIGNED, OUT_OF_BOUNDS; nothing is
 * written on failure. The pointer stays valid, and the range accessible, until destroy: the memory
 * never moves and never shrinks. Like the base pointer it is NOT protected against a racing destroy:
 * stop using it before destroy may start. On a shared memory, plain C accesses through it that race
 * other threads' accesses to the same bytes are data races in C (use atomics, or copy with
 * cordon_memory_read / cordon_memory_write). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_pointer(cordon_memory m, uint64_t addr, uint64_t len,
                                                                uint64_t align, void **ptr_out);

/* The embedder's prefix (the prefix_bytes option): *prefix_out = base - prefix_bytes and *bytes_out
 * = prefix_bytes (either may be NULL; both NULL is INVALID_ARGUMENT). Without a prefix *prefix_out is
 * NULL and *bytes_out 0. Valid until destroy, not guarded against a racing destroy (as the base). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_prefix(cordon_memory m, void **prefix_out, uint64_t *bytes_out);

/* A memory's definition, at a stable address, for code that checks accesses inline (a JIT or an
 * interpreter's load/store; see cordon/memory_inline.h, whose helpers use it):
 *   base    byte 0; never changes;
 *   length  the current size in bytes. Grow writes it only after the new pages are accessible and
 *           zero, with release order; read it with acquire order (cordon_memory_definition_length
 *           in memory_inline.h), never as a plain load: it changes under concurrent grows;
 *   shared  the memory is shared (constant): accesses racing other threads go through relaxed
 *           atomics of the access width, as memory_inline.h's helpers do.
 * The layout is part of the ABI (a minor version before 1.0). */
typedef struct cordon_memory_definition {
    unsigned char *base;
    uint64_t length;
    bool shared;
} cordon_memory_definition;

/* The address of m's definition: valid until destroy, the same for the memory's whole life, and like
 * the base pointer NOT guarded against a racing destroy. CORDON_STALE, INVALID_ARGUMENT (NULL). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_definition_get(cordon_memory m,
                                                                       const cordon_memory_definition **def_out);

/* Copies len bytes from memory [addr, addr + len) to dst / from src into the memory. dst and src may
 * be NULL only when len is 0, and must not overlap the memory itself (use cordon_memory_copy). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_read(cordon_memory m, uint64_t addr, void *dst, uint64_t len);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_write(cordon_memory m, uint64_t addr, const void *src,
                                                              uint64_t len);

/* memory.fill: sets [addr, addr + len) to value. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_fill(cordon_memory m, uint64_t addr, uint8_t value,
                                                             uint64_t len);

/* memory.copy: copies [src, src + len) to [dst, dst + len) within m, correct when they overlap. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_copy(cordon_memory m, uint64_t dst, uint64_t src,
                                                             uint64_t len);

/* Copies between two memories (they may be the same memory: then as cordon_memory_copy). Both ranges
 * are checked before any byte moves. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_copy_between(cordon_memory dst, uint64_t dst_addr,
                                                                     cordon_memory src, uint64_t src_addr,
                                                                     uint64_t len);

/* Little-endian typed loads and stores at the effective address addr + offset (a WebAssembly memarg:
 * the sum is computed without wrapping; overflow is CORDON_OUT_OF_BOUNDS). No alignment requirement. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_u8(cordon_memory m, uint64_t addr, uint64_t offset, uint8_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_u16(cordon_memory m, uint64_t addr, uint64_t offset, uint16_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_u32(cordon_memory m, uint64_t addr, uint64_t offset, uint32_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_u64(cordon_memory m, uint64_t addr, uint64_t offset, uint64_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_f32(cordon_memory m, uint64_t addr, uint64_t offset, float *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_load_f64(cordon_memory m, uint64_t addr, uint64_t offset, double *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_u8(cordon_memory m, uint64_t addr, uint64_t offset, uint8_t value);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_u16(cordon_memory m, uint64_t addr, uint64_t offset, uint16_t value);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_u32(cordon_memory m, uint64_t addr, uint64_t offset, uint32_t value);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_u64(cordon_memory m, uint64_t addr, uint64_t offset, uint64_t value);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_f32(cordon_memory m, uint64_t addr, uint64_t offset, float value);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_store_f64(cordon_memory m, uint64_t addr, uint64_t offset, double value);

/* Atomic accesses of width 1, 2, 4 or 8 bytes at the effective address addr + offset (a memarg, see
 * "Memargs"), which must be a multiple of width (CORDON_MISALIGNED otherwise; CORDON_INVALID_ARGUMENT
 * for another width). Values are zero-extended on the way out and truncated to the width on the way
 * in, as the WebAssembly threads proposal's narrow atomics do. Every atomic is sequentially
 * consistent. They work on shared and unshared memories alike. Assumption: the target has lock-free
 * 8/16/32/64-bit atomics (true on every target cordon supports) and is little-endian (big-endian
 * hosts get CORDON_UNSUPPORTED). */
typedef enum cordon_memory_rmw_op {
    CORDON_MEMORY_RMW_ADD = 0,
    CORDON_MEMORY_RMW_SUB = 1,
    CORDON_MEMORY_RMW_AND = 2,
    CORDON_MEMORY_RMW_OR = 3,
    CORDON_MEMORY_RMW_XOR = 4,
    CORDON_MEMORY_RMW_XCHG = 5
} cordon_memory_rmw_op;

CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_load(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                     unsigned width, uint64_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_store(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                      unsigned width, uint64_t value);
/* Applies op with operand and writes the value before the operation to *old_out (may be NULL). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_rmw(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                    unsigned width, cordon_memory_rmw_op op,
                                                                    uint64_t operand, uint64_t *old_out);
/* Stores replacement if the current value equals expected (both truncated to width); *old_out (may
 * be NULL) gets the value found, so success is *old_out == (expected truncated). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_cmpxchg(cordon_memory m, uint64_t addr, uint64_t offset,
                                                                        unsigned width, uint64_t expected,
                                                                        uint64_t replacement, uint64_t *old_out);

CORDON_END_DECLS

#endif /* CORDON_MEMORY_H */
