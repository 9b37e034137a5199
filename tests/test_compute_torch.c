/* SPDX-License-Identifier: Apache-2.0 */
/* Compute operations against PyTorch: every case of tests/data/torch_refs.bin (written by
 * tests/make_torch_refs.py with Debian's python3-torch; the format is described there) run through cordon
 * at every instruction-set level the machine has, with 1 and 2 threads (and with BLAS for the matrix
 * products when built in), and compared with torch's output.
 *
 * What each comparison is against:
 *  - every op but add/mul/scale: torch's float64 output (float64 graph and autograd from the same float32
 *    inputs), under the tolerance ops.h documents for the op, |cordon - torch64| <= tol·M (+ floor), M the
 *    op's magnitude computed by compute_ref.h. softmax_backward takes y, the float64 forward rounded to
 *    float32 (the form cordon takes it in), while torch's dx comes from autograd through the float64
 *    forward: the rounding of y moves dx by about 2^-24·M, far inside the tolerance.
 *  - add, mul, scale: torch's float32 output, bit for bit (ops.h: the correctly rounded f32 operation).
 *  - torch's float32 outputs of the other ops are not a pass/fail reference (torch's own f32 error is not
 *    bounded by cordon's documentation); the worst |cordon - torch32|/M and |torch32 - torch64|/M are
 *    printed beside the measured errors, so the two implementations' f32 accuracy can be compared.
 * The f64 references of compute_ref.h, which the other compute tests use, are checked against torch's
 * float64 outputs too (f64_references_agree_with_torch_float64). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute_check.h"

/* ------------------------------------------------------------------------------------------------
 * The data file */

enum { TR_F32 = 1, TR_F64 = 2, TR_TEXT = 3 };

typedef struct tr_entry {
    char name[96];
    int kind;
    unsigned ndim;
    uint64_t shape[4];
    uint64_t count;
    const unsigned char *data;
} tr_entry;

static struct {
    unsigned char *blob;
    size_t size;
    tr_entry *e;
    size_t n;
} tr_db;

static uint64_t tr_le(const unsigned char *p, unsigned bytes) {
    uint64_t v = 0;
    for (unsigned i = bytes; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

/* Loads tests/data/torch_refs.bin (located from this source file's path) and checks its structure. */
static void tr_load(void) {
    if (tr_db.blob != NULL) return;
    char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/data/torch_refs.bin", slash != NULL ? (int)(slash - __FILE__) : 1,
             slash != NULL ? __FILE__ : ".");
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s (written by tests/make_torch_refs.py, committed)", path);
    CHECK(fseek(f, 0, SEEK_END) == 0);
    long len = ftell(f);
    CHECK(len > 12 && fseek(f, 0, SEEK_SET) == 0);
    tr_db.size = (size_t)len;
    tr_db.blob = malloc(tr_db.size);
    CHECK(tr_db.blob != NULL && fread(tr_db.blob, 1, tr_db.size, f) == tr_db.size);
    CHECK(fclose(f) == 0);
    CHECK_MSG(memcmp(tr_db.blob, "CTORCH01", 8) == 0, "%s: bad magic", path);
    size_t count = (size_t)tr_le(tr_db.blob + 8, 4), off = 12;
    tr_db.e = calloc(count ? count : 1, sizeof *tr_db.e);
    CHECK(tr_db.e != NULL);
    for (size_t i = 0; i < count; i++) {
        tr_entry *e = &tr_db.e[i];
        CHECK_MSG(off + 2 <= tr_db.size, "%s: entry %zu truncated", path, i);
        size_t nl = (size_t)tr_le(tr_db.blob + off, 2);
        off += 2;
        CHECK_MSG(nl < sizeof e->name && off + nl + 2 <= tr_db.size, "%s: entry %zu: bad name", path, i);
        memcpy(e->name, tr_db.blob + off, nl);
        off += nl;
        e->kind = tr_db.blob[off];
        e->ndim = tr_db.blob[off + 1];
        off += 2;
        CHECK_MSG(e->kind >= TR_F32 && e->kind <= TR_TEXT && e->ndim >= 1 && e->ndim <= 4 &&
                      off + 4u * e->ndim <= tr_db.size,
                  "%s: %s: bad kind or rank", path, e->name);
        e->count = 1;
        for (unsigned d = 0; d < e->ndim; d++) {
            e->shape[d] = tr_le(tr_db.blob + off + 4 * d, 4);
            CHECK(e->shape[d] >= 1);
            e->count *= e->shape[d];
        }
        off += 4u * e->ndim;
        uint64_t bytes = e->count * (e->kind == TR_F32 ? 4u : e->kind == TR_F64 ? 8u : 1u);
        CHECK_MSG(bytes <= tr_db.size - off, "%s: %s: data truncated", path, e->name);
        e->data = tr_db.blob + off;
        off += (size_t)bytes;
    }
    CHECK_MSG(off == tr_db.size, "%s: %zu trailing bytes", path, tr_db.size - off);
    tr_db.n = count;
}

static const tr_entry *tr_find(const char *fam, const char *cs, const char *field) {
    char name[128];
    snprintf(name, sizeof name, "%s/%s/%s", fam, cs, field);
    for (size_t i = 0; i < tr_db.n; i++) {
        if (strcmp(tr_db.e[i].name, name) == 0) return &tr_db.e[i];
    }
    return NULL;
}

static const tr_entry *tr_need(const char *fam, const char *cs, const char *field) {
    const tr_entry *e = tr_find(fam, cs, field);
    CHECK_MSG(e != NULL && e->kind != TR_TEXT, "torch_refs.bin lacks %s/%s/%s", fam, cs, field);
    return e;
}

/* The entry's elements as floats (a float32 entry) in a fresh array. */
static float *tr_floats(const tr_entry *e) {
    CHECK_MSG(e->kind == TR_F32, "%s is not float32", e->name);
    float *p = ct_falloc((size_t)e->count);
    for (uint64_t i = 0; i < e->count; i++) {
        uint32_t u = (uint32_t)tr_le(e->data + 4 * i, 4);
        memcpy(&p[i], &u, sizeof u);
    }
    return p;
}

/* The entry's elements as doubles (float32 values converted exactly). */
static double *tr_doubles(const tr_entry *e) {
    double *p = ct_dalloc((size_t)e->count);
    for (uint64_t i = 0; i < e->count; i++) {
        if (e->kind == TR_F64) {
            uint64_t u = tr_le(e->data + 8 * i, 8);
            memcpy(&p[i], &u, sizeof u);
        } else {
            uint32_t u = (uint32_t)tr_le(e->data + 4 * i, 4);
            float f;
            memcpy(&f, &u, sizeof f);
            p[i] = (double)f;
        }
    }
    return p;
}

static double tr_param(const char *fam, const char *cs, const char *field) {
    const tr_entry *e = tr_need(fam, cs, field);
    CHECK(e->kind == TR_F64 && e->count == 1);
    double *d = tr_doubles(e), v = d[0];
    free(d);
    return v;
}

/* The entry's shape right-aligned in 4 extents (leading 1s). */
static void tr_shape4(const tr_entry *e, uint64_t out[4]) {
    for (unsigned i = 0; i < 4; i++) out[i] = 1;
    for (unsigned i = 0; i < e->ndim; i++) out[4 - e->ndim + i] = e->shape[i];
}

static cordon_tensor tr_tensor(cordon_device dev, const tr_entry *e) {
    float *p = tr_floats(e);
    cordon_tensor t = ct_tensor(dev, e->ndim, e->shape, p);
    free(p);
    return t;
}

/* A fresh tensor of the entry's shape (zeros). */
static cordon_tensor tr_tensor_like(cordon_device dev, const tr_entry *e) {
    return ct_tensor(dev, e->ndim, e->shape, NULL);
}

/* Distinct case names of a family, in file order. */
static size_t tr_cases(const char *fam, char names[][64], size_t cap) {
    size_t n = 0, fl = strlen(fam);
    for (size_t i = 0; i < tr_db.n; i++) {
        const char *nm = tr_db.e[i].name;
        if (strncmp(nm, fam, fl) != 0 || nm[fl] != '/') continue;
        const char *cs = nm + fl + 1, *end = strchr(cs, '/');
        CHECK(end != NULL && (size_t)(end - cs) < 64);
        bool seen = false;
        for (size_t j = 0; j < n; j++) {
            if (strlen(names[j]) == (size_t)(end - cs) && strncmp(names[j], cs, (size_t)(end - cs)) == 0) seen = true;
        }
        if (!seen) {
            CHECK(n < cap);
            memcpy(names[n], cs, (size_t)(end - cs));
            names[n][end - cs] = '\0';
            n++;
        }
    }
    return n;
}

/* ------------------------------------------------------------------------------------------------
 * Comparison */

/* torch's two outputs of one field. */
typedef struct tr_out {
    const tr_entry *e64;
    float *t32;
    double *t64;
    size_t n;
} tr_out;

static tr_out tr_output(const char *fam, const char *cs, const char *field) {
    char f32n[32], f64n[32];
    snprintf(f32n, sizeof f32n, "%s32", field);
    snprintf(f64n, sizeof f64n, "%s64", field);
    const tr_entry *a = tr_need(fam, cs, f32n), *b = tr_need(fam, cs, f64n);
    CHECK_MSG(a->count == b->count && b->kind == TR_F64, "%s/%s/%s: float32 and float64 outputs disagree in shape",
              fam, cs, field);
    return (tr_out){b, tr_floats(a), tr_doubles(b), (size_t)b->count};
}

static void tr_out_free(tr_out *o) {
    free(o->t32);
    free(o->t64);
}

/* Worst |cordon - torch32|/M and |torch32 - torch64|/M per op, printed by tr_report (informational). */
typedef struct tr_f32_worst {
    char op[40];
    double cordon, torch;
} tr_f32_worst;

static tr_f32_worst tr_f32_table[32];
static size_t tr_f32_count;

static void tr_note_f32(const char *op, const float *got, const tr_out *o, const double *mag) {
    tr_f32_worst *w = NULL;
    for (size_t i = 0; i < tr_f32_count && w == NULL; i++) {
        if (strcmp(tr_f32_table[i].op, op) == 0) w = &tr_f32_table[i];
    }
    if (w == NULL) {
        if (tr_f32_count == 32) return;
        w = &tr_f32_table[tr_f32_count++];
        snprintf(w->op, sizeof w->op, "%s", op);
    }
    for (size_t i = 0; i < o->n; i++) {
        double m = mag != NULL ? mag[i] : fabs(o->t64[i]);
        if (!(m > 0.0) || !isfinite(o->t64[i])) continue;
        double ec = fabs((double)got[i] - (double)o->t32[i]) / m, et = fabs((double)o->t32[i] - o->t64[i]) / m;
        if (ec > w->cordon) w->cordon = ec;
        if (et > w->torch) w->torch = et;
    }
}

static void tr_report(void) {
    const tr_entry *v = NULL;
    for (size_t i = 0; i < tr_db.n; i++) {
        if (strcmp(tr_db.e[i].name, "meta/torch_version") == 0) v = &tr_db.e[i];
    }
    printf("reference: torch %.*s\n", v != NULL ? (int)v->count : 7, v != NULL ? (const char *)v->data : "unknown");
    ct_report();
    for (size_t i = 0; i < tr_f32_count; i++) {
        printf("vs torch f32 %-24s worst |cordon - torch32|/M = %.3g, torch's own |torch32 - torch64|/M = %.3g\n",
               tr_f32_table[i].op, tr_f32_table[i].cordon, tr_f32_table[i].torch);
    }
    fflush(stdout);
}

/* How a family function is run: through cordon on a device, or only its compute_ref.h reference. */
typedef struct tr_run {
    cordon_device dev;
    ct_cfg cfg;
    bool reference; /* compare compute_ref.h's f64 reference with torch64 instead of running cordon */
    double ref_tol; /* for a reference run: the bound's factor of M, 0 for TOL_REF_VS_TORCH */
} tr_run;

/* The f64 references agree with torch's float64 outputs to this fraction of M: both evaluate the same
 * expressions in double precision, in different orders (RoPE's inverse frequencies are computed two ways:
 * at position 4099 their rounding reaches about 1e-12 of the angle). */
#define TOL_REF_VS_TORCH 1e-10
#define FLOOR_REF_VS_TORCH 1e-15

/* Checks one output: cordon's `got` (or, for a reference run, compute_ref's `ref`) against torch64. */
static void tr_check(const tr_run *run, const char *op, const char *cs, const float *got, const double *ref,
                     const tr_out *o, const double *mag, double tol, double floor_abs) {
    char where[160];
    if (run->reference) {
        double ref_tol = run->ref_tol > 0.0 ? run->ref_tol : TOL_REF_VS_TORCH;
        snprintf(where, sizeof where, "%s, compute_ref.h vs torch float64", cs);
        double worst = 0.0;
        size_t at = 0;
        for (size_t i = 0; i < o->n; i++) {
            double m = mag != NULL ? mag[i] : fabs(o->t64[i]);
            double err = fabs(ref[i] - o->t64[i]), bound = ref_tol * m + FLOOR_REF_VS_TORCH;
            CHECK_MSG(isfinite(ref[i]) && isfinite(o->t64[i]), "%s [%s]: element %zu not finite", op, where, i);
            if (err / bound > worst) worst = err / bound, at = i;
        }
        CHECK_MSG(worst <= 1.0, "%s [%s]: element %zu: reference %.17g, torch %.17g (%.3g of the bound)", op, where, at,
                  ref[at], o->t64[at], worst);
        return;
    }
    snprintf(where, sizeof where, "%s %s", cs, ct_cfg_name(run->cfg));
    CT_CLOSE(op, where, got, o->t64, mag, o->n, tol, floor_abs);
    tr_note_f32(op, got, o, mag);
}

/* Reads a cordon output and checks it (reference runs pass got = NULL). */
static void tr_check_tensor(const tr_run *run, const char *op, const char *cs, cordon_tensor t, const double *ref,
                            const tr_out *o, const double *mag, double tol, double floor_abs) {
    float *got = NULL;
    if (!run->reference) {
        CHECK_EQ_U64(ct_elements(t), o->n);
        got = ct_read(t);
    }
    tr_check(run, op, cs, got, ref, o, mag, tol, floor_abs);
    free(got);
}

/* ------------------------------------------------------------------------------------------------
 * One function per family: loads a case, computes compute_ref.h's reference and magnitude, runs cordon
 * (unless a reference run) and compares. Tensors are contiguous, with the shapes stored in the file. */

static void fam_matmul(const tr_run *run, const char *cs) {
    static const char *F = "matmul";
    const tr_entry *ea = tr_need(F, cs, "a"), *eb = tr_need(F, cs, "b"), *ec = tr_need(F, cs, "c");
    bool ta = tr_param(F, cs, "trans_a") != 0.0, tb = tr_param(F, cs, "trans_b") != 0.0;
    float alpha = (float)tr_param(F, cs, "alpha"), beta = (float)tr_param(F, cs, "beta");
    tr_out o = tr_output(F, cs, "out");
    uint64_t ash[4], bsh[4], csh[4];
    tr_shape4(ea, ash), tr_shape4(eb, bsh), tr_shape4(ec, csh);
    double *ad = tr_doubles(ea), *bd = tr_doubles(eb), *ref = tr_doubles(ec), *mag = ct_dalloc(o.n);
    CHECK_EQ_U64(ec->count, o.n);
    ref_matmul(ref, mag, csh, ad, ash, ta, bd, bsh, tb, alpha, beta);
    cordon_tensor a = {0}, b = {0}, c = {0};
    if (!run->reference) {
        a = tr_tensor(run->dev, ea), b = tr_tensor(run->dev, eb), c = tr_tensor(run->dev, ec);
        cordon_matmul_params p = {alpha, beta, ta, tb};
        CHECK_OK(cordon_matmul(c, a, b, &p));
    }
    tr_check_tensor(run, "matmul", cs, c, ref, &o, mag, TOL_MATMUL, FLOOR_TINY);
    ct_destroy(a), ct_destroy(b), ct_destroy(c);
    free(ad), free(bd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_softmax(const tr_run *run, const char *cs) {
    static const char *F = "softmax";
    const tr_entry *ex = tr_need(F, cs, "x"), *em = tr_find(F, cs, "mask");
    float scale = (float)tr_param(F, cs, "scale");
    bool causal = tr_param(F, cs, "causal") != 0.0;
    tr_out o = tr_output(F, cs, "y");
    uint64_t xsh[4], msh[4];
    tr_shape4(ex, xsh);
    size_t n = (size_t)ex->count;
    double *xd = tr_doubles(ex), *md = NULL, *ref = ct_dalloc(n);
    float *mfull = NULL;
    if (em != NULL) {
        tr_shape4(em, msh);
        float *m = tr_floats(em);
        mfull = ct_falloc(n);
        ct_broadcast(m, msh, xsh, mfull);
        md = ct_to_f64(mfull, n);
        free(m);
    }
    ref_softmax(ref, xd, md, n / xsh[3], xsh[3], xsh[2], scale, causal);
    cordon_tensor x = {0}, y = {0}, mask = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), y = tr_tensor_like(run->dev, ex);
        cordon_softmax_params p;
        cordon_softmax_params_init(&p);
        p.scale = scale;
        p.causal = causal;
        if (em != NULL) p.mask = mask = tr_tensor(run->dev, em);
        CHECK_OK(cordon_softmax(y, x, &p));
    }
    tr_check_tensor(run, "softmax", cs, y, ref, &o, NULL, TOL_SOFTMAX, FLOOR_SOFTMAX);
    ct_destroy(x), ct_destroy(y), ct_destroy(mask);
    free(xd), free(md), free(ref), free(mfull), tr_out_free(&o);
}

static void fam_softmax_bwd(const tr_run *run, const char *cs) {
    static const char *F = "softmax_bwd";
    const tr_entry *ey = tr_need(F, cs, "y"), *edy = tr_need(F, cs, "dy");
    float scale = (float)tr_param(F, cs, "scale");
    tr_out o = tr_output(F, cs, "dx");
    size_t n = (size_t)ey->count;
    uint64_t cols = ey->shape[ey->ndim - 1];
    double *yd = tr_doubles(ey), *gd = tr_doubles(edy), *ref = ct_dalloc(n), *mag = ct_dalloc(n);
    ref_softmax_bwd(ref, mag, yd, gd, n / cols, cols, scale);
    /* The reference starts from y rounded to f32 (|δy| <= 2^-24·|y|), torch from its f64 forward: dx moves
     * by at most 2^-24·|scale|·|y|·(|dy| + 2·Σ|dy⊙y|) <= 2^-23·M. */
    tr_run own = *run;
    own.ref_tol = 0x1p-23;
    run = &own;
    cordon_tensor y = {0}, dy = {0}, dx = {0};
    if (!run->reference) {
        y = tr_tensor(run->dev, ey), dy = tr_tensor(run->dev, edy), dx = tr_tensor_like(run->dev, ey);
        CHECK_OK(cordon_softmax_backward(dx, y, dy, scale));
    }
    tr_check_tensor(run, "softmax_backward", cs, dx, ref, &o, mag, TOL_SOFTMAX_BWD, FLOOR_TINY);
    ct_destroy(y), ct_destroy(dy), ct_destroy(dx);
    free(yd), free(gd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_rms_norm(const tr_run *run, const char *cs) {
    static const char *F = "rms_norm";
    const tr_entry *ex = tr_need(F, cs, "x"), *ew = tr_need(F, cs, "w");
    float eps = (float)tr_param(F, cs, "eps");
    tr_out o = tr_output(F, cs, "y");
    size_t n = (size_t)ex->count;
    uint64_t cols = ex->shape[ex->ndim - 1];
    double *xd = tr_doubles(ex), *wd = tr_doubles(ew), *ref = ct_dalloc(n);
    ref_rms_norm(ref, xd, wd, n / cols, cols, eps);
    cordon_tensor x = {0}, w = {0}, y = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), w = tr_tensor(run->dev, ew), y = tr_tensor_like(run->dev, ex);
        CHECK_OK(cordon_rms_norm(y, x, w, eps));
    }
    tr_check_tensor(run, "rms_norm", cs, y, ref, &o, NULL, TOL_RMS, FLOOR_TINY);
    ct_destroy(x), ct_destroy(w), ct_destroy(y);
    free(xd), free(wd), free(ref), tr_out_free(&o);
}

static void fam_rms_norm_bwd(const tr_run *run, const char *cs) {
    static const char *F = "rms_norm_bwd";
    const tr_entry *ex = tr_need(F, cs, "x"), *ew = tr_need(F, cs, "w"), *edy = tr_need(F, cs, "dy");
    float eps = (float)tr_param(F, cs, "eps");
    tr_out odx = tr_output(F, cs, "dx"), odw = tr_output(F, cs, "dw");
    size_t n = (size_t)ex->count;
    uint64_t cols = ex->shape[ex->ndim - 1];
    double *xd = tr_doubles(ex), *wd = tr_doubles(ew), *gd = tr_doubles(edy);
    double *dx = ct_dalloc(n), *dxm = ct_dalloc(n), *dw = ct_dalloc((size_t)cols), *dwm = ct_dalloc((size_t)cols);
    ref_rms_norm_bwd(dx, dxm, dw, dwm, gd, xd, wd, n / cols, cols, eps);
    cordon_tensor x = {0}, w = {0}, dy = {0}, tdx = {0}, tdw = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), w = tr_tensor(run->dev, ew), dy = tr_tensor(run->dev, edy);
        tdx = tr_tensor_like(run->dev, ex), tdw = tr_tensor_like(run->dev, ew);
        CHECK_OK(cordon_rms_norm_backward(tdx, tdw, dy, x, w, eps));
    }
    tr_check_tensor(run, "rms_norm_backward dx", cs, tdx, dx, &odx, dxm, TOL_RMS_BWD, FLOOR_TINY);
    tr_check_tensor(run, "rms_norm_backward dweight", cs, tdw, dw, &odw, dwm, TOL_RMS_BWD, FLOOR_TINY);
    ct_destroy(x), ct_destroy(w), ct_destroy(dy), ct_destroy(tdx), ct_destroy(tdw);
    free(xd), free(wd), free(gd), free(dx), free(dxm), free(dw), free(dwm), tr_out_free(&odx), tr_out_free(&odw);
}

static void fam_layer_norm(const tr_run *run, const char *cs) {
    static const char *F = "layer_norm";
    const tr_entry *ex = tr_need(F, cs, "x"), *eg = tr_find(F, cs, "gamma"), *eb = tr_find(F, cs, "beta");
    float eps = (float)tr_param(F, cs, "eps");
    tr_out o = tr_output(F, cs, "y");
    size_t n = (size_t)ex->count;
    uint64_t cols = ex->shape[ex->ndim - 1];
    double *xd = tr_doubles(ex), *gd = eg ? tr_doubles(eg) : NULL, *bd = eb ? tr_doubles(eb) : NULL;
    double *ref = ct_dalloc(n), *mag = ct_dalloc(n);
    ref_layer_norm(ref, mag, xd, gd, bd, n / cols, cols, eps);
    cordon_tensor x = {0}, g = {0}, b = {0}, y = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), y = tr_tensor_like(run->dev, ex);
        if (eg != NULL) g = tr_tensor(run->dev, eg);
        if (eb != NULL) b = tr_tensor(run->dev, eb);
        CHECK_OK(cordon_layer_norm(y, x, g, b, eps));
    }
    tr_check_tensor(run, "layer_norm", cs, y, ref, &o, mag, TOL_LAYER, FLOOR_TINY);
    ct_destroy(x), ct_destroy(g), ct_destroy(b), ct_destroy(y);
    free(xd), free(gd), free(bd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_layer_norm_bwd(const tr_run *run, const char *cs) {
    static const char *F = "layer_norm_bwd";
    const tr_entry *ex = tr_need(F, cs, "x"), *eg = tr_find(F, cs, "gamma"), *edy = tr_need(F, cs, "dy");
    float eps = (float)tr_param(F, cs, "eps");
    tr_out odx = tr_output(F, cs, "dx"), odg = tr_output(F, cs, "dgamma"), odb = tr_output(F, cs, "dbeta");
    size_t n = (size_t)ex->count;
    uint64_t cols = ex->shape[ex->ndim - 1];
    double *xd = tr_doubles(ex), *gd = eg ? tr_doubles(eg) : NULL, *gyd = tr_doubles(edy);
    double *dx = ct_dalloc(n), *dxm = ct_dalloc(n), *dg = ct_dalloc((size_t)cols), *dgm = ct_dalloc((size_t)cols);
    double *db = ct_dalloc((size_t)cols), *dbm = ct_dalloc((size_t)cols);
    ref_layer_norm_bwd(dx, dxm, dg, dgm, db, dbm, gyd, xd, gd, n / cols, cols, eps);
    cordon_tensor x = {0}, g = {0}, dy = {0}, tdx = {0}, tdg = {0}, tdb = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), dy = tr_tensor(run->dev, edy), tdx = tr_tensor_like(run->dev, ex);
        if (eg != NULL) g = tr_tensor(run->dev, eg);
        tdg = ct_t1(run->dev, cols, NULL), tdb = ct_t1(run->dev, cols, NULL);
        CHECK_OK(cordon_layer_norm_backward(tdx, tdg, tdb, dy, x, g, eps));
    }
    tr_check_tensor(run, "layer_norm_backward dx", cs, tdx, dx, &odx, dxm, TOL_LAYER_BWD, FLOOR_TINY);
    tr_check_tensor(run, "layer_norm_backward dgamma", cs, tdg, dg, &odg, dgm, TOL_LAYER_BWD, FLOOR_TINY);
    tr_check_tensor(run, "layer_norm_backward dbeta", cs, tdb, db, &odb, dbm, TOL_LAYER_BWD, FLOOR_TINY);
    ct_destroy(x), ct_destroy(g), ct_destroy(dy), ct_destroy(tdx), ct_destroy(tdg), ct_destroy(tdb);
    free(xd), free(gd), free(gyd), free(dx), free(dxm), free(dg), free(dgm), free(db), free(dbm);
    tr_out_free(&odx), tr_out_free(&odg), tr_out_free(&odb);
}

/* Attention operands of a case: shapes, the mask broadcast to (B, Hq, Tq, Tk), and the scale used. */
typedef struct tr_attn {
    const tr_entry *q, *k, *v, *mask;
    ref_attn_shape s;
    double *qd, *kd, *vd, *md;
    float scale_param;
    double scale;
    bool causal;
} tr_attn;

static tr_attn tr_attn_load(const char *F, const char *cs) {
    tr_attn a;
    memset(&a, 0, sizeof a);
    a.q = tr_need(F, cs, "q"), a.k = tr_need(F, cs, "k"), a.v = tr_need(F, cs, "v"), a.mask = tr_find(F, cs, "mask");
    CHECK(a.q->ndim == 4 && a.k->ndim == 4 && a.v->ndim == 4);
    a.s = (ref_attn_shape){a.q->shape[0], a.q->shape[1], a.k->shape[1], a.q->shape[2], a.k->shape[2], a.q->shape[3],
                           a.v->shape[3]};
    a.qd = tr_doubles(a.q), a.kd = tr_doubles(a.k), a.vd = tr_doubles(a.v);
    a.scale_param = (float)tr_param(F, cs, "scale");
    a.scale = a.scale_param != 0.0f ? (double)a.scale_param : (double)(float)(1.0 / sqrt((double)a.s.D));
    a.causal = tr_param(F, cs, "causal") != 0.0;
    if (a.mask != NULL) {
        uint64_t msh[4], fsh[4] = {a.s.B, a.s.Hq, a.s.Tq, a.s.Tk};
        tr_shape4(a.mask, msh);
        float *m = tr_floats(a.mask), *full = ct_falloc((size_t)ct_count(4, fsh));
        ct_broadcast(m, msh, fsh, full);
        a.md = ct_to_f64(full, (size_t)ct_count(4, fsh));
        free(m), free(full);
    }
    return a;
}

static void tr_attn_free(tr_attn *a) {
    free(a->qd), free(a->kd), free(a->vd), free(a->md);
}

static void fam_attention(const tr_run *run, const char *cs) {
    tr_attn a = tr_attn_load("attention", cs);
    tr_out o = tr_output("attention", cs, "out");
    double *ref = ct_dalloc(o.n), *mag = ct_dalloc(o.n);
    ref_attention(ref, mag, &a.s, a.qd, a.kd, a.vd, a.md, a.scale, a.causal);
    cordon_tensor q = {0}, k = {0}, v = {0}, mask = {0}, out = {0};
    if (!run->reference) {
        q = tr_tensor(run->dev, a.q), k = tr_tensor(run->dev, a.k), v = tr_tensor(run->dev, a.v);
        out = ct_tensor(run->dev, o.e64->ndim, o.e64->shape, NULL);
        cordon_attention_params p;
        cordon_attention_params_init(&p);
        p.scale = a.scale_param;
        p.causal = a.causal;
        if (a.mask != NULL) p.mask = mask = tr_tensor(run->dev, a.mask);
        CHECK_OK(cordon_attention(out, q, k, v, &p));
    }
    tr_check_tensor(run, "attention", cs, out, ref, &o, mag, TOL_ATTN, FLOOR_TINY);
    ct_destroy(q), ct_destroy(k), ct_destroy(v), ct_destroy(mask), ct_destroy(out);
    free(ref), free(mag), tr_out_free(&o), tr_attn_free(&a);
}

static void fam_attention_bwd(const tr_run *run, const char *cs) {
    static const char *F = "attention_bwd";
    tr_attn a = tr_attn_load(F, cs);
    const tr_entry *ego = tr_need(F, cs, "dout");
    tr_out oq = tr_output(F, cs, "dq"), ok = tr_output(F, cs, "dk"), ov = tr_output(F, cs, "dv");
    double *god = tr_doubles(ego);
    double *dq = ct_dalloc(oq.n), *dqm = ct_dalloc(oq.n), *dk = ct_dalloc(ok.n), *dkm = ct_dalloc(ok.n);
    double *dv = ct_dalloc(ov.n), *dvm = ct_dalloc(ov.n);
    ref_attention_bwd(dq, dqm, dk, dkm, dv, dvm, &a.s, god, a.qd, a.kd, a.vd, a.md, a.scale, a.causal);
    cordon_tensor q = {0}, k = {0}, v = {0}, mask = {0}, go = {0}, tdq = {0}, tdk = {0}, tdv = {0};
    if (!run->reference) {
        q = tr_tensor(run->dev, a.q), k = tr_tensor(run->dev, a.k), v = tr_tensor(run->dev, a.v);
        go = tr_tensor(run->dev, ego);
        tdq = tr_tensor_like(run->dev, a.q), tdk = tr_tensor_like(run->dev, a.k), tdv = tr_tensor_like(run->dev, a.v);
        cordon_attention_params p;
        cordon_attention_params_init(&p);
        p.scale = a.scale_param;
        p.causal = a.causal;
        if (a.mask != NULL) p.mask = mask = tr_tensor(run->dev, a.mask);
        CHECK_OK(cordon_attention_backward(tdq, tdk, tdv, go, q, k, v, &p));
    }
    tr_check_tensor(run, "attention_backward dq", cs, tdq, dq, &oq, dqm, TOL_ATTN_BWD, FLOOR_TINY);
    tr_check_tensor(run, "attention_backward dk", cs, tdk, dk, &ok, dkm, TOL_ATTN_BWD, FLOOR_TINY);
    tr_check_tensor(run, "attention_backward dv", cs, tdv, dv, &ov, dvm, TOL_ATTN_BWD, FLOOR_TINY);
    ct_destroy(q), ct_destroy(k), ct_destroy(v), ct_destroy(mask), ct_destroy(go), ct_destroy(tdq), ct_destroy(tdk),
        ct_destroy(tdv);
    free(god), free(dq), free(dqm), free(dk), free(dkm), free(dv), free(dvm);
    tr_out_free(&oq), tr_out_free(&ok), tr_out_free(&ov), tr_attn_free(&a);
}

/* The adapter scale as cordon computes it: alpha/r or alpha/sqrt(r), rounded to f32 (ops.h). */
static cordon_lora_params tr_lora_params(const char *F, const char *cs, uint64_t r, double *s) {
    cordon_lora_params p = {(float)tr_param(F, cs, "alpha"), (cordon_lora_scaling)(int)tr_param(F, cs, "scaling")};
    CHECK(p.scaling == CORDON_LORA_SCALE_STANDARD || p.scaling == CORDON_LORA_SCALE_RSLORA);
    *s = p.scaling == CORDON_LORA_SCALE_STANDARD ? (double)(float)((double)p.alpha / (double)r)
                                                 : (double)(float)((double)p.alpha / sqrt((double)r));
    return p;
}

static void fam_lora(const tr_run *run, const char *cs) {
    static const char *F = "lora";
    const tr_entry *ex = tr_need(F, cs, "x"), *ew = tr_need(F, cs, "w"), *ea = tr_need(F, cs, "a");
    const tr_entry *eb = tr_need(F, cs, "b"), *ebias = tr_find(F, cs, "bias");
    uint64_t in = ew->shape[0], out = ew->shape[1], r = ea->shape[1], rows = ex->count / in;
    double s;
    cordon_lora_params p = tr_lora_params(F, cs, r, &s);
    tr_out o = tr_output(F, cs, "y");
    double *xd = tr_doubles(ex), *wd = tr_doubles(ew), *ad = tr_doubles(ea), *bd = tr_doubles(eb);
    double *biasd = ebias ? tr_doubles(ebias) : NULL, *ref = ct_dalloc(o.n), *mag = ct_dalloc(o.n);
    ref_lora(ref, mag, xd, wd, biasd, ad, bd, rows, in, out, r, s);
    cordon_tensor x = {0}, w = {0}, a = {0}, b = {0}, bias = {0}, y = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), w = tr_tensor(run->dev, ew), a = tr_tensor(run->dev, ea);
        b = tr_tensor(run->dev, eb), y = ct_tensor(run->dev, o.e64->ndim, o.e64->shape, NULL);
        if (ebias != NULL) bias = tr_tensor(run->dev, ebias);
        CHECK_OK(cordon_lora_linear(y, x, w, bias, a, b, &p));
    }
    tr_check_tensor(run, "lora_linear", cs, y, ref, &o, mag, TOL_LORA, FLOOR_TINY);
    ct_destroy(x), ct_destroy(w), ct_destroy(a), ct_destroy(b), ct_destroy(bias), ct_destroy(y);
    free(xd), free(wd), free(ad), free(bd), free(biasd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_lora_bwd(const tr_run *run, const char *cs) {
    static const char *F = "lora_bwd";
    const tr_entry *ex = tr_need(F, cs, "x"), *ew = tr_need(F, cs, "w"), *ea = tr_need(F, cs, "a");
    const tr_entry *eb = tr_need(F, cs, "b"), *edy = tr_need(F, cs, "dy");
    uint64_t in = ew->shape[0], out = ew->shape[1], r = ea->shape[1], rows = ex->count / in;
    double s;
    cordon_lora_params p = tr_lora_params(F, cs, r, &s);
    tr_out odx = tr_output(F, cs, "dx"), oda = tr_output(F, cs, "da"), odb = tr_output(F, cs, "db");
    double *xd = tr_doubles(ex), *wd = tr_doubles(ew), *ad = tr_doubles(ea), *bd = tr_doubles(eb), *gd = tr_doubles(edy);
    double *dx = ct_dalloc(odx.n), *dxm = ct_dalloc(odx.n), *da = ct_dalloc(oda.n), *dam = ct_dalloc(oda.n);
    double *db = ct_dalloc(odb.n), *dbm = ct_dalloc(odb.n);
    ref_lora_bwd(dx, dxm, da, dam, db, dbm, gd, xd, wd, ad, bd, rows, in, out, r, s);
    cordon_tensor x = {0}, w = {0}, a = {0}, b = {0}, dy = {0}, tdx = {0}, tda = {0}, tdb = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), w = tr_tensor(run->dev, ew), a = tr_tensor(run->dev, ea);
        b = tr_tensor(run->dev, eb), dy = tr_tensor(run->dev, edy);
        tdx = tr_tensor_like(run->dev, ex), tda = tr_tensor_like(run->dev, ea), tdb = tr_tensor_like(run->dev, eb);
        CHECK_OK(cordon_lora_linear_backward(tdx, tda, tdb, dy, x, w, a, b, &p));
    }
    tr_check_tensor(run, "lora_backward dx", cs, tdx, dx, &odx, dxm, TOL_LORA, FLOOR_TINY);
    tr_check_tensor(run, "lora_backward dA", cs, tda, da, &oda, dam, TOL_LORA, FLOOR_TINY);
    tr_check_tensor(run, "lora_backward dB", cs, tdb, db, &odb, dbm, TOL_LORA, FLOOR_TINY);
    ct_destroy(x), ct_destroy(w), ct_destroy(a), ct_destroy(b), ct_destroy(dy), ct_destroy(tdx), ct_destroy(tda),
        ct_destroy(tdb);
    free(xd), free(wd), free(ad), free(bd), free(gd), free(dx), free(dxm), free(da), free(dam), free(db), free(dbm);
    tr_out_free(&odx), tr_out_free(&oda), tr_out_free(&odb);
}

/* SiLU and GELU, forward (dy absent) and backward. */
static void tr_activation(const tr_run *run, const char *F, const char *cs, bool gelu, bool backward) {
    const tr_entry *ex = tr_need(F, cs, "x"), *edy = backward ? tr_need(F, cs, "dy") : NULL;
    cordon_gelu_mode mode = gelu ? (cordon_gelu_mode)(int)tr_param(F, cs, "mode") : CORDON_GELU_ERF;
    CHECK(mode == CORDON_GELU_ERF || mode == CORDON_GELU_TANH);
    tr_out o = tr_output(F, cs, backward ? "dx" : "y");
    size_t n = (size_t)ex->count;
    double *xd = tr_doubles(ex), *gd = backward ? tr_doubles(edy) : NULL, *ref = ct_dalloc(n), *mag = ct_dalloc(n);
    for (size_t i = 0; i < n; i++) {
        double x = xd[i];
        if (!gelu) {
            ref[i] = backward ? gd[i] * ref_silu_grad(x) : ref_silu(x);
            mag[i] = backward ? fabs(gd[i]) * ref_silu_grad_mag(x) : fabs(ref[i]);
        } else if (mode == CORDON_GELU_ERF) {
            ref[i] = backward ? gd[i] * ref_gelu_erf_grad(x) : ref_gelu_erf(x);
            mag[i] = backward ? fabs(gd[i]) * ref_gelu_erf_grad_mag(x) : ref_gelu_erf_mag(x);
        } else {
            ref[i] = backward ? gd[i] * ref_gelu_tanh_grad(x) : ref_gelu_tanh(x);
            mag[i] = backward ? fabs(gd[i]) * ref_gelu_tanh_grad_mag(x) : ref_gelu_tanh_mag(x);
        }
    }
    cordon_tensor x = {0}, dy = {0}, y = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), y = tr_tensor_like(run->dev, ex);
        if (backward) dy = tr_tensor(run->dev, edy);
        if (gelu) {
            CHECK_OK(backward ? cordon_gelu_backward(y, dy, x, mode) : cordon_gelu(y, x, mode));
        } else {
            CHECK_OK(backward ? cordon_silu_backward(y, dy, x) : cordon_silu(y, x));
        }
    }
    char op[40];
    snprintf(op, sizeof op, "%s%s", gelu ? (mode == CORDON_GELU_ERF ? "gelu_erf" : "gelu_tanh") : "silu",
             backward ? "_backward" : "");
    tr_check_tensor(run, op, cs, y, ref, &o, mag, gelu ? TOL_GELU : TOL_SILU, FLOOR_TINY);
    ct_destroy(x), ct_destroy(dy), ct_destroy(y);
    free(xd), free(gd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_silu(const tr_run *run, const char *cs) {
    tr_activation(run, "silu", cs, false, false);
}
static void fam_silu_bwd(const tr_run *run, const char *cs) {
    tr_activation(run, "silu_bwd", cs, false, true);
}
static void fam_gelu(const tr_run *run, const char *cs) {
    tr_activation(run, "gelu", cs, true, false);
}
static void fam_gelu_bwd(const tr_run *run, const char *cs) {
    tr_activation(run, "gelu_bwd", cs, true, true);
}

static void tr_rope(const tr_run *run, const char *F, const char *cs, bool backward) {
    const tr_entry *ex = tr_need(F, cs, backward ? "dy" : "x");
    cordon_rope_params p = {(cordon_rope_layout)(int)tr_param(F, cs, "layout"), (float)tr_param(F, cs, "base"),
                            (uint64_t)tr_param(F, cs, "position0")};
    CHECK(p.layout == CORDON_ROPE_INTERLEAVED || p.layout == CORDON_ROPE_HALF);
    tr_out o = tr_output(F, cs, backward ? "dx" : "y");
    size_t n = (size_t)ex->count;
    uint64_t D = ex->shape[ex->ndim - 1], T = ex->shape[ex->ndim - 2];
    double *xd = tr_doubles(ex), *ref = ct_dalloc(n), *mag = ct_dalloc(n);
    ref_rope(ref, mag, xd, n / D, D, T, p.position0, (double)p.base, p.layout == CORDON_ROPE_HALF, backward);
    cordon_tensor x = {0}, y = {0};
    if (!run->reference) {
        x = tr_tensor(run->dev, ex), y = tr_tensor_like(run->dev, ex);
        CHECK_OK(backward ? cordon_rope_backward(y, x, &p) : cordon_rope(y, x, &p));
    }
    tr_check_tensor(run, backward ? "rope_backward" : "rope", cs, y, ref, &o, mag, TOL_ROPE, FLOOR_TINY);
    ct_destroy(x), ct_destroy(y);
    free(xd), free(ref), free(mag), tr_out_free(&o);
}

static void fam_rope(const tr_run *run, const char *cs) {
    tr_rope(run, "rope", cs, false);
}
static void fam_rope_bwd(const tr_run *run, const char *cs) {
    tr_rope(run, "rope_bwd", cs, true);
}

/* add, mul, scale: torch's float32 output bit for bit (both are the correctly rounded f32 operation); the
 * reference run checks that torch's float64 output rounds to the same floats. */
static void fam_elementwise(const tr_run *run, const char *cs) {
    static const char *F = "elementwise";
    const tr_entry *ea = tr_need(F, cs, "a"), *eb = tr_find(F, cs, "b");
    int op = (int)tr_param(F, cs, "op");
    CHECK(op >= 1 && op <= 3 && (op == 3) == (eb == NULL));
    float s = op == 3 ? (float)tr_param(F, cs, "s") : 0.0f;
    tr_out o = tr_output(F, cs, "y");
    const char *name = op == 1 ? "add" : op == 2 ? "mul" : "scale";
    if (run->reference) {
        for (size_t i = 0; i < o.n; i++) {
            CHECK_MSG(memcmp(&o.t32[i], &(float){(float)o.t64[i]}, sizeof(float)) == 0,
                      "%s %s: element %zu: torch float32 %.9g, float64 rounded %.9g", name, cs, i, (double)o.t32[i],
                      o.t64[i]);
        }
        tr_out_free(&o);
        return;
    }
    cordon_tensor a = tr_tensor(run->dev, ea), b = eb ? tr_tensor(run->dev, eb) : (cordon_tensor){0};
    cordon_tensor y = ct_tensor(run->dev, o.e64->ndim, o.e64->shape, NULL);
    CHECK_OK(op == 1 ? cordon_add(y, a, b) : op == 2 ? cordon_mul(y, a, b) : cordon_scale(y, a, s));
    CHECK_EQ_U64(ct_elements(y), o.n);
    float *got = ct_read(y);
    char where[160];
    snprintf(where, sizeof where, "%s %s: torch float32 bit for bit", cs, ct_cfg_name(run->cfg));
    CT_SAME_BITS(where, got, o.t32, o.n);
    ct_destroy(a), ct_destroy(b), ct_destroy(y);
    free(got), tr_out_free(&o);
}

/* ------------------------------------------------------------------------------------------------
 * Running the families */

typedef void (*tr_family_fn)(const tr_run *run, const char *cs);

typedef struct tr_family {
    const char *name;
    tr_family_fn fn;
    size_t min_cases; /* fewer cases in the file means it was cut short */
} tr_family;

static const tr_family tr_families[] = {
    {"matmul", fam_matmul, 10},           {"softmax", fam_softmax, 8},         {"softmax_bwd", fam_softmax_bwd, 4},
    {"rms_norm", fam_rms_norm, 7},        {"rms_norm_bwd", fam_rms_norm_bwd, 4}, {"layer_norm", fam_layer_norm, 6},
    {"layer_norm_bwd", fam_layer_norm_bwd, 4}, {"attention", fam_attention, 6}, {"attention_bwd", fam_attention_bwd, 6},
    {"lora", fam_lora, 4},                {"lora_bwd", fam_lora_bwd, 3},       {"silu", fam_silu, 2},
    {"silu_bwd", fam_silu_bwd, 2},        {"gelu", fam_gelu, 4},               {"gelu_bwd", fam_gelu_bwd, 4},
    {"rope", fam_rope, 6},                {"rope_bwd", fam_rope_bwd, 4},       {"elementwise", fam_elementwise, 6},
};

static const tr_family *tr_family_named(const char *name) {
    for (size_t i = 0; i < sizeof tr_families / sizeof tr_families[0]; i++) {
        if (strcmp(tr_families[i].name, name) == 0) return &tr_families[i];
    }
    CHECK_MSG(false, "no family %s", name);
    return NULL;
}

/* Runs every case of the named families through cordon on every configuration (with BLAS too when
 * `engines`). */
static void tr_run_families(const char *const *names, size_t nnames, bool engines) {
    tr_load();
    static char cases[8][32][64];
    size_t ncases[8];
    CHECK(nnames <= 8);
    for (size_t f = 0; f < nnames; f++) {
        const tr_family *fam = tr_family_named(names[f]);
        ncases[f] = tr_cases(fam->name, cases[f], 32);
        CHECK_MSG(ncases[f] >= fam->min_cases, "torch_refs.bin holds %zu %s cases, expected at least %zu", ncases[f],
                  fam->name, fam->min_cases);
    }
    ct_iter it;
    ct_iter_init(&it, engines);
    while (ct_iter_next(&it)) {
        tr_run run = {it.dev, it.cfg, false, 0.0};
        for (size_t f = 0; f < nnames; f++) {
            const tr_family *fam = tr_family_named(names[f]);
            for (size_t c = 0; c < ncases[f]; c++) fam->fn(&run, cases[f][c]);
        }
    }
    tr_report();
    ct_iter_end(&it);
}

#define TR_RUN(engines, ...)                                                                   \
    do {                                                                                       \
        static const char *const tr_names_[] = {__VA_ARGS__};                                  \
        tr_run_families(tr_names_, sizeof tr_names_ / sizeof tr_names_[0], engines);           \
    } while (0)

/* ------------------------------------------------------------------------------------------------
 * Tests */

TEST(data_file_holds_every_family_and_the_torch_version) {
    tr_load();
    const tr_entry *v = NULL;
    for (size_t i = 0; i < tr_db.n; i++) {
        if (strcmp(tr_db.e[i].name, "meta/torch_version") == 0) v = &tr_db.e[i];
    }
    CHECK(v != NULL && v->kind == TR_TEXT && v->count >= 1);
    printf("torch_refs.bin: %zu entries, %zu bytes, torch %.*s\n", tr_db.n, tr_db.size, (int)v->count,
           (const char *)v->data);
    for (size_t f = 0; f < sizeof tr_families / sizeof tr_families[0]; f++) {
        char names[32][64];
        size_t n = tr_cases(tr_families[f].name, names, 32);
        printf("  %-16s %zu cases\n", tr_families[f].name, n);
        CHECK_MSG(n >= tr_families[f].min_cases, "%s: %zu cases", tr_families[f].name, n);
    }
}

TEST(f64_references_agree_with_torch_float64) {
    tr_load();
    tr_run run = {{0}, {CORDON_ISA_AUTO, 1, CORDON_MATMUL_AUTO, false}, true, 0.0};
    for (size_t f = 0; f < sizeof tr_families / sizeof tr_families[0]; f++) {
        char names[32][64];
        size_t n = tr_cases(tr_families[f].name, names, 32);
        for (size_t c = 0; c < n; c++) tr_families[f].fn(&run, names[c]);
    }
}

TEST(matmul_matches_torch) {
    TR_RUN(true, "matmul");
}

TEST(softmax_matches_torch) {
    TR_RUN(false, "softmax");
}

TEST(softmax_backward_matches_torch_autograd) {
    TR_RUN(false, "softmax_bwd");
}

TEST(rms_norm_matches_torch) {
    TR_RUN(false, "rms_norm");
}

TEST(rms_norm_backward_matches_torch_autograd) {
    TR_RUN(false, "rms_norm_bwd");
}

TEST(layer_norm_matches_torch) {
    TR_RUN(false, "layer_norm");
}

TEST(layer_norm_backward_matches_torch_autograd) {
    TR_RUN(false, "layer_norm_bwd");
}

TEST(attention_matches_torch) {
    TR_RUN(false, "attention");
}

TEST(attention_backward_matches_torch_autograd) {
    TR_RUN(false, "attention_bwd");
}

TEST(lora_linear_matches_torch) {
    TR_RUN(true, "lora");
}

TEST(lora_linear_backward_matches_torch_autograd) {
    TR_RUN(true, "lora_bwd");
}

TEST(silu_forward_and_backward_match_torch) {
    TR_RUN(false, "silu", "silu_bwd");
}

TEST(gelu_both_forms_forward_and_backward_match_torch) {
    TR_RUN(false, "gelu", "gelu_bwd");
}

TEST(rope_both_layouts_forward_and_backward_match_torch) {
    TR_RUN(false, "rope", "rope_bwd");
}

TEST(add_mul_scale_with_broadcast_equal_torch_float32_bit_for_bit) {
    TR_RUN(false, "elementwise");
}
