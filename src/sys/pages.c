/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — page reservations: mmap, mprotect, madvise, munmap, prctl (the memory module's OS calls).
 *
 * Every primitive checks its cheap preconditions (page alignment, nonzero length), passes a fault point,
 * makes exactly one system call (again on EINTR), and records errno with the call's name on failure. */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE, MADV_HUGEPAGE */

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__linux__)
#  include <sys/prctl.h>
#endif

#include "sys/sys_internal.h"

/* PR_SET_VMA arrived in Linux 5.17 headers; the values are ABI, so older headers still work. */
#if defined(__linux__)
#  ifndef PR_SET_VMA
#    define PR_SET_VMA 0x53564d41
#  endif
#  ifndef PR_SET_VMA_ANON_NAME
#    define PR_SET_VMA_ANON_NAME 0
#  endif
#endif

/* Cheap preconditions of every primitive here: addr non-NULL, len nonzero, both multiples of the OS
 * page size (cordon__sys_page_size, which has its own fault point), and no wrap-around. Returns
 * CORDON_INVALID_ARGUMENT, or the page-size query's failure. */
static cordon_status check_range(const void *addr, size_t len) {
    size_t page = 0;
    cordon_status st = cordon__sys_page_size(&page);
    if (st != CORDON_OK) {
        return st;
    }
    size_t mask = page - 1u;
    bool ok = addr != NULL && len != 0 && ((uintptr_t)addr & mask) == 0 && (len & mask) == 0 &&
              (uintptr_t)addr + len > (uintptr_t)addr;
    return ok ? CORDON_OK : CORDON_INVALID_ARGUMENT;
}

/* munmap with a fault point and EINTR retry: a whole reservation (release), or part of a mapping this
 * file just made and has not handed out (the slack of an aligned reservation). */
static cordon_status unmap_range(void *addr, size_t len) {
    for (;;) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(MUNMAP, &err)) {
            rc = -1;
        } else {
            /* SAFETY: munmap -- release a whole reservation, or give back the slack around a reservation
             * aligned to an injected page size (or the whole over-sized mapping when that fails).
             * Relies on: addr and len are multiples of the OS page size. For a release, they are exactly
             * what cordon__sys_pages_reserve returned and was given (the region records both). Callers:
             * release/destroy, after cordon__handle_claim marked the handle closing, so no other release,
             * lookup or change of that region can start and at most one munmap succeeds per mapping (a
             * concurrent second release gets CORDON_STALE); after success the handle is finished and the
             * region freed, so no pointer into the range is used again by the library. And the failure
             * paths of reserve/create, for a mapping never published under a handle. A failed release is
             * retried only by a later release of the same still-owned mapping. For the slack,
             * [addr, addr + len) lies inside the mapping mmap returned just before, which nothing else
             * knows yet (the injected page is a multiple of the OS page).
             * On failure: errno recorded as "munmap", EINTR retried; unmapping a whole mapping splits
             * nothing, so a failed release leaves it mapped and the caller keeps owning it; for the
             * slack, the caller reports the first failure and unmaps what is left. */
            rc = munmap(addr, len);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return cordon__sys_fail("munmap", err);
        }
    }
}

/* A mapping of len + slack bytes at p, where slack is one injected page less one OS page: keeps the
 * len bytes from the first injected-page boundary (p is OS-page aligned, so that boundary is at most
 * slack bytes in) and unmaps the rest, so that the base is aligned as an OS with that page would align
 * it. On failure nothing stays mapped (unless the cleanup fails too: address space, never memory). */
static cordon_status keep_aligned(uint8_t *p, size_t len, size_t slack, size_t page, void **base_out) {
    size_t head = (size_t)(-(uintptr_t)p & (uintptr_t)(page - 1u));
    size_t tail = slack - head;
    uint8_t *base = p + head;
    cordon_status st = head != 0 ? unmap_range(p, head) : CORDON_OK;
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)unmap_range(p, len + slack);
        (void)cordon__sys_fail_as(st, first.call, first.code);
        return st;
    }
    st = tail != 0 ? unmap_range(base + len, tail) : CORDON_OK;
    if (st != CORDON_OK) {
        cordon_os_error first = cordon_last_os_error();
        (void)unmap_range(base, len + tail);
        (void)cordon__sys_fail_as(st, first.call, first.code);
        return st;
    }
    *base_out = base;
    return CORDON_OK;
}

cordon_status cordon__sys_pages_reserve(size_t len, void **base_out) {
    if (base_out == NULL || len == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    size_t page = 0;
    cordon_status pst = cordon__sys_page_size(&page);
    if (pst != CORDON_OK) {
        return pst;
    }
    if ((len & (page - 1u)) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    size_t slack = 0; /* nonzero only under an injected page larger than the OS's (fault.h) */
#if defined(CORDON_FAULT_INJECTION) && CORDON_FAULT_INJECTION
    size_t os_page = 0;
    if (cordon__fault_injected_page(&os_page) == page && page > os_page) {
        slack = page - os_page;
        if (len > SIZE_MAX - slack) {
            return CORDON_OVERFLOW;
        }
    }
#endif
    for (;;) {
        int err = 0;
        void *p;
        if (CORDON__FAULT(MMAP, &err)) {
            p = MAP_FAILED;
        } else {
            /* SAFETY: mmap -- reserve address space with no access (a reservation and its guards).
             * Relies on: len is a nonzero multiple of the page size (checked above), and so is len + slack
             * (slack: 0, or one injected page less one OS page, overflow-checked); addr NULL lets the
             * kernel choose, so no existing mapping is replaced (no MAP_FIXED); fd -1 and offset 0 with
             * MAP_ANONYMOUS; MAP_NORESERVE + PROT_NONE take no commit charge; the result is compared
             * with MAP_FAILED, never NULL; the caller owns [p, p + len) until munmap with the same len.
             * On failure: errno recorded as "mmap" (ENOMEM → CORDON_OUT_OF_MEMORY), EINTR retried,
             * *base_out untouched, nothing mapped. */
            p = mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p == MAP_FAILED) {
                err = cordon__sys_errno();
            }
        }
        if (p != MAP_FAILED && slack != 0) {
            return keep_aligned((uint8_t *)p, len, slack, page, base_out);
        }
        if (p != MAP_FAILED) {
            *base_out = p;
            return CORDON_OK;
        }
        if (err != EINTR) {
            return cordon__sys_fail("mmap", err);
        }
    }
}

static int prot_bits(cordon__sys_prot prot) {
    switch (prot) {
    case CORDON__SYS_PROT_NONE:
        return PROT_NONE;
    case CORDON__SYS_PROT_READ:
        return PROT_READ;
    case CORDON__SYS_PROT_READ_WRITE:
        return PROT_READ | PROT_WRITE;
    default:
        return -1;
    }
}

cordon_status cordon__sys_pages_protect(void *addr, size_t len, cordon__sys_prot prot) {
    int bits = prot_bits(prot);
    if (bits < 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status pst = check_range(addr, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    for (;;) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(MPROTECT, &err)) {
            rc = -1;
        } else {
            /* SAFETY: mprotect -- commit, grow, decommit or protect a range of a reservation.
             * Relies on: addr and len are page-aligned and nonzero (checked above); the safe layer
             * passes only ranges inside [base, base + reserved) of a region it looked up through a
             * live, unclaimed handle (bounds overflow-checked, region lock held) or, at reserve, of
             * a mapping not yet published; release claims the handle before munmap, so the range
             * belongs to a mapping cordon still owns and no other mapping is touched; bits is one
             * of the three values of prot_bits.
             * On failure: errno recorded as "mprotect" (ENOMEM: map-count or commit limit →
             * CORDON_OUT_OF_MEMORY), EINTR retried; Linux may have applied a prefix of the range,
             * which the caller restores page by page (region.c) or marks the region degraded. */
            rc = mprotect(addr, len, bits);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return cordon__sys_fail("mprotect", err);
        }
    }
}

/* madvise with a fault point and EINTR retry; EINVAL is mapped to `einval_status`. */
static cordon_status advise(void *addr, size_t len, int advice, cordon_status einval_status) {
    cordon_status pst = check_range(addr, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    for (;;) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(MADVISE, &err)) {
            rc = -1;
        } else {
            /* SAFETY: madvise -- discard pages (MADV_DONTNEED) or ask for huge pages (MADV_HUGEPAGE).
             * Relies on: addr and len are page-aligned and nonzero (checked above) and inside a live
             * private anonymous reservation of the caller; MADV_DONTNEED on such memory makes the next
             * access read zeros and destroys nothing outside the range; MADV_HUGEPAGE changes no
             * contents; advice is one of those two constants (both callers are in this file).
             * On failure: errno recorded as "madvise", EINTR retried, EINVAL reported as the caller
             * asked (CORDON_UNSUPPORTED for the huge-page hint on a kernel without THP). */
            rc = madvise(addr, len, advice);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return err == EINVAL ? cordon__sys_fail_as(einval_status, "madvise", err)
                                 : cordon__sys_fail("madvise", err);
        }
    }
}

cordon_status cordon__sys_pages_discard(void *addr, size_t len) {
    return advise(addr, len, MADV_DONTNEED, CORDON_OS_ERROR);
}

cordon_status cordon__sys_pages_hint_huge(void *addr, size_t len) {
#if defined(MADV_HUGEPAGE)
    return advise(addr, len, MADV_HUGEPAGE, CORDON_UNSUPPORTED);
#else
    (void)addr;
    (void)len;
    return CORDON_UNSUPPORTED;
#endif
}

static bool valid_vma_name(const char *name) {
    if (name == NULL) {
        return false;
    }
    size_t n = strnlen(name, 80);
    if (n == 0 || n >= 80) {
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

/* Set when a real prctl said EINVAL for arguments valid_vma_name accepted: the kernel lacks
 * CONFIG_ANON_VMA_NAME, so later reservations skip the call (a syscall saved per reserve). Injected
 * failures never set it. */
static atomic_bool naming_unsupported;

cordon_status cordon__sys_pages_name(void *addr, size_t len, const char *name) {
    if (!valid_vma_name(name)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status pst = check_range(addr, len);
    if (pst != CORDON_OK) {
        return pst;
    }
#if defined(__linux__)
    for (;;) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(PRCTL, &err)) {
            rc = -1;
        } else if (atomic_load_explicit(&naming_unsupported, memory_order_relaxed)) {
            /* The kernel said once that it cannot name mappings; it will not learn to. */
            rc = -1;
            err = EINVAL;
        } else {
            /* SAFETY: prctl -- name a reservation so it shows as "[anon:<name>]" in /proc/self/maps.
             * Relies on: addr and len are page-aligned and inside a live anonymous reservation of the
             * caller; name is a NUL-terminated string of 1..79 characters the kernel accepts (checked
             * by valid_vma_name), which the kernel copies, so its lifetime ends with the call; the
             * variadic arguments are passed as unsigned long as prctl reads them.
             * On failure: EINVAL (kernel without CONFIG_ANON_VMA_NAME) → CORDON_UNSUPPORTED, others
             * mapped from errno, recorded as "prctl"; EINTR retried; naming changes no access. */
            rc = prctl(PR_SET_VMA, (unsigned long)PR_SET_VMA_ANON_NAME, (unsigned long)(uintptr_t)addr,
                       (unsigned long)len, (unsigned long)(uintptr_t)name);
            if (rc != 0) {
                err = cordon__sys_errno();
                if (err == EINVAL) {
                    atomic_store_explicit(&naming_unsupported, true, memory_order_relaxed);
                }
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return err == EINVAL ? cordon__sys_fail_as(CORDON_UNSUPPORTED, "prctl", err)
                                 : cordon__sys_fail("prctl", err);
        }
    }
#else
    return CORDON_UNSUPPORTED;
#endif
}

cordon_status cordon__sys_pages_release(void *base, size_t len) {
    cordon_status pst = check_range(base, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    return unmap_range(base, len);
}
