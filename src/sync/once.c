/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — once: 0 not run · 1 running · 2 running, a thread parked · 3 done.
 * The first caller moves 0→1 and runs fn; others mark 1→2 and park while the state is 2. The runner
 * stores 3 (release) and wakes all only if the old state was 2. A latecomer that sees 3 (acquire) sees
 * everything fn wrote. Lost wakeup: a waiter parks only while the word is 2; the runner's exchange to
 * 3 makes that comparison fail. */
#include "cordon/sync.h"

#include "sync/sync_internal.h"

cordon_status cordon_once_call(cordon_once *once, void (*fn)(void *arg), void *arg) {
    if (fn == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status check = CORDON__CHECK_OBJECT(once, cordon_once);
    if (check != CORDON_OK) {
        return check;
    }
    if (LOAD_ACQUIRE(&once->state) == 3) {
        return CORDON_OK;
    }
    uint32_t s = 0;
    if (CAS(&once->state, &s, 1u)) {
        fn(arg);
        if (XCHG(&once->state, 3u) == 2) {
            cordon__unpark(&once->state, UINT32_MAX);
        }
        return CORDON_OK;
    }
    while (s != 3) {
        if (s == 1 && !CAS(&once->state, &s, 2u)) {
            continue; /* s now holds the new state */
        }
        (void)cordon__park(&once->state, 2u, CORDON__SYS_FOREVER);
        s = LOAD(&once->state);
    }
    return CORDON_OK;
}
