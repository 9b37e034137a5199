/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a bounds-checked WebAssembly linear memory.
 *
 * A linear memory is a byte array of `size` bytes, a whole number of 64 KiB pages, that can grow up to
 * a maximum and never shrinks. It follows WebAssembly semantics:
 *   - grow(delta) returns the old size in pages, or fails leaving size and contents unchanged;
 *   - new pages read as zero;
 *   - the maximum is optional and capped by the index type: 65536 pages (4 GiB) for a 32-bit memory,
 *     CORDON_MEMORY64_DEFAULT_MAX_PAGES for a 64-bit memory created without a maximum.
 * The whole maximum is reserved up front (address space only: no memory until pages are touched) and
 * only [0, size) is accessible, so the memory NEVER MOVES: a pointer from cordon_memory_base stays
 * valid across grow, and an access past `size` through it faults (SIGSEGV) instead of reading another
 * object.
 *
 * Bounds checks. Every access computes its end (address + offset + length) in 64 bits with overflow
 * checks and compares it with the current size before any byte moves. A range that does not fit, or
 * whose end overflows 64 bits, gives CORDON_OUT_OF_BOUNDS; nothing is read or written by a failed call
 * (out-parameters are untouched too). A zero-length access is in bounds when address <= size (the
 * WebAssembly bulk-memory rule). Argument checks come in this order: handle (CORDON_STALE), NULL or
 * invalid arguments (CORDON_INVALID_ARGUMENT), alignment of atomics (CORDON_MISALIGNED), bounds.
 *
 * Byte order. Typed loads and stores are little-endian on every host, as WebAssembly requires.
 *
 * Lifetime. cordon_memory_destroy releases the memory exactly once; afterwards every function given
 * the handle returns CORDON_STALE (a second destroy included, and handle 0, which is never issued) and
 * no byte of it is touched.
 *
 * Thread safety. Every access function (read, write, fill, copy, loads, stores, atomics) and every
 * query may run concurrently with each other and with grow, on any thread: grow never moves the
 * memory and publishes the new size only after the new pages are accessible. On a SHARED memory,
 * non-atomic accesses (read, write, fill, copy, typed loads and stores) may race each other and the
 * atomics on the same bytes exactly as WebAssembly allows: they move bytes through relaxed atomic
 * accesses (aligned 8-byte words for the body, narrower ones at the edges), so such a program is
 * defined in C11 as well; no tearing guarantee beyond a byte is promised (an aligned typed access is
 * whole); use the atomic functions to synchronise. Bulk access to a shared memory costs more than
 * memcpy for that reason (it cannot use vector copies). An unshared memory uses memcpy: concurrent
 * non-atomic accesses to the same bytes of it from several threads are a data race in C (they do not
 * crash, but nothing is promised about the bytes); make the memory shared to race. Concurrent grows
 * serialise. Destroy may race any call on the same memory: a call that overlaps it either completes on
 * the live memory (destroy waits for it before unmapping) or returns CORDON_STALE having touched
 * nothing. The cost on each call is a store to a per-thread slot and a compiler barrier (Linux
 * membarrier; elsewhere a fence). Direct access through the pointer from cordon_memory_base cannot be
 * guarded this way: code holding it must stop using it before destroy (use after destroy faults or
 * reaches whatever is mapped there later). */
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

/* The size of a linear memory page: 64 KiB. */
#define CORDON_MEMORY_PAGE_SIZE CORDON_WASM_PAGE_SIZE
/* The largest 32-bit memory: 65536 pages, 4 GiB. */
#define CORDON_MEMORY32_MAX_PAGES (UINT64_C(1) << 16)
/* The memory64 cap on the page count (2^48 pages = 2^64 bytes): larger maximums are
 * CORDON_INVALID_ARGUMENT. The whole maximum is reserved at create, so a maximum whose reservation
 * (guards included) does not fit 64 bits or exceeds PTRDIFF_MAX bytes, the largest object size
 * (from 2^47 - 2 pages on 64-bit hosts, with the two 64 KiB guards), is CORDON_OVERFLOW, checked
 * before any system call; a smaller one beyond what the OS grants (the x86-64 address space is 2^47
 * or 2^56 bytes) is refused by the OS: CORDON_OUT_OF_MEMORY. */
#define CORDON_MEMORY64_MAX_PAGES (UINT64_C(1) << 48)
/* The maximum of a 64-bit memory created without one: 2^20 pages = 64 GiB of address space. */
#define CORDON_MEMORY64_DEFAULT_MAX_PAGES (UINT64_C(1) << 20)

typedef struct cordon_memory_options {
    /* Pages accessible from the start (zero-filled). */
    uint64_t initial_pages;
    /* The maximum, when has_maximum; otherwise the index type's cap. initial <= maximum <= cap. */
    uint64_t maximum_pages;
    bool has_maximum;
    /* A 64-bit memory (memory64): addresses and sizes beyond 4 GiB. */
    bool memory64;
    /* A shared memory (threads proposal): needs has_maximum. Wait/notify on its words is provided by
     * the synchronisation module. */
    bool shared;
    /* 32-bit memories only: reserve 4 GiB plus a 4 GiB + 64 KiB guard so that code holding the base
     * pointer may skip software bounds checks (an access of up to 64 KiB at any uint32 address + uint32
     * offset faults when out of bounds). Costs 8 GiB of address space, no memory. */
    bool bounds_check_free;
    /* Ask for transparent huge pages (first touch ~10x cheaper per byte). Best effort. */
    bool huge_pages;
    /* Name shown in /proc/self/maps ("[anon:cordon:<name>]"); NULL: "[anon:cordon]". Best effort. */
    const char *name;
} cordon_memory_options;

/* Creates a linear memory. Errors: INVALID_ARGUMENT (NULL, initial > maximum, maximum above the cap,
 * shared without maximum, bounds_check_free on a 64-bit memory, bad name), OVERFLOW (the reservation
 * exceeds PTRDIFF_MAX bytes; see CORDON_MEMORY64_MAX_PAGES), OUT_OF_MEMORY (the OS refused the
 * address space or the initial pages) and other OS statuses. On failure nothing is left mapped or
 * allocated and *out is untouched. Thread safety: any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_create(const cordon_memory_options *opt, cordon_memory *out);

/* Destroys the memory (unmaps it). Afterwards the handle is stale. Calls on m running on other threads
 * finish first (destroy waits for them; it never waits for a thread that is not inside a call);
 * calls that start later return CORDON_STALE. If the OS refuses the unmap or the process-wide barrier
 * (never expected), the memory stays usable and the handle live. Any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_destroy(cordon_memory m);

/* memory.grow: adds delta_pages zero-filled pages and writes the previous size in pages to
 * *old_pages_out (may be NULL). delta 0 succeeds and returns the size. Errors: LIMIT_EXCEEDED (past
 * the maximum; nothing changes), OUT_OF_MEMORY and OS statuses (nothing changes). Any thread;
 * concurrent grows serialise, concurrent accesses see either the old or the new size. WRONG_STATE
 * when an earlier failed grow could not be undone (its pages past the size may be accessible: see
 * "Degraded" in pages.h); the memory stays usable up to its size and destroy works. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_grow(cordon_memory m, uint64_t delta_pages,
                                                             uint64_t *old_pages_out);

/* Current size, in pages and in bytes; the maximum in pages; whether the memory is shared. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_size_pages(cordon_memory m, uint64_t *pages_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_size_bytes(cordon_memory m, uint64_t *bytes_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_maximum_pages(cordon_memory m, uint64_t *pages_out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_is_shared(cordon_memory m, bool *shared_out);

/* The address of byte 0, for code that accesses the memory directly (a JIT). Valid until destroy;
 * growing never moves it. Only [base, base + size) is accessible; with bounds_check_free the whole
 * base + [0, 8 GiB + 64 KiB) range is reserved and faults outside [0, size). Accesses through this
 * pointer are NOT covered by destroy's wait (only calls of this API are): the caller must make sure no
 * thread uses it once destroy may start. */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_base(cordon_memory m, void **base_out);

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

/* Atomic accesses of width 1, 2, 4 or 8 bytes at addr, which must be a multiple of width
 * (CORDON_MISALIGNED otherwise; CORDON_INVALID_ARGUMENT for another width). Values are zero-extended
 * on the way out and truncated to the width on the way in, as the WebAssembly threads proposal's
 * narrow atomics do. Every atomic is sequentially consistent. They work on shared and unshared
 * memories alike. Assumption: the target has lock-free 8/16/32/64-bit atomics (true on every target
 * cordon supports) and is little-endian (big-endian hosts get CORDON_UNSUPPORTED). */
typedef enum cordon_memory_rmw_op {
    CORDON_MEMORY_RMW_ADD = 0,
    CORDON_MEMORY_RMW_SUB = 1,
    CORDON_MEMORY_RMW_AND = 2,
    CORDON_MEMORY_RMW_OR = 3,
    CORDON_MEMORY_RMW_XOR = 4,
    CORDON_MEMORY_RMW_XCHG = 5
} cordon_memory_rmw_op;

CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_load(cordon_memory m, uint64_t addr, unsigned width,
                                                                     uint64_t *out);
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_store(cordon_memory m, uint64_t addr, unsigned width,
                                                                      uint64_t value);
/* Applies op with operand and writes the value before the operation to *old_out (may be NULL). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_rmw(cordon_memory m, uint64_t addr, unsigned width,
                                                                    cordon_memory_rmw_op op, uint64_t operand,
                                                                    uint64_t *old_out);
/* Stores replacement if the current value equals expected (both truncated to width); *old_out (may
 * be NULL) gets the value found, so success is *old_out == (expected truncated). */
CORDON_API CORDON_NODISCARD cordon_status cordon_memory_atomic_cmpxchg(cordon_memory m, uint64_t addr, unsigned width,
                                                                        uint64_t expected, uint64_t replacement,
                                                                        uint64_t *old_out);

CORDON_END_DECLS

#endif /* CORDON_MEMORY_H */
