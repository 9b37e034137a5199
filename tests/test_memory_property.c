/* SPDX-License-Identifier: Apache-2.0 */
/* Property: random operation sequences on two linear memories agree with a plain-array model in every
 * status and every byte. Seeded; the seed is printed (CORDON_TEST_SEED=<n> repeats a run). */
#include <stdlib.h>

#include "harness.h"
#include "memory_model.h"

/* splitmix64: a small, well-mixed generator, so a seed names one exact sequence on every host. */
static uint64_t next_random(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static void run_programs(int programs, size_t program_len) {
    uint64_t seed = cordon_test_seed();
    uint8_t *prog = malloc(program_len);
    CHECK(prog != NULL);
    static model_state s;
    for (int n = 0; n < programs; n++) {
        uint64_t state = seed ^ ((uint64_t)n * UINT64_C(0xD1B54A32D192ED03));
        for (size_t i = 0; i < program_len; i++) {
            prog[i] = (uint8_t)next_random(&state);
        }
        bool ok = model_run(&s, prog, program_len);
        if (!ok) {
            free(prog);
        }
        CHECK_MSG(ok, "seed %" PRIu64 ", program %d: %s", seed, n, s.failure);
    }
    free(prog);
}

TEST(random_operation_sequences_match_the_model) {
    run_programs(200, 4096);
}

TEST(long_sequences_match_the_model) {
    run_programs(4, 200000);
}
