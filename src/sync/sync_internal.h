/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — shared by the files of src/sync/: atomics on plain uint32_t words, spinning, deadlines.
 *
 * The public value types hold plain uint32_t fields (the headers must compile as C++, where _Atomic
 * does not exist); every access in the library goes through the __atomic builtins below, so each word
 * is only ever accessed atomically. */
#ifndef CORDON_SYNC_INTERNAL_H
#define CORDON_SYNC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/status.h"
#include "sys/sys.h"

#define LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define LOAD_RELAXED(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define LOAD_ACQUIRE(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define STORE_RELEASE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define XCHG(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define FETCH_ADD(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define FETCH_SUB(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)
/* Strong CAS; on failure *expected receives the current value. */
#define CAS(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)

/* The check every public function of sync.h makes before touching its object: CORDON_INVALID_ARGUMENT
 * for NULL, CORDON_MISALIGNED when the address is not a multiple of the type's alignment (a member
 * access through it would be undefined behaviour), else CORDON_OK. */
static inline cordon_status cordon__check_object(const void *p, size_t align) {
    if (p == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    return (uintptr_t)p % align != 0 ? CORDON_MISALIGNED : CORDON_OK;
}
#define CORDON__CHECK_OBJECT(p, type) cordon__check_object((p), _Alignof(type))

/* A pause hint for spin loops (lets the sibling hyperthread run, saves power). Safe code contains no
 * assembly: x86 has a compiler builtin for the hint, other architectures call src/sys/. */
static inline void cordon__cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    cordon__sys_cpu_relax();
#endif
}

/* Relative nanoseconds (negative: forever) → an absolute monotonic deadline (CORDON__SYS_FOREVER),
 * saturating instead of overflowing. */
cordon_status cordon__deadline_after(int64_t timeout_ns, uint64_t *deadline_out);

/* The futex wait every primitive uses: like cordon__sys_futex_wait, but an OS failure (which no valid
 * use produces; fault injection does) degrades to a yield and CORDON_OK — a spurious wake — so that
 * locks never fail; TIMED_OUT and NOT_EQUAL pass through. */
cordon_status cordon__park(uint32_t *word, uint32_t expected, uint64_t deadline_ns);
/* Wakes up to count waiters; a failed wake is retried after a yield, since a lost wake would leave a
 * thread asleep forever. */
void cordon__unpark(uint32_t *word, uint32_t count);

/* The lock of mutex.c, with a deadline (CORDON__SYS_FOREVER: none): one CAS, a bounded spin while no
 * thread is parked, then parking. cond.c re-acquires the mutex with it. */
cordon_status cordon__mutex_lock_slow(uint32_t *state, uint64_t deadline_ns);

/* Destroys the default pool (cordon_pool_default) if it exists; the next cordon_pool_default creates a
 * new one. For tests, so that leak checkers see its workers joined: the process-wide pool is otherwise
 * never destroyed (a process-exit hook could not tell a forked child, whose workers do not exist).
 * The caller guarantees that nobody else uses the default pool. */
cordon_status cordon__pool_default_shutdown(void);

#endif /* CORDON_SYNC_INTERNAL_H */
