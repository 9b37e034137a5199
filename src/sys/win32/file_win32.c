/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — files on Windows: a whole regular file mapped read-only (CreateFileW, GetFileSizeEx,
 * CreateFileMappingW, MapViewOfFile, UnmapViewOfFile) and a file written from start to end (CreateFileW,
 * WriteFile, FlushFileBuffers, CloseHandle): the Win32 counterpart of file.c.
 *
 * Paths are UTF-8, as on every other platform: each is converted to UTF-16 (MultiByteToWideChar) and
 * given to the wide entry points, whatever the process code page. A path that is not valid UTF-8 is
 * CORDON_INVALID_ARGUMENT, recorded as "MultiByteToWideChar" with ERROR_NO_UNICODE_TRANSLATION. Every
 * handle is owned by exactly one path and closed exactly once.
 *
 * Fault points keep the identifiers of the POSIX counterparts (OPEN, FSTAT, MMAP, MUNMAP, WRITE, FSYNC,
 * CLOSE), with errno values injected (EINTR retried where POSIX retries it); the mapping object has its
 * own (CREATE_FILE_MAPPING, a Win32 error code). */
#define WIN32_LEAN_AND_MEAN

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <windows.h>

#include "sys/win32/win32_internal.h"

/* Closes a handle this file opened; fault point CLOSE. */
static cordon_status close_handle(HANDLE h) {
    int err = 0;
    cordon_status st = CORDON_OK;
    if (CORDON__FAULT(CLOSE, &err)) {
        /* An injected failure: the handle is still closed below, so nothing leaks. */
        st = cordon__sys_fail_injected(CORDON__CALL_CLOSE, err);
    }
    /* SAFETY: CloseHandle -- release a file or file-mapping handle opened in this file, exactly once.
     * Relies on: h is open and owned by the calling function, which never uses it afterwards; a view
     * mapped from a mapping handle keeps the mapping and the file alive by itself.
     * On failure: recorded as "CloseHandle" only if nothing failed before. */
    if (!CloseHandle(h) && st == CORDON_OK) {
        st = cordon__sys_fail_win32("CloseHandle", cordon__sys_win32_error());
    }
    return st;
}

/* The UTF-16 form of the UTF-8 path, NUL-terminated, in a block from cordon__sys_alloc that the caller
 * frees; fault point MULTI_BYTE_TO_WIDE_CHAR (a Win32 error code). */
static cordon_status widen_path(const char *path, wchar_t **out) {
    int err = 0;
    if (CORDON__FAULT(MULTI_BYTE_TO_WIDE_CHAR, &err)) {
        return cordon__sys_fail_win32("MultiByteToWideChar", err);
    }
    /* SAFETY: MultiByteToWideChar -- count the UTF-16 units of the path, its NUL included.
     * Relies on: path is a NUL-terminated string the caller checked for NULL (length -1: the call reads
     * up to and including the NUL and counts it); no output buffer and size 0 only measure;
     * MB_ERR_INVALID_CHARS makes invalid UTF-8 a failure instead of a silent U+FFFD, so two different
     * byte strings never name the same file.
     * On failure: 0; ERROR_NO_UNICODE_TRANSLATION (invalid UTF-8) is recorded as "MultiByteToWideChar"
     * and returned as CORDON_INVALID_ARGUMENT, any other code mapped as usual; nothing is allocated. */
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    if (n <= 0) {
        int code = cordon__sys_win32_error();
        return code == ERROR_NO_UNICODE_TRANSLATION
                   ? cordon__sys_fail_win32_as(CORDON_INVALID_ARGUMENT, "MultiByteToWideChar", code)
                   : cordon__sys_fail_win32("MultiByteToWideChar", code);
    }
    void *block = NULL;
    cordon_status st = cordon__sys_alloc((size_t)n * sizeof(wchar_t), &block);
    if (st != CORDON_OK) {
        return st;
    }
    wchar_t *wide = block;
    /* SAFETY: MultiByteToWideChar -- write the UTF-16 form of the path, its NUL included.
     * Relies on: wide holds n units, the count the measuring call above returned for the same
     * unchanged string (the caller's, read only), so the conversion fits and ends with its NUL.
     * On failure: 0, recorded as "MultiByteToWideChar"; the block is freed; nothing is returned. */
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wide, n) != n) {
        int code = cordon__sys_win32_error();
        cordon__sys_free(block);
        return cordon__sys_fail_win32("MultiByteToWideChar", code);
    }
    *out = wide;
    return CORDON_OK;
}

static cordon_status open_file(const wchar_t *path, bool writing, HANDLE *out) {
    int err = 0;
    while (CORDON__FAULT(OPEN, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_OPEN, err);
        }
    }
    /* SAFETY: CreateFileW -- open a model file named by the caller, to map it or to write it.
     * Relies on: path is the NUL-terminated UTF-16 form of the caller's path (widen_path); reading opens an existing
     * file shared for reading, writing creates or truncates one (CREATE_ALWAYS) with exclusive access;
     * no security attributes, so the handle is not inherited by child processes; the result is compared
     * with INVALID_HANDLE_VALUE and owned by the caller, which closes it on every path.
     * On failure: recorded as "CreateFileW" (ERROR_FILE_NOT_FOUND → CORDON_OS_ERROR, ERROR_ACCESS_DENIED
     * → CORDON_PERMISSION_DENIED); nothing is open. */
    HANDLE h = CreateFileW(path, writing ? GENERIC_WRITE : GENERIC_READ, writing ? 0 : FILE_SHARE_READ, NULL,
                           writing ? CREATE_ALWAYS : OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        return cordon__sys_fail_win32("CreateFileW", cordon__sys_win32_error());
    }
    *out = h;
    return CORDON_OK;
}

/* Is path a directory? (CreateFileW refuses to open one, with ERROR_ACCESS_DENIED, which would read
 * as a permission problem; the contract calls it an invalid argument, as on Linux.) */
static bool is_directory(const wchar_t *path) {
    /* SAFETY: GetFileAttributesW -- tell a directory apart before opening the path.
     * Relies on: path is a NUL-terminated UTF-16 string (widen_path); the result is only compared with bit masks.
     * On failure: INVALID_FILE_ATTRIBUTES: not a directory as far as this check goes; the open that
     * follows reports the real error. */
    DWORD a = GetFileAttributesW(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

/* Opens the UTF-8 path for reading; a directory is CORDON_INVALID_ARGUMENT. */
static cordon_status open_for_reading(const char *path, HANDLE *out) {
    wchar_t *wide = NULL;
    cordon_status st = widen_path(path, &wide);
    if (st != CORDON_OK) {
        return st;
    }
    st = is_directory(wide) ? CORDON_INVALID_ARGUMENT : open_file(wide, false, out);
    cordon__sys_free(wide);
    return st;
}

cordon_status cordon__sys_file_map_readonly(const char *path, const void **data_out, size_t *size_out) {
    if (path == NULL || data_out == NULL || size_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    HANDLE file = INVALID_HANDLE_VALUE;
    cordon_status st = open_for_reading(path, &file);
    if (st != CORDON_OK) {
        return st;
    }
    int err = 0;
    LARGE_INTEGER size;
    BOOL ok;
    bool fault = CORDON__FAULT(FSTAT, &err);
    if (fault) {
        ok = FALSE;
    } else {
        /* SAFETY: GetFileSizeEx -- learn the size of the file just opened.
         * Relies on: file is the open handle from above; size is a local read only on success.
         * On failure: recorded as "GetFileSizeEx"; the handle is closed; nothing is mapped. */
        ok = GetFileSizeEx(file, &size);
        if (!ok) {
            err = cordon__sys_win32_error();
        }
    }
    if (!ok) {
        st = fault ? cordon__sys_fail_injected(CORDON__CALL_FSTAT, err) : cordon__sys_fail_win32("GetFileSizeEx", err);
        (void)close_handle(file);
        return st;
    }
    if (size.QuadPart <= 0) {
        (void)close_handle(file); /* an empty file: nothing to map (a zero-size mapping is refused) */
        return CORDON_INVALID_ARGUMENT;
    }
    if ((uint64_t)size.QuadPart > (uint64_t)SIZE_MAX) {
        (void)close_handle(file);
        return CORDON_OVERFLOW;
    }
    HANDLE mapping = NULL;
    if (CORDON__FAULT(CREATE_FILE_MAPPING, &err)) {
        mapping = NULL;
    } else {
        /* SAFETY: CreateFileMappingW -- a read-only mapping object over the whole file.
         * Relies on: file is open for reading; PAGE_READONLY matches that access; size 0 means the
         * file's current size (checked nonzero above); no name, so no other process can open it; the
         * result is compared with NULL (not INVALID_HANDLE_VALUE, which this call never returns).
         * On failure: recorded as "CreateFileMappingW"; the file handle is closed; nothing is mapped. */
        mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
        if (mapping == NULL) {
            err = cordon__sys_win32_error();
        }
    }
    if (mapping == NULL) {
        st = cordon__sys_fail_win32("CreateFileMappingW", err);
        (void)close_handle(file);
        return st;
    }
    void *p = NULL;
    fault = false;
    while (CORDON__FAULT(MMAP, &err)) {
        if (err != EINTR) {
            fault = true;
            break;
        }
    }
    if (fault) {
        p = NULL;
    } else {
        /* SAFETY: MapViewOfFile -- map the whole file read-only so its bytes are read in place.
         * Relies on: mapping is the read-only mapping object from above; FILE_MAP_READ matches it;
         * offset 0 and length 0 map the whole file, whose size was read above (the file must not
         * shrink while mapped: the caller's obligation, include/cordon/safetensors.h); the result is
         * compared with NULL; the caller owns the view until cordon__sys_file_unmap.
         * On failure: recorded as "MapViewOfFile" (ERROR_NOT_ENOUGH_MEMORY → CORDON_OUT_OF_MEMORY);
         * both handles are closed; nothing is mapped. */
        p = MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0);
        if (p == NULL) {
            err = cordon__sys_win32_error();
        }
    }
    if (p == NULL) {
        st = fault ? cordon__sys_fail_injected(CORDON__CALL_MMAP, err) : cordon__sys_fail_win32("MapViewOfFile", err);
        (void)close_handle(mapping);
        (void)close_handle(file);
        return st;
    }
    /* The view keeps the mapping and the file by itself; a failing close of a read-only handle loses
     * nothing, so it is recorded but the view is returned. */
    (void)close_handle(mapping);
    (void)close_handle(file);
    *data_out = p;
    *size_out = (size_t)size.QuadPart;
    return CORDON_OK;
}

cordon_status cordon__sys_file_unmap(const void *data, size_t size) {
    if (data == NULL || size == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    while (CORDON__FAULT(MUNMAP, &err)) {
        if (err != EINTR) {
            return cordon__sys_fail_injected(CORDON__CALL_MUNMAP, err);
        }
    }
    /* SAFETY: UnmapViewOfFile -- release a view made by cordon__sys_file_map_readonly.
     * Relies on: data is exactly the view's base the map call returned (the caller keeps it and
     * unmaps once, after every reader has finished); the whole view goes, so size needs no call.
     * On failure: recorded as "UnmapViewOfFile"; the view stays as it was. */
    if (!UnmapViewOfFile(data)) {
        return cordon__sys_fail_win32("UnmapViewOfFile", cordon__sys_win32_error());
    }
    return CORDON_OK;
}

cordon_status cordon__sys_file_create(const char *path, cordon__sys_file *out) {
    if (path == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    wchar_t *wide = NULL;
    cordon_status st = widen_path(path, &wide);
    if (st != CORDON_OK) {
        return st;
    }
    HANDLE h = INVALID_HANDLE_VALUE;
    st = open_file(wide, true, &h);
    cordon__sys_free(wide);
    if (st != CORDON_OK) {
        return st;
    }
    out->handle = h;
    return CORDON_OK;
}

cordon_status cordon__sys_file_write_all(cordon__sys_file file, const void *buf, size_t len) {
    if (file.handle == NULL || file.handle == INVALID_HANDLE_VALUE || (buf == NULL && len > 0)) {
        return CORDON_INVALID_ARGUMENT;
    }
    const unsigned char *p = buf;
    while (len > 0) {
        /* One call moves at most a DWORD's worth; 1 GiB chunks stay far below it. */
        DWORD chunk = len > ((size_t)1 << 30) ? (DWORD)1 << 30 : (DWORD)len;
        int err = 0;
        DWORD n = 0;
        BOOL ok;
        if (CORDON__FAULT(WRITE, &err)) {
            if (err == EINTR) {
                continue;
            }
            return cordon__sys_fail_injected(CORDON__CALL_WRITE, err);
        } else {
            /* SAFETY: WriteFile -- append bytes of a file being saved.
             * Relies on: file.handle came from cordon__sys_file_create and is not finished; p has len
             * readable bytes and chunk <= len; n is a local read only on success; synchronous handle
             * (no FILE_FLAG_OVERLAPPED), so no OVERLAPPED is needed; a short write continues.
             * On failure: recorded as "WriteFile" (ERROR_DISK_FULL → CORDON_OUT_OF_RESOURCES); a
             * success that wrote nothing is reported as ERROR_WRITE_FAULT; the file keeps what was
             * written and the caller finishes it. */
            ok = WriteFile(file.handle, p, chunk, &n, NULL);
            if (!ok) {
                err = cordon__sys_win32_error();
            } else if (n == 0) {
                ok = FALSE;
                err = ERROR_WRITE_FAULT;
            }
        }
        if (!ok) {
            return cordon__sys_fail_win32("WriteFile", err);
        }
        p += n;
        len -= n;
    }
    return CORDON_OK;
}

cordon_status cordon__sys_file_finish(cordon__sys_file file, bool sync) {
    if (file.handle == NULL || file.handle == INVALID_HANDLE_VALUE) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = CORDON_OK;
    if (sync) {
        int err = 0;
        BOOL ok;
        bool fault = false;
        while (CORDON__FAULT(FSYNC, &err)) {
            if (err != EINTR) {
                fault = true;
                break;
            }
        }
        if (fault) {
            ok = FALSE;
        } else {
            /* SAFETY: FlushFileBuffers -- make the saved file's bytes durable before reporting success.
             * Relies on: file.handle came from cordon__sys_file_create with write access, not yet closed.
             * On failure: recorded as "FlushFileBuffers" and returned after the handle is closed. */
            ok = FlushFileBuffers(file.handle);
            if (!ok) {
                err = cordon__sys_win32_error();
            }
        }
        if (!ok) {
            st = fault ? cordon__sys_fail_injected(CORDON__CALL_FSYNC, err) : cordon__sys_fail_win32("FlushFileBuffers", err);
        }
    }
    cordon_status cst = close_handle(file.handle);
    return st != CORDON_OK ? st : cst;
}
