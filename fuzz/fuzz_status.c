/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: status names and OS error formatting with arbitrary values and buffer sizes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cordon/cordon.h"
#include "sys/sys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 6) {
        return 0;
    }
    int32_t status;
    memcpy(&status, data, sizeof status);
    const char *name = cordon_status_name((cordon_status)status);
    const char *desc = cordon_status_str((cordon_status)status);
    if (name == NULL || desc == NULL || strlen(name) == 0 || strlen(desc) == 0) {
        __builtin_trap();
    }
    int err = (int)(int8_t)data[4];
    (void)cordon__sys_fail("fuzz", err);
    size_t len = data[5] % 64u;
    char buf[64];
    size_t full = cordon_format_os_error(len ? buf : NULL, len);
    if (len > 0 && strlen(buf) >= len) {
        __builtin_trap();
    }
    if (len > 0 && full < len && strlen(buf) != full) {
        __builtin_trap();
    }
    return 0;
}
