/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: the fuzz input is an operation sequence on two linear memories (grow, read, write,
 * fill, copy, copy between, typed and atomic access at adversarial addresses); every status and every
 * byte must agree with a plain-array model (tests/memory_model.h, shared with the property test). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../tests/memory_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static model_state s;
    if (!model_run(&s, data, size)) {
        fprintf(stderr, "model mismatch: %s\n", s.failure);
        __builtin_trap();
    }
    return 0;
}
