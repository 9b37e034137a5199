/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the heap on Windows, for every allocation the library makes.
 *
 * Both allocation entry points use _aligned_malloc, so that the one release function, cordon__sys_free,
 * can give every block back with _aligned_free (a block from _aligned_malloc must not go to free, and
 * the C runtime has no posix_memalign). The fault points keep the entry points' identifiers (MALLOC,
 * POSIX_MEMALIGN), so a test arming "allocation fails" drives the same paths on every OS. */
#include <errno.h>
#include <malloc.h>
#include <string.h>

#include "sys/sys_internal.h"

/* What malloc guarantees on x64 Windows, and what cordon__sys_alloc promises (any object type). */
#define DEFAULT_ALIGN ((size_t)16)

static cordon_status aligned_block(size_t align, size_t size, const char *name, void **out) {
    /* SAFETY: _aligned_malloc -- obtain an aligned block for a library object or a tensor.
     * Relies on: size > 0 and align a power of two (checked by both callers); the result is compared
     * with NULL before use, zero-filled here, and owned by the caller until cordon__sys_free, which
     * releases it with _aligned_free.
     * On failure: returns NULL with errno ENOMEM; recorded under the entry point's name; *out untouched. */
    void *p = _aligned_malloc(size, align);
    if (p == NULL) {
        int err = cordon__sys_errno();
        return cordon__sys_fail(name, err != 0 ? err : ENOMEM);
    }
    memset(p, 0, size);
    *out = p;
    return CORDON_OK;
}

cordon_status cordon__sys_alloc(size_t size, void **out) {
    if (size == 0 || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(MALLOC, &err)) {
        return cordon__sys_fail("malloc", err);
    }
    return aligned_block(DEFAULT_ALIGN, size, "malloc", out);
}

cordon_status cordon__sys_alloc_aligned(size_t align, size_t size, void **out) {
    if (size == 0 || out == NULL || align < sizeof(void *) || (align & (align - 1)) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(POSIX_MEMALIGN, &err)) {
        return cordon__sys_fail("posix_memalign", err);
    }
    return aligned_block(align < DEFAULT_ALIGN ? DEFAULT_ALIGN : align, size, "posix_memalign", out);
}

void cordon__sys_free(void *block) {
    /* SAFETY: _aligned_free -- release a block from cordon__sys_alloc or cordon__sys_alloc_aligned.
     * Relies on: block is NULL or came from _aligned_malloc above (both entry points use it) and is
     * released once: every owner frees it in its destroy path, which runs once (generation-checked
     * handles turn a second destroy into CORDON_STALE before reaching here).
     * On failure: cannot fail. */
    _aligned_free(block);
}
