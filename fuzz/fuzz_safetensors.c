/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: arbitrary bytes as a safetensors file. The image is opened through the same parser as a
 * mapped file; every listed tensor that validation accepted is loaded onto a CPU device (which converts
 * F16/BF16 and reads exactly the tensor's bytes), and every invariant the parser promises is checked. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compute/safetensors_internal.h"
#include "cordon/cordon.h"
#include "cordon/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cordon_device device;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (device.handle == 0) {
        cordon_device_options opt;
        cordon_device_options_init(&opt);
        opt.threads = 1;
        opt.storage_bytes = UINT64_C(256) << 20;
        if (cordon_device_create(&opt, &device) != CORDON_OK) {
            __builtin_trap();
        }
    }
    /* A private copy with no slack: ASan flags any read past the end of the image. */
    uint8_t *image = malloc(size ? size : 1);
    if (image == NULL) {
        return 0;
    }
    memcpy(image, data, size);
    cordon_safetensors f;
    cordon_status st = cordon__safetensors_open_image(image, size, &f);
    if (st != CORDON_OK) {
        if (st != CORDON_INVALID_ARGUMENT && st != CORDON_OVERFLOW && st != CORDON_UNSUPPORTED) {
            __builtin_trap(); /* the parser answers with these three only (allocation aside: never here) */
        }
        free(image);
        return 0;
    }
    size_t count = 0;
    if (cordon_safetensors_count(f, &count) != CORDON_OK) {
        __builtin_trap();
    }
    uint64_t covered = 0;
    const char *previous = NULL;
    for (size_t i = 0; i < count; i++) {
        cordon_safetensors_entry e;
        if (cordon_safetensors_entry_at(f, i, &e) != CORDON_OK || e.ndim > 4 || e.data_begin > e.data_end ||
            e.data_end > size) {
            __builtin_trap();
        }
        if (previous != NULL && strcmp(previous, e.name) >= 0) {
            __builtin_trap(); /* names sorted and unique */
        }
        previous = e.name;
        covered += e.data_end - e.data_begin;
        size_t idx = 0;
        if (cordon_safetensors_find(f, e.name, &idx) != CORDON_OK || idx != i) {
            __builtin_trap();
        }
        cordon_tensor t;
        st = cordon_safetensors_load(f, e.name, device, &t);
        if (st == CORDON_OK) {
            cordon_tensor_info info;
            if (cordon_tensor_info_get(t, &info) != CORDON_OK || info.elements != e.elements ||
                cordon_tensor_destroy(t) != CORDON_OK) {
                __builtin_trap();
            }
        } else if (st != CORDON_UNSUPPORTED) {
            __builtin_trap();
        }
        /* The same entry kept as (or rounded to) BF16: loadable exactly when the F32 load was. */
        cordon_status st16 = cordon_safetensors_load_as(f, e.name, device, CORDON_DTYPE_BF16, &t);
        if (st16 == CORDON_OK) {
            cordon_tensor_info info;
            if (st != CORDON_OK || cordon_tensor_info_get(t, &info) != CORDON_OK || info.elements != e.elements ||
                info.dtype != CORDON_DTYPE_BF16 || cordon_tensor_destroy(t) != CORDON_OK) {
                __builtin_trap();
            }
        } else if (st16 != st) {
            __builtin_trap();
        }
    }
    if (covered > size) {
        __builtin_trap();
    }
    size_t metas = 0;
    if (cordon_safetensors_metadata_count(f, &metas) != CORDON_OK) {
        __builtin_trap();
    }
    for (size_t i = 0; i < metas; i++) {
        const char *k = NULL, *v = NULL;
        if (cordon_safetensors_metadata_at(f, i, &k, &v) != CORDON_OK || k == NULL || v == NULL) {
            __builtin_trap();
        }
    }
    /* An adapter prefix taken from the first name, whatever it is: the LoRA checks on untrusted shapes. */
    if (count > 0) {
        cordon_safetensors_entry e;
        if (cordon_safetensors_entry_at(f, 0, &e) == CORDON_OK) {
            const char *dot = strstr(e.name, ".lora_");
            if (dot != NULL) {
                char prefix[256];
                size_t n = (size_t)(dot - e.name);
                if (n < sizeof prefix) {
                    memcpy(prefix, e.name, n);
                    prefix[n] = '\0';
                    cordon_tensor a, b;
                    char key[64];
                    if (cordon_safetensors_load_lora(f, prefix, device, &a, &b, key, sizeof key) == CORDON_OK) {
                        if (cordon_tensor_destroy(a) != CORDON_OK || cordon_tensor_destroy(b) != CORDON_OK) {
                            __builtin_trap();
                        }
                    }
                    cordon_lora_params p;
                    (void)cordon_safetensors_lora_params(f, &p, NULL, key, sizeof key);
                }
            }
        }
    }
    if (cordon_safetensors_close(f) != CORDON_OK) {
        __builtin_trap();
    }
    free(image);
    return 0;
}
