/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — OpenCL (through the ICD loader, libOpenCL) and CLBlast, when the build found both
 * (CORDON_HAVE_OPENCL): every cl* and CLBlast call of the library.
 *
 * Ownership: each wrapper (queue, buffer, program, kernel) owns exactly one OpenCL object, acquired by
 * one clCreate* call and released by one clRelease* call in its *_release / close function; nothing here
 * calls clRetain*. Counters of acquires and releases per type let tests prove the balance. Commands are
 * queued without events (event pointer NULL everywhere), so no cl_event is ever created or leaked.
 *
 * Errors: the CL code itself is recorded as the error code, with the call's name (cl_fail); error.c
 * names it through cordon__sys_cl_error_name. */
#define _POSIX_C_SOURCE 200809L

#include <stdatomic.h>
#include <string.h>

#include "sys/sys_internal.h"

/* The CL codes the mapping and the names need, spelled here so that a build without the headers still
 * names them (the values are fixed by the OpenCL specification and CLBlast's header). */
typedef struct cl_code_name {
    int code;
    const char *name;
} cl_code_name;

static const cl_code_name cl_names[] = {
    {0, "CL_SUCCESS"},
    {-1, "CL_DEVICE_NOT_FOUND"},
    {-2, "CL_DEVICE_NOT_AVAILABLE"},
    {-3, "CL_COMPILER_NOT_AVAILABLE"},
    {-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE"},
    {-5, "CL_OUT_OF_RESOURCES"},
    {-6, "CL_OUT_OF_HOST_MEMORY"},
    {-7, "CL_PROFILING_INFO_NOT_AVAILABLE"},
    {-8, "CL_MEM_COPY_OVERLAP"},
    {-9, "CL_IMAGE_FORMAT_MISMATCH"},
    {-10, "CL_IMAGE_FORMAT_NOT_SUPPORTED"},
    {-11, "CL_BUILD_PROGRAM_FAILURE"},
    {-12, "CL_MAP_FAILURE"},
    {-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET"},
    {-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"},
    {-15, "CL_COMPILE_PROGRAM_FAILURE"},
    {-16, "CL_LINKER_NOT_AVAILABLE"},
    {-17, "CL_LINK_PROGRAM_FAILURE"},
    {-18, "CL_DEVICE_PARTITION_FAILED"},
    {-19, "CL_KERNEL_ARG_INFO_NOT_AVAILABLE"},
    {-30, "CL_INVALID_VALUE"},
    {-31, "CL_INVALID_DEVICE_TYPE"},
    {-32, "CL_INVALID_PLATFORM"},
    {-33, "CL_INVALID_DEVICE"},
    {-34, "CL_INVALID_CONTEXT"},
    {-35, "CL_INVALID_QUEUE_PROPERTIES"},
    {-36, "CL_INVALID_COMMAND_QUEUE"},
    {-37, "CL_INVALID_HOST_PTR"},
    {-38, "CL_INVALID_MEM_OBJECT"},
    {-39, "CL_INVALID_IMAGE_FORMAT_DESCRIPTOR"},
    {-40, "CL_INVALID_IMAGE_SIZE"},
    {-41, "CL_INVALID_SAMPLER"},
    {-42, "CL_INVALID_BINARY"},
    {-43, "CL_INVALID_BUILD_OPTIONS"},
    {-44, "CL_INVALID_PROGRAM"},
    {-45, "CL_INVALID_PROGRAM_EXECUTABLE"},
    {-46, "CL_INVALID_KERNEL_NAME"},
    {-47, "CL_INVALID_KERNEL_DEFINITION"},
    {-48, "CL_INVALID_KERNEL"},
    {-49, "CL_INVALID_ARG_INDEX"},
    {-50, "CL_INVALID_ARG_VALUE"},
    {-51, "CL_INVALID_ARG_SIZE"},
    {-52, "CL_INVALID_KERNEL_ARGS"},
    {-53, "CL_INVALID_WORK_DIMENSION"},
    {-54, "CL_INVALID_WORK_GROUP_SIZE"},
    {-55, "CL_INVALID_WORK_ITEM_SIZE"},
    {-56, "CL_INVALID_GLOBAL_OFFSET"},
    {-57, "CL_INVALID_EVENT_WAIT_LIST"},
    {-58, "CL_INVALID_EVENT"},
    {-59, "CL_INVALID_OPERATION"},
    {-60, "CL_INVALID_GL_OBJECT"},
    {-61, "CL_INVALID_BUFFER_SIZE"},
    {-62, "CL_INVALID_MIP_LEVEL"},
    {-63, "CL_INVALID_GLOBAL_WORK_SIZE"},
    {-64, "CL_INVALID_PROPERTY"},
    {-65, "CL_INVALID_IMAGE_DESCRIPTOR"},
    {-66, "CL_INVALID_COMPILER_OPTIONS"},
    {-67, "CL_INVALID_LINKER_OPTIONS"},
    {-68, "CL_INVALID_DEVICE_PARTITION_COUNT"},
    {-1001, "CL_PLATFORM_NOT_FOUND_KHR"},
    {-1024, "CLBlastNotImplemented"},
    {-1022, "CLBlastInvalidMatrixA"},
    {-1021, "CLBlastInvalidMatrixB"},
    {-1020, "CLBlastInvalidMatrixC"},
    {-1019, "CLBlastInvalidVectorX"},
    {-1018, "CLBlastInvalidVectorY"},
    {-1017, "CLBlastInvalidDimension"},
    {-1016, "CLBlastInvalidLeadDimA"},
    {-1015, "CLBlastInvalidLeadDimB"},
    {-1014, "CLBlastInvalidLeadDimC"},
    {-1013, "CLBlastInvalidIncrementX"},
    {-1012, "CLBlastInvalidIncrementY"},
    {-1011, "CLBlastInsufficientMemoryA"},
    {-1010, "CLBlastInsufficientMemoryB"},
    {-1009, "CLBlastInsufficientMemoryC"},
    {-1008, "CLBlastInsufficientMemoryX"},
    {-1007, "CLBlastInsufficientMemoryY"},
    {-2050, "CLBlastInsufficientMemoryTemp"},
    {-2049, "CLBlastInvalidBatchCount"},
    {-2048, "CLBlastInvalidOverrideKernel"},
    {-2047, "CLBlastMissingOverrideParameter"},
    {-2046, "CLBlastInvalidLocalMemUsage"},
    {-2045, "CLBlastNoHalfPrecision"},
    {-2044, "CLBlastNoDoublePrecision"},
    {-2043, "CLBlastInvalidVectorScalar"},
    {-2042, "CLBlastInsufficientMemoryScalar"},
    {-2041, "CLBlastDatabaseError"},
    {-2040, "CLBlastUnknownError"},
    {-2039, "CLBlastUnexpectedError"},
};

const char *cordon__sys_cl_error_name(int code) {
    for (size_t i = 0; i < sizeof cl_names / sizeof cl_names[0]; i++) {
        if (cl_names[i].code == code) {
            return cl_names[i].name;
        }
    }
    return "CL_UNKNOWN_ERROR";
}

/* Records a CL failure (the code as the error value) and maps it to a status. */
__attribute__((unused)) static cordon_status cl_fail(const char *call, int code) {
    cordon_status st;
    switch (code) {
    case -6: st = CORDON_OUT_OF_MEMORY; break;          /* CL_OUT_OF_HOST_MEMORY */
    case -4:                                            /* CL_MEM_OBJECT_ALLOCATION_FAILURE */
    case -5:                                            /* CL_OUT_OF_RESOURCES */
    case -2050:                                         /* CLBlastInsufficientMemoryTemp */
        st = CORDON_OUT_OF_RESOURCES;
        break;
    case -1:                                            /* CL_DEVICE_NOT_FOUND */
    case -2:                                            /* CL_DEVICE_NOT_AVAILABLE */
    case -1001:                                         /* CL_PLATFORM_NOT_FOUND_KHR */
        st = CORDON_BACKEND_UNAVAILABLE;
        break;
    default: st = CORDON_OS_ERROR; break;
    }
    return cordon__sys_fail_as(st, call, code);
}

static _Atomic uint64_t acquired[CORDON__CL_OBJECT_TYPES];
static _Atomic uint64_t released[CORDON__CL_OBJECT_TYPES];
static _Atomic uint64_t still_referenced;
static _Atomic uint64_t release_failures;

void cordon__sys_cl_counts(cordon__sys_cl_counters *out) {
    for (int i = 0; i < CORDON__CL_OBJECT_TYPES; i++) {
        out->acquired[i] = atomic_load(&acquired[i]);
        out->released[i] = atomic_load(&released[i]);
    }
    out->contexts_still_referenced = atomic_load(&still_referenced);
    out->release_failures = atomic_load(&release_failures);
}

__attribute__((unused)) static void count_acquire(cordon__sys_cl_object t) {
    atomic_fetch_add(&acquired[t], 1);
}

/* Counts a release; a refused release (never expected for a valid object) is counted apart. */
__attribute__((unused)) static void count_release(cordon__sys_cl_object t, int rc) {
    atomic_fetch_add(&released[t], 1);
    if (rc != 0) {
        atomic_fetch_add(&release_failures, 1);
    }
}

#if defined(CORDON_HAVE_OPENCL) && CORDON_HAVE_OPENCL

#  define CL_TARGET_OPENCL_VERSION 120
#  define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#  include <CL/cl.h>
#  include <clblast_c.h>

#  define MAX_PLATFORMS 16u
#  define MAX_DEVICES 16u

struct cordon__sys_cl_queue {
    cl_context context;
    cl_device_id device;
    cl_command_queue queue;
};

struct cordon__sys_cl_buffer {
    cl_mem mem;
    size_t size;
};

struct cordon__sys_cl_program {
    cl_program program;
    cl_device_id device;
};

/* What the kernel's arguments were last set to (the first SHADOW_ARGS arguments, packed in order into
 * SHADOW_BYTES): an argument set to the bytes it already holds is not set again. Valid because a
 * kernel holds its arguments between runs and cordon's kernels are run by one thread at a time (the
 * caller serialises); an argument whose set failed, or that does not fit, is always set. */
#define SHADOW_ARGS 40u
#define SHADOW_BYTES 1024u

struct cordon__sys_cl_kernel {
    cl_kernel kernel;
    bool held[SHADOW_ARGS];            /* shadow[...] holds argument i's current bytes */
    size_t held_size[SHADOW_ARGS];
    size_t held_at[SHADOW_ARGS];
    unsigned char shadow[SHADOW_BYTES];
};

bool cordon__sys_cl_available(void) {
    return true;
}

/* The platform ids (at most MAX_PLATFORMS); 0 platforms is not an error. */
static cordon_status platforms(cl_platform_id *ids, cl_uint *count) {
    int err = 0;
    if (CORDON__FAULT(CL_GET_PLATFORM_IDS, &err)) {
        return cl_fail("clGetPlatformIDs", err);
    }
    cl_uint n = 0;
    /* SAFETY: clGetPlatformIDs -- list the installed OpenCL platforms (through the ICD loader).
     * Relies on: ids has room for MAX_PLATFORMS entries and that count is passed; n receives the total,
     * of which at most MAX_PLATFORMS were written.
     * On failure: CL_PLATFORM_NOT_FOUND_KHR (no ICD installed) means zero platforms; other codes are
     * recorded as "clGetPlatformIDs". */
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, ids, &n);
    if (rc == -1001) {
        *count = 0;
        return CORDON_OK;
    }
    if (rc != CL_SUCCESS) {
        return cl_fail("clGetPlatformIDs", rc);
    }
    *count = n < MAX_PLATFORMS ? n : MAX_PLATFORMS;
    return CORDON_OK;
}

/* The device ids of a platform (at most MAX_DEVICES); none is not an error. */
static cordon_status platform_devices(cl_platform_id p, cl_device_id *ids, cl_uint *count) {
    int err = 0;
    if (CORDON__FAULT(CL_GET_DEVICE_IDS, &err)) {
        return cl_fail("clGetDeviceIDs", err);
    }
    cl_uint n = 0;
    /* SAFETY: clGetDeviceIDs -- list every device of one platform.
     * Relies on: p came from clGetPlatformIDs in this call chain; ids has room for MAX_DEVICES, the count
     * passed; device ids are not reference counted for root devices (no release owed).
     * On failure: CL_DEVICE_NOT_FOUND means none; others recorded as "clGetDeviceIDs". */
    cl_int rc = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &n);
    if (rc == CL_DEVICE_NOT_FOUND) {
        *count = 0;
        return CORDON_OK;
    }
    if (rc != CL_SUCCESS) {
        return cl_fail("clGetDeviceIDs", rc);
    }
    *count = n < MAX_DEVICES ? n : MAX_DEVICES;
    return CORDON_OK;
}

/* A device property of `size` bytes into value. */
static cordon_status device_info(cl_device_id d, cl_device_info what, size_t size, void *value) {
    int err = 0;
    if (CORDON__FAULT(CL_GET_DEVICE_INFO, &err)) {
        return cl_fail("clGetDeviceInfo", err);
    }
    /* SAFETY: clGetDeviceInfo -- read one property of a device.
     * Relies on: d is a device id from clGetDeviceIDs; value points to size writable bytes, the size
     * passed, so a longer value is refused (CL_INVALID_VALUE) rather than written past the end.
     * On failure: recorded as "clGetDeviceInfo"; value is not used. */
    cl_int rc = clGetDeviceInfo(d, what, size, value, NULL);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clGetDeviceInfo", rc);
}

/* A string property, truncated to fit buf (always NUL-terminated). */
static cordon_status device_string(cl_device_id d, cl_device_info what, char *buf, size_t len) {
    char tmp[2048];
    cordon_status st = device_info(d, what, sizeof tmp - 1, tmp);
    if (st != CORDON_OK) {
        return st;
    }
    tmp[sizeof tmp - 1] = '\0';
    size_t n = strlen(tmp);
    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return CORDON_OK;
}

static cordon_status platform_name(cl_platform_id p, char *buf, size_t len) {
    int err = 0;
    if (CORDON__FAULT(CL_GET_PLATFORM_INFO, &err)) {
        return cl_fail("clGetPlatformInfo", err);
    }
    char tmp[256];
    memset(tmp, 0, sizeof tmp);
    /* SAFETY: clGetPlatformInfo -- read a platform's name for listings.
     * Relies on: p from clGetPlatformIDs; tmp holds sizeof tmp - 1 bytes passed as the size, so the
     * string is refused rather than overflowed and the last byte stays NUL.
     * On failure: recorded as "clGetPlatformInfo". */
    cl_int rc = clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof tmp - 1, tmp, NULL);
    if (rc != CL_SUCCESS) {
        return cl_fail("clGetPlatformInfo", rc);
    }
    size_t n = strlen(tmp);
    if (n >= len) {
        n = len - 1;
    }
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return CORDON_OK;
}

static cordon_status describe(cl_platform_id p, cl_device_id d, unsigned pi, unsigned di,
                              cordon__sys_cl_device_desc *out) {
    cordon__sys_cl_device_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.platform = pi;
    desc.device = di;
    cl_device_type type = 0;
    cl_ulong mem = 0, alloc = 0;
    size_t wg = 0;
    cl_uint units = 0;
    char ext[2048];
    cordon_status st = platform_name(p, desc.platform_name, sizeof desc.platform_name);
    if (st == CORDON_OK) st = device_string(d, CL_DEVICE_NAME, desc.name, sizeof desc.name);
    if (st == CORDON_OK) st = device_string(d, CL_DEVICE_VERSION, desc.version, sizeof desc.version);
    if (st == CORDON_OK) st = device_string(d, CL_DEVICE_EXTENSIONS, ext, sizeof ext);
    if (st == CORDON_OK) st = device_info(d, CL_DEVICE_TYPE, sizeof type, &type);
    if (st == CORDON_OK) st = device_info(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem);
    if (st == CORDON_OK) st = device_info(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc);
    if (st == CORDON_OK) st = device_info(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg);
    if (st == CORDON_OK) st = device_info(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units);
    if (st != CORDON_OK) {
        return st;
    }
    desc.gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    desc.fp64 = strstr(ext, "cl_khr_fp64") != NULL;
    desc.global_mem_bytes = mem;
    desc.max_alloc_bytes = alloc;
    desc.max_work_group = wg;
    desc.compute_units = units;
    *out = desc;
    return CORDON_OK;
}

cordon_status cordon__sys_cl_devices(cordon__sys_cl_device_desc *list, size_t cap, size_t *count_out) {
    if (count_out == NULL || (list == NULL && cap != 0)) {
        return CORDON_INVALID_ARGUMENT;
    }
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cordon_status st = platforms(plats, &np);
    if (st != CORDON_OK) {
        return st;
    }
    size_t total = 0;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[MAX_DEVICES];
        cl_uint nd = 0;
        st = platform_devices(plats[p], devs, &nd);
        if (st != CORDON_OK) {
            return st;
        }
        for (cl_uint d = 0; d < nd; d++) {
            if (total < cap) {
                st = describe(plats[p], devs[d], p, d, &list[total]);
                if (st != CORDON_OK) {
                    return st;
                }
            }
            total++;
        }
    }
    *count_out = total;
    return CORDON_OK;
}

cordon_status cordon__sys_cl_open(unsigned platform, unsigned device, cordon__sys_cl_queue **out) {
    if (out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cl_platform_id plats[MAX_PLATFORMS];
    cl_uint np = 0;
    cordon_status st = platforms(plats, &np);
    if (st != CORDON_OK) {
        return st;
    }
    if (platform >= np) {
        return CORDON_INVALID_ARGUMENT;
    }
    cl_device_id devs[MAX_DEVICES];
    cl_uint nd = 0;
    st = platform_devices(plats[platform], devs, &nd);
    if (st != CORDON_OK) {
        return st;
    }
    if (device >= nd) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *mem = NULL;
    st = cordon__sys_alloc(sizeof(cordon__sys_cl_queue), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_cl_queue *q = mem;
    q->device = devs[device];
    int err = 0;
    cl_int rc = CL_SUCCESS;
    if (CORDON__FAULT(CL_CREATE_CONTEXT, &err)) {
        cordon__sys_free(q);
        return cl_fail("clCreateContext", err);
    }
    cl_context_properties props[3] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plats[platform], 0};
    /* SAFETY: clCreateContext -- a context on the one chosen device.
     * Relies on: props is a 0-terminated list naming the device's platform; one device id from
     * clGetDeviceIDs; no notification callback (NULL), so the implementation never calls into cordon;
     * the result is checked with rc before use and owned by q, released once in cordon__sys_cl_close
     * (or below when the queue cannot be made).
     * On failure: recorded as "clCreateContext"; q is freed, nothing else exists. */
    q->context = clCreateContext(props, 1, &q->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS || q->context == NULL) {
        cordon__sys_free(q);
        return cl_fail("clCreateContext", rc != CL_SUCCESS ? rc : CL_INVALID_CONTEXT);
    }
    count_acquire(CORDON__CL_CONTEXT);
    if (CORDON__FAULT(CL_CREATE_COMMAND_QUEUE, &err)) {
        rc = err;
        q->queue = NULL;
    } else {
        /* SAFETY: clCreateCommandQueue -- the device's one in-order queue (properties 0: in order,
         * no profiling), so commands run in submission order and a buffer reused by a later command
         * is never touched by an earlier one still queued.
         * Relies on: a live context holding that device; the result checked with rc, owned by q and
         * released once in cordon__sys_cl_close.
         * On failure: recorded as "clCreateCommandQueue"; the context is released here. */
        q->queue = clCreateCommandQueue(q->context, q->device, 0, &rc);
    }
    if (rc != CL_SUCCESS || q->queue == NULL) {
        st = cl_fail("clCreateCommandQueue", rc != CL_SUCCESS ? rc : CL_INVALID_COMMAND_QUEUE);
        /* SAFETY: clReleaseContext -- undo the context just made (the queue was not).
         * Relies on: the context's only reference is cordon's, taken above; nothing else was made on it.
         * On failure: counted as a release failure (never expected for a valid context). */
        count_release(CORDON__CL_CONTEXT, clReleaseContext(q->context));
        cordon__sys_free(q);
        return st;
    }
    count_acquire(CORDON__CL_QUEUE);
    *out = q;
    return CORDON_OK;
}

cordon_status cordon__sys_cl_finish(cordon__sys_cl_queue *q) {
    if (q == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CL_FINISH, &err)) {
        return cl_fail("clFinish", err);
    }
    /* SAFETY: clFinish -- wait for every command queued on the device's queue.
     * Relies on: q->queue is live (released only by close, after its own finish).
     * On failure: recorded as "clFinish"; the queue stays usable. */
    cl_int rc = clFinish(q->queue);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clFinish", rc);
}

cordon_status cordon__sys_cl_flush(cordon__sys_cl_queue *q) {
    if (q == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CL_FLUSH, &err)) {
        return cl_fail("clFlush", err);
    }
    /* SAFETY: clFlush -- hand the queued commands to the device without waiting.
     * Relies on: q->queue is live.
     * On failure: recorded as "clFlush"; the commands stay queued and a later finish still runs them. */
    cl_int rc = clFlush(q->queue);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clFlush", rc);
}

/* Did anyone keep a reference to the context? Read just before cordon releases its own. The
 * implementation may still be dropping references of its own for commands that already completed
 * (PoCL releases them on its worker threads shortly after clFinish returns), so a count above 1 is
 * re-read for up to 2 s (the thread yielding in between) before it is reported. */
static void check_context_references(cl_context ctx) {
    uint64_t start = 0, now = 0;
    if (cordon__sys_monotonic_ns(&start) != CORDON_OK) {
        start = 0;
    }
    for (;;) {
        int err = 0;
        if (CORDON__FAULT(CL_GET_CONTEXT_INFO, &err)) {
            return; /* an unanswered check counts nothing */
        }
        cl_uint refs = 0;
        /* SAFETY: clGetContextInfo -- read the context's reference count before cordon's release.
         * Relies on: ctx is live (cordon still holds its reference); refs is a cl_uint and its size
         * passed. The count is a diagnostic (the specification calls it stale at once); cordon compares
         * it with 1 after every object it made on the context was released and its queue finished.
         * On failure: the check is skipped (no status: close must release on every path). */
        cl_int rc = clGetContextInfo(ctx, CL_CONTEXT_REFERENCE_COUNT, sizeof refs, &refs, NULL);
        if (rc != CL_SUCCESS || refs <= 1) {
            return;
        }
        if (cordon__sys_monotonic_ns(&now) != CORDON_OK || now - start > UINT64_C(2000000000)) {
            break; /* still held after 2 s: someone else owns a reference */
        }
        cordon__sys_thread_yield();
    }
    atomic_fetch_add(&still_referenced, 1);
}

/* CLBlast keeps compiled programs (holding references to their context) in a process-wide cache. */
static cordon_status clear_blas_cache(void) {
    int err = 0;
    if (CORDON__FAULT(CLBLAST_CLEAR_CACHE, &err)) {
        return cl_fail("CLBlastClearCache", err);
    }
    /* SAFETY: CLBlastClearCache -- drop CLBlast's cached programs and kernels, so that the context
     * being closed is no longer referenced by them.
     * Relies on: CLBlast's caches are guarded by its own mutexes; a routine running on another
     * device's queue holds its own references to what it uses, so clearing only makes later calls
     * compile again (from PoCL's or the driver's disk cache).
     * On failure: recorded as "CLBlastClearCache"; the reference check below then reports it. */
    CLBlastStatusCode rc = CLBlastClearCache();
    return rc == CLBlastSuccess ? CORDON_OK : cl_fail("CLBlastClearCache", (int)rc);
}

cordon_status cordon__sys_cl_close(cordon__sys_cl_queue *q) {
    if (q == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    cordon_status st = clear_blas_cache();
    /* SAFETY: clReleaseCommandQueue -- release cordon's one reference to the device's queue.
     * Relies on: taken once in cordon__sys_cl_open; close runs once per queue (the device that owns it
     * is destroyed once); the caller waited for every command (cordon__sys_cl_finish) before, and even
     * a command still queued would keep the queue alive inside OpenCL until it completes.
     * On failure: counted as a release failure. */
    count_release(CORDON__CL_QUEUE, clReleaseCommandQueue(q->queue));
    check_context_references(q->context);
    /* SAFETY: clReleaseContext -- release cordon's one reference to the context.
     * Relies on: taken once in cordon__sys_cl_open; the queue, and (by the contract) every buffer,
     * program and kernel made on it were released before.
     * On failure: counted as a release failure. */
    count_release(CORDON__CL_CONTEXT, clReleaseContext(q->context));
    cordon__sys_free(q);
    return st;
}

cordon_status cordon__sys_cl_buffer_create(cordon__sys_cl_queue *q, size_t bytes, cordon__sys_cl_buffer **out) {
    if (q == NULL || bytes == 0 || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *mem = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__sys_cl_buffer), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_cl_buffer *b = mem;
    int err = 0;
    if (CORDON__FAULT(CL_CREATE_BUFFER, &err)) {
        cordon__sys_free(b);
        return cl_fail("clCreateBuffer", err);
    }
    cl_int rc = CL_SUCCESS;
    /* SAFETY: clCreateBuffer -- device memory for tensor storage or scratch.
     * Relies on: a live context; bytes > 0 (checked; the device's maximum allocation is the
     * implementation's to refuse with CL_INVALID_BUFFER_SIZE); no host pointer, so OpenCL owns the
     * memory; the result is checked with rc and owned by b, released once in
     * cordon__sys_cl_buffer_release.
     * On failure: recorded as "clCreateBuffer" (CL_MEM_OBJECT_ALLOCATION_FAILURE → OUT_OF_RESOURCES). */
    b->mem = clCreateBuffer(q->context, CL_MEM_READ_WRITE, bytes, NULL, &rc);
    if (rc != CL_SUCCESS || b->mem == NULL) {
        cordon__sys_free(b);
        return cl_fail("clCreateBuffer", rc != CL_SUCCESS ? rc : CL_INVALID_MEM_OBJECT);
    }
    count_acquire(CORDON__CL_BUFFER);
    b->size = bytes;
    *out = b;
    return CORDON_OK;
}

void cordon__sys_cl_buffer_release(cordon__sys_cl_buffer *b) {
    if (b == NULL) {
        return;
    }
    /* SAFETY: clReleaseMemObject -- release cordon's one reference to a buffer.
     * Relies on: taken once in cordon__sys_cl_buffer_create; the owner (a storage block) releases it
     * once, at device destroy after clFinish; a command still queued would keep the memory alive
     * (OpenCL defers the free), so no device access dangles even then.
     * On failure: counted as a release failure. */
    count_release(CORDON__CL_BUFFER, clReleaseMemObject(b->mem));
    cordon__sys_free(b);
}

size_t cordon__sys_cl_buffer_size(const cordon__sys_cl_buffer *b) {
    return b != NULL ? b->size : 0;
}

static bool inside(const cordon__sys_cl_buffer *b, size_t offset, size_t bytes) {
    return b != NULL && bytes > 0 && offset <= b->size && bytes <= b->size - offset;
}

cordon_status cordon__sys_cl_buffer_write(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                          size_t bytes, const void *src) {
    if (q == NULL || src == NULL || !inside(b, offset, bytes)) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CL_ENQUEUE_WRITE_BUFFER, &err)) {
        return cl_fail("clEnqueueWriteBuffer", err);
    }
    /* SAFETY: clEnqueueWriteBuffer -- copy host bytes into a buffer, blocking.
     * Relies on: [offset, offset + bytes) lies inside the buffer (checked above); src holds bytes
     * readable bytes (the caller's sized host buffer); CL_TRUE makes the call return only once src was
     * read, so src need not outlive it; the in-order queue runs it after every earlier command; no event.
     * On failure: recorded as "clEnqueueWriteBuffer"; the buffer's contents are unspecified in the range. */
    cl_int rc = clEnqueueWriteBuffer(q->queue, b->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clEnqueueWriteBuffer", rc);
}

cordon_status cordon__sys_cl_buffer_read(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes, void *dst) {
    if (q == NULL || dst == NULL || !inside(b, offset, bytes)) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CL_ENQUEUE_READ_BUFFER, &err)) {
        return cl_fail("clEnqueueReadBuffer", err);
    }
    /* SAFETY: clEnqueueReadBuffer -- copy buffer bytes to host memory, blocking.
     * Relies on: the range lies inside the buffer (checked above); dst has bytes writable bytes;
     * CL_TRUE returns only once dst is written, after every command queued before it (in order).
     * On failure: recorded as "clEnqueueReadBuffer"; dst's contents are unspecified. */
    cl_int rc = clEnqueueReadBuffer(q->queue, b->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clEnqueueReadBuffer", rc);
}

cordon_status cordon__sys_cl_buffer_zero(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes) {
    if (q == NULL || !inside(b, offset, bytes) || offset % 4 != 0 || bytes % 4 != 0) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CL_ENQUEUE_FILL_BUFFER, &err)) {
        return cl_fail("clEnqueueFillBuffer", err);
    }
    static const cl_uint zero = 0;
    /* SAFETY: clEnqueueFillBuffer -- queue zeroing of a range.
     * Relies on: the range lies inside the buffer and offset and size are multiples of the 4-byte
     * pattern (checked above); the pattern is copied at the call (a static constant anyway); no event.
     * On failure: recorded as "clEnqueueFillBuffer"; nothing was queued. */
    cl_int rc = clEnqueueFillBuffer(q->queue, b->mem, &zero, sizeof zero, offset, bytes, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clEnqueueFillBuffer", rc);
}

cordon_status cordon__sys_cl_program_build(cordon__sys_cl_queue *q, const char *const *sources, unsigned count,
                                           const char *options, cordon__sys_cl_program **out) {
    if (q == NULL || sources == NULL || count == 0 || count > 64 || options == NULL || out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    for (unsigned i = 0; i < count; i++) {
        if (sources[i] == NULL) {
            return CORDON_INVALID_ARGUMENT;
        }
    }
    void *mem = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__sys_cl_program), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_cl_program *p = mem;
    p->device = q->device;
    int err = 0;
    if (CORDON__FAULT(CL_CREATE_PROGRAM_WITH_SOURCE, &err)) {
        cordon__sys_free(p);
        return cl_fail("clCreateProgramWithSource", err);
    }
    cl_int rc = CL_SUCCESS;
    /* SAFETY: clCreateProgramWithSource -- a program object from count NUL-terminated source strings.
     * Relies on: count strings, none NULL (checked above), each NUL-terminated (lengths NULL: OpenCL
     * reads up to each NUL) and only read during the call; a live context; the result is checked and owned by p, released once in
     * cordon__sys_cl_program_release (or below when the build fails).
     * On failure: recorded as "clCreateProgramWithSource". */
    p->program = clCreateProgramWithSource(q->context, count, (const char **)(uintptr_t)sources, NULL, &rc);
    if (rc != CL_SUCCESS || p->program == NULL) {
        cordon__sys_free(p);
        return cl_fail("clCreateProgramWithSource", rc != CL_SUCCESS ? rc : CL_INVALID_PROGRAM);
    }
    count_acquire(CORDON__CL_PROGRAM);
    if (CORDON__FAULT(CL_BUILD_PROGRAM, &err)) {
        rc = err;
    } else {
        /* SAFETY: clBuildProgram -- compile the program for the queue's device, synchronously.
         * Relies on: options is NUL-terminated; one device, the context's own; no callback (NULL), so
         * the call returns only when the build finished; the same program is never built twice.
         * On failure: the program is released and the code recorded as "clBuildProgram". */
        rc = clBuildProgram(p->program, 1, &p->device, options, NULL, NULL);
    }
    if (rc != CL_SUCCESS) {
        st = cl_fail("clBuildProgram", rc);
        /* SAFETY: clReleaseProgram -- undo the program whose build failed.
         * Relies on: cordon's one reference, taken above; no kernel was made from it.
         * On failure: counted as a release failure. */
        count_release(CORDON__CL_PROGRAM, clReleaseProgram(p->program));
        cordon__sys_free(p);
        return st;
    }
    *out = p;
    return CORDON_OK;
}

void cordon__sys_cl_program_release(cordon__sys_cl_program *p) {
    if (p == NULL) {
        return;
    }
    /* SAFETY: clReleaseProgram -- release cordon's one reference to a built program.
     * Relies on: taken once in cordon__sys_cl_program_build; the device's program cache releases each
     * entry once, at device destroy, after every kernel made from it.
     * On failure: counted as a release failure. */
    count_release(CORDON__CL_PROGRAM, clReleaseProgram(p->program));
    cordon__sys_free(p);
}

cordon_status cordon__sys_cl_kernel_create(cordon__sys_cl_program *p, const char *name, cordon__sys_cl_kernel **out,
                                           size_t *max_work_group_out) {
    if (p == NULL || name == NULL || out == NULL || max_work_group_out == NULL) {
        return CORDON_INVALID_ARGUMENT;
    }
    void *mem = NULL;
    cordon_status st = cordon__sys_alloc(sizeof(cordon__sys_cl_kernel), &mem);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__sys_cl_kernel *k = mem;
    int err = 0;
    if (CORDON__FAULT(CL_CREATE_KERNEL, &err)) {
        cordon__sys_free(k);
        return cl_fail("clCreateKernel", err);
    }
    cl_int rc = CL_SUCCESS;
    /* SAFETY: clCreateKernel -- a kernel object for one function of a built program.
     * Relies on: p is built (program_build returned it only on success); name is NUL-terminated; the
     * result is checked and owned by k, released once in cordon__sys_cl_kernel_release.
     * On failure: recorded as "clCreateKernel" (CL_INVALID_KERNEL_NAME for a name not in the source). */
    k->kernel = clCreateKernel(p->program, name, &rc);
    if (rc != CL_SUCCESS || k->kernel == NULL) {
        cordon__sys_free(k);
        return cl_fail("clCreateKernel", rc != CL_SUCCESS ? rc : CL_INVALID_KERNEL);
    }
    count_acquire(CORDON__CL_KERNEL);
    size_t wg = 0;
    if (CORDON__FAULT(CL_GET_KERNEL_WORK_GROUP_INFO, &err)) {
        rc = err;
    } else {
        /* SAFETY: clGetKernelWorkGroupInfo -- the largest work-group this kernel can be run with.
         * Relies on: a live kernel and the program's device; wg is a size_t and its size passed.
         * On failure: recorded as "clGetKernelWorkGroupInfo"; the kernel is released below. */
        rc = clGetKernelWorkGroupInfo(k->kernel, p->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    }
    if (rc != CL_SUCCESS || wg == 0) {
        st = cl_fail("clGetKernelWorkGroupInfo", rc != CL_SUCCESS ? rc : CL_INVALID_KERNEL);
        cordon__sys_cl_kernel_release(k);
        return st;
    }
    *out = k;
    *max_work_group_out = wg;
    return CORDON_OK;
}

void cordon__sys_cl_kernel_release(cordon__sys_cl_kernel *k) {
    if (k == NULL) {
        return;
    }
    /* SAFETY: clReleaseKernel -- release cordon's one reference to a kernel.
     * Relies on: taken once in cordon__sys_cl_kernel_create; released once by the program cache at
     * device destroy (after clFinish), or right away when its creation failed half-way.
     * On failure: counted as a release failure. */
    count_release(CORDON__CL_KERNEL, clReleaseKernel(k->kernel));
    cordon__sys_free(k);
}

cordon_status cordon__sys_cl_kernel_run(cordon__sys_cl_queue *q, cordon__sys_cl_kernel *k,
                                        const cordon__sys_cl_arg *args, unsigned nargs, size_t groups, size_t local) {
    if (q == NULL || k == NULL || (args == NULL && nargs != 0) || groups == 0 || local == 0 ||
        groups > SIZE_MAX / local) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    size_t at = 0; /* where argument i's bytes sit in the shadow */
    for (unsigned i = 0; i < nargs; i++) {
        const void *bytes = args[i].buffer != NULL ? (const void *)&args[i].buffer->mem : args[i].value;
        size_t size = args[i].buffer != NULL ? sizeof(cl_mem) : args[i].size;
        bool shadowed = i < SHADOW_ARGS && bytes != NULL && size <= SHADOW_BYTES - at;
        if (shadowed && k->held[i] && k->held_size[i] == size && k->held_at[i] == at &&
            memcmp(k->shadow + at, bytes, size) == 0) {
            at += size;
            continue; /* the kernel holds this value already */
        }
        if (i < SHADOW_ARGS) {
            k->held[i] = false;
        }
        if (CORDON__FAULT(CL_SET_KERNEL_ARG, &err)) {
            return cl_fail("clSetKernelArg", err);
        }
        cl_int rc;
        if (args[i].buffer != NULL) {
            /* SAFETY: clSetKernelArg -- bind a buffer argument.
             * Relies on: the kernel is not being set or run on another thread (the caller serialises);
             * the argument is a cl_mem and its size passed; OpenCL retains what it needs for the
             * commands queued with it, so the buffer may be released after the enqueue. A later run
             * that passes the same cl_mem skips the set (the shadow above): the device releases its
             * buffers only when it is destroyed, with its kernels, so a held cl_mem names a live buffer.
             * On failure: recorded as "clSetKernelArg" (a kernel/source mismatch). */
            rc = clSetKernelArg(k->kernel, i, sizeof(cl_mem), &args[i].buffer->mem);
        } else {
            /* SAFETY: clSetKernelArg -- bind a value (copied now) or reserve local memory (value NULL).
             * Relies on: value, when present, has size readable bytes matching the kernel's parameter
             * type as the caller's kernel source declares it; the value is copied during the call.
             * On failure: recorded as "clSetKernelArg" (CL_INVALID_ARG_SIZE for a mismatched size). */
            rc = clSetKernelArg(k->kernel, i, args[i].size, args[i].value);
        }
        if (rc != CL_SUCCESS) {
            return cl_fail("clSetKernelArg", rc);
        }
        if (shadowed) {
            memcpy(k->shadow + at, bytes, size);
            k->held[i] = true;
            k->held_size[i] = size;
            k->held_at[i] = at;
            at += size;
        }
    }
    if (CORDON__FAULT(CL_ENQUEUE_NDRANGE_KERNEL, &err)) {
        return cl_fail("clEnqueueNDRangeKernel", err);
    }
    size_t global = groups * local;
    /* SAFETY: clEnqueueNDRangeKernel -- queue the kernel over groups work-groups of local items.
     * Relies on: every argument set above; global = groups·local without overflow (checked above) so
     * the range divides evenly; local within the kernel's maximum (the caller uses the size
     * kernel_create reported); no event, no wait list; returns once queued.
     * On failure: recorded as "clEnqueueNDRangeKernel"; nothing was queued. */
    cl_int rc = clEnqueueNDRangeKernel(q->queue, k->kernel, 1, NULL, &global, &local, 0, NULL, NULL);
    return rc == CL_SUCCESS ? CORDON_OK : cl_fail("clEnqueueNDRangeKernel", rc);
}

/* Does a row-major matrix of rows × cols with leading dimension ld at offset off fit the buffer? */
static bool matrix_fits(const cordon__sys_cl_buffer *b, size_t off, size_t rows, size_t cols, size_t ld) {
    if (b == NULL || rows == 0 || cols == 0 || ld < cols) {
        return false;
    }
    size_t elems = b->size / sizeof(float);
    if (off > elems || rows - 1 > (SIZE_MAX - cols) / ld) {
        return false;
    }
    size_t last = (rows - 1) * ld + cols;
    return last <= elems - off;
}

cordon_status cordon__sys_cl_sgemm(cordon__sys_cl_queue *q, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                                   float alpha, const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *b, size_t b_off, size_t ldb, float beta,
                                   cordon__sys_cl_buffer *c, size_t c_off, size_t ldc) {
    if (q == NULL || m == 0 || n == 0 || k == 0 || !matrix_fits(a, a_off, trans_a ? k : m, trans_a ? m : k, lda) ||
        !matrix_fits(b, b_off, trans_b ? n : k, trans_b ? k : n, ldb) || !matrix_fits(c, c_off, m, n, ldc)) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CLBLAST_SGEMM, &err)) {
        return cl_fail("CLBlastSgemm", err);
    }
    cl_command_queue queue = q->queue;
    /* SAFETY: CLBlastSgemm -- queue C = alpha·op(A)·op(B) + beta·C on the device's queue.
     * Relies on: every element of op-stored A, B and C addressed through its offset and leading
     * dimension lies inside its buffer (checked above); C does not overlap A or B (the ops layer refuses
     * aliasing); queue points to a live queue for the call; event NULL (none created); CLBlast's
     * temporary buffers are its own, released by it once its commands are queued.
     * On failure: recorded as "CLBlastSgemm" with CLBlast's code (the OpenCL codes where they match). */
    CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, alpha, a->mem, a_off,
                                        lda, b->mem, b_off, ldb, beta, c->mem, c_off, ldc, &queue, NULL);
    return rc == CLBlastSuccess ? CORDON_OK : cl_fail("CLBlastSgemm", (int)rc);
}

/* Does a vector of n elements with increment inc at off fit the buffer? */
static bool vector_fits(const cordon__sys_cl_buffer *b, size_t off, size_t n, size_t inc) {
    return inc >= 1 && matrix_fits(b, off, n, 1, inc);
}

cordon_status cordon__sys_cl_sgemv(cordon__sys_cl_queue *q, bool trans, size_t rows, size_t cols, float alpha,
                                   const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *x, size_t x_off, size_t incx, float beta,
                                   cordon__sys_cl_buffer *y, size_t y_off, size_t incy) {
    if (q == NULL || !matrix_fits(a, a_off, rows, cols, lda) || !vector_fits(x, x_off, trans ? rows : cols, incx) ||
        !vector_fits(y, y_off, trans ? cols : rows, incy)) {
        return CORDON_INVALID_ARGUMENT;
    }
    int err = 0;
    if (CORDON__FAULT(CLBLAST_SGEMV, &err)) {
        return cl_fail("CLBlastSgemv", err);
    }
    cl_command_queue queue = q->queue;
    /* SAFETY: CLBlastSgemv -- queue y = alpha·op(A)·x + beta·y on the device's queue.
     * Relies on: A, x and y with their offsets, leading dimension and increments lie inside their
     * buffers (checked above); y overlaps neither A nor x (the ops layer refuses aliasing); queue is
     * live for the call; event NULL.
     * On failure: recorded as "CLBlastSgemv". */
    CLBlastStatusCode rc = CLBlastSgemv(CLBlastLayoutRowMajor, trans ? CLBlastTransposeYes : CLBlastTransposeNo, rows,
                                        cols, alpha, a->mem, a_off, lda, x->mem, x_off, incx, beta, y->mem, y_off, incy,
                                        &queue, NULL);
    return rc == CLBlastSuccess ? CORDON_OK : cl_fail("CLBlastSgemv", (int)rc);
}

#else /* no OpenCL in this build */

bool cordon__sys_cl_available(void) {
    return false;
}

cordon_status cordon__sys_cl_devices(cordon__sys_cl_device_desc *list, size_t cap, size_t *count_out) {
    (void)list, (void)cap, (void)count_out;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_open(unsigned platform, unsigned device, cordon__sys_cl_queue **out) {
    (void)platform, (void)device, (void)out;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_close(cordon__sys_cl_queue *q) {
    (void)q;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_flush(cordon__sys_cl_queue *q) {
    (void)q;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_finish(cordon__sys_cl_queue *q) {
    (void)q;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_buffer_create(cordon__sys_cl_queue *q, size_t bytes, cordon__sys_cl_buffer **out) {
    (void)q, (void)bytes, (void)out;
    return CORDON_BACKEND_UNAVAILABLE;
}

void cordon__sys_cl_buffer_release(cordon__sys_cl_buffer *b) {
    (void)b;
}

size_t cordon__sys_cl_buffer_size(const cordon__sys_cl_buffer *b) {
    (void)b;
    return 0;
}

cordon_status cordon__sys_cl_buffer_write(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                          size_t bytes, const void *src) {
    (void)q, (void)b, (void)offset, (void)bytes, (void)src;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_buffer_read(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes, void *dst) {
    (void)q, (void)b, (void)offset, (void)bytes, (void)dst;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_buffer_zero(cordon__sys_cl_queue *q, cordon__sys_cl_buffer *b, size_t offset,
                                         size_t bytes) {
    (void)q, (void)b, (void)offset, (void)bytes;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_program_build(cordon__sys_cl_queue *q, const char *const *sources, unsigned count,
                                           const char *options, cordon__sys_cl_program **out) {
    (void)q, (void)sources, (void)count, (void)options, (void)out;
    return CORDON_BACKEND_UNAVAILABLE;
}

void cordon__sys_cl_program_release(cordon__sys_cl_program *p) {
    (void)p;
}

cordon_status cordon__sys_cl_kernel_create(cordon__sys_cl_program *p, const char *name, cordon__sys_cl_kernel **out,
                                           size_t *max_work_group_out) {
    (void)p, (void)name, (void)out, (void)max_work_group_out;
    return CORDON_BACKEND_UNAVAILABLE;
}

void cordon__sys_cl_kernel_release(cordon__sys_cl_kernel *k) {
    (void)k;
}

cordon_status cordon__sys_cl_kernel_run(cordon__sys_cl_queue *q, cordon__sys_cl_kernel *k,
                                        const cordon__sys_cl_arg *args, unsigned nargs, size_t groups, size_t local) {
    (void)q, (void)k, (void)args, (void)nargs, (void)groups, (void)local;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_sgemm(cordon__sys_cl_queue *q, bool trans_a, bool trans_b, size_t m, size_t n, size_t k,
                                   float alpha, const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *b, size_t b_off, size_t ldb, float beta,
                                   cordon__sys_cl_buffer *c, size_t c_off, size_t ldc) {
    (void)q, (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)a_off, (void)lda;
    (void)b, (void)b_off, (void)ldb, (void)beta, (void)c, (void)c_off, (void)ldc;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_cl_sgemv(cordon__sys_cl_queue *q, bool trans, size_t rows, size_t cols, float alpha,
                                   const cordon__sys_cl_buffer *a, size_t a_off, size_t lda,
                                   const cordon__sys_cl_buffer *x, size_t x_off, size_t incx, float beta,
                                   cordon__sys_cl_buffer *y, size_t y_off, size_t incy) {
    (void)q, (void)trans, (void)rows, (void)cols, (void)alpha, (void)a, (void)a_off, (void)lda, (void)x, (void)x_off;
    (void)incx, (void)beta, (void)y, (void)y_off, (void)incy;
    return CORDON_BACKEND_UNAVAILABLE;
}

#endif
