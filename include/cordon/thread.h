/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — threads and a thread pool.
 *
 * Both are generation-checked handles: a value that names a library-owned object. Joining, detaching
 * or destroying twice, or using a handle afterwards, returns CORDON_STALE — never a crash. So does a
 * handle of 0 (a zeroed cordon_thread or cordon_pool), which was never issued.
 * Creation failures (the OS refusing a thread, memory) are statuses, never an abort. */
#ifndef CORDON_THREAD_H
#define CORDON_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* ------------------------------------------------------------------------------------------------
 * Threads. */
typedef struct cordon_thread {
    uint64_t handle; /* private; 0 is never a live thread (CORDON_STALE) */
} cordon_thread;

/* Starts a thread running fn(arg). CORDON_OUT_OF_RESOURCES when the OS refuses a thread,
 * CORDON_OUT_OF_MEMORY when memory runs out; *out is written only on success and must be joined or
 * detached exactly once.
 * Thread safety: may be called from any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_thread_spawn(void (*fn)(void *arg), void *arg, cordon_thread *out);

/* Waits for the thread to finish and releases it. CORDON_WRONG_STATE when called by the thread
 * itself; CORDON_STALE when already joined or detached, or for the handle 0.
 * Thread safety: any thread other than t may join it, once; joining the same handle from two threads
 * at once is a caller error (one of them gets CORDON_STALE or both block on the same thread). */
CORDON_API CORDON_NODISCARD cordon_status cordon_thread_join(cordon_thread t);

/* Lets the thread finish on its own; its handle becomes stale (joining it then gives CORDON_STALE).
 * CORDON_STALE when already joined or detached, or for the handle 0 (a caller bug: the status may be
 * ignored). May be called by the thread itself.
 * Thread safety: as for cordon_thread_join. */
CORDON_API cordon_status cordon_thread_detach(cordon_thread t);

/* ------------------------------------------------------------------------------------------------
 * Thread pool for compute kernels: parallel-for over an index range, split into chunks that the
 * workers and the calling thread take in turn. Workers park on a futex between jobs, after a brief
 * spin, so back-to-back kernels of a few microseconds dispatch without a system call. */
typedef struct cordon_pool {
    uint64_t handle; /* private; 0 is never a live pool (CORDON_STALE) */
} cordon_pool;

/* A task: processes indices [begin, end) and returns CORDON_OK or the status of its failure. */
typedef cordon_status (*cordon_pool_task)(void *ctx, size_t begin, size_t end);

/* The most threads a pool may have, the caller included. */
#define CORDON_POOL_MAX_THREADS 1024u

/* Creates a pool whose parallel-for runs on `threads` threads in all, the caller included (threads - 1
 * workers are started); 0 means one per usable CPU (at most CORDON_POOL_MAX_THREADS).
 * CORDON_INVALID_ARGUMENT for a NULL out or threads > CORDON_POOL_MAX_THREADS, before any thread is
 * started. On failure nothing is left running.
 * Thread safety: may be called from any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_create(unsigned threads, cordon_pool *out);

/* The process-wide default pool, one thread per usable CPU (at most CORDON_POOL_MAX_THREADS), created
 * by the first call and then returned by every call. It lives until the process ends: destroying it
 * is CORDON_WRONG_STATE (it stays usable). If creating it fails, that status is returned and the next
 * call tries again. CORDON_INVALID_ARGUMENT for a NULL out.
 * Thread safety: may be called from any thread; concurrent first calls create one pool. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_default(cordon_pool *out);

/* Runs task(ctx, i0, i1) over [begin, end) in chunks of `chunk` indices (0: an even split, a few chunks
 * per thread) and returns when every chunk has finished. Each index is in exactly one chunk, each
 * chunk runs exactly once unless a task fails: then chunks not yet started are skipped and the first
 * failure's status (as the task returned it; a task returning a non-status value gives
 * CORDON_TASK_FAILED) is returned. A task that reports its own error codes is a
 * cordon_pool_chunk_fn run by cordon_pool_parallel_reduce (with or without a result), which hands
 * the code back. An empty range returns CORDON_OK at once. CORDON_INVALID_ARGUMENT
 * for a NULL task or end < begin; CORDON_STALE for a destroyed pool or the handle 0.
 * Nesting: a parallel-for called from inside a task (of any pool, on any thread) never waits for
 * another job of its pool: if the pool is busy — always the case for the pool whose task is running —
 * it runs its whole range on the calling thread, in chunk order. So pools may be nested in any order
 * and to any depth without deadlock.
 * Thread safety: several threads may call it on one pool; their jobs run one after another. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_parallel_for(cordon_pool pool, size_t begin, size_t end,
                                                                   size_t chunk, cordon_pool_task task, void *ctx);

/* A chunk of a reduction: processes [begin, end) into `slot` (result_size bytes, holding a copy of the
 * identity on entry; NULL when result_size is 0). Returns 0 on success, any other value to fail the
 * whole call: that value is handed back as *task_code_out. */
typedef int32_t (*cordon_pool_chunk_fn)(void *ctx, size_t begin, size_t end, void *slot);
/* Folds one chunk's slot into the accumulator: acc = acc (op) slot. */
typedef void (*cordon_pool_combine_fn)(void *ctx, void *acc, const void *slot);

/* Chunks a cordon_pool_parallel_reduce with chunk 0 splits its range into (at most). */
#define CORDON_POOL_REDUCE_CHUNKS 64u

/* Deterministic reduction. On entry *result (result_size bytes) holds the identity. The range is cut
 * into chunks of `chunk` indices (0: ceil((end - begin) / CORDON_POOL_REDUCE_CHUNKS), which does not
 * depend on the pool's size); each chunk gets its own slot, a copy of the identity, which task fills;
 * when every chunk is done the calling thread folds the slots into *result with combine, in chunk
 * order. So for given inputs the result is the same bit for bit on every run, on every pool, whatever
 * the scheduling — also for floating-point sums.
 * Failure: when a task returns nonzero, chunks not yet started are skipped, the call returns
 * CORDON_TASK_FAILED and *task_code_out (may be NULL) receives the value that task returned (of the
 * first task to fail); *result is unchanged. *task_code_out is written only in that case.
 * result_size 0 (result and combine may be NULL) makes this a parallel-for whose tasks return int32
 * codes. An empty range returns CORDON_OK with *result unchanged.
 * CORDON_INVALID_ARGUMENT for a NULL task, end < begin, or result_size > 0 with a NULL result or
 * combine; CORDON_OVERFLOW when the slots' total size overflows; CORDON_OUT_OF_MEMORY when they cannot
 * be allocated (result_size > 0 only); CORDON_STALE as for cordon_pool_parallel_for. Nesting and
 * thread safety as for cordon_pool_parallel_for. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_parallel_reduce(cordon_pool pool, size_t begin, size_t end,
                                                                      size_t chunk, cordon_pool_chunk_fn task,
                                                                      cordon_pool_combine_fn combine, void *ctx,
                                                                      void *result, size_t result_size,
                                                                      int32_t *task_code_out);

/* The number of threads a parallel-for uses (workers + the caller). CORDON_INVALID_ARGUMENT for a NULL
 * threads_out; CORDON_STALE for a destroyed pool or the handle 0. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_size(cordon_pool pool, unsigned *threads_out);

/* Stops and joins the workers and releases the pool. May be called from any thread, including one
 * that did not create the pool. CORDON_WRONG_STATE (the pool stays usable) while any
 * cordon_pool_parallel_for of this pool is in flight on any thread — from inside one of its tasks,
 * from one of its workers, from a task of another pool nested inside it, or from an unrelated thread.
 * The default pool (cordon_pool_default) is never destroyed: CORDON_WRONG_STATE.
 * A second destroy, two racing destroys (all but one), or the handle 0 give CORDON_STALE.
 * While a destroy is deciding, a parallel-for or cordon_pool_size starting on another thread may get
 * CORDON_STALE even if that destroy is then refused; a call that starts on another thread while the
 * pool is being freed is a caller error, as for every handle. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_destroy(cordon_pool pool);

CORDON_END_DECLS

#endif /* CORDON_THREAD_H */
