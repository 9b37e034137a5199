/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — model files in the safetensors format: open, list, load, save; LoRA adapters under PEFT's names.
 *
 * Format (little-endian throughout): 8 bytes N, then N bytes of a JSON object mapping each tensor name
 * to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__" object of
 * string values, then the data section: every tensor's bytes, packed row-major, at [begin, end) counted
 * from the start of the data section. See docs/safetensors.md.
 *
 * Untrusted input. A file is validated completely when it is opened, before anything is returned:
 * N <= 100,000,000 and N <= file size - 8; strict JSON (UTF-8 checked, escapes including surrogate
 * pairs decoded, no duplicate keys, nothing but whitespace after the object, the object starting at
 * the first byte); per tensor a known dtype, at most 4 dimensions, end - begin == elements × dtype
 * size (computed with overflow checks), begin <= end <= data size; and the tensors' ranges tile the
 * data section exactly (no overlap, no gap, nothing after the last). Violations are
 * CORDON_INVALID_ARGUMENT, sizes that do not fit 64 bits CORDON_OVERFLOW, dtypes the format names but
 * cordon does not know and ranks above 4 CORDON_UNSUPPORTED; nothing else (no crash, no read outside
 * the file, no allocation larger than a small multiple of the file's size).
 *
 * Memory. open maps the file read-only (no copy of the tensor data to the heap); a load converts from
 * the mapping straight into the new tensor's storage. The file must not be truncated or rewritten
 * while it is open: the mapping shows the file's current bytes, and pages past a new end fault.
 *
 * Lifetime and thread safety. An open file is named by a generation-checked handle (a closed file or
 * the handle 0 gives CORDON_STALE). Every function may be called concurrently from several threads on
 * the same file, close included: a close waits for the calls using the file to finish, and calls that
 * start after it return CORDON_STALE. Strings returned by the listing functions point into the open
 * file and stay valid until it is closed. */
#ifndef CORDON_SAFETENSORS_H
#define CORDON_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/device.h"
#include "cordon/export.h"
#include "cordon/ops.h"
#include "cordon/status.h"
#include "cordon/tensor.h"

CORDON_BEGIN_DECLS

typedef struct cordon_safetensors {
    uint64_t handle; /* private; 0 is never an open file (CORDON_STALE) */
} cordon_safetensors;

/* The largest header (N) accepted, as in the format's reference implementation. */
#define CORDON_SAFETENSORS_MAX_HEADER 100000000u
/* The index cordon_safetensors_find gives for a name the file does not hold. */
#define CORDON_SAFETENSORS_ABSENT SIZE_MAX

/* One tensor of an open file. */
typedef struct cordon_safetensors_entry {
    const char *name;       /* NUL-terminated UTF-8 (never contains NUL); valid until close */
    const char *dtype_name; /* the file's spelling: "F32", "F16", "BF16", "I64"…; static */
    cordon_dtype dtype;     /* F32, F16 or BF16; 0 for a dtype cordon lists but cannot load */
    unsigned ndim;          /* 0 (a scalar) to 4 */
    uint64_t shape[4];      /* entries past ndim are 1 */
    uint64_t elements;      /* product of the shape (1 for a scalar, 0 when an extent is 0) */
    uint64_t data_begin;    /* byte range in the data section */
    uint64_t data_end;
} cordon_safetensors_entry;

/* Opens and validates the file at path (see above). Errors: INVALID_ARGUMENT (NULL argument, not a
 * regular file, empty file, any format violation), OVERFLOW, UNSUPPORTED, OUT_OF_MEMORY, and OS
 * failures with the detail in cordon_last_os_error(): a missing file is CORDON_OS_ERROR with "open" and
 * ENOENT, an unreadable one CORDON_PERMISSION_DENIED. Nothing stays mapped or allocated on failure. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_open(const char *path, cordon_safetensors *out);

/* Waits for calls using the file, then unmaps it and frees what open allocated. Tensors loaded from
 * it are independent and stay. A second close gives CORDON_STALE. If the OS refuses the unmap (recorded
 * as "munmap"), the file stays open and usable. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_close(cordon_safetensors file);

/* Number of tensors (metadata not counted). */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_count(cordon_safetensors file, size_t *count_out);

/* The index-th tensor in ascending byte order of names (strcmp). INVALID_ARGUMENT for index >= count. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_entry_at(cordon_safetensors file, size_t index,
                                                                      cordon_safetensors_entry *out);

/* The index of the tensor called name, or CORDON_SAFETENSORS_ABSENT (still CORDON_OK). */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_find(cordon_safetensors file, const char *name,
                                                                  size_t *index_out);

/* Number of "__metadata__" entries. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_metadata_count(cordon_safetensors file, size_t *count_out);

/* The index-th metadata entry in ascending byte order of keys. INVALID_ARGUMENT for index >= count. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_metadata_at(cordon_safetensors file, size_t index,
                                                                         const char **key_out, const char **value_out);

/* The value stored under key, or NULL (still CORDON_OK) when the file has no such key. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_metadata_get(cordon_safetensors file, const char *key,
                                                                          const char **value_out);

/* Loads the tensor called name into a new contiguous F32 tensor on device (cordon_safetensors_load_as
 * keeps BF16 as BF16): F32 is copied, F16 and BF16 converted exactly (every 16-bit value is representable in f32, NaN payloads kept). A scalar (shape
 * []) loads as shape (1). Errors: STALE (file or device), INVALID_ARGUMENT (NULL argument, no tensor of
 * that name), UNSUPPORTED (a dtype other than F32/F16/BF16, an extent of 0: cordon tensors are never
 * empty; a device whose storage is not host memory), and cordon_tensor_create's errors
 * (OUT_OF_MEMORY…). Nothing is created on failure. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_load(cordon_safetensors file, const char *name,
                                                                  cordon_device device, cordon_tensor *out);

/* cordon_safetensors_load into a tensor of the given dtype. F32: exactly cordon_safetensors_load. BF16
 * (weights kept at half the size, for cordon_matmul's B): a BF16 entry is copied bit for bit (NaN
 * payloads included), F32 and F16 entries rounded to nearest even as cordon_bf16_from_f32 does. Errors:
 * those of cordon_safetensors_load, with INVALID_ARGUMENT for an unknown dtype and UNSUPPORTED for F16
 * (no F16 tensors) or BF16 on a device that holds no BF16 tensors (such as OpenCL). */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_load_as(cordon_safetensors file, const char *name,
                                                                     cordon_device device, cordon_dtype dtype,
                                                                     cordon_tensor *out);

/* ------------------------------------------------------------------------------------------------
 * Saving */

typedef struct cordon_safetensors_item {
    const char *name;     /* non-empty UTF-8, not "__metadata__", unique within a save */
    cordon_tensor tensor; /* F32, any strides (saved packed, row-major) */
} cordon_safetensors_item;

typedef struct cordon_safetensors_meta {
    const char *key; /* UTF-8, unique within a save */
    const char *value;
} cordon_safetensors_meta;

/* Flags of cordon_safetensors_save. */
#define CORDON_SAFETENSORS_SYNC 1u /* fsync the file before returning */

/* Writes the tensors (dtype "F32") and metadata to path, replacing any file there. The header lists
 * "__metadata__" first (when meta_count > 0), then the tensors in ascending byte order of names, whose
 * data follow in the same order; the header is padded with spaces so the data section starts at a
 * multiple of 8 bytes. items may be NULL when count is 0, meta when meta_count is 0.
 * Errors, all found before the file is created (path untouched): STALE (a tensor), INVALID_ARGUMENT
 * (NULL or empty path, a NULL name/key/value, invalid UTF-8, an empty name, "__metadata__" as a name,
 * duplicate names or keys, unknown flags), UNSUPPORTED (a tensor of a dtype other than F32; tensors in
 * device memory, such as an OpenCL device's, are read back through a host buffer),
 * OVERFLOW (the file would exceed 2^63 bytes), OUT_OF_MEMORY. OS failures while writing ("open",
 * "write", "fsync", "close") may leave a partial file at path, which cordon_safetensors_open refuses
 * (its data section is shorter than its header says). Tensors are read while the call runs: writing
 * them concurrently saves unspecified values, as any concurrent read does. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_save(const char *path, const cordon_safetensors_item *items,
                                                                  size_t count, const cordon_safetensors_meta *meta,
                                                                  size_t meta_count, uint32_t flags);

/* ------------------------------------------------------------------------------------------------
 * LoRA adapters under PEFT's names
 *
 * PEFT stores an adapter of a layer called <prefix> as two tensors, "<prefix>.lora_A.weight" of shape
 * (r, in) and "<prefix>.lora_B.weight" of shape (out, r). cordon's LoRA operations (ops.h) take A as
 * (in, r) and B as (r, out): the functions below transpose on save and on load, so a file written here
 * loads where PEFT adapters load, and the other way round. Rank, alpha and the scaling convention are
 * stored in the metadata as "lora_rank" (decimal), "lora_alpha" (shortest decimal that reads back to the
 * same f32) and "lora_scaling" ("standard": alpha / r, or "rslora": alpha / sqrt(r)); "format": "pt" is
 * added too. PEFT itself keeps rank and alpha in adapter_config.json: for a file without these keys,
 * read them from there and call cordon_safetensors_load_lora alone.
 *
 * Failures that concern one key write that key's name, NUL-terminated and truncated to fit, into
 * key_out[key_len] (when key_out is non-NULL and key_len > 0); key_out is untouched otherwise. */

typedef struct cordon_lora_adapter {
    const char *prefix; /* "base_model.model.layers.0.self_attn.q_proj"; non-empty UTF-8 */
    cordon_tensor a;    /* (in, r) */
    cordon_tensor b;    /* (r, out) */
} cordon_lora_adapter;

/* Saves the adapters (all of the same rank r) with params to path. Errors as cordon_safetensors_save,
 * plus SHAPE_MISMATCH (A or B not 2-D, B's rows differ from A's columns, ranks differ between adapters;
 * the offending key is named) and INVALID_ARGUMENT (count 0, NULL params, unknown scaling, alpha not
 * finite, two adapters with the same prefix). */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_save_lora(const char *path, const cordon_lora_adapter *adapters,
                                                                       size_t count, const cordon_lora_params *params,
                                                                       uint32_t flags, char *key_out, size_t key_len);

/* Reads "lora_alpha", "lora_scaling" and "lora_rank" from the metadata. Errors: STALE, INVALID_ARGUMENT
 * (NULL argument; a key missing or malformed: named in key_out). rank_out may be NULL. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_lora_params(cordon_safetensors file,
                                                                         cordon_lora_params *params_out,
                                                                         uint64_t *rank_out, char *key_out,
                                                                         size_t key_len);

/* Loads the adapter stored under prefix into new tensors on device: *a_out (in, r) and *b_out (r, out),
 * transposed from the file's (r, in) and (out, r). Errors: STALE, INVALID_ARGUMENT (NULL argument; a key
 * missing: named), SHAPE_MISMATCH (a tensor not 2-D, the two ranks differ, or "lora_rank" in the
 * metadata differs from them: the key named), UNSUPPORTED (a dtype other than F32/F16/BF16, an extent
 * of 0: named), and the errors of cordon_safetensors_load. Nothing is created on failure. */
CORDON_API CORDON_NODISCARD cordon_status cordon_safetensors_load_lora(cordon_safetensors file, const char *prefix,
                                                                       cordon_device device, cordon_tensor *a_out,
                                                                       cordon_tensor *b_out, char *key_out,
                                                                       size_t key_len);

CORDON_END_DECLS

#endif /* CORDON_SAFETENSORS_H */
