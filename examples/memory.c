/* SPDX-License-Identifier: Apache-2.0 */
/* A small WebAssembly-like memory: create it, grow it, store and load, and see an out-of-bounds access
 * come back as a status instead of a crash. */
#include <inttypes.h>
#include <stdio.h>

#include <cordon/cordon.h>

static int fail(const char *what, cordon_status st) {
    char detail[128];
    cordon_format_os_error(detail, sizeof detail);
    fprintf(stderr, "%s: %s (%s)\n", what, cordon_status_str(st), detail);
    return 1;
}

int main(void) {
    /* (memory 1 4): one 64 KiB page now, at most four. */
    cordon_memory_options opt = {.initial_pages = 1, .maximum_pages = 4, .has_maximum = true};
    cordon_memory mem;
    cordon_status st = cordon_memory_create(&opt, &mem);
    if (st != CORDON_OK) {
        return fail("create", st);
    }

    uint64_t old_pages = 0;
    st = cordon_memory_grow(mem, 2, &old_pages); /* memory.grow 2 → returns 1 */
    if (st != CORDON_OK) {
        return fail("grow", st);
    }
    uint64_t pages = 0, bytes = 0;
    if (cordon_memory_size_pages(mem, &pages) != CORDON_OK || cordon_memory_size_bytes(mem, &bytes) != CORDON_OK) {
        return 1;
    }
    printf("grew from %" PRIu64 " to %" PRIu64 " pages (%" PRIu64 " bytes)\n", old_pages, pages, bytes);

    /* i32.store offset=4 at address 65536, then i32.load it back (little-endian on every host). */
    st = cordon_memory_store_u32(mem, 65536, 4, 0xC0FFEEu);
    uint32_t value = 0;
    if (st == CORDON_OK) {
        st = cordon_memory_load_u32(mem, 65536, 4, &value);
    }
    if (st != CORDON_OK) {
        return fail("store/load", st);
    }
    printf("loaded 0x%" PRIX32 " from address 65540\n", value);

    /* The last byte is fine; one past it is a trap in WebAssembly and a status here. */
    st = cordon_memory_store_u8(mem, bytes - 1, 0, 1);
    printf("store at %" PRIu64 ": %s\n", bytes - 1, cordon_status_str(st));
    st = cordon_memory_load_u32(mem, bytes - 2, 0, &value);
    printf("load of 4 bytes at %" PRIu64 ": %s\n", bytes - 2, cordon_status_str(st));
    st = cordon_memory_grow(mem, 2, &old_pages);
    printf("grow by 2 past the maximum: %s\n", cordon_status_str(st));

    st = cordon_memory_destroy(mem);
    if (st != CORDON_OK) {
        return fail("destroy", st);
    }
    st = cordon_memory_destroy(mem);
    printf("destroy again: %s\n", cordon_status_str(st));
    return 0;
}
