/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — compute devices.
 *
 * A device runs tensor operations and owns the storage of the tensors created on it. Two kinds:
 *  - "cpu": kernels built into cordon (scalar C, AVX2, AVX-512 on x86-64, NEON on aarch64, chosen at run
 *    time from what the processor supports), run on the device's own cordon_pool, with matrix products
 *    optionally handed to a BLAS library linked at build time;
 *  - "opencl" (when built with OpenCL and CLBlast, and a device exists): "opencl" picks the first GPU,
 *    else the first device; "opencl:P:D" a platform and device index; "opencl:NAME" a device whose
 *    device or platform name contains NAME. Operations are queued on the device's in-order queue and
 *    return at once; reading a tensor or cordon_device_sync waits (docs/compute.md, "OpenCL").
 * cordon_device_kinds lists what this build and machine offer.
 *
 * Storage. A CPU device takes its tensor storage from one cordon_pages reservation (address space only
 * until used), carved into size classes and reused through free lists: destroying a tensor returns its
 * block for the next tensor of a similar size, so a steady workload touches each page once. Operations
 * allocate nothing: they write into output tensors the caller passes, and scratch space comes from the
 * device, reused from call to call.
 *
 * Threads. A device with `threads` = N runs each operation on at most N threads, the calling thread
 * included (N - 1 pool workers). Work too small to pay for waking workers runs on the calling thread
 * alone. When matrix products go through BLAS, BLAS runs single-threaded inside cordon's tasks, so the
 * number of threads computing never exceeds N (see "BLAS" in docs/compute.md).
 *
 * Determinism. Every CPU kernel reduces in a fixed order that depends on the shapes and the instruction
 * set, never on the number of threads: no reduction dimension is split across threads. With
 * `deterministic` set the device also refuses anything that would break that (BLAS, whose internal
 * blocking is not under cordon's control, is not used), so results are bit-identical for 1, 2 or N
 * threads on the same machine and instruction set.
 *
 * Lifetime and thread safety. Devices are named by generation-checked handles: a destroyed device (or
 * the handle 0) gives CORDON_STALE. cordon_device_destroy may be called from any thread; it waits for
 * the operations running on the device to finish, then destroys every tensor still on it (their handles
 * become STALE) and releases the storage. Operations and tensor calls that start after the destroy has
 * begun return CORDON_STALE. Every function here may be called concurrently from several threads. */
#ifndef CORDON_DEVICE_H
#define CORDON_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cordon/export.h"
#include "cordon/status.h"

CORDON_BEGIN_DECLS

typedef struct cordon_device {
    uint64_t handle; /* private; 0 is never a live device (CORDON_STALE) */
} cordon_device;

/* Instruction-set levels of the CPU kernels. AUTO picks the best the processor supports; a lower level
 * may be forced (option, or the environment variable CORDON_ISA=scalar|avx2|avx512|neon, which caps AUTO),
 * never a higher one: asking for a level the processor lacks is CORDON_UNSUPPORTED, never SIGILL. */
typedef enum cordon_isa {
    CORDON_ISA_AUTO = 0,
    CORDON_ISA_SCALAR = 1, /* portable C: the reference every other path is tested against */
    CORDON_ISA_AVX2 = 2,   /* x86-64 with AVX2 and FMA */
    CORDON_ISA_AVX512 = 3, /* x86-64 with AVX-512 F, BW, VL, DQ */
    CORDON_ISA_NEON = 4    /* aarch64 Advanced SIMD */
} cordon_isa;

/* Who computes matrix products on a CPU device. */
typedef enum cordon_matmul_engine {
    CORDON_MATMUL_AUTO = 0,    /* BLAS when built with it and the device is not deterministic, else built-in */
    CORDON_MATMUL_BUILTIN = 1, /* cordon's own kernels */
    CORDON_MATMUL_BLAS = 2     /* cblas_sgemm / cblas_sgemv; CORDON_BACKEND_UNAVAILABLE when not built in */
} cordon_matmul_engine;

typedef struct cordon_device_options {
    /* The kind of device: NULL, "" or "cpu" for the CPU device; "opencl", "opencl:P:D" or "opencl:NAME"
     * (see above). CORDON_BACKEND_UNAVAILABLE when cordon knows the kind but it is not built in or no such
     * device is present, CORDON_INVALID_ARGUMENT for anything else. */
    const char *name;
    /* Threads an operation may use, the caller included; 0: one per usable CPU. At most 1024. */
    unsigned threads;
    /* Bit-identical results for any thread count (see above). Refused with CORDON_WRONG_STATE together
     * with matmul = CORDON_MATMUL_BLAS. */
    bool deterministic;
    /* Highest instruction-set level (AUTO: the best available, capped by CORDON_ISA). */
    cordon_isa isa;
    cordon_matmul_engine matmul;
    /* Address space reserved for tensor storage; 0: 64 GiB, or a quarter, a sixteenth… down to 1 GiB when
     * the OS refuses that much address space. Only what tensors use is ever committed. Rounded up to the
     * OS page size; at least 1 MiB. */
    uint64_t storage_bytes;
    /* Ask for transparent huge pages on the storage (first touch ~10x cheaper). Best effort. */
    bool huge_pages;
} cordon_device_options;

/* Fills *opt with the defaults: CPU, all usable CPUs, not deterministic, AUTO, AUTO, 64 GiB. */
CORDON_API void cordon_device_options_init(cordon_device_options *opt);

/* Creates a device; opt NULL means the defaults. Errors: INVALID_ARGUMENT (NULL out, unknown name or
 * enum value, threads > 1024, storage_bytes below 1 MiB), BACKEND_UNAVAILABLE (a known kind that is
 * not built in, or matmul = BLAS without BLAS), UNSUPPORTED (an instruction-set level the processor
 * lacks), WRONG_STATE (deterministic with matmul = BLAS), OUT_OF_MEMORY / OUT_OF_RESOURCES and other OS
 * statuses (nothing is left behind). */
CORDON_API CORDON_NODISCARD cordon_status cordon_device_create(const cordon_device_options *opt, cordon_device *out);

/* Waits for running operations, destroys the device's remaining tensors and releases everything the
 * device holds. A second destroy gives CORDON_STALE. */
CORDON_API CORDON_NODISCARD cordon_status cordon_device_destroy(cordon_device device);

/* Waits until every operation submitted to the device has finished. CPU operations finish before they
 * return, so on a CPU device this only checks the handle. */
CORDON_API CORDON_NODISCARD cordon_status cordon_device_sync(cordon_device device);

typedef struct cordon_device_info {
    char kind[16];           /* "cpu" */
    char description[128];   /* "x86-64 AVX-512, 2 threads, matmul: built-in" */
    unsigned threads;        /* threads an operation may use */
    cordon_isa isa;          /* the level the kernels run at */
    const char *isa_name;    /* "scalar", "avx2", "avx512", "neon"; static */
    cordon_matmul_engine matmul; /* BUILTIN or BLAS, as resolved at create */
    bool deterministic;
    uint64_t storage_reserved_bytes;
    uint64_t storage_committed_bytes; /* pages of the reservation made usable so far */
    uint64_t storage_in_use_bytes;    /* bytes in blocks held by live tensors and scratch */
    uint64_t tensors;                 /* live tensors (views included) */
} cordon_device_info;

CORDON_API CORDON_NODISCARD cordon_status cordon_device_info_get(cordon_device device, cordon_device_info *out);

/* The kinds of device this build and machine offer, for listings such as `cordon info`: writes up to cap
 * entries and the number available to *count_out (so cap 0 with a NULL list asks for the count). */
typedef struct cordon_device_kind {
    char name[16];         /* the value for cordon_device_options.name */
    char description[128]; /* what it would run on: "x86-64, 2 CPUs, best ISA avx512, BLAS: openblas" */
    bool available;        /* usable on this machine now */
} cordon_device_kind;

CORDON_API CORDON_NODISCARD cordon_status cordon_device_kinds(cordon_device_kind *list, size_t cap, size_t *count_out);

/* The name of an instruction-set level ("avx2"), or "unknown". Static. */
CORDON_API const char *cordon_isa_name(cordon_isa isa);

CORDON_END_DECLS

#endif /* CORDON_DEVICE_H */
