/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — THE CONTRACT of src/sys/, the only code that calls the OS or a foreign library.
 *
 * Safe modules (src/<module>/) reach the OS only through the functions declared here. Every primitive:
 *  - states its preconditions; it checks the cheap ones and returns CORDON_INVALID_ARGUMENT;
 *  - returns a cordon_status, CORDON_OK on success;
 *  - writes its out-parameters only on success;
 *  - on failure records the OS detail (errno and the call's name) for the calling thread before
 *    anything else can overwrite errno (cordon__sys_fail), so cordon_last_os_error() reports it;
 *  - retries EINTR itself where the call can be restarted, against the caller's deadline;
 *  - can be made to fail on demand in test builds (fault injection, see fault.h).
 * Nothing here calls back into a safe module. No OS type appears in this header.
 *
 * Names: cordon__sys_<area>_<verb>. Sections are grouped by the module that needs them. */
#ifndef CORDON_SYS_H
#define CORDON_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/status.h"

/* ===================================================================================================
 * Failure detail (error.c)
 * =================================================================================================== */

/* The status an errno value maps to: ENOMEM → CORDON_OUT_OF_MEMORY, EAGAIN/EMFILE/… →
 * CORDON_OUT_OF_RESOURCES, EPERM/EACCES → CORDON_PERMISSION_DENIED, ENOSYS/EOPNOTSUPP →
 * CORDON_UNSUPPORTED, ETIMEDOUT → CORDON_TIMED_OUT, anything else → CORDON_OS_ERROR. */
cordon_status cordon__sys_status_from_errno(int err);

/* Records (call, err) as the calling thread's last OS failure and returns the mapped status.
 * call must be a string with static storage duration. */
cordon_status cordon__sys_fail(const char *call, int err);

/* Same as cordon__sys_fail but returns the given status instead of the mapped one. */
cordon_status cordon__sys_fail_as(cordon_status status, const char *call, int err);

/* ===================================================================================================
 * Heap (heap.c). Every allocation made by safe code goes through here, so that allocation failure is
 * an injectable, tested error path like any other.
 * =================================================================================================== */

/* Allocates size bytes, zero-filled, aligned for any object type. size == 0 → INVALID_ARGUMENT.
 * On success *out owns the block until cordon__sys_free. */
cordon_status cordon__sys_alloc(size_t size, void **out);

/* Allocates size bytes, zero-filled, aligned to align (a power of two >= sizeof(void *)). size must
 * be > 0. On success *out owns the block until cordon__sys_free. */
cordon_status cordon__sys_alloc_aligned(size_t align, size_t size, void **out);

/* Releases a block from cordon__sys_alloc*; NULL is ignored. */
void cordon__sys_free(void *block);

/* ===================================================================================================
 * Machine facts (info.c)
 * =================================================================================================== */

/* The OS page size in bytes (a power of two). */
cordon_status cordon__sys_page_size(size_t *out);

/* Transparent huge pages: the page size in bytes (0 when the OS has none) and the mode string
 * ("always", "madvise", "never", "" unknown) into mode[mode_len], NUL-terminated. mode_len >= 1. */
cordon_status cordon__sys_huge_page_info(size_t *size_out, char *mode, size_t mode_len);

/* CPUs online and CPUs usable by this process (affinity), each >= 1. */
cordon_status cordon__sys_cpu_counts(unsigned *online_out, unsigned *usable_out);

/* Monotonic clock in nanoseconds. */
cordon_status cordon__sys_monotonic_ns(uint64_t *out);

/* OS name and release, NUL-terminated and truncated into the given buffers (lengths >= 1). */
cordon_status cordon__sys_os_identity(char *name, size_t name_len, char *release, size_t release_len);

/* The futex backend compiled into src/sys/ ("linux-futex", …). Static string, never NULL. */
const char *cordon__sys_futex_backend_name(void);

/* The compute backends compiled into src/sys/, space separated. Static string, never NULL. */
const char *cordon__sys_compute_backends(void);

/* ===================================================================================================
 * Memory (pages): added by the memory module (pages.c).
 *
 * A reservation is one private anonymous mapping. Addresses and lengths passed here are multiples of
 * the OS page size (cordon__sys_page_size) and lie inside a mapping made by cordon__sys_pages_reserve
 * that has not been released: the safe layer validates and overflow-checks them before calling, the
 * primitives re-check only alignment and zero length (→ CORDON_INVALID_ARGUMENT, no call made).
 * None of these calls can be interrupted by a signal on Linux; each still retries EINTR (as an
 * injected fault can produce it), so EINTR never reaches a caller.
 * =================================================================================================== */

/* Access of a page range. */
typedef enum cordon__sys_prot {
    CORDON__SYS_PROT_NONE = 0,
    CORDON__SYS_PROT_READ = 1,
    CORDON__SYS_PROT_READ_WRITE = 2
} cordon__sys_prot;

/* Reserves len bytes of address space with no access: mmap(PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
 * MAP_NORESERVE). No physical memory and no commit charge are taken until a range is made writable
 * and touched. Pages read as zero when first made accessible. On success *base_out is page-aligned
 * and owned by the caller until cordon__sys_pages_release(base, len). ENOMEM → CORDON_OUT_OF_MEMORY. */
cordon_status cordon__sys_pages_reserve(size_t len, void **base_out);

/* Sets the access of [addr, addr + len): mprotect. On failure the kernel may have changed a prefix
 * of the range (Linux applies mprotect VMA by VMA); the caller restores or documents it. */
cordon_status cordon__sys_pages_protect(void *addr, size_t len, cordon__sys_prot prot);

/* Returns the physical memory behind [addr, addr + len) to the OS, keeping the access: madvise
 * MADV_DONTNEED. For private anonymous memory the next read of each page gives zeros (Linux
 * guarantees this for MAP_PRIVATE | MAP_ANONYMOUS). */
cordon_status cordon__sys_pages_discard(void *addr, size_t len);

/* Hints that [addr, addr + len) should be backed by transparent huge pages: madvise MADV_HUGEPAGE.
 * CORDON_UNSUPPORTED when the kernel has no THP (EINVAL). Changes no contents. */
cordon_status cordon__sys_pages_hint_huge(void *addr, size_t len);

/* Names the anonymous range [addr, addr + len) so it shows as "[anon:<name>]" in /proc/self/maps:
 * prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME). name: 1..79 printable characters without '[', ']', '\\',
 * '$' or '`' (checked: CORDON_INVALID_ARGUMENT). CORDON_UNSUPPORTED when the kernel was built without
 * CONFIG_ANON_VMA_NAME (EINVAL) or the OS has no such call. */
cordon_status cordon__sys_pages_name(void *addr, size_t len, const char *name);

/* Releases a whole reservation: munmap(base, len) with the exact values reserve returned and was
 * given. After success no address in the range may be used. On failure the mapping is unchanged
 * (munmap of a whole mapping does not split it, so it fails before changing anything). */
cordon_status cordon__sys_pages_release(void *base, size_t len);

/* ===================================================================================================
 * Synchronisation (futex, threads): added by the sync module.
 * =================================================================================================== */

/* Deadlines are absolute nanoseconds on the monotonic clock (cordon__sys_monotonic_ns);
 * CORDON__SYS_FOREVER means no deadline. */
#define CORDON__SYS_FOREVER UINT64_MAX

/* The futex word lives in memory shared between processes (default: private to this process). */
#define CORDON__SYS_FUTEX_SHARED 1u

/* Blocks the calling thread while *word == expected, until woken by cordon__sys_futex_wake on the same
 * address or until deadline_ns passes (futex.c dispatches to the backend chosen at build time).
 * Preconditions: word is non-NULL, 4-byte aligned, alive until the call returns, and accessed by every
 * other thread only through atomic operations. Checked: NULL or misalignment → INVALID_ARGUMENT.
 * Returns CORDON_OK when woken — possibly spuriously: callers re-check their condition —,
 * CORDON_NOT_EQUAL when *word != expected at the time of the (atomic) comparison, CORDON_TIMED_OUT when
 * the deadline passed (also when it had already passed and the word still equalled expected). EINTR
 * is retried against the same deadline, never stretching it. CORDON__SYS_FUTEX_SHARED with the
 * parking-lot backend → CORDON_UNSUPPORTED. Other OS failures are recorded ("futex", "__ulock_wait2",
 * "pthread_cond_timedwait", …). */
cordon_status cordon__sys_futex_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns, unsigned flags);

/* Wakes up to count threads blocked in cordon__sys_futex_wait on word; count == UINT32_MAX wakes all.
 * Preconditions as for wait (word need not be alive after the call). woken_out may be NULL; otherwise
 * it receives how many threads were woken where the OS tells (Linux, parking lot: exact; macOS ulock:
 * exact for count == 1, for larger counts a lower bound, see futex_ulock.c). A wake with no waiter is
 * CORDON_OK with 0 woken. */
cordon_status cordon__sys_futex_wake(uint32_t *word, uint32_t count, unsigned flags, uint32_t *woken_out);

/* An OS thread. Opaque: no OS type crosses the contract. */
typedef struct cordon__sys_thread cordon__sys_thread;

/* Starts a thread running fn(arg). On success *out owns the thread until exactly one of
 * cordon__sys_thread_join / cordon__sys_thread_detach. The OS refusing a thread (EAGAIN) →
 * CORDON_OUT_OF_RESOURCES recorded as "pthread_create"; allocation failure → CORDON_OUT_OF_MEMORY. */
cordon_status cordon__sys_thread_spawn(void (*fn)(void *arg), void *arg, cordon__sys_thread **out);

/* Waits for the thread to finish and releases it. Must not be called by the thread itself. On failure
 * (recorded as "pthread_join") the thread is still owned by the caller, unchanged. */
cordon_status cordon__sys_thread_join(cordon__sys_thread *thread);

/* Lets the thread run to completion on its own and releases the caller's ownership. On failure
 * (recorded as "pthread_detach") the thread is still owned by the caller, unchanged. */
cordon_status cordon__sys_thread_detach(cordon__sys_thread *thread);

/* Gives the processor to another runnable thread, if any. Cannot fail. */
void cordon__sys_thread_yield(void);

/* The number of the processor the calling thread is running on, or -1 where the OS does not tell (it
 * may have moved by the time the caller looks). Cannot fail. */
int cordon__sys_current_cpu(void);

/* Moves the calling thread off processor `cpu` onto another one it may run on, and leaves its affinity
 * as it was: for a pool worker that the scheduler has placed beside the thread it must run alongside
 * (the two would take turns on one processor while another sits idle). CORDON_OK when the thread was
 * moved or was not on `cpu`; CORDON_UNSUPPORTED where the OS has no such call or the thread may run on
 * no other processor. A failing call is recorded under its name ("sched_getaffinity", or
 * "sched_setaffinity"): when the narrowing fails the affinity is as it was; when only the restoring call
 * fails (a cpuset change in between) the thread keeps the narrowed mask, all it had but `cpu`. */
cordon_status cordon__sys_thread_leave_cpu(int cpu);

/* The processor's spin-wait hint (x86 `pause`, Arm `yield`), for architectures where safe code has no
 * compiler builtin for it (safe code contains no assembly). Cannot fail. */
void cordon__sys_cpu_relax(void);

/* ===================================================================================================
 * Access guard (barrier.c, thread_exit.c): added by the memory module, for src/memory/access.c, which
 * lets a destroy wait for the calls still using the object it destroys.
 * =================================================================================================== */

/* Registers the process for expedited private process-wide barriers: membarrier
 * MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED. Call once before cordon__sys_barrier_process.
 * CORDON_UNSUPPORTED where the OS has no such call (then use fences on both sides). */
cordon_status cordon__sys_barrier_register(void);

/* A process-wide memory barrier: membarrier MEMBARRIER_CMD_PRIVATE_EXPEDITED. On CORDON_OK every thread
 * of the process that was running has executed a full memory barrier, so a store this thread made
 * before the call is seen by any load those threads make after their barrier, and their stores before
 * it are seen by this thread's loads after the call. Precondition: a successful
 * cordon__sys_barrier_register. On failure nothing is guaranteed (recorded as "membarrier"). */
cordon_status cordon__sys_barrier_process(void);

/* Arranges for fn(arg) to be called on the calling thread when it exits (a thread-specific key
 * destructor; not for the thread that ends the process with exit()). fn must be the same function on
 * every call in the process (CORDON_INVALID_ARGUMENT otherwise, and for NULL fn or arg); a second call
 * on the same thread replaces its arg. fn must not register again. Failures are recorded as
 * "pthread_key_create" (EAGAIN → CORDON_OUT_OF_RESOURCES) or "pthread_setspecific" (ENOMEM); then no
 * callback is registered for this thread. */
cordon_status cordon__sys_thread_on_exit(void (*fn)(void *arg), void *arg);

/* ===================================================================================================
 * Compute: processor features and settings (cpu.c), BLAS (blas.c).
 * =================================================================================================== */

/* Instruction-set families the processor and the OS support (the OS saves their registers), as bits. */
#define CORDON__CPU_AVX2 1u   /* AVX2 + FMA */
#define CORDON__CPU_AVX512 2u /* AVX-512 F, BW, VL, DQ (and AVX2) */
#define CORDON__CPU_NEON 4u   /* aarch64 Advanced SIMD */
#define CORDON__CPU_AVX512_BF16 8u /* AVX-512 BF16 (vdpbf16ps, vcvtne2ps2bf16), with CORDON__CPU_AVX512 */
uint32_t cordon__sys_cpu_features(void);

/* Copies the environment variable `name` into buf[len] (NUL-terminated) and sets *found_out; absent:
 * *found_out = false, buf = "". CORDON_LIMIT_EXCEEDED when the value does not fit (nothing written). Ignores the environment in set-user-ID programs. */
cordon_status cordon__sys_env_get(const char *name, char *buf, size_t len, bool *found_out);

/* BLAS (blas.c): present when the build found OpenBLAS; otherwise every call below is
 * CORDON_BACKEND_UNAVAILABLE. Matrices are row-major; leading dimensions count elements. */
bool cordon__sys_blas_available(void);
/* "openblas" or "none". Static. */
const char *cordon__sys_blas_name(void);
/* Makes BLAS compute on the calling thread only (process-wide); idempotent, and cheap when already so. */
void cordon__sys_blas_set_single_threaded(void);
/* C (m × n, ldc) = alpha·op(A)·op(B) + beta·C; A is m × k (k × m stored when trans_a), B is k × n (n × k
 * stored when trans_b). Sizes >= 1 and <= INT_MAX, leading dimensions at least the stored row length:
 * CORDON_INVALID_ARGUMENT otherwise (no call made). beta = 0 does not read C. */
cordon_status cordon__sys_blas_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                                     size_t ldc);
/* y = alpha·op(A)·x + beta·y with A rows × cols (lda), unit-stride x and y. */
cordon_status cordon__sys_blas_sgemv(bool trans, size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                     const float *x, float beta, float *y);

/* ===================================================================================================
 * Files (file.c): added by the compute module, for model files (src/compute/safetensors_*.c, safetensors.c).
 * =================================================================================================== */

/* Maps the whole regular file at path read-only: open(O_RDONLY) + fstat + mmap(PROT_READ, MAP_PRIVATE),
 * then the descriptor is closed (the mapping keeps the file). On success *data_out and *size_out describe
 * the bytes, owned by the caller until cordon__sys_file_unmap(data, size). The file must not shrink
 * while mapped (reading past its new end faults). Errors: INVALID_ARGUMENT (NULL argument; not a
 * regular file; an empty file), OVERFLOW (larger than SIZE_MAX), and OS failures recorded as "open",
 * "fstat" or "mmap" (ENOENT → CORDON_OS_ERROR with errno ENOENT). Nothing stays open on failure. */
cordon_status cordon__sys_file_map_readonly(const char *path, const void **data_out, size_t *size_out);

/* Releases a mapping from cordon__sys_file_map_readonly: munmap with the exact data and size it gave.
 * On failure (recorded as "munmap") the mapping is unchanged. */
cordon_status cordon__sys_file_unmap(const void *data, size_t size);

/* A file open for writing. Opaque: only cordon__sys_file_create makes one. */
typedef struct cordon__sys_file {
#if defined(_WIN32)
    void *handle; /* a Win32 file HANDLE (src/sys/win32/file_win32.c) */
#else
    int fd;
#endif
} cordon__sys_file;

/* Creates path, or truncates it when it exists (mode 0644 before the umask), for writing from the
 * start: open(O_WRONLY | O_CREAT | O_TRUNC). On success *out must be given to cordon__sys_file_finish
 * exactly once. Failures recorded as "open". */
cordon_status cordon__sys_file_create(const char *path, cordon__sys_file *out);

/* Writes all len bytes of buf at the file's current end (looping over short writes and EINTR).
 * Failures recorded as "write" (ENOSPC → CORDON_OUT_OF_RESOURCES); the bytes written before stay. */
cordon_status cordon__sys_file_write_all(cordon__sys_file file, const void *buf, size_t len);

/* Flushes the file to stable storage when sync (fsync), then closes it, whatever happened: the file is
 * finished after this call on every path. Returns the first failure ("fsync" or "close"). */
cordon_status cordon__sys_file_finish(cordon__sys_file file, bool sync);

/* ===================================================================================================
 * Traps (signal.c; on Windows win32/trap_win32.c, a vectored exception handler that resumes through an
 * edited CONTEXT instead of siglongjmp, with a stack guarantee instead of an alternate stack: see its
 * file comment): added by the memory module, for src/memory/trap.c (cordon_trap_run, trap.h).
 *
 * One process-wide handler for SIGSEGV and SIGBUS, installed on request only. On a fault (not a
 * signal sent with kill) while the faulting thread is inside cordon__sys_trap_run, it asks the safe
 * module's classifier whether the address lies in a live region, then whether it lies just below the
 * thread's stack; when either holds it records what trapped and jumps back (siglongjmp) into the
 * innermost run of that thread. Every other signal goes to the handler installed before (or the
 * default action). The handler runs on an alternate signal stack (SA_ONSTACK), which each thread
 * gets on its first run.
 * =================================================================================================== */

/* Trap kinds, as cordon_trap_kind. */
#define CORDON__SYS_TRAP_NONE 0u
#define CORDON__SYS_TRAP_MEMORY 1u
#define CORDON__SYS_TRAP_PAGES 2u
#define CORDON__SYS_TRAP_STACK 3u

/* What trapped. The classifier fills kind, handle, offset, reserved and in_guard; the handler the rest. */
typedef struct cordon__sys_trap_info {
    unsigned kind;     /* CORDON__SYS_TRAP_* */
    unsigned access;   /* as cordon_trap_access: 0 unknown, 1 read, 2 write */
    bool bus;          /* SIGBUS */
    uintptr_t address; /* the faulting address */
    uint64_t handle;   /* the region's handle (0 for the stack) */
    int64_t offset;    /* address - the region's byte 0 (for the stack: - its lowest usable byte) */
    uint64_t reserved; /* the region's usable size (for the stack: its size) */
    bool in_guard;     /* in a guard region (never accessible): not the usable range or a prefix */
} cordon__sys_trap_info;

/* Called from the signal handler with the faulting address: true, with kind, handle, offset,
 * reserved and in_guard written, when addr lies in a live region. Must be async-signal-safe: lock-free
 * atomic loads of memory that is never freed, no call that takes a lock or allocates, no errno. */
typedef bool (*cordon__sys_trap_classify_fn)(uintptr_t addr, cordon__sys_trap_info *out);

/* Installs the handler for SIGSEGV and SIGBUS (sigaction, SA_SIGINFO | SA_ONSTACK), remembering the
 * previous actions for chaining, with `classify` as the region test. Once per process: later calls
 * return CORDON_OK (the first classifier stays); concurrent calls wait for the first. Failures
 * (recorded as "sigaction"): nothing installed (a SIGSEGV action already changed is put back).
 * CORDON_UNSUPPORTED when the action read back is not ours (a sanitizer's interceptor kept its own):
 * the previous actions are put back. classify NULL → CORDON_INVALID_ARGUMENT. */
cordon_status cordon__sys_trap_install(cordon__sys_trap_classify_fn classify);

/* Has cordon__sys_trap_install succeeded? */
bool cordon__sys_trap_installed(void);

/* Calls fn(ctx) with trap recovery on the calling thread. CORDON_OK when fn returned; CORDON_TRAPPED
 * with *out written when it trapped (a siglongjmp back here: fn's frames are abandoned; the signal
 * mask is the faulting context's, set by the handler before the jump). Without running fn: INVALID_ARGUMENT (NULL fn or out),
 * WRONG_STATE (not installed), or the failure of preparing the thread on its first run, with nothing
 * changed: "pthread_getattr_np" (stack bounds), "mmap"/"mprotect" (the alternate stack and its guard
 * page), "sigaltstack", "pthread_key_create"/"pthread_setspecific" (its release at thread exit). */
cordon_status cordon__sys_trap_run(void (*fn)(void *ctx), void *ctx, cordon__sys_trap_info *out);

/* Alternate signal stacks mapped by cordon__sys_trap_run and not yet released (for tests: a thread
 * that exits gives its stack back). On Windows: per-thread trap states not yet released. */
uint64_t cordon__sys_trap_altstacks_live(void);

/* ===================================================================================================
 * OpenCL and CLBlast (opencl.c): added by the OpenCL device kind (src/compute/opencl/).
 *
 * Present when the build found the OpenCL ICD loader and CLBlast (CORDON_HAVE_OPENCL); otherwise
 * cordon__sys_cl_available() is false and every call below is CORDON_BACKEND_UNAVAILABLE.
 *
 * Objects are opaque handles (no cl_* type crosses this contract). Each one owns exactly one OpenCL
 * object: one acquire (a clCreate* call) and one release (the matching *_release / close), counted per
 * type (cordon__sys_cl_counts) so that tests can prove the balance. A queue is one context on one
 * device with one in-order command queue; buffers, programs and kernels belong to the queue that made
 * them and must be released before it is closed.
 *
 * Threads: a queue may be used from several threads (OpenCL command queues are thread-safe), but a
 * kernel object holds its arguments, so cordon__sys_cl_kernel_run on one kernel must not run on two
 * threads at once (the caller serialises). Enqueued work runs in submission order; nothing here waits
 * for it except finish, buffer_read, buffer_write and close.
 *
 * Errors: an OpenCL or CLBlast error code is recorded as the error code with the call's name
 * (cordon_last_os_error(): call "clCreateBuffer", code -4; cordon_format_os_error names it
 * CL_MEM_OBJECT_ALLOCATION_FAILURE) and mapped to a status: CL_OUT_OF_HOST_MEMORY → OUT_OF_MEMORY,
 * CL_MEM_OBJECT_ALLOCATION_FAILURE / CL_OUT_OF_RESOURCES → OUT_OF_RESOURCES, CL_DEVICE_NOT_FOUND /
 * no platform → BACKEND_UNAVAILABLE, anything else → OS_ERROR. Injected faults (fault.h) take a CL code
 * as their error value.
 * =================================================================================================== */

typedef struct cordon__sys_cl_queue cordon__sys_cl_queue;
typedef struct cordon__sys_cl_buffer cordon__sys_cl_buffer;
typedef struct cordon__sys_cl_program cordon__sys_cl_program;
typedef struct cordon__sys_cl_kernel cordon__sys_cl_kernel;

/* The object types counted by cordon__sys_cl_counts. */
typedef enum cordon__sys_cl_object {
    CORDON__CL_CONTEXT = 0,
    CORDON__CL_QUEUE = 1,
    CORDON__CL_BUFFER = 2,
    CORDON__CL_PROGRAM = 3,
    CORDON__CL_KERNEL = 4,
    CORDON__CL_OBJECT_TYPES = 5
} cordon__sys_cl_object;

typedef struct cordon__sys_cl_counters {
    uint64_t acquired[CORDON__CL_OBJECT_TYPES];
    uint64_t released[CORDON__CL_OBJECT_TYPES];
    /* Contexts whose reference count was above 1 when cordon released its reference (someone else,
     * such as a library cache, still held it): 0 when every object of every context was released. */
    uint64_t contexts_still_referenced;
    /* Release calls the implementation refused (never expected: the objects are valid). */
    uint64_t release_failures;
} cordon__sys_cl_counters;

/* Is OpenCL built in? */
bool cordon__sys_cl_available(void);

/* The name of an OpenCL or CLBlast error code ("CL_OUT_OF_RESOURCES"), or "CL_UNKNOWN_ERROR". Static. */
const char *cordon__sys_cl_error_name(int code);

/* Every counter since the process started (process-wide, atomic reads). */
void cordon__sys_cl_counts(cordon__sys_cl_counters *out);

/* One OpenCL device as enumerated: platform index p, device index d within it. */
typedef struct cordon__sys_cl_device_desc {
    unsigned platform, device;
    char platform_name[64];
    char name[96];
    char version[64];       /* CL_DEVICE_VERSION */
    bool gpu;               /* CL_DEVICE_TYPE_GPU */
    bool fp64;              /* cl_khr_fp64 among the extensions */
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    size_t max_work_group;  /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    unsigned compute_units;
} cordon__sys_cl_device_desc;

/* Enumerates up to cap devices over every platform (at most 16 platforms and 16 devices each) into
 * list, in platform then device order, and the number found into *count_out (which may exceed cap).
 * No platform installed is CORDON_OK with 0 devices. list may be NULL when cap is 0. */
cordon_status cordon__sys_cl_devices(cordon__sys_cl_device_desc *list, size_t cap, size_t *count_out);

/* Opens device d of platform p: a context and one in-order command queue. On success *out owns both
 * until cordon__sys_cl_close. CORDON_INVALID_ARGUMENT for indices that name no device. */
cordon_status cordon__sys_cl_open(unsigned platform, unsigned device, cordon__sys_cl_queue **out);

/* Releases the queue and the context, after dropping CLBlast's cached programs (which hold references
 * to the context). The caller waited for the queue's work (cordon__sys_cl_finish), and every buffer,
 * program and kernel made on it was released. The objects are released on every path (a failure to
 * clear CLBlast's cache is returned, recorded as "CLBlastClearCache"): after this call the handle is
 * gone. */
cordon_status cordon__sys_cl_close(cordon__sys_cl_queue *q);

/* Submits the queued work to the device without waiting (clFlush). */
cordon_status cordon__sys_cl_flush(cordon__sys_cl_queue *q);
/* Waits until every command queued on q has completed (clFinish). */
cordon_status cordon__sys_cl_finish(cordon__sys_cl_queue *q);

/* A device buffer of bytes (> 0) bytes, read-write, contents unspecified. Owned by the caller until
 * cordon__sys_cl_buffer_release. */
cordon_status cordon__sys_cl_buffer_create(cordon__sys_cl_queue *q, size_t bytes, cordon__sys_cl_buffer **out);
/* Releases the buffer. Commands already queued that use it still complete (OpenCL keeps the memory
 * until they do); NULL is ignored. */
void cordon__sys_cl_buffer_release(cordon__sys_cl_buffer *b);
/* Its size in bytes. */
size_t cordon__sys_cl_buffer_size(const cordon__sys_cl_buffer *b);
/* Blocking transfers of [offset, offset + bytes) (inside the buffer: checked, INVALID_ARGUMENT), after
 * every command queued before them. */
cordon_status cordon__sys_cl_buffer_write(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                          size_t bytes, const void *src);
cordon_status cordon__sys_cl_buffer_read(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes, void *dst);
/* Queues zeroing of [offset, offset + bytes) (multiples of 4, inside the buffer). */
cordon_status cordon__sys_cl_buffer_zero(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes);

/* Builds a program from the concatenation of count (>= 1, <= 64) NUL-terminated source strings with the
 * build options (NUL-terminated) for q's device. A compiler error is CORDON_OS_ERROR ("clBuildProgram",
 * CL_BUILD_PROGRAM_FAILURE). Owned until _program_release. */
cordon_status cordon__sys_cl_program_build(cordon__sys_cl_queue *q, const char *const *sources, unsigned count,
                                           const char *options, cordon__sys_cl_program **out);
void cordon__sys_cl_program_release(cordon__sys_cl_program *p);

/* A kernel of a built program, with the largest work-group size it can run with on the device. */
cordon_status cordon__sys_cl_kernel_create(cordon__sys_cl_program *p, const char *name, cordon__sys_cl_kernel **out,
                                           size_t *max_work_group_out);
void cordon__sys_cl_kernel_release(cordon__sys_cl_kernel *k);

/* One kernel argument: a buffer (buffer non-NULL), a value of size bytes copied at the call (value
 * non-NULL), or local memory of size bytes (both NULL). */
typedef struct cordon__sys_cl_arg {
    const cordon__sys_cl_buffer *buffer;
    const void *value;
    size_t size;
} cordon__sys_cl_arg;

/* Sets the kernel's arguments and queues it over a 1-D range of `groups` work-groups of `local`
 * work-items (both > 0). Returns once queued. The kernel must not be run on two threads at once. */
cordon_status cordon__sys_cl_kernel_run(cordon__sys_cl_queue *q, cordon__sys_cl_kernel *k,
                                        const cordon__sys_cl_arg *args, unsigned nargs, size_t groups, size_t local);

/* CLBlast, queued on q. Row-major; offsets and leading dimensions in elements. C (m × n) = alpha·op(A)·
 * op(B) + beta·C; A is m × k (k × m stored when trans_a), B is k × n (n × k stored when trans_b). Every
 * element addressed must lie inside its buffer (checked: INVALID_ARGUMENT, no call made). */
cordon_status cordon__sys_cl_sgemm(cordon__sys_cl_queue *q, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                                   float alpha, const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *b, size_t b_off, size_t ldb, float beta,
                                   cordon__sys_cl_buffer *c, size_t c_off, size_t ldc);
/* y = alpha·op(A)·x + beta·y; A rows × cols (lda); x and y with element increments incx, incy (>= 1). */
cordon_status cordon__sys_cl_sgemv(cordon__sys_cl_queue *q, bool trans, size_t rows, size_t cols, float alpha,
                                   const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *x, size_t x_off, size_t incx, float beta,
                                   cordon__sys_cl_buffer *y, size_t y_off, size_t incy);

#endif /* CORDON_SYS_H */
