/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — devices (handles with table tag 5): the kind-independent part of create, destroy, info and
 * the list of kinds; each kind's backend table (backend.h) does the rest. */
#include "cordon/device.h"

#include "compute/backend.h"
#include "core/handle.h"
#include "core/objpool.h"
#include "sys/sys.h"

#define MIN_STORAGE (UINT64_C(1) << 20)

static cordon__handle_table devices = CORDON__HANDLE_TABLE_INIT(5);
static cordon__objpool device_pool = CORDON__OBJPOOL_INIT(sizeof(cordon__device));

/* The device kinds compiled in, in the order cordon_device_kinds lists them. */
static const cordon__backend *const backends[] = {
    &cordon__backend_cpu,
#if defined(CORDON_HAVE_OPENCL) && CORDON_HAVE_OPENCL
    &cordon__backend_opencl,
#endif
};
#define BACKEND_COUNT (sizeof backends / sizeof backends[0])

/* Kinds cordon knows but this build may lack: asking for one is BACKEND_UNAVAILABLE, not INVALID. */
static const char *const known_kinds[] = {"cpu", "opencl"};

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

/* The backend for a device name: "" and NULL are the CPU; "kind" or "kind:detail" selects a kind
 * (the detail, such as an OpenCL platform and device, is the backend's to read from the options). */
static cordon_status backend_for(const char *name, const cordon__backend **out) {
    if (name == NULL || name[0] == '\0') {
        *out = &cordon__backend_cpu;
        return CORDON_OK;
    }
    size_t len = strcspn(name, ":");
    for (size_t i = 0; i < BACKEND_COUNT; i++) {
        if (strlen(backends[i]->kind) == len && strncmp(name, backends[i]->kind, len) == 0) {
            if (strcmp(backends[i]->kind, "cpu") == 0 && name[len] != '\0') {
                return CORDON_INVALID_ARGUMENT; /* the CPU takes no detail */
            }
            *out = backends[i];
            return CORDON_OK;
        }
    }
    for (size_t i = 0; i < sizeof known_kinds / sizeof known_kinds[0]; i++) {
        if (strlen(known_kinds[i]) == len && strncmp(name, known_kinds[i], len) == 0) {
            return CORDON_BACKEND_UNAVAILABLE;
        }
    }
    return CORDON_INVALID_ARGUMENT;
}

cordon_status cordon_device_create(const cordon_device_options *opt, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    if (opt != NULL) {
        o = *opt;
    }
    if (out == NULL || o.threads > CORDON__DEVICE_MAX_THREADS || (unsigned)o.isa > (unsigned)CORDON_ISA_NEON ||
        (unsigned)o.matmul > (unsigned)CORDON_MATMUL_BLAS || (o.storage_bytes != 0 && o.storage_bytes < MIN_STORAGE)) {
        return CORDON_INVALID_ARGUMENT;
    }
    const cordon__backend *backend = NULL;
    cordon_status st = backend_for(o.name, &backend);
    if (st != CORDON_OK) {
        return st;
    }
    if (o.deterministic && o.matmul == CORDON_MATMUL_BLAS) {
        return CORDON_WRONG_STATE;
    }
    void *obj = NULL;
    st = cordon__objpool_get(&device_pool, &obj);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__device *dev = obj;
    /* Every field but the pins (see objpool.h); the backend fills its own. */
    dev->handle = 0;
    dev->backend = backend;
    dev->state = NULL;
    dev->kernels = NULL;
    dev->tensors_lock = (cordon_mutex)CORDON_MUTEX_INIT;
    dev->tensors = NULL;
    dev->tensor_count = 0;
    st = backend->create(dev, &o);
    if (st != CORDON_OK) {
        cordon__objpool_put(&device_pool, dev);
        return st;
    }
    st = cordon__handle_insert(&devices, dev, &dev->handle);
    if (st != CORDON_OK) {
        cordon_status ignored = backend->destroy(dev); /* a fresh device with nothing on it */
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
     * (each destroy waits for the operations using that tensor), then let the backend release the rest. */
    cordon__pins_drain(&dev->pins);
    cordon__device_destroy_tensors(dev);
    st = dev->backend->destroy(dev);
    if (st != CORDON_OK) {
        cordon__handle_unclaim(&devices, device.handle); /* usable again, with no tensors */
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
    st = dev->backend->sync(dev);
    cordon__device_release(dev);
    return st;
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
    dev->backend->info(dev, &info);
    cordon__lock(&dev->tensors_lock);
    info.tensors = dev->tensor_count;
    cordon__unlock(&dev->tensors_lock);
    cordon__device_release(dev);
    *out = info;
    return CORDON_OK;
}

cordon_status cordon_device_kinds(cordon_device_kind *list, size_t cap, size_t *count_out) {
    if (count_out == NULL || (list == NULL && cap != 0)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_device_kind kinds[sizeof known_kinds / sizeof known_kinds[0]];
    size_t n = 0;
    for (size_t k = 0; k < sizeof known_kinds / sizeof known_kinds[0]; k++) {
        const cordon__backend *b = NULL;
        if (backend_for(known_kinds[k], &b) == CORDON_OK) {
            b->describe(&kinds[n]);
        } else {
            kinds[n] = (cordon_device_kind){0};
            snprintf(kinds[n].name, sizeof kinds[n].name, "%s", known_kinds[k]);
            snprintf(kinds[n].description, sizeof kinds[n].description, "not built in");
            kinds[n].available = false;
        }
        n++;
    }
    for (size_t i = 0; i < n && i < cap; i++) {
        list[i] = kinds[i];
    }
    *count_out = n;
    return CORDON_OK;
}

/* Scratch: storage from the device's backend for the length of one call. */
cordon_status cordon__scratch_get(cordon__device *dev, uint64_t bytes, cordon__block **out) {
    return dev->backend->alloc(dev, bytes, out);
}

void cordon__scratch_put(cordon__device *dev, cordon__block *b) {
    if (b != NULL) {
        dev->backend->release(dev, b);
    }
}
