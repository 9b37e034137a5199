/* SPDX-License-Identifier: Apache-2.0 */
/* cordon test harness: registration and the runner. */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TESTS 512
#define SKIP_CODE 77

typedef struct test_entry {
    const char *name;
    cordon_test_fn fn;
} test_entry;

static test_entry tests[MAX_TESTS];
static int test_count;
static const char *current = "";
static jmp_buf on_fail;
static int outcome; /* 0 pass, 1 fail, SKIP_CODE skip */

void cordon_test_register(const char *name, cordon_test_fn fn) {
    if (test_count == MAX_TESTS) {
        fprintf(stderr, "harness: more than %d tests in one file\n", MAX_TESTS);
        exit(2);
    }
    tests[test_count].name = name;
    tests[test_count].fn = fn;
    test_count++;
}

const char *cordon_test_current(void) {
    return current;
}

void cordon_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "FAIL %s (%s:%d): ", current, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    cordon_os_error e = cordon_last_os_error();
    if (e.code != 0) {
        fprintf(stderr, "  [last OS error: %s errno %d]", e.call, e.code);
    }
    fputc('\n', stderr);
    outcome = 1;
    longjmp(on_fail, 1);
}

void cordon_test_skip(const char *file, int line, const char *reason) {
    fprintf(stderr, "SKIP %s (%s:%d): %s\n", current, file, line, reason);
    outcome = SKIP_CODE;
    longjmp(on_fail, 1);
}

const char *cordon_test_emulator(void) {
    const char *env = getenv("CORDON_TEST_EMULATOR");
    return env != NULL && *env != '\0' ? env : NULL;
}

bool cordon_test_slow(void) {
    const char *env = getenv("CORDON_TEST_SLOW");
    if (env != NULL && *env != '\0' && strcmp(env, "0") != 0) {
        return true;
    }
    if (cordon_test_emulator() != NULL) {
        return true;
    }
    /* valgrind preloads its own shared objects into the programs it runs */
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

int cordon_test_rounds(int normal, int slow) {
    return cordon_test_slow() ? slow : normal;
}

uint64_t cordon_test_seed(void) {
    static uint64_t seed;
    static int have;
    if (!have) {
        const char *env = getenv("CORDON_TEST_SEED");
        if (env != NULL && *env != '\0') {
            seed = strtoull(env, NULL, 0);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
        }
        have = 1;
        fprintf(stderr, "%s: seed %" PRIu64 " (repeat with CORDON_TEST_SEED=%" PRIu64 ")\n", current, seed, seed);
    }
    return seed;
}

static int run_one(const test_entry *t) {
    current = t->name;
    outcome = 0;
    if (setjmp(on_fail) == 0) {
        t->fn();
    }
    if (outcome == 0) {
        fprintf(stderr, "PASS %s\n", t->name);
    }
    return outcome;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < test_count; i++) {
            printf("%s\n", tests[i].name);
        }
        return 0;
    }
    if (argc == 2) {
        for (int i = 0; i < test_count; i++) {
            if (strcmp(tests[i].name, argv[1]) == 0) {
                return run_one(&tests[i]);
            }
        }
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    int failed = 0, skipped = 0, passed = 0;
    for (int i = 0; i < test_count; i++) {
        int r = run_one(&tests[i]);
        if (r == 0) {
            passed++;
        } else if (r == SKIP_CODE) {
            skipped++;
        } else {
            failed++;
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed != 0 ? 1 : 0;
}
