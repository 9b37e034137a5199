/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — reader-writer lock in one futex word:
 *
 *   bits 0..29 readers holding it · bit 30 PARKED: a thread is (or is about to be) parked · bit 31 WRITER
 *
 * read lock:  CAS +1 while neither WRITER nor PARKED is set (PARKED also holds back new readers, so a
 *             waiting writer is not starved by a stream of readers).
 * write lock: CAS 0 → WRITER (PARKED may be set: a writer takes the lock over it and keeps the bit).
 * waiting:    set PARKED by CAS, then park while the word equals the value with PARKED.
 * release:    drop the reader or the writer; if what is left is exactly PARKED (nobody holds it),
 *             CAS PARKED → 0 and wake all; the woken threads race again and re-set PARKED if they must
 *             wait once more.
 * Lost wakeup: a waiter sleeps only while the word is exactly the value it saw with PARKED set; any
 * release changes the word (reader count or WRITER), so the comparison fails if it came first, and if
 * it comes after, the releaser sees PARKED in the word it leaves and wakes everyone. If the CAS
 * PARKED → 0 fails, someone took the lock meanwhile and its release repeats the check. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

#define READERS 0x3fffffffu
#define PARKED 0x40000000u
#define WRITER 0x80000000u

static void release_to(uint32_t *state, uint32_t left) {
    if (left == PARKED) {
        uint32_t expected = PARKED;
        if (CAS(state, &expected, 0u)) {
            cordon__unpark(state, UINT32_MAX);
        }
    }
}

/* Marks the word PARKED and sleeps while it stays as it is. */
static void wait_on(uint32_t *state, uint32_t seen) {
    if ((seen & (READERS | WRITER)) == 0) {
        /* Nobody holds it (at most a release is between its two steps): never sleep on a free lock. */
        cordon__cpu_relax();
        return;
    }
    if ((seen & PARKED) == 0) {
        uint32_t expected = seen;
        if (!CAS(state, &expected, seen | PARKED)) {
            return; /* changed: look again */
        }
    }
    (void)cordon__park(state, seen | PARKED, CORDON__SYS_FOREVER);
}

cordon_status cordon_rwlock_read_trylock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t s = LOAD(&rw->state);
    while ((s & (WRITER | PARKED)) == 0) {
        if ((s & READERS) == READERS) {
            return CORDON_LIMIT_EXCEEDED;
        }
        if (CAS(&rw->state, &s, s + 1u)) {
            return CORDON_OK;
        }
    }
    return CORDON_BUSY;
}

cordon_status cordon_rwlock_read_lock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    for (;;) {
        cordon_status st = cordon_rwlock_read_trylock(rw);
        if (st != CORDON_BUSY) {
            return st;
        }
        wait_on(&rw->state, LOAD(&rw->state));
    }
}

cordon_status cordon_rwlock_read_unlock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t s = LOAD(&rw->state);
    do {
        if ((s & READERS) == 0 || (s & WRITER) != 0) {
            return CORDON_WRONG_STATE;
        }
    } while (!CAS(&rw->state, &s, s - 1u));
    release_to(&rw->state, s - 1u);
    return CORDON_OK;
}

cordon_status cordon_rwlock_write_trylock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t s = LOAD(&rw->state);
    while ((s & (READERS | WRITER)) == 0) {
        if (CAS(&rw->state, &s, s | WRITER)) {
            return CORDON_OK;
        }
    }
    return CORDON_BUSY;
}

cordon_status cordon_rwlock_write_lock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    for (;;) {
        if (cordon_rwlock_write_trylock(rw) == CORDON_OK) {
            return CORDON_OK;
        }
        wait_on(&rw->state, LOAD(&rw->state));
    }
}

cordon_status cordon_rwlock_write_unlock(cordon_rwlock *rw) {
    cordon_status check = CORDON__CHECK_OBJECT(rw, cordon_rwlock);
    if (check != CORDON_OK) {
        return check;
    }
    uint32_t s = LOAD(&rw->state);
    do {
        if ((s & WRITER) == 0) {
            return CORDON_WRONG_STATE;
        }
    } while (!CAS(&rw->state, &s, s & ~WRITER));
    release_to(&rw->state, s & ~WRITER);
    return CORDON_OK;
}
