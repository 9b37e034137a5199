/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers for memory protection: touch an address (in a forked child; on Windows in this process,
 * under a vectored exception handler) and report how it ended, read the process's address-space size
 * to prove that nothing stayed mapped, and read or set page access with the OS directly. */
#ifndef CORDON_TEST_PROBE_H
#define CORDON_TEST_PROBE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
#  include <sys/mman.h>
#  include <sys/wait.h>
#endif
#include <unistd.h>

#define PROBE_OK 0
#define PROBE_SEGV 1
#define PROBE_OTHER 2

#if defined(_WIN32)
/* Windows has no fork: the access runs in this process, through instructions whose addresses and
 * lengths are known, and a vectored exception handler that sees an access violation at one of them
 * records it and resumes after the probe's instructions. The write probe stores back the byte it
 * read, so probing an accessible page changes nothing (the fork child's write on POSIX is lost too). */
#  include <windows.h>
#  include <psapi.h>
__asm__(".text\n"
        "cordon_probe_store: movb (%rcx), %al\n" /* 8a 01: 2 bytes */
        "movb %al, (%rcx)\n"                      /* 88 01: 2 bytes */
        "ret\n"
        "cordon_probe_load: movb (%rcx), %al\n" /* 8a 01: 2 bytes */
        "ret\n");
void cordon_probe_store(volatile void *addr);
unsigned char cordon_probe_load(volatile void *addr);
static volatile LONG probe_faults;

static LONG CALLBACK probe_handler(EXCEPTION_POINTERS *e) {
    DWORD64 rip = e->ContextRecord->Rip;
    if (e->ExceptionRecord->ExceptionCode == EXCEPTION_ACCESS_VIOLATION) {
        if (rip == (DWORD64)(uintptr_t)cordon_probe_store || rip == (DWORD64)(uintptr_t)cordon_probe_store + 2) {
            e->ContextRecord->Rip = (DWORD64)(uintptr_t)cordon_probe_store + 4;
            InterlockedIncrement(&probe_faults);
            return EXCEPTION_CONTINUE_EXECUTION;
        }
        if (rip == (DWORD64)(uintptr_t)cordon_probe_load) {
            e->ContextRecord->Rip = rip + 2;
            InterlockedIncrement(&probe_faults);
            return EXCEPTION_CONTINUE_EXECUTION;
        }
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

static inline int probe_access(void *addr, int do_write) {
    static volatile LONG installed;
    if (InterlockedCompareExchange(&installed, 1, 0) == 0) {
        AddVectoredExceptionHandler(1, probe_handler);
    }
    LONG before = probe_faults;
    if (do_write) {
        cordon_probe_store(addr);
    } else {
        (void)cordon_probe_load(addr);
    }
    return probe_faults != before ? PROBE_SEGV : PROBE_OK;
}
#else

/* Forks; the child resets SIGSEGV to its default action (sanitizers install their own handler),
 * writes (or reads) one byte at addr and exits 0. Returns PROBE_SEGV when the parent sees the child
 * killed by SIGSEGV, PROBE_OK when it exited 0. */
static inline int probe_access(void *addr, int do_write) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        return PROBE_OTHER;
    }
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        volatile uint8_t *p = (volatile uint8_t *)addr;
        if (do_write) {
            *p = 0x5A;
        } else {
            uint8_t v = *p;
            (void)v;
        }
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
    }
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
        return PROBE_SEGV;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return PROBE_OK;
    }
    return PROBE_OTHER;
}
#endif

static inline int probe_write(void *addr) {
    return probe_access(addr, 1);
}

static inline int probe_read(void *addr) {
    return probe_access(addr, 0);
}

/* The process's virtual size in KiB, 0 when unknown: VmSize of /proc/self/status; on Windows the sum
 * of every region VirtualQuery does not report free (reserved or committed). */
#if defined(_WIN32)
static inline uint64_t vm_size_kib(void) {
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    uint64_t total = 0;
    const uint8_t *at = (const uint8_t *)si.lpMinimumApplicationAddress;
    const uint8_t *end = (const uint8_t *)si.lpMaximumApplicationAddress;
    MEMORY_BASIC_INFORMATION mbi;
    while (at < end && VirtualQuery(at, &mbi, sizeof mbi) == sizeof mbi && mbi.RegionSize != 0) {
        if (mbi.State != MEM_FREE) {
            total += mbi.RegionSize;
        }
        at = (const uint8_t *)mbi.BaseAddress + mbi.RegionSize;
    }
    return total / 1024;
}
#else
static inline uint64_t vm_size_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return 0;
    }
    char line[256];
    unsigned long long kib = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmSize: %llu kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}
#endif

/* Does /proc/self/maps have a line containing needle whose range starts at or covers addr? */
static inline int maps_line_covers(const void *addr, const char *needle) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) {
        return 0;
    }
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        unsigned long long lo = 0, hi = 0;
        if (sscanf(line, "%llx-%llx", &lo, &hi) == 2 && (uintptr_t)addr >= lo && (uintptr_t)addr < hi &&
            strstr(line, needle) != NULL) {
            found = 1;
        }
    }
    fclose(f);
    return found;
}

/* ---- the OS's own view of page access, read and set around the library (test_pages.c) ------------ */

/* Page access as the OS records it; the values are cordon_pages_access's. */
#define PROBE_ACCESS_NONE 0
#define PROBE_ACCESS_READ 1
#define PROBE_ACCESS_READ_WRITE 2
#define PROBE_ACCESS_UNMAPPED 99

/* The OS page size, asked of the OS itself (sysconf; GetSystemInfo). */
static inline uint64_t probe_os_page_size(void) {
#if defined(_WIN32)
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    return si.dwPageSize;
#else
    long v = sysconf(_SC_PAGESIZE);
    return v > 0 ? (uint64_t)v : 0;
#endif
}

/* Sets the access of the committed pages [addr, addr + len) behind the library's back, as a kernel
 * that applied part of a change before failing leaves them (mprotect; VirtualProtect, which keeps the
 * pages committed and their contents). 0 on success. */
static inline int probe_set_access(void *addr, uint64_t len, int access) {
#if defined(_WIN32)
    DWORD prot = access == PROBE_ACCESS_READ_WRITE ? PAGE_READWRITE
                 : access == PROBE_ACCESS_READ     ? PAGE_READONLY
                                                   : PAGE_NOACCESS;
    DWORD old = 0;
    return VirtualProtect(addr, (SIZE_T)len, prot, &old) ? 0 : -1;
#else
    int prot = access == PROBE_ACCESS_READ_WRITE ? PROT_READ | PROT_WRITE
               : access == PROBE_ACCESS_READ     ? PROT_READ
                                                 : PROT_NONE;
    return mprotect(addr, (size_t)len, prot);
#endif
}

/* The access of each of the n pages of pg bytes from base, as the OS records it (/proc/self/maps;
 * VirtualQuery, where a reserved but uncommitted page is NONE); PROBE_ACCESS_UNMAPPED for a page in no
 * mapping. 0 on success. */
static inline int probe_os_access(const void *base, uint64_t pg, uint64_t n, int *out) {
    for (uint64_t i = 0; i < n; i++) {
        out[i] = PROBE_ACCESS_UNMAPPED;
    }
#if defined(_WIN32)
    for (uint64_t i = 0; i < n; i++) {
        MEMORY_BASIC_INFORMATION mbi;
        if (VirtualQuery((const uint8_t *)base + i * pg, &mbi, sizeof mbi) != sizeof mbi) {
            return -1;
        }
        if (mbi.State == MEM_FREE) {
            continue;
        }
        DWORD prot = mbi.State == MEM_COMMIT ? (mbi.Protect & 0xffu) : PAGE_NOACCESS;
        out[i] = prot == PAGE_READWRITE ? PROBE_ACCESS_READ_WRITE
                 : prot == PAGE_READONLY ? PROBE_ACCESS_READ
                                         : PROBE_ACCESS_NONE;
    }
    return 0;
#else
    FILE *f = fopen("/proc/self/maps", "r");
    if (f == NULL) {
        return -1;
    }
    char line[512];
    uintptr_t lo = (uintptr_t)base, hi = (uintptr_t)base + n * pg;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long start = 0, end = 0;
        char perms[8] = {0};
        if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3 || end <= lo || start >= hi) {
            continue;
        }
        int a = perms[0] != 'r' ? PROBE_ACCESS_NONE : perms[1] == 'w' ? PROBE_ACCESS_READ_WRITE : PROBE_ACCESS_READ;
        for (uint64_t i = 0; i < n; i++) {
            uintptr_t at = lo + (uintptr_t)(i * pg);
            if (at >= start && at < end) {
                out[i] = a;
            }
        }
    }
    fclose(f);
    return 0;
#endif
}

/* Is addr in any mapping of the process (reserved or committed on Windows)? */
static inline int probe_mapped(const void *addr) {
    uint64_t pg = probe_os_page_size();
    int a = PROBE_ACCESS_UNMAPPED;
    const void *page = (const void *)((uintptr_t)addr & ~(uintptr_t)(pg - 1));
    return probe_os_access(page, pg, 1, &a) == 0 && a != PROBE_ACCESS_UNMAPPED;
}

/* Resident (working-set) bytes of the process: /proc/self/statm; GetProcessMemoryInfo. 0 when unknown. */
static inline uint64_t probe_rss_bytes(void) {
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS pmc;
    if (!K32GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) {
        return 0;
    }
    return pmc.WorkingSetSize;
#else
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL) {
        return 0;
    }
    unsigned long long size = 0, resident = 0;
    int n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    return n == 2 ? (uint64_t)resident * probe_os_page_size() : 0;
#endif
}

/* Running under valgrind? Its address-space manager refuses single mappings of tens of GiB (mmap
 * answers EINVAL), so tests of such reservations skip there, loudly. Valgrind preloads its core. */
static inline int under_valgrind(void) {
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

#endif /* CORDON_TEST_PROBE_H */
