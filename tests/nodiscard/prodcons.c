/* SPDX-License-Identifier: Apache-2.0 */
/* A producer/consumer written as a user writes it: lock, signal and unlock results ignored. */
#include <stdio.h>

#include <cordon/cordon.h>

static cordon_mutex m = CORDON_MUTEX_INIT;
static cordon_cond ready = CORDON_COND_INIT;
static int items, done;

static void producer(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        cordon_mutex_lock(&m);
        items++;
        cordon_cond_signal(&ready);
        cordon_mutex_unlock(&m);
    }
    cordon_mutex_lock(&m);
    done = 1;
    cordon_cond_broadcast(&ready);
    cordon_mutex_unlock(&m);
}

int main(void) {
    cordon_thread t;
    if (cordon_thread_spawn(producer, NULL, &t) != CORDON_OK) return 1;
    int consumed = 0;
    cordon_mutex_lock(&m);
    while (!done || items > 0) {
        if (items > 0) { items--; consumed++; continue; }
        if (cordon_cond_wait(&ready, &m) != CORDON_OK) return 1;
    }
    cordon_mutex_unlock(&m);
    if (cordon_thread_join(t) != CORDON_OK) return 1;
    printf("consumed %d\n", consumed);
    return consumed == 1000 ? 0 : 1;
}
