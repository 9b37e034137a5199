/* SPDX-License-Identifier: Apache-2.0 */
/* File paths are UTF-8 on every platform: a file saved under a non-ASCII name is found again under that
 * name, by the library and by the OS (on Windows, through the UTF-16 name), and on Windows a path that
 * is not UTF-8 is refused as an invalid argument. */
#if defined(_WIN32)
#  define WIN32_LEAN_AND_MEAN
#  include <windows.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cordon/cordon.h"
#include "harness.h"
#include "sys/fault.h"

/* "modèle-Ωμέγα-模型.safetensors": two- and three-byte UTF-8 sequences, none in any ANSI code page
 * that holds them all. */
static const char non_ascii_name[] = "mod\xc3\xa8le-\xce\xa9\xce\xbc\xce\xad\xce\xb3\xce\xb1-\xe6\xa8\xa1\xe5\x9e\x8b.safetensors";

/* A one-thread CPU device holding a tensor of the n values (*d_out, to destroy). Files are named
 * relative to the test's working directory (its build directory), each test's under its own name. */
static cordon_tensor vector_on_new_device(const float *vals, uint64_t n, cordon_device *d_out) {
    cordon_device_options opt;
    cordon_device_options_init(&opt);
    opt.threads = 1;
    opt.storage_bytes = UINT64_C(1) << 20;
    CHECK_OK(cordon_device_create(&opt, d_out));
    cordon_tensor t;
    CHECK_OK(cordon_tensor_create(*d_out, CORDON_DTYPE_F32, 1, &n, &t));
    CHECK_OK(cordon_tensor_write(t, vals, (size_t)n * sizeof(float)));
    return t;
}

/* Opens the file under its UTF-8 name with the OS's own call (on Windows, the UTF-16 form). */
static FILE *open_by_os(const char *path) {
#if defined(_WIN32)
    wchar_t wide[512];
    CHECK(MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, 512) > 0);
    return _wfopen(wide, L"rb");
#else
    return fopen(path, "rb");
#endif
}

static void remove_by_os(const char *path) {
#if defined(_WIN32)
    wchar_t wide[512];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, 512) > 0) {
        (void)_wremove(wide);
    }
#else
    (void)unlink(path);
#endif
}

TEST(non_ascii_file_name_round_trips) {
    float vals[4] = {1.5f, -2.0f, 0.25f, 8.0f};
    cordon_device d;
    cordon_tensor t = vector_on_new_device(vals, 4, &d);
    const char *path = non_ascii_name;
    remove_by_os(path);
    cordon_safetensors_item item = {"w", t};
    CHECK_OK(cordon_safetensors_save(path, &item, 1, NULL, 0, 0));

    /* The OS finds it under the same name (an ANSI conversion would have named it otherwise). */
    FILE *f = open_by_os(path);
    CHECK(f != NULL);
    unsigned char head[8];
    CHECK(fread(head, 1, sizeof head, f) == sizeof head);
    CHECK(fclose(f) == 0);

    cordon_safetensors st;
    CHECK_OK(cordon_safetensors_open(path, &st));
    cordon_tensor back;
    CHECK_OK(cordon_safetensors_load(st, "w", d, &back));
    float got[4];
    CHECK_OK(cordon_tensor_read(back, got, sizeof got));
    CHECK(memcmp(got, vals, sizeof vals) == 0);
    CHECK_OK(cordon_safetensors_close(st));
    CHECK_OK(cordon_device_destroy(d));
    remove_by_os(path);
}

TEST(path_that_is_not_utf8_is_invalid_argument_on_windows) {
#if defined(_WIN32)
    /* "bad-\xff.safetensors": 0xFF never appears in UTF-8. */
    const char *path = "bad-\xff.safetensors";
    cordon_safetensors st = {0};
    cordon_clear_os_error();
    CHECK_STATUS(cordon_safetensors_open(path, &st), CORDON_INVALID_ARGUMENT);
    CHECK_EQ_U64(st.handle, 0);
    cordon_os_error e = cordon_last_os_error();
    CHECK(e.code == ERROR_NO_UNICODE_TRANSLATION && strcmp(e.call, "MultiByteToWideChar") == 0);
    char detail[256];
    CHECK(cordon_format_os_error(detail, sizeof detail) > 0);
    CHECK(strstr(detail, "Win32 error 1113") != NULL);
    /* Saving refuses it the same way, and creates nothing. */
    float one = 1.0f;
    cordon_device d;
    cordon_tensor t = vector_on_new_device(&one, 1, &d);
    cordon_safetensors_item item = {"w", t};
    CHECK_STATUS(cordon_safetensors_save(path, &item, 1, NULL, 0, 0), CORDON_INVALID_ARGUMENT);
    CHECK_OK(cordon_device_destroy(d));
#else
    SKIP("POSIX file names are byte strings: a path that is not UTF-8 is still a valid name there");
#endif
}

TEST(injected_path_conversion_failure_is_recorded_with_its_win32_code) {
#if defined(_WIN32)
    if (!cordon__fault_available()) {
        SKIP("built without CORDON_FAULT_INJECTION");
    }
    const char *path = non_ascii_name;
    cordon_safetensors st = {0};
    cordon__fault_reset();
    CHECK_OK(cordon__fault_arm(CORDON__CALL_MULTI_BYTE_TO_WIDE_CHAR, 1, 1, ERROR_NOT_ENOUGH_MEMORY));
    CHECK_STATUS(cordon_safetensors_open(path, &st), CORDON_OUT_OF_MEMORY);
    cordon__fault_stop();
    CHECK_EQ_U64(st.handle, 0);
    cordon_os_error e = cordon_last_os_error();
    CHECK(e.code == ERROR_NOT_ENOUGH_MEMORY && strcmp(e.call, "MultiByteToWideChar") == 0);
#else
    SKIP("the UTF-8 to UTF-16 path conversion exists only on Windows");
#endif
}
