/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the CPU device kind: instruction-set level, threads and pool, BLAS, tensor storage in the
 * device's arena, and host transfers (the device and storage parts of the CPU backend table; the kernels
 * are in backend_cpu.c). */
#include "compute/backend.h"
#include "compute/cpu/cpu_internal.h"
#include "compute/cpu/kernels.h"
#include "cordon/system.h"
#include "sys/sys.h"

#define DEFAULT_STORAGE (UINT64_C(64) << 30)
#define MIN_DEFAULT_STORAGE (UINT64_C(1) << 30) /* the default never falls below 1 GiB */

/* The kernel table of a level, or NULL when this build or processor lacks it. */
static const cordon__cpu_kernels *kernels_for(cordon_isa isa, uint32_t features) {
    switch (isa) {
    case CORDON_ISA_SCALAR: return &cordon__kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    case CORDON_ISA_AVX2: return (features & CORDON__CPU_AVX2) != 0 ? &cordon__kernels_avx2 : NULL;
    case CORDON_ISA_AVX512: return (features & CORDON__CPU_AVX512) != 0 ? &cordon__kernels_avx512 : NULL;
#endif
#if defined(__aarch64__)
    case CORDON_ISA_NEON: return (features & CORDON__CPU_NEON) != 0 ? &cordon__kernels_neon : NULL;
#endif
    default: return NULL;
    }
}

/* The best level available, capped by CORDON_ISA when it names a level that exists here (an unknown
 * value is ignored: the environment cannot make device creation fail). */
static cordon_isa best_isa(uint32_t features) {
    cordon_isa best = CORDON_ISA_SCALAR;
    if ((features & CORDON__CPU_NEON) != 0) {
        best = CORDON_ISA_NEON;
    }
    if ((features & CORDON__CPU_AVX2) != 0) {
        best = CORDON_ISA_AVX2;
    }
    if ((features & CORDON__CPU_AVX512) != 0) {
        best = CORDON_ISA_AVX512;
    }
    char env[32];
    bool found = false;
    if (cordon__sys_env_get("CORDON_ISA", env, sizeof env, &found) == CORDON_OK && found) {
        for (cordon_isa cap = CORDON_ISA_SCALAR; cap <= CORDON_ISA_NEON; cap++) {
            if (strcmp(env, cordon_isa_name(cap)) == 0 && kernels_for(cap, features) != NULL) {
                return cap;
            }
        }
    }
    return best;
}

static void cpu_describe(cordon_device_kind *out) {
    *out = (cordon_device_kind){0};
    snprintf(out->name, sizeof out->name, "cpu");
    cordon_system_info info;
    unsigned cpus = cordon_system_info_get(&info) == CORDON_OK ? info.cpu_count_usable : 1;
    uint32_t features = cordon__sys_cpu_features();
    /* AVX-512 BF16 is reported, not used: the bf16 kernels widen the weights to f32 (docs/compute.md). */
    snprintf(out->description, sizeof out->description, "%u usable CPUs, best instruction set %s%s, BLAS: %s", cpus,
             cordon_isa_name(best_isa(features)), (features & CORDON__CPU_AVX512_BF16) != 0 ? " (+AVX512_BF16)" : "",
             cordon__sys_blas_available() ? cordon__sys_blas_name() : "not built in");
    out->available = true;
}

static cordon_status cpu_create(cordon__device *dev, const cordon_device_options *o) {
    bool blas = cordon__sys_blas_available();
    if (o->matmul == CORDON_MATMUL_BLAS && !blas) {
        return CORDON_BACKEND_UNAVAILABLE;
    }
    uint32_t features = cordon__sys_cpu_features();
    cordon_isa isa = o->isa == CORDON_ISA_AUTO ? best_isa(features) : o->isa;
    const cordon__cpu_kernels *kernels = kernels_for(isa, features);
    if (kernels == NULL) {
        return CORDON_UNSUPPORTED;
    }
    unsigned threads = o->threads;
    if (threads == 0) {
        cordon_system_info info;
        cordon_status st = cordon_system_info_get(&info);
        if (st != CORDON_OK) {
            return st;
        }
        threads = info.cpu_count_usable > CORDON__DEVICE_MAX_THREADS ? CORDON__DEVICE_MAX_THREADS : info.cpu_count_usable;
    }
    uint64_t storage = o->storage_bytes != 0 ? o->storage_bytes : DEFAULT_STORAGE;
    uint64_t page = 0;
    cordon_status st = cordon_pages_os_page_size(&page);
    if (st != CORDON_OK) {
        return st;
    }
    if (storage > UINT64_MAX - page) {
        return CORDON_OVERFLOW;
    }
    storage = (storage + page - 1) / page * page;
    dev->state = NULL;
    dev->kernels = kernels;
    dev->isa = isa;
    dev->matmul = o->matmul == CORDON_MATMUL_AUTO ? (blas && !o->deterministic ? CORDON_MATMUL_BLAS : CORDON_MATMUL_BUILTIN)
                                                  : o->matmul;
    dev->deterministic = o->deterministic;
    dev->threads = threads;
    dev->pool = (cordon_pool){0};
    st = cordon__arena_init(&dev->arena, storage, o->huge_pages);
    /* The default asks for what the address space allows: a process with a limited address space (an
     * RLIMIT_AS, or a tool such as valgrind) gets a smaller reservation rather than no device. */
    while (st != CORDON_OK && o->storage_bytes == 0 && storage > MIN_DEFAULT_STORAGE) {
        storage /= 4;
        st = cordon__arena_init(&dev->arena, storage, o->huge_pages);
    }
    if (st != CORDON_OK) {
        return st;
    }
    if (threads > 1) {
        st = cordon_pool_create(threads, &dev->pool);
        if (st != CORDON_OK) {
            cordon_status ignored = cordon__arena_release(&dev->arena); /* undoing a fresh reservation */
            (void)ignored;
            return st;
        }
    }
    if (dev->matmul == CORDON_MATMUL_BLAS) {
        /* BLAS runs single-threaded inside cordon's tasks (see device.h, "Threads"). */
        cordon__sys_blas_set_single_threaded();
    }
    return CORDON_OK;
}

static cordon_status cpu_destroy(cordon__device *dev) {
    if (dev->threads > 1) {
        cordon_status st = cordon_pool_destroy(dev->pool);
        if (st != CORDON_OK) {
            return st; /* only refused from inside one of its tasks, which no cordon code does */
        }
        dev->pool = (cordon_pool){0};
    }
    cordon_status st = cordon__arena_release(&dev->arena);
    if (st != CORDON_OK && dev->threads > 1 && cordon_pool_create(dev->threads, &dev->pool) != CORDON_OK) {
        dev->threads = 1; /* the device stays usable, on the calling thread */
    }
    return st;
}

static void cpu_info(cordon__device *dev, cordon_device_info *info) {
    snprintf(info->kind, sizeof info->kind, "cpu");
    info->threads = dev->threads;
    info->isa = dev->isa;
    info->isa_name = cordon_isa_name(dev->isa);
    info->matmul = dev->matmul;
    info->deterministic = dev->deterministic;
    cordon__lock(&dev->arena.lock);
    info->storage_reserved_bytes = dev->arena.reserved;
    info->storage_committed_bytes = dev->arena.committed;
    info->storage_in_use_bytes = dev->arena.in_use;
    cordon__unlock(&dev->arena.lock);
    snprintf(info->description, sizeof info->description, "%s, %u thread%s, matmul: %s%s", info->isa_name,
             dev->threads, dev->threads == 1 ? "" : "s",
             dev->matmul == CORDON_MATMUL_BLAS ? cordon__sys_blas_name() : "built-in",
             dev->deterministic ? ", deterministic" : "");
}

static cordon_status cpu_alloc(cordon__device *dev, uint64_t bytes, cordon__block **out) {
    cordon__block *b = NULL;
    cordon_status st = cordon__arena_get(&dev->arena, bytes, &b);
    if (st == CORDON_OK) {
        b->device = dev;
        b->handle = NULL;
        *out = b;
    }
    return st;
}

static void cpu_release(cordon__device *dev, cordon__block *b) {
    cordon__arena_put(&dev->arena, b);
}

static cordon_status cpu_zero(cordon__device *dev, cordon__block *b, uint64_t bytes) {
    (void)dev;
    memset(b->data, 0, (size_t)bytes);
    return CORDON_OK;
}

/* Moves a view's elements between it and a packed row-major host buffer. */
static void move_elements(const cordon__view *v, uint8_t *host, bool to_host) {
    const size_t elem = cordon__view_elem_size(v);
    uint8_t *base = v->storage->data + v->offset * elem;
    if (cordon__view_contiguous(v)) {
        size_t bytes = (size_t)(cordon__view_elements(v) * elem);
        if (to_host) {
            memcpy(host, base, bytes);
        } else {
            memcpy(base, host, bytes);
        }
        return;
    }
    /* Row by row over the last dimension, in row-major order of the shape. */
    size_t row = (size_t)v->shape[3];
    for (uint64_t i0 = 0; i0 < v->shape[0]; i0++) {
        for (uint64_t i1 = 0; i1 < v->shape[1]; i1++) {
            for (uint64_t i2 = 0; i2 < v->shape[2]; i2++) {
                uint8_t *src = base + (i0 * v->strides[0] + i1 * v->strides[1] + i2 * v->strides[2]) * elem;
                for (size_t j = 0; j < row; j++) {
                    uint8_t *e = src + j * v->strides[3] * elem;
                    if (to_host) {
                        memcpy(host, e, elem);
                    } else {
                        memcpy(e, host, elem);
                    }
                    host += elem;
                }
            }
        }
    }
}

static cordon_status cpu_upload(cordon__device *dev, const cordon__view *v, const void *src) {
    (void)dev;
    /* The buffer is only read on this path (to_host = false). */
    move_elements(v, (uint8_t *)(uintptr_t)src, false);
    return CORDON_OK;
}

static cordon_status cpu_download(cordon__device *dev, const cordon__view *v, void *dst) {
    (void)dev;
    move_elements(v, dst, true);
    return CORDON_OK;
}

static cordon_status cpu_sync(cordon__device *dev) {
    (void)dev; /* CPU operations finish before they return */
    return CORDON_OK;
}

const cordon__backend cordon__backend_cpu = {
    .kind = "cpu",
    .host_memory = true,
    .bf16 = true,
    .describe = cpu_describe,
    .create = cpu_create,
    .destroy = cpu_destroy,
    .info = cpu_info,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .zero = cpu_zero,
    .upload = cpu_upload,
    .download = cpu_download,
    .sync = cpu_sync,
    .matmul = cordon__cpu_matmul,
    .lora_fuses = cordon__cpu_lora_fuses,
    .lora_adapter = cordon__cpu_lora_adapter,
    .softmax = cordon__cpu_softmax,
    .softmax_backward = cordon__cpu_softmax_backward,
    .norm = cordon__cpu_norm,
    .norm_backward = cordon__cpu_norm_backward,
    .attention = cordon__cpu_attention,
    .attention_backward = cordon__cpu_attention_backward,
    .elementwise = cordon__cpu_elementwise,
    .rope = cordon__cpu_rope,
    .copy = cordon__cpu_copy,
};
