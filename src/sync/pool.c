/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the thread pool (handles with table tag 4).
 *
 * Dispatch: the caller writes the job, opens it (accepting = 1), bumps the generation word `gen`, and wakes
 * parked workers only if `sleepers` says some are parked — back-to-back jobs reach spinning workers
 * with no system call. The chunks are dealt in contiguous slices, one per thread: the caller's is the first,
 * worker i's the (i + 1)-th. Each thread claims chunk numbers from its own slice by fetch-and-add, then
 * from the other slices in turn, so a late or descheduled worker's chunks are run by the others, and
 * when nobody is late a thread runs the same chunks from job to job (the same rows of a chain of small
 * ops stay in the L2 of the core that wrote them). The caller closes the job (accepting = 0) and waits
 * until no worker is inside it (in_job == 0); only then may the job's fields be written again.
 *
 * Interleavings this prevents:
 *  - A worker reading a job being rewritten: a worker announces itself (in_job++) BEFORE it checks
 *    open, and the caller closes BEFORE it checks in_job (all sequentially consistent): either the
 *    worker sees the job closed and leaves without reading it, or the caller sees the worker and waits
 *    for it. A late worker of an old generation that slips into a newer open job runs that job's
 *    chunks correctly: it reads the fields only after seeing accepting, and they are stable while it is in.
 *  - A lost worker wakeup: a worker increments `sleepers` and then parks only while gen == the value
 *    it saw; the caller bumps gen and then reads sleepers. If it reads 0, the worker's park compares
 *    against the bumped gen and returns at once.
 *  - A lost caller wakeup: the caller sets caller_parked and parks only while in_job equals what it
 *    read; the worker leaving last decrements in_job and then reads caller_parked.
 *  - Destroy while a parallel-for of the pool is in flight on any thread (a nested task of another
 *    pool running on that pool's worker included): every parallel-for counts itself in `busy` and then
 *    checks its handle again before it uses the pool; destroy claims the handle first (no new lookup
 *    succeeds, and of two racing destroys only one gets the object) and then reads `busy`, with a
 *    sequentially consistent fence on each side. Either destroy sees the parallel-for and refuses
 *    (WRONG_STATE, the claim undone), or the parallel-for sees the claim and returns STALE without
 *    running anything. A destroy from one of the pool's own workers is always inside one of its tasks,
 *    hence refused the same way (and `own_pool` refuses it even so: the worker would join itself).
 *    A call that looked the pool up on another thread just before destroy freed it touches only the
 *    type-stable object (see pool_obj) and returns STALE.
 *  - Deadlock between nested pools. Blocking on a submit lock from inside a task closes cycles such
 *    as A -> B -> A over two 2-thread pools: the main thread holds A's lock and, inside A's task, waits
 *    for B's lock; A's worker holds B's lock and waits for B's worker to leave B's job; B's worker,
 *    inside B's task, waits for A's lock. The rule: a thread inside any pool task never waits for a
 *    submit lock; it try-locks, and if the lock is taken it runs the whole range inline. (A nested
 *    parallel-for on the pool whose task is running always finds the lock taken.) The only waits left
 *    are a lock holder waiting for its own pool's workers to leave its job, and top-level callers (in
 *    no task, so nobody waits for them) waiting for a lock. A worker inside job L that holds lock M took
 *    M after L's holder took L; along any chain of waits the lock acquisition times strictly increase,
 *    so no chain closes into a cycle. */
#include "cordon/thread.h"

#include "core/handle.h"
#include "core/objpool.h"
#include "sync/sync_internal.h"
#include "cordon/sync.h"

#define WORKER_SPIN 20000 /* pause rounds a worker polls for the next job before parking */
#define CALLER_SPIN 20000 /* pause rounds the caller polls for the last worker before parking */
#define MISSES_BEFORE_YIELD 8u

/* One thread's slice of a job's chunks, [next, end), on a cache line of its own: claimed by fetch-and-
 * add on `next` (by its owner first, then by the others), a claimed number at or past `end` ends it. */
typedef struct pool_slice {
    _Alignas(64) size_t next; /* atomic */
    size_t start, end;
} pool_slice;

/* Pool objects are type-stable (core/objpool.h): a parallel-for or size query that looked the handle up
 * just before a destroy touches this memory after the destroy at worst as another pool_obj, counts
 * itself in and out of `busy` (never reset on reuse), and finds the handle stale on its second lookup.
 * `workers` is read that way too, so it is accessed atomically. Fields are grouped by who writes them,
 * one cache line per group, so that the caller's writes when it opens a job do not each pull back a line
 * that a spinning worker has just read. */
typedef struct pool_obj {
    /* The pool itself, and what only callers write. */
    void *pool_link; /* the object pool's free-list link */
    unsigned workers;
    uint32_t busy; /* parallel-fors of this pool in flight, on any thread */
    cordon__sys_thread **threads;
    void *slices_mem; /* holds `slices` (workers + 1 of them), aligned in it */
    pool_slice *slices;
    cordon_mutex submit; /* one job at a time */
    uint32_t started;    /* workers that have taken their index (worker i takes slice i + 1) */
    unsigned misses;     /* jobs in a row where the caller ran the start of a worker's slice */
    /* What the workers spin on. */
    _Alignas(64) uint32_t gen; /* futex: bumped for every job and for shutdown */
    uint32_t sleepers;         /* workers parked (or about to park) on gen */
    int caller_cpu;            /* atomic: the processor the last job was opened on (-1: not known) */
    /* The job: written by the caller only while accepting == 0 and in_job == 0 (but `failed` and
     * `first_error`, by the task that fails first). */
    _Alignas(64) uint32_t accepting; /* the current job accepts workers */
    uint32_t shutdown;
    uint32_t failed; /* a task failed: stop claiming chunks */
    cordon_status first_error;
    cordon_pool_task task;
    void *ctx;
    size_t begin, end, chunk, nchunks;
    /* What the workers write as they enter and leave a job. */
    _Alignas(64) uint32_t in_job; /* futex: workers that may be reading the current job */
    uint32_t caller_parked;       /* the caller is (about to be) parked on in_job */
} pool_obj;

static cordon__handle_table pools = CORDON__HANDLE_TABLE_INIT(4);
static cordon__objpool pool_objects = CORDON__OBJPOOL_INIT(sizeof(pool_obj));

static unsigned workers_of(pool_obj *p) {
    return __atomic_load_n(&p->workers, __ATOMIC_RELAXED);
}

/* A pool object with every field zero but `busy` and `workers`, which a stale caller may still be
 * touching (atomically). */
static cordon_status new_pool_obj(pool_obj **out) {
    void *mem = NULL;
    cordon_status st = cordon__objpool_get(&pool_objects, &mem);
    if (st != CORDON_OK) {
        return st;
    }
    pool_obj *p = (pool_obj *)mem;
    /* From `threads` on; `workers` is stored atomically by the caller. */
    size_t from = offsetof(pool_obj, threads);
    memset((char *)p + from, 0, sizeof *p - from);
    *out = p;
    return CORDON_OK;
}

/* How many pool tasks (of any pool) this thread is running, nested: nonzero means a wait for a
 * submit lock could close a cycle, so a parallel-for only try-locks. */
static _Thread_local unsigned task_depth;

/* The pool this thread is a worker of (NULL on other threads): destroying it here would join itself.
 * Compared, never dereferenced. */
static _Thread_local const pool_obj *own_pool;

static cordon_status as_status(cordon_status s) {
    return (int)s >= 0 && (int)s < CORDON_STATUS_COUNT ? s : CORDON_TASK_FAILED;
}

/* Runs chunk c of the open job. */
static void run_chunk(pool_obj *p, size_t c) {
    size_t i0 = p->begin + c * p->chunk;
    size_t i1 = p->end - i0 > p->chunk ? i0 + p->chunk : p->end;
    cordon_status st = p->task(p->ctx, i0, i1);
    if (st != CORDON_OK) {
        uint32_t zero = 0;
        if (CAS(&p->failed, &zero, 1u)) {
            p->first_error = as_status(st);
        }
    }
}

/* Claims and runs chunks of the open job, from slice `self` first and then from the others in turn,
 * until none are left or a task has failed. Returns whether this thread ran the first chunk of another
 * thread's slice: that thread had not started its part by then. */
static bool run_chunks(pool_obj *p, unsigned self) {
    unsigned nslices = workers_of(p) + 1u;
    bool took_a_start = false;
    for (unsigned k = 0; k < nslices; k++) {
        pool_slice *s = &p->slices[(self + k) % nslices];
        for (;;) {
            if (LOAD_RELAXED(&p->failed) != 0) {
                return took_a_start;
            }
            /* A look before the claim: another thread's slice that is spent is read, not taken over. */
            if (__atomic_load_n(&s->next, __ATOMIC_RELAXED) >= s->end) {
                break;
            }
            size_t c = __atomic_fetch_add(&s->next, (size_t)1, __ATOMIC_RELAXED);
            if (c >= s->end) {
                break;
            }
            took_a_start = took_a_start || (k != 0 && c == s->start);
            run_chunk(p, c);
        }
    }
    return took_a_start;
}

static void worker_join_job(pool_obj *p, unsigned self) {
    FETCH_ADD(&p->in_job, 1u);
    if (LOAD(&p->accepting) != 0) {
        task_depth++;
        (void)run_chunks(p, self);
        task_depth--;
    }
    if (FETCH_SUB(&p->in_job, 1u) == 1u && LOAD(&p->caller_parked) != 0) {
        cordon__unpark(&p->in_job, 1u);
    }
}

/* A worker that finds itself on the processor its caller opened the job on moves to another one. The
 * scheduler puts a new thread, or one it wakes, beside the thread that started or woke it when it judges
 * that cheaper; with a spinning caller the two then take turns on one processor (each job slower than on
 * one thread) until the load balancer separates them, which was seen to take 40 ms on a 2-CPU VM.
 * Gives up for good (`stay`) when the OS cannot move threads or refuses. */
static void avoid_caller_cpu(pool_obj *p, bool *stay) {
    int caller = __atomic_load_n(&p->caller_cpu, __ATOMIC_RELAXED);
    if (*stay || caller < 0 || cordon__sys_current_cpu() != caller) {
        return;
    }
    if (cordon__sys_thread_leave_cpu(caller) != CORDON_OK) {
        *stay = true;
    }
}

static void worker_main(void *arg) {
    pool_obj *p = (pool_obj *)arg;
    own_pool = p;
    bool stay = false;
    unsigned self = FETCH_ADD(&p->started, 1u) + 1u; /* slice 0 is the caller's */
    uint32_t seen = 0; /* gen starts at 0 and nothing is published before the workers exist */
    for (;;) {
        uint32_t g = LOAD(&p->gen);
        for (int i = 0; i < WORKER_SPIN && g == seen; i++) {
            cordon__cpu_relax();
            g = LOAD_RELAXED(&p->gen);
        }
        while (g == seen) {
            FETCH_ADD(&p->sleepers, 1u);
            (void)cordon__park(&p->gen, seen, CORDON__SYS_FOREVER);
            FETCH_SUB(&p->sleepers, 1u);
            g = LOAD(&p->gen);
        }
        seen = g;
        /* The lines the next steps read, fetched side by side instead of one miss after another. */
        __builtin_prefetch(&p->in_job, 1);
        __builtin_prefetch(&p->slices[self], 1);
        __builtin_prefetch(&p->accepting, 0);
        if (LOAD(&p->shutdown) != 0) {
            return;
        }
        avoid_caller_cpu(p, &stay);
        worker_join_job(p, self);
    }
}

/* Stops and joins the first n workers. A failing join (never seen outside fault injection) is retried:
 * returning with a worker still running would leave it reading freed memory. */
static void stop_workers(pool_obj *p, unsigned n) {
    STORE(&p->shutdown, 1u);
    FETCH_ADD(&p->gen, 1u);
    cordon__unpark(&p->gen, UINT32_MAX);
    for (unsigned i = 0; i < n; i++) {
        while (cordon__sys_thread_join(p->threads[i]) != CORDON_OK) {
            cordon__sys_thread_yield();
        }
    }
}

/* The worker handles and the chunk slices (one per thread, each on its own cache line). */
static cordon_status alloc_arrays(pool_obj *p) {
    void *arr = NULL;
    cordon_status st = cordon__sys_alloc(p->workers * sizeof(cordon__sys_thread *), &arr);
    if (st != CORDON_OK) {
        return st;
    }
    size_t align = _Alignof(pool_slice);
    void *mem = NULL;
    st = cordon__sys_alloc(((size_t)p->workers + 1u) * sizeof(pool_slice) + align - 1u, &mem);
    if (st != CORDON_OK) {
        cordon__sys_free(arr);
        return st;
    }
    p->threads = (cordon__sys_thread **)arr;
    p->slices_mem = mem;
    p->slices = (pool_slice *)(void *)((char *)mem + (align - (uintptr_t)mem % align) % align);
    return CORDON_OK;
}

static void free_arrays(pool_obj *p) {
    cordon__sys_free(p->threads);
    cordon__sys_free(p->slices_mem);
    p->threads = NULL;
    p->slices_mem = NULL;
    p->slices = NULL;
}

cordon_status cordon_pool_create(unsigned threads, cordon_pool *out) {
    if (out == NULL || threads > CORDON_POOL_MAX_THREADS) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (threads == 0) {
        unsigned online = 0;
        cordon_status st = cordon__sys_cpu_counts(&online, &threads);
        if (st != CORDON_OK) {
            return st;
        }
        threads = threads == 0 ? 1u : threads > CORDON_POOL_MAX_THREADS ? CORDON_POOL_MAX_THREADS : threads;
    }
    pool_obj *p = NULL;
    cordon_status st = new_pool_obj(&p);
    if (st != CORDON_OK) {
        return st;
    }
    __atomic_store_n(&p->workers, threads - 1u, __ATOMIC_RELAXED);
    if (p->workers > 0) {
        st = alloc_arrays(p);
        if (st != CORDON_OK) {
            cordon__objpool_put(&pool_objects, p);
            return st;
        }
    }
    for (unsigned i = 0; i < p->workers; i++) {
        st = cordon__sys_thread_spawn(worker_main, p, &p->threads[i]);
        if (st != CORDON_OK) {
            stop_workers(p, i);
            free_arrays(p);
            cordon__objpool_put(&pool_objects, p);
            return st;
        }
    }
    uint64_t handle = 0;
    st = cordon__handle_insert(&pools, p, &handle);
    if (st != CORDON_OK) {
        stop_workers(p, p->workers);
        free_arrays(p);
        cordon__objpool_put(&pool_objects, p);
        return st;
    }
    out->handle = handle;
    return CORDON_OK;
}

cordon_status cordon_pool_size(cordon_pool pool, unsigned *threads_out) {
    void *obj = NULL;
    if (threads_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = cordon__handle_lookup(&pools, pool.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    unsigned workers = workers_of((pool_obj *)obj);
    /* The object may have been destroyed and reused after the lookup: confirm the handle is still live. */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    void *again = NULL;
    st = cordon__handle_lookup(&pools, pool.handle, &again);
    if (st != CORDON_OK || again != obj) {
        return st != CORDON_OK ? st : CORDON_STALE;
    }
    *threads_out = workers + 1u;
    return CORDON_OK;
}

static cordon_status run_inline(size_t begin, size_t end, size_t chunk, cordon_pool_task task, void *ctx) {
    task_depth++;
    cordon_status st = CORDON_OK;
    for (size_t i0 = begin; i0 < end && st == CORDON_OK;) {
        size_t i1 = end - i0 > chunk ? i0 + chunk : end;
        st = as_status(task(ctx, i0, i1));
        i0 = i1;
    }
    task_depth--;
    return st;
}

/* The caller's wait for the workers still inside the closed job. */
static void wait_workers_out(pool_obj *p) {
    for (int i = 0; i < CALLER_SPIN; i++) {
        if (LOAD(&p->in_job) == 0) {
            return;
        }
        cordon__cpu_relax();
    }
    STORE(&p->caller_parked, 1u);
    for (uint32_t v = LOAD(&p->in_job); v != 0; v = LOAD(&p->in_job)) {
        (void)cordon__park(&p->in_job, v, CORDON__SYS_FOREVER);
    }
    STORE(&p->caller_parked, 0u);
}

/* Runs the job with p's submit lock held by this thread. */
static cordon_status run_job(pool_obj *p, size_t begin, size_t end, size_t chunk, cordon_pool_task task, void *ctx) {
    size_t n = end - begin;
    p->task = task;
    p->ctx = ctx;
    p->begin = begin;
    p->end = end;
    p->chunk = chunk;
    p->nchunks = n / chunk + (n % chunk != 0);
    p->first_error = CORDON_OK;
    __atomic_store_n(&p->failed, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&p->caller_cpu, cordon__sys_current_cpu(), __ATOMIC_RELAXED);
    /* Slice t: chunks [nchunks / T * t + min(t, nchunks % T), ...), sizes differing by at most one. */
    size_t nslices = (size_t)p->workers + 1u, per = p->nchunks / nslices, extra = p->nchunks % nslices;
    for (size_t t = 0, c = 0; t < nslices; t++) {
        size_t len = per + (t < extra ? 1u : 0u);
        __atomic_store_n(&p->slices[t].next, c, __ATOMIC_RELAXED);
        p->slices[t].start = c;
        p->slices[t].end = c + len;
        c += len;
    }
    /* Release: a worker that sees the job open sees its fields. (Closing it is sequentially consistent,
     * against in_job; see the top.) */
    STORE_RELEASE(&p->accepting, 1u);
    FETCH_ADD(&p->gen, 1u);
    if (LOAD(&p->sleepers) != 0) {
        cordon__unpark(&p->gen, UINT32_MAX);
    }
    task_depth++;
    bool took_a_start = run_chunks(p, 0u);
    task_depth--;
    STORE(&p->accepting, 0u);
    wait_workers_out(p);
    /* A worker that has not started its part of MISSES_BEFORE_YIELD jobs in a row may be runnable on
     * this very processor, waiting for it (see avoid_caller_cpu): give it the processor once. */
    p->misses = took_a_start ? p->misses + 1u : 0u;
    if (p->misses >= MISSES_BEFORE_YIELD) {
        p->misses = 0;
        cordon__sys_thread_yield();
    }
    return p->first_error;
}

/* With p counted busy: inline, or as one job of the pool. */
static cordon_status parallel_for_busy(pool_obj *p, size_t begin, size_t end, size_t chunk, cordon_pool_task task,
                                       void *ctx) {
    size_t n = end - begin;
    if (chunk == 0) {
        size_t pieces = (size_t)(p->workers + 1u) * 4u;
        chunk = n / pieces + (n % pieces != 0);
    }
    if (p->workers == 0) {
        return run_inline(begin, end, chunk, task, ctx);
    }
    if (task_depth != 0) {
        /* Inside a task: never wait for a submit lock (see the deadlock rule at the top). */
        if (cordon_mutex_trylock(&p->submit) != CORDON_OK) {
            return run_inline(begin, end, chunk, task, ctx);
        }
    } else if (cordon_mutex_lock(&p->submit) != CORDON_OK) {
        return CORDON_INVALID_ARGUMENT; /* unreachable: the mutex is valid */
    }
    cordon_status st = run_job(p, begin, end, chunk, task, ctx);
    if (cordon_mutex_unlock(&p->submit) != CORDON_OK) {
        return CORDON_WRONG_STATE; /* unreachable: this thread holds it */
    }
    return st;
}

cordon_status cordon_pool_parallel_for(cordon_pool pool, size_t begin, size_t end, size_t chunk, cordon_pool_task task,
                                       void *ctx) {
    void *obj = NULL;
    if (task == NULL || end < begin) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = cordon__handle_lookup(&pools, pool.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    if (end == begin) {
        return CORDON_OK;
    }
    pool_obj *p = (pool_obj *)obj;
    FETCH_ADD(&p->busy, 1u);
    /* Pairs with the fence in cordon_pool_destroy: either destroy sees busy != 0, or this lookup sees
     * its claim. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    void *again = NULL;
    st = cordon__handle_lookup(&pools, pool.handle, &again);
    if (st == CORDON_OK && again != obj) {
        st = CORDON_STALE;
    }
    if (st == CORDON_OK) {
        st = parallel_for_busy(p, begin, end, chunk, task, ctx);
    }
    FETCH_SUB(&p->busy, 1u);
    return st;
}

/* The default pool's handle: 0 until created, then fixed for the life of the process. Written once,
 * under default_lock, with release; read with acquire, so a reader that sees it sees a live pool. */
static uint64_t default_handle;
static cordon_mutex default_lock = CORDON_MUTEX_INIT;

cordon_status cordon_pool_default(cordon_pool *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t h = __atomic_load_n(&default_handle, __ATOMIC_ACQUIRE);
    if (h == 0) {
        cordon_mutex_lock(&default_lock);
        h = __atomic_load_n(&default_handle, __ATOMIC_RELAXED);
        if (h == 0) {
            cordon_pool created = {0};
            cordon_status st = cordon_pool_create(0, &created);
            if (st != CORDON_OK) {
                cordon_mutex_unlock(&default_lock);
                return st;
            }
            h = created.handle;
            __atomic_store_n(&default_handle, h, __ATOMIC_RELEASE);
        }
        cordon_mutex_unlock(&default_lock);
    }
    out->handle = h;
    return CORDON_OK;
}

/* A reduction runs as a parallel-for whose task fills the chunk's slot. */
typedef struct reduce_job {
    cordon_pool_chunk_fn task;
    void *ctx;
    unsigned char *slots; /* chunk k's slot at k * stride; NULL when the result is empty */
    size_t stride, begin, chunk;
    int32_t code; /* atomic: the first nonzero code a task returned */
} reduce_job;

static cordon_status reduce_chunk(void *arg, size_t i0, size_t i1) {
    reduce_job *j = (reduce_job *)arg;
    void *slot = j->slots != NULL ? j->slots + ((i0 - j->begin) / j->chunk) * j->stride : NULL;
    int32_t code = j->task(j->ctx, i0, i1, slot);
    if (code == 0) {
        return CORDON_OK;
    }
    int32_t zero = 0;
    (void)CAS(&j->code, &zero, code);
    return CORDON_TASK_FAILED;
}

cordon_status cordon_pool_parallel_reduce(cordon_pool pool, size_t begin, size_t end, size_t chunk,
                                          cordon_pool_chunk_fn task, cordon_pool_combine_fn combine, void *ctx,
                                          void *result, size_t result_size, int32_t *task_code_out) {
    if (task == NULL || end < begin || (result_size > 0 && (result == NULL || combine == NULL))) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&pools, pool.handle, &obj);
    if (st != CORDON_OK || end == begin) {
        return st;
    }
    size_t n = end - begin;
    if (chunk == 0) {
        chunk = n / CORDON_POOL_REDUCE_CHUNKS + (n % CORDON_POOL_REDUCE_CHUNKS != 0);
    }
    size_t nchunks = n / chunk + (n % chunk != 0);
    reduce_job job = {.task = task, .ctx = ctx, .slots = NULL, .stride = 0, .begin = begin, .chunk = chunk, .code = 0};
    if (result_size > 0) {
        /* Slots aligned for any type, so a slot may hold a double or a struct. */
        size_t align = _Alignof(max_align_t);
        if (result_size > SIZE_MAX - (align - 1)) {
            return CORDON_OVERFLOW;
        }
        job.stride = (result_size + align - 1) / align * align;
        if (nchunks > SIZE_MAX / job.stride) {
            return CORDON_OVERFLOW;
        }
        void *mem = NULL;
        st = cordon__sys_alloc(nchunks * job.stride, &mem);
        if (st != CORDON_OK) {
            return st;
        }
        job.slots = (unsigned char *)mem;
        for (size_t k = 0; k < nchunks; k++) {
            memcpy(job.slots + k * job.stride, result, result_size);
        }
    }
    st = cordon_pool_parallel_for(pool, begin, end, chunk, reduce_chunk, &job);
    if (st == CORDON_OK) {
        for (size_t k = 0; k < nchunks && job.slots != NULL; k++) {
            combine(ctx, result, job.slots + k * job.stride);
        }
    } else if (st == CORDON_TASK_FAILED && task_code_out != NULL) {
        *task_code_out = __atomic_load_n(&job.code, __ATOMIC_RELAXED);
    }
    cordon__sys_free(job.slots);
    return st;
}

static cordon_status destroy_pool(cordon_pool pool) {
    void *obj = NULL;
    /* Claimed first: of two racing destroys only one reaches the object, and no parallel-for can
     * start (its handle check fails) while busy is read. */
    cordon_status st = cordon__handle_claim(&pools, pool.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    pool_obj *p = (pool_obj *)obj;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (LOAD(&p->busy) != 0 || own_pool == p) {
        cordon__handle_unclaim(&pools, pool.handle);
        return CORDON_WRONG_STATE;
    }
    cordon__handle_finish(&pools, pool.handle);
    stop_workers(p, p->workers);
    free_arrays(p);
    cordon__objpool_put(&pool_objects, p);
    return CORDON_OK;
}

cordon_status cordon_pool_destroy(cordon_pool pool) {
    if (pool.handle != 0 && pool.handle == __atomic_load_n(&default_handle, __ATOMIC_ACQUIRE)) {
        return CORDON_WRONG_STATE;
    }
    return destroy_pool(pool);
}

cordon_status cordon__pool_default_shutdown(void) {
    cordon_mutex_lock(&default_lock);
    cordon_pool pool = {__atomic_load_n(&default_handle, __ATOMIC_RELAXED)};
    cordon_status st = pool.handle != 0 ? destroy_pool(pool) : CORDON_OK;
    if (st == CORDON_OK) {
        __atomic_store_n(&default_handle, (uint64_t)0, __ATOMIC_RELEASE);
    }
    cordon_mutex_unlock(&default_lock);
    return st;
}
