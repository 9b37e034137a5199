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
 * The link-time half (tools/check-link.sh, run by the tests) checks the undefined symbols of every
 * safe object file against tools/pure-c-allowlist.txt; no macro trick can get past that.
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
#pragma GCC poison nanosleep usleep sleep clock_gettime clock_nanosleep gettimeofday time clock
#pragma GCC poison uname getenv setenv system errno __errno_location strerror strerror_r perror
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
#pragma GCC poison cblas_sgemm cblas_sgemv cblas_saxpy cblas_sdot cblas_dgemm

#endif /* CORDON_SAFE_H */
