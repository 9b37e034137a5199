/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the OpenCL device kind: device selection, create/destroy/info, storage blocks (cl buffers in
 * size classes, reused through free lists), host transfers, the program cache and kernel runs (the model
 * is in opencl_internal.h; the operations are in ops_opencl.c). */
#include "compute/opencl/opencl_internal.h"

#include "core/objpool.h"

#define MAX_LISTED 64u
#define MIN_CLASS_BYTES 64u

static cordon__objpool ocl_device_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__ocl_device));
static cordon__objpool ocl_block_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__block));

/* ---------------------------------------------------------------------------------------------------
 * Selection */

static bool is_digits(const char *s, size_t len) {
    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

static unsigned parse_index(const char *s, size_t len) {
    unsigned v = 0;
    for (size_t i = 0; i < len && v < 100000u; i++) {
        v = v * 10u + (unsigned)(s[i] - '0');
    }
    return v;
}

/* The device a name selects among `list` (n entries): "opencl" → the first GPU, else the first device;
 * "opencl:P:D" → platform P, device D; "opencl:TEXT" → the first device whose name or platform name
 * contains TEXT. BACKEND_UNAVAILABLE when nothing matches (or no device exists). */
static cordon_status select_device(const char *name, const cordon__sys_cl_device_desc *list, size_t n, size_t *out) {
    const char *detail = strchr(name, ':');
    if (detail == NULL) {
        for (size_t i = 0; i < n; i++) {
            if (list[i].gpu) {
                *out = i;
                return CORDON_OK;
            }
        }
        if (n == 0) {
            return CORDON_BACKEND_UNAVAILABLE;
        }
        *out = 0;
        return CORDON_OK;
    }
    detail++;
    if (detail[0] == '\0') {
        return CORDON_INVALID_ARGUMENT;
    }
    const char *colon = strchr(detail, ':');
    if (colon != NULL && is_digits(detail, (size_t)(colon - detail)) && is_digits(colon + 1, strlen(colon + 1))) {
        unsigned p = parse_index(detail, (size_t)(colon - detail)), d = parse_index(colon + 1, strlen(colon + 1));
        for (size_t i = 0; i < n; i++) {
            if (list[i].platform == p && list[i].device == d) {
                *out = i;
                return CORDON_OK;
            }
        }
        return CORDON_BACKEND_UNAVAILABLE;
    }
    for (size_t i = 0; i < n; i++) {
        if (strstr(list[i].name, detail) != NULL || strstr(list[i].platform_name, detail) != NULL) {
            *out = i;
            return CORDON_OK;
        }
    }
    return CORDON_BACKEND_UNAVAILABLE;
}

static void ocl_describe(cordon_device_kind *out) {
    *out = (cordon_device_kind){0};
    snprintf(out->name, sizeof out->name, "opencl");
    cordon__sys_cl_device_desc list[8];
    size_t n = 0;
    cordon_status st = cordon__sys_cl_devices(list, 8, &n);
    if (st != CORDON_OK) {
        snprintf(out->description, sizeof out->description, "OpenCL devices could not be listed (%s)",
                 cordon_status_name(st));
        return;
    }
    if (n == 0) {
        snprintf(out->description, sizeof out->description, "built in, but no OpenCL device found");
        return;
    }
    size_t pick = 0;
    if (select_device("opencl", list, n < 8 ? n : 8, &pick) != CORDON_OK) {
        pick = 0;
    }
    const cordon__sys_cl_device_desc *d = &list[pick];
    snprintf(out->description, sizeof out->description, "%zu device%s; default %u:%u %.32s (%.20s, %s), GEMM: CLBlast", n,
             n == 1 ? "" : "s", d->platform, d->device, d->name, d->platform_name, d->gpu ? "GPU" : "not a GPU");
    out->available = true;
}

/* ---------------------------------------------------------------------------------------------------
 * Create / destroy / info */

static size_t floor_pow2(size_t v) {
    size_t p = 1;
    while (p <= v / 2) {
        p *= 2;
    }
    return p;
}

static cordon_status ocl_create(cordon__device *dev, const cordon_device_options *o) {
    if (o->matmul == CORDON_MATMUL_BUILTIN || o->isa != CORDON_ISA_AUTO) {
        return CORDON_UNSUPPORTED; /* products always go through CLBlast; instruction sets are the CPU's */
    }
    cordon__sys_cl_device_desc list[MAX_LISTED];
    size_t n = 0;
    cordon_status st = cordon__sys_cl_devices(list, MAX_LISTED, &n);
    if (st != CORDON_OK) {
        return st;
    }
    size_t pick = 0;
    st = select_device(o->name, list, n < MAX_LISTED ? n : MAX_LISTED, &pick);
    if (st != CORDON_OK) {
        return st;
    }
    void *obj = NULL;
    st = cordon__objpool_get(&ocl_device_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__ocl_device *ocl = obj;
    *ocl = (cordon__ocl_device){0};
    ocl->desc = list[pick];
    ocl->run_lock = (cordon_mutex)CORDON_MUTEX_INIT;
    ocl->cache_lock = (cordon_mutex)CORDON_MUTEX_INIT;
    ocl->storage_lock = (cordon_mutex)CORDON_MUTEX_INIT;
    size_t want = ocl->desc.gpu ? 256u : 64u;
    size_t maxwg = ocl->desc.max_work_group > 0 ? ocl->desc.max_work_group : 1u;
    ocl->wg_want = floor_pow2(want < maxwg ? want : maxwg);
    st = cordon__sys_cl_open(ocl->desc.platform, ocl->desc.device, &ocl->queue);
    if (st != CORDON_OK) {
        cordon__objpool_put(&ocl_device_pool, ocl);
        return st;
    }
    dev->state = ocl;
    dev->kernels = NULL;
    dev->isa = CORDON_ISA_AUTO;
    dev->matmul = CORDON_MATMUL_BLAS;
    dev->deterministic = o->deterministic;
    dev->threads = 1;
    dev->pool = (cordon_pool){0};
    return CORDON_OK;
}

static void release_programs(cordon__ocl_device *ocl) {
    for (unsigned i = 0; i < ocl->cache_used; i++) {
        cordon__ocl_program *p = &ocl->cache[i];
        for (unsigned k = 0; k < CORDON__OCL_KERNELS; k++) {
            cordon__sys_cl_kernel_release(p->kernels[k]);
            p->kernels[k] = NULL;
        }
        cordon__sys_cl_program_release(p->program);
        p->program = NULL;
        atomic_store_explicit(&p->ready, 0, memory_order_relaxed);
    }
    ocl->cache_used = 0;
}

static cordon_status ocl_destroy(cordon__device *dev) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    /* Every tensor is gone (device.c destroyed them) and no operation runs; queued commands may still
     * use the buffers: wait for them before anything is released. A failed wait leaves the device as
     * it was, usable. */
    cordon_status st = cordon__sys_cl_finish(ocl->queue);
    if (st != CORDON_OK) {
        return st;
    }
    for (unsigned c = 0; c < CORDON__OCL_CLASSES; c++) {
        cordon__block *b = ocl->free_lists[c];
        while (b != NULL) {
            cordon__block *next = b->next;
            cordon__sys_cl_buffer_release(b->handle);
            b->handle = NULL;
            cordon__objpool_put(&ocl_block_pool, b);
            b = next;
        }
        ocl->free_lists[c] = NULL;
    }
    release_programs(ocl);
    st = cordon__sys_cl_close(ocl->queue); /* releases on every path; a failure is only reported */
    ocl->queue = NULL;
    dev->state = NULL;
    cordon__objpool_put(&ocl_device_pool, ocl);
    (void)st;
    return CORDON_OK;
}

static void ocl_info(cordon__device *dev, cordon_device_info *info) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    snprintf(info->kind, sizeof info->kind, "opencl");
    info->threads = 1;
    info->isa = CORDON_ISA_AUTO;
    info->isa_name = "opencl";
    info->matmul = CORDON_MATMUL_BLAS;
    info->deterministic = dev->deterministic;
    cordon__lock(&ocl->storage_lock);
    info->storage_reserved_bytes = ocl->desc.global_mem_bytes;
    info->storage_committed_bytes = ocl->created_bytes;
    info->storage_in_use_bytes = ocl->in_use_bytes;
    cordon__unlock(&ocl->storage_lock);
    snprintf(info->description, sizeof info->description, "%u:%u %.40s (%.20s), %.20s, fp64 %s, GEMM: CLBlast",
             ocl->desc.platform, ocl->desc.device, ocl->desc.name, ocl->desc.platform_name, ocl->desc.version,
             ocl->desc.fp64 ? "yes" : "no");
}

/* ---------------------------------------------------------------------------------------------------
 * Storage: cl buffers in size classes, reused through free lists (see opencl_internal.h for why reuse
 * needs no wait). */

static unsigned floor_log2(uint64_t v) {
    unsigned r = 0;
    while (v >>= 1) {
        r++;
    }
    return r;
}

static void class_of(uint64_t bytes, uint32_t *cls, uint64_t *capacity) {
    if (bytes <= MIN_CLASS_BYTES) {
        *cls = 0;
        *capacity = MIN_CLASS_BYTES;
        return;
    }
    unsigned g = floor_log2(bytes - 1) - 6u;
    uint64_t unit = UINT64_C(16) << g;
    uint64_t quarters = (bytes + unit - 1) / unit;
    *cls = g * 4u + (uint32_t)(quarters - 4u);
    *capacity = quarters * unit;
}

static cordon_status ocl_alloc(cordon__device *dev, uint64_t bytes, cordon__block **out) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    if (bytes == 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (bytes > (UINT64_C(1) << 62)) {
        return CORDON_OVERFLOW;
    }
    uint32_t cls;
    uint64_t capacity;
    class_of(bytes, &cls, &capacity);
    if (cls >= CORDON__OCL_CLASSES) {
        return CORDON_OVERFLOW;
    }
    if (capacity > ocl->desc.max_alloc_bytes) {
        return CORDON_LIMIT_EXCEEDED; /* more than the device allocates in one buffer */
    }
    cordon__lock(&ocl->storage_lock);
    cordon__block *b = ocl->free_lists[cls];
    if (b != NULL) {
        ocl->free_lists[cls] = b->next;
        ocl->in_use_bytes += b->capacity;
        cordon__unlock(&ocl->storage_lock);
        b->next = NULL;
        b->fresh = false;
        atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
        *out = b;
        return CORDON_OK;
    }
    cordon__unlock(&ocl->storage_lock);
    void *obj = NULL;
    cordon_status st = cordon__objpool_get(&ocl_block_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    b = obj;
    cordon__sys_cl_buffer *buf = NULL;
    st = cordon__sys_cl_buffer_create(ocl->queue, (size_t)capacity, &buf);
    if (st != CORDON_OK) {
        cordon__objpool_put(&ocl_block_pool, b);
        return st;
    }
    b->data = NULL;
    b->handle = buf;
    b->capacity = capacity;
    b->bytes = 0;
    b->size_class = cls;
    b->fresh = false; /* a new cl buffer's contents are unspecified: tensor.c zeroes it */
    b->next = NULL;
    b->device = dev;
    atomic_store_explicit(&b->refs, 1, memory_order_relaxed);
    cordon__lock(&ocl->storage_lock);
    ocl->created_bytes += capacity;
    ocl->in_use_bytes += capacity;
    cordon__unlock(&ocl->storage_lock);
    *out = b;
    return CORDON_OK;
}

static void ocl_release(cordon__device *dev, cordon__block *b) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    cordon__lock(&ocl->storage_lock);
    b->next = ocl->free_lists[b->size_class];
    ocl->free_lists[b->size_class] = b;
    ocl->in_use_bytes -= b->capacity;
    cordon__unlock(&ocl->storage_lock);
}

static cordon_status ocl_zero(cordon__device *dev, cordon__block *b, uint64_t bytes) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    uint64_t n = (bytes + 3u) / 4u * 4u;
    if (n > b->capacity) {
        n = b->capacity / 4u * 4u;
    }
    cordon__lock(&ocl->run_lock);
    cordon_status st = cordon__sys_cl_buffer_zero(ocl->queue, b->handle, 0, (size_t)n);
    if (st == CORDON_OK) {
        ocl->pending++;
    }
    cordon__unlock(&ocl->run_lock);
    return st;
}

/* A contiguous scratch view over a fresh block of the view's elements. */
static cordon_status packed_scratch(cordon__device *dev, const cordon__view *v, cordon__block **blk, cordon__view *out) {
    uint64_t n = cordon__view_elements(v);
    cordon_status st = ocl_alloc(dev, n * sizeof(float), blk);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__view s = *v;
    s.storage = *blk;
    s.offset = 0;
    uint64_t stride = 1;
    for (unsigned i = CORDON__MAX_DIMS; i-- > 0;) {
        s.strides[i] = stride;
        stride *= s.shape[i];
    }
    *out = s;
    return CORDON_OK;
}

static cordon_status ocl_upload(cordon__device *dev, const cordon__view *v, const void *src) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    uint64_t bytes = cordon__view_elements(v) * sizeof(float);
    if (cordon__view_contiguous(v)) {
        return cordon__sys_cl_buffer_write(ocl->queue, v->storage->handle, (size_t)(v->offset * sizeof(float)),
                                           (size_t)bytes, src);
    }
    cordon__block *blk = NULL;
    cordon__view packed;
    cordon_status st = packed_scratch(dev, v, &blk, &packed);
    if (st != CORDON_OK) {
        return st;
    }
    st = cordon__sys_cl_buffer_write(ocl->queue, blk->handle, 0, (size_t)bytes, src);
    if (st == CORDON_OK) {
        st = cordon__ocl_copy(dev, v, &packed);
    }
    ocl_release(dev, blk); /* the copy is queued before any later user of the block */
    return st;
}

static cordon_status ocl_download(cordon__device *dev, const cordon__view *v, void *dst) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    uint64_t bytes = cordon__view_elements(v) * sizeof(float);
    if (cordon__view_contiguous(v)) {
        return cordon__sys_cl_buffer_read(ocl->queue, v->storage->handle, (size_t)(v->offset * sizeof(float)),
                                          (size_t)bytes, dst);
    }
    cordon__block *blk = NULL;
    cordon__view packed;
    cordon_status st = packed_scratch(dev, v, &blk, &packed);
    if (st != CORDON_OK) {
        return st;
    }
    st = cordon__ocl_copy(dev, &packed, v);
    if (st == CORDON_OK) {
        st = cordon__sys_cl_buffer_read(ocl->queue, blk->handle, 0, (size_t)bytes, dst);
    }
    ocl_release(dev, blk);
    return st;
}

static cordon_status ocl_sync(cordon__device *dev) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    cordon_status st = cordon__sys_cl_finish(ocl->queue);
    if (st == CORDON_OK) {
        cordon__lock(&ocl->run_lock);
        ocl->pending = 0;
        cordon__unlock(&ocl->run_lock);
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Program cache and kernel runs */

static const char *const kernel_names[CORDON__OCL_KERNELS] = {
    "k_copy",          "k_fill",     "k_ew",   "k_softmax",    "k_softmax_bwd", "k_norm",       "k_norm_stats",
    "k_norm_param_grad", "k_norm_bwd", "k_rope", "k_attn",       "k_attn_bwd_q",  "k_attn_bwd_kv",
};

/* Builds the source for work-group size wg into p; on success every kernel runs with wg (or *fits
 * receives the largest power of two every kernel accepts, when that is smaller, and nothing is kept). */
static cordon_status build(cordon__ocl_device *ocl, cordon__ocl_program *p, size_t wg, size_t *fits) {
    snprintf(p->options, sizeof p->options, "-D WG=%zu%s", wg, ocl->desc.fp64 ? " -D HAVE_FP64=1" : "");
    p->source = cordon__ocl_source;
    cordon_status st = cordon__sys_cl_program_build(ocl->queue, cordon__ocl_source, cordon__ocl_source_count,
                                                    p->options, &p->program);
    if (st != CORDON_OK) {
        return st;
    }
    size_t smallest = wg;
    for (unsigned k = 0; k < CORDON__OCL_KERNELS && st == CORDON_OK; k++) {
        size_t kmax = 0;
        st = cordon__sys_cl_kernel_create(p->program, kernel_names[k], &p->kernels[k], &kmax);
        if (st == CORDON_OK && kmax < smallest) {
            smallest = kmax;
        }
    }
    if (st == CORDON_OK && smallest < wg) {
        *fits = floor_pow2(smallest);
        st = CORDON_LIMIT_EXCEEDED;
    }
    if (st != CORDON_OK) {
        for (unsigned k = 0; k < CORDON__OCL_KERNELS; k++) {
            cordon__sys_cl_kernel_release(p->kernels[k]);
            p->kernels[k] = NULL;
        }
        cordon__sys_cl_program_release(p->program);
        p->program = NULL;
        return st;
    }
    p->wg = wg;
    return CORDON_OK;
}

/* The device's program: built on first use, once, whichever threads ask at the same time. */
static cordon_status program(cordon__device *dev, cordon__ocl_program **out) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    cordon__ocl_program *p = &ocl->cache[0];
    if (atomic_load_explicit(&p->ready, memory_order_acquire) == 1) {
        *out = p;
        return CORDON_OK;
    }
    cordon__lock(&ocl->cache_lock);
    cordon_status st = CORDON_OK;
    if (atomic_load_explicit(&p->ready, memory_order_relaxed) != 1) {
        size_t wg = ocl->wg_want;
        for (;;) {
            size_t fits = 0;
            st = build(ocl, p, wg, &fits);
            if (st != CORDON_LIMIT_EXCEEDED || fits >= wg || fits == 0) {
                break;
            }
            wg = fits; /* a kernel cannot run with wg items here: compile for fewer */
        }
        if (st == CORDON_OK) {
            ocl->cache_used = 1;
            atomic_store_explicit(&p->ready, 1, memory_order_release);
        }
    }
    cordon__unlock(&ocl->cache_lock);
    if (st == CORDON_OK) {
        *out = p;
    }
    return st;
}

cordon_status cordon__ocl_wg(cordon__device *dev, size_t *out) {
    cordon__ocl_program *p = NULL;
    cordon_status st = program(dev, &p);
    if (st == CORDON_OK) {
        *out = p->wg;
    }
    return st;
}

/* A GPU gets one item per element (up to 4096 groups); a CPU device (PoCL runs a work-group as one
 * task) gets groups of at least 64 elements per item, at most 4 per compute unit, since each group
 * costs a task dispatch there. Grid-stride kernels cover the rest. */
uint64_t cordon__ocl_groups_for(cordon__device *dev, uint64_t n) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    uint64_t wg = ocl->wg_want;
    uint64_t per = ocl->desc.gpu ? wg : wg * 64u;
    uint64_t cap = ocl->desc.gpu ? 4096u : 4u * (ocl->desc.compute_units > 0 ? ocl->desc.compute_units : 1u);
    uint64_t g = (n + per - 1) / per;
    if (g > cap) {
        g = cap;
    }
    return g > 0 ? g : 1;
}

cordon_status cordon__ocl_run(cordon__device *dev, cordon__ocl_kernel k, const cordon__ocl_args *A, uint64_t groups) {
    cordon__ocl_device *ocl = cordon__ocl(dev);
    cordon__ocl_program *p = NULL;
    cordon_status st = program(dev, &p);
    if (st != CORDON_OK) {
        return st;
    }
    if (groups == 0 || groups > SIZE_MAX / p->wg) {
        return CORDON_LIMIT_EXCEEDED;
    }
    cordon__lock(&ocl->run_lock);
    st = cordon__sys_cl_kernel_run(ocl->queue, p->kernels[k], A->a, A->n, (size_t)groups, p->wg);
    if (st == CORDON_OK && ++ocl->pending >= CORDON__OCL_FLUSH_EVERY) {
        ocl->pending = 0;
        st = cordon__sys_cl_flush(ocl->queue);
    }
    cordon__unlock(&ocl->run_lock);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Arguments */

static cordon__sys_cl_arg *next_arg(cordon__ocl_args *A) {
    return &A->a[A->n++];
}

void cordon__ocl_arg_buffer(cordon__ocl_args *A, const cordon__block *b) {
    cordon__sys_cl_arg *a = next_arg(A);
    *a = (cordon__sys_cl_arg){.buffer = b->handle, .value = NULL, .size = 0};
}

void cordon__ocl_arg_u64(cordon__ocl_args *A, uint64_t v) {
    unsigned i = A->n;
    A->vals[i][0] = v;
    *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = A->vals[i], .size = sizeof(uint64_t)};
}

void cordon__ocl_arg_u64x4(cordon__ocl_args *A, const uint64_t v[4]) {
    unsigned i = A->n;
    memcpy(A->vals[i], v, 4 * sizeof(uint64_t));
    *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = A->vals[i], .size = 4 * sizeof(uint64_t)};
}

void cordon__ocl_arg_i32(cordon__ocl_args *A, int32_t v) {
    unsigned i = A->n;
    memcpy(A->vals[i], &v, sizeof v);
    *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = A->vals[i], .size = sizeof v};
}

void cordon__ocl_arg_f32(cordon__ocl_args *A, float v) {
    unsigned i = A->n;
    memcpy(A->vals[i], &v, sizeof v);
    *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = A->vals[i], .size = sizeof v};
}

void cordon__ocl_arg_real(cordon__device *dev, cordon__ocl_args *A, double v) {
    if (cordon__ocl(dev)->desc.fp64) {
        unsigned i = A->n;
        memcpy(A->vals[i], &v, sizeof v);
        *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = A->vals[i], .size = sizeof v};
    } else {
        cordon__ocl_arg_f32(A, (float)v);
    }
}

void cordon__ocl_arg_struct(cordon__ocl_args *A, const void *p, size_t size) {
    *next_arg(A) = (cordon__sys_cl_arg){.buffer = NULL, .value = p, .size = size};
}

void cordon__ocl_view_place(const cordon__view *v, uint64_t *offset, uint64_t strides[4]) {
    *offset = v->present ? v->offset : 0;
    for (unsigned i = 0; i < 4; i++) {
        strides[i] = !v->present || v->shape[i] == 1 ? 0 : v->strides[i];
    }
}

void cordon__ocl_arg_view(cordon__ocl_args *A, const cordon__view *v, const uint64_t shape[4],
                          const cordon__view *fallback) {
    if (!v->present) {
        cordon__ocl_arg_buffer(A, fallback->storage);
        cordon__ocl_arg_u64(A, 0);
        uint64_t zero[4] = {0, 0, 0, 0};
        cordon__ocl_arg_u64x4(A, zero);
        return;
    }
    cordon__ocl_arg_buffer(A, v->storage);
    cordon__ocl_arg_u64(A, v->offset);
    uint64_t st[4];
    for (unsigned i = 0; i < 4; i++) {
        st[i] = v->shape[i] == 1 && shape[i] != 1 ? 0 : v->strides[i];
        if (v->shape[i] == 1) {
            st[i] = 0;
        }
    }
    cordon__ocl_arg_u64x4(A, st);
}

/* ---------------------------------------------------------------------------------------------------
 * Copy and fill */

cordon_status cordon__ocl_copy(cordon__device *dev, const cordon__view *dst, const cordon__view *src) {
    cordon__ocl_args A = {0};
    cordon__ocl_ew_params p = {0};
    p.n = cordon__view_elements(dst);
    memcpy(p.sh, dst->shape, sizeof p.sh);
    cordon__ocl_view_place(dst, &p.yo, p.ys);
    cordon__ocl_view_place(src, &p.ao, p.as);
    p.flat = cordon__view_contiguous(dst) && cordon__view_contiguous(src) && cordon__same_shape(dst, src) ? 1 : 0;
    cordon__ocl_arg_buffer(&A, dst->storage);
    cordon__ocl_arg_buffer(&A, src->storage);
    cordon__ocl_arg_struct(&A, &p, sizeof p);
    return cordon__ocl_run(dev, CORDON__OCL_COPY, &A, cordon__ocl_groups_for(dev, p.n));
}

cordon_status cordon__ocl_fill(cordon__device *dev, const cordon__view *v, float value) {
    if (value == 0.0f && cordon__view_contiguous(v)) {
        cordon__ocl_device *ocl = cordon__ocl(dev);
        cordon__lock(&ocl->run_lock);
        cordon_status st = cordon__sys_cl_buffer_zero(ocl->queue, v->storage->handle, (size_t)(v->offset * sizeof(float)),
                                                      (size_t)(cordon__view_elements(v) * sizeof(float)));
        if (st == CORDON_OK) {
            ocl->pending++;
        }
        cordon__unlock(&ocl->run_lock);
        return st;
    }
    cordon__ocl_args A = {0};
    cordon__ocl_ew_params p = {0};
    p.n = cordon__view_elements(v);
    memcpy(p.sh, v->shape, sizeof p.sh);
    cordon__ocl_view_place(v, &p.yo, p.ys);
    p.s = value;
    p.flat = cordon__view_contiguous(v) ? 1 : 0;
    cordon__ocl_arg_buffer(&A, v->storage);
    cordon__ocl_arg_struct(&A, &p, sizeof p);
    return cordon__ocl_run(dev, CORDON__OCL_FILL, &A, cordon__ocl_groups_for(dev, p.n));
}

static cordon_status ocl_copy_op(cordon__device *dev, const cordon__view *dst, const cordon__view *src) {
    return cordon__ocl_copy(dev, dst, src);
}

const cordon__backend cordon__backend_opencl = {
    .kind = "opencl",
    .host_memory = false,
    .describe = ocl_describe,
    .create = ocl_create,
    .destroy = ocl_destroy,
    .info = ocl_info,
    .alloc = ocl_alloc,
    .release = ocl_release,
    .zero = ocl_zero,
    .upload = ocl_upload,
    .download = ocl_download,
    .sync = ocl_sync,
    .matmul = cordon__ocl_matmul,
    .softmax = cordon__ocl_softmax,
    .softmax_backward = cordon__ocl_softmax_backward,
    .norm = cordon__ocl_norm,
    .norm_backward = cordon__ocl_norm_backward,
    .attention = cordon__ocl_attention,
    .attention_backward = cordon__ocl_attention_backward,
    .elementwise = cordon__ocl_elementwise,
    .rope = cordon__ocl_rope,
    .copy = ocl_copy_op,
};
