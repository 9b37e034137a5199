/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — files: a whole regular file mapped read-only, and a file written from start to end (the
 * compute module's model files). open, fstat, mmap, munmap, write, fsync, close.
 *
 * Every call passes a fault point first, retries EINTR where the call can be restarted, and records errno
 * with the call's name on failure. A descriptor is owned by exactly one path and closed exactly once. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sys/sys_internal.h"

/* Opens path with flags (and mode when creating), retrying EINTR. */
static cordon_status open_path(const char *path, int flags, mode_t mode, int *fd_out) {
    for (;;) {
        int err = 0;
        int fd;
        if (CORDON__FAULT(OPEN, &err)) {
            fd = -1;
        } else {
            /* SAFETY: open -- open a model file named by the caller, to map it or to write it.
             * Relies on: path is a NUL-terminated string the caller checked for NULL; flags always
             * include O_CLOEXEC so no child inherits the descriptor; mode is read only with O_CREAT;
             * the descriptor is owned by the caller of open_path, which closes it on every path.
             * On failure: EINTR retried; others recorded as "open" (ENOENT → CORDON_OS_ERROR, EACCES →
             * CORDON_PERMISSION_DENIED, EMFILE → CORDON_OUT_OF_RESOURCES); nothing is open. */
            fd = open(path, flags, mode);
            if (fd < 0) {
                err = cordon__sys_errno();
            }
        }
        if (fd >= 0) {
            *fd_out = fd;
            return CORDON_OK;
        }
        if (err != EINTR) {
            return cordon__sys_fail("open", err);
        }
    }
}

/* Closes a descriptor this file opened. Not retried on EINTR: Linux releases the descriptor even then,
 * and a retry could close one another thread just opened. */
static cordon_status close_fd(int fd) {
    int err = 0;
    cordon_status st = CORDON_OK;
    if (CORDON__FAULT(CLOSE, &err)) {
        /* An injected failure: the descriptor is still closed below, so nothing leaks. */
        st = cordon__sys_fail("close", err);
    }
    /* SAFETY: close -- release a descriptor opened by open_path, exactly once.
     * Relies on: fd is open and owned by the calling function, which never uses it afterwards; not
     * retried on EINTR (the descriptor is released even then on Linux).
     * On failure: recorded as "close" (for a written file, EIO here can mean lost data: the caller
     * reports it); the descriptor is released either way. */
    if (close(fd) != 0 && st == CORDON_OK) {
        st = cordon__sys_fail("close", cordon__sys_errno());
    }
    return st;
}

cordon_status cordon__sys_file_map_readonly(const char *path, const void **data_out, size_t *size_out) {
    if (path == NULL || data_out == NULL || size_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int fd = -1;
    cordon_status st = open_path(path, O_RDONLY | O_CLOEXEC, 0, &fd);
    if (st != CORDON_OK) {
        return st;
    }
    struct stat info;
    int err = 0;
    int rc;
    if (CORDON__FAULT(FSTAT, &err)) {
        rc = -1;
    } else {
        /* SAFETY: fstat -- learn the type and size of the file just opened.
         * Relies on: fd is the open descriptor from above; info is a local struct of the right type;
         * info is read only when the call returned 0.
         * On failure: recorded as "fstat"; the descriptor is closed; nothing is mapped. */
        rc = fstat(fd, &info);
        if (rc != 0) {
            err = cordon__sys_errno();
        }
    }
    if (rc != 0) {
        st = cordon__sys_fail("fstat", err);
        (void)close_fd(fd);
        return st;
    }
    if (!S_ISREG(info.st_mode) || info.st_size <= 0) {
        /* A directory, a device or an empty file: nothing to map (mmap refuses a zero length). */
        (void)close_fd(fd);
        return CORDON_INVALID_ARGUMENT;
    }
    if ((uintmax_t)info.st_size > (uintmax_t)SIZE_MAX) {
        (void)close_fd(fd);
        return CORDON_OVERFLOW;
    }
    size_t size = (size_t)info.st_size;
    void *p = MAP_FAILED;
    for (;;) {
        if (CORDON__FAULT(MMAP, &err)) {
            p = MAP_FAILED;
        } else {
            /* SAFETY: mmap -- map the whole file read-only so its bytes are read in place, not copied.
             * Relies on: size > 0 and equal to the file's size from fstat (checked to fit size_t);
             * offset 0; addr NULL (no MAP_FIXED, so no existing mapping is replaced); PROT_READ with
             * MAP_PRIVATE, so nothing cordon does can write the file; the result is compared with
             * MAP_FAILED; the caller owns [p, p + size) until cordon__sys_file_unmap(p, size). The
             * file must not shrink while mapped (pages past its new end would fault with SIGBUS):
             * documented as the caller's obligation in include/cordon/safetensors.h.
             * On failure: EINTR retried; others recorded as "mmap" (ENOMEM → CORDON_OUT_OF_MEMORY,
             * ENODEV for a file system without mmap → CORDON_OS_ERROR); the descriptor is closed. */
            p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                err = cordon__sys_errno();
            }
        }
        if (p != MAP_FAILED || err != EINTR) {
            break;
        }
    }
    if (p == MAP_FAILED) {
        st = cordon__sys_fail("mmap", err);
        (void)close_fd(fd);
        return st;
    }
    /* The mapping keeps the file open by itself; a failing close of a read-only descriptor loses
     * nothing (it was released anyway), so it is recorded but the mapping is returned. */
    (void)close_fd(fd);
    *data_out = p;
    *size_out = size;
    return CORDON_OK;
}

cordon_status cordon__sys_file_unmap(const void *data, size_t size) {
    if (data == NULL || size == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    for (;;) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(MUNMAP, &err)) {
            rc = -1;
        } else {
            /* SAFETY: munmap -- release a mapping made by cordon__sys_file_map_readonly.
             * Relies on: data and size are exactly what the map call returned (the caller keeps them
             * together and unmaps once, after every reader of the bytes has finished); munmap of a
             * whole mapping does not split it, so it fails before changing anything. The cast drops
             * const only for the call's signature: nothing is written.
             * On failure: EINTR retried; others recorded as "munmap"; the mapping stays as it was. */
            rc = munmap((void *)(uintptr_t)data, size);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            return CORDON_OK;
        }
        if (err != EINTR) {
            return cordon__sys_fail("munmap", err);
        }
    }
}

cordon_status cordon__sys_file_create(const char *path, cordon__sys_file *out) {
    if (path == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int fd = -1;
    cordon_status st = open_path(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644, &fd);
    if (st != CORDON_OK) {
        return st;
    }
    out->fd = fd;
    return CORDON_OK;
}

cordon_status cordon__sys_file_write_all(cordon__sys_file file, const void *buf, size_t len) {
    if (file.fd < 0 || (buf == NULL && len > 0)) {
        return CORDON_INVALID_ARGUMENT;
    }
    const unsigned char *p = buf;
    while (len > 0) {
        /* One call moves at most SSIZE_MAX bytes; Linux caps it lower by itself. */
        size_t chunk = len > (size_t)SSIZE_MAX ? (size_t)SSIZE_MAX : len;
        int err = 0;
        ssize_t n;
        if (CORDON__FAULT(WRITE, &err)) {
            n = -1;
        } else {
            /* SAFETY: write -- append bytes of a file being saved.
             * Relies on: file.fd is a descriptor from cordon__sys_file_create not yet finished; p has
             * len readable bytes (the caller's buffer) and chunk <= len; n is checked before use and a
             * short write continues from where it stopped.
             * On failure: EINTR retried; a return of 0 for a nonzero length is reported as EIO; others
             * recorded as "write" (ENOSPC → CORDON_OUT_OF_RESOURCES); the file keeps what was
             * written, and the caller finishes it. */
            n = write(file.fd, p, chunk);
            if (n < 0) {
                err = cordon__sys_errno();
            } else if (n == 0) {
                n = -1;
                err = EIO;
            }
        }
        if (n < 0) {
            if (err == EINTR) {
                continue;
            }
            return cordon__sys_fail("write", err);
        }
        p += (size_t)n;
        len -= (size_t)n;
    }
    return CORDON_OK;
}

cordon_status cordon__sys_file_finish(cordon__sys_file file, bool sync) {
    if (file.fd < 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = CORDON_OK;
    while (sync) {
        int err = 0;
        int rc;
        if (CORDON__FAULT(FSYNC, &err)) {
            rc = -1;
        } else {
            /* SAFETY: fsync -- make the saved file's bytes durable before reporting success.
             * Relies on: file.fd is a descriptor from cordon__sys_file_create not yet closed.
             * On failure: EINTR retried; others recorded as "fsync" and returned after the descriptor
             * is closed below (the data may not have reached the disk). */
            rc = fsync(file.fd);
            if (rc != 0) {
                err = cordon__sys_errno();
            }
        }
        if (rc == 0) {
            break;
        }
        if (err != EINTR) {
            st = cordon__sys_fail("fsync", err);
            break;
        }
    }
    cordon_status cst = close_fd(file.fd);
    return st != CORDON_OK ? st : cst;
}
