/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper: wait until given threads are asleep in a futex wait (Linux /proc wchan), so that a
 * following wake is known to find them parked. Falls back to a pause where wchan says nothing. */
#ifndef CORDON_TEST_PARKED_H
#define CORDON_TEST_PARKED_H

#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static inline int cordon_test_in_futex_wait(pid_t tid) {
    char path[64];
    char buf[128] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)tid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (strcmp(buf, "0") == 0 || n == 0) {
        return -1; /* the kernel hides wchan */
    }
    return strstr(buf, "futex") != NULL;
}

/* tids[i] == 0 means "not started yet". Returns once all n are parked (checked twice, 10 ms apart). */
static inline void cordon_test_wait_parked(const pid_t *tids, int n) {
    struct timespec tick = {0, 10000000};
    for (int rounds = 0; rounds < 3000; rounds++) { /* gives up after ~30 s: the test then fails on its own */
        int parked = 0;
        int unknown = 0;
        for (int i = 0; i < n; i++) {
            pid_t t = __atomic_load_n(&tids[i], __ATOMIC_SEQ_CST);
            int r = t == 0 ? 0 : cordon_test_in_futex_wait(t);
            parked += r == 1;
            unknown += r < 0;
        }
        if (unknown > 0) {
            struct timespec pause = {0, 200000000};
            nanosleep(&pause, NULL);
            return;
        }
        if (parked == n) {
            nanosleep(&tick, NULL);
            int again = 0;
            for (int i = 0; i < n; i++) {
                again += cordon_test_in_futex_wait(tids[i]) == 1;
            }
            if (again == n) {
                return;
            }
        }
        nanosleep(&tick, NULL);
    }
}

#endif /* CORDON_TEST_PARKED_H */
