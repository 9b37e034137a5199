/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — writing safetensors files.
 *
 * Describe, validate, then write: every tensor is pinned and checked, names sorted and compared, the
 * header built in memory and the file's size overflow-checked before the file is created, so a refused
 * save leaves the path untouched. Tensor bytes go to the file straight from device storage when the
 * tensor is contiguous (and the host little-endian); other views are gathered through a fixed 64 KiB
 * staging buffer, so no allocation grows with a tensor's size. */
#include <string.h>

#include "compute/backend.h"
#include "compute/safetensors_internal.h"
#include "sys/sys.h"

#define STAGE_BYTES 65536u

/* ---------------------------------------------------------------------------------------------------
 * JSON text: measured with buf NULL, then written into a buffer of the measured size. */

typedef struct jtext {
    char *buf;
    size_t len;
} jtext;

static void j_byte(jtext *j, char c) {
    if (j->buf != NULL) {
        j->buf[j->len] = c;
    }
    j->len++;
}

static void j_raw(jtext *j, const char *s) {
    for (; *s != '\0'; s++) {
        j_byte(j, *s);
    }
}

static void j_u64(jtext *j, uint64_t v) {
    char digits[20];
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while (n > 0) {
        j_byte(j, digits[--n]);
    }
}

/* A JSON string: quotes, backslashes and control characters escaped; other UTF-8 as it is. */
static void j_string(jtext *j, const char *s) {
    static const char hex[] = "0123456789abcdef";
    j_byte(j, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            j_byte(j, '\\');
            j_byte(j, (char)c);
        } else if (c == '\n') {
            j_raw(j, "\\n");
        } else if (c == '\t') {
            j_raw(j, "\\t");
        } else if (c == '\r') {
            j_raw(j, "\\r");
        } else if (c < 0x20u) {
            j_raw(j, "\\u00");
            j_byte(j, hex[c >> 4]);
            j_byte(j, hex[c & 15u]);
        } else {
            j_byte(j, (char)c);
        }
    }
    j_byte(j, '"');
}

/* ---------------------------------------------------------------------------------------------------
 * The save */

typedef struct slot {
    const char *name;
    cordon__tensor *t;
    uint64_t bytes;
    uint64_t begin;
} slot;

static int slot_by_name(const void *x, const void *y) {
    return strcmp(((const slot *)x)->name, ((const slot *)y)->name);
}

static int meta_by_key(const void *x, const void *y) {
    return strcmp(((const cordon_safetensors_meta *)x)->key, ((const cordon_safetensors_meta *)y)->key);
}

static bool text_ok(const char *s) {
    return s != NULL && cordon__utf8_valid((const uint8_t *)s, strlen(s), false);
}

static void header_text(jtext *j, const slot *slots, size_t count, const cordon_safetensors_meta *metas,
                        size_t meta_count) {
    j_byte(j, '{');
    bool first = true;
    if (meta_count > 0) {
        j_raw(j, "\"__metadata__\":{");
        for (size_t i = 0; i < meta_count; i++) {
            if (i > 0) {
                j_byte(j, ',');
            }
            j_string(j, metas[i].key);
            j_byte(j, ':');
            j_string(j, metas[i].value);
        }
        j_byte(j, '}');
        first = false;
    }
    for (size_t i = 0; i < count; i++) {
        if (!first) {
            j_byte(j, ',');
        }
        first = false;
        const cordon__tensor *t = slots[i].t;
        j_string(j, slots[i].name);
        j_raw(j, ":{\"dtype\":\"F32\",\"shape\":[");
        for (unsigned d = 0; d < t->ndim; d++) {
            if (d > 0) {
                j_byte(j, ',');
            }
            j_u64(j, t->shape[d]);
        }
        j_raw(j, "],\"data_offsets\":[");
        j_u64(j, slots[i].begin);
        j_byte(j, ',');
        j_u64(j, slots[i].begin + slots[i].bytes);
        j_raw(j, "]}");
    }
    j_byte(j, '}');
}

static bool host_little_endian(void) {
    uint32_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* Writes a pinned tensor's elements, row-major, as little-endian f32. */
static cordon_status write_tensor(cordon__sys_file file, const cordon__tensor *t, uint8_t *stage) {
    uint64_t sh[4] = {1, 1, 1, 1}, str[4] = {0, 0, 0, 0};
    unsigned pad = 4u - t->ndim;
    uint64_t elements = 1, expect = 1;
    bool contiguous = true;
    for (unsigned i = t->ndim; i-- > 0;) {
        sh[pad + i] = t->shape[i];
        str[pad + i] = t->strides[i];
        if (t->shape[i] > 1 && t->strides[i] != expect) {
            contiguous = false;
        }
        expect *= t->shape[i];
        elements *= t->shape[i];
    }
    if (!t->device->backend->host_memory) {
        /* Device memory: downloaded (row-major, packed) into a host buffer, then written from there. */
        void *host = NULL;
        cordon_status st = cordon__sys_alloc((size_t)(elements * 4u), &host);
        if (st != CORDON_OK) {
            return st;
        }
        cordon__view v;
        cordon__view_of(t, &v);
        st = t->device->backend->download(t->device, &v, host);
        if (st == CORDON_OK && host_little_endian()) {
            st = cordon__sys_file_write_all(file, host, (size_t)(elements * 4u));
        } else if (st == CORDON_OK) {
            const uint8_t *src = host;
            size_t done = 0;
            while (st == CORDON_OK && done < (size_t)(elements * 4u)) {
                size_t chunk = (size_t)(elements * 4u) - done;
                chunk = chunk > 4096u ? 4096u : chunk;
                for (size_t k = 0; k < chunk; k += 4) {
                    uint32_t u;
                    memcpy(&u, src + done + k, sizeof u);
                    stage[k] = (uint8_t)u;
                    stage[k + 1] = (uint8_t)(u >> 8);
                    stage[k + 2] = (uint8_t)(u >> 16);
                    stage[k + 3] = (uint8_t)(u >> 24);
                }
                st = cordon__sys_file_write_all(file, stage, chunk);
                done += chunk;
            }
        }
        cordon__sys_free(host);
        return st;
    }
    const float *base = (const float *)(const void *)t->storage->data + t->offset;
    if (contiguous && host_little_endian()) {
        return cordon__sys_file_write_all(file, base, (size_t)(elements * 4u));
    }
    size_t used = 0;
    for (uint64_t i0 = 0; i0 < sh[0]; i0++) {
        for (uint64_t i1 = 0; i1 < sh[1]; i1++) {
            for (uint64_t i2 = 0; i2 < sh[2]; i2++) {
                const float *row = base + i0 * str[0] + i1 * str[1] + i2 * str[2];
                for (uint64_t i3 = 0; i3 < sh[3]; i3++) {
                    uint32_t u;
                    memcpy(&u, &row[i3 * str[3]], sizeof u);
                    stage[used] = (uint8_t)u;
                    stage[used + 1] = (uint8_t)(u >> 8);
                    stage[used + 2] = (uint8_t)(u >> 16);
                    stage[used + 3] = (uint8_t)(u >> 24);
                    used += 4;
                    if (used == STAGE_BYTES) {
                        cordon_status st = cordon__sys_file_write_all(file, stage, used);
                        if (st != CORDON_OK) {
                            return st;
                        }
                        used = 0;
                    }
                }
            }
        }
    }
    return used > 0 ? cordon__sys_file_write_all(file, stage, used) : CORDON_OK;
}

/* Pins every tensor (STALE for a dead one, nothing left pinned). */
static cordon_status pin_all(slot *slots, const cordon_safetensors_item *items, size_t count) {
    for (size_t i = 0; i < count; i++) {
        cordon_status st = cordon__tensor_acquire(items[i].tensor, &slots[i].t);
        if (st != CORDON_OK) {
            while (i-- > 0) {
                cordon__tensor_release(slots[i].t);
            }
            return st;
        }
        slots[i].name = items[i].name;
    }
    return CORDON_OK;
}

/* Everything after the tensors are pinned and before the file exists: names, metadata, offsets, header. */
static cordon_status describe(slot *slots, size_t count, cordon_safetensors_meta *metas, size_t meta_count,
                              char **header_out, size_t *header_len_out) {
    for (size_t i = 0; i < count; i++) {
        const cordon__tensor *t = slots[i].t;
        if (!text_ok(slots[i].name) || slots[i].name[0] == '\0' || strcmp(slots[i].name, "__metadata__") == 0) {
            return CORDON_INVALID_ARGUMENT;
        }
        if (t->dtype != CORDON_DTYPE_F32) {
            return CORDON_UNSUPPORTED;
        }
    }
    for (size_t i = 0; i < meta_count; i++) {
        if (!text_ok(metas[i].key) || !text_ok(metas[i].value)) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    if (count > 1) {
        qsort(slots, count, sizeof(slot), slot_by_name);
    }
    for (size_t i = 1; i < count; i++) {
        if (strcmp(slots[i - 1].name, slots[i].name) == 0) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    if (meta_count > 1) {
        qsort(metas, meta_count, sizeof(cordon_safetensors_meta), meta_by_key);
    }
    for (size_t i = 1; i < meta_count; i++) {
        if (strcmp(metas[i - 1].key, metas[i].key) == 0) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    /* Tensor sizes are below 2^62 bytes each (tensor.c); their sum is checked against 2^63. */
    const uint64_t limit = UINT64_C(1) << 63;
    uint64_t at = 0;
    for (size_t i = 0; i < count; i++) {
        const cordon__tensor *t = slots[i].t;
        uint64_t n = 1;
        for (unsigned d = 0; d < t->ndim; d++) {
            n *= t->shape[d];
        }
        slots[i].bytes = n * 4u;
        slots[i].begin = at;
        if (slots[i].bytes > limit - at) {
            return CORDON_OVERFLOW;
        }
        at += slots[i].bytes;
    }
    jtext j = {NULL, 0};
    header_text(&j, slots, count, metas, meta_count);
    size_t padded = (j.len + 7u) & ~(size_t)7u;
    if ((uint64_t)padded > limit - at - 8u) {
        return CORDON_OVERFLOW;
    }
    char *buf = NULL;
    cordon_status st = cordon__sys_alloc(padded + 8u, (void **)&buf);
    if (st != CORDON_OK) {
        return st;
    }
    for (unsigned i = 0; i < 8; i++) {
        buf[i] = (char)(uint8_t)((uint64_t)padded >> (8u * i));
    }
    j.buf = buf + 8;
    j.len = 0;
    header_text(&j, slots, count, metas, meta_count);
    memset(buf + 8 + j.len, ' ', padded - j.len);
    *header_out = buf;
    *header_len_out = padded + 8u;
    return CORDON_OK;
}

cordon_status cordon__safetensors_save(const char *path, const cordon_safetensors_item *items, size_t count,
                                       const cordon_safetensors_meta *meta, size_t meta_count, uint32_t flags) {
    if (path == NULL || path[0] == '\0' || (items == NULL && count > 0) || (meta == NULL && meta_count > 0) ||
        (flags & ~CORDON_SAFETENSORS_SYNC) != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (count > SIZE_MAX / sizeof(slot) || meta_count > SIZE_MAX / sizeof(cordon_safetensors_meta)) {
        return CORDON_OVERFLOW;
    }
    for (size_t i = 0; i < count; i++) {
        if (items[i].name == NULL) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    for (size_t i = 0; i < meta_count; i++) {
        if (meta[i].key == NULL || meta[i].value == NULL) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    slot *slots = NULL;
    cordon_safetensors_meta *metas = NULL;
    uint8_t *stage = NULL;
    char *header = NULL;
    size_t header_len = 0;
    cordon_status st = CORDON_OK;
    if (count > 0) {
        st = cordon__sys_alloc(count * sizeof(slot), (void **)&slots);
    }
    if (st == CORDON_OK && meta_count > 0) {
        st = cordon__sys_alloc(meta_count * sizeof(cordon_safetensors_meta), (void **)&metas);
        if (st == CORDON_OK) {
            memcpy(metas, meta, meta_count * sizeof(cordon_safetensors_meta));
        }
    }
    if (st == CORDON_OK) {
        st = cordon__sys_alloc(STAGE_BYTES, (void **)&stage);
    }
    bool pinned = false;
    if (st == CORDON_OK) {
        st = pin_all(slots, items, count);
        pinned = st == CORDON_OK;
    }
    if (st == CORDON_OK) {
        st = describe(slots, count, metas, meta_count, &header, &header_len);
    }
    if (st == CORDON_OK) {
        cordon__sys_file file;
        st = cordon__sys_file_create(path, &file);
        if (st == CORDON_OK) {
            st = cordon__sys_file_write_all(file, header, header_len);
            for (size_t i = 0; i < count && st == CORDON_OK; i++) {
                st = write_tensor(file, slots[i].t, stage);
            }
            cordon_status fst = cordon__sys_file_finish(file, st == CORDON_OK && (flags & CORDON_SAFETENSORS_SYNC) != 0);
            if (st == CORDON_OK) {
                st = fst;
            }
        }
    }
    if (pinned) {
        for (size_t i = 0; i < count; i++) {
            cordon__tensor_release(slots[i].t);
        }
    }
    cordon__sys_free(header);
    cordon__sys_free(stage);
    cordon__sys_free(metas);
    cordon__sys_free(slots);
    return st;
}

cordon_status cordon_safetensors_save(const char *path, const cordon_safetensors_item *items, size_t count,
                                      const cordon_safetensors_meta *meta, size_t meta_count, uint32_t flags) {
    return cordon__safetensors_save(path, items, count, meta, meta_count, flags);
}
