/* SPDX-License-Identifier: Apache-2.0 */
/* The status model: names, descriptions and the per-thread OS error detail. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/sys.h"

TEST(every_status_has_a_distinct_name_and_description) {
    for (int i = 0; i < CORDON_STATUS_COUNT; i++) {
        const char *name = cordon_status_name((cordon_status)i);
        const char *desc = cordon_status_str((cordon_status)i);
        CHECK(strncmp(name, "CORDON_", 7) == 0);
        CHECK(strcmp(name, "CORDON_UNKNOWN_STATUS") != 0);
        CHECK(desc[0] != '\0');
        for (int j = 0; j < i; j++) {
            CHECK_MSG(strcmp(name, cordon_status_name((cordon_status)j)) != 0, "duplicate name %s", name);
            CHECK_MSG(strcmp(desc, cordon_status_str((cordon_status)j)) != 0, "duplicate text %s", desc);
        }
    }
    CHECK(strcmp(cordon_status_name(CORDON_OUT_OF_BOUNDS), "CORDON_OUT_OF_BOUNDS") == 0);
}

TEST(unknown_status_values_are_named_unknown) {
    CHECK(strcmp(cordon_status_name((cordon_status)CORDON_STATUS_COUNT), "CORDON_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(cordon_status_name((cordon_status)-1), "CORDON_UNKNOWN_STATUS") == 0);
    CHECK(strcmp(cordon_status_str((cordon_status)12345), "unknown status") == 0);
}

TEST(errno_values_map_to_statuses) {
    CHECK_STATUS(cordon__sys_status_from_errno(ENOMEM), CORDON_OUT_OF_MEMORY);
    CHECK_STATUS(cordon__sys_status_from_errno(EAGAIN), CORDON_OUT_OF_RESOURCES);
    CHECK_STATUS(cordon__sys_status_from_errno(EPERM), CORDON_PERMISSION_DENIED);
    CHECK_STATUS(cordon__sys_status_from_errno(EACCES), CORDON_PERMISSION_DENIED);
    CHECK_STATUS(cordon__sys_status_from_errno(ENOSYS), CORDON_UNSUPPORTED);
    CHECK_STATUS(cordon__sys_status_from_errno(ETIMEDOUT), CORDON_TIMED_OUT);
    CHECK_STATUS(cordon__sys_status_from_errno(EINVAL), CORDON_OS_ERROR);
}

TEST(os_error_detail_records_call_and_errno) {
    cordon_clear_os_error();
    CHECK_EQ_I64(cordon_last_os_error().code, 0);
    CHECK(strcmp(cordon_last_os_error().call, "") == 0);
    CHECK_STATUS(cordon__sys_fail("mmap", ENOMEM), CORDON_OUT_OF_MEMORY);
    cordon_os_error e = cordon_last_os_error();
    CHECK_EQ_I64(e.code, ENOMEM);
    CHECK(strcmp(e.call, "mmap") == 0);
    char buf[128];
    size_t n = cordon_format_os_error(buf, sizeof buf);
    CHECK(n == strlen(buf));
    CHECK_MSG(strstr(buf, "mmap: ") == buf, "got '%s'", buf);
    CHECK_MSG(strstr(buf, "(errno 12)") != NULL, "got '%s'", buf);
    cordon_clear_os_error();
    CHECK_EQ_I64(cordon_last_os_error().code, 0);
}

TEST(format_os_error_truncates_and_reports_full_length) {
    CHECK_STATUS(cordon__sys_fail("madvise", EINVAL), CORDON_OS_ERROR);
    char full[256];
    size_t n = cordon_format_os_error(full, sizeof full);
    char small[8];
    memset(small, 'x', sizeof small);
    CHECK_EQ_U64(cordon_format_os_error(small, sizeof small), n);
    CHECK(small[7] == '\0');
    CHECK(strncmp(small, full, 7) == 0);
    CHECK_EQ_U64(cordon_format_os_error(NULL, 0), n);
}

static void *record_in_other_thread(void *arg) {
    (void)arg;
    (void)cordon__sys_fail("futex", EINTR);
    cordon_os_error e = cordon_last_os_error();
    return (void *)(intptr_t)(e.code == EINTR && strcmp(e.call, "futex") == 0);
}

TEST(os_error_detail_is_per_thread) {
    (void)cordon__sys_fail("mprotect", EACCES);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, record_in_other_thread, NULL) == 0);
    void *ok = NULL;
    CHECK(pthread_join(t, &ok) == 0);
    CHECK(ok != NULL);
    cordon_os_error e = cordon_last_os_error();
    CHECK_EQ_I64(e.code, EACCES);
    CHECK(strcmp(e.call, "mprotect") == 0);
}

TEST(version_matches_headers) {
    CHECK(strcmp(cordon_version_string(), CORDON_VERSION_STRING) == 0);
    CHECK_EQ_I64(cordon_version_number(), CORDON_VERSION_NUMBER);
    CHECK_EQ_I64(CORDON_VERSION_NUMBER,
                 CORDON_VERSION_MAJOR * 10000 + CORDON_VERSION_MINOR * 100 + CORDON_VERSION_PATCH);
}

TEST(format_os_error_with_null_buffer_only_measures) {
    (void)cordon__sys_fail("munmap", EINVAL);
    size_t n = cordon_format_os_error(NULL, 0);
    CHECK(n > 0);
    CHECK_EQ_U64(cordon_format_os_error(NULL, 100), n);
}
