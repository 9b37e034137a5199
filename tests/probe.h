/* SPDX-License-Identifier: Apache-2.0 */
/* Test helpers for memory protection: touch an address in a forked child and report how it ended,
 * and read the process's address-space size to prove that nothing stayed mapped. */
#ifndef CORDON_TEST_PROBE_H
#define CORDON_TEST_PROBE_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if !defined(_WIN32)
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

/* The process's virtual size in KiB (VmSize of /proc/self/status), 0 when unknown. */
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

/* Running under valgrind? Its address-space manager refuses single mappings of tens of GiB (mmap
 * answers EINVAL), so tests of such reservations skip there, loudly. Valgrind preloads its core. */
static inline int under_valgrind(void) {
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

#endif /* CORDON_TEST_PROBE_H */
