/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the CPU backend: threading on the device's pool, strided operands, and the GEMM framework
 * around the per-instruction-set kernels (kernels.h).
 *
 * Work is split into "lanes": a fixed list of work items (rows, row blocks, C blocks, KV heads) dealt
 * round-robin to nlanes lanes, each lane run as one pool chunk with its own scratch slot. Which lane
 * computes an item never changes a result: no reduction is split across lanes, and cross-row sums
 * (norm weight gradients) are made per fixed block of rows and added in block order. So results are
 * bit-identical for any thread count (device.h, "Determinism").
 *
 * Small work stays on the calling thread: each op family estimates its single-thread time from its
 * shape (PS_* below: picoseconds per unit of work, measured with the AVX-512 kernels), and a call whose
 * estimate is below INLINE_PS runs on the caller, since handing half of it to a pool worker costs
 * more than it saves (docs/compute.md, "Performance", gives the measurement).
 *
 * GEMM (BLIS-style): C is cut into M × N blocks; for each block and each KC slice of K, op(A) is packed
 * into MR-row panels and op(B) into NR-column panels (zero-padded at the edges), and the micro-kernel
 * adds alpha times each MR × NR tile into C (straight into C for whole tiles when the level has an
 * intrinsic kernel, kernels.h gemm_micro_c). beta is applied to each C block before its first slice
 * (beta = 0 writes zeros without reading C). When op(B) is packed whole once for every lane, an item is
 * a whole M block instead, whose A is packed once per K slice for all of N (gemm_rows_whole_n). The
 * block sizes and why: see KC below. Products of at most SKINNY_M rows (decode, M = 8) stream B without
 * packing; rank-k updates (k <= 16) and products of at most 16 columns use small-product kernels
 * (small_matmul). */
#include <math.h>

#include "compute/backend.h"
#include "compute/cpu/cpu_internal.h"
#include "compute/cpu/kernels.h"
#include "sys/sys.h"

/* A second thread pays from about twice the pool's dispatch cost (a spinning worker picking up a job and
 * the caller waiting for it: ~1-2 µs here); below this estimated time a call stays on the caller. */
#define INLINE_PS UINT64_C(4000000)
/* Below this estimated time a call takes one lane per thread (lanes_for). */
#define ONE_LANE_PER_THREAD_PS UINT64_C(200000000)
/* Estimated single-thread picoseconds per unit of work, per op family. */
#define PS_GEMM 20u      /* per multiply-add (~50 per ns) */
#define PS_ROW_PASS 40u  /* per element per pass over a row (norms, softmax backward) */
#define PS_EXP 250u      /* per element of softmax (three passes and the exponential) */
#define PS_EW 100u       /* per element of an elementwise op (SiLU/GELU dominate) */
#define PS_COPY 40u      /* per element copied */
#define PS_ROPE 100u     /* per element rotated */
#define PS_ANGLE 40000u  /* per angle of the RoPE table: f64 cos and sin */
#define PS_ATTN 100u     /* per multiply-add of attention (dot products and axpys over D) */

/* GEMM blocking (BLIS-style; the micro-tile MR × NR is the level's, kernels.h). KC = 256: an A micro-
 * panel (MR × 256: 12 KiB at 12 rows) stays in L1 while the B micro-panels (256 × NR) of a block stream
 * over it from L2. NC = 512 columns: a packed B block of KC × NC is 512 KiB, half of a Zen 4/5 L2
 * (1 MiB), so it stays there while every A panel of an M block uses it. MC_MAX = 192 rows: an A block
 * of 192 KiB, and M blocks small enough to deal evenly to the lanes. Single-batch products pack all
 * of op(B) once, shared by the lanes (up to SHARED_B_MAX bytes), and split M across lanes. */
#define KC 256u
#define NC_PANELS_MAX 512u
#define MC_MAX 192u
#define SHARED_B_MAX (UINT64_C(256) << 20)
#define NORM_BLOCK_ROWS_MAX 64u
#define NORM_BLOCK_ROWS_MIN 8u
#define NORM_BLOCKS_MIN 4u

/* ---------------------------------------------------------------------------------------------------
 * Lanes */

typedef cordon_status (*lane_fn)(void *ctx, size_t lane, size_t nlanes);

/* The floating-point control bits a kernel computes under: flush-to-zero, denormals-are-zero and the
 * rounding mode. They are per thread, so the caller's are carried to the pool workers for the length
 * of a task and the workers' own restored after it: which thread computes an element never changes
 * its value (device.h, "Determinism"; ops.h, "Subnormals"). Exception masks and flags are left alone. */
#if defined(__x86_64__) || defined(__i386__)
#  define FP_CONTROL_MASK 0xE040u /* MXCSR FTZ (15), rounding (13-14), DAZ (6) */
static unsigned fp_control_get(void) {
    return _mm_getcsr() & FP_CONTROL_MASK;
}
static unsigned fp_control_enter(unsigned want) {
    unsigned saved = _mm_getcsr();
    if ((saved & FP_CONTROL_MASK) != want) {
        _mm_setcsr((saved & ~FP_CONTROL_MASK) | want);
    }
    return saved;
}
static void fp_control_leave(unsigned saved) {
    unsigned now = _mm_getcsr();
    if ((now & FP_CONTROL_MASK) != (saved & FP_CONTROL_MASK)) {
        _mm_setcsr((now & ~FP_CONTROL_MASK) | (saved & FP_CONTROL_MASK));
    }
}
#else
static unsigned fp_control_get(void) {
    return 0;
}
static unsigned fp_control_enter(unsigned want) {
    return want;
}
static void fp_control_leave(unsigned saved) {
    (void)saved;
}
#endif

typedef struct lane_job {
    lane_fn fn;
    void *ctx;
    size_t nlanes;
    unsigned fp_control; /* the calling thread's */
} lane_job;

static cordon_status lane_task(void *ctx, size_t begin, size_t end) {
    lane_job *job = ctx;
    unsigned saved = fp_control_enter(job->fp_control);
    cordon_status st = CORDON_OK;
    for (size_t l = begin; l < end && st == CORDON_OK; l++) {
        st = job->fn(job->ctx, l, job->nlanes);
    }
    fp_control_leave(saved);
    return st;
}

/* How many lanes for `items` work items of `units` units of work at `ps` picoseconds each. Below
 * ONE_LANE_PER_THREAD_PS, one lane per thread: the caller claims the first lane as soon as the job is
 * open and the spinning workers the others, so with contiguous lanes (lane_range) each thread works on
 * the same rows from call to call, and a chain of small ops finds its rows in the L2 of the core that
 * wrote them instead of pulling them from the other core's. Above it, four lanes per thread even out
 * a thread that runs late. */
static size_t lanes_for(const cordon__device *dev, size_t items, uint64_t units, uint64_t ps) {
    uint64_t cost_ps = units > UINT64_MAX / ps ? UINT64_MAX : units * ps;
    if (dev->threads <= 1 || cost_ps < INLINE_PS || items <= 1) {
        return 1;
    }
    size_t n = (size_t)dev->threads * (cost_ps < ONE_LANE_PER_THREAD_PS ? 1u : 4u);
    return items < n ? items : n;
}

/* The items [*begin, *end) of lane `lane` of nlanes: contiguous, sizes differing by at most one. */
static void lane_range(uint64_t items, size_t lane, size_t nlanes, uint64_t *begin, uint64_t *end) {
    *begin = items / nlanes * lane + (lane < items % nlanes ? lane : items % nlanes);
    *end = *begin + items / nlanes + (lane < items % nlanes ? 1u : 0u);
}

static cordon_status run_lanes(cordon__device *dev, size_t nlanes, lane_fn fn, void *ctx) {
    if (nlanes <= 1) {
        return fn(ctx, 0, 1);
    }
    lane_job job = {fn, ctx, nlanes, fp_control_get()};
    return cordon_pool_parallel_for(dev->pool, 0, nlanes, 1, lane_task, &job);
}

/* ---------------------------------------------------------------------------------------------------
 * Strided rows */

/* Rows of a view: the product of its first three (right-aligned) extents. */
static uint64_t rows_of(const cordon__view *v) {
    return v->shape[0] * v->shape[1] * v->shape[2];
}

/* Element offset of row r of `shape` in view v, with v broadcast to shape (stride 0 where v's extent
 * is 1). */
static uint64_t row_offset(const cordon__view *v, const uint64_t *shape, uint64_t r) {
    uint64_t i2 = r % shape[2];
    r /= shape[2];
    uint64_t i1 = r % shape[1];
    uint64_t i0 = r / shape[1];
    uint64_t off = v->offset;
    off += (v->shape[0] == 1 ? 0 : i0 * v->strides[0]);
    off += (v->shape[1] == 1 ? 0 : i1 * v->strides[1]);
    off += (v->shape[2] == 1 ? 0 : i2 * v->strides[2]);
    return off;
}

/* A contiguous copy of row r of v (broadcast to shape) of n elements: the row itself when its last
 * stride is 1, else gathered into buf. */
static const float *read_row(const cordon__view *v, const uint64_t *shape, uint64_t r, size_t n, float *buf) {
    const float *base = (const float *)(const void *)v->storage->data + row_offset(v, shape, r);
    if (v->shape[3] == 1 && n > 1) {
        for (size_t j = 0; j < n; j++) {
            buf[j] = base[0];
        }
        return buf;
    }
    uint64_t s = v->strides[3];
    if (s == 1 || n == 1) {
        return base;
    }
    for (size_t j = 0; j < n; j++) {
        buf[j] = base[j * s];
    }
    return buf;
}

/* Row r of v where read_row would return it without a copy (contiguous in storage), else NULL: the
 * kernels' prefetch hint for the row after the current one. */
static const float *row_hint(const cordon__view *v, const uint64_t *shape, uint64_t r, size_t n) {
    if ((v->shape[3] == 1 && n > 1) || (v->strides[3] != 1 && n != 1)) {
        return NULL;
    }
    return (const float *)(const void *)v->storage->data + row_offset(v, shape, r);
}

/* Where to write row r of v (n elements): the row itself when contiguous, else buf (then write_back). */
static float *out_row(const cordon__view *v, uint64_t r, size_t n, float *buf) {
    float *base = (float *)(void *)v->storage->data + row_offset(v, v->shape, r);
    return v->strides[3] == 1 || n == 1 ? base : buf;
}

static void write_back(const cordon__view *v, uint64_t r, size_t n, const float *row) {
    float *base = (float *)(void *)v->storage->data + row_offset(v, v->shape, r);
    if (row == base) {
        return;
    }
    uint64_t s = v->strides[3];
    for (size_t j = 0; j < n; j++) {
        base[j * s] = row[j];
    }
}

/* A scratch block with nlanes slots of `per_lane` floats each. */
static cordon_status lane_scratch(cordon__device *dev, size_t nlanes, size_t per_lane, cordon__block **out,
                                  float **base) {
    uint64_t bytes = (uint64_t)nlanes * per_lane * sizeof(float);
    if (per_lane != 0 && bytes / per_lane / sizeof(float) != nlanes) {
        return CORDON_OVERFLOW;
    }
    if (bytes == 0) {
        bytes = sizeof(float);
    }
    cordon_status st = cordon__scratch_get(dev, bytes, out);
    if (st == CORDON_OK) {
        *base = (float *)(void *)(*out)->data;
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * GEMM */

static const float *elem_ptr(const cordon__view *v, uint64_t off) {
    return (const float *)(const void *)v->storage->data + off;
}

/* Element `off` of a BF16 view (B of a product on bf16 weights). */
static const uint16_t *elem_ptr16(const cordon__view *v, uint64_t off) {
    return (const uint16_t *)(const void *)v->storage->data + off;
}

/* A bf16 widened exactly to f32. */
static inline float widen_bf16(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Offsets of batch (b0, b1) in a view (broadcast where its extent is 1). */
static uint64_t batch_offset(const cordon__view *v, uint64_t b0, uint64_t b1) {
    return v->offset + (v->shape[0] == 1 ? 0 : b0 * v->strides[0]) + (v->shape[1] == 1 ? 0 : b1 * v->strides[1]);
}

static void scale_block(float *c, uint64_t rs, uint64_t cs, size_t m, size_t n, float beta) {
    if (beta == 1.0f) {
        return;
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < n; j++) {
            float *e = c + i * rs + j * cs;
            *e = beta == 0.0f ? 0.0f : beta * *e;
        }
    }
}

/* Row stride of a view whose batches (s0 × s1 matrices of m rows) follow each other as rows of one
 * matrix; false when they do not. */
static bool rows_fold(const cordon__view *v, uint64_t s0, uint64_t s1, uint64_t m, uint64_t *rs) {
    uint64_t r = m > 1 ? v->strides[2] : (s1 > 1 ? v->strides[1] : v->strides[0]);
    if ((s1 > 1 && v->strides[1] != m * r) || (s0 > 1 && v->strides[0] != s1 * m * r)) {
        return false;
    }
    *rs = r;
    return true;
}

/* A batched product whose B is shared by every batch and whose A and C batches are stacked rows is one
 * product of batches·M rows: the same arithmetic per element, in far fewer, larger blocks. */
static void fold_batches(const cordon__matmul_desc *d, cordon__matmul_desc *out) {
    *out = *d;
    uint64_t s0 = d->c.shape[0], s1 = d->c.shape[1], ra = 0, rc = 0;
    if (s0 * s1 <= 1 || d->b.shape[0] != 1 || d->b.shape[1] != 1 || d->a.shape[0] != s0 || d->a.shape[1] != s1 ||
        !rows_fold(&d->a, s0, s1, d->m, &ra) || !rows_fold(&d->c, s0, s1, d->m, &rc)) {
        return;
    }
    cordon__view *vs[2] = {&out->a, &out->c};
    uint64_t rss[2] = {ra, rc};
    for (int i = 0; i < 2; i++) {
        vs[i]->shape[0] = vs[i]->shape[1] = 1;
        vs[i]->strides[0] = vs[i]->strides[1] = 0;
        vs[i]->shape[2] = s0 * s1 * d->m;
        vs[i]->strides[2] = rss[i];
    }
    out->m = s0 * s1 * d->m;
}

/* Packs op(B)[p0 .. p0+kc, j0 .. j0+n) into ceil(n/nr) panels of kc × nr (panel jp at dst + jp·kc·nr,
 * row p of a panel at + p·nr), zero past column n. */
static void pack_b(const cordon__cpu_kernels *k, float *dst, const float *b, uint64_t brs, uint64_t bcs, size_t p0,
                   size_t kc, size_t j0, size_t n) {
    size_t nr = k->nr;
    size_t np = (n + nr - 1) / nr;
    if (brs == 1 && bcs != 1) {
        /* op(B) = Wᵀ with W's rows contiguous: each panel a transpose of nr rows of W (the level's
         * kernel: AVX2 transposes 8 × 8 blocks in registers). */
        for (size_t jp = 0; jp < np; jp++) {
            size_t w = n - jp * nr < nr ? n - jp * nr : nr;
            k->pack_bt(dst + jp * kc * nr, b + (j0 + jp * nr) * bcs + p0, (size_t)bcs, kc, w);
        }
        return;
    }
    if (bcs == 1) {
        /* Whole panels copy a constant size (the levels' NR, 16 or 32), which the compiler turns into a
         * few vector moves: a memcpy call per 64 bytes took as long as reading B. */
        size_t full = (nr == 16 || nr == 32) ? n / nr : 0;
        for (size_t p = 0; p < kc; p++) {
            const float *src = b + (p0 + p) * brs + j0;
            for (size_t jp = 0; jp < full; jp++) {
                if (nr == 16) {
                    memcpy(dst + jp * kc * nr + p * nr, src + jp * nr, 16 * sizeof(float));
                } else {
                    memcpy(dst + jp * kc * nr + p * nr, src + jp * nr, 32 * sizeof(float));
                }
            }
            for (size_t jp = full; jp < np; jp++) {
                float *o = dst + jp * kc * nr + p * nr;
                size_t w = n - jp * nr < nr ? n - jp * nr : nr;
                memcpy(o, src + jp * nr, w * sizeof(float));
                for (size_t j = w; j < nr; j++) {
                    o[j] = 0.0f;
                }
            }
        }
        return;
    }
    for (size_t jp = 0; jp < np; jp++) {
        float *o = dst + jp * kc * nr;
        for (size_t j = 0; j < nr; j++) {
            if (jp * nr + j < n) {
                const float *src = b + (j0 + jp * nr + j) * bcs + p0 * brs;
                for (size_t p = 0; p < kc; p++) {
                    o[p * nr + j] = src[p * brs];
                }
            } else {
                for (size_t p = 0; p < kc; p++) {
                    o[p * nr + j] = 0.0f;
                }
            }
        }
    }
}

/* pack_b for a bf16 op(B): the same panels, each element widened to f32 (so the micro-kernels and
 * everything after packing are those of an f32 B holding the widened values). */
static void pack_b_bf16(float *dst, const uint16_t *b, uint64_t brs, uint64_t bcs, size_t p0, size_t kc, size_t j0,
                        size_t n, size_t nr) {
    size_t np = (n + nr - 1) / nr;
    for (size_t jp = 0; jp < np; jp++) {
        size_t w = n - jp * nr < nr ? n - jp * nr : nr;
        for (size_t p = 0; p < kc; p++) {
            float *o = dst + jp * kc * nr + p * nr;
            const uint16_t *src = b + (p0 + p) * brs + (j0 + jp * nr) * bcs;
            if (bcs == 1) {
                for (size_t j = 0; j < w; j++) {
                    o[j] = widen_bf16(src[j]);
                }
            } else {
                for (size_t j = 0; j < w; j++) {
                    o[j] = widen_bf16(src[j * bcs]);
                }
            }
            for (size_t j = w; j < nr; j++) {
                o[j] = 0.0f;
            }
        }
    }
}

/* Packs op(B) of the product's batch base offset `boff` with whichever of the two the dtype needs. */
static void pack_b_any(const cordon__cpu_kernels *k, float *dst, const cordon__view *bv, uint64_t boff, size_t p0,
                       size_t kc, size_t j0, size_t n) {
    if (cordon__view_bf16(bv)) {
        pack_b_bf16(dst, elem_ptr16(bv, boff), bv->strides[2], bv->strides[3], p0, kc, j0, n, k->nr);
    } else {
        pack_b(k, dst, elem_ptr(bv, boff), bv->strides[2], bv->strides[3], p0, kc, j0, n);
    }
}

/* Packs op(A)[i0 .. i0+m, p0 .. p0+kc) into ceil(m/mr) panels of kc × mr, zero past row m. */
static void pack_a(float *dst, const float *a, uint64_t ars, uint64_t acs, size_t p0, size_t kc, size_t i0, size_t m,
                   size_t mr) {
    size_t np = (m + mr - 1) / mr;
    for (size_t ip = 0; ip < np; ip++) {
        float *o = dst + ip * kc * mr;
        for (size_t i = 0; i < mr; i++) {
            if (ip * mr + i < m) {
                const float *src = a + (i0 + ip * mr + i) * ars + p0 * acs;
                if (acs == 1) {
                    for (size_t p = 0; p < kc; p++) {
                        o[p * mr + i] = src[p];
                    }
                } else {
                    for (size_t p = 0; p < kc; p++) {
                        o[p * mr + i] = src[p * acs];
                    }
                }
            } else {
                for (size_t p = 0; p < kc; p++) {
                    o[p * mr + i] = 0.0f;
                }
            }
        }
    }
}

typedef struct gemm_job {
    const cordon__matmul_desc *d;
    const cordon__cpu_kernels *k;
    float *scratch;
    size_t per_lane;
    const float *bpack; /* op(B) packed whole, shared by the lanes (one batch), or NULL */
    size_t npad;        /* its columns: n rounded up to nr */
    size_t mc;          /* rows of an M block (BLAS), or the most rows of any (built-in) */
    size_t nc;
    size_t mblocks, nblocks, items;
    size_t tiles_m; /* ceil(m / mr) */
    bool blas;
    bool whole_n;   /* items are M blocks, each against all of N (B packed whole: bpack) */
} gemm_job;

/* Rows [i0, i1) of M block mb: whole micro-tiles, the tiles dealt as evenly as possible, so that every
 * tile starts at a multiple of mr whatever the number of blocks (which tiles are partial depends on M
 * only, never on the thread count). */
static void mblock_rows(const gemm_job *job, size_t mb, size_t *i0, size_t *i1) {
    if (job->blas) {
        *i0 = mb * job->mc;
        *i1 = *i0 + job->mc < job->d->m ? *i0 + job->mc : (size_t)job->d->m;
        return;
    }
    size_t mr = job->k->mr, t = job->tiles_m, nb = job->mblocks;
    *i0 = mr * (mb * t / nb);
    size_t e = mr * ((mb + 1) * t / nb);
    *i1 = e < job->d->m ? e : (size_t)job->d->m;
}

/* One micro-tile: straight into C when it is whole and C's rows are contiguous, else through `tile`. */
static void micro_tile(const cordon__cpu_kernels *k, size_t kc, const float *ap, const float *bp, float *c, uint64_t crs,
                       uint64_t ccs, size_t mi, size_t nj, float alpha, float *tile) {
    size_t mr = k->mr, nr = k->nr;
    if (k->gemm_micro_c != NULL && ccs == 1 && mi == mr && nj == nr) {
        k->gemm_micro_c(kc, ap, bp, c, (size_t)crs, alpha);
        return;
    }
    if (k->gemm_micro_c != NULL) {
        memset(tile, 0, mr * nr * sizeof(float));
        k->gemm_micro_c(kc, ap, bp, tile, nr, 1.0f);
    } else {
        k->gemm_micro(kc, ap, bp, tile);
    }
    for (size_t i = 0; i < mi; i++) {
        for (size_t j = 0; j < nj; j++) {
            c[i * crs + j * ccs] += alpha * tile[i * nr + j];
        }
    }
}

/* One C block (rows [i0, i1), columns [j0, j0 + nc)) of one batch, with the whole K loop. Per lane
 * scratch: the packed A block, a tile, and (when B is not shared) the packed B block. */
static void gemm_block(const gemm_job *job, float *slot, uint64_t batch, size_t i0, size_t i1, size_t j0) {
    const cordon__matmul_desc *d = job->d;
    const cordon__cpu_kernels *k = job->k;
    size_t mr = k->mr, nr = k->nr;
    uint64_t b0 = batch / d->c.shape[1], b1 = batch % d->c.shape[1];
    const float *a = elem_ptr(&d->a, batch_offset(&d->a, b0, b1));
    uint64_t boff = batch_offset(&d->b, b0, b1);
    float *c = (float *)(void *)d->c.storage->data + batch_offset(&d->c, b0, b1);
    uint64_t ars = d->a.strides[2], acs = d->a.strides[3];
    uint64_t crs = d->c.strides[2], ccs = d->c.strides[3];
    size_t m = i1 - i0;
    size_t n = (size_t)d->n - j0 < job->nc ? (size_t)d->n - j0 : job->nc;
    float *cblk = c + i0 * crs + j0 * ccs;
    scale_block(cblk, crs, ccs, m, n, d->beta);
    if (d->alpha == 0.0f) {
        return;
    }
    float *ap = slot;
    float *tile = ap + job->mc * KC;
    float *own_b = tile + CORDON__GEMM_MR_MAX * CORDON__GEMM_NR_MAX;
    size_t mpanels = (m + mr - 1) / mr, npanels = (n + nr - 1) / nr;
    for (size_t p0 = 0; p0 < d->k; p0 += KC) {
        size_t kc = (size_t)d->k - p0 < KC ? (size_t)d->k - p0 : KC;
        const float *bp;
        if (job->bpack != NULL) {
            bp = job->bpack + p0 * job->npad + (j0 / nr) * kc * nr;
        } else {
            pack_b_any(job->k, own_b, &d->b, boff, p0, kc, j0, n);
            bp = own_b;
        }
        pack_a(ap, a, ars, acs, p0, kc, i0, m, mr);
        for (size_t ip = 0; ip < mpanels; ip++) {
            size_t mi = m - ip * mr < mr ? m - ip * mr : mr;
            for (size_t jp = 0; jp < npanels; jp++) {
                size_t nj = n - jp * nr < nr ? n - jp * nr : nr;
                micro_tile(k, kc, ap + ip * kc * mr, bp + jp * kc * nr, cblk + ip * mr * crs + jp * nr * ccs, crs, ccs,
                           mi, nj, d->alpha, tile);
            }
        }
    }
}

/* Rows [i0, i1) of batch 0 against every column, with op(B) packed whole (job->bpack): op(A) is packed
 * once per K slice and used for every NC block of columns, whose packed B (KC × NC) stays in L2 while
 * the A micro-panels stream over it. The same tiles, sums and order as gemm_block. */
static void gemm_rows_whole_n(const gemm_job *job, float *slot, size_t i0, size_t i1) {
    const cordon__matmul_desc *d = job->d;
    const cordon__cpu_kernels *k = job->k;
    size_t mr = k->mr, nr = k->nr;
    const float *a = elem_ptr(&d->a, batch_offset(&d->a, 0, 0));
    float *c = (float *)(void *)d->c.storage->data + batch_offset(&d->c, 0, 0);
    uint64_t ars = d->a.strides[2], acs = d->a.strides[3];
    uint64_t crs = d->c.strides[2], ccs = d->c.strides[3];
    size_t m = i1 - i0, ntot = (size_t)d->n;
    float *crows = c + i0 * crs;
    scale_block(crows, crs, ccs, m, ntot, d->beta);
    float *ap = slot;
    float *tile = ap + job->mc * KC;
    size_t mpanels = (m + mr - 1) / mr;
    for (size_t p0 = 0; p0 < d->k; p0 += KC) {
        size_t kc = (size_t)d->k - p0 < KC ? (size_t)d->k - p0 : KC;
        pack_a(ap, a, ars, acs, p0, kc, i0, m, mr);
        for (size_t j0 = 0; j0 < ntot; j0 += job->nc) {
            size_t n = ntot - j0 < job->nc ? ntot - j0 : job->nc;
            size_t npanels = (n + nr - 1) / nr;
            const float *bp = job->bpack + p0 * job->npad + (j0 / nr) * kc * nr;
            float *cblk = crows + j0 * ccs;
            for (size_t ip = 0; ip < mpanels; ip++) {
                size_t mi = m - ip * mr < mr ? m - ip * mr : mr;
                for (size_t jp = 0; jp < npanels; jp++) {
                    size_t nj = n - jp * nr < nr ? n - jp * nr : nr;
                    micro_tile(k, kc, ap + ip * kc * mr, bp + jp * kc * nr, cblk + ip * mr * crs + jp * nr * ccs, crs,
                               ccs, mi, nj, d->alpha, tile);
                }
            }
        }
    }
}

/* Packs the whole op(B) of batch 0 into job->bpack: K slice q at q·KC·npad, its panels as pack_b lays
 * them out. One item per K slice. */
static cordon_status pack_b_lane(void *ctx, size_t lane, size_t nlanes) {
    const gemm_job *job = ctx;
    const cordon__matmul_desc *d = job->d;
    uint64_t boff = batch_offset(&d->b, 0, 0);
    size_t slices = ((size_t)d->k + KC - 1) / KC;
    for (size_t q = lane; q < slices; q += nlanes) {
        size_t p0 = q * KC, kc = (size_t)d->k - p0 < KC ? (size_t)d->k - p0 : KC;
        pack_b_any(job->k, (float *)(uintptr_t)(job->bpack + p0 * job->npad), &d->b, boff, p0, kc, 0, (size_t)d->n);
    }
    return CORDON_OK;
}

/* The BLAS form of a C block: possible when each operand has a unit stride in one of its two matrix
 * dimensions and C's is along columns. */
static bool blas_layout(const cordon__view *v, bool *trans, uint64_t *ld) {
    *trans = false;
    *ld = 0;
    if (v->strides[3] == 1 || v->shape[3] == 1) {
        *trans = false;
        *ld = v->shape[2] == 1 ? v->shape[3] : v->strides[2];
        return *ld >= v->shape[3];
    }
    if (v->strides[2] == 1 || v->shape[2] == 1) {
        *trans = true;
        *ld = v->shape[3] == 1 ? v->shape[2] : v->strides[3];
        return *ld >= v->shape[2];
    }
    return false;
}

static cordon_status gemm_block_blas(const gemm_job *job, uint64_t batch, size_t i0, size_t j0) {
    const cordon__matmul_desc *d = job->d;
    uint64_t b0 = batch / d->c.shape[1], b1 = batch % d->c.shape[1];
    bool ta, tb, tc;
    uint64_t lda, ldb, ldc;
    (void)blas_layout(&d->a, &ta, &lda);
    (void)blas_layout(&d->b, &tb, &ldb);
    (void)blas_layout(&d->c, &tc, &ldc);
    size_t m = (size_t)d->m - i0 < job->mc ? (size_t)d->m - i0 : job->mc;
    size_t n = (size_t)d->n - j0 < job->nc ? (size_t)d->n - j0 : job->nc;
    const float *a = elem_ptr(&d->a, batch_offset(&d->a, b0, b1)) + i0 * d->a.strides[2];
    const float *b = elem_ptr(&d->b, batch_offset(&d->b, b0, b1)) + j0 * d->b.strides[3];
    float *c = (float *)(void *)d->c.storage->data + batch_offset(&d->c, b0, b1) + i0 * d->c.strides[2] +
               j0 * d->c.strides[3];
    if (d->beta == 0.0f) {
        /* C is never read when beta is 0, whatever the BLAS library does with it. */
        scale_block(c, d->c.strides[2], d->c.strides[3], m, n, 0.0f);
    }
    if (m == 1 && !tc) {
        /* y(1 × n) = alpha·x·op(B) + beta·y: gemv on op(B)ᵀ. */
        const float *x = a;
        return tb ? cordon__sys_blas_sgemv(false, n, (size_t)d->k, d->alpha, b, (size_t)ldb, x, d->beta, c)
                  : cordon__sys_blas_sgemv(true, (size_t)d->k, n, d->alpha, b, (size_t)ldb, x, d->beta, c);
    }
    return cordon__sys_blas_sgemm(ta, tb, m, n, (size_t)d->k, d->alpha, a, (size_t)lda, b, (size_t)ldb, d->beta, c,
                                  (size_t)ldc);
}

static cordon_status gemm_lane(void *ctx, size_t lane, size_t nlanes) {
    const gemm_job *job = ctx;
    float *slot = job->scratch + lane * job->per_lane;
    if (job->whole_n) {
        for (size_t mb = lane; mb < job->items; mb += nlanes) {
            size_t i0, i1;
            mblock_rows(job, mb, &i0, &i1);
            if (i0 < i1) {
                gemm_rows_whole_n(job, slot, i0, i1);
            }
        }
        return CORDON_OK;
    }
    size_t per_batch = job->mblocks * job->nblocks;
    for (size_t item = lane; item < job->items; item += nlanes) {
        uint64_t batch = item / per_batch;
        size_t rest = item % per_batch;
        size_t i0, i1;
        mblock_rows(job, rest / job->nblocks, &i0, &i1);
        size_t j0 = (rest % job->nblocks) * job->nc;
        if (job->blas) {
            cordon_status st = gemm_block_blas(job, batch, i0, j0);
            if (st != CORDON_OK) {
                return st;
            }
        } else if (i0 < i1) {
            gemm_block(job, slot, batch, i0, i1, j0);
        }
    }
    return CORDON_OK;
}

/* Few rows (M <= SKINNY_M, or SKINNY_ROWS_M where the level has gemm_rows kernels) times a B with
 * contiguous rows, into C with contiguous rows: no packing, B streamed once. C is cut into column blocks
 * (the items); within a block, for each slice of KB rows of B (kept in L2 while every row of A uses
 * it), C row i += (alpha·A[i,p])·B[p, ·] for p in order, so every element sums over p in order whatever
 * the blocking. With gemm_rows (several rows), the same terms in the same order come from register
 * tiles that load each element of B once for all the rows, so B is read once from memory. */
#define SKINNY_M 8u
#define SKINNY_ROWS_M (2u * CORDON__GEMM_ROWS_MR)
#define SKINNY_KB 256u
/* Few rows against Wᵀ take the dot products from this K on (below it the small-N and packed paths do
 * better: a dot product's reduction costs more than its short run). */
#define SKINNY_DOTS_K_MIN 64u
typedef struct skinny_job {
    const cordon__matmul_desc *d;
    const cordon__cpu_kernels *k;
    size_t width; /* columns per item */
    size_t nblocks, items;
    bool rows_kernel; /* several rows through the level's gemm_rows kernels */
} skinny_job;

static cordon_status skinny_lane(void *ctx, size_t lane, size_t nlanes) {
    const skinny_job *job = ctx;
    const cordon__matmul_desc *d = job->d;
    for (size_t item = lane; item < job->items; item += nlanes) {
        uint64_t batch = item / job->nblocks;
        size_t j0 = (item % job->nblocks) * job->width;
        size_t n = (size_t)d->n - j0 < job->width ? (size_t)d->n - j0 : job->width;
        uint64_t b0 = batch / d->c.shape[1], b1 = batch % d->c.shape[1];
        const float *a = elem_ptr(&d->a, batch_offset(&d->a, b0, b1));
        uint64_t boff = batch_offset(&d->b, b0, b1) + j0;
        bool b16 = cordon__view_bf16(&d->b);
        float *c = (float *)(void *)d->c.storage->data + batch_offset(&d->c, b0, b1) + j0;
        uint64_t ars = d->a.strides[2], acs = d->a.strides[3], brs = d->b.strides[2], crs = d->c.strides[2];
        scale_block(c, crs, 1, (size_t)d->m, n, d->beta);
        if (d->alpha == 0.0f) {
            continue;
        }
        if (job->rows_kernel) {
            /* Several rows: each slice of CORDON__GEMM_ROWS_KC rows of B is read once from memory and
             * used for every row (the second group of 8 rows, if any, finds it in cache). */
            for (size_t p0 = 0; p0 < d->k; p0 += CORDON__GEMM_ROWS_KC) {
                size_t kc = (size_t)d->k - p0 < CORDON__GEMM_ROWS_KC ? (size_t)d->k - p0 : CORDON__GEMM_ROWS_KC;
                for (size_t i0 = 0; i0 < d->m; i0 += CORDON__GEMM_ROWS_MR) {
                    size_t mi = (size_t)d->m - i0 < CORDON__GEMM_ROWS_MR ? (size_t)d->m - i0 : CORDON__GEMM_ROWS_MR;
                    const float *ap = a + i0 * ars + p0 * acs;
                    if (b16) {
                        job->k->gemm_rows_bf16(c + i0 * crs, (size_t)crs, ap, (size_t)ars, (size_t)acs,
                                               elem_ptr16(&d->b, boff + p0 * brs), (size_t)brs, mi, kc, n, d->alpha);
                    } else {
                        job->k->gemm_rows(c + i0 * crs, (size_t)crs, ap, (size_t)ars, (size_t)acs,
                                          elem_ptr(&d->b, boff + p0 * brs), (size_t)brs, mi, kc, n, d->alpha);
                    }
                }
            }
            continue;
        }
        size_t kb = d->m == 1 ? (size_t)d->k : SKINNY_KB;
        for (size_t p0 = 0; p0 < d->k; p0 += kb) {
            size_t p1 = (size_t)d->k - p0 < kb ? (size_t)d->k : p0 + kb;
            for (size_t i = 0; i < d->m; i++) {
                const float *ai = a + i * ars;
                float *ci = c + i * crs;
                if (b16) {
                    /* Four rows of B per pass over c's row: the same updates in the same order. */
                    size_t p = p0;
                    for (; p + 4 <= p1; p += 4) {
                        float s4[4] = {d->alpha * ai[p * acs], d->alpha * ai[(p + 1) * acs],
                                       d->alpha * ai[(p + 2) * acs], d->alpha * ai[(p + 3) * acs]};
                        job->k->axpy4_bf16(ci, s4, elem_ptr16(&d->b, boff + p * brs), (size_t)brs, n);
                    }
                    for (; p < p1; p++) {
                        job->k->axpy_bf16(ci, d->alpha * ai[p * acs], elem_ptr16(&d->b, boff + p * brs), n);
                    }
                } else {
                    /* The same: four rows of B per pass, read side by side. */
                    size_t p = p0;
                    for (; p + 4 <= p1; p += 4) {
                        float s4[4] = {d->alpha * ai[p * acs], d->alpha * ai[(p + 1) * acs],
                                       d->alpha * ai[(p + 2) * acs], d->alpha * ai[(p + 3) * acs]};
                        job->k->axpy4(ci, s4, elem_ptr(&d->b, boff + p * brs), (size_t)brs, n);
                    }
                    for (; p < p1; p++) {
                        job->k->axpy(ci, d->alpha * ai[p * acs], elem_ptr(&d->b, boff + p * brs), n);
                    }
                }
            }
        }
    }
    return CORDON_OK;
}

/* Y(M × N) = alpha·X·B + beta·Y for few rows (M <= SKINNY_ROWS_M) with B's columns contiguous (B = Wᵀ
 * of a row-major W): one dot product per output, over K in the dot kernel's fixed order. The rows of X
 * go through each group of W rows in turn, so each W row is read once from memory (then from L1) for
 * all of them. */
static cordon_status dots_lane(void *ctx, size_t lane, size_t nlanes) {
    const skinny_job *job = ctx;
    const cordon__matmul_desc *d = job->d;
    for (size_t item = lane; item < job->items; item += nlanes) {
        uint64_t batch = item / job->nblocks;
        size_t j0 = (item % job->nblocks) * job->width;
        size_t n = (size_t)d->n - j0 < job->width ? (size_t)d->n - j0 : job->width;
        uint64_t b0 = batch / d->c.shape[1], b1 = batch % d->c.shape[1];
        const float *x = elem_ptr(&d->a, batch_offset(&d->a, b0, b1));
        uint64_t boff = batch_offset(&d->b, b0, b1);
        bool b16 = cordon__view_bf16(&d->b);
        float *y = (float *)(void *)d->c.storage->data + batch_offset(&d->c, b0, b1);
        uint64_t bcs = d->b.strides[3], ycs = d->c.strides[3], xrs = d->a.strides[2], yrs = d->c.strides[2];
        for (size_t j = j0; j < j0 + n;) {
            /* bf16: four outputs per call (shared loads of x), each dot as the single call computes it. */
            size_t group = b16 && d->alpha != 0.0f && j + 4 <= j0 + n ? 4 : 1;
            for (size_t i = 0; i < d->m; i++) {
                const float *xi = x + i * xrs;
                float dp[4] = {0};
                if (group == 4) {
                    job->k->dot4_bf16(xi, elem_ptr16(&d->b, boff + j * bcs), (size_t)bcs, (size_t)d->k, dp);
                } else if (d->alpha != 0.0f) {
                    dp[0] = b16 ? job->k->dot_bf16(xi, elem_ptr16(&d->b, boff + j * bcs), (size_t)d->k)
                                : job->k->dot(xi, elem_ptr(&d->b, boff + j * bcs), (size_t)d->k);
                }
                for (size_t g = 0; g < group; g++) {
                    float *e = y + i * yrs + (j + g) * ycs;
                    *e = d->beta == 0.0f ? 0.0f : (d->beta == 1.0f ? *e : d->beta * *e);
                    if (d->alpha != 0.0f) {
                        *e += d->alpha * dp[g];
                    }
                }
            }
            j += group;
        }
    }
    return CORDON_OK;
}

/* Small products (kernels.h gemm_small_k, gemm_small_n): a rank-k update with k <= 16, or at most 16
 * columns of C, are computed without packing A or padding micro-tiles (a LoRA adapter's x·A and
 * (x·A)·B). Only for a B shared by every batch, which is read in place when its layout allows, else
 * copied once into scratch (transposed for small N; widened when it is bf16, so a bf16 product is the
 * f32 product of the widened weights bit for bit, whatever the path). Items: blocks of SMALL_ROWS rows
 * of C of each batch; every element is computed by one item, so the lanes never change a result. */
#define SMALL_ROWS 8u
typedef struct small_job {
    const cordon__matmul_desc *d;
    const cordon__cpu_kernels *k;
    const float *b;   /* small K: op(B) with unit column stride; small N: op(B) transposed */
    size_t brs;       /* its row stride */
    size_t mblocks, items;
    bool small_k;
} small_job;

static cordon_status small_lane(void *ctx, size_t lane, size_t nlanes) {
    const small_job *job = ctx;
    const cordon__matmul_desc *d = job->d;
    uint64_t item0, item1;
    lane_range(job->items, lane, nlanes, &item0, &item1);
    for (size_t item = (size_t)item0; item < item1; item++) {
        uint64_t batch = item / job->mblocks;
        size_t i0 = (item % job->mblocks) * SMALL_ROWS;
        size_t m = (size_t)d->m - i0 < SMALL_ROWS ? (size_t)d->m - i0 : SMALL_ROWS;
        uint64_t b0 = batch / d->c.shape[1], b1 = batch % d->c.shape[1];
        const float *a = elem_ptr(&d->a, batch_offset(&d->a, b0, b1)) + i0 * d->a.strides[2];
        float *c = (float *)(void *)d->c.storage->data + batch_offset(&d->c, b0, b1) + i0 * d->c.strides[2];
        if (job->small_k) {
            job->k->gemm_small_k(c, (size_t)d->c.strides[2], a, (size_t)d->a.strides[2], (size_t)d->a.strides[3],
                                 job->b, job->brs, m, (size_t)d->k, (size_t)d->n, d->alpha, d->beta);
        } else {
            job->k->gemm_small_n(c, (size_t)d->c.strides[2], (size_t)d->c.strides[3], a, (size_t)d->a.strides[2],
                                 job->b, job->brs, m, (size_t)d->k, (size_t)d->n, d->alpha, d->beta);
        }
    }
    return CORDON_OK;
}

/* op(B)[p, j] as f32 (widened when B is bf16). */
static float b_elem(const cordon__view *b, uint64_t base, size_t p, size_t j) {
    uint64_t off = base + p * b->strides[2] + j * b->strides[3];
    return cordon__view_bf16(b) ? widen_bf16(*elem_ptr16(b, off)) : *elem_ptr(b, off);
}

/* Runs a small product when the shape and layout allow one; *done says whether it did. */
static cordon_status small_matmul(cordon__device *dev, const cordon__matmul_desc *d, bool *done) {
    *done = false;
    bool b16 = cordon__view_bf16(&d->b);
    bool shared_b = d->b.shape[0] == 1 && d->b.shape[1] == 1;
    if ((dev->matmul == CORDON_MATMUL_BLAS && !b16) || !shared_b || d->alpha == 0.0f || d->m == 0 || d->n == 0 ||
        d->k == 0) {
        return CORDON_OK;
    }
    small_job job = {d, dev->kernels, NULL, 0, 0, 0, false};
    bool in_place;
    if (d->k <= CORDON__GEMM_SMALL_K && d->c.strides[3] == 1) {
        job.small_k = true;
        in_place = !b16 && d->b.strides[3] == 1;
    } else if (d->n <= CORDON__GEMM_SMALL_N && d->a.strides[3] == 1) {
        in_place = !b16 && d->b.strides[2] == 1;
    } else {
        return CORDON_OK;
    }
    uint64_t batches = d->c.shape[0] * d->c.shape[1];
    job.mblocks = (size_t)((d->m + SMALL_ROWS - 1) / SMALL_ROWS);
    job.items = (size_t)batches * job.mblocks;
    uint64_t base = batch_offset(&d->b, 0, 0);
    cordon__block *copy = NULL;
    if (in_place) {
        job.b = elem_ptr(&d->b, base);
        job.brs = (size_t)(job.small_k ? d->b.strides[2] : d->b.strides[3]);
    } else {
        cordon_status st = cordon__scratch_get(dev, d->n * d->k * sizeof(float), &copy);
        if (st != CORDON_OK) {
            return st;
        }
        float *t = (float *)(void *)copy->data;
        size_t kk = (size_t)d->k, nn = (size_t)d->n;
        /* Element (p, j) goes to t[p·ps + j·js]. */
        size_t ps = job.small_k ? nn : 1, js = job.small_k ? 1 : kk;
        size_t brs = (size_t)d->b.strides[2], bcs = (size_t)d->b.strides[3];
        if (b16) {
            for (size_t p = 0; p < kk; p++) {
                for (size_t j = 0; j < nn; j++) {
                    t[p * ps + j * js] = b_elem(&d->b, base, p, j);
                }
            }
        } else {
            const float *b = elem_ptr(&d->b, base);
            for (size_t j = 0; j < nn; j++) {
                for (size_t p = 0; p < kk; p++) {
                    t[p * ps + j * js] = b[p * brs + j * bcs];
                }
            }
        }
        job.b = t;
        job.brs = job.small_k ? nn : kk;
    }
    *done = true;
    cordon_status st = run_lanes(dev, lanes_for(dev, job.items, batches * d->m * d->n * d->k, PS_GEMM), small_lane, &job);
    cordon__scratch_put(dev, copy);
    return st;
}

/* The fused LoRA adapter (kernels.h lora_rows): items are blocks of CORDON__LORA_ROWS rows of x; each
 * row's result comes from one kernel call, whatever the lanes. */
typedef struct lora_job {
    const cordon__lora_desc *d;
    const cordon__cpu_kernels *k;
    uint64_t xrs, yrs, rows;
    size_t items;
} lora_job;

static cordon_status lora_lane(void *ctx, size_t lane, size_t nlanes) {
    const lora_job *job = ctx;
    const cordon__lora_desc *d = job->d;
    const float *x = elem_ptr(&d->x, d->x.offset), *a = elem_ptr(&d->a, d->a.offset), *b = elem_ptr(&d->b, d->b.offset);
    float *y = (float *)(void *)d->y.storage->data + d->y.offset;
    uint64_t i0, i1;
    lane_range(job->items, lane, nlanes, &i0, &i1);
    for (uint64_t item = i0; item < i1; item++) {
        uint64_t r0 = item * CORDON__LORA_ROWS;
        size_t m = job->rows - r0 < CORDON__LORA_ROWS ? (size_t)(job->rows - r0) : CORDON__LORA_ROWS;
        job->k->lora_rows(y + r0 * job->yrs, (size_t)job->yrs, x + r0 * job->xrs, (size_t)job->xrs, a,
                          (size_t)d->a.strides[2], b, (size_t)d->b.strides[2], m, (size_t)d->x.shape[3],
                          (size_t)d->a.shape[3], (size_t)d->y.shape[3], d->s, d->beta);
    }
    return CORDON_OK;
}

/* Rows of x and y as one matrix each with unit column strides (their row strides out); A and B rows
 * contiguous; r small enough for the kernel. */
static bool lora_layout(const cordon__lora_desc *d, uint64_t *xrs, uint64_t *yrs) {
    uint64_t s0 = d->x.shape[0], s1 = d->x.shape[1], m = d->x.shape[2];
    return d->a.shape[3] <= CORDON__LORA_R_MAX && d->a.shape[3] != 0 && d->x.shape[3] != 0 && rows_of(&d->x) != 0 &&
           d->x.strides[3] == 1 && d->y.strides[3] == 1 && d->a.strides[3] == 1 && d->b.strides[3] == 1 &&
           rows_fold(&d->x, s0, s1, m, xrs) && rows_fold(&d->y, s0, s1, m, yrs);
}

bool cordon__cpu_lora_fuses(const cordon__device *dev, const cordon__lora_desc *d) {
    (void)dev;
    uint64_t xrs, yrs;
    return lora_layout(d, &xrs, &yrs);
}

cordon_status cordon__cpu_lora_adapter(cordon__device *dev, const cordon__lora_desc *d) {
    lora_job job = {d, dev->kernels, 0, 0, rows_of(&d->x), 0};
    if (!lora_layout(d, &job.xrs, &job.yrs)) {
        return CORDON_UNSUPPORTED; /* unreachable: the caller asked lora_fuses */
    }
    job.items = (size_t)((job.rows + CORDON__LORA_ROWS - 1) / CORDON__LORA_ROWS);
    uint64_t work = job.rows * d->a.shape[3] * (d->x.shape[3] + d->y.shape[3]);
    return run_lanes(dev, lanes_for(dev, job.items, work, PS_GEMM), lora_lane, &job);
}

cordon_status cordon__cpu_matmul(cordon__device *dev, const cordon__matmul_desc *desc) {
    const cordon__cpu_kernels *k = dev->kernels;
    cordon__matmul_desc folded;
    fold_batches(desc, &folded);
    const cordon__matmul_desc *d = &folded;
    uint64_t batches = d->c.shape[0] * d->c.shape[1];
    uint64_t work = batches * d->m * d->n * d->k;
    /* BLAS has no product on bf16: a BF16 B always runs on the built-in kernels. */
    bool b16 = cordon__view_bf16(&d->b);
    bool builtin = dev->matmul != CORDON_MATMUL_BLAS || b16;
    bool rows_kernel = d->m >= 2 && d->m <= SKINNY_ROWS_M && (b16 ? k->gemm_rows_bf16 != NULL : k->gemm_rows != NULL);
    if (builtin && (d->m <= SKINNY_M || rows_kernel) && d->b.strides[3] == 1 && d->c.strides[3] == 1) {
        skinny_job job = {d, k, 256, 0, 0, rows_kernel};
        if (d->m == 1 || rows_kernel) {
            /* Decode: long contiguous stretches of B's rows, 64-column multiples: two blocks per thread
             * for f32 and one for bf16, the same bytes per stretch (what the prefetchers see; 4096
             * columns on 2 threads: 4 KiB, where 2 KiB stretches left the bf16 decode at 1.64x the f32
             * one instead of 1.8-2.1x). */
            size_t want = (size_t)dev->threads * (cordon__view_bf16(&d->b) ? 1u : 2u);
            size_t w = (((size_t)d->n + want - 1) / want + 63) / 64 * 64;
            job.width = w > 256 ? w : 256;
        }
        job.nblocks = ((size_t)d->n + job.width - 1) / job.width;
        job.items = (size_t)batches * job.nblocks;
        return run_lanes(dev, lanes_for(dev, job.items, work, PS_GEMM), skinny_lane, &job);
    }
    if (builtin && d->m <= SKINNY_ROWS_M && d->b.strides[2] == 1 && d->a.strides[3] == 1 && d->k > 1 &&
        (d->m == 1 || d->k >= SKINNY_DOTS_K_MIN)) {
        skinny_job job = {d, k, 64, 0, 0, false};
        job.nblocks = ((size_t)d->n + job.width - 1) / job.width;
        job.items = (size_t)batches * job.nblocks;
        return run_lanes(dev, lanes_for(dev, job.items, work, PS_GEMM), dots_lane, &job);
    }
    bool small = false;
    cordon_status small_st = small_matmul(dev, d, &small);
    if (small || small_st != CORDON_OK) {
        return small_st;
    }
    gemm_job job = {0};
    job.d = d;
    job.k = k;
    bool ta, tb, tc;
    uint64_t lda = 0, ldb = 0, ldc = 0;
    /* BLAS when every operand has a BLAS layout, every size fits its int arguments, and a single-row
     * product (gemv) has a unit-stride vector: decided before any block runs. */
    job.blas = !b16 && dev->matmul == CORDON_MATMUL_BLAS && d->alpha != 0.0f && blas_layout(&d->a, &ta, &lda) &&
               blas_layout(&d->b, &tb, &ldb) && blas_layout(&d->c, &tc, &ldc) && !tc && d->m <= INT32_MAX &&
               d->n <= INT32_MAX && d->k <= INT32_MAX && lda <= INT32_MAX && ldb <= INT32_MAX && ldc <= INT32_MAX &&
               !(d->m == 1 && d->a.strides[3] != 1 && d->k > 1);
    size_t threads_lanes = (size_t)dev->threads * 4u;
    if (job.blas) {
        /* BLAS blocks itself: split only to give each lane a panel of columns (at least 64 wide). */
        job.mc = (size_t)d->m;
        size_t want = dev->threads > 1 ? (size_t)dev->threads * 2u : 1u;
        size_t nc = ((size_t)d->n + want - 1) / want;
        job.nc = nc < 64 ? 64 : nc;
        job.mblocks = 1;
        /* Kept at 1 for every product (docs/compute.md, "BLAS"): the host may have raised it. */
        cordon__sys_blas_set_single_threaded();
    } else {
        /* NC columns: a packed B block of KC × NC (512 KiB) stays in L2 while every A panel of the M
         * block streams over it. M blocks: at most MC_MAX rows, and enough blocks to give every lane
         * work; tiles dealt evenly (mblock_rows). */
        job.nc = (size_t)k->nr * (NC_PANELS_MAX / k->nr);
        job.tiles_m = ((size_t)d->m + k->mr - 1) / k->mr;
        size_t nb = ((size_t)d->n + job.nc - 1) / job.nc;
        size_t mb = ((size_t)d->m + MC_MAX - 1) / MC_MAX;
        if (dev->threads > 1 && mb * nb < threads_lanes) {
            mb = (threads_lanes + nb - 1) / nb;
        }
        mb = mb < job.tiles_m ? mb : job.tiles_m;
        job.mblocks = mb > 0 ? mb : 1;
        job.mc = k->mr * ((job.tiles_m + job.mblocks - 1) / job.mblocks);
    }
    job.nblocks = ((size_t)d->n + job.nc - 1) / job.nc;
    job.items = (size_t)batches * job.mblocks * job.nblocks;
    size_t nlanes = lanes_for(dev, job.items, work, PS_GEMM);
    cordon__block *bscratch = NULL;
    cordon_status st = CORDON_OK;
    if (!job.blas && batches == 1 && job.mblocks > 1 && d->alpha != 0.0f) {
        /* Pack B once for every lane (falls back to per-block packing when the scratch is refused). */
        job.npad = ((size_t)d->n + k->nr - 1) / k->nr * k->nr;
        uint64_t bytes = (uint64_t)job.npad * d->k * sizeof(float);
        if (bytes <= SHARED_B_MAX && cordon__scratch_get(dev, bytes, &bscratch) == CORDON_OK) {
            job.bpack = (const float *)(const void *)bscratch->data;
            size_t slices = ((size_t)d->k + KC - 1) / KC;
            st = run_lanes(dev, lanes_for(dev, slices, d->k * d->n, PS_COPY), pack_b_lane, &job);
            /* Items become whole M blocks (A packed once per K slice for all of N): at least as many as
             * lanes when there are threads to feed. */
            job.whole_n = true;
            size_t mb = job.mblocks;
            if (dev->threads > 1 && mb < threads_lanes) {
                mb = threads_lanes < job.tiles_m ? threads_lanes : job.tiles_m;
            }
            job.mblocks = mb;
            job.mc = k->mr * ((job.tiles_m + job.mblocks - 1) / job.mblocks);
            job.items = job.mblocks;
            nlanes = lanes_for(dev, job.items, work, PS_GEMM);
        }
    }
    job.per_lane = job.blas ? 0
                            : job.mc * KC + CORDON__GEMM_MR_MAX * CORDON__GEMM_NR_MAX + (job.bpack != NULL ? 0 : KC * job.nc);
    cordon__block *scratch = NULL;
    if (st == CORDON_OK) {
        st = lane_scratch(dev, nlanes, job.per_lane, &scratch, &job.scratch);
    }
    if (st == CORDON_OK) {
        st = run_lanes(dev, nlanes, gemm_lane, &job);
        cordon__scratch_put(dev, scratch);
    }
    cordon__scratch_put(dev, bscratch);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Row-wise operations: softmax, norms, elementwise, copy */

typedef struct rows_job {
    const void *d;
    const cordon__cpu_kernels *k;
    float *scratch;
    size_t per_lane;
    uint64_t rows;
    size_t n; /* row length */
} rows_job;

/* Gather buffer k of a lane (n floats), or NULL when every operand is read and written in place
 * (rows_direct): the row helpers then never use it. */
static float *row_buf(const rows_job *job, size_t lane, size_t k) {
    return job->scratch != NULL ? job->scratch + lane * job->per_lane + k * job->n : NULL;
}

/* Can every row of these views be read or written where it lies (unit last stride, not broadcast along
 * the row)? Then a call needs no scratch at all. Absent views count as direct. */
static bool rows_direct(const cordon__view *const *vs, size_t count, size_t n) {
    for (size_t i = 0; i < count; i++) {
        const cordon__view *v = vs[i];
        if (v->present && n > 1 && (v->strides[3] != 1 || v->shape[3] == 1)) {
            return false;
        }
    }
    return true;
}

static cordon_status softmax_lane(void *ctx, size_t lane, size_t nlanes) {
    const rows_job *job = ctx;
    const cordon__softmax_desc *d = job->d;
    size_t n = job->n;
    float *xb = row_buf(job, lane, 0), *mb = row_buf(job, lane, 1), *yb = row_buf(job, lane, 2);
    uint64_t R = d->x.shape[2];
    uint64_t r0, r1;
    lane_range(job->rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *x = read_row(&d->x, d->x.shape, r, n, xb);
        const float *mask = d->mask.present ? read_row(&d->mask, d->x.shape, r, n, mb) : NULL;
        size_t valid = n;
        if (d->causal) {
            uint64_t i = r % R;
            /* j <= i + (n - R): valid = i + n - R + 1, or 0 when that is not positive. */
            valid = i + n + 1 > R ? (size_t)(i + n + 1 - R) : 0;
            valid = valid > n ? n : valid;
        }
        float *y = out_row(&d->y, r, n, yb);
        const float *next = r + 1 < r1 ? row_hint(&d->x, d->x.shape, r + 1, n) : NULL;
        job->k->softmax_row(y, x, mask, n, valid, d->scale, next);
        write_back(&d->y, r, n, y);
    }
    return CORDON_OK;
}

/* Runs a row operation; `direct`: no operand needs gathering (rows_direct), so no scratch is taken. */
static cordon_status run_rows(cordon__device *dev, rows_job *job, size_t per_lane, lane_fn fn, uint64_t work_per_row,
                              bool direct) {
    size_t nlanes = lanes_for(dev, (size_t)job->rows, job->rows, work_per_row);
    if (direct) {
        job->scratch = NULL;
        job->per_lane = 0;
        return run_lanes(dev, nlanes, fn, job);
    }
    job->per_lane = per_lane;
    cordon__block *scratch = NULL;
    cordon_status st = lane_scratch(dev, nlanes, per_lane, &scratch, &job->scratch);
    if (st != CORDON_OK) {
        return st;
    }
    st = run_lanes(dev, nlanes, fn, job);
    cordon__scratch_put(dev, scratch);
    return st;
}

cordon_status cordon__cpu_softmax(cordon__device *dev, const cordon__softmax_desc *d) {
    rows_job job = {d, dev->kernels, NULL, 0, rows_of(&d->x), (size_t)d->x.shape[3]};
    const cordon__view *vs[3] = {&d->x, &d->mask, &d->y};
    return run_rows(dev, &job, 3 * job.n, softmax_lane, PS_EXP * job.n, rows_direct(vs, 3, job.n));
}

static cordon_status softmax_bwd_lane(void *ctx, size_t lane, size_t nlanes) {
    const rows_job *job = ctx;
    const cordon__softmax_bwd_desc *d = job->d;
    size_t n = job->n;
    float *yb = row_buf(job, lane, 0), *gb = row_buf(job, lane, 1), *ob = row_buf(job, lane, 2);
    uint64_t r0, r1;
    lane_range(job->rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *y = read_row(&d->y, d->y.shape, r, n, yb);
        const float *dy = read_row(&d->dy, d->y.shape, r, n, gb);
        float *dx = out_row(&d->dx, r, n, ob);
        job->k->softmax_bwd_row(dx, y, dy, n, d->scale);
        write_back(&d->dx, r, n, dx);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_softmax_backward(cordon__device *dev, const cordon__softmax_bwd_desc *d) {
    rows_job job = {d, dev->kernels, NULL, 0, rows_of(&d->y), (size_t)d->y.shape[3]};
    const cordon__view *vs[3] = {&d->y, &d->dy, &d->dx};
    return run_rows(dev, &job, 3 * job.n, softmax_bwd_lane, 3 * PS_ROW_PASS * job.n, rows_direct(vs, 3, job.n));
}

/* A 1-D parameter (weight, gamma, beta) as a contiguous array: itself, or gathered into buf. */
static const float *param_row(const cordon__view *v, size_t n, float *buf) {
    if (!v->present) {
        return NULL;
    }
    uint64_t shape[4] = {1, 1, 1, n};
    return read_row(v, shape, 0, n, buf);
}

static cordon_status norm_lane(void *ctx, size_t lane, size_t nlanes) {
    const rows_job *job = ctx;
    const cordon__norm_desc *d = job->d;
    size_t n = job->n;
    float *xb = row_buf(job, lane, 0), *yb = row_buf(job, lane, 1), *wb = row_buf(job, lane, 2), *bb = row_buf(job, lane, 3);
    const float *w = param_row(&d->weight, n, wb);
    const float *b = param_row(&d->bias, n, bb);
    uint64_t r0, r1;
    lane_range(job->rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *x = read_row(&d->x, d->x.shape, r, n, xb);
        float *y = out_row(&d->y, r, n, yb);
        if (d->layer) {
            const float *next = r + 1 < r1 ? row_hint(&d->x, d->x.shape, r + 1, n) : NULL;
            job->k->layer_norm_row(y, x, w, b, n, d->eps, next);
        } else {
            job->k->rms_norm_row(y, x, w, n, d->eps);
        }
        write_back(&d->y, r, n, y);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_norm(cordon__device *dev, const cordon__norm_desc *d) {
    rows_job job = {d, dev->kernels, NULL, 0, rows_of(&d->x), (size_t)d->x.shape[3]};
    const cordon__view *vs[4] = {&d->x, &d->y, &d->weight, &d->bias};
    return run_rows(dev, &job, 4 * job.n, norm_lane, 3 * PS_ROW_PASS * job.n, rows_direct(vs, 4, job.n));
}

/* Norm backward: rows in fixed blocks; each block sums its weight/bias gradient into its own partial
 * row; the partials are added in block order afterwards. The rows per block depend on the row count
 * only, never on the threads (so the sums do not either): at most NORM_BLOCK_ROWS_MAX, and at least
 * NORM_BLOCKS_MIN blocks once there are enough rows, so that the lanes share small calls too. Without
 * parameter gradients every row is a block of its own and there are no partials. */
typedef struct norm_bwd_job {
    rows_job base;
    float *partials; /* nblocks × 2n: dweight then dbias partial sums, or NULL */
    size_t nblocks;
    uint64_t block_rows;
} norm_bwd_job;

static uint64_t norm_block_rows(uint64_t rows, bool params) {
    if (!params) {
        return 1;
    }
    uint64_t b = (rows + NORM_BLOCKS_MIN - 1) / NORM_BLOCKS_MIN;
    return b < NORM_BLOCK_ROWS_MIN ? NORM_BLOCK_ROWS_MIN : (b > NORM_BLOCK_ROWS_MAX ? NORM_BLOCK_ROWS_MAX : b);
}

static cordon_status norm_bwd_lane(void *ctx, size_t lane, size_t nlanes) {
    const norm_bwd_job *job = ctx;
    const cordon__norm_bwd_desc *d = job->base.d;
    size_t n = job->base.n;
    float *xb = row_buf(&job->base, lane, 0), *gb = row_buf(&job->base, lane, 1), *ob = row_buf(&job->base, lane, 2),
          *wb = row_buf(&job->base, lane, 3);
    const float *w = param_row(&d->weight, n, wb);
    uint64_t blk0, blk1;
    lane_range(job->nblocks, lane, nlanes, &blk0, &blk1);
    for (size_t blk = (size_t)blk0; blk < blk1; blk++) {
        float *pw = NULL, *pb = NULL;
        if (job->partials != NULL) {
            pw = job->partials + blk * 2 * n;
            memset(pw, 0, (d->dbias.present ? 2 * n : n) * sizeof(float));
            pb = d->dbias.present ? pw + n : NULL;
            pw = d->dweight.present ? pw : NULL;
        }
        uint64_t r0 = (uint64_t)blk * job->block_rows;
        uint64_t r1 = r0 + job->block_rows < job->base.rows ? r0 + job->block_rows : job->base.rows;
        if (job->base.scratch == NULL) {
            /* Every row in place: groups of rows per call (the same results as row by row). */
            for (uint64_t r = r0; r < r1; r += CORDON__NORM_BWD_ROWS) {
                size_t g = r1 - r < CORDON__NORM_BWD_ROWS ? (size_t)(r1 - r) : CORDON__NORM_BWD_ROWS;
                float *dxs[CORDON__NORM_BWD_ROWS];
                const float *dys[CORDON__NORM_BWD_ROWS], *xs[CORDON__NORM_BWD_ROWS];
                for (size_t q = 0; q < g; q++) {
                    xs[q] = read_row(&d->x, d->x.shape, r + q, n, NULL);
                    dys[q] = read_row(&d->dy, d->x.shape, r + q, n, NULL);
                    dxs[q] = out_row(&d->dx, r + q, n, NULL);
                }
                if (d->layer) {
                    job->base.k->layer_norm_bwd_rows(dxs, pw, pb, dys, xs, w, g, n, d->eps);
                } else {
                    job->base.k->rms_norm_bwd_rows(dxs, pw, dys, xs, w, g, n, d->eps);
                }
            }
            continue;
        }
        for (uint64_t r = r0; r < r1; r++) {
            const float *x = read_row(&d->x, d->x.shape, r, n, xb);
            const float *dy = read_row(&d->dy, d->x.shape, r, n, gb);
            float *dx = out_row(&d->dx, r, n, ob);
            if (d->layer) {
                job->base.k->layer_norm_bwd_row(dx, pw, pb, dy, x, w, n, d->eps);
            } else {
                job->base.k->rms_norm_bwd_row(dx, pw, dy, x, w, n, d->eps);
            }
            write_back(&d->dx, r, n, dx);
        }
    }
    return CORDON_OK;
}

static void store_param(const cordon__view *v, const float *src, size_t n) {
    float *base = (float *)(void *)v->storage->data + v->offset;
    if (v->strides[3] == 1) {
        memcpy(base, src, n * sizeof(float));
        return;
    }
    for (size_t j = 0; j < n; j++) {
        base[j * v->strides[3]] = src[j];
    }
}

cordon_status cordon__cpu_norm_backward(cordon__device *dev, const cordon__norm_bwd_desc *d) {
    norm_bwd_job job = {{d, dev->kernels, NULL, 0, rows_of(&d->x), (size_t)d->x.shape[3]}, NULL, 0, 1};
    size_t n = job.base.n;
    bool params = d->dweight.present || d->dbias.present;
    job.block_rows = norm_block_rows(job.base.rows, params);
    job.nblocks = (size_t)((job.base.rows + job.block_rows - 1) / job.block_rows);
    cordon__block *partials = NULL;
    cordon_status st = CORDON_OK;
    if (params) {
        float *pbase = NULL;
        st = lane_scratch(dev, job.nblocks, 2 * n, &partials, &pbase);
        if (st != CORDON_OK) {
            return st;
        }
        job.partials = pbase;
    }
    size_t nlanes = lanes_for(dev, job.nblocks, job.base.rows * n, 6 * PS_ROW_PASS);
    const cordon__view *vs[4] = {&d->x, &d->dy, &d->dx, &d->weight};
    cordon__block *scratch = NULL;
    if (!rows_direct(vs, 4, n)) {
        job.base.per_lane = 4 * n;
        st = lane_scratch(dev, nlanes, job.base.per_lane, &scratch, &job.base.scratch);
    }
    if (st == CORDON_OK) {
        st = run_lanes(dev, nlanes, norm_bwd_lane, &job);
    }
    if (st == CORDON_OK && params) {
        /* Sum the partials in block order into the first block's (y + 1·x is exactly y + x), then store. */
        float *pbase = job.partials;
        size_t len = d->dbias.present ? 2 * n : n; /* dweight's partials, then dbias's */
        for (size_t blk = 1; blk < job.nblocks; blk++) {
            dev->kernels->axpy(pbase, 1.0f, pbase + blk * 2 * n, len);
        }
        if (d->dweight.present) {
            store_param(&d->dweight, pbase, n);
        }
        if (d->dbias.present) {
            store_param(&d->dbias, pbase + n, n);
        }
    }
    cordon__scratch_put(dev, scratch);
    cordon__scratch_put(dev, partials);
    return st;
}

static cordon_status ew_lane(void *ctx, size_t lane, size_t nlanes) {
    const rows_job *job = ctx;
    const cordon__ew_desc *d = job->d;
    size_t n = job->n;
    float *ab = row_buf(job, lane, 0), *bb = row_buf(job, lane, 1), *yb = row_buf(job, lane, 2);
    uint64_t r0, r1;
    lane_range(job->rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *a = read_row(&d->a, d->y.shape, r, n, ab);
        const float *b = d->b.present ? read_row(&d->b, d->y.shape, r, n, bb) : NULL;
        float *y = out_row(&d->y, r, n, yb);
        job->k->elementwise((int)d->kind, y, a, b, n, d->s);
        write_back(&d->y, r, n, y);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_elementwise(cordon__device *dev, const cordon__ew_desc *d) {
    rows_job job = {d, dev->kernels, NULL, 0, rows_of(&d->y), (size_t)d->y.shape[3]};
    const cordon__view *vs[3] = {&d->a, &d->b, &d->y};
    return run_rows(dev, &job, 3 * job.n, ew_lane, PS_EW * job.n, rows_direct(vs, 3, job.n));
}

static cordon_status copy_lane(void *ctx, size_t lane, size_t nlanes) {
    const rows_job *job = ctx;
    const cordon__view *const *vv = job->d;
    const cordon__view *dst = vv[0], *src = vv[1];
    size_t n = job->n;
    if (cordon__view_bf16(dst)) {
        /* 2-byte elements, moved where they lie (no gather buffers: the call took no scratch). */
        uint64_t ss = src->shape[3] == 1 ? 0 : src->strides[3], ds = dst->strides[3];
        uint64_t r0, r1;
        lane_range(job->rows, lane, nlanes, &r0, &r1);
        for (uint64_t r = r0; r < r1; r++) {
            const uint16_t *s = (const uint16_t *)(const void *)src->storage->data + row_offset(src, dst->shape, r);
            uint16_t *o = (uint16_t *)(void *)dst->storage->data + row_offset(dst, dst->shape, r);
            for (size_t j = 0; j < n; j++) {
                o[j * ds] = s[j * ss];
            }
        }
        return CORDON_OK;
    }
    float *sb = row_buf(job, lane, 0), *ob = row_buf(job, lane, 1);
    uint64_t r0, r1;
    lane_range(job->rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *s = read_row(src, dst->shape, r, n, sb);
        float *o = out_row(dst, r, n, ob);
        memcpy(o, s, n * sizeof(float));
        write_back(dst, r, n, o);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_copy(cordon__device *dev, const cordon__view *dst, const cordon__view *src) {
    const cordon__view *vv[2] = {dst, src};
    rows_job job = {vv, dev->kernels, NULL, 0, rows_of(dst), (size_t)dst->shape[3]};
    return run_rows(dev, &job, 2 * job.n, copy_lane, PS_COPY * job.n,
                    cordon__view_bf16(dst) || rows_direct(vv, 2, job.n));
}

/* ---------------------------------------------------------------------------------------------------
 * RoPE */

/* RoPE: the angles θ_i(pos) = pos · base^(-2i/D) are computed in f64 and rounded once to f32 cos and
 * sin. They depend on the position only, so a call first fills a table of them for its T positions
 * (rope_table_lane: base^(-2i/D) once per i, then cos and sin per position), and every row of every head
 * reads its position's row of the table; the rotation itself is a vectorisable loop. A table larger
 * than ROPE_TABLE_MAX bytes is not made: rows then compute their angles themselves, with the same f64
 * arithmetic (the same results). */
#define ROPE_TABLE_MAX (UINT64_C(64) << 20)

typedef struct rope_job {
    rows_job base;      /* first member: the row helpers see a rows_job */
    const double *inv;  /* half inverse frequencies base^(-2i/D) */
    float *cs;          /* T rows of half cos then half sin, or NULL */
    uint64_t T;
} rope_job;

static void rope_angles(const cordon__rope_desc *d, const double *inv, double pos, size_t half, float *c, float *s) {
    for (size_t i = 0; i < half; i++) {
        double ang = pos * inv[i];
        c[i] = (float)cos(ang);
        s[i] = d->inverse ? -(float)sin(ang) : (float)sin(ang);
    }
}

static cordon_status rope_table_lane(void *ctx, size_t lane, size_t nlanes) {
    const rope_job *job = ctx;
    const cordon__rope_desc *d = job->base.d;
    size_t half = job->base.n / 2;
    uint64_t t0, t1;
    lane_range(job->T, lane, nlanes, &t0, &t1);
    for (uint64_t t = t0; t < t1; t++) {
        float *row = job->cs + t * 2 * half;
        rope_angles(d, job->inv, (double)(d->position0 + t), half, row, row + half);
    }
    return CORDON_OK;
}

static cordon_status rope_lane(void *ctx, size_t lane, size_t nlanes) {
    const rope_job *job = ctx;
    const cordon__rope_desc *d = job->base.d;
    size_t n = job->base.n, half = n / 2;
    float *xb = row_buf(&job->base, lane, 0), *yb = row_buf(&job->base, lane, 1);
    /* Without a table: this lane's angles of one position (in its gather slot's tail). */
    float *own = job->cs == NULL ? row_buf(&job->base, lane, 2) : NULL;
    uint64_t r0, r1;
    lane_range(job->base.rows, lane, nlanes, &r0, &r1);
    for (uint64_t r = r0; r < r1; r++) {
        const float *x = read_row(&d->x, d->x.shape, r, n, xb);
        float *y = out_row(&d->y, r, n, yb);
        uint64_t t = r % job->T;
        const float *c, *sn;
        if (job->cs != NULL) {
            c = job->cs + t * 2 * half;
        } else {
            rope_angles(d, job->inv, (double)(d->position0 + t), half, own, own + half);
            c = own;
        }
        sn = c + half;
        if (d->layout == CORDON_ROPE_INTERLEAVED) {
            for (size_t i = 0; i < half; i++) {
                float x0 = x[2 * i], x1 = x[2 * i + 1];
                y[2 * i] = x0 * c[i] - x1 * sn[i];
                y[2 * i + 1] = x0 * sn[i] + x1 * c[i];
            }
        } else {
            for (size_t i = 0; i < half; i++) {
                float x0 = x[i], x1 = x[i + half];
                y[i] = x0 * c[i] - x1 * sn[i];
                y[i + half] = x0 * sn[i] + x1 * c[i];
            }
        }
        write_back(&d->y, r, n, y);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_rope(cordon__device *dev, const cordon__rope_desc *d) {
    rope_job job = {{d, dev->kernels, NULL, 0, rows_of(&d->x), (size_t)d->x.shape[3]}, NULL, NULL, d->x.shape[2]};
    size_t n = job.base.n, half = n / 2;
    uint64_t table = job.T * n * sizeof(float);
    bool with_table = job.T <= ROPE_TABLE_MAX / (n * sizeof(float)) && table <= ROPE_TABLE_MAX;
    /* One block: the inverse frequencies (f64, first: the block is 64-byte aligned), then the table. */
    uint64_t inv_bytes = ((uint64_t)half * sizeof(double) + 63u) / 64u * 64u;
    cordon__block *blk = NULL;
    cordon_status st = cordon__scratch_get(dev, inv_bytes + (with_table ? table : 0) + 64u, &blk);
    if (st != CORDON_OK) {
        return st;
    }
    double *inv = (double *)(void *)blk->data;
    for (size_t i = 0; i < half; i++) {
        inv[i] = pow(d->base, -2.0 * (double)i / (double)n);
    }
    job.inv = inv;
    if (with_table) {
        job.cs = (float *)(void *)(blk->data + inv_bytes);
        st = run_lanes(dev, lanes_for(dev, (size_t)job.T, job.T * half, PS_ANGLE), rope_table_lane, &job);
    }
    if (st == CORDON_OK) {
        const cordon__view *vs[2] = {&d->x, &d->y};
        /* Without a table every lane needs its angle slot: never direct then. */
        bool direct = with_table && rows_direct(vs, 2, n);
        st = run_rows(dev, &job.base, 3 * n, rope_lane, PS_ROPE * n, direct);
    }
    cordon__scratch_put(dev, blk);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Attention: row-wise (one query row at a time), forward and backward */

typedef struct attn_job {
    const cordon__attention_desc *d;
    const cordon__cpu_kernels *k;
    float *scratch;
    size_t per_lane;
    size_t items;
    size_t qblock; /* backward: query rows per block (attn_qblock) */
} attn_job;

/* Row `t` of head (b, h) of a (B, H, T, D) view: pointer to a contiguous copy (or the row itself). */
static const float *head_row(const cordon__view *v, uint64_t b, uint64_t h, uint64_t t, size_t n, float *buf) {
    const float *base = (const float *)(const void *)v->storage->data + v->offset + b * v->strides[0] +
                        h * v->strides[1] + t * v->strides[2];
    if (v->strides[3] == 1 || n == 1) {
        return base;
    }
    for (size_t j = 0; j < n; j++) {
        buf[j] = base[j * v->strides[3]];
    }
    return buf;
}

static float *head_ptr(const cordon__view *v, uint64_t b, uint64_t h, uint64_t t) {
    return (float *)(void *)v->storage->data + v->offset + b * v->strides[0] + h * v->strides[1] + t * v->strides[2];
}

static void store_row(const cordon__view *v, uint64_t b, uint64_t h, uint64_t t, const float *row, size_t n) {
    float *base = head_ptr(v, b, h, t);
    for (size_t j = 0; j < n; j++) {
        base[j * v->strides[3]] = row[j];
    }
}

/* The rows of head (b, h) as one strided matrix: row t at base + t·ld, or NULL when a row's elements
 * are not contiguous (the callers then copy each row with head_row). */
static const float *head_rows(const cordon__view *v, uint64_t b, uint64_t h, size_t n, size_t *ld) {
    *ld = (size_t)v->strides[2];
    return v->strides[3] == 1 || n == 1 ? head_ptr(v, b, h, 0) : NULL;
}

/* Keys a query row can give weight to: the first `valid` (causal), or every key of a NaN row (the
 * softmax fills a row with NaN when its inputs hold one, and the NaN reaches every key's gradient). */
static size_t attn_extent(const float *p, size_t valid, size_t Tk) {
    return Tk > 0 && p[0] != p[0] ? Tk : valid;
}

/* Scores of query row (b, h, i) against the keys it may see, then softmax (mask and causal applied):
 * p[Tk]. Keys past `valid` (causal) are not scored: the softmax removes them without reading them.
 * Contiguous key rows go four at a time through dot4, each score exactly the single dot. Returns the
 * extent (attn_extent): p[j] = 0 for j past it. */
static size_t attn_probs(const attn_job *job, uint64_t b, uint64_t h, uint64_t i, float *p, float *qb, float *kb,
                         float *mb) {
    const cordon__attention_desc *d = job->d;
    size_t D = (size_t)d->q.shape[3], Tk = (size_t)d->k.shape[2];
    uint64_t Tq = d->q.shape[2];
    uint64_t hk = h / (d->q.shape[1] / d->k.shape[1]);
    size_t valid = Tk;
    if (d->causal) {
        valid = i + Tk + 1 > Tq ? (size_t)(i + Tk + 1 - Tq) : 0;
        valid = valid > Tk ? Tk : valid;
    }
    const float *q = head_row(&d->q, b, h, i, D, qb);
    size_t ldk = 0, j = 0;
    const float *k0 = head_rows(&d->k, b, hk, D, &ldk);
    if (k0 != NULL) {
        for (; j + 4 <= valid; j += 4) {
            job->k->dot4(q, k0 + j * ldk, ldk, D, p + j);
        }
    }
    for (; j < valid; j++) {
        p[j] = job->k->dot(q, head_row(&d->k, b, hk, j, D, kb), D);
    }
    const float *mask = NULL;
    if (d->mask.present) {
        uint64_t shape[4] = {d->q.shape[0], d->q.shape[1], Tq, Tk};
        mask = read_row(&d->mask, shape, (b * shape[1] + h) * Tq + i, Tk, mb);
    }
    job->k->softmax_row(p, p, mask, Tk, valid, d->scale, NULL);
    return attn_extent(p, valid, Tk);
}

/* acc += Σ_j w[j]·row_j over j < n with w[j] != 0, in j order; four contiguous rows with nonzero
 * weights at a time through axpy4 (exactly four axpys). */
static void attn_accumulate(const attn_job *job, float *acc, const float *w, size_t n, const cordon__view *v,
                            uint64_t b, uint64_t h, size_t cols, float *buf) {
    size_t ld = 0;
    const float *r0 = head_rows(v, b, h, cols, &ld);
    for (size_t j = 0; j < n;) {
        if (r0 != NULL && j + 4 <= n && w[j] != 0.0f && w[j + 1] != 0.0f && w[j + 2] != 0.0f && w[j + 3] != 0.0f) {
            job->k->axpy4(acc, w + j, r0 + j * ld, ld, cols);
            j += 4;
            continue;
        }
        if (w[j] != 0.0f) {
            job->k->axpy(acc, w[j], head_row(v, b, h, j, cols, buf), cols);
        }
        j++;
    }
}

static cordon_status attn_lane(void *ctx, size_t lane, size_t nlanes) {
    const attn_job *job = ctx;
    const cordon__attention_desc *d = job->d;
    size_t D = (size_t)d->q.shape[3], Dv = (size_t)d->v.shape[3], Tk = (size_t)d->k.shape[2];
    uint64_t H = d->q.shape[1], Tq = d->q.shape[2];
    float *p = job->scratch + lane * job->per_lane, *qb = p + Tk, *kb = qb + D, *mb = kb + (D > Dv ? D : Dv);
    float *acc = mb + Tk;
    for (size_t item = lane; item < job->items; item += nlanes) {
        uint64_t i = item % Tq, h = (item / Tq) % H, b = item / Tq / H;
        uint64_t hk = h / (H / d->k.shape[1]);
        size_t extent = attn_probs(job, b, h, i, p, qb, kb, mb);
        memset(acc, 0, Dv * sizeof(float));
        attn_accumulate(job, acc, p, extent, &d->v, b, hk, Dv, kb);
        store_row(&d->out, b, h, i, acc, Dv);
    }
    return CORDON_OK;
}

cordon_status cordon__cpu_attention(cordon__device *dev, const cordon__attention_desc *d) {
    attn_job job = {d, dev->kernels, NULL, 0, 0, 0};
    size_t D = (size_t)d->q.shape[3], Dv = (size_t)d->v.shape[3], Tk = (size_t)d->k.shape[2];
    job.items = (size_t)(d->q.shape[0] * d->q.shape[1] * d->q.shape[2]);
    job.per_lane = Tk + D + (D > Dv ? D : Dv) + Tk + Dv;
    size_t nlanes = lanes_for(dev, job.items, (uint64_t)job.items * Tk * (D + Dv), PS_ATTN);
    cordon__block *scratch = NULL;
    cordon_status st = lane_scratch(dev, nlanes, job.per_lane, &scratch, &job.scratch);
    if (st != CORDON_OK) {
        return st;
    }
    st = run_lanes(dev, nlanes, attn_lane, &job);
    cordon__scratch_put(dev, scratch);
    return st;
}

/* dK_j += Σ_r w[r·Tk + j] · x_r and the same for dV (x_r: row i0 + r of head (b, h) of `xv`, r < nb),
 * for every key j: row j of the gradient stays in cache (or in dkv when its elements are strided) while
 * the block's rows are added in r order, four contiguous rows with nonzero weights at a time through
 * axpy4 (exactly four axpys). Zero weights are skipped, as the row-by-row form skips them. */
static void attn_grad_rows(const attn_job *job, const cordon__view *g, uint64_t b, uint64_t hk, const float *w,
                           size_t Tk, const cordon__view *xv, uint64_t h, uint64_t i0, size_t nb, size_t n,
                           float *dkv, float *xb) {
    size_t ldx = 0;
    const float *x0 = head_rows(xv, b, h, n, &ldx);
    bool in_place = g->strides[3] == 1 || n == 1;
    for (size_t j = 0; j < Tk; j++) {
        float *row = in_place ? head_ptr(g, b, hk, j) : dkv;
        bool any = false;
        for (size_t r = 0; r < nb;) {
            float s4[4] = {w[r * Tk + j], 0, 0, 0};
            if (s4[0] == 0.0f) {
                r++;
                continue;
            }
            if (!any && !in_place) {
                (void)head_row(g, b, hk, j, n, dkv); /* strided: gathers row j into dkv */
            }
            any = true;
            if (x0 != NULL && r + 4 <= nb) {
                s4[1] = w[(r + 1) * Tk + j], s4[2] = w[(r + 2) * Tk + j], s4[3] = w[(r + 3) * Tk + j];
                if (s4[1] != 0.0f && s4[2] != 0.0f && s4[3] != 0.0f) {
                    job->k->axpy4(row, s4, x0 + (i0 + r) * ldx, ldx, n);
                    r += 4;
                    continue;
                }
            }
            job->k->axpy(row, s4[0], head_row(xv, b, h, i0 + r, n, xb), n);
            r++;
        }
        if (any && !in_place) {
            store_row(g, b, hk, j, dkv, n);
        }
    }
}

/* Backward: one item per (batch, KV head), which owns dK and dV of that head and dQ of its query heads,
 * so no two lanes write the same element and the sums run in a fixed order: for each key, the query
 * rows of each head in order. The query rows go in blocks of job->qblock: their P and dS rows are kept,
 * then dK and dV take the block's rows key by key. */
static cordon_status attn_bwd_lane(void *ctx, size_t lane, size_t nlanes) {
    const attn_job *job = ctx;
    const cordon__attention_desc *d = job->d;
    size_t D = (size_t)d->q.shape[3], Dv = (size_t)d->v.shape[3], Tk = (size_t)d->k.shape[2];
    uint64_t H = d->q.shape[1], Hk = d->k.shape[1], Tq = d->q.shape[2], g = H / Hk;
    size_t W = D > Dv ? D : Dv, QB = job->qblock;
    float *pblk = job->scratch + lane * job->per_lane, *sblk = pblk + QB * Tk, *qb = sblk + QB * Tk, *kb = qb + D;
    float *mb = kb + W, *gb = mb + Tk, *dq = gb + Dv, *dkv = dq + D;
    for (size_t item = lane; item < job->items; item += nlanes) {
        uint64_t b = item / Hk, hk = item % Hk;
        /* Zero this head's dK and dV. */
        for (size_t j = 0; j < Tk; j++) {
            memset(dkv, 0, W * sizeof(float));
            store_row(&d->dk, b, hk, j, dkv, D);
            store_row(&d->dv, b, hk, j, dkv, Dv);
        }
        size_t ldv = 0;
        const float *v0 = head_rows(&d->v, b, hk, Dv, &ldv);
        for (uint64_t h = hk * g; h < (hk + 1) * g; h++) {
            for (uint64_t i0 = 0; i0 < Tq; i0 += QB) {
                size_t nb = Tq - i0 < QB ? (size_t)(Tq - i0) : QB;
                for (size_t r = 0; r < nb; r++) {
                    uint64_t i = i0 + r;
                    float *p = pblk + r * Tk, *dp = sblk + r * Tk;
                    size_t extent = attn_probs(job, b, h, i, p, qb, kb, mb);
                    const float *go = head_row(&d->dout, b, h, i, Dv, gb);
                    /* dP_ij = dout_i · v_j where P_ij != 0 (else 0), contiguous V rows four at a time. */
                    size_t j = 0;
                    if (v0 != NULL) {
                        for (; j + 4 <= extent; j += 4) {
                            job->k->dot4(go, v0 + j * ldv, ldv, Dv, dp + j);
                        }
                    }
                    for (; j < extent; j++) {
                        dp[j] = job->k->dot(go, head_row(&d->v, b, hk, j, Dv, kb), Dv);
                    }
                    for (j = 0; j < Tk; j++) {
                        dp[j] = j < extent && p[j] != 0.0f ? dp[j] : 0.0f;
                    }
                    /* dS = P ⊙ (dP − Σ P·dP), times the score scale. */
                    job->k->softmax_bwd_row(dp, p, dp, Tk, d->scale);
                    memset(dq, 0, D * sizeof(float));
                    /* Over every key: past the extent dS is 0, or NaN when dout holds one (it reaches
                     * every key's gradient, as the product dSᵀ·Q would carry it). */
                    attn_accumulate(job, dq, dp, Tk, &d->k, b, hk, D, kb);
                    store_row(&d->dq, b, h, i, dq, D);
                }
                /* dK_j += Σ_i dS_ij · q_i; dV_j += Σ_i P_ij · dout_i over the block's rows. */
                attn_grad_rows(job, &d->dk, b, hk, sblk, Tk, &d->q, h, i0, nb, D, dkv, qb);
                attn_grad_rows(job, &d->dv, b, hk, pblk, Tk, &d->dout, h, i0, nb, Dv, dkv, gb);
            }
        }
    }
    return CORDON_OK;
}

/* Query rows per block of the backward pass: P and dS of a block (2·QB·Tk floats) stay within about
 * 128 KiB, so they and the block's Q and dout rows stay in L2 while dK and dV take them key by key. */
static size_t attn_qblock(size_t Tk) {
    size_t qb = 16384 / (Tk > 0 ? Tk : 1);
    return qb < 1 ? 1 : (qb > 32 ? 32 : qb);
}

cordon_status cordon__cpu_attention_backward(cordon__device *dev, const cordon__attention_desc *d) {
    attn_job job = {d, dev->kernels, NULL, 0, 0, 0};
    size_t D = (size_t)d->q.shape[3], Dv = (size_t)d->v.shape[3], Tk = (size_t)d->k.shape[2];
    size_t W = D > Dv ? D : Dv;
    job.items = (size_t)(d->k.shape[0] * d->k.shape[1]);
    job.qblock = attn_qblock(Tk);
    job.per_lane = 2 * job.qblock * Tk + D + W + Tk + Dv + D + W;
    uint64_t work = d->q.shape[0] * d->q.shape[1] * d->q.shape[2] * Tk * (2 * D + 2 * Dv);
    size_t nlanes = lanes_for(dev, job.items, work, PS_ATTN);
    cordon__block *scratch = NULL;
    cordon_status st = lane_scratch(dev, nlanes, job.per_lane, &scratch, &job.scratch);
    if (st != CORDON_OK) {
        return st;
    }
    st = run_lanes(dev, nlanes, attn_bwd_lane, &job);
    cordon__scratch_put(dev, scratch);
    return st;
}
