/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — locks and signals as value types: mutex, condition variable, once, semaphore, rwlock.
 *
 * Each is a small struct with a static initialiser, needs no allocation and no destroy call: a zeroed
 * object (or the _INIT macro) is ready to use, and one that nobody holds or waits on may simply be
 * freed or go out of scope — on any thread, not only the one that initialised it. The fields are
 * private: touch them only through these functions. The objects must not be copied or moved while in
 * use (waiters sleep on their address).
 *
 * Timeouts: the *_timed functions take nanoseconds from now (negative: forever); the *_until functions
 * take an absolute deadline on the monotonic clock (cordon_time_monotonic_ns). Timeouts are honoured in
 * full and never stretched by signals.
 *
 * Bad objects: every function checks its object pointers before touching them. A NULL pointer gives
 * CORDON_INVALID_ARGUMENT; a pointer that is not a multiple of the type's alignment (_Alignof, 4 bytes)
 * gives CORDON_MISALIGNED. Either way nothing is read or written. ("Bad object" below means these two.)
 *
 * Ignoring a status: the calls that may legitimately not do their job (a try or timed lock, a wait, a
 * read lock past the reader limit) are CORDON_NODISCARD. Lock, unlock, signal, broadcast, post and
 * once fail only on a caller bug (a bad object, unlocking what is not locked, a semaphore past
 * UINT32_MAX), so their status may be ignored in code that is correct by construction.
 *
 * Thread safety: every function may be called concurrently by any threads on the same object, within
 * each function's stated ownership rules (unlock only what you locked). */
#ifndef CORDON_SYNC_H
#define CORDON_SYNC_H

#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

/* ------------------------------------------------------------------------------------------------
 * Mutex: non-recursive. Uncontended lock and unlock are one atomic instruction each, with no system
 * call. unlock makes a system call only when the state says a thread may be parked (state 2): that is
 * the case while one is, and also, conservatively, after a contended hand-over (a woken locker takes
 * the mutex in state 2) or a timed-out lock attempt — then one wake finds nobody (about 1 µs) and the
 * state returns to 1-or-0 behaviour. A locker spins briefly (bounded) only
 * while the holder has no parked waiter, then parks. Not fair: a running thread may overtake a
 * parked one. */
typedef struct cordon_mutex {
    uint32_t state; /* private: 0 unlocked, 1 locked, 2 locked and a thread may be parked */
} cordon_mutex;
#define CORDON_MUTEX_INIT {0}

/* Blocks until the mutex is the caller's. Locking a mutex the caller already holds deadlocks.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_mutex_lock(cordon_mutex *m);
/* CORDON_OK if taken, CORDON_BUSY if held by someone. Never blocks, never makes a system call.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_mutex_trylock(cordon_mutex *m);
/* CORDON_OK if taken before the timeout, CORDON_TIMED_OUT otherwise.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_mutex_lock_timed(cordon_mutex *m, int64_t timeout_ns);
CORDON_API CORDON_NODISCARD cordon_status cordon_mutex_lock_until(cordon_mutex *m, uint64_t deadline_ns);
/* Releases a mutex the caller holds. CORDON_WRONG_STATE if it was not locked at all (the mutex stays
 * unlocked). Unlocking a mutex another thread holds is not detected.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_mutex_unlock(cordon_mutex *m);

/* ------------------------------------------------------------------------------------------------
 * Condition variable: wait atomically releases the mutex and sleeps; it returns with the mutex held
 * again. Wakes may be spurious: always wait in a loop over your predicate. No wakeup is lost when the
 * predicate is changed under the mutex before signal/broadcast (called with or without the mutex).
 * signal wakes at least one thread that was waiting when it was called, unless a thread that started
 * waiting after the signal (but before the wake reached the OS) takes that wake-up instead; use one
 * condition variable per predicate, or broadcast, when that matters.
 * After 2^32 signals the internal counter wraps: a waiter that is descheduled between releasing the
 * mutex and going to sleep while exactly a multiple of 2^32 signals happen sleeps through them (until
 * a later signal) — an ABA case needing billions of signals in a window of microseconds. */
typedef struct cordon_cond {
    uint32_t seq;     /* private: bumped by every signal and broadcast */
    uint32_t waiters; /* private: threads between registering and leaving a wait */
} cordon_cond;
#define CORDON_COND_INIT {0, 0}

/* The caller must hold m. Returns CORDON_OK (woken or spurious) with m held. CORDON_WRONG_STATE if m
 * was not locked (nothing changed).
 * Bad object (c or m): CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED — both are checked before
 * either is touched, so m stays held. */
CORDON_API CORDON_NODISCARD cordon_status cordon_cond_wait(cordon_cond *c, cordon_mutex *m);
/* As cordon_cond_wait; CORDON_TIMED_OUT when the timeout passed — m is held again in every case.
 * Bad object (c or m): as cordon_cond_wait. */
CORDON_API CORDON_NODISCARD cordon_status cordon_cond_wait_timed(cordon_cond *c, cordon_mutex *m, int64_t timeout_ns);
CORDON_API CORDON_NODISCARD cordon_status cordon_cond_wait_until(cordon_cond *c, cordon_mutex *m, uint64_t deadline_ns);
/* Wake one / all waiters. No system call when nobody waits.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_cond_signal(cordon_cond *c);
CORDON_API cordon_status cordon_cond_broadcast(cordon_cond *c);

/* ------------------------------------------------------------------------------------------------
 * Once: runs an initialiser exactly once however many threads call; every caller returns after it
 * has completed (its effects are visible). fn must not call cordon_once_call on the same object
 * (deadlock). */
typedef struct cordon_once {
    uint32_t state; /* private: 0 not run, 1 running, 2 running with waiters, 3 done */
} cordon_once;
#define CORDON_ONCE_INIT {0}

/* CORDON_INVALID_ARGUMENT for a NULL fn. Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED
 * (fn is not run). */
CORDON_API cordon_status cordon_once_call(cordon_once *once, void (*fn)(void *arg), void *arg);

/* ------------------------------------------------------------------------------------------------
 * Counting semaphore. post never blocks; it makes a system call only when a thread is parked. */
typedef struct cordon_sem {
    uint32_t count;   /* private */
    uint32_t waiters; /* private */
} cordon_sem;
#define CORDON_SEM_INIT(initial) {(initial), 0}

/* Adds one; CORDON_LIMIT_EXCEEDED (count unchanged) at UINT32_MAX.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_sem_post(cordon_sem *s);
/* Takes one, blocking while the count is 0.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_sem_wait(cordon_sem *s);
/* CORDON_OK if one was taken, CORDON_BUSY if the count was 0. Never blocks.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_sem_trywait(cordon_sem *s);
/* CORDON_OK if one was taken before the timeout, CORDON_TIMED_OUT otherwise.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_sem_wait_timed(cordon_sem *s, int64_t timeout_ns);
CORDON_API CORDON_NODISCARD cordon_status cordon_sem_wait_until(cordon_sem *s, uint64_t deadline_ns);
/* The current count (a snapshot). Returns no status: 0 for a NULL or misaligned s, which is not read. */
CORDON_API uint32_t cordon_sem_value(const cordon_sem *s);

/* ------------------------------------------------------------------------------------------------
 * Reader-writer lock: many readers or one writer. Writers are not starved: once any thread is
 * parked, new readers wait too, so a thread holding a read lock must not take another one (it could
 * deadlock behind a waiting writer). At most 2^30 - 1 concurrent readers: a read lock beyond that is
 * CORDON_LIMIT_EXCEEDED. */
typedef struct cordon_rwlock {
    uint32_t state; /* private: readers in bits 0..29, bit 30 a thread is parked, bit 31 writer */
} cordon_rwlock;
#define CORDON_RWLOCK_INIT {0}

/* Blocks while a writer holds it or a thread is parked. CORDON_LIMIT_EXCEEDED (nothing taken, no
 * wait) when 2^30 - 1 readers already hold it.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rwlock_read_lock(cordon_rwlock *rw);
/* CORDON_BUSY if a writer holds it or a thread is parked; CORDON_LIMIT_EXCEEDED (nothing taken) when
 * 2^30 - 1 readers already hold it. Never blocks.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rwlock_read_trylock(cordon_rwlock *rw);
/* CORDON_WRONG_STATE if no read lock was held (or a writer holds it); nothing changes.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_rwlock_read_unlock(cordon_rwlock *rw);
/* Blocks while anyone holds it.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_rwlock_write_lock(cordon_rwlock *rw);
/* CORDON_BUSY if anyone holds it. Never blocks.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API CORDON_NODISCARD cordon_status cordon_rwlock_write_trylock(cordon_rwlock *rw);
/* CORDON_WRONG_STATE if no write lock was held; nothing changes.
 * Bad object: CORDON_INVALID_ARGUMENT (NULL), CORDON_MISALIGNED. */
CORDON_API cordon_status cordon_rwlock_write_unlock(cordon_rwlock *rw);

CORDON_END_DECLS

#endif /* CORDON_SYNC_H */
