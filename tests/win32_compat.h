/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper, Windows build only (force-included into every test there): the few POSIX calls the
 * tests use to drive or observe the library, written on Win32 (tests stand outside the cordon). */
#ifndef CORDON_TEST_WIN32_COMPAT_H
#define CORDON_TEST_WIN32_COMPAT_H
#if defined(_WIN32)

#include <direct.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

__declspec(dllimport) unsigned long __stdcall GetCurrentThreadId(void);

/* Thread ids for the "parked" helper: Windows has no /proc wchan, so it falls back to a pause. */
static inline pid_t gettid(void) {
    return (pid_t)GetCurrentThreadId();
}

/* A watchdog against deadlocks on POSIX; here the ctest timeout ends a hung test instead. */
static inline unsigned alarm(unsigned seconds) {
    (void)seconds;
    return 0;
}

static inline int setenv(const char *name, const char *value, int overwrite) {
    if (!overwrite && getenv(name) != NULL) {
        return 0;
    }
    return _putenv_s(name, value) == 0 ? 0 : -1;
}

static inline int unsetenv(const char *name) {
    return _putenv_s(name, "") == 0 ? 0 : -1;
}

static inline char *mkdtemp(char *tmpl) {
    if (_mktemp_s(tmpl, strlen(tmpl) + 1) != 0 || _mkdir(tmpl) != 0) {
        return NULL;
    }
    return tmpl;
}

#endif
#endif /* CORDON_TEST_WIN32_COMPAT_H */
