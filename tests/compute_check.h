/* SPDX-License-Identifier: Apache-2.0 */
/* cordon compute tests: per-operation checkers. Each runs one call on a device with operands made as
 * contiguous tensors or as strided / transposed / sliced views, reads the result back and compares it
 * with the f64 reference of compute_ref.h under the tolerance ops.h documents. Views used as outputs
 * sit inside a larger parent filled with a sentinel, and every parent element outside the view must
 * keep it. */
#ifndef CORDON_TESTS_COMPUTE_CHECK_H
#define CORDON_TESTS_COMPUTE_CHECK_H

#include "compute_ref.h"

/* Documented tolerances (ops.h): |got - ref| <= TOL·M (+ floor), M the reference's magnitude. */
#define TOL_MATMUL 1e-5
#define TOL_SOFTMAX 1e-5
#define FLOOR_SOFTMAX 2e-6
#define TOL_SOFTMAX_BWD 1e-5
#define TOL_RMS 2e-6
#define TOL_RMS_BWD 1e-5
#define TOL_LAYER 1e-5
#define TOL_LAYER_BWD 1e-5
#define TOL_ATTN 1e-5
#define TOL_ATTN_BWD 1e-5
#define TOL_LORA 1e-5
#define TOL_SILU 2e-6
#define TOL_GELU 2e-6
#define TOL_ROPE 1e-6
#define FLOOR_TINY 1e-37

/* How an operand is laid out in storage. */
typedef enum ct_layout {
    CT_CONTIG = 0,
    CT_TRANSPOSED = 1, /* stored with the last two dimensions swapped, passed as a transpose view */
    CT_SLICED = 2,     /* a window of a larger parent: row stride > columns, offset > 0 */
    CT_COLSTRIDE = 3,  /* every other element of a parent's row: column stride 2 */
    CT_LAYOUTS = 4
} ct_layout;

#define CT_SENTINEL 1234.5f

typedef struct ct_view {
    cordon_tensor t, parent;
    ct_layout layout;
    unsigned ndim;
    uint64_t shape[4];
    uint64_t pshape[4];
} ct_view;

/* A view of logical shape `shape` in the given layout, holding `data` (row-major; NULL: zeros). The
 * parent, when there is one, is filled with CT_SENTINEL first. */
static inline ct_view ct_view_make(cordon_device dev, unsigned ndim, const uint64_t *shape, ct_layout layout,
                                   const float *data) {
    ct_view v;
    memset(&v, 0, sizeof v);
    v.ndim = ndim;
    memcpy(v.shape, shape, ndim * sizeof *shape);
    if (layout == CT_TRANSPOSED && ndim < 2) {
        layout = CT_SLICED;
    }
    v.layout = layout;
    if (layout == CT_CONTIG) {
        v.t = ct_tensor(dev, ndim, shape, data);
        return v;
    }
    memcpy(v.pshape, shape, ndim * sizeof *shape);
    if (layout == CT_TRANSPOSED) {
        v.pshape[ndim - 1] = shape[ndim - 2];
        v.pshape[ndim - 2] = shape[ndim - 1];
        v.parent = ct_tensor(dev, ndim, v.pshape, NULL);
        CHECK_OK(cordon_tensor_transpose(v.parent, ndim - 2, ndim - 1, &v.t));
    } else if (layout == CT_SLICED) {
        v.pshape[ndim - 1] += 3;
        if (ndim >= 2) {
            v.pshape[ndim - 2] += 2;
        }
        v.parent = ct_tensor(dev, ndim, v.pshape, NULL);
        uint64_t n = ct_count(ndim, v.pshape);
        float *s = ct_falloc((size_t)n);
        for (uint64_t i = 0; i < n; i++) s[i] = CT_SENTINEL;
        ct_write(v.parent, s);
        free(s);
        cordon_tensor a = {0}, b = {0};
        CHECK_OK(cordon_tensor_slice(v.parent, ndim - 1, 2, shape[ndim - 1], &a));
        if (ndim >= 2) {
            CHECK_OK(cordon_tensor_slice(a, ndim - 2, 1, shape[ndim - 2], &b));
            ct_destroy(a);
            a = b;
        }
        v.t = a;
    } else {
        v.pshape[ndim - 1] = 2 * shape[ndim - 1];
        v.parent = ct_tensor(dev, ndim, v.pshape, NULL);
        uint64_t n = ct_count(ndim, v.pshape);
        float *s = ct_falloc((size_t)n);
        for (uint64_t i = 0; i < n; i++) s[i] = CT_SENTINEL;
        ct_write(v.parent, s);
        free(s);
        uint64_t strides[4], st = 1;
        for (unsigned i = ndim; i-- > 0;) {
            strides[i] = i == ndim - 1 ? 2 : st;
            st *= v.pshape[i];
        }
        CHECK_OK(cordon_tensor_view(v.parent, ndim, shape, strides, 1, &v.t));
    }
    if (data != NULL) {
        ct_write(v.t, data);
    }
    return v;
}

/* Every parent element outside the view still holds the sentinel. */
static inline void ct_view_check_outside(const ct_view *v, const char *label) {
    if (v->layout != CT_SLICED && v->layout != CT_COLSTRIDE) {
        return;
    }
    float *p = ct_read(v->parent);
    uint64_t n = ct_count(v->ndim, v->pshape), cols = v->pshape[v->ndim - 1];
    uint64_t prow = v->ndim >= 2 ? v->pshape[v->ndim - 2] : 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t c = i % cols, rr = (i / cols) % prow;
        bool inside;
        if (v->layout == CT_SLICED) {
            inside = c >= 2 && c < 2 + v->shape[v->ndim - 1] && (v->ndim < 2 || (rr >= 1 && rr < 1 + v->shape[v->ndim - 2]));
        } else {
            inside = i >= 1 && (i - 1) % 2 == 0 && (i - 1) % cols / 2 < v->shape[v->ndim - 1];
        }
        if (!inside && p[i] != CT_SENTINEL) {
            float got = p[i];
            free(p);
            cordon_test_fail(__FILE__, __LINE__, "%s: parent element %" PRIu64 " outside the output view was written (%g)",
                             label, i, (double)got);
        }
    }
    free(p);
}

static inline void ct_view_free(ct_view *v) {
    ct_destroy(v->t);
    ct_destroy(v->parent);
    v->t.handle = v->parent.handle = 0;
}

static inline ct_layout ct_pick_layout(ct_rng *r) {
    return (ct_layout)ct_range(r, 0, CT_LAYOUTS - 1);
}

/* ------------------------------------------------------------------------------------------------
 * matmul */

typedef struct mm_case {
    uint64_t M, N, K;
    unsigned nbatch;             /* batch dimensions: 0, 1 or 2 */
    uint64_t ab[2], bb[2], cb[2]; /* batch extents (1 = broadcast) for A, B, C */
    bool ta, tb;
    float alpha, beta;
    ct_layout la, lb, lc;
} mm_case;

static inline void check_matmul(cordon_device dev, ct_cfg cfg, ct_rng *r, const mm_case *c) {
    unsigned nd = 2 + c->nbatch;
    uint64_t ash[4] = {1, 1, c->ta ? c->K : c->M, c->ta ? c->M : c->K};
    uint64_t bsh[4] = {1, 1, c->tb ? c->N : c->K, c->tb ? c->K : c->N};
    uint64_t csh[4] = {1, 1, c->M, c->N};
    for (unsigned i = 0; i < c->nbatch; i++) {
        ash[2 - c->nbatch + i] = c->ab[i];
        bsh[2 - c->nbatch + i] = c->bb[i];
        csh[2 - c->nbatch + i] = c->cb[i];
    }
    size_t na = (size_t)ct_count(4, ash), nb = (size_t)ct_count(4, bsh), nc = (size_t)ct_count(4, csh);
    float *a = ct_falloc(na), *b = ct_falloc(nb), *c0 = ct_falloc(nc);
    ct_fill(r, a, na, -1, 1);
    ct_fill(r, b, nb, -1, 1);
    ct_fill(r, c0, nc, -1, 1);
    ct_view va = ct_view_make(dev, nd, ash + 4 - nd, c->la, a);
    ct_view vb = ct_view_make(dev, nd, bsh + 4 - nd, c->lb, b);
    ct_view vc = ct_view_make(dev, nd, csh + 4 - nd, c->lc, c0);
    cordon_matmul_params p = {c->alpha, c->beta, c->ta, c->tb};
    CHECK_OK(cordon_matmul(vc.t, va.t, vb.t, &p));
    float *got = ct_read(vc.t);
    double *ad = ct_to_f64(a, na), *bd = ct_to_f64(b, nb), *cd = ct_to_f64(c0, nc), *mag = ct_dalloc(nc);
    ref_matmul(cd, mag, csh, ad, ash, c->ta, bd, bsh, c->tb, c->alpha, c->beta);
    char label[160];
    snprintf(label, sizeof label, "%s M%" PRIu64 " N%" PRIu64 " K%" PRIu64 " ta%d tb%d a%g b%g L%d%d%d",
             ct_cfg_name(cfg), c->M, c->N, c->K, c->ta, c->tb, (double)c->alpha, (double)c->beta, c->la, c->lb, c->lc);
    CT_CLOSE("matmul", label, got, cd, mag, nc, TOL_MATMUL, FLOOR_TINY);
    ct_view_check_outside(&vc, "matmul");
    free(a), free(b), free(c0), free(got), free(ad), free(bd), free(cd), free(mag);
    ct_view_free(&va), ct_view_free(&vb), ct_view_free(&vc);
}

/* ------------------------------------------------------------------------------------------------
 * softmax */

typedef struct sm_case {
    unsigned ndim;
    uint64_t shape[4];   /* right-aligned */
    uint64_t mshape[4];  /* mask shape, right-aligned (0 in mshape[3]: no mask) */
    unsigned mndim;
    float scale;
    bool causal, in_place;
    ct_layout lx, ly;
    double lo, hi;       /* input range */
} sm_case;

static inline void check_softmax(cordon_device dev, ct_cfg cfg, ct_rng *r, const sm_case *c) {
    size_t n = (size_t)ct_count(4, c->shape);
    uint64_t R = c->shape[2], C = c->shape[3];
    float *x = ct_falloc(n);
    ct_fill(r, x, n, c->lo, c->hi);
    ct_view vx = ct_view_make(dev, c->ndim, c->shape + 4 - c->ndim, c->lx, x);
    ct_view vy = c->in_place ? vx : ct_view_make(dev, c->ndim, c->shape + 4 - c->ndim, c->ly, NULL);
    cordon_softmax_params p;
    cordon_softmax_params_init(&p);
    p.scale = c->scale;
    p.causal = c->causal;
    float *mfull = NULL;
    ct_view vm = {0};
    if (c->mshape[3] != 0) {
        size_t nm = (size_t)ct_count(4, c->mshape);
        float *m = ct_falloc(nm);
        for (size_t i = 0; i < nm; i++) {
            double u = ct_uniform(r, 0, 1);
            m[i] = u < 0.2 ? -INFINITY : (float)ct_uniform(r, -2, 2);
        }
        vm = ct_view_make(dev, c->mndim, c->mshape + 4 - c->mndim, CT_CONTIG, m);
        mfull = ct_falloc(n);
        ct_broadcast(m, c->mshape, c->shape, mfull);
        p.mask = vm.t;
        free(m);
    }
    CHECK_OK(cordon_softmax(vy.t, vx.t, &p));
    float *got = ct_read(vy.t);
    double *xd = ct_to_f64(x, n), *md = mfull ? ct_to_f64(mfull, n) : NULL, *ref = ct_dalloc(n);
    ref_softmax(ref, xd, md, n / C, C, R, c->scale, c->causal);
    char label[160];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 "x%" PRIu64 "x%" PRIu64 " scale %g causal %d mask %d ip %d L%d%d",
             ct_cfg_name(cfg), c->shape[0], c->shape[1], R, C, (double)c->scale, c->causal, mfull != NULL, c->in_place,
             c->lx, c->ly);
    CT_CLOSE("softmax", label, got, ref, NULL, n, TOL_SOFTMAX, FLOOR_SOFTMAX);
    ct_view_check_outside(&vy, "softmax");
    free(x), free(got), free(xd), free(md), free(ref), free(mfull);
    if (!c->in_place) ct_view_free(&vy);
    ct_view_free(&vx);
    ct_view_free(&vm);
}

/* softmax backward from the op's own forward output. */
static inline void check_softmax_bwd(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float scale,
                                     bool in_place, ct_layout lay) {
    size_t total = (size_t)(rows * n);
    float *x = ct_falloc(total), *dy = ct_falloc(total);
    ct_fill(r, x, total, -4, 4);
    ct_fill(r, dy, total, -1, 1);
    uint64_t sh[2] = {rows, n};
    ct_view vx = ct_view_make(dev, 2, sh, CT_CONTIG, x);
    ct_view vyv = ct_view_make(dev, 2, sh, lay, NULL);
    cordon_softmax_params p;
    cordon_softmax_params_init(&p);
    p.scale = scale;
    CHECK_OK(cordon_softmax(vyv.t, vx.t, &p));
    float *y = ct_read(vyv.t);
    ct_view vdy = ct_view_make(dev, 2, sh, lay, dy);
    ct_view vdx = in_place ? vdy : ct_view_make(dev, 2, sh, lay, NULL);
    CHECK_OK(cordon_softmax_backward(vdx.t, vyv.t, vdy.t, scale));
    float *got = ct_read(vdx.t);
    double *yd = ct_to_f64(y, total), *gd = ct_to_f64(dy, total), *ref = ct_dalloc(total), *mag = ct_dalloc(total);
    ref_softmax_bwd(ref, mag, yd, gd, rows, n, scale);
    char label[128];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 " scale %g ip %d L%d", ct_cfg_name(cfg), rows, n,
             (double)scale, in_place, lay);
    CT_CLOSE("softmax_backward", label, got, ref, mag, total, TOL_SOFTMAX_BWD, FLOOR_TINY);
    ct_view_check_outside(&vdx, "softmax_backward");
    free(x), free(dy), free(y), free(got), free(yd), free(gd), free(ref), free(mag);
    if (!in_place) ct_view_free(&vdx);
    ct_view_free(&vdy), ct_view_free(&vyv), ct_view_free(&vx);
}

/* ------------------------------------------------------------------------------------------------
 * Norms */

static inline void check_rms_norm(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float eps,
                                  bool in_place, ct_layout lx, ct_layout ly) {
    size_t total = (size_t)(rows * n);
    float *x = ct_falloc(total), *w = ct_falloc((size_t)n);
    ct_fill(r, x, total, -3, 3);
    ct_fill(r, w, (size_t)n, -2, 2);
    uint64_t sh[2] = {rows, n};
    ct_view vx = ct_view_make(dev, 2, sh, lx, x);
    ct_view vy = in_place ? vx : ct_view_make(dev, 2, sh, ly, NULL);
    ct_view vw = ct_view_make(dev, 1, &n, lx == CT_COLSTRIDE ? CT_COLSTRIDE : CT_CONTIG, w);
    CHECK_OK(cordon_rms_norm(vy.t, vx.t, vw.t, eps));
    float *got = ct_read(vy.t);
    double *xd = ct_to_f64(x, total), *wd = ct_to_f64(w, (size_t)n), *ref = ct_dalloc(total);
    ref_rms_norm(ref, xd, wd, rows, n, eps);
    char label[128];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 " eps %g ip %d L%d%d", ct_cfg_name(cfg), rows, n,
             (double)eps, in_place, lx, ly);
    CT_CLOSE("rms_norm", label, got, ref, NULL, total, TOL_RMS, FLOOR_TINY);
    ct_view_check_outside(&vy, "rms_norm");
    free(x), free(w), free(got), free(xd), free(wd), free(ref);
    if (!in_place) ct_view_free(&vy);
    ct_view_free(&vx), ct_view_free(&vw);
}

static inline void check_rms_norm_bwd(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float eps,
                                      bool in_place, bool with_dw, ct_layout lay) {
    size_t total = (size_t)(rows * n);
    float *x = ct_falloc(total), *w = ct_falloc((size_t)n), *dy = ct_falloc(total);
    ct_fill(r, x, total, -3, 3);
    ct_fill(r, w, (size_t)n, -2, 2);
    ct_fill(r, dy, total, -1, 1);
    uint64_t sh[2] = {rows, n};
    ct_view vx = ct_view_make(dev, 2, sh, lay, x), vdy = ct_view_make(dev, 2, sh, lay, dy);
    ct_view vdx = in_place ? vdy : ct_view_make(dev, 2, sh, lay, NULL);
    ct_view vw = ct_view_make(dev, 1, &n, CT_CONTIG, w);
    ct_view vdw = with_dw ? ct_view_make(dev, 1, &n, lay, NULL) : (ct_view){0};
    CHECK_OK(cordon_rms_norm_backward(vdx.t, vdw.t, vdy.t, vx.t, vw.t, eps));
    float *got = ct_read(vdx.t);
    double *xd = ct_to_f64(x, total), *wd = ct_to_f64(w, (size_t)n), *gd = ct_to_f64(dy, total);
    double *dx = ct_dalloc(total), *dxm = ct_dalloc(total), *dw = ct_dalloc((size_t)n), *dwm = ct_dalloc((size_t)n);
    ref_rms_norm_bwd(dx, dxm, dw, dwm, gd, xd, wd, rows, n, eps);
    char label[128];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 " ip %d L%d", ct_cfg_name(cfg), rows, n, in_place, lay);
    CT_CLOSE("rms_norm_backward dx", label, got, dx, dxm, total, TOL_RMS_BWD, FLOOR_TINY);
    if (with_dw) {
        float *gw = ct_read(vdw.t);
        CT_CLOSE("rms_norm_backward dweight", label, gw, dw, dwm, (size_t)n, TOL_RMS_BWD, FLOOR_TINY);
        ct_view_check_outside(&vdw, "rms_norm_backward dweight");
        free(gw);
        ct_view_free(&vdw);
    }
    ct_view_check_outside(&vdx, "rms_norm_backward");
    free(x), free(w), free(dy), free(got), free(xd), free(wd), free(gd), free(dx), free(dxm), free(dw), free(dwm);
    if (!in_place) ct_view_free(&vdx);
    ct_view_free(&vdy), ct_view_free(&vx), ct_view_free(&vw);
}

static inline void check_layer_norm(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float eps,
                                    bool with_g, bool with_b, bool in_place, ct_layout lx, ct_layout ly,
                                    double offset) {
    size_t total = (size_t)(rows * n);
    float *x = ct_falloc(total), *g = ct_falloc((size_t)n), *b = ct_falloc((size_t)n);
    ct_fill(r, x, total, offset - 3, offset + 3);
    ct_fill(r, g, (size_t)n, -2, 2);
    ct_fill(r, b, (size_t)n, -1, 1);
    uint64_t sh[2] = {rows, n};
    ct_view vx = ct_view_make(dev, 2, sh, lx, x);
    ct_view vy = in_place ? vx : ct_view_make(dev, 2, sh, ly, NULL);
    ct_view vg = with_g ? ct_view_make(dev, 1, &n, CT_CONTIG, g) : (ct_view){0};
    ct_view vb = with_b ? ct_view_make(dev, 1, &n, CT_COLSTRIDE, b) : (ct_view){0};
    CHECK_OK(cordon_layer_norm(vy.t, vx.t, vg.t, vb.t, eps));
    float *got = ct_read(vy.t);
    double *xd = ct_to_f64(x, total), *gd = ct_to_f64(g, (size_t)n), *bd = ct_to_f64(b, (size_t)n);
    double *ref = ct_dalloc(total), *mag = ct_dalloc(total);
    ref_layer_norm(ref, mag, xd, with_g ? gd : NULL, with_b ? bd : NULL, rows, n, eps);
    char label[128];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 " g%d b%d ip %d L%d%d off %g", ct_cfg_name(cfg), rows, n,
             with_g, with_b, in_place, lx, ly, offset);
    CT_CLOSE("layer_norm", label, got, ref, mag, total, TOL_LAYER, FLOOR_TINY);
    ct_view_check_outside(&vy, "layer_norm");
    free(x), free(g), free(b), free(got), free(xd), free(gd), free(bd), free(ref), free(mag);
    if (!in_place) ct_view_free(&vy);
    ct_view_free(&vx), ct_view_free(&vg), ct_view_free(&vb);
}

/* x uniform in mean ± 3. */
static inline void check_layer_norm_bwd_at(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float eps,
                                           bool with_g, bool with_dg, bool with_db, bool in_place, ct_layout lay,
                                           double mean) {
    size_t total = (size_t)(rows * n);
    float *x = ct_falloc(total), *g = ct_falloc((size_t)n), *dy = ct_falloc(total);
    ct_fill(r, x, total, mean - 3, mean + 3);
    ct_fill(r, g, (size_t)n, -2, 2);
    ct_fill(r, dy, total, -1, 1);
    uint64_t sh[2] = {rows, n};
    ct_view vx = ct_view_make(dev, 2, sh, lay, x), vdy = ct_view_make(dev, 2, sh, lay, dy);
    ct_view vdx = in_place ? vdy : ct_view_make(dev, 2, sh, lay, NULL);
    ct_view vg = with_g ? ct_view_make(dev, 1, &n, CT_CONTIG, g) : (ct_view){0};
    ct_view vdg = with_dg ? ct_view_make(dev, 1, &n, lay, NULL) : (ct_view){0};
    ct_view vdb = with_db ? ct_view_make(dev, 1, &n, CT_CONTIG, NULL) : (ct_view){0};
    CHECK_OK(cordon_layer_norm_backward(vdx.t, vdg.t, vdb.t, vdy.t, vx.t, vg.t, eps));
    float *got = ct_read(vdx.t);
    double *xd = ct_to_f64(x, total), *gd = ct_to_f64(g, (size_t)n), *dyd = ct_to_f64(dy, total);
    double *dx = ct_dalloc(total), *dxm = ct_dalloc(total);
    double *dg = ct_dalloc((size_t)n), *dgm = ct_dalloc((size_t)n), *db = ct_dalloc((size_t)n), *dbm = ct_dalloc((size_t)n);
    ref_layer_norm_bwd(dx, dxm, dg, dgm, db, dbm, dyd, xd, with_g ? gd : NULL, rows, n, eps);
    char label[128];
    snprintf(label, sizeof label, "%s %" PRIu64 "x%" PRIu64 " g%d ip %d L%d", ct_cfg_name(cfg), rows, n, with_g,
             in_place, lay);
    CT_CLOSE("layer_norm_backward dx", label, got, dx, dxm, total, TOL_LAYER_BWD, FLOOR_TINY);
    if (with_dg) {
        float *gg = ct_read(vdg.t);
        CT_CLOSE("layer_norm_backward dgamma", label, gg, dg, dgm, (size_t)n, TOL_LAYER_BWD, FLOOR_TINY);
        ct_view_check_outside(&vdg, "layer_norm_backward dgamma");
        free(gg);
    }
    if (with_db) {
        float *gb = ct_read(vdb.t);
        CT_CLOSE("layer_norm_backward dbeta", label, gb, db, dbm, (size_t)n, TOL_LAYER_BWD, FLOOR_TINY);
        free(gb);
    }
    ct_view_check_outside(&vdx, "layer_norm_backward");
    free(x), free(g), free(dy), free(got), free(xd), free(gd), free(dyd), free(dx), free(dxm), free(dg), free(dgm),
        free(db), free(dbm);
    if (!in_place) ct_view_free(&vdx);
    ct_view_free(&vdy), ct_view_free(&vx), ct_view_free(&vg), ct_view_free(&vdg), ct_view_free(&vdb);
}

static inline void check_layer_norm_bwd(cordon_device dev, ct_cfg cfg, ct_rng *r, uint64_t rows, uint64_t n, float eps,
                                        bool with_g, bool with_dg, bool with_db, bool in_place, ct_layout lay) {
    check_layer_norm_bwd_at(dev, cfg, r, rows, n, eps, with_g, with_dg, with_db, in_place, lay, 0.0);
}

/* ------------------------------------------------------------------------------------------------
 * Attention */

typedef struct at_case {
    ref_attn_shape s;
    bool causal;
    int mask;     /* 0 none, 1 (Tq, Tk) broadcast, 2 full */
    float scale;  /* 0: 1/sqrt(D) */
    ct_layout lq, lk, lv, lo;
    double mask_inf; /* probability of -inf in the mask */
} at_case;

static inline void at_mask(ct_rng *r, const at_case *c, cordon_device dev, ct_view *vm, float **full) {
    const ref_attn_shape *s = &c->s;
    uint64_t fsh[4] = {s->B, s->Hq, s->Tq, s->Tk};
    uint64_t msh[4] = {1, 1, s->Tq, s->Tk};
    if (c->mask == 2) memcpy(msh, fsh, sizeof msh);
    size_t nm = (size_t)ct_count(4, msh), nf = (size_t)ct_count(4, fsh);
    float *m = ct_falloc(nm);
    for (size_t i = 0; i < nm; i++) {
        m[i] = ct_uniform(r, 0, 1) < c->mask_inf ? -INFINITY : (float)ct_uniform(r, -1, 1);
    }
    *vm = ct_view_make(dev, c->mask == 2 ? 4 : 2, c->mask == 2 ? msh : msh + 2, CT_CONTIG, m);
    *full = ct_falloc(nf);
    ct_broadcast(m, msh, fsh, *full);
    free(m);
}

static inline void check_attention(cordon_device dev, ct_cfg cfg, ct_rng *r, const at_case *c) {
    const ref_attn_shape *s = &c->s;
    uint64_t qsh[4] = {s->B, s->Hq, s->Tq, s->D}, ksh[4] = {s->B, s->Hkv, s->Tk, s->D};
    uint64_t vsh[4] = {s->B, s->Hkv, s->Tk, s->Dv}, osh[4] = {s->B, s->Hq, s->Tq, s->Dv};
    size_t nq = (size_t)ct_count(4, qsh), nk = (size_t)ct_count(4, ksh), nv = (size_t)ct_count(4, vsh),
           no = (size_t)ct_count(4, osh);
    float *q = ct_falloc(nq), *k = ct_falloc(nk), *v = ct_falloc(nv);
    ct_fill(r, q, nq, -1.5, 1.5);
    ct_fill(r, k, nk, -1.5, 1.5);
    ct_fill(r, v, nv, -1, 1);
    ct_view vq = ct_view_make(dev, 4, qsh, c->lq, q), vk = ct_view_make(dev, 4, ksh, c->lk, k);
    ct_view vv = ct_view_make(dev, 4, vsh, c->lv, v), vo = ct_view_make(dev, 4, osh, c->lo, NULL);
    cordon_attention_params p;
    cordon_attention_params_init(&p);
    p.causal = c->causal;
    p.scale = c->scale;
    ct_view vm = {0};
    float *mfull = NULL;
    if (c->mask) {
        at_mask(r, c, dev, &vm, &mfull);
        p.mask = vm.t;
    }
    CHECK_OK(cordon_attention(vo.t, vq.t, vk.t, vv.t, &p));
    float *got = ct_read(vo.t);
    double *qd = ct_to_f64(q, nq), *kd = ct_to_f64(k, nk), *vd = ct_to_f64(v, nv);
    double *md = mfull ? ct_to_f64(mfull, (size_t)(s->B * s->Hq * s->Tq * s->Tk)) : NULL;
    double *ref = ct_dalloc(no), *mag = ct_dalloc(no);
    double scale = c->scale != 0.0f ? (double)c->scale : (double)(float)(1.0 / sqrt((double)s->D));
    ref_attention(ref, mag, s, qd, kd, vd, md, scale, c->causal);
    char label[160];
    snprintf(label, sizeof label, "%s B%" PRIu64 " H%" PRIu64 "/%" PRIu64 " T%" PRIu64 "/%" PRIu64 " D%" PRIu64
             "/%" PRIu64 " causal %d mask %d L%d%d%d%d", ct_cfg_name(cfg), s->B, s->Hq, s->Hkv, s->Tq, s->Tk, s->D,
             s->Dv, c->causal, c->mask, c->lq, c->lk, c->lv, c->lo);
    CT_CLOSE("attention", label, got, ref, mag, no, TOL_ATTN, FLOOR_TINY);
    ct_view_check_outside(&vo, "attention");
    free(q), free(k), free(v), free(got), free(qd), free(kd), free(vd), free(md), free(ref), free(mag), free(mfull);
    ct_view_free(&vq), ct_view_free(&vk), ct_view_free(&vv), ct_view_free(&vo), ct_view_free(&vm);
}

static inline void check_attention_bwd(cordon_device dev, ct_cfg cfg, ct_rng *r, const at_case *c) {
    const ref_attn_shape *s = &c->s;
    uint64_t qsh[4] = {s->B, s->Hq, s->Tq, s->D}, ksh[4] = {s->B, s->Hkv, s->Tk, s->D};
    uint64_t vsh[4] = {s->B, s->Hkv, s->Tk, s->Dv}, osh[4] = {s->B, s->Hq, s->Tq, s->Dv};
    size_t nq = (size_t)ct_count(4, qsh), nk = (size_t)ct_count(4, ksh), nv = (size_t)ct_count(4, vsh),
           no = (size_t)ct_count(4, osh);
    float *q = ct_falloc(nq), *k = ct_falloc(nk), *v = ct_falloc(nv), *go = ct_falloc(no);
    ct_fill(r, q, nq, -1.5, 1.5);
    ct_fill(r, k, nk, -1.5, 1.5);
    ct_fill(r, v, nv, -1, 1);
    ct_fill(r, go, no, -1, 1);
    ct_view vq = ct_view_make(dev, 4, qsh, c->lq, q), vk = ct_view_make(dev, 4, ksh, c->lk, k);
    ct_view vv = ct_view_make(dev, 4, vsh, c->lv, v), vgo = ct_view_make(dev, 4, osh, c->lo, go);
    ct_view vdq = ct_view_make(dev, 4, qsh, c->lo, NULL), vdk = ct_view_make(dev, 4, ksh, c->lq, NULL);
    ct_view vdv = ct_view_make(dev, 4, vsh, c->lk, NULL);
    cordon_attention_params p;
    cordon_attention_params_init(&p);
    p.causal = c->causal;
    p.scale = c->scale;
    ct_view vm = {0};
    float *mfull = NULL;
    if (c->mask) {
        at_mask(r, c, dev, &vm, &mfull);
        p.mask = vm.t;
    }
    CHECK_OK(cordon_attention_backward(vdq.t, vdk.t, vdv.t, vgo.t, vq.t, vk.t, vv.t, &p));
    float *gq = ct_read(vdq.t), *gk = ct_read(vdk.t), *gv = ct_read(vdv.t);
    double *qd = ct_to_f64(q, nq), *kd = ct_to_f64(k, nk), *vd = ct_to_f64(v, nv), *god = ct_to_f64(go, no);
    double *md = mfull ? ct_to_f64(mfull, (size_t)(s->B * s->Hq * s->Tq * s->Tk)) : NULL;
    double *dq = ct_dalloc(nq), *dqm = ct_dalloc(nq), *dk = ct_dalloc(nk), *dkm = ct_dalloc(nk), *dv = ct_dalloc(nv),
           *dvm = ct_dalloc(nv);
    double scale = c->scale != 0.0f ? (double)c->scale : (double)(float)(1.0 / sqrt((double)s->D));
    ref_attention_bwd(dq, dqm, dk, dkm, dv, dvm, s, god, qd, kd, vd, md, scale, c->causal);
    char label[160];
    snprintf(label, sizeof label, "%s B%" PRIu64 " H%" PRIu64 "/%" PRIu64 " T%" PRIu64 "/%" PRIu64 " D%" PRIu64
             "/%" PRIu64 " causal %d mask %d", ct_cfg_name(cfg), s->B, s->Hq, s->Hkv, s->Tq, s->Tk, s->D, s->Dv,
             c->causal, c->mask);
    CT_CLOSE("attention_backward dq", label, gq, dq, dqm, nq, TOL_ATTN_BWD, FLOOR_TINY);
    CT_CLOSE("attention_backward dk", label, gk, dk, dkm, nk, TOL_ATTN_BWD, FLOOR_TINY);
    CT_CLOSE("attention_backward dv", label, gv, dv, dvm, nv, TOL_ATTN_BWD, FLOOR_TINY);
    ct_view_check_outside(&vdq, "attention_backward dq");
    ct_view_check_outside(&vdk, "attention_backward dk");
    ct_view_check_outside(&vdv, "attention_backward dv");
    free(q), free(k), free(v), free(go), free(gq), free(gk), free(gv), free(qd), free(kd), free(vd), free(god),
        free(md), free(dq), free(dqm), free(dk), free(dkm), free(dv), free(dvm), free(mfull);
    ct_view_free(&vq), ct_view_free(&vk), ct_view_free(&vv), ct_view_free(&vgo), ct_view_free(&vdq),
        ct_view_free(&vdk), ct_view_free(&vdv), ct_view_free(&vm);
}

/* ------------------------------------------------------------------------------------------------
 * LoRA */

typedef struct lora_case {
    unsigned xndim;        /* 1..4 */
    uint64_t lead[3];      /* leading extents of x (right-aligned into the first xndim-1) */
    uint64_t in, out, r;
    bool bias;
    cordon_lora_scaling scaling;
    float alpha;
    ct_layout lx, lw, la, lb, ly;
    bool no_w; /* the adapter alone: W passed as NONE (the reference takes W = 0) */
} lora_case;

static inline double lora_s(const lora_case *c) {
    return c->scaling == CORDON_LORA_SCALE_STANDARD ? (double)(float)((double)c->alpha / (double)c->r)
                                                    : (double)(float)((double)c->alpha / sqrt((double)c->r));
}

static inline void lora_shapes(const lora_case *c, uint64_t *xsh, uint64_t *ysh, uint64_t *rows) {
    *rows = 1;
    for (unsigned i = 0; i + 1 < c->xndim; i++) {
        xsh[i] = ysh[i] = c->lead[i];
        *rows *= c->lead[i];
    }
    xsh[c->xndim - 1] = c->in;
    ysh[c->xndim - 1] = c->out;
}

static inline void check_lora(cordon_device dev, ct_cfg cfg, ct_rng *r, const lora_case *c) {
    uint64_t xsh[4], ysh[4], rows;
    lora_shapes(c, xsh, ysh, &rows);
    size_t nx = (size_t)(rows * c->in), ny = (size_t)(rows * c->out), nw = (size_t)(c->in * c->out),
           na = (size_t)(c->in * c->r), nb = (size_t)(c->r * c->out);
    float *x = ct_falloc(nx), *w = ct_falloc(nw), *a = ct_falloc(na), *b = ct_falloc(nb), *bias = ct_falloc((size_t)c->out);
    ct_fill(r, x, nx, -1, 1);
    ct_fill(r, w, nw, -0.5, 0.5);
    ct_fill(r, a, na, -0.5, 0.5);
    ct_fill(r, b, nb, -0.5, 0.5);
    ct_fill(r, bias, (size_t)c->out, -1, 1);
    uint64_t wsh[2] = {c->in, c->out}, ash[2] = {c->in, c->r}, bsh[2] = {c->r, c->out};
    ct_view vx = ct_view_make(dev, c->xndim, xsh, c->lx, x), vy = ct_view_make(dev, c->xndim, ysh, c->ly, NULL);
    ct_view vw = ct_view_make(dev, 2, wsh, c->lw, w), va = ct_view_make(dev, 2, ash, c->la, a);
    ct_view vb = ct_view_make(dev, 2, bsh, c->lb, b);
    ct_view vbias = c->bias ? ct_view_make(dev, 1, &c->out, CT_CONTIG, bias) : (ct_view){0};
    cordon_lora_params p = {c->alpha, c->scaling};
    if (c->no_w) {
        memset(w, 0, nw * sizeof(float));
    }
    CHECK_OK(cordon_lora_linear(vy.t, vx.t, c->no_w ? CORDON_TENSOR_NONE : vw.t, vbias.t, va.t, vb.t, &p));
    float *got = ct_read(vy.t);
    double *xd = ct_to_f64(x, nx), *wd = ct_to_f64(w, nw), *ad = ct_to_f64(a, na), *bd = ct_to_f64(b, nb),
           *biasd = ct_to_f64(bias, (size_t)c->out), *ref = ct_dalloc(ny), *mag = ct_dalloc(ny);
    ref_lora(ref, mag, xd, wd, c->bias ? biasd : NULL, ad, bd, rows, c->in, c->out, c->r, lora_s(c));
    char label[160];
    snprintf(label, sizeof label,
             "%s rows %" PRIu64 " in %" PRIu64 " out %" PRIu64 " r %" PRIu64 " bias %d scaling %d no_w %d",
             ct_cfg_name(cfg), rows, c->in, c->out, c->r, c->bias, c->scaling, c->no_w);
    CT_CLOSE("lora_linear", label, got, ref, mag, ny, TOL_LORA, FLOOR_TINY);
    ct_view_check_outside(&vy, "lora_linear");
    free(x), free(w), free(a), free(b), free(bias), free(got), free(xd), free(wd), free(ad), free(bd), free(biasd),
        free(ref), free(mag);
    ct_view_free(&vx), ct_view_free(&vy), ct_view_free(&vw), ct_view_free(&va), ct_view_free(&vb),
        ct_view_free(&vbias);
}

static inline void check_lora_bwd(cordon_device dev, ct_cfg cfg, ct_rng *r, const lora_case *c, bool with_dx) {
    uint64_t xsh[4], ysh[4], rows;
    lora_shapes(c, xsh, ysh, &rows);
    size_t nx = (size_t)(rows * c->in), ny = (size_t)(rows * c->out), nw = (size_t)(c->in * c->out),
           na = (size_t)(c->in * c->r), nb = (size_t)(c->r * c->out);
    float *x = ct_falloc(nx), *w = ct_falloc(nw), *a = ct_falloc(na), *b = ct_falloc(nb), *dy = ct_falloc(ny);
    ct_fill(r, x, nx, -1, 1);
    ct_fill(r, w, nw, -0.5, 0.5);
    ct_fill(r, a, na, -0.5, 0.5);
    ct_fill(r, b, nb, -0.5, 0.5);
    ct_fill(r, dy, ny, -1, 1);
    uint64_t wsh[2] = {c->in, c->out}, ash[2] = {c->in, c->r}, bsh[2] = {c->r, c->out};
    ct_view vx = ct_view_make(dev, c->xndim, xsh, c->lx, x), vdy = ct_view_make(dev, c->xndim, ysh, c->ly, dy);
    ct_view vw = ct_view_make(dev, 2, wsh, c->lw, w), va = ct_view_make(dev, 2, ash, c->la, a);
    ct_view vb = ct_view_make(dev, 2, bsh, c->lb, b);
    ct_view vdx = with_dx ? ct_view_make(dev, c->xndim, xsh, c->lb, NULL) : (ct_view){0};
    ct_view vda = ct_view_make(dev, 2, ash, c->lw, NULL), vdb = ct_view_make(dev, 2, bsh, c->lx, NULL);
    cordon_lora_params p = {c->alpha, c->scaling};
    CHECK_OK(cordon_lora_linear_backward(vdx.t, vda.t, vdb.t, vdy.t, vx.t, vw.t, va.t, vb.t, &p));
    double *xd = ct_to_f64(x, nx), *wd = ct_to_f64(w, nw), *ad = ct_to_f64(a, na), *bd = ct_to_f64(b, nb),
           *dyd = ct_to_f64(dy, ny);
    double *dx = ct_dalloc(nx), *dxm = ct_dalloc(nx), *da = ct_dalloc(na), *dam = ct_dalloc(na), *db = ct_dalloc(nb),
           *dbm = ct_dalloc(nb);
    ref_lora_bwd(dx, dxm, da, dam, db, dbm, dyd, xd, wd, ad, bd, rows, c->in, c->out, c->r, lora_s(c));
    char label[160];
    snprintf(label, sizeof label, "%s rows %" PRIu64 " in %" PRIu64 " out %" PRIu64 " r %" PRIu64 " scaling %d",
             ct_cfg_name(cfg), rows, c->in, c->out, c->r, c->scaling);
    float *ga = ct_read(vda.t), *gb = ct_read(vdb.t);
    CT_CLOSE("lora_backward dA", label, ga, da, dam, na, TOL_LORA, FLOOR_TINY);
    CT_CLOSE("lora_backward dB", label, gb, db, dbm, nb, TOL_LORA, FLOOR_TINY);
    ct_view_check_outside(&vda, "lora_backward dA");
    ct_view_check_outside(&vdb, "lora_backward dB");
    if (with_dx) {
        float *gx = ct_read(vdx.t);
        CT_CLOSE("lora_backward dx", label, gx, dx, dxm, nx, TOL_LORA, FLOOR_TINY);
        ct_view_check_outside(&vdx, "lora_backward dx");
        free(gx);
    }
    free(x), free(w), free(a), free(b), free(dy), free(xd), free(wd), free(ad), free(bd), free(dyd), free(dx),
        free(dxm), free(da), free(dam), free(db), free(dbm), free(ga), free(gb);
    ct_view_free(&vx), ct_view_free(&vdy), ct_view_free(&vw), ct_view_free(&va), ct_view_free(&vb),
        ct_view_free(&vdx), ct_view_free(&vda), ct_view_free(&vdb);
}

/* ------------------------------------------------------------------------------------------------
 * Elementwise */

typedef enum ew_op { EW_ADD, EW_MUL, EW_SCALE, EW_SILU, EW_GELU_ERF, EW_GELU_TANH, EW_SILU_BWD, EW_GELU_ERF_BWD,
                     EW_GELU_TANH_BWD, EW_OPS } ew_op;

static const char *const ew_names[EW_OPS] = {"add", "mul", "scale", "silu", "gelu_erf", "gelu_tanh",
                                             "silu_backward", "gelu_erf_backward", "gelu_tanh_backward"};

/* Runs one elementwise op: y of shape ysh; a of shape ash and b of bsh (broadcast for add/mul, else
 * equal to ysh). in_place: 0 none, 1 y = a, 2 y = b. */
static inline void check_ew(cordon_device dev, ct_cfg cfg, ct_rng *r, ew_op op, unsigned nd, const uint64_t *ysh,
                            unsigned and_, const uint64_t *ash, unsigned bnd, const uint64_t *bsh, int in_place,
                            ct_layout la, ct_layout lb, ct_layout ly, double lo, double hi) {
    bool binary = op == EW_ADD || op == EW_MUL || op >= EW_SILU_BWD;
    uint64_t y4[4] = {1, 1, 1, 1}, a4[4] = {1, 1, 1, 1}, b4[4] = {1, 1, 1, 1};
    memcpy(y4 + 4 - nd, ysh, nd * sizeof *ysh);
    memcpy(a4 + 4 - and_, ash, and_ * sizeof *ash);
    if (binary) memcpy(b4 + 4 - bnd, bsh, bnd * sizeof *bsh);
    size_t ny = (size_t)ct_count(4, y4), na = (size_t)ct_count(4, a4), nb = (size_t)ct_count(4, b4);
    float *a = ct_falloc(na), *b = ct_falloc(nb), *af = ct_falloc(ny), *bf = ct_falloc(ny);
    ct_fill(r, a, na, op >= EW_SILU_BWD ? -1 : lo, op >= EW_SILU_BWD ? 1 : hi);
    ct_fill(r, b, nb, lo, hi);
    ct_broadcast(a, a4, y4, af);
    if (binary) ct_broadcast(b, b4, y4, bf);
    ct_view va = ct_view_make(dev, and_, ash, la, a);
    ct_view vb = binary ? ct_view_make(dev, bnd, bsh, lb, b) : (ct_view){0};
    ct_view vy = in_place == 1 ? va : in_place == 2 ? vb : ct_view_make(dev, nd, ysh, ly, NULL);
    float s = 0.0f;
    switch (op) {
    case EW_ADD: CHECK_OK(cordon_add(vy.t, va.t, vb.t)); break;
    case EW_MUL: CHECK_OK(cordon_mul(vy.t, va.t, vb.t)); break;
    case EW_SCALE:
        s = (float)ct_uniform(r, -3, 3);
        CHECK_OK(cordon_scale(vy.t, va.t, s));
        break;
    case EW_SILU: CHECK_OK(cordon_silu(vy.t, va.t)); break;
    case EW_GELU_ERF: CHECK_OK(cordon_gelu(vy.t, va.t, CORDON_GELU_ERF)); break;
    case EW_GELU_TANH: CHECK_OK(cordon_gelu(vy.t, va.t, CORDON_GELU_TANH)); break;
    case EW_SILU_BWD: CHECK_OK(cordon_silu_backward(vy.t, va.t, vb.t)); break;
    case EW_GELU_ERF_BWD: CHECK_OK(cordon_gelu_backward(vy.t, va.t, vb.t, CORDON_GELU_ERF)); break;
    case EW_GELU_TANH_BWD: CHECK_OK(cordon_gelu_backward(vy.t, va.t, vb.t, CORDON_GELU_TANH)); break;
    case EW_OPS: break;
    }
    float *got = ct_read(vy.t);
    double *ref = ct_dalloc(ny), *mag = ct_dalloc(ny);
    double tol = 0.0;
    for (size_t i = 0; i < ny; i++) {
        double x = af[i], g = bf[i];
        switch (op) {
        /* add, mul, scale: the correctly rounded f32 operation, exactly. */
        case EW_ADD: ref[i] = (double)(af[i] + bf[i]); break;
        case EW_MUL: ref[i] = (double)(af[i] * bf[i]); break;
        case EW_SCALE: ref[i] = (double)(s * af[i]); break;
        case EW_SILU: ref[i] = ref_silu(x), mag[i] = fabs(ref[i]), tol = TOL_SILU; break;
        case EW_GELU_ERF:
            ref[i] = ref_gelu_erf(x);
            mag[i] = ref_gelu_erf_mag(x);
            tol = TOL_GELU;
            break;
        case EW_GELU_TANH: ref[i] = ref_gelu_tanh(x), mag[i] = ref_gelu_tanh_mag(x), tol = TOL_GELU; break;
        case EW_SILU_BWD: ref[i] = x * ref_silu_grad(g), mag[i] = fabs(x) * ref_silu_grad_mag(g), tol = TOL_SILU; break;
        case EW_GELU_ERF_BWD:
            ref[i] = x * ref_gelu_erf_grad(g);
            mag[i] = fabs(x) * ref_gelu_erf_grad_mag(g);
            tol = TOL_GELU;
            break;
        case EW_GELU_TANH_BWD:
            ref[i] = x * ref_gelu_tanh_grad(g), mag[i] = fabs(x) * ref_gelu_tanh_grad_mag(g), tol = TOL_GELU;
            break;
        case EW_OPS: break;
        }
    }
    char label[128];
    snprintf(label, sizeof label, "%s n %zu ip %d L%d%d%d", ct_cfg_name(cfg), ny, in_place, la, lb, ly);
    CT_CLOSE(ew_names[op], label, got, ref, op <= EW_SCALE ? NULL : mag, ny, tol, op <= EW_SCALE ? 0.0 : FLOOR_TINY);
    ct_view_check_outside(&vy, ew_names[op]);
    free(a), free(b), free(af), free(bf), free(got), free(ref), free(mag);
    if (in_place == 0) ct_view_free(&vy);
    ct_view_free(&va), ct_view_free(&vb);
}

/* ------------------------------------------------------------------------------------------------
 * RoPE */

static inline void check_rope(cordon_device dev, ct_cfg cfg, ct_rng *r, unsigned nd, const uint64_t *shape,
                              cordon_rope_layout layout, float base, uint64_t p0, bool inverse, bool in_place,
                              ct_layout lx, ct_layout ly) {
    size_t n = (size_t)ct_count(nd, shape);
    uint64_t D = shape[nd - 1], T = shape[nd - 2];
    float *x = ct_falloc(n);
    ct_fill(r, x, n, -2, 2);
    ct_view vx = ct_view_make(dev, nd, shape, lx, x);
    ct_view vy = in_place ? vx : ct_view_make(dev, nd, shape, ly, NULL);
    cordon_rope_params p = {layout, base, p0};
    CHECK_OK(inverse ? cordon_rope_backward(vy.t, vx.t, &p) : cordon_rope(vy.t, vx.t, &p));
    float *got = ct_read(vy.t);
    double *xd = ct_to_f64(x, n), *ref = ct_dalloc(n), *mag = ct_dalloc(n);
    ref_rope(ref, mag, xd, n / D, D, T, p0, (double)base, layout == CORDON_ROPE_HALF, inverse);
    char label[128];
    snprintf(label, sizeof label, "%s n %zu D %" PRIu64 " layout %d p0 %" PRIu64 " inv %d ip %d", ct_cfg_name(cfg), n,
             D, layout, p0, inverse, in_place);
    CT_CLOSE(inverse ? "rope_backward" : "rope", label, got, ref, mag, n, TOL_ROPE, FLOOR_TINY);
    ct_view_check_outside(&vy, "rope");
    free(x), free(got), free(xd), free(ref), free(mag);
    if (!in_place) ct_view_free(&vy);
    ct_view_free(&vx);
}

#endif /* CORDON_TESTS_COMPUTE_CHECK_H */
