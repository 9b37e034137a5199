/* SPDX-License-Identifier: Apache-2.0 */
/* cordon test harness.
 *
 * A test file defines behaviours with TEST(name) { ... }. The build registers each one as its own ctest
 * test, named <file>.<name> (tests/test_pages.c, TEST(grow_past_maximum_fails) → pages.grow_past_maximum_fails),
 * and runs it as `test_<file> <name>` in a fresh process. Running a test binary with no argument runs
 * all its tests; --list lists them.
 *
 * CHECK*() failing marks the test failed, prints where and why, and ends the test. SKIP(reason) ends it
 * as skipped: exit code 77, which ctest reports as "Skipped", never as passed.
 *
 * CHECK*() and SKIP() end the test with longjmp, so they may be used only on the thread running the test:
 * a helper thread returns a result that the test thread checks. */
#ifndef CORDON_TEST_HARNESS_H
#define CORDON_TEST_HARNESS_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/status.h"

typedef void (*cordon_test_fn)(void);

void cordon_test_register(const char *name, cordon_test_fn fn);
/* MinGW's `printf` format archetype is the system runtime's; the build uses the C99 one
 * (__USE_MINGW_ANSI_STDIO), which GCC calls gnu_printf. */
#if defined(__MINGW32__)
#  define CORDON_TEST_PRINTF gnu_printf
#else
#  define CORDON_TEST_PRINTF printf
#endif
_Noreturn void cordon_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(CORDON_TEST_PRINTF, 3, 4)));
_Noreturn void cordon_test_skip(const char *file, int line, const char *reason);
/* A seed for property tests: CORDON_TEST_SEED from the environment, else derived from the clock.
 * Printed, so a failing run can be repeated. */
uint64_t cordon_test_seed(void);
/* The emulator the test runs under (CORDON_TEST_EMULATOR, which a cross build's test registration sets,
 * e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu"), or NULL when it runs natively. A test that checks
 * something the emulator does not model (a kernel feature it does not pass on) skips, naming it. */
const char *cordon_test_emulator(void);
/* Is the test running somewhere everything is ~30x slower (under valgrind, under an emulator, or
 * CORDON_TEST_SLOW=1)?
 * Loops then run fewer rounds: the behaviour checked is the same, valgrind checks every access. */
bool cordon_test_slow(void);
/* `normal` rounds, or `slow` when cordon_test_slow(). */
int cordon_test_rounds(int normal, int slow);
/* Name of the test being run. */
const char *cordon_test_current(void);

#define TEST(name)                                                                 \
    static void test_##name(void);                                                 \
    __attribute__((constructor)) static void register_##name(void) {               \
        cordon_test_register(#name, test_##name);                                  \
    }                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                \
    do {                                                                           \
        if (!(cond)) cordon_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);      \
    } while (0)

#define CHECK_MSG(cond, ...)                                                       \
    do {                                                                           \
        if (!(cond)) cordon_test_fail(__FILE__, __LINE__, __VA_ARGS__);            \
    } while (0)

#define CHECK_EQ_U64(a, b)                                                                        \
    do {                                                                                          \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                              \
        if (check_a_ != check_b_)                                                                 \
            cordon_test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b,       \
                             check_a_, check_b_);                                                 \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                                        \
    do {                                                                                          \
        int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);                                 \
        if (check_a_ != check_b_)                                                                 \
            cordon_test_fail(__FILE__, __LINE__, "%s == %s: %" PRId64 " != %" PRId64, #a, #b,       \
                             check_a_, check_b_);                                                 \
    } while (0)

/* The expression must return exactly the given status. */
#define CHECK_STATUS(expr, expected)                                                              \
    do {                                                                                          \
        cordon_status check_s_ = (expr);                                                          \
        cordon_status check_e_ = (expected);                                                      \
        if (check_s_ != check_e_)                                                                 \
            cordon_test_fail(__FILE__, __LINE__, "%s: got %s, expected %s", #expr,                \
                             cordon_status_name(check_s_), cordon_status_name(check_e_));         \
    } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, CORDON_OK)

#define SKIP(reason) cordon_test_skip(__FILE__, __LINE__, reason)

#endif /* CORDON_TEST_HARNESS_H */
