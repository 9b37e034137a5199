/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — tensors.
 *
 * A tensor is a view of 1 to 4 dimensions onto storage that lives on a device: a dtype, a shape, strides
 * counted in elements (row-major when contiguous: the last dimension has stride 1) and an offset into
 * the storage. Transposed and sliced views share their parent's storage without a copy; the storage
 * stays alive as long as any tensor viewing it does (destroying a parent does not invalidate its views).
 *
 * Creation gives a contiguous, zero-filled tensor. Data moves in and out with cordon_tensor_write and
 * cordon_tensor_read, whose byte counts must equal the tensor's size exactly; a strided view is read
 * and written in row-major order of its shape.
 *
 * Validation. Every function checks all of its arguments before it changes anything; a refused call
 * returns a status and writes nothing. Order: handles (CORDON_STALE), NULL pointers and invalid values
 * (CORDON_INVALID_ARGUMENT), sizes that overflow (CORDON_OVERFLOW), shapes (CORDON_SHAPE_MISMATCH), views
 * outside the storage (CORDON_OUT_OF_BOUNDS).
 *
 * Lifetime and thread safety. Tensors are named by generation-checked handles: a destroyed tensor, a
 * tensor of a destroyed device, or the handle 0 gives CORDON_STALE. Any function may be called from any
 * thread. A tensor may be destroyed while another thread uses it in an operation: the operation either
 * completes on the live tensor (the destroy waits for it) or returns CORDON_STALE, never a read of freed
 * storage. Operations that write a tensor while another operation reads or writes it are a data race on
 * the values (unspecified numbers, never a crash), as with any shared buffer. */
#ifndef CORDON_TENSOR_H
#define CORDON_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/device.h"
#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

#define CORDON_TENSOR_MAX_DIMS 4

/* Element types.
 *  F32   IEEE binary32: every operation takes it.
 *  BF16  bfloat16, the upper 16 bits of an f32 (8 exponent bits, 7 fraction bits): storage for weights.
 *        A BF16 tensor is created, viewed, copied (to BF16), read and written like any other (raw 2-byte
 *        elements through cordon_tensor_read/write, or converted from and to f32 by
 *        cordon_tensor_read_f32/write_f32), and is accepted as the B operand of cordon_matmul (ops.h:
 *        A and C stay F32, accumulation in f32). Every other operation refuses it with
 *        CORDON_UNSUPPORTED. Only devices whose storage is host memory (the CPU) hold BF16 tensors.
 *  F16   IEEE binary16: named for file formats only (safetensors files holding F16 load as F32). */
typedef enum cordon_dtype {
    CORDON_DTYPE_F32 = 1,
    CORDON_DTYPE_BF16 = 2,
    CORDON_DTYPE_F16 = 3
} cordon_dtype;

typedef struct cordon_tensor {
    uint64_t handle; /* private; 0 is never a live tensor (CORDON_STALE) */
} cordon_tensor;

/* The absent tensor, for optional operands (a bias, a mask…): CORDON_TENSOR_NONE. */
#define CORDON_TENSOR_NONE ((cordon_tensor){0})

/* Bytes per element of a dtype, 0 for an unknown one. */
CORDON_API size_t cordon_dtype_size(cordon_dtype dtype);
/* "f32", "bf16", "f16", or "unknown". Static. */
CORDON_API const char *cordon_dtype_name(cordon_dtype dtype);

/* Conversions between f32 and bf16, n elements (src and dst must not overlap; both may be NULL when n is
 * 0). Narrowing rounds to nearest, ties to even, bit by bit (the caller's rounding mode and FTZ/DAZ
 * settings play no part): the relative error is at most 2^-8 for every normal result; f32 subnormals
 * round to bf16 subnormals (the same exponent range, fewer fraction bits), never flushed; finite values
 * of magnitude >= 0x1.ffp127 (halfway between the largest finite bf16, 0x1.fep127, and 2^128) round to
 * infinity, infinities stay infinities, and a NaN stays a NaN of the same sign, its payload's top bits
 * kept and the quiet bit set (a payload cut to zero never turns it into an infinity). Widening is exact
 * (shift by 16 bits). Errors: INVALID_ARGUMENT (a NULL pointer with n > 0). */
CORDON_API CORDON_NODISCARD cordon_status cordon_bf16_from_f32(uint16_t *dst, const float *src, size_t n);
CORDON_API CORDON_NODISCARD cordon_status cordon_bf16_to_f32(float *dst, const uint16_t *src, size_t n);

/* Creates a contiguous tensor of the given shape (ndim 1..4, each extent >= 1), zero-filled.
 * Errors: STALE (device), INVALID_ARGUMENT (NULL shape or out, ndim 0 or > 4, a zero extent, unknown
 * dtype), UNSUPPORTED (F16; BF16 on a device whose storage is not host memory, such as OpenCL),
 * OVERFLOW (the byte size does not fit 63 bits), OUT_OF_MEMORY (the device's storage is exhausted or
 * the OS refused). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_create(cordon_device device, cordon_dtype dtype, unsigned ndim,
                                                               const uint64_t *shape, cordon_tensor *out);

/* Destroys the tensor (a view or not). Its storage is released when no other tensor views it. */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_destroy(cordon_tensor t);

typedef struct cordon_tensor_info {
    cordon_device device;
    cordon_dtype dtype;
    unsigned ndim;
    uint64_t shape[CORDON_TENSOR_MAX_DIMS];   /* entries past ndim are 1 */
    uint64_t strides[CORDON_TENSOR_MAX_DIMS]; /* in elements; entries past ndim are 1 */
    uint64_t offset;                          /* in elements, from the start of the storage */
    uint64_t elements;                        /* product of the shape */
    uint64_t bytes;                           /* elements × element size: what read/write move */
    bool contiguous;                          /* row-major without gaps */
} cordon_tensor_info;

CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_info_get(cordon_tensor t, cordon_tensor_info *out);

/* Copies `bytes` bytes (exactly the tensor's size) from src into the tensor, in row-major order of its
 * shape. Errors: STALE, INVALID_ARGUMENT (NULL src), SHAPE_MISMATCH (bytes differs from the size). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_write(cordon_tensor t, const void *src, size_t bytes);

/* Copies the tensor's elements, in row-major order of its shape, into dst (exactly `bytes` bytes). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_read(cordon_tensor t, void *dst, size_t bytes);

/* cordon_tensor_write and cordon_tensor_read with f32 host values, `count` of them (exactly the tensor's
 * element count): an F32 tensor moves them unchanged; a BF16 tensor stores each rounded as
 * cordon_bf16_from_f32 says and reads each widened exactly (through a staging buffer of the tensor's
 * size). Errors: those of write/read, with SHAPE_MISMATCH for a count other than the element count and
 * OUT_OF_MEMORY when the staging buffer is refused; a refused write changes nothing. */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_write_f32(cordon_tensor t, const float *src, size_t count);
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_read_f32(cordon_tensor t, float *dst, size_t count);

/* Copies src's elements into dst: same dtype (INVALID_ARGUMENT otherwise: no conversion) and shape, any
 * strides, any devices. dst and src may not
 * overlap in storage unless they are the same view (then nothing changes): CORDON_INVALID_ARGUMENT. */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_copy(cordon_tensor dst, cordon_tensor src);

/* A view of `t` with its own shape and strides (elements) and an offset (elements) relative to t's
 * offset. Every element it names must lie inside t's storage: CORDON_OUT_OF_BOUNDS otherwise. A stride of
 * 0 (broadcast) is allowed; such a view can be read by operations but not written (they refuse outputs
 * whose elements overlap). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_view(cordon_tensor t, unsigned ndim, const uint64_t *shape,
                                                             const uint64_t *strides, uint64_t offset,
                                                             cordon_tensor *out);

/* A view with dimensions d0 and d1 swapped (no copy). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_transpose(cordon_tensor t, unsigned d0, unsigned d1,
                                                                  cordon_tensor *out);

/* A view of elements [start, start + len) along dimension dim (no copy). len >= 1. */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_slice(cordon_tensor t, unsigned dim, uint64_t start,
                                                              uint64_t len, cordon_tensor *out);

/* A view with another shape and the same number of elements; t must be contiguous
 * (CORDON_WRONG_STATE otherwise: copy it first). */
CORDON_API CORDON_NODISCARD cordon_status cordon_tensor_reshape(cordon_tensor t, unsigned ndim, const uint64_t *shape,
                                                                cordon_tensor *out);

CORDON_END_DECLS

#endif /* CORDON_TENSOR_H */
