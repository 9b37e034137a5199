/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — page reservations on Windows: VirtualAlloc, VirtualProtect, VirtualQuery, VirtualFree (the
 * Win32 counterpart of pages.c).
 *
 * How the contract's states map:
 *   reserve                 VirtualAlloc(MEM_RESERVE, PAGE_NOACCESS): address space only, no commit
 *                           charge; the base is aligned to the allocation granularity (64 KiB);
 *   protect READ / RW       VirtualAlloc(MEM_COMMIT) with that protection: commits what was only
 *                           reserved (reading zeros) and re-protects what was committed, keeping its
 *                           contents;
 *   protect NONE            VirtualProtect(PAGE_NOACCESS) on the committed parts (found with
 *                           VirtualQuery), keeping their contents as mprotect does; reserved parts are
 *                           already inaccessible;
 *   discard                 per committed part: VirtualFree(MEM_DECOMMIT) then VirtualAlloc(MEM_COMMIT)
 *                           with the part's protection: the memory goes back to the OS and the next read
 *                           gives zeros. Unlike madvise, the part is inaccessible between the two calls
 *                           (the callers discard only ranges no other thread may touch meanwhile: the
 *                           decommitted tail, or a range the caller discards);
 *   release                 VirtualFree(base, 0, MEM_RELEASE) of the whole reservation.
 * Commit charge: pages made NONE stay committed (their contents must survive a later protect), so a
 * decommitted tail keeps its commit charge until it is committed again or the reservation is released.
 *
 * Fault points: each operation keeps the identifier of its POSIX counterpart (MMAP reserve, MPROTECT
 * commit and protect, MADVISE discard, MUNMAP release), so one test arms the same path on every OS; an
 * injected value is an errno value (EINTR is retried, as on POSIX). Real failures record the Win32
 * function and its Win32 error code. */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

/* Cheap preconditions, as in pages.c: addr non-NULL, len nonzero, both multiples of the page size, no
 * wrap-around. */
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
    int err = 0;
    while (CORDON__FAULT(MMAP, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MMAP, err);
        }
    }
    /* SAFETY: VirtualAlloc -- reserve address space with no access (a reservation and its guards).
     * Relies on: len is a nonzero multiple of the page size (checked above); lpAddress NULL lets the
     * system choose, so no existing allocation is touched; MEM_RESERVE takes no commit charge and
     * PAGE_NOACCESS makes every access fault; the result is compared with NULL; the caller owns
     * [p, p + len) until VirtualFree(p, 0, MEM_RELEASE) in cordon__sys_pages_release.
     * On failure: the Win32 error recorded as "VirtualAlloc" (ERROR_NOT_ENOUGH_MEMORY →
     * CORDON_OUT_OF_MEMORY; ERROR_INVALID_PARAMETER, which the system gives for a length beyond the
     * address space — every other argument is fixed or checked — → CORDON_OUT_OF_MEMORY as well);
     * *base_out untouched, nothing reserved. */
    void *p = VirtualAlloc(NULL, len, MEM_RESERVE, PAGE_NOACCESS);
    if (p == NULL) {
        int code = cordon__sys_win32_error();
        return code == ERROR_INVALID_PARAMETER ? cordon__sys_fail_win32_as(CORDON_OUT_OF_MEMORY, "VirtualAlloc", code)
                                               : cordon__sys_fail_win32("VirtualAlloc", code);
    }
    *base_out = p;
    return CORDON_OK;
}

/* Commits [addr, addr + len) with protection `flags` (PAGE_READONLY or PAGE_READWRITE). */
static cordon_status commit(void *addr, size_t len, DWORD flags) {
    int err = 0;
    while (CORDON__FAULT(MPROTECT, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MPROTECT, err);
        }
    }
    /* SAFETY: VirtualAlloc -- commit a range of a reservation with the given access (commit, grow, or
     * widen a protected range).
     * Relies on: addr and len are page-aligned and nonzero (checked by the callers) and lie inside a
     * reservation made by cordon__sys_pages_reserve that cordon still owns (the safe layer passes only
     * ranges of a region it looked up through a live handle, under the region lock); committing pages
     * already committed keeps their contents and sets the new protection; the result is only compared
     * with NULL (it equals addr on success).
     * On failure: nothing is committed or re-protected (the call is all or nothing); the Win32 error is
     * recorded as "VirtualAlloc" (ERROR_COMMITMENT_LIMIT / ERROR_NOT_ENOUGH_MEMORY →
     * CORDON_OUT_OF_MEMORY). */
    if (VirtualAlloc(addr, len, MEM_COMMIT, flags) == NULL) {
        return cordon__sys_fail_win32("VirtualAlloc", cordon__sys_win32_error());
    }
    return CORDON_OK;
}

/* The part of [at, end) that starts at `at` and has one state and protection: its length, whether it
 * is committed, and its protection. */
static cordon_status query(const uint8_t *at, const uint8_t *end, size_t *len_out, bool *committed_out,
                           DWORD *protect_out) {
    int err = 0;
    if (CORDON__FAULT(VIRTUAL_QUERY, &err)) {
        return cordon__sys_fail_win32("VirtualQuery", err);
    }
    MEMORY_BASIC_INFORMATION mbi;
    /* SAFETY: VirtualQuery -- learn the state and protection of the pages from `at` on.
     * Relies on: at lies inside a reservation cordon owns (the callers' range); mbi is a local and its
     * exact size is passed; the call returns the bytes written, 0 on failure; RegionSize counts from
     * the page of `at`, which is page-aligned, and is clamped to `end` here.
     * On failure: recorded as "VirtualQuery"; the caller stops before changing anything further. */
    if (VirtualQuery(at, &mbi, sizeof mbi) == 0) {
        return cordon__sys_fail_win32("VirtualQuery", cordon__sys_win32_error());
    }
    size_t n = mbi.RegionSize;
    if (n == 0 || n > (size_t)(end - at)) {
        n = (size_t)(end - at);
    }
    *len_out = n;
    *committed_out = mbi.State == MEM_COMMIT;
    *protect_out = mbi.Protect;
    return CORDON_OK;
}

/* Makes the committed parts of [addr, addr + len) inaccessible, keeping their contents. */
static cordon_status protect_none(uint8_t *addr, size_t len) {
    /* One fault point for the operation, as mprotect has one per call: a range with nothing committed
     * makes no call below, and its failure path is still exercised. */
    int err = 0;
    while (CORDON__FAULT(MPROTECT, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MPROTECT, err);
        }
    }
    uint8_t *end = addr + len;
    for (uint8_t *at = addr; at < end;) {
        size_t n = 0;
        bool committed = false;
        DWORD prot = 0;
        cordon_status st = query(at, end, &n, &committed, &prot);
        if (st != CORDON_OK) {
            return st;
        }
        if (committed && prot != PAGE_NOACCESS) {
            DWORD old = 0;
            /* SAFETY: VirtualProtect -- make a committed part of a reservation inaccessible (decommit
             * of the tail, a guard, or a PROT_NONE request), keeping its contents.
             * Relies on: [at, at + n) is committed with one protection (VirtualQuery just said so) and
             * lies in a reservation cordon owns, changed only under the region lock; old is a local
             * the call must be given.
             * On failure: recorded as "VirtualProtect"; the parts before `at` are already inaccessible,
             * which the caller restores (region.c restore_access) as it does after a partial mprotect. */
            if (!VirtualProtect(at, n, PAGE_NOACCESS, &old)) {
                return cordon__sys_fail_win32("VirtualProtect", cordon__sys_win32_error());
            }
        }
        at += n;
    }
    return CORDON_OK;
}

cordon_status cordon__sys_pages_protect(void *addr, size_t len, cordon__sys_prot prot) {
    if (prot != CORDON__SYS_PROT_NONE && prot != CORDON__SYS_PROT_READ && prot != CORDON__SYS_PROT_READ_WRITE) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status pst = check_range(addr, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    switch (prot) {
    case CORDON__SYS_PROT_READ:
        return commit(addr, len, PAGE_READONLY);
    case CORDON__SYS_PROT_READ_WRITE:
        return commit(addr, len, PAGE_READWRITE);
    default:
        return protect_none((uint8_t *)addr, len);
    }
}

/* Decommits [at, at + n) and commits it again with `prot`: the memory goes back to the OS and reads as
 * zeros afterwards. */
static cordon_status recommit_zero(uint8_t *at, size_t n, DWORD prot) {
    int err = 0;
    while (CORDON__FAULT(MADVISE, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MADVISE, err);
        }
    }
    /* SAFETY: VirtualFree -- decommit a committed part of a reservation, giving its memory back.
     * Relies on: [at, at + n) is committed (VirtualQuery said so), page-aligned, inside a reservation
     * cordon owns; MEM_DECOMMIT keeps the address space reserved, so nothing else can be placed there
     * and the commit below targets the same pages.
     * On failure: recorded as "VirtualFree"; the part keeps its contents and access. */
    if (!VirtualFree(at, n, MEM_DECOMMIT)) {
        return cordon__sys_fail_win32("VirtualFree", cordon__sys_win32_error());
    }
    if (CORDON__FAULT(VIRTUAL_ALLOC, &err)) {
        return cordon__sys_fail_win32("VirtualAlloc", err);
    }
    /* SAFETY: VirtualAlloc -- commit the part just decommitted again, with its former protection, so
     * that it reads as zeros with the same access (the discard keeps the access).
     * Relies on: the range is still reserved by cordon (decommit keeps the reservation); prot is the
     * protection VirtualQuery reported for the part, a plain PAGE_* value; freshly committed pages are
     * zero-filled by the system.
     * On failure: recorded as "VirtualAlloc"; the part stays decommitted (inaccessible), which the
     * caller reports; a later commit of the range makes it usable again. */
    if (VirtualAlloc(at, n, MEM_COMMIT, prot) == NULL) {
        return cordon__sys_fail_win32("VirtualAlloc", cordon__sys_win32_error());
    }
    return CORDON_OK;
}

cordon_status cordon__sys_pages_discard(void *addr, size_t len) {
    cordon_status pst = check_range(addr, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    uint8_t *end = (uint8_t *)addr + len;
    for (uint8_t *at = (uint8_t *)addr; at < end;) {
        size_t n = 0;
        bool committed = false;
        DWORD prot = 0;
        cordon_status st = query(at, end, &n, &committed, &prot);
        if (st != CORDON_OK) {
            return st;
        }
        if (committed) {
            st = recommit_zero(at, n, prot);
            if (st != CORDON_OK) {
                return st;
            }
        }
        at += n;
    }
    return CORDON_OK;
}

cordon_status cordon__sys_pages_hint_huge(void *addr, size_t len) {
    /* Large pages on Windows are a different allocation (MEM_LARGE_PAGES, privileged, committed at
     * once), not a hint over existing pages. A bad range is still refused as on POSIX. */
    cordon_status pst = check_range(addr, len);
    return pst != CORDON_OK ? pst : CORDON_UNSUPPORTED;
}

/* The contract's rule for names (sys.h), checked as on POSIX so that a bad name is refused alike. */
static bool valid_name(const char *name) {
    if (name == NULL) {
        return false;
    }
    size_t n = 0;
    while (n < 80 && name[n] != '\0') {
        unsigned char c = (unsigned char)name[n];
        if (c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '\\' || c == '$' || c == '`') {
            return false;
        }
        n++;
    }
    return n != 0 && n < 80;
}

cordon_status cordon__sys_pages_name(void *addr, size_t len, const char *name) {
    /* Windows has no names for anonymous mappings; the arguments are checked as on POSIX. */
    if (!valid_name(name)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status pst = check_range(addr, len);
    return pst != CORDON_OK ? pst : CORDON_UNSUPPORTED;
}

cordon_status cordon__sys_pages_release(void *base, size_t len) {
    cordon_status pst = check_range(base, len);
    if (pst != CORDON_OK) {
        return pst;
    }
    int err = 0;
    while (CORDON__FAULT(MUNMAP, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MUNMAP, err);
        }
    }
    /* SAFETY: VirtualFree -- release a whole reservation.
     * Relies on: base is exactly what cordon__sys_pages_reserve returned (the region records it), so it
     * is the reservation's base, as MEM_RELEASE requires with size 0 (the whole reservation, committed
     * or not, goes); callers are release/destroy after cordon__handle_claim marked the handle closing,
     * so at most one release succeeds per reservation and no pointer into it is used afterwards, and
     * the failure paths of reserve/create for a reservation never published.
     * On failure: recorded as "VirtualFree"; nothing is released and the caller keeps owning it. */
    if (!VirtualFree(base, 0, MEM_RELEASE)) {
        return cordon__sys_fail_win32("VirtualFree", cordon__sys_win32_error());
    }
    return CORDON_OK;
}
