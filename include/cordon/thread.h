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
 * CORDON_STALE when already joined or detached, or for the handle 0. May be called by the thread
 * itself.
 * Thread safety: as for cordon_thread_join. */
CORDON_API CORDON_NODISCARD cordon_status cordon_thread_detach(cordon_thread t);

/* ------------------------------------------------------------------------------------------------
 * Thread pool for compute kernels: parallel-for over an index range, split into chunks that the
 * workers and the calling thread take in turn. Workers park on a futex between jobs, after a brief
 * spin, so back-to-back kernels of a few microseconds dispatch without a system call. */
typedef struct cordon_pool {
    uint64_t handle; /* private; 0 is never a live pool (CORDON_STALE) */
} cordon_pool;

/* A task: processes indices [begin, end) and returns CORDON_OK or the status of its failure. */
typedef cordon_status (*cordon_pool_task)(void *ctx, size_t begin, size_t end);

/* Creates a pool whose parallel-for runs on `threads` threads in all, the caller included (threads - 1
 * workers are started); 0 means one per usable CPU. On failure nothing is left running.
 * Thread safety: may be called from any thread. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_create(unsigned threads, cordon_pool *out);

/* Runs task(ctx, i0, i1) over [begin, end) in chunks of `chunk` indices (0: an even split, a few chunks
 * per thread) and returns when every chunk has finished. Each index is in exactly one chunk, each
 * chunk runs exactly once unless a task fails: then chunks not yet started are skipped and the first
 * failure's status (as the task returned it; a task returning a non-status value gives
 * CORDON_TASK_FAILED) is returned. An empty range returns CORDON_OK at once. CORDON_INVALID_ARGUMENT
 * for a NULL task or end < begin; CORDON_STALE for a destroyed pool or the handle 0.
 * Nesting: a parallel-for called from inside a task (of any pool, on any thread) never waits for
 * another job of its pool: if the pool is busy — always the case for the pool whose task is running —
 * it runs its whole range on the calling thread, in chunk order. So pools may be nested in any order
 * and to any depth without deadlock.
 * Thread safety: several threads may call it on one pool; their jobs run one after another. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_parallel_for(cordon_pool pool, size_t begin, size_t end,
                                                                   size_t chunk, cordon_pool_task task, void *ctx);

/* The number of threads a parallel-for uses (workers + the caller). CORDON_INVALID_ARGUMENT for a NULL
 * threads_out; CORDON_STALE for a destroyed pool or the handle 0. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_size(cordon_pool pool, unsigned *threads_out);

/* Stops and joins the workers and releases the pool. May be called from any thread, including one
 * that did not create the pool. CORDON_WRONG_STATE (the pool stays usable) while any
 * cordon_pool_parallel_for of this pool is in flight on any thread — from inside one of its tasks,
 * from one of its workers, from a task of another pool nested inside it, or from an unrelated thread.
 * A second destroy, two racing destroys (all but one), or the handle 0 give CORDON_STALE.
 * While a destroy is deciding, a parallel-for or cordon_pool_size starting on another thread may get
 * CORDON_STALE even if that destroy is then refused; a call that starts on another thread while the
 * pool is being freed is a caller error, as for every handle. */
CORDON_API CORDON_NODISCARD cordon_status cordon_pool_destroy(cordon_pool pool);

CORDON_END_DECLS

#endif /* CORDON_THREAD_H */
