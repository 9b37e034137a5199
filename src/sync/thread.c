/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — threads as generation-checked handles (table tag 3). */
#include "cordon/thread.h"

#include "core/handle.h"
#include "sync/sync_internal.h"

typedef struct thread_obj {
    cordon__sys_thread *sys;
} thread_obj;

/* What the new thread needs, owned and freed by the new thread: a detach may free the thread_obj
 * before the thread has even started, so the thread never touches it. */
typedef struct thread_start {
    void (*fn)(void *arg);
    void *arg;
    uint64_t handle;
} thread_start;

static cordon__handle_table threads = CORDON__HANDLE_TABLE_INIT(3);

/* The handle of the thread running, so that joining oneself is refused rather than a deadlock. */
static _Thread_local uint64_t current_handle;

static void thread_entry(void *p) {
    thread_start start = *(thread_start *)p;
    cordon__sys_free(p);
    current_handle = start.handle;
    start.fn(start.arg);
}

cordon_status cordon_thread_spawn(void (*fn)(void *arg), void *arg, cordon_thread *out) {
    if (fn == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *mem = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(thread_obj), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    thread_obj *t = (thread_obj *)mem;
    void *start_mem = NULL;
    st = cordon__sys_alloc(sizeof(thread_start), &start_mem);
    if (st != CORDON_OK) {
        cordon__sys_free(t);
        return st;
    }
    uint64_t handle = 0;
    st = cordon__handle_insert(&threads, t, &handle);
    if (st != CORDON_OK) {
        cordon__sys_free(start_mem);
        cordon__sys_free(t);
        return st;
    }
    thread_start *start = (thread_start *)start_mem;
    start->fn = fn;
    start->arg = arg;
    start->handle = handle;
    /* The handle exists before the thread starts; a failed spawn removes it before anyone saw it. */
    st = cordon__sys_thread_spawn(thread_entry, start, &t->sys);
    if (st != CORDON_OK) {
        void *dummy = NULL;
        (void)cordon__handle_remove(&threads, handle, &dummy);
        cordon__sys_free(start_mem);
        cordon__sys_free(t);
        return st;
    }
    out->handle = handle;
    return CORDON_OK;
}

/* Join and detach claim the handle first, so that of two threads joining (or one joining and one
 * detaching) the same handle exactly one proceeds and the other gets CORDON_STALE: the thread object
 * is never used after another call freed it. */
cordon_status cordon_thread_join(cordon_thread t) {
    /* Joining oneself would never return. Checked before the claim: only this thread can match. */
    if (t.handle != 0 && t.handle == current_handle) {
        return CORDON_WRONG_STATE;
    }
    void *obj = NULL;
    cordon_status st = cordon__handle_claim(&threads, t.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    thread_obj *o = (thread_obj *)obj;
    st = cordon__sys_thread_join(o->sys);
    if (st != CORDON_OK) {
        cordon__handle_unclaim(&threads, t.handle); /* the thread and its handle are as they were */
        return st;
    }
    cordon__handle_finish(&threads, t.handle);
    cordon__sys_free(o);
    return CORDON_OK;
}

cordon_status cordon_thread_detach(cordon_thread t) {
    void *obj = NULL;
    cordon_status st = cordon__handle_claim(&threads, t.handle, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    thread_obj *o = (thread_obj *)obj;
    st = cordon__sys_thread_detach(o->sys);
    if (st != CORDON_OK) {
        cordon__handle_unclaim(&threads, t.handle);
        return st;
    }
    cordon__handle_finish(&threads, t.handle);
    cordon__sys_free(o);
    return CORDON_OK;
}
