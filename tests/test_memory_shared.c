/* SPDX-License-Identifier: Apache-2.0 */
/* Shared memories: plain accesses (read, write, fill, copy, typed loads and stores) may race atomics on
 * the same bytes, as WebAssembly allows. They move bytes through relaxed atomics, so such a program is
 * defined in C11 too (ThreadSanitizer-clean: this file runs under the tsan preset), and they still move
 * exactly the bytes memmove / memset would. */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cordon/cordon.h"
#include "harness.h"

#define PAGE CORDON_MEMORY_PAGE_SIZE

static cordon_memory make(uint64_t pages, bool shared) {
    cordon_memory_options o = {.initial_pages = pages, .maximum_pages = pages, .has_maximum = true,
                               .shared = shared};
    cordon_memory m = {0};
    CHECK_OK(cordon_memory_create(&o, &m));
    return m;
}

static uint8_t *base_of(cordon_memory m) {
    void *b = NULL;
    CHECK_OK(cordon_memory_base(m, &b));
    return (uint8_t *)b;
}

/* A byte pattern with no period of 2, 4 or 8, so a byte moved to the wrong place shows. */
static void pattern(uint8_t *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 131u + seed * 7u + (i >> 8));
    }
}

#define SPAN 160

TEST(shared_copy_matches_memmove_for_every_alignment_and_overlap) {
    cordon_memory m = make(1, true);
    uint8_t *b = base_of(m);
    uint8_t model[2 * SPAN + 64];
    for (uint64_t src = 0; src < 16; src++) {
        for (uint64_t dst = 0; dst < 48; dst += 3) {
            for (uint64_t len = 0; len <= 80; len += (len < 20 ? 1 : 7)) {
                pattern(model, sizeof model, (unsigned)(src + dst + len));
                memcpy(b, model, sizeof model);
                memmove(model + dst, model + src, (size_t)len);
                CHECK_OK(cordon_memory_copy(m, dst, src, len));
                CHECK_MSG(memcmp(b, model, sizeof model) == 0, "copy dst %llu src %llu len %llu",
                          (unsigned long long)dst, (unsigned long long)src, (unsigned long long)len);
            }
        }
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(shared_read_write_and_fill_match_memcpy_and_memset_at_every_alignment) {
    cordon_memory m = make(1, true);
    uint8_t *b = base_of(m);
    uint8_t model[SPAN + 32];
    uint8_t host[SPAN + 32];
    uint8_t out[SPAN + 32];
    for (uint64_t addr = 0; addr < 16; addr++) {
        for (uint64_t len = 0; len <= SPAN; len += (len < 24 ? 1 : 11)) {
            for (size_t host_off = 0; host_off < 3; host_off++) {
                pattern(model, sizeof model, (unsigned)(addr * 3 + len));
                memcpy(b, model, sizeof model);
                pattern(host, sizeof host, (unsigned)len + 99u);
                memcpy(model + addr, host + host_off, (size_t)len);
                CHECK_OK(cordon_memory_write(m, addr, host + host_off, len));
                CHECK(memcmp(b, model, sizeof model) == 0);
                memset(out, 0xEE, sizeof out);
                CHECK_OK(cordon_memory_read(m, addr, out + host_off, len));
                CHECK(memcmp(out + host_off, model + addr, (size_t)len) == 0);
                CHECK(out[host_off + len] == 0xEE); /* not one byte more */
                memset(model + addr, 0x3C, (size_t)len);
                CHECK_OK(cordon_memory_fill(m, addr, 0x3C, len));
                CHECK(memcmp(b, model, sizeof model) == 0);
            }
        }
    }
    CHECK_OK(cordon_memory_destroy(m));
}

TEST(shared_typed_access_matches_an_unshared_memory_at_every_alignment) {
    cordon_memory s = make(1, true);
    cordon_memory u = make(1, false);
    for (uint64_t addr = 0; addr < 24; addr++) {
        uint64_t v = 0x0123456789ABCDEFull ^ (addr * 0x1111111111111111ull);
        CHECK_OK(cordon_memory_store_u64(s, addr, 1, v));
        CHECK_OK(cordon_memory_store_u64(u, addr, 1, v));
        CHECK_OK(cordon_memory_store_u16(s, addr + 40, 0, (uint16_t)v));
        CHECK_OK(cordon_memory_store_u16(u, addr + 40, 0, (uint16_t)v));
        CHECK_OK(cordon_memory_store_f32(s, addr + 80, 0, (float)addr + 0.5f));
        CHECK_OK(cordon_memory_store_f32(u, addr + 80, 0, (float)addr + 0.5f));
        CHECK(memcmp(base_of(s), base_of(u), 128) == 0);
        uint8_t a8 = 0, b8 = 1;
        uint16_t a16 = 0, b16 = 1;
        uint32_t a32 = 0, b32 = 1;
        uint64_t a64 = 0, b64 = 1;
        double ad = 0, bd = 1;
        CHECK_OK(cordon_memory_load_u8(s, addr, 3, &a8));
        CHECK_OK(cordon_memory_load_u8(u, addr, 3, &b8));
        CHECK_OK(cordon_memory_load_u16(s, addr, 1, &a16));
        CHECK_OK(cordon_memory_load_u16(u, addr, 1, &b16));
        CHECK_OK(cordon_memory_load_u32(s, addr, 2, &a32));
        CHECK_OK(cordon_memory_load_u32(u, addr, 2, &b32));
        CHECK_OK(cordon_memory_load_u64(s, addr, 1, &a64));
        CHECK_OK(cordon_memory_load_u64(u, addr, 1, &b64));
        CHECK_OK(cordon_memory_load_f64(s, addr, 0, &ad));
        CHECK_OK(cordon_memory_load_f64(u, addr, 0, &bd));
        CHECK(a8 == b8 && a16 == b16 && a32 == b32 && a64 == b64 && memcmp(&ad, &bd, sizeof ad) == 0);
        CHECK_EQ_U64(a64, v);
    }
    CHECK_OK(cordon_memory_destroy(s));
    CHECK_OK(cordon_memory_destroy(u));
}

TEST(copy_between_shared_and_unshared_memories_matches_memmove) {
    cordon_memory s = make(1, true);
    cordon_memory u = make(1, false);
    uint8_t *bs = base_of(s), *bu = base_of(u);
    uint8_t ms[SPAN + 32], mu[SPAN + 32];
    for (uint64_t a = 0; a < 12; a++) {
        for (uint64_t c = 0; c < 12; c++) {
            for (uint64_t len = 0; len <= SPAN; len += 13) {
                pattern(ms, sizeof ms, (unsigned)(a + c));
                pattern(mu, sizeof mu, (unsigned)(a * c + 5));
                memcpy(bs, ms, sizeof ms);
                memcpy(bu, mu, sizeof mu);
                memmove(mu + c, ms + a, (size_t)len);
                CHECK_OK(cordon_memory_copy_between(u, c, s, a, len));
                CHECK(memcmp(bu, mu, sizeof mu) == 0);
                memmove(ms + a, mu + c, (size_t)len);
                CHECK_OK(cordon_memory_copy_between(s, a, u, c, len));
                CHECK(memcmp(bs, ms, sizeof ms) == 0);
                memmove(ms + c, ms + a, (size_t)len); /* the same shared memory on both sides */
                CHECK_OK(cordon_memory_copy_between(s, c, s, a, len));
                CHECK(memcmp(bs, ms, sizeof ms) == 0);
            }
        }
    }
    CHECK_OK(cordon_memory_destroy(s));
    CHECK_OK(cordon_memory_destroy(u));
}

/* ---- racy programs ------------------------------------------------------------------------------ */

#define RACE_ITERS 20000
#define WORDS 8

typedef struct race {
    cordon_memory m;
    atomic_int go;
    bool incoherent;   /* an RMW saw a stored sequence number go backwards */
    bool torn;         /* a read saw an aligned word mixing two writes */
    cordon_status bad; /* the first call that did not return OK */
} race;

static void note(race *r, cordon_status st) {
    if (st != CORDON_OK && r->bad == CORDON_OK) {
        r->bad = st;
    }
}

/* Plain stores of sequence numbers (high half) to words 0..7, through every plain path. */
static void *plain_writer(void *arg) {
    race *r = arg;
    while (!atomic_load(&r->go)) {
    }
    for (uint64_t k = 1; k <= RACE_ITERS; k++) {
        uint64_t w = k % WORDS;
        uint64_t v = k << 32;
        switch (k % 4) {
        case 0:
            note(r, cordon_memory_store_u64(r->m, 8 * w, 0, v));
            break;
        case 1:
            note(r, cordon_memory_write(r->m, 8 * w, &v, 8));
            break;
        case 2: {
            uint64_t words[WORDS];
            for (int i = 0; i < WORDS; i++) {
                words[i] = v;
            }
            note(r, cordon_memory_write(r->m, 0, words, sizeof words));
            break;
        }
        default:
            note(r, cordon_memory_store_u32(r->m, 8 * w + 4, 0, (uint32_t)k)); /* the high half alone */
            break;
        }
    }
    return NULL;
}

/* Atomic increments of the low half of the same words; the high half each one returns is the
 * writer's sequence number, which coherence keeps from going backwards on one word. */
static void *rmw_adder(void *arg) {
    race *r = arg;
    uint64_t last_high[WORDS] = {0};
    while (!atomic_load(&r->go)) {
    }
    for (uint64_t k = 0; k < RACE_ITERS; k++) {
        uint64_t w = k % WORDS;
        uint64_t old = 0;
        note(r, cordon_memory_atomic_rmw(r->m, 8 * w, 0, 8, CORDON_MEMORY_RMW_ADD, 1, &old));
        if ((old >> 32) < last_high[w]) {
            r->incoherent = true;
        }
        last_high[w] = old >> 32;
    }
    return NULL;
}

/* Plain bulk and typed reads of the same words; every aligned word read whole is one the writer
 * stored, with the adder's increments in its low half: its high half is never a mix of two stores. */
static void *plain_reader(void *arg) {
    race *r = arg;
    while (!atomic_load(&r->go)) {
    }
    for (uint64_t k = 0; k < RACE_ITERS; k++) {
        uint64_t words[WORDS];
        note(r, cordon_memory_read(r->m, 0, words, sizeof words));
        uint64_t one = 0;
        note(r, cordon_memory_load_u64(r->m, 8 * (k % WORDS), 0, &one));
        note(r, cordon_memory_copy(r->m, 128, 4, 24)); /* an unaligned copy out of the racing words */
        note(r, cordon_memory_fill(r->m, 256, (uint8_t)k, 24));
        for (int i = 0; i < WORDS; i++) {
            uint32_t high = (uint32_t)(words[i] >> 32);
            if (high > RACE_ITERS) {
                r->torn = true;
            }
        }
        if ((one >> 32) > RACE_ITERS) {
            r->torn = true;
        }
    }
    return NULL;
}

TEST(plain_accesses_racing_atomic_rmw_on_the_same_words_are_defined_and_coherent) {
    race r;
    memset(&r, 0, sizeof r);
    r.m = make(1, true);
    pthread_t w, a, rd;
    CHECK(pthread_create(&w, NULL, plain_writer, &r) == 0);
    CHECK(pthread_create(&a, NULL, rmw_adder, &r) == 0);
    CHECK(pthread_create(&rd, NULL, plain_reader, &r) == 0);
    atomic_store(&r.go, 1);
    CHECK(pthread_join(w, NULL) == 0);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(rd, NULL) == 0);
    CHECK_STATUS(r.bad, CORDON_OK);
    CHECK(!r.incoherent);
    CHECK(!r.torn);
    /* Quiet now: the plain read and the atomic load agree on every word. */
    for (uint64_t i = 0; i < WORDS; i++) {
        uint64_t plain = 1, atom = 2;
        CHECK_OK(cordon_memory_load_u64(r.m, 8 * i, 0, &plain));
        CHECK_OK(cordon_memory_atomic_load(r.m, 8 * i, 0, 8, &atom));
        CHECK_EQ_U64(plain, atom);
    }
    CHECK_OK(cordon_memory_destroy(r.m));
}
