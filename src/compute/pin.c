/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — pins: users of a device or tensor that a destroy must wait for (see compute_internal.h). */
#include "compute/compute_internal.h"

#include "cordon/futex.h"

void cordon__pin(cordon__pins *p) {
    __atomic_fetch_add(&p->count, 1u, __ATOMIC_SEQ_CST);
    /* The caller's second lookup must not be satisfied before the pin is visible to a destroyer. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void cordon__unpin(cordon__pins *p) {
    if (__atomic_fetch_sub(&p->count, 1u, __ATOMIC_SEQ_CST) == 1u &&
        __atomic_load_n(&p->waiting, __ATOMIC_SEQ_CST) != 0u) {
        /* A valid, aligned word: the wake cannot fail for a reason the caller could act on, and the
         * drain re-checks with a bounded wait anyway. */
        cordon_status st = cordon_futex_wake(&p->count, CORDON_FUTEX_WAKE_ALL, 0, NULL);
        (void)st;
    }
}

void cordon__pins_drain(cordon__pins *p) {
    /* The claim that precedes this call is ordered before the loads below. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (;;) {
        uint32_t n = __atomic_load_n(&p->count, __ATOMIC_SEQ_CST);
        if (n == 0u) {
            break;
        }
        __atomic_store_n(&p->waiting, 1u, __ATOMIC_SEQ_CST);
        /* A 1 ms bound: an unpin that read `waiting` just before the store above does not wake us. */
        cordon_status st = cordon_futex_wait(&p->count, n, 1000000, 0);
        (void)st;
    }
    __atomic_store_n(&p->waiting, 0u, __ATOMIC_SEQ_CST);
}
