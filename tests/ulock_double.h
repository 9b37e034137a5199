/* SPDX-License-Identifier: Apache-2.0 */
/* A test double of XNU's __ulock_wait2 / __ulock_wake, on top of Linux futex, for testing the macOS
 * backend's logic (src/sys/futex_ulock.c) on Linux. It reproduces the documented behaviour the backend
 * depends on:
 *  - operations: the low byte is the type (UL_COMPARE_AND_WAIT 1, …_SHARED 3); ULF_WAKE_ALL (0x100)
 *    is only valid on wake; ULF_NO_ERRNO (0x01000000) returns -errno instead of -1 with errno set;
 *  - waiters on an address are keyed by type: a wait or wake with another type than the address's
 *    current waiters fails with EDOM (and wakes nobody);
 *  - wait: timeout_ns == 0 means forever; returns at once (success) when *addr != value; ETIMEDOUT;
 *    EINVAL for an unknown type or a misaligned address;
 *  - wake: ENOENT when nobody waits; one waiter, or all with ULF_WAKE_ALL; returns 0.
 * It also records every operation word it was given, so tests can check what the backend passed. */
#ifndef CORDON_TEST_ULOCK_DOUBLE_H
#define CORDON_TEST_ULOCK_DOUBLE_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#define DOUBLE_SLOTS 64

/* Like XNU's ulock queues: checking the value and queueing happen under one lock, so a wake can never
 * fall between them; each waiter has its own node and flag. */
typedef struct double_node {
    struct double_node *next;
    void *addr;
    uint32_t type;
    int woken;
} double_node;

static pthread_mutex_t double_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t double_cv; /* on CLOCK_MONOTONIC, set up by double_init() */
static double_node *double_head;
static uint32_t double_last_wait_op; /* guarded by double_lock */
static uint32_t double_last_wake_op;
static uint64_t double_last_timeout;
static int double_wake_calls;
static int double_eintr_next; /* the next n waits fail with EINTR after 1 ms */

static void double_init(void) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&double_cv, &a);
    pthread_condattr_destroy(&a);
}

static int double_fail(uint32_t op, int err) {
    if ((op & 0x01000000u) != 0) {
        return -err;
    }
    errno = err;
    return -1;
}

/* The type of the waiters queued on addr, or 0 when none. */
static uint32_t double_queued_type(void *addr) {
    for (double_node *n = double_head; n != NULL; n = n->next) {
        if (n->addr == addr) {
            return n->type;
        }
    }
    return 0;
}

static void double_unlink(double_node *node) {
    for (double_node **pp = &double_head; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == node) {
            *pp = node->next;
            return;
        }
    }
}

static int double_wait2(uint32_t op, void *addr, uint64_t value, uint64_t timeout_ns, uint64_t value2) {
    (void)value2;
    uint32_t type = op & 0xffu;
    if ((type != 1 && type != 3) || (op & 0x00000300u) != 0 || ((uintptr_t)addr & 3u) != 0) {
        return double_fail(op, EINVAL);
    }
    pthread_mutex_lock(&double_lock);
    double_last_wait_op = op;
    double_last_timeout = timeout_ns;
    uint32_t queued = double_queued_type(addr);
    if (queued != 0 && queued != type) {
        pthread_mutex_unlock(&double_lock);
        return double_fail(op, EDOM);
    }
    if (__atomic_load_n((uint32_t *)addr, __ATOMIC_SEQ_CST) != (uint32_t)value) {
        pthread_mutex_unlock(&double_lock);
        return 0;
    }
    if (double_eintr_next > 0) {
        double_eintr_next--;
        pthread_mutex_unlock(&double_lock);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
        return double_fail(op, EINTR);
    }
    double_node node = {NULL, addr, type, 0};
    double_node **tail = &double_head;
    while (*tail != NULL) {
        tail = &(*tail)->next;
    }
    *tail = &node;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t d = (uint64_t)deadline.tv_sec * 1000000000u + (uint64_t)deadline.tv_nsec + timeout_ns;
    deadline.tv_sec = (time_t)(d / 1000000000u);
    deadline.tv_nsec = (long)(d % 1000000000u);
    int err = 0;
    while (!node.woken && err == 0) {
        err = timeout_ns == 0 ? pthread_cond_wait(&double_cv, &double_lock)
                              : pthread_cond_timedwait(&double_cv, &double_lock, &deadline);
        if (err == ETIMEDOUT) {
            /* XNU's wait never ends before its timeout; a condition variable may (winpthreads rounds
             * the wait to milliseconds): wait again until the deadline has passed on this clock. */
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec < d) {
                err = 0;
            }
        }
    }
    int remaining = 0;
    if (!node.woken) {
        double_unlink(&node);
    }
    for (double_node *n = double_head; n != NULL; n = n->next) {
        remaining += n->addr == addr;
    }
    pthread_mutex_unlock(&double_lock);
    if (!node.woken) {
        return double_fail(op, ETIMEDOUT);
    }
    return remaining;
}

static int double_wake(uint32_t op, void *addr, uint64_t wake_value) {
    (void)wake_value;
    uint32_t type = op & 0xffu;
    if (type != 1 && type != 3) {
        return double_fail(op, EINVAL);
    }
    pthread_mutex_lock(&double_lock);
    double_last_wake_op = op;
    double_wake_calls++;
    uint32_t queued = double_queued_type(addr);
    if (queued == 0) {
        pthread_mutex_unlock(&double_lock);
        return double_fail(op, ENOENT);
    }
    if (queued != type) {
        pthread_mutex_unlock(&double_lock);
        return double_fail(op, EDOM);
    }
    int all = (op & 0x100u) != 0;
    for (double_node **pp = &double_head; *pp != NULL;) {
        double_node *n = *pp;
        if (n->addr == addr) {
            n->woken = 1;
            *pp = n->next;
            if (!all) {
                break;
            }
        } else {
            pp = &n->next;
        }
    }
    pthread_cond_broadcast(&double_cv);
    pthread_mutex_unlock(&double_lock);
    return 0;
}

#endif /* CORDON_TEST_ULOCK_DOUBLE_H */
