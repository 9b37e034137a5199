/* cordon — the thread pool (handles with table tag 4).
 *
 * Dispatch: the caller writes the job, opens it (accepting = 1), bumps the generation word `gen`, and wakes
 * parked workers only if `sleepers` says some are parked — back-to-back jobs reach spinning workers
 * with no system call. Everyone, the caller included, then claims chunk numbers from `next_chunk` by
 * fetch-and-add until they run out. The caller closes the job (accepting = 0) and waits until no worker is
 * inside it (in_job == 0); only then may the job's fields be written again.
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
 *  - Destroy from inside a task, or a nested parallel-for on the same pool (which would wait for
 *    itself): refused with WRONG_STATE / run inline on the calling thread. */
#include "cordon/thread.h"

#include "core/handle.h"
#include "sync/sync_internal.h"
#include "cordon/sync.h"

#define WORKER_SPIN 20000 /* pause rounds a worker polls for the next job before parking */
#define CALLER_SPIN 20000 /* pause rounds the caller polls for the last worker before parking */

typedef struct pool_obj {
    unsigned workers;
    cordon__sys_thread **threads;
    cordon_mutex submit; /* one job at a time */
    uint32_t gen;        /* futex: bumped for every job and for shutdown */
    uint32_t sleepers;   /* workers parked (or about to park) on gen */
    uint32_t shutdown;
    uint32_t accepting;          /* the current job accepts workers */
    uint32_t in_job;        /* futex: workers that may be reading the current job */
    uint32_t caller_parked; /* the caller is (about to be) parked on in_job */
    uint32_t failed;        /* a task failed: stop claiming chunks */
    /* The job: written by the caller only while accepting == 0 and in_job == 0. */
    cordon_pool_task task;
    void *ctx;
    size_t begin, end, chunk, nchunks;
    size_t next_chunk; /* atomic */
    cordon_status first_error;
} pool_obj;

static cordon__handle_table pools = CORDON__HANDLE_TABLE_INIT(4);

/* The pools whose tasks this thread is running, innermost first: a worker's own pool at the bottom,
 * then one node per parallel_for on this thread's stack. A parallel_for on a pool in this chain runs
 * inline (taking its submit lock again would deadlock), and destroying a pool in the chain is refused
 * (a parallel_for of it is still running further up the stack, or this is one of its workers). Nodes
 * live on the stack of the frame that pushed them and are popped before it returns. */
typedef struct active_pool {
    pool_obj *pool;
    struct active_pool *outer;
} active_pool;

static _Thread_local active_pool *active_pools;

static bool pool_is_active(const pool_obj *p) {
    for (const active_pool *a = active_pools; a != NULL; a = a->outer) {
        if (a->pool == p) {
            return true;
        }
    }
    return false;
}

static cordon_status as_status(cordon_status s) {
    return (int)s >= 0 && (int)s < CORDON_STATUS_COUNT ? s : CORDON_TASK_FAILED;
}

/* Claims and runs chunks of the open job until none are left or a task has failed. */
static void run_chunks(pool_obj *p) {
    for (;;) {
        if (LOAD_RELAXED(&p->failed) != 0) {
            return;
        }
        size_t c = __atomic_fetch_add(&p->next_chunk, (size_t)1, __ATOMIC_RELAXED);
        if (c >= p->nchunks) {
            return;
        }
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
}

static void worker_join_job(pool_obj *p) {
    FETCH_ADD(&p->in_job, 1u);
    if (LOAD(&p->accepting) != 0) {
        run_chunks(p);
    }
    if (FETCH_SUB(&p->in_job, 1u) == 1u && LOAD(&p->caller_parked) != 0) {
        cordon__unpark(&p->in_job, 1u);
    }
}

static void worker_main(void *arg) {
    pool_obj *p = (pool_obj *)arg;
    active_pool self = {p, NULL}; /* for the worker's whole life */
    active_pools = &self;
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
        if (LOAD(&p->shutdown) != 0) {
            return;
        }
        worker_join_job(p);
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

cordon_status cordon_pool_create(unsigned threads, cordon_pool *out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (threads == 0) {
        unsigned online = 0;
        cordon_status st = cordon__sys_cpu_counts(&online, &threads);
        if (st != CORDON_OK) {
            return st;
        }
    }
    void *mem = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(pool_obj), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    pool_obj *p = (pool_obj *)mem;
    p->workers = threads - 1u;
    if (p->workers > 0) {
        void *arr = NULL;
        st = cordon__sys_alloc(p->workers * sizeof(cordon__sys_thread *), &arr);
        if (st != CORDON_OK) {
            cordon__sys_free(p);
            return st;
        }
        p->threads = (cordon__sys_thread **)arr;
    }
    for (unsigned i = 0; i < p->workers; i++) {
        st = cordon__sys_thread_spawn(worker_main, p, &p->threads[i]);
        if (st != CORDON_OK) {
            stop_workers(p, i);
            cordon__sys_free(p->threads);
            cordon__sys_free(p);
            return st;
        }
    }
    uint64_t handle = 0;
    st = cordon__handle_insert(&pools, p, &handle);
    if (st != CORDON_OK) {
        stop_workers(p, p->workers);
        cordon__sys_free(p->threads);
        cordon__sys_free(p);
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
    *threads_out = ((pool_obj *)obj)->workers + 1u;
    return CORDON_OK;
}

static cordon_status run_inline(size_t begin, size_t end, size_t chunk, cordon_pool_task task, void *ctx) {
    for (size_t i0 = begin; i0 < end;) {
        size_t i1 = end - i0 > chunk ? i0 + chunk : end;
        cordon_status st = task(ctx, i0, i1);
        if (st != CORDON_OK) {
            return as_status(st);
        }
        i0 = i1;
    }
    return CORDON_OK;
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
    pool_obj *p = (pool_obj *)obj;
    size_t n = end - begin;
    if (n == 0) {
        return CORDON_OK;
    }
    if (chunk == 0) {
        size_t pieces = (size_t)(p->workers + 1u) * 4u;
        chunk = n / pieces + (n % pieces != 0);
    }
    if (p->workers == 0 || pool_is_active(p)) {
        active_pool inline_node = {p, active_pools};
        active_pools = &inline_node;
        cordon_status inline_st = run_inline(begin, end, chunk, task, ctx);
        active_pools = inline_node.outer;
        return inline_st;
    }
    if (cordon_mutex_lock(&p->submit) != CORDON_OK) {
        return CORDON_INVALID_ARGUMENT; /* unreachable: the mutex is valid */
    }
    p->task = task;
    p->ctx = ctx;
    p->begin = begin;
    p->end = end;
    p->chunk = chunk;
    p->nchunks = n / chunk + (n % chunk != 0);
    p->first_error = CORDON_OK;
    STORE(&p->failed, 0u);
    __atomic_store_n(&p->next_chunk, (size_t)0, __ATOMIC_RELAXED);
    STORE(&p->accepting, 1u);
    FETCH_ADD(&p->gen, 1u);
    if (LOAD(&p->sleepers) != 0) {
        cordon__unpark(&p->gen, UINT32_MAX);
    }
    active_pool node = {p, active_pools};
    active_pools = &node;
    run_chunks(p);
    active_pools = node.outer;
    STORE(&p->accepting, 0u);
    wait_workers_out(p);
    st = p->first_error;
    if (cordon_mutex_unlock(&p->submit) != CORDON_OK) {
        return CORDON_WRONG_STATE; /* unreachable: this thread holds it */
    }
    return st;
}

cordon_status cordon_pool_destroy(cordon_pool pool) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&pools, pool.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    if (pool_is_active((pool_obj *)obj)) {
        return CORDON_WRONG_STATE;
    }
    st = cordon__handle_remove(&pools, pool.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    pool_obj *p = (pool_obj *)obj;
    stop_workers(p, p->workers);
    cordon__sys_free(p->threads);
    cordon__sys_free(p);
    return CORDON_OK;
}
