/* SPDX-License-Identifier: Apache-2.0 */
/* `cordon bench opencl`: the OpenCL device against the same work done by direct OpenCL and CLBlast
 * calls in the same run (a context and in-order queue of its own on the same device), with the CPU
 * device beside it:
 *   - GEMM 512 and 1024 (C = A·B, beta 0), each call waited for (cordon_device_sync / clFinish): GFLOP/s,
 *     goal >= 0.95x CLBlast called directly;
 *   - a chain of 100 small ops (y += x on 256 floats) with one sync at the end: per-op cost, against the
 *     bare enqueue of an equivalent kernel (100 clEnqueueNDRangeKernel, one clFinish) and against
 *     enqueue + clFinish after every op (what a blocking wait per op costs).
 * The direct peer needs OpenCL and CLBlast at build time (CORDON_BENCH_HAVE_CLBLAST); without it, or
 * without an OpenCL device, the suite says what it skips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cordon/cordon.h"

#if defined(CORDON_BENCH_HAVE_CLBLAST)
#  define CL_TARGET_OPENCL_VERSION 120
#  define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#  include <CL/cl.h>
#  include <clblast_c.h>
#endif

#define CHAIN 100
#define CHAIN_N 256

static int failed;

static bool ok(cordon_status st, const char *what) {
    if (st != CORDON_OK) {
        fprintf(stderr, "bench opencl: %s: %s\n", what, cordon_status_name(st));
        failed = 1;
        return false;
    }
    return true;
}

static float *host_random(size_t n, unsigned seed) {
    float *p = malloc(n * sizeof(float));
    if (p == NULL) {
        return NULL;
    }
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = (float)((s >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

static bool tensor(cordon_device d, uint64_t r, uint64_t c, const float *src, cordon_tensor *out) {
    uint64_t sh[2] = {r, c};
    if (!ok(cordon_tensor_create(d, CORDON_DTYPE_F32, 2, sh, out), "tensor_create")) {
        return false;
    }
    return src == NULL || ok(cordon_tensor_write(*out, src, (size_t)(r * c) * sizeof(float)), "tensor_write");
}

/* Median seconds per call of `samples` runs of fn(arg, reps). */
typedef void (*run_fn)(void *arg, int reps);

static double median_s(run_fn fn, void *arg, int reps, int samples, double *spread) {
    double t[64];
    if (samples > 64) samples = 64;
    fn(arg, 1); /* warm-up: programs compiled, buffers in place */
    for (int i = 0; i < samples; i++) {
        uint64_t t0 = cordon_bench_now_ns();
        fn(arg, reps);
        t[i] = (double)(cordon_bench_now_ns() - t0) * 1e-9 / reps;
    }
    return cordon_bench_median(t, samples, spread);
}

#if defined(CORDON_BENCH_HAVE_CLBLAST)
/* The same for two contenders, their samples interleaved so that machine noise hits both alike. */
static void median_pair(run_fn fa, void *aa, run_fn fb, void *ab, int reps, int samples, double *ma, double *sa,
                        double *mb, double *sb) {
    double ta[64], tb[64];
    if (samples > 64) samples = 64;
    fa(aa, 1);
    fb(ab, 1);
    for (int i = 0; i < samples; i++) {
        uint64_t t0 = cordon_bench_now_ns();
        fa(aa, reps);
        uint64_t t1 = cordon_bench_now_ns();
        fb(ab, reps);
        uint64_t t2 = cordon_bench_now_ns();
        ta[i] = (double)(t1 - t0) * 1e-9 / reps;
        tb[i] = (double)(t2 - t1) * 1e-9 / reps;
    }
    *ma = cordon_bench_median(ta, samples, sa);
    *mb = cordon_bench_median(tb, samples, sb);
}
#endif

/* ---------------------------------------------------------------------------------------------------
 * cordon's side */

typedef struct gemm_ctx {
    cordon_device d;
    cordon_tensor a, b, c;
} gemm_ctx;

static void gemm_cordon(void *arg, int reps) {
    gemm_ctx *g = arg;
    for (int i = 0; i < reps; i++) {
        ok(cordon_matmul(g->c, g->a, g->b, NULL), "matmul");
        ok(cordon_device_sync(g->d), "device_sync");
    }
}

typedef struct chain_ctx {
    cordon_device d;
    cordon_tensor x, y;
} chain_ctx;

static void chain_cordon(void *arg, int reps) {
    chain_ctx *c = arg;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < CHAIN; i++) {
            ok(cordon_add(c->y, c->y, c->x), "add");
        }
        ok(cordon_device_sync(c->d), "device_sync");
    }
}

/* ---------------------------------------------------------------------------------------------------
 * The direct peer: OpenCL and CLBlast called by hand */

#if defined(CORDON_BENCH_HAVE_CLBLAST)
typedef struct direct {
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_kernel add;
    cl_mem a, b, c, x, y;
    size_t n;
    bool ready;
} direct;

static const char *add_source = "__kernel void add(__global float *y, __global const float *x, ulong n) {\n"
                                "    ulong i = get_global_id(0);\n"
                                "    if (i < n) y[i] = y[i] + x[i];\n"
                                "}\n";

/* The device cordon's "opencl" picks: the first GPU, else the first device. */
static bool direct_open(direct *dr) {
    memset(dr, 0, sizeof *dr);
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        return false;
    }
    cl_device_id pick = NULL, first = NULL;
    cl_platform_id pick_p = NULL, first_p = NULL;
    for (cl_uint p = 0; p < np && p < 16 && pick == NULL; p++) {
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS) {
            continue;
        }
        for (cl_uint d = 0; d < nd && d < 16; d++) {
            cl_device_type type = 0;
            clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof type, &type, NULL);
            if (first == NULL) {
                first = devs[d], first_p = plats[p];
            }
            if ((type & CL_DEVICE_TYPE_GPU) != 0) {
                pick = devs[d], pick_p = plats[p];
                break;
            }
        }
    }
    if (pick == NULL) {
        pick = first, pick_p = first_p;
    }
    if (pick == NULL) {
        return false;
    }
    cl_context_properties props[3] = {CL_CONTEXT_PLATFORM, (cl_context_properties)pick_p, 0};
    cl_int rc = 0;
    dr->ctx = clCreateContext(props, 1, &pick, NULL, NULL, &rc);
    if (rc != CL_SUCCESS) {
        return false;
    }
    dr->q = clCreateCommandQueue(dr->ctx, pick, 0, &rc);
    if (rc != CL_SUCCESS) {
        clReleaseContext(dr->ctx);
        return false;
    }
    dr->prog = clCreateProgramWithSource(dr->ctx, 1, &add_source, NULL, &rc);
    if (rc == CL_SUCCESS) {
        rc = clBuildProgram(dr->prog, 1, &pick, "", NULL, NULL);
    }
    if (rc == CL_SUCCESS) {
        dr->add = clCreateKernel(dr->prog, "add", &rc);
    }
    dr->ready = rc == CL_SUCCESS;
    return dr->ready;
}

static void direct_close(direct *dr) {
    cl_mem ms[5] = {dr->a, dr->b, dr->c, dr->x, dr->y};
    for (int i = 0; i < 5; i++) {
        if (ms[i] != NULL) clReleaseMemObject(ms[i]);
    }
    if (dr->add != NULL) clReleaseKernel(dr->add);
    if (dr->prog != NULL) clReleaseProgram(dr->prog);
    if (dr->q != NULL) clReleaseCommandQueue(dr->q);
    if (dr->ctx != NULL) clReleaseContext(dr->ctx);
    memset(dr, 0, sizeof *dr);
}

static cl_mem direct_buffer(direct *dr, const float *src, size_t n) {
    cl_int rc = 0;
    cl_mem m = clCreateBuffer(dr->ctx, CL_MEM_READ_WRITE, n * sizeof(float), NULL, &rc);
    if (rc != CL_SUCCESS) {
        return NULL;
    }
    if (src != NULL) {
        clEnqueueWriteBuffer(dr->q, m, CL_TRUE, 0, n * sizeof(float), src, 0, NULL, NULL);
    } else {
        float zero = 0.0f;
        clEnqueueFillBuffer(dr->q, m, &zero, sizeof zero, 0, n * sizeof(float), 0, NULL, NULL);
    }
    return m;
}

static void gemm_direct(void *arg, int reps) {
    direct *dr = arg;
    for (int i = 0; i < reps; i++) {
        CLBlastStatusCode rc = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, dr->n, dr->n,
                                            dr->n, 1.0f, dr->a, 0, dr->n, dr->b, 0, dr->n, 0.0f, dr->c, 0, dr->n, &dr->q,
                                            NULL);
        if (rc != CLBlastSuccess) {
            failed = 1;
        }
        clFinish(dr->q);
    }
}

static void enqueue_add(direct *dr) {
    cl_ulong n = CHAIN_N;
    size_t global = CHAIN_N;
    clSetKernelArg(dr->add, 0, sizeof(cl_mem), &dr->y);
    clSetKernelArg(dr->add, 1, sizeof(cl_mem), &dr->x);
    clSetKernelArg(dr->add, 2, sizeof n, &n);
    if (clEnqueueNDRangeKernel(dr->q, dr->add, 1, NULL, &global, NULL, 0, NULL, NULL) != CL_SUCCESS) {
        failed = 1;
    }
}

static void chain_bare(void *arg, int reps) {
    direct *dr = arg;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < CHAIN; i++) {
            enqueue_add(dr);
        }
        clFinish(dr->q);
    }
}

static void chain_finish_each(void *arg, int reps) {
    direct *dr = arg;
    for (int r = 0; r < reps; r++) {
        for (int i = 0; i < CHAIN; i++) {
            enqueue_add(dr);
            clFinish(dr->q);
        }
    }
}
#endif

/* ---------------------------------------------------------------------------------------------------
 * The suite */

static bool device(const char *name, cordon_device *out) {
    cordon_device_options o;
    cordon_device_options_init(&o);
    o.name = name;
    o.storage_bytes = UINT64_C(1) << 30;
    return cordon_device_create(&o, out) == CORDON_OK;
}

static void bench_gemm(cordon_bench *b, cordon_device ocl, cordon_device cpu, size_t n, void *dr_arg) {
    int samples = cordon_bench_quick(b) ? 3 : (n >= 1024 ? 5 : 9);
    float *ha = host_random(n * n, 1), *hb = host_random(n * n, 2);
    gemm_ctx g[2] = {{.d = ocl}, {.d = cpu}};
    bool have = ha != NULL && hb != NULL;
    for (int i = 0; i < 2 && have; i++) {
        have = tensor(g[i].d, n, n, ha, &g[i].a) && tensor(g[i].d, n, n, hb, &g[i].b) &&
               tensor(g[i].d, n, n, NULL, &g[i].c);
    }
    double flops = 2.0 * (double)n * (double)n * (double)n;
    char name[64];
    if (have) {
        double spread = 0, spread_cpu = 0;
        double t = 0;
        double tc = median_s(gemm_cordon, &g[1], 1, samples, &spread_cpu);
        snprintf(name, sizeof name, "sgemm_%zu", n);
#if defined(CORDON_BENCH_HAVE_CLBLAST)
        direct *dr = dr_arg;
        if (dr == NULL) {
            t = median_s(gemm_cordon, &g[0], 1, samples, &spread);
            cordon_bench_report(b, name, flops / t * 1e-9, "GFLOP/s", spread, NULL, 0, NULL);
        } else {
        dr->n = n;
        dr->a = direct_buffer(dr, ha, n * n);
        dr->b = direct_buffer(dr, hb, n * n);
        dr->c = direct_buffer(dr, NULL, n * n);
        double sd = 0, td = 0;
        median_pair(gemm_cordon, &g[0], gemm_direct, dr, 1, samples, &t, &spread, &td, &sd);
        clReleaseMemObject(dr->a), clReleaseMemObject(dr->b), clReleaseMemObject(dr->c);
        dr->a = dr->b = dr->c = NULL;
        cordon_bench_report(b, name, flops / t * 1e-9, "GFLOP/s", spread, "clblast_direct", flops / td * 1e-9, ">= 0.95");
        }
#else
        (void)dr_arg;
        t = median_s(gemm_cordon, &g[0], 1, samples, &spread);
        cordon_bench_report(b, name, flops / t * 1e-9, "GFLOP/s", spread, NULL, 0, NULL);
#endif
        snprintf(name, sizeof name, "sgemm_%zu_cpu_device", n);
        cordon_bench_report(b, name, flops / tc * 1e-9, "GFLOP/s", spread_cpu, NULL, 0, NULL);
    }
    for (int i = 0; i < 2; i++) {
        cordon_tensor ts[3] = {g[i].a, g[i].b, g[i].c};
        for (int j = 0; j < 3; j++) {
            if (ts[j].handle != 0) ok(cordon_tensor_destroy(ts[j]), "tensor_destroy");
        }
    }
    free(ha), free(hb);
}

static void bench_chain(cordon_bench *b, cordon_device ocl, cordon_device cpu, void *dr_arg) {
    int samples = cordon_bench_quick(b) ? 5 : 15;
    int reps = cordon_bench_quick(b) ? 2 : 5;
    float *hx = host_random(CHAIN_N, 3);
    chain_ctx c[2] = {{.d = ocl}, {.d = cpu}};
    bool have = hx != NULL;
    for (int i = 0; i < 2 && have; i++) {
        have = tensor(c[i].d, 1, CHAIN_N, hx, &c[i].x) && tensor(c[i].d, 1, CHAIN_N, NULL, &c[i].y);
    }
    if (have) {
        double spread = 0, spread_cpu = 0;
        double t = median_s(chain_cordon, &c[0], reps, samples, &spread) / CHAIN * 1e6;
        double tc = median_s(chain_cordon, &c[1], reps, samples, &spread_cpu) / CHAIN * 1e6;
#if defined(CORDON_BENCH_HAVE_CLBLAST)
        direct *dr = dr_arg;
        if (dr == NULL) {
            cordon_bench_report(b, "chain100_add256_per_op", t, "us", spread, NULL, 0, NULL);
        } else {
        dr->x = direct_buffer(dr, hx, CHAIN_N);
        dr->y = direct_buffer(dr, NULL, CHAIN_N);
        double s1 = 0, s2 = 0, tb = 0;
        median_pair(chain_cordon, &c[0], chain_bare, dr, reps, samples, &t, &spread, &tb, &s1);
        t = t / CHAIN * 1e6;
        tb = tb / CHAIN * 1e6;
        double tf = median_s(chain_finish_each, dr, reps, samples, &s2) / CHAIN * 1e6;
        clReleaseMemObject(dr->x), clReleaseMemObject(dr->y);
        dr->x = dr->y = NULL;
        cordon_bench_report(b, "chain100_add256_per_op", t, "us", spread, "bare_enqueue", tb, "<= 1.5");
        cordon_bench_report(b, "chain100_add256_per_op", t, "us", spread, "enqueue_and_finish_each", tf, "< 1");
        }
#else
        (void)dr_arg;
        cordon_bench_report(b, "chain100_add256_per_op", t, "us", spread, NULL, 0, NULL);
#endif
        cordon_bench_report(b, "chain100_add256_per_op_cpu_device", tc, "us", spread_cpu, NULL, 0, NULL);
    }
    for (int i = 0; i < 2; i++) {
        if (c[i].x.handle != 0) ok(cordon_tensor_destroy(c[i].x), "tensor_destroy");
        if (c[i].y.handle != 0) ok(cordon_tensor_destroy(c[i].y), "tensor_destroy");
    }
    free(hx);
}

CORDON_BENCH_SUITE(opencl, "OpenCL device: GEMM vs CLBlast direct, chain of 100 small ops vs bare enqueue, CPU beside") {
    cordon_device ocl, cpu;
    if (!device("opencl", &ocl)) {
        cordon_bench_note(b, "no OpenCL device (not built in, or no ICD installed): suite skipped");
        return;
    }
    if (!device("cpu", &cpu)) {
        ok(cordon_device_destroy(ocl), "device_destroy");
        failed = 1;
        return;
    }
    cordon_device_info info;
    if (cordon_device_info_get(ocl, &info) == CORDON_OK) {
        cordon_bench_note(b, "device: %s", info.description);
    }
    if (cordon_device_info_get(cpu, &info) == CORDON_OK) {
        cordon_bench_note(b, "cpu device beside it: %s", info.description);
    }
    void *dr_arg = NULL;
#if defined(CORDON_BENCH_HAVE_CLBLAST)
    direct dr;
    if (direct_open(&dr)) {
        dr_arg = &dr;
    } else {
        cordon_bench_note(b, "direct OpenCL/CLBlast peer could not open the device: baselines skipped");
    }
#else
    cordon_bench_note(b, "direct OpenCL/CLBlast peer not built in: baselines skipped");
#endif
    static const size_t sizes[2] = {512, 1024};
    for (int i = 0; i < 2; i++) {
        bench_gemm(b, ocl, cpu, sizes[i], dr_arg);
    }
    bench_chain(b, ocl, cpu, dr_arg);
#if defined(CORDON_BENCH_HAVE_CLBLAST)
    if (dr_arg != NULL) {
        direct_close(&dr);
    }
#endif
    ok(cordon_device_destroy(cpu), "device_destroy");
    ok(cordon_device_destroy(ocl), "device_destroy");
    if (failed) {
        cordon_bench_note(b, "some calls failed (see stderr)");
    }
}
