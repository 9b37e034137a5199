/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the safetensors parser and converter, below the public API (include/cordon/safetensors.h).
 *
 * cordon__safetensors_parse validates a whole file image held in memory and builds a table that points
 * into it; every entry of a table that parse returned satisfies: begin <= end <= data_len,
 * end - begin == elements × elem_size, and the entries' ranges tile [0, data_len). Converting an entry
 * therefore never reads outside the image. Tests and the fuzzer call these directly. */
#ifndef CORDON_COMPUTE_SAFETENSORS_INTERNAL_H
#define CORDON_COMPUTE_SAFETENSORS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/safetensors.h"

typedef struct cordon__st_entry {
    const char *name; /* in the table's string pool */
    const char *dtype_name;
    cordon_dtype dtype; /* 0 when cordon cannot load it */
    unsigned elem_size;
    unsigned ndim;
    uint64_t shape[4];
    uint64_t elements;
    uint64_t begin, end;
} cordon__st_entry;

typedef struct cordon__st_meta {
    const char *key, *value; /* in the string pool */
} cordon__st_meta;

typedef struct cordon__st_table {
    const uint8_t *data; /* the data section, inside the image */
    uint64_t data_len;
    cordon__st_entry *entries; /* sorted by name */
    size_t count;
    cordon__st_meta *metas; /* sorted by key */
    size_t meta_count;
    char *pool; /* decoded strings */
} cordon__st_table;

/* Validates image[0, len) as a safetensors file and fills *out (which the caller releases with
 * cordon__safetensors_table_free; the image must outlive it). Statuses as cordon_safetensors_open. */
cordon_status cordon__safetensors_parse(const uint8_t *image, size_t len, cordon__st_table *out);
void cordon__safetensors_table_free(cordon__st_table *t);

/* Index of name in the table, or SIZE_MAX. */
size_t cordon__safetensors_lookup(const cordon__st_table *t, const char *name);
/* Value of a metadata key, or NULL. */
const char *cordon__safetensors_meta_lookup(const cordon__st_table *t, const char *key);

/* Converts entry e (F32, F16 or BF16) to f32 into dst (e->elements floats). transpose: e is 2-D (rows,
 * cols) and dst receives its transpose (cols, rows), row-major. */
void cordon__safetensors_convert(const cordon__st_table *t, const cordon__st_entry *e, float *dst, bool transpose);
/* Converts entry e to bf16 into dst (e->elements values): a BF16 entry's bits are copied unchanged, F32
 * and F16 values rounded to nearest even (cordon_bf16_from_f32). */
void cordon__safetensors_convert_bf16(const cordon__st_table *t, const cordon__st_entry *e, uint16_t *dst);

/* Opens a file image held by the caller (no mapping), which must stay unchanged until the handle is
 * closed: for tests and the fuzzer. Statuses as cordon_safetensors_open. */
cordon_status cordon__safetensors_open_image(const void *image, size_t len, cordon_safetensors *out);

/* Strict UTF-8 of n bytes: no overlong forms, no surrogates, nothing above U+10FFFF, and (nul_ok false)
 * no NUL byte. */
bool cordon__utf8_valid(const uint8_t *s, size_t n, bool nul_ok);

/* Loads entry e of an acquired file into a new tensor on device (transposed when asked): shared by
 * cordon_safetensors_load and the LoRA loader. */
cordon_status cordon__safetensors_load_entry(const cordon__st_table *t, const cordon__st_entry *e, cordon_device device,
                                             bool transpose, cordon_tensor *out);
/* The same into a tensor of the given dtype: F32 (as above), or BF16 (not transposed; a device that holds
 * BF16 tensors, else cordon_tensor_create's UNSUPPORTED). */
cordon_status cordon__safetensors_load_entry_as(const cordon__st_table *t, const cordon__st_entry *e,
                                                cordon_device device, bool transpose, cordon_dtype dtype,
                                                cordon_tensor *out);

/* Acquires an open file's table (pinned until cordon__safetensors_release), for safetensors*.c. */
typedef struct cordon__st_file cordon__st_file;
cordon_status cordon__safetensors_acquire(cordon_safetensors file, cordon__st_file **f_out, const cordon__st_table **t_out);
void cordon__safetensors_release(cordon__st_file *f);

/* Saves with the checks of cordon_safetensors_save (shared with the LoRA saver). */
cordon_status cordon__safetensors_save(const char *path, const cordon_safetensors_item *items, size_t count,
                                       const cordon_safetensors_meta *meta, size_t meta_count, uint32_t flags);

#endif /* CORDON_COMPUTE_SAFETENSORS_INTERNAL_H */
