/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — LoRA adapters in safetensors files under PEFT's names (include/cordon/safetensors.h).
 *
 * The file holds A as (r, in) and B as (out, r); cordon's operations take A (in, r) and B (r, out).
 * Saving writes transposed views (gathered row by row, no copy of the tensors); loading converts
 * straight into the transposed layout. Rank, alpha and the scaling convention travel in the metadata. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "compute/safetensors_internal.h"
#include "sys/sys.h"

/* Destroys a tensor this file made and still owns: it is live, so the destroy cannot be refused. */
static void drop_tensor(cordon_tensor t) {
    cordon_status st = cordon_tensor_destroy(t);
    (void)st;
}

static const char suffix_a[] = ".lora_A.weight";
static const char suffix_b[] = ".lora_B.weight";

/* Copies text into key_out[key_len], NUL-terminated and truncated (nothing when there is no room). */
static void name_key(char *key_out, size_t key_len, const char *text) {
    if (key_out == NULL || key_len == 0) {
        return;
    }
    size_t n = strlen(text);
    if (n >= key_len) {
        n = key_len - 1u;
    }
    memcpy(key_out, text, n);
    key_out[n] = '\0';
}

/* "<prefix><suffix>" in a new block. */
static cordon_status key_for(const char *prefix, const char *suffix, char **out) {
    size_t p = strlen(prefix), s = strlen(suffix);
    if (p > SIZE_MAX - s - 1u) {
        return CORDON_OVERFLOW;
    }
    char *k = NULL;
    cordon_status st = cordon__sys_alloc(p + s + 1u, (void **)&k);
    if (st != CORDON_OK) {
        return st;
    }
    memcpy(k, prefix, p);
    memcpy(k + p, suffix, s + 1u);
    *out = k;
    return CORDON_OK;
}

/* A decimal integer >= 1 without sign or leading zeros. */
static bool parse_rank(const char *s, uint64_t *out) {
    if (s == NULL || s[0] < '1' || s[0] > '9') {
        return false;
    }
    uint64_t v = 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10u) {
            return false;
        }
        v = v * 10u + d;
    }
    *out = v;
    return true;
}

/* A finite decimal number: [-]digits[.digits][(e|E)[+|-]digits], computed in double and rounded to f32.
 * Exact for the texts save writes (at most 9 significant digits). */
static bool parse_alpha(const char *s, float *out) {
    if (s == NULL) {
        return false;
    }
    bool neg = false;
    if (*s == '-') {
        neg = true;
        s++;
    }
    uint64_t mant = 0;
    int exp10 = 0;
    unsigned digits = 0, significant = 0;
    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        if (significant < 19) {
            mant = mant * 10u + (uint64_t)(*s - '0');
            significant += mant != 0;
        } else {
            exp10++;
        }
    }
    if (*s == '.') {
        s++;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            if (significant < 19) {
                mant = mant * 10u + (uint64_t)(*s - '0');
                significant += mant != 0;
                exp10--;
            }
        }
    }
    if (digits == 0) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        bool eneg = false;
        if (*s == '+' || *s == '-') {
            eneg = *s == '-';
            s++;
        }
        if (*s < '0' || *s > '9') {
            return false;
        }
        int e = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (e < 10000) {
                e = e * 10 + (*s - '0');
            }
        }
        exp10 += eneg ? -e : e;
    }
    if (*s != '\0') {
        return false;
    }
    double v = (double)mant;
    if (mant != 0 && exp10 != 0) {
        double scale = pow(10.0, (double)(exp10 < 0 ? -exp10 : exp10));
        v = exp10 < 0 ? v / scale : v * scale;
    }
    float f = (float)(neg ? -v : v);
    if (!isfinite(f)) {
        return false;
    }
    *out = f;
    return true;
}

/* The shortest "%.{1..9}g" text of alpha that parse_alpha reads back as alpha. */
static void format_alpha(float alpha, char buf[32]) {
    for (int prec = 1; prec <= 9; prec++) {
        (void)snprintf(buf, 32, "%.*g", prec, (double)alpha);
        float back = 0.0f;
        if (parse_alpha(buf, &back) && back == alpha) {
            return;
        }
    }
    (void)snprintf(buf, 32, "%.9g", (double)alpha);
}

static void format_u64(uint64_t v, char buf[24]) {
    (void)snprintf(buf, 24, "%" PRIu64, v);
}

cordon_status cordon_safetensors_save_lora(const char *path, const cordon_lora_adapter *adapters, size_t count,
                                           const cordon_lora_params *params, uint32_t flags, char *key_out,
                                           size_t key_len) {
    if (path == NULL || adapters == NULL || count == 0 || params == NULL || !isfinite(params->alpha) ||
        (params->scaling != CORDON_LORA_SCALE_STANDARD && params->scaling != CORDON_LORA_SCALE_RSLORA)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (count > SIZE_MAX / 2u / sizeof(cordon_safetensors_item)) {
        return CORDON_OVERFLOW;
    }
    for (size_t i = 0; i < count; i++) {
        if (adapters[i].prefix == NULL || adapters[i].prefix[0] == '\0') {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    cordon_safetensors_item *items = NULL;
    cordon_status st = cordon__sys_alloc(2u * count * sizeof(cordon_safetensors_item), (void **)&items);
    if (st != CORDON_OK) {
        return st;
    }
    /* items[2i] is A's view and name, items[2i + 1] B's; handles 0 and NULL names until made. */
    uint64_t rank = 0;
    for (size_t i = 0; i < count && st == CORDON_OK; i++) {
        char *name_a = NULL, *name_b = NULL;
        st = key_for(adapters[i].prefix, suffix_a, &name_a);
        items[2 * i].name = name_a;
        if (st == CORDON_OK) {
            st = key_for(adapters[i].prefix, suffix_b, &name_b);
            items[2 * i + 1].name = name_b;
        }
        cordon_tensor_info ia, ib;
        if (st == CORDON_OK) {
            st = cordon_tensor_info_get(adapters[i].a, &ia);
        }
        if (st == CORDON_OK) {
            st = cordon_tensor_info_get(adapters[i].b, &ib);
        }
        if (st != CORDON_OK) {
            break;
        }
        if (ia.ndim != 2 || (i > 0 && ia.shape[1] != rank)) {
            name_key(key_out, key_len, items[2 * i].name);
            st = CORDON_SHAPE_MISMATCH;
        } else if (ib.ndim != 2 || ib.shape[0] != ia.shape[1]) {
            name_key(key_out, key_len, items[2 * i + 1].name);
            st = CORDON_SHAPE_MISMATCH;
        } else {
            rank = ia.shape[1];
        }
    }
    for (size_t i = 0; i < count && st == CORDON_OK; i++) {
        st = cordon_tensor_transpose(adapters[i].a, 0, 1, &items[2 * i].tensor);
        if (st == CORDON_OK) {
            st = cordon_tensor_transpose(adapters[i].b, 0, 1, &items[2 * i + 1].tensor);
        }
    }
    if (st == CORDON_OK) {
        char alpha[32], rank_text[24];
        format_alpha(params->alpha, alpha);
        format_u64(rank, rank_text);
        cordon_safetensors_meta meta[4] = {
            {"format", "pt"},
            {"lora_alpha", alpha},
            {"lora_rank", rank_text},
            {"lora_scaling", params->scaling == CORDON_LORA_SCALE_STANDARD ? "standard" : "rslora"},
        };
        st = cordon__safetensors_save(path, items, 2u * count, meta, 4, flags);
    }
    for (size_t i = 0; i < 2u * count; i++) {
        if (items[i].tensor.handle != 0) {
            drop_tensor(items[i].tensor);
        }
        cordon__sys_free((void *)(uintptr_t)items[i].name);
    }
    cordon__sys_free(items);
    return st;
}

/* The three parameters from an acquired table. */
static cordon_status read_params(const cordon__st_table *t, cordon_lora_params *params, uint64_t *rank, char *key_out,
                                 size_t key_len) {
    float alpha = 0.0f;
    if (!parse_alpha(cordon__safetensors_meta_lookup(t, "lora_alpha"), &alpha)) {
        name_key(key_out, key_len, "lora_alpha");
        return CORDON_INVALID_ARGUMENT;
    }
    const char *scaling = cordon__safetensors_meta_lookup(t, "lora_scaling");
    cordon_lora_scaling sc;
    if (scaling != NULL && strcmp(scaling, "standard") == 0) {
        sc = CORDON_LORA_SCALE_STANDARD;
    } else if (scaling != NULL && strcmp(scaling, "rslora") == 0) {
        sc = CORDON_LORA_SCALE_RSLORA;
    } else {
        name_key(key_out, key_len, "lora_scaling");
        return CORDON_INVALID_ARGUMENT;
    }
    uint64_t r = 0;
    if (!parse_rank(cordon__safetensors_meta_lookup(t, "lora_rank"), &r)) {
        name_key(key_out, key_len, "lora_rank");
        return CORDON_INVALID_ARGUMENT;
    }
    params->alpha = alpha;
    params->scaling = sc;
    *rank = r;
    return CORDON_OK;
}

cordon_status cordon_safetensors_lora_params(cordon_safetensors file, cordon_lora_params *params_out, uint64_t *rank_out,
                                             char *key_out, size_t key_len) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (params_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        cordon_lora_params p;
        uint64_t r = 0;
        st = read_params(t, &p, &r, key_out, key_len);
        if (st == CORDON_OK) {
            *params_out = p;
            if (rank_out != NULL) {
                *rank_out = r;
            }
        }
    }
    cordon__safetensors_release(f);
    return st;
}

/* Checks one adapter tensor of the file: present, loadable dtype, 2-D, not empty. */
static cordon_status check_part(const cordon__st_table *t, const char *key, const cordon__st_entry **out, char *key_out,
                                size_t key_len) {
    size_t i = cordon__safetensors_lookup(t, key);
    cordon_status st = CORDON_OK;
    if (i == SIZE_MAX) {
        st = CORDON_INVALID_ARGUMENT;
    } else if (t->entries[i].dtype == 0) {
        st = CORDON_UNSUPPORTED;
    } else if (t->entries[i].ndim != 2) {
        st = CORDON_SHAPE_MISMATCH;
    } else if (t->entries[i].elements == 0) {
        st = CORDON_UNSUPPORTED;
    }
    if (st != CORDON_OK) {
        name_key(key_out, key_len, key);
        return st;
    }
    *out = &t->entries[i];
    return CORDON_OK;
}

cordon_status cordon_safetensors_load_lora(cordon_safetensors file, const char *prefix, cordon_device device,
                                           cordon_tensor *a_out, cordon_tensor *b_out, char *key_out, size_t key_len) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    char *key_a = NULL, *key_b = NULL;
    if (prefix == NULL || a_out == NULL || b_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        st = key_for(prefix, suffix_a, &key_a);
        if (st == CORDON_OK) {
            st = key_for(prefix, suffix_b, &key_b);
        }
    }
    const cordon__st_entry *ea = NULL, *eb = NULL;
    if (st == CORDON_OK) {
        st = check_part(t, key_a, &ea, key_out, key_len);
    }
    if (st == CORDON_OK) {
        st = check_part(t, key_b, &eb, key_out, key_len);
    }
    if (st == CORDON_OK && ea->shape[0] != eb->shape[1]) {
        name_key(key_out, key_len, key_b); /* B's rank column count must match A's rows */
        st = CORDON_SHAPE_MISMATCH;
    }
    if (st == CORDON_OK) {
        const char *rank_text = cordon__safetensors_meta_lookup(t, "lora_rank");
        uint64_t r = 0;
        if (rank_text != NULL && (!parse_rank(rank_text, &r) || r != ea->shape[0])) {
            name_key(key_out, key_len, "lora_rank");
            st = CORDON_SHAPE_MISMATCH;
        }
    }
    cordon_tensor a = CORDON_TENSOR_NONE, b = CORDON_TENSOR_NONE;
    if (st == CORDON_OK) {
        st = cordon__safetensors_load_entry(t, ea, device, true, &a);
    }
    if (st == CORDON_OK) {
        st = cordon__safetensors_load_entry(t, eb, device, true, &b);
        if (st != CORDON_OK) {
            drop_tensor(a);
        }
    }
    if (st == CORDON_OK) {
        *a_out = a;
        *b_out = b;
    }
    cordon__sys_free(key_a);
    cordon__sys_free(key_b);
    cordon__safetensors_release(f);
    return st;
}
