/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the heap, for every allocation the library makes. */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "sys/sys_internal.h"

cordon_status cordon__sys_alloc(size_t size, void **out) {
    if (size == 0 || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(MALLOC, &err)) {
        return cordon__sys_fail("malloc", err);
    }
    /* SAFETY: calloc -- obtain a zero-filled block for a library object.
     * Relies on: size > 0 (checked above); calloc checks the count * size product for overflow
     * itself; the result is compared with NULL before use and owned by the caller until
     * cordon__sys_free.
     * On failure: returns CORDON_OUT_OF_MEMORY with "malloc"/ENOMEM recorded; *out is untouched. */
    void *p = calloc(1, size);
    if (p == NULL) {
        return cordon__sys_fail("malloc", cordon__sys_errno());
    }
    *out = p;
    return CORDON_OK;
}

cordon_status cordon__sys_alloc_aligned(size_t align, size_t size, void **out) {
    if (size == 0 || out == NULL || align < sizeof(void *) || (align & (align - 1)) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(POSIX_MEMALIGN, &err)) {
        return cordon__sys_fail("posix_memalign", err);
    }
    void *p = NULL;
    /* SAFETY: posix_memalign -- obtain an aligned block (tensors, cache-line separated state).
     * Relies on: align is a power of two and a multiple of sizeof(void *) (checked above), size > 0;
     * p is only read when the call returned 0.
     * On failure: the call returns the errno value (it does not set errno); recorded as
     * "posix_memalign", *out untouched. */
    int rc = posix_memalign(&p, align, size);
    if (rc != 0) {
        return cordon__sys_fail("posix_memalign", rc);
    }
    memset(p, 0, size);
    *out = p;
    return CORDON_OK;
}

void cordon__sys_free(void *block) {
    /* SAFETY: free -- release a block from cordon__sys_alloc or cordon__sys_alloc_aligned.
     * Relies on: block is NULL or came from calloc/posix_memalign above and is released once: every
     * object owning a block frees it in its destroy path, which runs once (generation-checked
     * handles turn a second destroy into CORDON_STALE before reaching here).
     * On failure: cannot fail. */
    free(block);
}
