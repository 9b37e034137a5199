/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — open safetensors files (handles with table tag 0x53): open, list, load, close.
 *
 * An open file is a type-stable object (objpool) named by a generation-checked handle and pinned by
 * every call that reads it, as tensors are (compute_internal.h, "Pins"): close claims the handle, waits
 * for the pins to drain, and only then unmaps the file and frees the table, so a call racing a close
 * either finishes on the live file or returns CORDON_STALE. */
#include <string.h>

#include "compute/backend.h"
#include "compute/safetensors_internal.h"
#include "core/handle.h"
#include "core/objpool.h"
#include "sys/sys.h"

/* Destroys a tensor this file made and still owns: it is live, so the destroy cannot be refused. */
static void drop_tensor(cordon_tensor t) {
    cordon_status st = cordon_tensor_destroy(t);
    (void)st;
}

struct cordon__st_file {
    void *pool_link; /* first word: the object pool's free-list link */
    cordon__pins pins;
    uint64_t handle;
    cordon__st_table table;
    const void *map; /* the mapping (NULL for an image the caller holds) */
    size_t map_len;
};

static cordon__handle_table files = CORDON__HANDLE_TABLE_INIT(0x53);
static cordon__objpool file_pool = CORDON__OBJPOOL_INIT(sizeof(struct cordon__st_file));

cordon_status cordon__safetensors_acquire(cordon_safetensors file, cordon__st_file **f_out, const cordon__st_table **t_out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&files, file.handle, &obj);
    if (st != CORDON_OK) {
        return CORDON_STALE;
    }
    cordon__st_file *f = obj;
    cordon__pin(&f->pins);
    void *again = NULL;
    if (cordon__handle_lookup(&files, file.handle, &again) != CORDON_OK || again != obj) {
        cordon__unpin(&f->pins);
        return CORDON_STALE;
    }
    *f_out = f;
    *t_out = &f->table;
    return CORDON_OK;
}

void cordon__safetensors_release(cordon__st_file *f) {
    cordon__unpin(&f->pins);
}

/* Publishes a parsed table (and its mapping) under a new handle; on failure the caller still owns them. */
static cordon_status publish(cordon__st_table *t, const void *map, size_t map_len, cordon_safetensors *out) {
    void *obj = NULL;
    cordon_status st = cordon__objpool_get(&file_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__st_file *f = obj;
    f->table = *t;
    f->map = map;
    f->map_len = map_len;
    f->handle = 0;
    st = cordon__handle_insert(&files, f, &f->handle);
    if (st != CORDON_OK) {
        memset(&f->table, 0, sizeof f->table);
        cordon__objpool_put(&file_pool, f);
        return st;
    }
    out->handle = f->handle;
    return CORDON_OK;
}

cordon_status cordon__safetensors_open_image(const void *image, size_t len, cordon_safetensors *out) {
    if (image == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon__st_table t;
    cordon_status st = cordon__safetensors_parse(image, len, &t);
    if (st != CORDON_OK) {
        return st;
    }
    st = publish(&t, NULL, 0, out);
    if (st != CORDON_OK) {
        cordon__safetensors_table_free(&t);
    }
    return st;
}

cordon_status cordon_safetensors_open(const char *path, cordon_safetensors *out) {
    if (path == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    const void *map = NULL;
    size_t len = 0;
    cordon_status st = cordon__sys_file_map_readonly(path, &map, &len);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__st_table t;
    st = cordon__safetensors_parse(map, len, &t);
    if (st == CORDON_OK) {
        st = publish(&t, map, len, out);
        if (st != CORDON_OK) {
            cordon__safetensors_table_free(&t);
        }
    }
    if (st != CORDON_OK) {
        /* Unmapping a whole mapping just made cannot fail for a reason the caller could act on; the
         * parse or publish status is the one to report. */
        (void)cordon__sys_file_unmap(map, len);
    }
    return st;
}

cordon_status cordon_safetensors_close(cordon_safetensors file) {
    void *obj = NULL;
    cordon_status st = cordon__handle_claim(&files, file.handle, &obj);
    if (st != CORDON_OK) {
        return CORDON_STALE;
    }
    cordon__st_file *f = obj;
    cordon__pins_drain(&f->pins);
    if (f->map != NULL) {
        st = cordon__sys_file_unmap(f->map, f->map_len);
        if (st != CORDON_OK) {
            cordon__handle_unclaim(&files, file.handle);
            return st;
        }
    }
    cordon__safetensors_table_free(&f->table);
    f->map = NULL;
    f->map_len = 0;
    cordon__handle_finish(&files, file.handle);
    cordon__objpool_put(&file_pool, f);
    return CORDON_OK;
}

static void fill_entry(const cordon__st_entry *e, cordon_safetensors_entry *out) {
    cordon_safetensors_entry v;
    memset(&v, 0, sizeof v);
    v.name = e->name;
    v.dtype_name = e->dtype_name;
    v.dtype = e->dtype;
    v.ndim = e->ndim;
    for (unsigned i = 0; i < 4; i++) {
        v.shape[i] = e->shape[i];
    }
    v.elements = e->elements;
    v.data_begin = e->begin;
    v.data_end = e->end;
    *out = v;
}

cordon_status cordon_safetensors_count(cordon_safetensors file, size_t *count_out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (count_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        *count_out = t->count;
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon_safetensors_entry_at(cordon_safetensors file, size_t index, cordon_safetensors_entry *out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL || index >= t->count) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        fill_entry(&t->entries[index], out);
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon_safetensors_find(cordon_safetensors file, const char *name, size_t *index_out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (name == NULL || index_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        *index_out = cordon__safetensors_lookup(t, name);
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon_safetensors_metadata_count(cordon_safetensors file, size_t *count_out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (count_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        *count_out = t->meta_count;
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon_safetensors_metadata_at(cordon_safetensors file, size_t index, const char **key_out,
                                             const char **value_out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (key_out == NULL || value_out == NULL || index >= t->meta_count) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        *key_out = t->metas[index].key;
        *value_out = t->metas[index].value;
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon_safetensors_metadata_get(cordon_safetensors file, const char *key, const char **value_out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (key == NULL || value_out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        *value_out = cordon__safetensors_meta_lookup(t, key);
    }
    cordon__safetensors_release(f);
    return st;
}

cordon_status cordon__safetensors_load_entry(const cordon__st_table *t, const cordon__st_entry *e, cordon_device device,
                                             bool transpose, cordon_tensor *out) {
    return cordon__safetensors_load_entry_as(t, e, device, transpose, CORDON_DTYPE_F32, out);
}

cordon_status cordon__safetensors_load_entry_as(const cordon__st_table *t, const cordon__st_entry *e,
                                                cordon_device device, bool transpose, cordon_dtype dtype,
                                                cordon_tensor *out) {
    if (dtype != CORDON_DTYPE_F32 && dtype != CORDON_DTYPE_BF16) {
        return dtype == CORDON_DTYPE_F16 ? CORDON_UNSUPPORTED : CORDON_INVALID_ARGUMENT;
    }
    if (dtype == CORDON_DTYPE_BF16 && transpose) {
        return CORDON_UNSUPPORTED;
    }
    if (e->dtype != CORDON_DTYPE_F32 && e->dtype != CORDON_DTYPE_F16 && e->dtype != CORDON_DTYPE_BF16) {
        return CORDON_UNSUPPORTED;
    }
    if (e->elements == 0) {
        return CORDON_UNSUPPORTED; /* an extent of 0: cordon tensors are never empty */
    }
    if (transpose && e->ndim != 2) {
        return CORDON_SHAPE_MISMATCH;
    }
    uint64_t shape[4] = {1, 1, 1, 1};
    unsigned ndim = e->ndim == 0 ? 1u : e->ndim;
    for (unsigned i = 0; i < e->ndim; i++) {
        shape[i] = e->shape[i];
    }
    if (transpose) {
        shape[0] = e->shape[1];
        shape[1] = e->shape[0];
    }
    cordon_tensor made;
    cordon_status st = cordon_tensor_create(device, dtype, ndim, shape, &made);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__tensor *tt = NULL;
    st = cordon__tensor_acquire(made, &tt);
    if (st == CORDON_OK) {
        if (dtype == CORDON_DTYPE_BF16) {
            /* Only host-memory devices hold BF16 tensors (cordon_tensor_create refused the others): a new
             * contiguous tensor of exactly e->elements bf16 values. */
            cordon__safetensors_convert_bf16(t, e, (uint16_t *)(void *)tt->storage->data);
        } else if (!tt->device->backend->host_memory) {
            /* Device memory: converted into a host buffer, then uploaded by the device. */
            void *stage = NULL;
            st = cordon__sys_alloc((size_t)(e->elements * sizeof(float)), &stage);
            if (st == CORDON_OK) {
                cordon__safetensors_convert(t, e, stage, transpose);
                cordon__view v;
                cordon__view_of(tt, &v);
                st = tt->device->backend->upload(tt->device, &v, stage);
                cordon__sys_free(stage);
            }
        } else {
            /* A new tensor: contiguous, offset 0, exactly e->elements floats, unseen by other threads
             * until its handle is returned. */
            cordon__safetensors_convert(t, e, (float *)(void *)tt->storage->data, transpose);
        }
        cordon__tensor_release(tt);
    }
    if (st != CORDON_OK) {
        drop_tensor(made);
        return st;
    }
    *out = made;
    return CORDON_OK;
}

cordon_status cordon_safetensors_load(cordon_safetensors file, const char *name, cordon_device device,
                                      cordon_tensor *out) {
    return cordon_safetensors_load_as(file, name, device, CORDON_DTYPE_F32, out);
}

cordon_status cordon_safetensors_load_as(cordon_safetensors file, const char *name, cordon_device device,
                                         cordon_dtype dtype, cordon_tensor *out) {
    cordon__st_file *f = NULL;
    const cordon__st_table *t = NULL;
    cordon_status st = cordon__safetensors_acquire(file, &f, &t);
    if (st != CORDON_OK) {
        return st;
    }
    if (name == NULL || out == NULL) {
        st = CORDON_INVALID_ARGUMENT;
    } else {
        size_t i = cordon__safetensors_lookup(t, name);
        st = i == SIZE_MAX ? CORDON_INVALID_ARGUMENT : cordon__safetensors_load_entry_as(t, &t->entries[i], device, false, dtype, out);
    }
    cordon__safetensors_release(f);
    return st;
}
