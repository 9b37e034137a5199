/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz harness: compute operations with operand descriptors taken from the input — shapes, views with
 * arbitrary strides and offsets (transposes, slices, broadcasts, overlapping views), aliasing between
 * outputs and inputs, destroyed and absent operands, scalar parameters including NaN and infinities,
 * and out-of-range enum values, as a hostile caller would pass them.
 * Checked: no crash or sanitizer report, and the promise "a refused call writes nothing": when an
 * operation returns anything but CORDON_OK, every tensor's bytes are exactly as before. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cordon/cordon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BASES 4
#define VIEWS 6

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint64_t take(input *in, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->n > 0; i++) {
        v |= (uint64_t)(*in->p) << (8 * i);
        in->p++;
        in->n--;
    }
    return v;
}

static float take_float(input *in) {
    static const float specials[8] = {1.0f, 0.0f, -1.0f, 0.125f, NAN, INFINITY, -INFINITY, 1e-40f};
    uint64_t k = take(in, 1);
    if (k < 8) {
        return specials[k];
    }
    return (float)((int64_t)take(in, 2) - 32768) / 256.0f;
}

static void require(bool ok) {
    if (!ok) {
        __builtin_trap();
    }
}

static cordon_device device(void) {
    static cordon_device d;
    static bool made;
    if (!made) {
        cordon_device_options o;
        cordon_device_options_init(&o);
        o.threads = 1;
        o.storage_bytes = UINT64_C(256) << 20;
        require(cordon_device_create(&o, &d) == CORDON_OK);
        made = true;
    }
    return d;
}

/* The bytes of every base tensor (views share them), to check that a refused call wrote nothing. */
typedef struct snapshot {
    void *bytes[BASES];
    size_t len[BASES];
} snapshot;

static void take_snapshot(const cordon_tensor *bases, snapshot *s) {
    for (int i = 0; i < BASES; i++) {
        cordon_tensor_info info;
        require(cordon_tensor_info_get(bases[i], &info) == CORDON_OK);
        s->len[i] = (size_t)info.bytes;
        s->bytes[i] = malloc(s->len[i]);
        require(s->bytes[i] != NULL);
        require(cordon_tensor_read(bases[i], s->bytes[i], s->len[i]) == CORDON_OK);
    }
}

static bool same_as_snapshot(const cordon_tensor *bases, const snapshot *s) {
    bool same = true;
    for (int i = 0; i < BASES; i++) {
        void *now = malloc(s->len[i]);
        require(now != NULL);
        require(cordon_tensor_read(bases[i], now, s->len[i]) == CORDON_OK);
        same = same && memcmp(now, s->bytes[i], s->len[i]) == 0;
        free(now);
    }
    return same;
}

static void free_snapshot(snapshot *s) {
    for (int i = 0; i < BASES; i++) {
        free(s->bytes[i]);
    }
}

/* An operand: one of the views, a destroyed tensor, or the absent tensor. */
static cordon_tensor pick(input *in, const cordon_tensor *views, cordon_tensor dead) {
    uint64_t k = take(in, 1) % (VIEWS + 2);
    if (k < VIEWS) {
        return views[k];
    }
    return k == VIEWS ? dead : CORDON_TENSOR_NONE;
}

static cordon_status run_op(input *in, const cordon_tensor *v, cordon_tensor dead) {
    cordon_tensor t0 = pick(in, v, dead), t1 = pick(in, v, dead), t2 = pick(in, v, dead), t3 = pick(in, v, dead);
    cordon_tensor t4 = pick(in, v, dead), t5 = pick(in, v, dead), t6 = pick(in, v, dead), t7 = pick(in, v, dead);
    float f0 = take_float(in), f1 = take_float(in);
    uint64_t flags = take(in, 1);
    switch (take(in, 1) % 24) {
    case 0: {
        cordon_matmul_params p = {f0, f1, (flags & 1) != 0, (flags & 2) != 0};
        return cordon_matmul(t0, t1, t2, (flags & 4) ? NULL : &p);
    }
    case 1: {
        cordon_softmax_params p = {f0, t2, (flags & 1) != 0};
        return cordon_softmax(t0, t1, &p);
    }
    case 2: return cordon_softmax_backward(t0, t1, t2, f0);
    case 3: return cordon_rms_norm(t0, t1, t2, f0);
    case 4: return cordon_rms_norm_backward(t0, t1, t2, t3, t4, f0);
    case 5: return cordon_layer_norm(t0, t1, t2, t3, f0);
    case 6: return cordon_layer_norm_backward(t0, t1, t2, t3, t4, t5, f0);
    case 7: {
        cordon_attention_params p = {f0, (flags & 1) != 0, t4};
        return cordon_attention(t0, t1, t2, t3, &p);
    }
    case 8: {
        cordon_attention_params p = {f0, (flags & 1) != 0, (flags & 2) ? t7 : CORDON_TENSOR_NONE};
        return cordon_attention_backward(t0, t1, t2, t3, t4, t5, t6, &p);
    }
    case 9: {
        cordon_lora_params p = {f0, (cordon_lora_scaling)(flags % 4)};
        return cordon_lora_linear(t0, t1, t2, t3, t4, t5, &p);
    }
    case 10: {
        cordon_lora_params p = {f0, (cordon_lora_scaling)(flags % 4)};
        return cordon_lora_linear_backward(t0, t1, t2, t3, t4, t5, t6, t7, &p);
    }
    case 11: {
        cordon_lora_params p = {f0, (cordon_lora_scaling)(flags % 4)};
        return cordon_lora_merge(t0, t1, t2, t3, &p);
    }
    case 12: return cordon_add(t0, t1, t2);
    case 13: return cordon_mul(t0, t1, t2);
    case 14: return cordon_scale(t0, t1, f0);
    case 15: return cordon_silu(t0, t1);
    case 16: return cordon_silu_backward(t0, t1, t2);
    case 17: return cordon_gelu(t0, t1, (cordon_gelu_mode)(flags % 4));
    case 18: return cordon_gelu_backward(t0, t1, t2, (cordon_gelu_mode)(flags % 4));
    case 19: {
        cordon_rope_params p = {(cordon_rope_layout)(flags % 4), f0, take(in, 2)};
        return cordon_rope(t0, t1, &p);
    }
    case 20: {
        cordon_rope_params p = {(cordon_rope_layout)(flags % 4), f0, take(in, 2)};
        return cordon_rope_backward(t0, t1, &p);
    }
    case 21: return cordon_tensor_copy(t0, t1);
    case 22: {
        cordon_matmul_params p = {f0, 0.0f, false, false};
        return cordon_matmul(t0, t1, t2, &p);
    }
    default: {
        cordon_softmax_params p = {f0, CORDON_TENSOR_NONE, true};
        return cordon_softmax(t0, t0, &p);
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input in = {data, size};
    cordon_device d = device();
    cordon_tensor bases[BASES], views[VIEWS];
    cordon_tensor made[64];
    int nmade = 0;
    for (int i = 0; i < BASES; i++) {
        unsigned ndim = 1 + (unsigned)(take(&in, 1) % 4);
        uint64_t shape[4];
        for (unsigned k = 0; k < ndim; k++) {
            shape[k] = 1 + take(&in, 1) % 7;
        }
        require(cordon_tensor_create(d, CORDON_DTYPE_F32, ndim, shape, &bases[i]) == CORDON_OK);
        made[nmade++] = bases[i];
        /* Deterministic contents from the input. */
        cordon_tensor_info info;
        require(cordon_tensor_info_get(bases[i], &info) == CORDON_OK);
        float *buf = malloc((size_t)info.bytes);
        require(buf != NULL);
        for (uint64_t e = 0; e < info.elements; e++) {
            buf[e] = (float)((int)(take(&in, 1) % 17) - 8) * 0.25f;
        }
        require(cordon_tensor_write(bases[i], buf, (size_t)info.bytes) == CORDON_OK);
        free(buf);
    }
    for (int i = 0; i < VIEWS; i++) {
        cordon_tensor base = bases[take(&in, 1) % BASES];
        cordon_tensor out = base;
        uint64_t kind = take(&in, 1) % 5;
        cordon_status st = CORDON_OK;
        if (kind == 1) {
            st = cordon_tensor_transpose(base, (unsigned)(take(&in, 1) % 4), (unsigned)(take(&in, 1) % 4), &out);
        } else if (kind == 2) {
            st = cordon_tensor_slice(base, (unsigned)(take(&in, 1) % 4), take(&in, 1) % 8, 1 + take(&in, 1) % 8, &out);
        } else if (kind == 3) {
            unsigned ndim = 1 + (unsigned)(take(&in, 1) % 4);
            uint64_t shape[4], strides[4];
            for (unsigned k = 0; k < ndim; k++) {
                shape[k] = 1 + take(&in, 1) % 7;
                strides[k] = take(&in, 1) % 9; /* 0: broadcast; overlapping strides allowed */
            }
            st = cordon_tensor_view(base, ndim, shape, strides, take(&in, 1) % 16, &out);
        } else if (kind == 4) {
            unsigned ndim = 1 + (unsigned)(take(&in, 1) % 4);
            uint64_t shape[4];
            for (unsigned k = 0; k < ndim; k++) {
                shape[k] = 1 + take(&in, 1) % 7;
            }
            st = cordon_tensor_reshape(base, ndim, shape, &out);
        }
        if (st != CORDON_OK) {
            out = base;
        } else if (kind != 0) {
            made[nmade++] = out;
        }
        views[i] = out;
    }
    uint64_t dead_shape[1] = {4};
    cordon_tensor dead;
    require(cordon_tensor_create(d, CORDON_DTYPE_F32, 1, dead_shape, &dead) == CORDON_OK);
    require(cordon_tensor_destroy(dead) == CORDON_OK);

    for (int op = 0; op < 4 && in.n > 0; op++) {
        snapshot s;
        take_snapshot(bases, &s);
        cordon_status st = run_op(&in, views, dead);
        require((int)st >= 0 && (int)st < CORDON_STATUS_COUNT);
        if (st != CORDON_OK) {
            require(same_as_snapshot(bases, &s)); /* a refused call wrote nothing */
        }
        free_snapshot(&s);
    }
    for (int i = nmade; i-- > 0;) {
        require(cordon_tensor_destroy(made[i]) == CORDON_OK);
    }
    return 0;
}
