/* SPDX-License-Identifier: Apache-2.0 */
/* Suite "sync": cordon's locks, futex and pool against glibc pthreads, nsync, a spinlock and OpenMP,
 * all measured in the same run.
 *
 * glibc is measured after a second thread has existed: until then glibc skips the atomic instructions
 * of its mutex, which makes it look about 3x faster than it is in any program that has threads. */
#define _GNU_SOURCE

#include "bench.h"
#include "cordon/cordon.h"

#if defined(_WIN32)
/* The suite's baselines are Linux's own (glibc's pthread mutex and condition variable, the raw futex
 * system call, CPU pinning with sched_setaffinity): there is nothing to compare with here yet. */
CORDON_BENCH_SUITE(sync, "mutex, condvar, futex and pool dispatch against glibc, nsync, a spinlock and OpenMP (Linux only)") {
    cordon_bench_note(b, "sync: not on this platform: its baselines are glibc pthreads, the raw futex system call "
                         "and sched_setaffinity (Linux only)");
}
#else

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cordon/cordon.h"

#if defined(CORDON_BENCH_HAVE_NSYNC)
#  include <nsync.h>
#endif
#if defined(_OPENMP)
#  include <omp.h>
#endif

static void ignore_status(cordon_status st) {
    (void)st;
}

/* ---- a test-and-test-and-set spinlock, the simplest baseline ---------------------------------- */
typedef struct spinlock {
    int locked;
} spinlock;

static void spin_lock(spinlock *s) {
    for (;;) {
        if (!__atomic_exchange_n(&s->locked, 1, __ATOMIC_ACQUIRE)) {
            return;
        }
        while (__atomic_load_n(&s->locked, __ATOMIC_RELAXED)) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#elif defined(__aarch64__)
            __asm__ __volatile__("yield");
#endif
        }
    }
}

static void spin_unlock(spinlock *s) {
    __atomic_store_n(&s->locked, 0, __ATOMIC_RELEASE);
}

/* ---- uncontended lock + unlock ------------------------------------------------------------------ */
static cordon_mutex u_cordon = CORDON_MUTEX_INIT;
static pthread_mutex_t u_glibc = PTHREAD_MUTEX_INITIALIZER;
static spinlock u_spin;

static void unc_cordon(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        ignore_status(cordon_mutex_lock(&u_cordon));
        ignore_status(cordon_mutex_unlock(&u_cordon));
    }
}

static void unc_glibc(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        pthread_mutex_lock(&u_glibc);
        pthread_mutex_unlock(&u_glibc);
    }
}

static void unc_spin(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        spin_lock(&u_spin);
        spin_unlock(&u_spin);
    }
}

#if defined(CORDON_BENCH_HAVE_NSYNC)
static nsync_mu u_nsync = NSYNC_MU_INIT;
static void unc_nsync(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        nsync_mu_lock(&u_nsync);
        nsync_mu_unlock(&u_nsync);
    }
}
#endif

/* ---- contended throughput: 2 threads, lock / increment / unlock -------------------------------- */
typedef enum lock_kind { LK_CORDON, LK_GLIBC, LK_NSYNC, LK_SPIN } lock_kind;

typedef struct contended {
    lock_kind kind;
    uint64_t per_thread;
    int go; /* start barrier */
    int ready;
    uint64_t counter;
    cordon_mutex cm;
    pthread_mutex_t pm;
    spinlock sl;
#if defined(CORDON_BENCH_HAVE_NSYNC)
    nsync_mu nm;
#endif
} contended;

static void *contend(void *arg) {
    contended *c = (contended *)arg;
    __atomic_fetch_add(&c->ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE)) {
    }
    for (uint64_t i = 0; i < c->per_thread; i++) {
        switch (c->kind) {
        case LK_CORDON:
            ignore_status(cordon_mutex_lock(&c->cm));
            c->counter++;
            ignore_status(cordon_mutex_unlock(&c->cm));
            break;
        case LK_GLIBC:
            pthread_mutex_lock(&c->pm);
            c->counter++;
            pthread_mutex_unlock(&c->pm);
            break;
        case LK_SPIN:
            spin_lock(&c->sl);
            c->counter++;
            spin_unlock(&c->sl);
            break;
        case LK_NSYNC:
#if defined(CORDON_BENCH_HAVE_NSYNC)
            nsync_mu_lock(&c->nm);
            c->counter++;
            nsync_mu_unlock(&c->nm);
#endif
            break;
        }
    }
    return NULL;
}

/* One sample: millions of lock/unlock pairs per second over both threads. */
static double contended_sample(lock_kind kind, uint64_t per_thread) {
    contended c = {.kind = kind, .per_thread = per_thread, .cm = CORDON_MUTEX_INIT,
                   .pm = PTHREAD_MUTEX_INITIALIZER};
#if defined(CORDON_BENCH_HAVE_NSYNC)
    nsync_mu_init(&c.nm);
#endif
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        pthread_create(&th[i], NULL, contend, &c);
    }
    while (__atomic_load_n(&c.ready, __ATOMIC_SEQ_CST) < 2) {
    }
    uint64_t t0 = cordon_bench_now_ns();
    __atomic_store_n(&c.go, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    uint64_t t1 = cordon_bench_now_ns();
    if (c.counter != 2 * per_thread) {
        fprintf(stderr, "bench sync: lost increments (%llu of %llu)\n", (unsigned long long)c.counter,
                (unsigned long long)(2 * per_thread));
    }
    return (double)(2 * per_thread) / ((double)(t1 - t0) / 1e3);
}

static void contended_figures(cordon_bench *b) {
    const int samples = cordon_bench_quick(b) ? 3 : 9;
    const uint64_t per_thread = cordon_bench_quick(b) ? 100000 : 1000000;
    double v[4][16];
    int kinds = 4;
    for (int s = 0; s < samples; s++) { /* interleaved, so drifts in machine load hit all alike */
        for (int k = 0; k < kinds; k++) {
#if !defined(CORDON_BENCH_HAVE_NSYNC)
            if (k == LK_NSYNC) {
                v[k][s] = 0;
                continue;
            }
#endif
            v[k][s] = contended_sample((lock_kind)k, per_thread);
        }
    }
    double spread[4];
    double med[4];
    for (int k = 0; k < kinds; k++) {
        med[k] = cordon_bench_median(v[k], samples, &spread[k]);
    }
    cordon_bench_report(b, "mutex_contended_2t", med[LK_CORDON], "Mops/s", spread[LK_CORDON], "glibc_pthread_mutex",
                        med[LK_GLIBC], ">= 1.2");
#if defined(CORDON_BENCH_HAVE_NSYNC)
    cordon_bench_report(b, "mutex_contended_2t_vs_nsync", med[LK_CORDON], "Mops/s", spread[LK_CORDON], "nsync_mu",
                        med[LK_NSYNC], NULL);
#endif
    cordon_bench_report(b, "mutex_contended_2t_vs_spinlock", med[LK_CORDON], "Mops/s", spread[LK_CORDON], "spinlock",
                        med[LK_SPIN], NULL);
}

/* Round trips depend on where the two threads run: on this kind of VM a wake-up of another, idle vCPU
 * costs ~20 us, a switch on the same vCPU a few us. Both sides of a comparison are therefore placed
 * alike: the measuring thread on CPU 0, every partner on CPU 1. */
static cpu_set_t saved_affinity;
static int pinned;

static void pin_self(unsigned cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void pin_begin(void) {
    pinned = sysconf(_SC_NPROCESSORS_ONLN) >= 2 &&
             pthread_getaffinity_np(pthread_self(), sizeof saved_affinity, &saved_affinity) == 0 &&
             CPU_ISSET(0u, &saved_affinity) && CPU_ISSET(1u, &saved_affinity);
    if (pinned) {
        pin_self(0u);
    }
}

static void pin_partner(pthread_t t) {
    if (pinned) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(1u, &set);
        pthread_setaffinity_np(t, sizeof set, &set);
    }
}

static void pin_end(void) {
    if (pinned) {
        pthread_setaffinity_np(pthread_self(), sizeof saved_affinity, &saved_affinity);
    }
}

/* ---- condvar ping-pong: a round trip between two threads ----------------------------------------- */
typedef struct pingpong {
    int kind; /* 0 cordon, 1 glibc, 2 nsync */
    int turn; /* 0: main's turn, 1: partner's */
    int stop;
    cordon_mutex cm;
    cordon_cond cc[2];
    pthread_mutex_t pm;
    pthread_cond_t pc[2];
#if defined(CORDON_BENCH_HAVE_NSYNC)
    nsync_mu nm;
    nsync_cv nc[2];
#endif
    pthread_t partner;
} pingpong;

static void pp_lock(pingpong *p) {
    if (p->kind == 0) {
        ignore_status(cordon_mutex_lock(&p->cm));
    } else if (p->kind == 1) {
        pthread_mutex_lock(&p->pm);
    } else {
#if defined(CORDON_BENCH_HAVE_NSYNC)
        nsync_mu_lock(&p->nm);
#endif
    }
}

static void pp_unlock(pingpong *p) {
    if (p->kind == 0) {
        ignore_status(cordon_mutex_unlock(&p->cm));
    } else if (p->kind == 1) {
        pthread_mutex_unlock(&p->pm);
    } else {
#if defined(CORDON_BENCH_HAVE_NSYNC)
        nsync_mu_unlock(&p->nm);
#endif
    }
}

static void pp_wait(pingpong *p, int which) {
    if (p->kind == 0) {
        ignore_status(cordon_cond_wait(&p->cc[which], &p->cm));
    } else if (p->kind == 1) {
        pthread_cond_wait(&p->pc[which], &p->pm);
    } else {
#if defined(CORDON_BENCH_HAVE_NSYNC)
        nsync_cv_wait(&p->nc[which], &p->nm);
#endif
    }
}

static void pp_signal(pingpong *p, int which) {
    if (p->kind == 0) {
        ignore_status(cordon_cond_signal(&p->cc[which]));
    } else if (p->kind == 1) {
        pthread_cond_signal(&p->pc[which]);
    } else {
#if defined(CORDON_BENCH_HAVE_NSYNC)
        nsync_cv_signal(&p->nc[which]);
#endif
    }
}

static void *pp_partner(void *arg) {
    pingpong *p = (pingpong *)arg;
    pp_lock(p);
    for (;;) {
        while (p->turn != 1 && !p->stop) {
            pp_wait(p, 1);
        }
        if (p->stop) {
            break;
        }
        p->turn = 0;
        pp_signal(p, 0);
    }
    pp_unlock(p);
    return NULL;
}

static void pp_start(pingpong *p, int kind) {
    p->kind = kind;
    p->turn = 0;
    p->stop = 0;
    p->cm = (cordon_mutex)CORDON_MUTEX_INIT;
    p->cc[0] = p->cc[1] = (cordon_cond)CORDON_COND_INIT;
    pthread_mutex_init(&p->pm, NULL);
    pthread_cond_init(&p->pc[0], NULL);
    pthread_cond_init(&p->pc[1], NULL);
#if defined(CORDON_BENCH_HAVE_NSYNC)
    nsync_mu_init(&p->nm);
    nsync_cv_init(&p->nc[0]);
    nsync_cv_init(&p->nc[1]);
#endif
    pthread_create(&p->partner, NULL, pp_partner, p);
    pin_partner(p->partner);
}

static void pp_stop(pingpong *p) {
    pp_lock(p);
    p->stop = 1;
    pp_signal(p, 1);
    pp_unlock(p);
    pthread_join(p->partner, NULL);
}

static void pp_run(void *arg, uint64_t iters) {
    pingpong *p = (pingpong *)arg;
    pp_lock(p);
    for (uint64_t i = 0; i < iters; i++) {
        p->turn = 1;
        pp_signal(p, 1);
        while (p->turn != 0) {
            pp_wait(p, 0);
        }
    }
    pp_unlock(p);
}

/* ---- futex wait / wake round trip ---------------------------------------------------------------- */
typedef struct futex_pp {
    int raw;
    uint32_t word; /* 1: partner's turn, 0: main's */
    uint32_t stop;
    pthread_t partner;
} futex_pp;

static void fx_wait(futex_pp *f, uint32_t expected) {
    if (f->raw) {
        syscall(SYS_futex, &f->word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
    } else {
        ignore_status(cordon_futex_wait(&f->word, expected, CORDON_FOREVER, 0));
    }
}

static void fx_wake(futex_pp *f) {
    if (f->raw) {
        syscall(SYS_futex, &f->word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    } else {
        ignore_status(cordon_futex_wake(&f->word, 1, 0, NULL));
    }
}

static void *fx_partner(void *arg) {
    futex_pp *f = (futex_pp *)arg;
    for (;;) {
        while (__atomic_load_n(&f->word, __ATOMIC_ACQUIRE) == 0 && !__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
            fx_wait(f, 0);
        }
        if (__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
            return NULL;
        }
        __atomic_store_n(&f->word, 0, __ATOMIC_RELEASE);
        fx_wake(f);
    }
}

static void fx_run(void *arg, uint64_t iters) {
    futex_pp *f = (futex_pp *)arg;
    for (uint64_t i = 0; i < iters; i++) {
        __atomic_store_n(&f->word, 1, __ATOMIC_RELEASE);
        fx_wake(f);
        while (__atomic_load_n(&f->word, __ATOMIC_ACQUIRE) == 1) {
            fx_wait(f, 1);
        }
    }
}

static void fx_stop(futex_pp *f) {
    __atomic_store_n(&f->stop, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&f->word, 1, __ATOMIC_RELEASE);
    fx_wake(f);
    pthread_join(f->partner, NULL);
}

/* ---- pool dispatch: an empty parallel-for over 2 threads ------------------------------------------ */
static cordon_pool bench_pool;

static cordon_status empty_task(void *ctx, size_t i0, size_t i1) {
    cordon_bench_consume(ctx);
    (void)i0;
    (void)i1;
    return CORDON_OK;
}

static void pool_dispatch(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
        ignore_status(cordon_pool_parallel_for(bench_pool, 0, 2, 1, empty_task, NULL));
    }
}

#if defined(_OPENMP)
static void omp_dispatch(void *arg, uint64_t iters) {
    (void)arg;
    for (uint64_t i = 0; i < iters; i++) {
#  pragma omp parallel for num_threads(2) schedule(static, 1)
        for (int j = 0; j < 2; j++) {
            cordon_bench_consume(&j);
        }
    }
}
#endif

static void sleep_ms(int ms) {
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* Pool dispatch is timed in blocks, ours and OpenMP's alternating with a pause between them, rather
 * than with interleaved samples: both keep their workers spinning for a while after a job, and on a
 * 2-CPU machine the other side's spinning workers would steal the CPU the measured side needs. The
 * pause lets the idle side's workers park first. */
static void pool_figures(cordon_bench *b) {
    const int samples = cordon_bench_quick(b) ? 5 : 15;
    const uint64_t iters = cordon_bench_quick(b) ? 2000 : 20000;
    double ours[32];
#if defined(_OPENMP)
    double omp[32];
#endif
    for (int s = 0; s < samples; s++) {
        sleep_ms(30);
        pool_dispatch(NULL, iters / 10); /* warm: workers spinning */
        uint64_t t0 = cordon_bench_now_ns();
        pool_dispatch(NULL, iters);
        ours[s] = (double)(cordon_bench_now_ns() - t0) / (double)iters;
#if defined(_OPENMP)
        sleep_ms(30);
        omp_dispatch(NULL, iters / 10);
        t0 = cordon_bench_now_ns();
        omp_dispatch(NULL, iters);
        omp[s] = (double)(cordon_bench_now_ns() - t0) / (double)iters;
#endif
    }
    double spread = 0;
    double med = cordon_bench_median(ours, samples, &spread);
#if defined(_OPENMP)
    double omp_spread = 0;
    double omp_med = cordon_bench_median(omp, samples, &omp_spread);
    cordon_bench_report(b, "pool_dispatch_empty_2t", med, "ns", spread, "openmp_parallel_for", omp_med, "<= 1.0");
    cordon_bench_note(b, "openmp_parallel_for spread %.1f%%; OMP_WAIT_POLICY=%s", omp_spread,
                      getenv("OMP_WAIT_POLICY") != NULL ? getenv("OMP_WAIT_POLICY") : "(unset)");
#else
    cordon_bench_report(b, "pool_dispatch_empty_2t", med, "ns", spread, NULL, 0, NULL);
#endif
}

static void *nothing(void *arg) {
    return arg;
}

CORDON_BENCH_SUITE(sync, "mutex, condvar, futex and pool dispatch against glibc, nsync, a spinlock and OpenMP") {
    /* glibc takes its multi-threaded paths only once a second thread has existed. */
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
#if !defined(CORDON_BENCH_HAVE_NSYNC)
    cordon_bench_note(b, "nsync not found at build time (libnsync-dev): its figures are skipped");
#endif
#if !defined(_OPENMP)
    cordon_bench_note(b, "OpenMP not found at build time: the pool dispatch baseline is skipped");
#endif

    cordon_bench_compare(b, &(cordon_bench_case){.name = "mutex_uncontended", .fn = unc_cordon,
                                                 .baseline_name = "glibc_pthread_mutex", .baseline_fn = unc_glibc,
                                                 .goal = "<= 1.0"});
#if defined(CORDON_BENCH_HAVE_NSYNC)
    cordon_bench_compare(b, &(cordon_bench_case){.name = "mutex_uncontended_vs_nsync", .fn = unc_cordon,
                                                 .baseline_name = "nsync_mu", .baseline_fn = unc_nsync});
#endif
    cordon_bench_compare(b, &(cordon_bench_case){.name = "mutex_uncontended_vs_spinlock", .fn = unc_cordon,
                                                 .baseline_name = "spinlock", .baseline_fn = unc_spin});

    contended_figures(b);

    pin_begin();
    static pingpong ours, glibc;
    pp_start(&ours, 0);
    pp_start(&glibc, 1);
    cordon_bench_compare(b, &(cordon_bench_case){.name = "condvar_pingpong_round_trip", .fn = pp_run, .arg = &ours,
                                                 .baseline_name = "glibc_pthread_cond", .baseline_fn = pp_run,
                                                 .baseline_arg = &glibc});
    pp_stop(&ours);
    pp_stop(&glibc);
#if defined(CORDON_BENCH_HAVE_NSYNC)
    static pingpong ours2, nsync;
    pp_start(&ours2, 0);
    pp_start(&nsync, 2);
    cordon_bench_compare(b, &(cordon_bench_case){.name = "condvar_pingpong_vs_nsync", .fn = pp_run, .arg = &ours2,
                                                 .baseline_name = "nsync_cv", .baseline_fn = pp_run,
                                                 .baseline_arg = &nsync});
    pp_stop(&ours2);
    pp_stop(&nsync);
#endif

    static futex_pp fx_ours, fx_raw;
    fx_raw.raw = 1;
    pthread_create(&fx_ours.partner, NULL, fx_partner, &fx_ours);
    pthread_create(&fx_raw.partner, NULL, fx_partner, &fx_raw);
    pin_partner(fx_ours.partner);
    pin_partner(fx_raw.partner);
    cordon_bench_compare(b, &(cordon_bench_case){.name = "futex_wait_wake_round_trip", .fn = fx_run, .arg = &fx_ours,
                                                 .baseline_name = "raw_futex_syscall", .baseline_fn = fx_run,
                                                 .baseline_arg = &fx_raw, .goal = "<= 1.1"});
    fx_stop(&fx_ours);
    fx_stop(&fx_raw);
    pin_end();
    if (!pinned) {
        cordon_bench_note(b, "round trips measured without CPU pinning (fewer than 2 usable CPUs)");
    }

    if (cordon_pool_create(2, &bench_pool) != CORDON_OK) {
        cordon_bench_note(b, "could not create a 2-thread pool: pool dispatch skipped");
        return;
    }
    pool_figures(b);
    ignore_status(cordon_pool_destroy(bench_pool));
}
#endif /* !_WIN32 */
