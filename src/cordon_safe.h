/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — THE CORDON, compile-time half.
 *
 * The build force-includes this header (-include) into every library source file outside src/sys/.
 * It first includes the pure parts of the C standard library that safe code may use, then poisons the
 * names of OS and foreign-library calls, so that using one — or including a header that declares
 * one — anywhere outside src/sys/ stops the build:
 *
 *     error: attempt to use poisoned "mmap"
 *     note: poisoned here   → the #pragma line below, which names the rule
 *
 * Safe code reaches the OS only through src/sys/sys.h. Safe files are compiled as strict ISO C11
 * (no _GNU_SOURCE, no POSIX feature macros), so POSIX declarations are not even visible to them.
 *
 * The object-level half (tools/check-link.sh, run by the tests) reads the compiled safe objects: their
 * imports must be cordon's own global symbols (src/sys/ ones only from the contract, sys.h) or on
 * tools/pure-c-allowlist.txt, they define no global symbol outside cordon_*, and their code contains
 * no system-call instruction. No macro or asm trick gets past that.
 *
 * Consequence for naming: a poisoned word cannot be used as any identifier in safe code (a local
 * variable called `read` or `free` is refused too). Choose another name. */
#ifndef CORDON_SAFE_H
#define CORDON_SAFE_H

#if defined(CORDON_SYS_INTERNAL)
#  error "cordon_safe.h must not be included into src/sys/ files"
#endif

/* The allowed standard headers, included before the poison so that their declarations are seen. */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* SIMD intrinsics are computation, not OS calls: the compute kernels use them. Their headers are
 * included here, before the poison below, because some define inline functions with assembly. */
#if defined(__x86_64__) || defined(__i386__)
#  include <immintrin.h>
#elif defined(__aarch64__)
#  include <arm_neon.h>
#endif

/* The Windows C runtime spells errno, alloca and _alloca as macros (errno → *_errno(), alloca → __builtin_alloca):
 * drop them so that the names can be poisoned below; safe code uses neither. */
#if defined(_WIN32)
#  undef errno
#  undef alloca
#  undef _alloca
#endif

/* The cordon rule: OS and foreign calls live only in src/sys/ — use the contract in src/sys/sys.h. */
#pragma GCC poison mmap mmap64 munmap mprotect madvise posix_madvise mremap msync mlock munlock mincore
#pragma GCC poison brk sbrk shm_open memfd_create syscall ioctl fcntl prctl
/* The cordon rule: OS and foreign calls live only in src/sys/ — use the contract in src/sys/sys.h. */
#pragma GCC poison open openat creat close read write pread pwrite lseek dup dup2 pipe poll select
#pragma GCC poison fork vfork execve execvp clone kill raise signal sigaction sigprocmask waitpid
/* The cordon rule: OS and foreign calls live only in src/sys/ — use the contract in src/sys/sys.h. */
#pragma GCC poison pthread_create pthread_join pthread_detach pthread_self pthread_kill pthread_exit
#pragma GCC poison pthread_mutex_init pthread_mutex_lock pthread_mutex_trylock pthread_mutex_unlock
#pragma GCC poison pthread_mutex_destroy pthread_cond_init pthread_cond_wait pthread_cond_timedwait
#pragma GCC poison pthread_cond_signal pthread_cond_broadcast pthread_cond_destroy pthread_once
#pragma GCC poison pthread_key_create pthread_getspecific pthread_setspecific pthread_attr_init
#pragma GCC poison pthread_rwlock_rdlock pthread_rwlock_wrlock pthread_rwlock_unlock pthread_spin_lock
/* The cordon rule: OS and foreign calls live only in src/sys/ — use the contract in src/sys/sys.h. */
#pragma GCC poison thrd_create thrd_join thrd_detach thrd_sleep thrd_yield mtx_init mtx_lock
#pragma GCC poison mtx_unlock mtx_destroy cnd_init cnd_wait cnd_timedwait cnd_signal cnd_broadcast
#pragma GCC poison call_once tss_create tss_get tss_set
/* The cordon rule: OS and foreign calls live only in src/sys/ — use the contract in src/sys/sys.h. */
#pragma GCC poison dlopen dlsym dlclose dlerror sysconf getpagesize sched_yield sched_getaffinity
#pragma GCC poison sched_setaffinity sched_getcpu
#pragma GCC poison nanosleep usleep sleep clock_gettime clock_nanosleep gettimeofday time clock
#pragma GCC poison uname getenv setenv system errno __errno_location strerror strerror_r perror
/* The cordon rule, Win32 (src/sys/win32/): memory, waits, threads, files and mappings, libraries,
 * exceptions, clocks and machine facts, and the C runtime's Windows-only entry points. Poisoned on every
 * OS, so that a safe file cannot carry a Windows call that only the Windows build would see. */
#pragma GCC poison VirtualAlloc VirtualAllocEx VirtualAlloc2 VirtualFree VirtualFreeEx VirtualProtect
#pragma GCC poison VirtualProtectEx VirtualQuery VirtualQueryEx VirtualLock VirtualUnlock DiscardVirtualMemory
#pragma GCC poison NtAllocateVirtualMemory NtProtectVirtualMemory NtFreeVirtualMemory HeapAlloc HeapFree
#pragma GCC poison GlobalAlloc LocalAlloc _aligned_malloc _aligned_free _errno _alloca
#pragma GCC poison WaitOnAddress WakeByAddressSingle WakeByAddressAll WaitForSingleObject
#pragma GCC poison WaitForMultipleObjects Sleep SleepEx SwitchToThread CreateThread _beginthreadex
#pragma GCC poison _beginthread ExitThread TerminateThread CreateEventA CreateEventW CreateMutexA
#pragma GCC poison CreateMutexW InitializeCriticalSection EnterCriticalSection AcquireSRWLockExclusive
#pragma GCC poison FlsAlloc FlsSetValue FlsGetValue TlsAlloc TlsSetValue TlsGetValue
#pragma GCC poison CreateFile CreateFileA CreateFileW CreateFileMapping CreateFileMappingA CreateFileMappingW
#pragma GCC poison OpenFileMappingA OpenFileMappingW MapViewOfFile MapViewOfFileEx UnmapViewOfFile
#pragma GCC poison ReadFile WriteFile FlushFileBuffers GetFileSizeEx GetFileAttributesA GetFileAttributesW CloseHandle
#pragma GCC poison MultiByteToWideChar WideCharToMultiByte
#pragma GCC poison DeviceIoControl _open _close _read _write _commit _lseek
#pragma GCC poison LoadLibrary LoadLibraryA LoadLibraryW LoadLibraryExA LoadLibraryExW GetProcAddress
#pragma GCC poison FreeLibrary GetModuleHandleA GetModuleHandleW
#pragma GCC poison AddVectoredExceptionHandler RemoveVectoredExceptionHandler SetUnhandledExceptionFilter
#pragma GCC poison RaiseException RtlUnwind RtlUnwindEx
#pragma GCC poison GetLastError SetLastError FormatMessageA FormatMessageW GetSystemInfo
#pragma GCC poison GetProcessAffinityMask QueryPerformanceCounter QueryPerformanceFrequency GetTickCount64
#pragma GCC poison RtlGetVersion GetVersionExA GetVersionExW GetEnvironmentVariableA GetEnvironmentVariableW
#pragma GCC poison ExitProcess TerminateProcess CreateProcessA CreateProcessW FlushProcessWriteBuffers
/* The cordon rule: the library never aborts, exits or prints on bad input — return a status. */
#pragma GCC poison abort exit _Exit quick_exit atexit assert
#pragma GCC poison printf vprintf fprintf vfprintf puts fputs putchar fputc fopen fclose fwrite fread
#pragma GCC poison fflush fgets fgetc getc getchar ungetc sprintf vsprintf scanf
#pragma GCC poison fscanf sscanf setvbuf setbuf freopen fseek ftell rewind remove rename tmpfile tmpnam
#pragma GCC poison rand srand
/* The cordon rule: allocation goes through cordon__sys_alloc / cordon__sys_free (injectable). */
#pragma GCC poison malloc calloc realloc free aligned_alloc posix_memalign
/* The cordon rule: foreign libraries (OpenCL, BLAS) are called only from src/sys/. */
#pragma GCC poison clGetPlatformIDs clGetDeviceIDs clCreateContext clCreateCommandQueue clCreateBuffer
#pragma GCC poison clCreateProgramWithSource clBuildProgram clCreateKernel clSetKernelArg clFinish
#pragma GCC poison clEnqueueNDRangeKernel clEnqueueReadBuffer clEnqueueWriteBuffer clReleaseMemObject
#pragma GCC poison clGetPlatformInfo clGetDeviceInfo clGetContextInfo clGetProgramBuildInfo
#pragma GCC poison clGetKernelWorkGroupInfo clCreateCommandQueueWithProperties clCreateSubBuffer
#pragma GCC poison clEnqueueFillBuffer clEnqueueCopyBuffer clEnqueueMapBuffer clEnqueueUnmapMemObject clFlush
#pragma GCC poison clWaitForEvents clReleaseEvent clRetainMemObject clRetainContext clRetainCommandQueue
#pragma GCC poison clRetainProgram clRetainKernel clReleaseContext clReleaseCommandQueue clReleaseProgram
#pragma GCC poison clReleaseKernel clSVMAlloc clSVMFree CLBlastSgemm CLBlastSgemv CLBlastClearCache
#pragma GCC poison CLBlastSgemmBatched CLBlastSaxpy CLBlastFillCache
#pragma GCC poison cblas_sgemm cblas_sgemv cblas_saxpy cblas_sdot cblas_dgemm cblas_sgemm_batch
#pragma GCC poison openblas_set_num_threads openblas_get_num_threads goto_set_num_threads
/* The cordon rule: the rest of what src/sys/ calls — file status and sync, signals, jumps, thread
 * attributes, the environment, auxiliary vector, barriers — and the compiler's CPU-feature builtins,
 * which reach the compiler runtime's cpuid tables (src/sys/cpu.c owns feature detection). */
#pragma GCC poison stat lstat fstat fsync fdatasync secure_getenv getauxval membarrier
#pragma GCC poison setjmp longjmp _setjmp _longjmp sigsetjmp siglongjmp __sigsetjmp
#pragma GCC poison sigaltstack sigemptyset sigfillset sigaddset pthread_sigmask
#pragma GCC poison pthread_getattr_np pthread_attr_getstack pthread_attr_getguardsize pthread_attr_destroy
#pragma GCC poison pthread_condattr_init pthread_condattr_setclock pthread_condattr_destroy
#pragma GCC poison __builtin_cpu_init __builtin_cpu_supports __builtin_cpu_is __cpu_model __cpu_features2
#pragma GCC poison __cpu_indicator_init
/* The cordon rule: no assembly in safe code. An asm statement reaches the kernel directly (a `syscall`
 * instruction), and an asm label renames a symbol (`int f(void) __asm__("write")`) so that the source
 * never spells the OS call. Spin-wait hints use a compiler builtin or src/sys/. */
#pragma GCC poison asm __asm __asm__
/* The cordon rule: the compiler's fortify and stack-protector entry points abort the process; the
 * compiler may emit calls to them, source code may not. Likewise the builtins that reach the C
 * library or end the process behind a different name. */
#pragma GCC poison __stack_chk_fail __stack_chk_guard __chk_fail __fortify_fail
#pragma GCC poison __memcpy_chk __memmove_chk __mempcpy_chk __memset_chk __strcpy_chk __stpcpy_chk
#pragma GCC poison __strncpy_chk __strcat_chk __strncat_chk __snprintf_chk __vsnprintf_chk
#pragma GCC poison __sprintf_chk __vsprintf_chk __printf_chk __fprintf_chk __vprintf_chk __vfprintf_chk
#pragma GCC poison __builtin___memcpy_chk __builtin___memmove_chk __builtin___mempcpy_chk
#pragma GCC poison __builtin___memset_chk __builtin___strcpy_chk __builtin___stpcpy_chk
#pragma GCC poison __builtin___strncpy_chk __builtin___strcat_chk __builtin___strncat_chk
#pragma GCC poison __builtin___snprintf_chk __builtin___vsnprintf_chk __builtin___sprintf_chk
#pragma GCC poison __builtin___vsprintf_chk __builtin___printf_chk __builtin___fprintf_chk
#pragma GCC poison __builtin_trap __builtin_abort __builtin_exit __builtin__exit __builtin_longjmp
#pragma GCC poison __builtin_setjmp __builtin_apply __builtin_apply_args __builtin_return
#pragma GCC poison __builtin_malloc __builtin_calloc __builtin_realloc __builtin_free __builtin_alloca
#pragma GCC poison __builtin_alloca_with_align alloca __builtin_printf __builtin_fprintf __builtin_puts
#pragma GCC poison __builtin_putchar __builtin_fputs __builtin_fwrite _mm_malloc _mm_free
/* The cordon rule: src/sys/'s private headers (sys_internal.h: errno access; fault.h: fault arming;
 * futex_backend.h) and private functions are closed to safe code. Each private header names one of
 * these identifiers, so including it here stops the build, and no #define can reopen it. */
#pragma GCC poison CORDON_SYS_INTERNAL CORDON__SYS_PRIVATE_HEADER
#pragma GCC poison cordon__sys_errno cordon__sys_errno_reset cordon__fault_hit cordon__fault_arm

#endif /* CORDON_SAFE_H */
