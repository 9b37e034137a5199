/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — a model of the mutex and condition-variable protocol of src/sync/mutex.c and cond.c, for
 * the SPIN model checker, with three threads: one producer, two consumers.
 *
 * Checked: no invalid end state (no deadlock: nobody is left asleep on a futex or waiting for the
 * mutex once the work is done — a lost wakeup shows up exactly so), mutual exclusion (assertion), and
 * every item consumed once.
 *
 * The futex is modelled as the kernel provides it: the comparison of the word and the queueing of the
 * waiter are one atomic step; a wake removes up to n queued waiters of that word.
 * Each atomic instruction of the C code (CAS, exchange, fetch-add, load, store) is one step here.
 *
 * Variants (spin -D…): LOST_WAKEUP reads the condvar sequence after releasing the mutex (a classic
 * lost wakeup); NO_UNLOCK_WAKE makes unlock skip the wake; WOKEN_TAKES_AS_1 lets a thread woken from
 * the mutex's futex take the lock as 1 (leaving another parked thread without a wake). Each must make
 * the verifier report an error (tests/test_sync.cmake checks it), proving the model can fail. */

#define NPROC 4            /* _pid 0 is init; the three threads are 1..3 */
#define MUTEX 0
#define SEQ 1

byte mem[2];               /* mem[MUTEX]: 0 unlocked, 1 locked, 2 locked with waiters; mem[SEQ]: cond seq */
byte cond_waiters = 0;
bool parked[NPROC];        /* queued on a futex, indexed by _pid */
byte parked_on[NPROC];
byte in_cs = 0;            /* threads inside the critical section */
byte items = 0;
byte consumed = 0;

inline futex_wait(addr, val) {
    atomic {
        if
        :: mem[addr] == val -> parked_on[_pid] = addr; parked[_pid] = true
        :: else -> skip      /* NOT_EQUAL */
        fi
    };
    !parked[_pid]            /* asleep until a wake dequeues us */
}

inline futex_wake(addr, n) {
    atomic {
        woken = 0;
        i = 0;
        do
        :: i < NPROC ->
            if
            :: parked[i] && parked_on[i] == addr && woken < n -> parked[i] = false; woken++
            :: else -> skip
            fi;
            i++
        :: else -> break
        od
    }
}

/* One look of a spin round at the word (a relaxed load), and when it reads 0 the CAS 0 -> take_as.
 * The C spin repeats this a bounded number of times; one look per spin phase is modelled (a phase that
 * looks more often only adds interleavings in which the word read 1 or 2 and nothing was written). */
inline spin_look(take_as) {
    seen = mem[MUTEX];
    if
    :: seen == 0 ->
        atomic {
            if
            :: mem[MUTEX] == 0 -> mem[MUTEX] = take_as; got = true
            :: else -> seen = mem[MUTEX]                   /* the failed CAS returns the current value */
            fi
        }
    :: else -> skip
    fi
}

inline mutex_lock() {
    /* fast path: CAS 0 -> 1 */
    atomic {
        if
        :: mem[MUTEX] == 0 -> mem[MUTEX] = 1; got = true
        :: else -> got = false
        fi
    };
    if
    :: got -> skip
    :: else ->
        spin_look(1);                                     /* the first spin: takes a free lock as 1 */
        do
        :: got -> break
        :: else ->
            if
            :: seen != 2 ->                               /* no exchange when the word read 2 */
                atomic { old = mem[MUTEX]; mem[MUTEX] = 2 };   /* exchange(2) */
                if
                :: old == 0 -> break
                :: else -> skip
                fi
            :: else -> skip
            fi;
            futex_wait(MUTEX, 2);
#ifndef WOKEN_TAKES_AS_1
            spin_look(2)                                  /* after a wake: takes a free lock as 2 */
#else
            spin_look(1)                                  /* BUG: drops the claim of other parked threads */
#endif
        od
    fi
}

inline mutex_unlock() {
    atomic { old = mem[MUTEX]; mem[MUTEX] = 0 };          /* exchange(0) */
#ifndef NO_UNLOCK_WAKE
    if
    :: old == 2 -> futex_wake(MUTEX, 1)
    :: else -> skip
    fi
#endif
}

inline cond_wait() {
#ifndef LOST_WAKEUP
    s = mem[SEQ];                                         /* read while the mutex is held */
    mutex_unlock();
#else
    mutex_unlock();
    s = mem[SEQ];                                         /* BUG: read after releasing it */
#endif
    if
    :: mem[SEQ] != s -> skip                              /* the brief spin saw a signal: no park */
    :: else ->
        cond_waiters++;                                   /* fetch-add: registered only to park */
        futex_wait(SEQ, s);
        cond_waiters--
    fi;
    mutex_lock()                                          /* the ordinary lock: CAS, spin, park */
}

inline cond_signal() {
    mem[SEQ] = (mem[SEQ] + 1) % 4;                        /* fetch-add (wraps; 4 values suffice here) */
    if
    :: cond_waiters > 0 -> futex_wake(SEQ, 1)
    :: else -> skip
    fi
}

inline enter() { in_cs++; assert(in_cs == 1) }
inline leave() { in_cs-- }

proctype producer() {
    byte old, s, woken, i, seen;
    bool got;
    byte k = 0;
    do
    :: k < 2 ->
        mutex_lock();
        enter();
        items++;
        leave();
        mutex_unlock();
        cond_signal();                                    /* after unlocking: the harder case */
        k++
    :: else -> break
    od
}

proctype consumer() {
    byte old, s, woken, i, seen;
    bool got;
    mutex_lock();
    enter();
    do
    :: items == 0 -> leave(); cond_wait(); enter()
    :: else -> break
    od;
    items--;
    consumed++;
    leave();
    mutex_unlock()
}

init {
    atomic {
        run producer();
        run consumer();
        run consumer()
    };
    /* Once all three have finished: every item delivered once, nothing locked, nobody parked. A run in
     * which a thread stays blocked never gets here and is reported as an invalid end state. */
    _nr_pr == 1;
    assert(consumed == 2 && items == 0 && mem[MUTEX] == 0);
    assert(!parked[1] && !parked[2] && !parked[3])
}
