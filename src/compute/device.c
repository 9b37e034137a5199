/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — devices (handles with table tag 5): create, destroy, info, the list of kinds. */
#include "cordon/device.h"

#include "compute/backend.h"
#include "compute/cpu/kernels.h"
#include "core/handle.h"
#include "core/objpool.h"
#include "cordon/system.h"
#include "sys/sys.h"

#define MAX_THREADS 1024u
#define DEFAULT_STORAGE (UINT64_C(64) << 30)
#define MIN_STORAGE (UINT64_C(1) << 20)
#define MIN_DEFAULT_STORAGE (UINT64_C(1) << 30) /* the default never falls below 1 GiB */

static cordon__handle_table devices = CORDON__HANDLE_TABLE_INIT(5);
static cordon__objpool device_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__device));

/* Implemented in tensor.c: destroys every tensor still on the device (claim, drain, release). */
void cordon__device_destroy_tensors(cordon__device *dev);

const char *cordon_isa_name(cordon_isa isa) {
    switch (isa) {
    case CORDON_ISA_AUTO: return "auto";
    case CORDON_ISA_SCALAR: return "scalar";
    case CORDON_ISA_AVX2: return "avx2";
    case CORDON_ISA_AVX512: return "avx512";
    case CORDON_ISA_NEON: return "neon";
    }
    return "unknown";
}

void cordon_device_options_init(cordon_device_options *opt) {
    if (opt != NULL) {
        *opt = (cordon_device_options){0};
    }
}

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

/* The best level available, capped by CORDON_ISA when it names a level (an unknown value is ignored:
 * the environment cannot make device creation fail). */
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
                /* NEON and the x86 levels are not ordered against each other; any named level that
                 * exists here is lower than or equal to the best. */
                return cap;
            }
        }
    }
    return best;
}

static bool known_kind(const char *name) {
    return strcmp(name, "opencl") == 0;
}

cordon_status cordon_device_create(const cordon_device_options *opt, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    if (opt != NULL) {
        o = *opt;
    }
    if (out == NULL || o.threads > MAX_THREADS || (unsigned)o.isa > (unsigned)CORDON_ISA_NEON ||
        (unsigned)o.matmul > (unsigned)CORDON_MATMUL_BLAS || (o.storage_bytes != 0 && o.storage_bytes < MIN_STORAGE)) {
        return CORDON_INVALID_ARGUMENT;
    }
    if (o.name != NULL && o.name[0] != '\0' && strcmp(o.name, "cpu") != 0) {
        return known_kind(o.name) ? CORDON_BACKEND_UNAVAILABLE : CORDON_INVALID_ARGUMENT;
    }
    if (o.deterministic && o.matmul == CORDON_MATMUL_BLAS) {
        return CORDON_WRONG_STATE;
    }
    bool blas = cordon__sys_blas_available();
    if (o.matmul == CORDON_MATMUL_BLAS && !blas) {
        return CORDON_BACKEND_UNAVAILABLE;
    }
    uint32_t features = cordon__sys_cpu_features();
    cordon_isa isa = o.isa == CORDON_ISA_AUTO ? best_isa(features) : o.isa;
    const cordon__cpu_kernels *kernels = kernels_for(isa, features);
    if (kernels == NULL) {
        return CORDON_UNSUPPORTED;
    }
    unsigned threads = o.threads;
    if (threads == 0) {
        cordon_system_info info;
        cordon_status st = cordon_system_info_get(&info);
        if (st != CORDON_OK) {
            return st;
        }
        threads = info.cpu_count_usable > MAX_THREADS ? MAX_THREADS : info.cpu_count_usable;
    }
    uint64_t storage = o.storage_bytes != 0 ? o.storage_bytes : DEFAULT_STORAGE;
    uint64_t page = 0;
    cordon_status st = cordon_pages_os_page_size(&page);
    if (st != CORDON_OK) {
        return st;
    }
    if (storage > UINT64_MAX - page) {
        return CORDON_OVERFLOW;
    }
    storage = (storage + page - 1) / page * page;

    void *obj = NULL;
    st = cordon__objpool_get(&device_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device *dev = obj;
    /* Every field but the pins (see objpool.h). */
    dev->handle = 0;
    dev->backend = &cordon__backend_cpu;
    dev->kernels = kernels;
    dev->isa = isa;
    dev->matmul = o.matmul == CORDON_MATMUL_AUTO ? (blas && !o.deterministic ? CORDON_MATMUL_BLAS : CORDON_MATMUL_BUILTIN)
                                                 : o.matmul;
    dev->deterministic = o.deterministic;
    dev->threads = threads;
    dev->pool = (cordon_pool){0};
    dev->tensors_lock = (cordon_mutex)CORDON_MUTEX_INIT;
    dev->tensors = NULL;
    dev->tensor_count = 0;
    st = cordon__arena_init(&dev->arena, storage, o.huge_pages);
    /* The default asks for what the address space allows: a process with a limited address space (an
     * RLIMIT_AS, or a tool such as valgrind) gets a smaller reservation rather than no device. */
    while (st != CORDON_OK && o.storage_bytes == 0 && storage > MIN_DEFAULT_STORAGE) {
        storage /= 4;
        st = cordon__arena_init(&dev->arena, storage, o.huge_pages);
    }
    if (st != CORDON_OK) {
        cordon__objpool_put(&device_pool, dev);
        return st;
    }
    if (threads > 1) {
        st = cordon_pool_create(threads, &dev->pool);
        if (st != CORDON_OK) {
            cordon_status ignored = cordon__arena_release(&dev->arena); /* undoing a fresh reservation */
            (void)ignored;
            cordon__objpool_put(&device_pool, dev);
            return st;
        }
    }
    if (dev->matmul == CORDON_MATMUL_BLAS) {
        /* BLAS runs single-threaded inside cordon's tasks (see device.h, "Threads"). */
        cordon__sys_blas_set_single_threaded();
    }
    st = cordon__handle_insert(&devices, dev, &dev->handle);
    if (st != CORDON_OK) {
        if (threads > 1) {
            cordon_status ignored = cordon_pool_destroy(dev->pool); /* a fresh pool, not in use */
            (void)ignored;
        }
        cordon_status ignored = cordon__arena_release(&dev->arena);
        (void)ignored;
        cordon__objpool_put(&device_pool, dev);
        return st;
    }
    out->handle = dev->handle;
    return CORDON_OK;
}

cordon_status cordon__device_acquire(cordon_device d, cordon__device **out) {
    void *obj = NULL;
    cordon_status st = cordon__handle_lookup(&devices, d.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    cordon__device *dev = obj;
    cordon__pin(&dev->pins);
    void *again = NULL;
    if (cordon__handle_lookup(&devices, d.handle, &again) != CORDON_OK || again != obj) {
        cordon__unpin(&dev->pins);
        return CORDON_STALE;
    }
    *out = dev;
    return CORDON_OK;
}

void cordon__device_release(cordon__device *dev) {
    cordon__unpin(&dev->pins);
}

cordon_status cordon_device_destroy(cordon_device device) {
    void *obj = NULL;
    cordon_status st = cordon__handle_claim(&devices, device.handle, &obj);
    if (st != CORDON_OK) {
        return st == CORDON_INVALID_ARGUMENT ? CORDON_STALE : st;
    }
    cordon__device *dev = obj;
    /* No new tensor can be created on it now; wait for creations in flight, then destroy the tensors
     * (each destroy waits for the operations using that tensor). */
    cordon__pins_drain(&dev->pins);
    cordon__device_destroy_tensors(dev);
    if (dev->threads > 1) {
        st = cordon_pool_destroy(dev->pool);
        if (st != CORDON_OK) {
            /* Only refused when called from inside one of the pool's tasks, which no cordon code does. */
            cordon__handle_unclaim(&devices, device.handle);
            return st;
        }
    }
    st = cordon__arena_release(&dev->arena);
    if (st != CORDON_OK) {
        /* The OS refused the unmap (never expected): the device stays usable, with no tensors. */
        if (dev->threads > 1 && cordon_pool_create(dev->threads, &dev->pool) != CORDON_OK) {
            dev->threads = 1;
        }
        cordon__handle_unclaim(&devices, device.handle);
        return st;
    }
    cordon__handle_finish(&devices, device.handle);
    cordon__objpool_put(&device_pool, dev);
    return CORDON_OK;
}

cordon_status cordon_device_sync(cordon_device device) {
    cordon__device *dev = NULL;
    cordon_status st = cordon__device_acquire(device, &dev);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device_release(dev);
    return CORDON_OK;
}

cordon_status cordon_device_info_get(cordon_device device, cordon_device_info *out) {
    cordon__device *dev = NULL;
    cordon_status st = cordon__device_acquire(device, &dev);
    if (st != CORDON_OK) {
        return st;
    }
    if (out == NULL) {
        cordon__device_release(dev);
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_device_info info = {0};
    snprintf(info.kind, sizeof info.kind, "cpu");
    info.threads = dev->threads;
    info.isa = dev->isa;
    info.isa_name = cordon_isa_name(dev->isa);
    info.matmul = dev->matmul;
    info.deterministic = dev->deterministic;
    cordon__lock(&dev->arena.lock);
    info.storage_reserved_bytes = dev->arena.reserved;
    info.storage_committed_bytes = dev->arena.committed;
    info.storage_in_use_bytes = dev->arena.in_use;
    cordon__unlock(&dev->arena.lock);
    cordon__lock(&dev->tensors_lock);
    info.tensors = dev->tensor_count;
    cordon__unlock(&dev->tensors_lock);
    snprintf(info.description, sizeof info.description, "%s, %u thread%s, matmul: %s%s", info.isa_name, dev->threads,
             dev->threads == 1 ? "" : "s", dev->matmul == CORDON_MATMUL_BLAS ? cordon__sys_blas_name() : "built-in",
             dev->deterministic ? ", deterministic" : "");
    cordon__device_release(dev);
    *out = info;
    return CORDON_OK;
}

cordon_status cordon_device_kinds(cordon_device_kind *list, size_t cap, size_t *count_out) {
    if (count_out == NULL || (list == NULL && cap != 0)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_device_kind kinds[2];
    size_t n = 0;
    cordon_system_info info;
    cordon_status st = cordon_system_info_get(&info);
    if (st != CORDON_OK) {
        return st;
    }
    kinds[n] = (cordon_device_kind){0};
    snprintf(kinds[n].name, sizeof kinds[n].name, "cpu");
    snprintf(kinds[n].description, sizeof kinds[n].description, "%u usable CPUs, best instruction set %s, BLAS: %s",
             info.cpu_count_usable, cordon_isa_name(best_isa(cordon__sys_cpu_features())),
             cordon__sys_blas_available() ? cordon__sys_blas_name() : "not built in");
    kinds[n].available = true;
    n++;
    kinds[n] = (cordon_device_kind){0};
    snprintf(kinds[n].name, sizeof kinds[n].name, "opencl");
    snprintf(kinds[n].description, sizeof kinds[n].description, "not built in");
    kinds[n].available = false;
    n++;
    for (size_t i = 0; i < n && i < cap; i++) {
        list[i] = kinds[i];
    }
    *count_out = n;
    return CORDON_OK;
}

/* Scratch: a block from the device's arena for the length of one call. */
cordon_status cordon__scratch_get(cordon__device *dev, uint64_t bytes, cordon__block **out) {
    cordon__block *b = NULL;
    cordon_status st = cordon__arena_get(&dev->arena, bytes, &b);
    if (st != CORDON_OK) {
        return st;
    }
    b->device = dev;
    *out = b;
    return CORDON_OK;
}

void cordon__scratch_put(cordon__device *dev, cordon__block *b) {
    if (b != NULL) {
        cordon__arena_put(&dev->arena, b);
    }
}
