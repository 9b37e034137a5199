/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — fault injection: the counters behind CORDON__FAULT.
 *
 * State per call: how many calls were seen, the window [first, first + count) of call numbers that
 * must fail, and the errno to fail with. All fields are atomics so that fault points may be hit from
 * any thread (ThreadSanitizer stays quiet); arming is done by a test while no other thread is inside
 * the library, so the fields need not change together. */
#include <stdatomic.h>
#include <string.h>

#include "sys/sys_internal.h"

static const char *const call_names[CORDON__CALL_COUNT] = {
#define CORDON__SYS_CALL(id, name) name,
#include "sys/calls.def"
#undef CORDON__SYS_CALL
};

typedef struct fault_slot {
    atomic_uint_fast64_t calls;
    atomic_uint_fast64_t fired;
    atomic_uint_fast64_t first; /* 0: disarmed */
    atomic_uint_fast64_t count;
    atomic_int err;
} fault_slot;

static fault_slot slots[CORDON__CALL_COUNT];
/* While false every fault point costs one relaxed load and nothing is counted. */
static atomic_bool active;

const char *cordon__sys_call_name(cordon__sys_call call) {
    if ((unsigned)call >= (unsigned)CORDON__CALL_COUNT) {
        return "?";
    }
    return call_names[call];
}

int cordon__sys_call_lookup(const char *name) {
    if (name == NULL) {
        return -1;
    }
    for (int i = 0; i < (int)CORDON__CALL_COUNT; i++) {
        if (strcmp(call_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

bool cordon__fault_available(void) {
#if defined(CORDON_FAULT_INJECTION) && CORDON_FAULT_INJECTION
    return true;
#else
    return false;
#endif
}

cordon_status cordon__fault_arm(cordon__sys_call call, uint64_t nth, uint64_t count, int err) {
    if (!cordon__fault_available()) {
        return CORDON_UNSUPPORTED;
    }
    if ((unsigned)call >= (unsigned)CORDON__CALL_COUNT || nth == 0 || count == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    fault_slot *s = &slots[call];
    atomic_store(&s->first, 0);
    atomic_store(&s->calls, 0);
    atomic_store(&s->fired, 0);
    atomic_store(&s->count, count);
    atomic_store(&s->err, err);
    atomic_store(&s->first, nth);
    atomic_store(&active, true);
    return CORDON_OK;
}

void cordon__fault_reset(void) {
    for (int i = 0; i < (int)CORDON__CALL_COUNT; i++) {
        atomic_store(&slots[i].first, 0);
        atomic_store(&slots[i].calls, 0);
        atomic_store(&slots[i].fired, 0);
    }
    atomic_store(&active, cordon__fault_available());
}

void cordon__fault_stop(void) {
    cordon__fault_reset();
    atomic_store(&active, false);
}

uint64_t cordon__fault_calls(cordon__sys_call call) {
    if ((unsigned)call >= (unsigned)CORDON__CALL_COUNT) {
        return 0;
    }
    return atomic_load(&slots[call].calls);
}

uint64_t cordon__fault_fired(cordon__sys_call call) {
    if ((unsigned)call >= (unsigned)CORDON__CALL_COUNT) {
        return 0;
    }
    return atomic_load(&slots[call].fired);
}

/* The injected page size and the OS's, set together by one test thread before other threads use the
 * library (fault.h), read by any thread afterwards. */
static atomic_size_t injected_page;
static atomic_size_t injected_os_page;

cordon_status cordon__fault_page_size(size_t bytes) {
    if (!cordon__fault_available()) {
        return CORDON_UNSUPPORTED;
    }
    if (bytes == 0) {
        atomic_store(&injected_page, 0);
        return CORDON_OK;
    }
    size_t os_page = 0;
    cordon_status st = cordon__sys_os_page_size(&os_page);
    if (st != CORDON_OK) {
        return st;
    }
    if ((bytes & (bytes - 1u)) != 0 || bytes < os_page) {
        return CORDON_INVALID_ARGUMENT;
    }
    atomic_store(&injected_os_page, os_page);
    atomic_store(&injected_page, bytes);
    return CORDON_OK;
}

size_t cordon__fault_injected_page(size_t *os_page_out) {
    size_t page = atomic_load_explicit(&injected_page, memory_order_acquire);
    if (page != 0 && os_page_out != NULL) {
        *os_page_out = atomic_load(&injected_os_page);
    }
    return page;
}

bool cordon__fault_hit(cordon__sys_call call, int *err) {
    if (!atomic_load_explicit(&active, memory_order_relaxed)) {
        return false;
    }
    fault_slot *s = &slots[call];
    uint64_t n = atomic_fetch_add(&s->calls, 1) + 1;
    uint64_t first = atomic_load(&s->first);
    if (first == 0 || n < first || n - first >= atomic_load(&s->count)) {
        return false;
    }
    atomic_fetch_add(&s->fired, 1);
    *err = atomic_load(&s->err);
    return true;
}
