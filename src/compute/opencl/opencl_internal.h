/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the OpenCL device kind's internal model.
 *
 * One device = one OpenCL context on one device with one in-order command queue (src/sys/opencl.c owns
 * every cl object). Operations queue their kernels and return; only reading a tensor, cordon_device_sync
 * and destroying the device wait. Because the queue is in order, a command always runs after every
 * command queued before it, which is what makes the storage reuse below safe without waiting.
 *
 * Storage: a block is one cl buffer of a size class (four per power of two, as on the CPU). A destroyed
 * tensor's block, or a scratch block, goes back on its class's free list at once, without waiting for
 * the commands that use it: the next user of the block queues its commands after them, on the same
 * in-order queue, so they can never overtake. cl buffers are released only when the device is
 * destroyed, after clFinish. Every path that touches a buffer's bytes goes through this queue (host
 * transfers are blocking reads and writes on it; copies between devices are staged through host
 * memory by tensor.c with those blocking transfers).
 *
 * Programs: one program per (source, build options) per device, compiled on first use under the cache
 * lock (a second thread arriving meanwhile waits for that build rather than starting its own), its
 * kernels created with it and kept until the device is destroyed.
 *
 * Locks: run_lock serialises setting a kernel's arguments and queueing it (a cl_kernel holds its
 * arguments, so two threads must not interleave on it) and counts the commands since the last flush;
 * cache_lock guards the program cache; storage_lock the free lists. No lock is held while another is
 * taken except cache_lock → (none) and run_lock → (none). */
#ifndef CORDON_COMPUTE_OPENCL_INTERNAL_H
#define CORDON_COMPUTE_OPENCL_INTERNAL_H

#include "compute/backend.h"
#include "sys/sys.h"

/* Kernels of the source (kernels_opencl.c), by the name each has there. */
typedef enum cordon__ocl_kernel {
    CORDON__OCL_COPY = 0,
    CORDON__OCL_FILL,
    CORDON__OCL_EW,
    CORDON__OCL_SOFTMAX,
    CORDON__OCL_SOFTMAX_BWD,
    CORDON__OCL_NORM,
    CORDON__OCL_NORM_STATS,
    CORDON__OCL_NORM_PARAM_GRAD,
    CORDON__OCL_NORM_BWD,
    CORDON__OCL_ROPE,
    CORDON__OCL_ATTN,
    CORDON__OCL_ATTN_BWD_Q,
    CORDON__OCL_ATTN_BWD_KV,
    CORDON__OCL_KERNELS
} cordon__ocl_kernel;

extern const char *const cordon__ocl_source[];
extern const unsigned cordon__ocl_source_count;

/* A compiled program and its kernels, keyed by (source, options). */
typedef struct cordon__ocl_program {
    const char *const *source;
    char options[96];
    cordon__sys_cl_program *program;
    cordon__sys_cl_kernel *kernels[CORDON__OCL_KERNELS];
    size_t wg; /* the work-group size every kernel runs with (the WG it was compiled for) */
    atomic_int ready; /* 1 once built: read without the lock (acquire), written under it (release) */
} cordon__ocl_program;

#define CORDON__OCL_CACHE_SLOTS 4
#define CORDON__OCL_CLASSES 232

typedef struct cordon__ocl_device {
    cordon__sys_cl_queue *queue;
    cordon__sys_cl_device_desc desc;
    size_t wg_want;             /* preferred work-group size: 256 on GPUs, 64 elsewhere (capped by the device) */
    cordon_mutex run_lock;
    unsigned pending;           /* commands queued since the last flush (under run_lock) */
    cordon_mutex cache_lock;
    cordon__ocl_program cache[CORDON__OCL_CACHE_SLOTS];
    unsigned cache_used;
    cordon_mutex storage_lock;
    cordon__block *free_lists[CORDON__OCL_CLASSES];
    uint64_t created_bytes;     /* bytes of every cl buffer made */
    uint64_t in_use_bytes;      /* bytes of blocks handed out */
} cordon__ocl_device;

static inline cordon__ocl_device *cordon__ocl(cordon__device *dev) {
    return (cordon__ocl_device *)dev->state;
}

/* Queues commands after this many without a flush (a flush hands work to the device; waits flush too). */
#define CORDON__OCL_FLUSH_EVERY 32u

/* Arguments of one kernel run, with storage for the values (copied by the run). */
typedef struct cordon__ocl_args {
    cordon__sys_cl_arg a[40];
    uint64_t vals[40][4];
    unsigned n;
} cordon__ocl_args;

/* The scalars of k_copy, k_fill and k_ew in one kernel argument: the layout of the kernel source's
 * ew_params (ulong4 fields first, each at a multiple of 32 bytes, then ulongs, then 4-byte fields, padded
 * to the struct's 32-byte alignment). */
typedef struct cordon__ocl_ew_params {
    uint64_t sh[4], ys[4], as[4], bs[4];
    uint64_t yo, ao, bo, n;
    float s;
    int32_t kind, binary, flat;
    uint64_t pad0, pad1;
} cordon__ocl_ew_params;
_Static_assert(sizeof(cordon__ocl_ew_params) == 192, "ew_params is 192 bytes in the kernel source");
_Static_assert(offsetof(cordon__ocl_ew_params, yo) == 128 && offsetof(cordon__ocl_ew_params, s) == 160 &&
                   offsetof(cordon__ocl_ew_params, flat) == 172,
               "ew_params field offsets as in the kernel source");

void cordon__ocl_arg_buffer(cordon__ocl_args *A, const cordon__block *b);
/* A struct argument: size bytes at p, copied when the kernel is run (p must outlive cordon__ocl_run). */
void cordon__ocl_arg_struct(cordon__ocl_args *A, const void *p, size_t size);
/* A view's element offset and strides broadcast to `shape` (stride 0 where its extent is 1). */
void cordon__ocl_view_place(const cordon__view *v, uint64_t *offset, uint64_t strides[4]);
void cordon__ocl_arg_u64(cordon__ocl_args *A, uint64_t v);
void cordon__ocl_arg_u64x4(cordon__ocl_args *A, const uint64_t v[4]);
void cordon__ocl_arg_i32(cordon__ocl_args *A, int32_t v);
void cordon__ocl_arg_f32(cordon__ocl_args *A, float v);
/* The device's real_t (double with cl_khr_fp64, else float). */
void cordon__ocl_arg_real(cordon__device *dev, cordon__ocl_args *A, double v);
/* A view as (buffer, offset, ulong4 strides), broadcast to `shape`: stride 0 where the view's extent
 * is 1. An absent view passes `fallback`'s buffer (never read by the kernel). */
void cordon__ocl_arg_view(cordon__ocl_args *A, const cordon__view *v, const uint64_t shape[4],
                          const cordon__view *fallback);

/* Runs kernel k over `groups` work-groups (of the program's work-group size), queued. */
cordon_status cordon__ocl_run(cordon__device *dev, cordon__ocl_kernel k, const cordon__ocl_args *A, uint64_t groups);
/* Work-groups for a grid-stride kernel over n items. */
uint64_t cordon__ocl_groups_for(cordon__device *dev, uint64_t n);
/* The work-group size the kernels run with (builds the program on first use). */
cordon_status cordon__ocl_wg(cordon__device *dev, size_t *out);

/* dst = src (same shape) on the device; y = value over a view. */
cordon_status cordon__ocl_copy(cordon__device *dev, const cordon__view *dst, const cordon__view *src);
cordon_status cordon__ocl_fill(cordon__device *dev, const cordon__view *v, float value);

/* The kernels (ops_opencl.c). */
cordon_status cordon__ocl_matmul(cordon__device *dev, const cordon__matmul_desc *d);
cordon_status cordon__ocl_softmax(cordon__device *dev, const cordon__softmax_desc *d);
cordon_status cordon__ocl_softmax_backward(cordon__device *dev, const cordon__softmax_bwd_desc *d);
cordon_status cordon__ocl_norm(cordon__device *dev, const cordon__norm_desc *d);
cordon_status cordon__ocl_norm_backward(cordon__device *dev, const cordon__norm_bwd_desc *d);
cordon_status cordon__ocl_attention(cordon__device *dev, const cordon__attention_desc *d);
cordon_status cordon__ocl_attention_backward(cordon__device *dev, const cordon__attention_desc *d);
cordon_status cordon__ocl_elementwise(cordon__device *dev, const cordon__ew_desc *d);
cordon_status cordon__ocl_rope(cordon__device *dev, const cordon__rope_desc *d);

#endif /* CORDON_COMPUTE_OPENCL_INTERNAL_H */
