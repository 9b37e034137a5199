/* SPDX-License-Identifier: Apache-2.0 */
/* The main example: one transformer block on a cordon compute device, forward and backward.
 *
 *   1. Forward: RMSNorm → Q, K, V projections (LoRA adapters on Q and V) → RoPE (half-split layout) →
 *      causal grouped-query attention → output projection → residual → RMSNorm → SiLU-gated MLP →
 *      residual, with a "teacher" adapter, checked against a double-precision reference computed here
 *      with plain loops.
 *   2. LoRA fine-tuning: the base weights stay frozen; a student adapter (B = 0 at the start, as PEFT
 *      initialises it) learns to reproduce the teacher block's output on fresh random sequences (MSE
 *      loss), with gradients from cordon's backward operations and Adam on the host. The loss must fall.
 *      The trained adapter is saved under PEFT's tensor names (--out) and read back.
 *   3. The time of each operation of the forward pass (median of several runs) with its GFLOP/s or GB/s.
 *
 * Every weight is random from a fixed seed (--seed), so a run is repeatable; with --deterministic (the
 * default) the device gives bit-identical results for any --threads as well.
 *
 *   transformer [--device cpu|opencl|opencl:P:D|opencl:NAME] [--threads N] [--isa auto|scalar|avx2|avx512|neon] [--dim 256] [--heads 8]
 *               [--kv-heads 2] [--seq 64] [--rank 8] [--steps 200] [--lr 0.01] [--seed 42]
 *               [--deterministic | --no-deterministic] [--out lora_adapter.safetensors]
 *
 * Exit status: 0 when the loss fell, the forward and backward passes agree with the reference and the
 * saved adapter reads back identically; 1 otherwise or when a cordon call fails; 2 for a bad option. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cordon/cordon.h>
#include <cordon/safetensors.h>

#define RMS_EPS 1e-5f
#define ROPE_BASE 10000.0f
#define TIMING_RUNS 11
/* The teacher adapter's B is uniform in ±TEACHER_B/√r: it changes the block's output by a fraction of
 * its magnitude, enough to be learnt, not so much that attention saturates. */
#define TEACHER_B 0.25f

/* ---------------------------------------------------------------------------------------------------
 * Options */

typedef struct config {
    const char *device;
    unsigned threads;
    cordon_isa isa;
    size_t dim, heads, kv_heads, seq, rank, steps;
    size_t head_dim, q_dim, kv_dim, ffn; /* derived */
    double lr;
    uint64_t seed;
    bool deterministic;
    bool json; /* also print the timings as JSON lines (tools/bench-tables.py reads them) */
    const char *out;
} config;

static void usage(FILE *f) {
    fprintf(f,
            "usage: transformer [options]\n"
            "  --device NAME        compute device: cpu (default), opencl (first GPU, else first OpenCL device),\n"
            "                       opencl:P:D (platform P, device D) or opencl:NAME (a name match)\n"
            "  --threads N          threads per operation, 0 = every usable CPU (default 0)\n"
            "  --isa LEVEL          auto, scalar, avx2, avx512 or neon (default auto)\n"
            "  --dim N              model width (default 256)\n"
            "  --heads N            query heads (default 8)\n"
            "  --kv-heads N         key/value heads, dividing --heads (default 2)\n"
            "  --seq N              sequence length (default 64)\n"
            "  --rank N             LoRA rank (default 8)\n"
            "  --steps N            fine-tuning steps (default 200)\n"
            "  --lr X               Adam learning rate (default 0.01)\n"
            "  --seed N             random seed for weights and data (default 42)\n"
            "  --deterministic      bit-identical results for any thread count (default)\n"
            "  --no-deterministic   let the device use BLAS if it has it\n"
            "  --out FILE           where to save the trained adapter (default lora_adapter.safetensors)\n"
            "  --json               also print the timings as JSON lines, one object per figure\n");
}

static bool parse_size(const char *s, size_t lo, size_t hi, size_t *out) {
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

static int parse_args(int argc, char **argv, config *c) {
    *c = (config){.device = "cpu", .isa = CORDON_ISA_AUTO, .dim = 256, .heads = 8, .kv_heads = 2, .seq = 64,
                  .rank = 8, .steps = 200, .lr = 0.01, .seed = 42, .deterministic = true,
                  .out = "lora_adapter.safetensors"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        size_t n = 0;
        bool ok = true, takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--deterministic") == 0) {
            c->deterministic = true;
            takes = false;
        } else if (strcmp(a, "--json") == 0) {
            c->json = true;
            takes = false;
        } else if (strcmp(a, "--no-deterministic") == 0) {
            c->deterministic = false;
            takes = false;
        } else if (v == NULL) {
            fprintf(stderr, "transformer: %s needs a value (or is unknown)\n", a);
            return 2;
        } else if (strcmp(a, "--device") == 0) {
            c->device = v;
        } else if (strcmp(a, "--out") == 0) {
            c->out = v;
        } else if (strcmp(a, "--threads") == 0) {
            ok = parse_size(v, 0, 1024, &n);
            c->threads = (unsigned)n;
        } else if (strcmp(a, "--isa") == 0) {
            static const struct {
                const char *name;
                cordon_isa isa;
            } isas[] = {{"auto", CORDON_ISA_AUTO},
                        {"scalar", CORDON_ISA_SCALAR},
                        {"avx2", CORDON_ISA_AVX2},
                        {"avx512", CORDON_ISA_AVX512},
                        {"neon", CORDON_ISA_NEON}};
            ok = false;
            for (size_t k = 0; k < sizeof isas / sizeof isas[0]; k++) {
                if (strcmp(v, isas[k].name) == 0) {
                    c->isa = isas[k].isa;
                    ok = true;
                }
            }
        } else if (strcmp(a, "--dim") == 0) {
            ok = parse_size(v, 2, 65536, &c->dim);
        } else if (strcmp(a, "--heads") == 0) {
            ok = parse_size(v, 1, 4096, &c->heads);
        } else if (strcmp(a, "--kv-heads") == 0) {
            ok = parse_size(v, 1, 4096, &c->kv_heads);
        } else if (strcmp(a, "--seq") == 0) {
            ok = parse_size(v, 1, 65536, &c->seq);
        } else if (strcmp(a, "--rank") == 0) {
            ok = parse_size(v, 1, 4096, &c->rank);
        } else if (strcmp(a, "--steps") == 0) {
            ok = parse_size(v, 1, 1000000, &c->steps);
        } else if (strcmp(a, "--lr") == 0) {
            char *end = NULL;
            c->lr = strtod(v, &end);
            ok = end != v && *end == '\0' && c->lr > 0 && c->lr < 10;
        } else if (strcmp(a, "--seed") == 0) {
            ok = parse_size(v, 0, SIZE_MAX, &n);
            c->seed = (uint64_t)n;
        } else {
            fprintf(stderr, "transformer: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!ok) {
            fprintf(stderr, "transformer: bad value for %s: %s\n", a, v);
            return 2;
        }
        i += takes ? 1 : 0;
    }
    if (c->dim % c->heads != 0 || (c->dim / c->heads) % 2 != 0) {
        fprintf(stderr, "transformer: --dim must be a multiple of 2·--heads (even head dimension for RoPE)\n");
        return 2;
    }
    if (c->heads % c->kv_heads != 0) {
        fprintf(stderr, "transformer: --kv-heads must divide --heads\n");
        return 2;
    }
    if (c->rank > c->dim) {
        fprintf(stderr, "transformer: --rank must not exceed --dim\n");
        return 2;
    }
    c->head_dim = c->dim / c->heads;
    c->q_dim = c->heads * c->head_dim;
    c->kv_dim = c->kv_heads * c->head_dim;
    /* Llama's MLP width, 8/3 of the model width, rounded up to a multiple of 16. */
    c->ffn = ((8 * c->dim / 3) + 15) / 16 * 16;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------
 * Small helpers */

static cordon_status report(const char *what, cordon_status st, int line) {
    char detail[160];
    detail[0] = '\0';
    if (st == CORDON_OS_ERROR || st == CORDON_OUT_OF_MEMORY || st == CORDON_OUT_OF_RESOURCES) {
        cordon_format_os_error(detail, sizeof detail);
    }
    fprintf(stderr, "transformer: line %d: %s: %s %s\n", line, what, cordon_status_str(st), detail);
    return st;
}

/* Every cordon call goes through TRY: on failure it says which call and why, and the status travels up. */
#define TRY(call)                                      \
    do {                                               \
        cordon_status try_st_ = (call);                \
        if (try_st_ != CORDON_OK) {                    \
            return report(#call, try_st_, __LINE__);   \
        }                                              \
    } while (0)

static double now_s(void) {
    uint64_t ns = 0;
    if (cordon_time_monotonic_ns(&ns) != CORDON_OK) {
        return 0.0;
    }
    return (double)ns * 1e-9;
}

/* splitmix64: a small, well-mixed generator; the same seed gives the same model everywhere. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float rng_sym(uint64_t *s) {
    return (float)((double)(rng_next(s) >> 11) * (2.0 / 9007199254740992.0) - 1.0);
}

/* n values uniform in [-scale, scale) (scale·√3 would be a standard deviation of `scale`). */
static float *random_array(uint64_t *s, size_t n, float scale) {
    float *p = malloc(n * sizeof *p);
    if (p != NULL) {
        for (size_t i = 0; i < n; i++) {
            p[i] = scale * rng_sym(s);
        }
    }
    return p;
}

static cordon_status new_mat(cordon_device dev, size_t rows, size_t cols, cordon_tensor *out) {
    uint64_t shape[2] = {rows, cols};
    return cordon_tensor_create(dev, CORDON_DTYPE_F32, 2, shape, out);
}

static cordon_status new_vec(cordon_device dev, size_t n, cordon_tensor *out) {
    uint64_t shape[1] = {n};
    return cordon_tensor_create(dev, CORDON_DTYPE_F32, 1, shape, out);
}

/* The (1, H, T, D) attention view of a (T, H·D) activation: head h of row t is columns [h·D, (h+1)·D).
 * A view, not a copy: the projections write rows, attention reads heads. */
static cordon_status heads_view(cordon_tensor t, size_t seq, size_t heads, size_t head_dim, cordon_tensor *out) {
    uint64_t shape[4] = {1, heads, seq, head_dim};
    uint64_t strides[4] = {(uint64_t)seq * heads * head_dim, head_dim, (uint64_t)heads * head_dim, 1};
    return cordon_tensor_view(t, 4, shape, strides, 0, out);
}

static cordon_status upload(cordon_tensor t, const float *src, size_t n) {
    return cordon_tensor_write(t, src, n * sizeof *src);
}

static cordon_status download(cordon_tensor t, float *dst, size_t n) {
    return cordon_tensor_read(t, dst, n * sizeof *dst);
}

/* ---------------------------------------------------------------------------------------------------
 * The block: weights (host copies kept for the reference), activations, gradients */

/* A LoRA adapter on one projection: A is in × r, B is r × out (cordon's layout; PEFT stores the
 * transposes). */
typedef struct adapter {
    size_t in, out, rank;
    float *ha, *hb;  /* host values, what the optimiser updates */
    cordon_tensor a, b;
    cordon_tensor da, db;
    float *ga, *gb;  /* gradients read back */
    double *ma, *va, *mb, *vb; /* Adam moments */
} adapter;

typedef struct block {
    const config *cfg;
    cordon_device dev;
    cordon_lora_params lora;
    cordon_rope_params rope;
    cordon_attention_params attn;
    /* Frozen weights, and their host copies (for the reference). */
    float *h_g1, *h_wq, *h_wk, *h_wv, *h_wo, *h_g2, *h_wg, *h_wu, *h_wd;
    cordon_tensor g1, wq, wk, wv, wo, g2, wg, wu, wd;
    adapter teacher_q, teacher_v, student_q, student_v;
    /* Activations, (T, width) each; *_h are (1, H, T, D) views of them. */
    cordon_tensor x0, h1, q, k, v, qr, kr, att, o, x1, h2, gt, up, sg, m, dn, y;
    cordon_tensor q_h, k_h, v_h, qr_h, kr_h, att_h;
    /* Gradients. */
    cordon_tensor dy, dm, dsg, dup, dgt, dh2, dx1, datt, dq, dk, dv, dh1, dh1v, dx0;
    cordon_tensor dq_h, dk_h, dv_h, datt_h;
} block;

static bool adapter_host_init(adapter *ad, size_t in, size_t out, size_t rank, uint64_t *rng, float b_scale) {
    *ad = (adapter){.in = in, .out = out, .rank = rank};
    /* A: uniform with variance 1/in (Kaiming-like, as PEFT); B: b_scale (0 for a fresh adapter). */
    ad->ha = random_array(rng, in * rank, sqrtf(3.0f / (float)in));
    ad->hb = random_array(rng, rank * out, b_scale);
    ad->ga = malloc(in * rank * sizeof(float));
    ad->gb = malloc(rank * out * sizeof(float));
    ad->ma = calloc(in * rank, sizeof(double));
    ad->va = calloc(in * rank, sizeof(double));
    ad->mb = calloc(rank * out, sizeof(double));
    ad->vb = calloc(rank * out, sizeof(double));
    return ad->ha && ad->hb && ad->ga && ad->gb && ad->ma && ad->va && ad->mb && ad->vb;
}

static void adapter_host_free(adapter *ad) {
    free(ad->ha);
    free(ad->hb);
    free(ad->ga);
    free(ad->gb);
    free(ad->ma);
    free(ad->va);
    free(ad->mb);
    free(ad->vb);
}

static cordon_status adapter_upload(block *bk, adapter *ad, bool trainable) {
    TRY(new_mat(bk->dev, ad->in, ad->rank, &ad->a));
    TRY(new_mat(bk->dev, ad->rank, ad->out, &ad->b));
    TRY(upload(ad->a, ad->ha, ad->in * ad->rank));
    TRY(upload(ad->b, ad->hb, ad->rank * ad->out));
    if (trainable) {
        TRY(new_mat(bk->dev, ad->in, ad->rank, &ad->da));
        TRY(new_mat(bk->dev, ad->rank, ad->out, &ad->db));
    }
    return CORDON_OK;
}

static cordon_status weight(block *bk, uint64_t *rng, size_t rows, size_t cols, float **host, cordon_tensor *t) {
    /* Uniform with variance 1/rows: activations keep their scale through the projections. */
    *host = random_array(rng, rows * cols, sqrtf(3.0f / (float)rows));
    if (*host == NULL) {
        return CORDON_OUT_OF_MEMORY;
    }
    TRY(new_mat(bk->dev, rows, cols, t));
    TRY(upload(*t, *host, rows * cols));
    return CORDON_OK;
}

static cordon_status norm_weight(block *bk, uint64_t *rng, size_t n, float **host, cordon_tensor *t) {
    *host = random_array(rng, n, 0.2f);
    if (*host == NULL) {
        return CORDON_OUT_OF_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        (*host)[i] += 1.0f;
    }
    TRY(new_vec(bk->dev, n, t));
    TRY(upload(*t, *host, n));
    return CORDON_OK;
}

static cordon_status block_create(block *bk, const config *c, cordon_device dev) {
    memset(bk, 0, sizeof *bk);
    bk->cfg = c;
    bk->dev = dev;
    /* alpha = 2·rank, a common choice: the adapter's scale alpha / r is 2 whatever the rank. */
    bk->lora = (cordon_lora_params){.alpha = 2.0f * (float)c->rank, .scaling = CORDON_LORA_SCALE_STANDARD};
    /* The half-split layout of Llama checkpoints in Hugging Face form; cordon has no default layout. */
    bk->rope = (cordon_rope_params){.layout = CORDON_ROPE_HALF, .base = ROPE_BASE, .position0 = 0};
    cordon_attention_params_init(&bk->attn);
    bk->attn.causal = true;

    uint64_t rng = c->seed;
    size_t T = c->seq, d = c->dim, f = c->ffn;
    TRY(norm_weight(bk, &rng, d, &bk->h_g1, &bk->g1));
    TRY(weight(bk, &rng, d, c->q_dim, &bk->h_wq, &bk->wq));
    TRY(weight(bk, &rng, d, c->kv_dim, &bk->h_wk, &bk->wk));
    TRY(weight(bk, &rng, d, c->kv_dim, &bk->h_wv, &bk->wv));
    TRY(weight(bk, &rng, c->q_dim, d, &bk->h_wo, &bk->wo));
    TRY(norm_weight(bk, &rng, d, &bk->h_g2, &bk->g2));
    TRY(weight(bk, &rng, d, f, &bk->h_wg, &bk->wg));
    TRY(weight(bk, &rng, d, f, &bk->h_wu, &bk->wu));
    TRY(weight(bk, &rng, f, d, &bk->h_wd, &bk->wd));

    float teacher_b = TEACHER_B / sqrtf((float)c->rank);
    if (!adapter_host_init(&bk->teacher_q, d, c->q_dim, c->rank, &rng, teacher_b) ||
        !adapter_host_init(&bk->teacher_v, d, c->kv_dim, c->rank, &rng, teacher_b) ||
        !adapter_host_init(&bk->student_q, d, c->q_dim, c->rank, &rng, 0.0f) ||
        !adapter_host_init(&bk->student_v, d, c->kv_dim, c->rank, &rng, 0.0f)) {
        return CORDON_OUT_OF_MEMORY;
    }
    TRY(adapter_upload(bk, &bk->teacher_q, false));
    TRY(adapter_upload(bk, &bk->teacher_v, false));
    TRY(adapter_upload(bk, &bk->student_q, true));
    TRY(adapter_upload(bk, &bk->student_v, true));

    cordon_tensor *rows_d[] = {&bk->x0, &bk->h1, &bk->o, &bk->x1, &bk->h2, &bk->dn, &bk->y,
                               &bk->dy, &bk->dh2, &bk->dx1, &bk->dh1, &bk->dh1v, &bk->dx0};
    for (size_t i = 0; i < sizeof rows_d / sizeof rows_d[0]; i++) {
        TRY(new_mat(dev, T, d, rows_d[i]));
    }
    cordon_tensor *rows_f[] = {&bk->gt, &bk->up, &bk->sg, &bk->m, &bk->dm, &bk->dsg, &bk->dup, &bk->dgt};
    for (size_t i = 0; i < sizeof rows_f / sizeof rows_f[0]; i++) {
        TRY(new_mat(dev, T, f, rows_f[i]));
    }
    cordon_tensor *rows_q[] = {&bk->q, &bk->qr, &bk->att, &bk->datt, &bk->dq};
    for (size_t i = 0; i < sizeof rows_q / sizeof rows_q[0]; i++) {
        TRY(new_mat(dev, T, c->q_dim, rows_q[i]));
    }
    cordon_tensor *rows_kv[] = {&bk->k, &bk->v, &bk->kr, &bk->dk, &bk->dv};
    for (size_t i = 0; i < sizeof rows_kv / sizeof rows_kv[0]; i++) {
        TRY(new_mat(dev, T, c->kv_dim, rows_kv[i]));
    }
    TRY(heads_view(bk->q, T, c->heads, c->head_dim, &bk->q_h));
    TRY(heads_view(bk->qr, T, c->heads, c->head_dim, &bk->qr_h));
    TRY(heads_view(bk->att, T, c->heads, c->head_dim, &bk->att_h));
    TRY(heads_view(bk->k, T, c->kv_heads, c->head_dim, &bk->k_h));
    TRY(heads_view(bk->kr, T, c->kv_heads, c->head_dim, &bk->kr_h));
    TRY(heads_view(bk->v, T, c->kv_heads, c->head_dim, &bk->v_h));
    TRY(heads_view(bk->dq, T, c->heads, c->head_dim, &bk->dq_h));
    TRY(heads_view(bk->datt, T, c->heads, c->head_dim, &bk->datt_h));
    TRY(heads_view(bk->dk, T, c->kv_heads, c->head_dim, &bk->dk_h));
    TRY(heads_view(bk->dv, T, c->kv_heads, c->head_dim, &bk->dv_h));
    return CORDON_OK;
}

static void block_free_host(block *bk) {
    float *w[] = {bk->h_g1, bk->h_wq, bk->h_wk, bk->h_wv, bk->h_wo, bk->h_g2, bk->h_wg, bk->h_wu, bk->h_wd};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
        free(w[i]);
    }
    adapter_host_free(&bk->teacher_q);
    adapter_host_free(&bk->teacher_v);
    adapter_host_free(&bk->student_q);
    adapter_host_free(&bk->student_v);
}

/* ---------------------------------------------------------------------------------------------------
 * Forward, one operation per step so that each can be timed on its own */

enum {
    OP_NORM1, OP_Q, OP_K, OP_V, OP_ROPE_Q, OP_ROPE_K, OP_ATTENTION, OP_OUT, OP_RESIDUAL1,
    OP_NORM2, OP_GATE, OP_UP, OP_SILU, OP_GLU, OP_DOWN, OP_RESIDUAL2, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "rms_norm (attention)", "lora_linear Q", "matmul K", "lora_linear V", "rope Q", "rope K",
    "attention (causal GQA)", "matmul out", "add (residual)", "rms_norm (MLP)", "matmul gate",
    "matmul up", "silu", "mul (gate·up)", "matmul down", "add (residual)"};

static cordon_status forward_op(block *bk, const adapter *aq, const adapter *av, int op) {
    cordon_matmul_params mp;
    cordon_matmul_params_init(&mp);
    switch (op) {
    case OP_NORM1: return cordon_rms_norm(bk->h1, bk->x0, bk->g1, RMS_EPS);
    case OP_Q: return cordon_lora_linear(bk->q, bk->h1, bk->wq, CORDON_TENSOR_NONE, aq->a, aq->b, &bk->lora);
    case OP_K: return cordon_matmul(bk->k, bk->h1, bk->wk, &mp);
    case OP_V: return cordon_lora_linear(bk->v, bk->h1, bk->wv, CORDON_TENSOR_NONE, av->a, av->b, &bk->lora);
    case OP_ROPE_Q: return cordon_rope(bk->qr_h, bk->q_h, &bk->rope);
    case OP_ROPE_K: return cordon_rope(bk->kr_h, bk->k_h, &bk->rope);
    case OP_ATTENTION: return cordon_attention(bk->att_h, bk->qr_h, bk->kr_h, bk->v_h, &bk->attn);
    case OP_OUT: return cordon_matmul(bk->o, bk->att, bk->wo, &mp);
    case OP_RESIDUAL1: return cordon_add(bk->x1, bk->x0, bk->o);
    case OP_NORM2: return cordon_rms_norm(bk->h2, bk->x1, bk->g2, RMS_EPS);
    case OP_GATE: return cordon_matmul(bk->gt, bk->h2, bk->wg, &mp);
    case OP_UP: return cordon_matmul(bk->up, bk->h2, bk->wu, &mp);
    case OP_SILU: return cordon_silu(bk->sg, bk->gt);
    case OP_GLU: return cordon_mul(bk->m, bk->sg, bk->up);
    case OP_DOWN: return cordon_matmul(bk->dn, bk->m, bk->wd, &mp);
    case OP_RESIDUAL2: return cordon_add(bk->y, bk->x1, bk->dn);
    default: return CORDON_INVALID_ARGUMENT;
    }
}

static cordon_status forward(block *bk, const adapter *aq, const adapter *av) {
    for (int op = 0; op < OP_COUNT; op++) {
        cordon_status st = forward_op(bk, aq, av, op);
        if (st != CORDON_OK) {
            return report(op_names[op], st, __LINE__);
        }
    }
    return CORDON_OK;
}

/* Work of each operation, for the rates: floating-point operations (matrix products, attention) or
 * bytes moved (everything else, which is bound by memory). */
static void op_work(const config *c, int op, double *flops, double *bytes) {
    double T = (double)c->seq, d = (double)c->dim, f = (double)c->ffn, r = (double)c->rank;
    double qd = (double)c->q_dim, kvd = (double)c->kv_dim, D = (double)c->head_dim;
    *flops = 0;
    *bytes = 0;
    switch (op) {
    case OP_NORM1:
    case OP_NORM2: *bytes = 4 * (2 * T * d + d); break;
    case OP_Q: *flops = 2 * T * d * qd + 2 * T * r * (d + qd); break;
    case OP_K: *flops = 2 * T * d * kvd; break;
    case OP_V: *flops = 2 * T * d * kvd + 2 * T * r * (d + kvd); break;
    case OP_ROPE_Q: *bytes = 4 * 2 * T * qd; break;
    case OP_ROPE_K: *bytes = 4 * 2 * T * kvd; break;
    /* Causal: query t sees t + 1 keys; Q·Kᵀ and P·V are 2·D flops per pair each. */
    case OP_ATTENTION: *flops = (double)c->heads * (T * (T + 1) / 2) * 4 * D; break;
    case OP_OUT: *flops = 2 * T * qd * d; break;
    case OP_RESIDUAL1:
    case OP_RESIDUAL2: *bytes = 4 * 3 * T * d; break;
    case OP_GATE:
    case OP_UP: *flops = 2 * T * d * f; break;
    case OP_SILU: *bytes = 4 * 2 * T * f; break;
    case OP_GLU: *bytes = 4 * 3 * T * f; break;
    case OP_DOWN: *flops = 2 * T * f * d; break;
    default: break;
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Backward: from dy (the loss gradient at y) to the student adapters' gradients, through every layer.
 * Base weights are frozen, so only the activations' gradients and the adapters' are computed. */

static cordon_status backward(block *bk, const adapter *aq, const adapter *av) {
    cordon_matmul_params nt; /* dX = dY·Wᵀ */
    cordon_matmul_params_init(&nt);
    nt.trans_b = true;
    cordon_matmul_params nt_acc = nt; /* dX += dY·Wᵀ */
    nt_acc.beta = 1.0f;

    /* MLP: y = x1 + (silu(h2·Wg) ⊙ (h2·Wu))·Wd, h2 = rms_norm(x1). */
    TRY(cordon_matmul(bk->dm, bk->dy, bk->wd, &nt));
    TRY(cordon_mul(bk->dsg, bk->dm, bk->up));
    TRY(cordon_mul(bk->dup, bk->dm, bk->sg));
    TRY(cordon_silu_backward(bk->dgt, bk->dsg, bk->gt));
    TRY(cordon_matmul(bk->dh2, bk->dgt, bk->wg, &nt));
    TRY(cordon_matmul(bk->dh2, bk->dup, bk->wu, &nt_acc));
    TRY(cordon_rms_norm_backward(bk->dx1, CORDON_TENSOR_NONE, bk->dh2, bk->x1, bk->g2, RMS_EPS));
    TRY(cordon_add(bk->dx1, bk->dx1, bk->dy)); /* the residual path */

    /* Attention: x1 = x0 + attention(rope(Q), rope(K), V)·Wo. */
    TRY(cordon_matmul(bk->datt, bk->dx1, bk->wo, &nt));
    TRY(cordon_attention_backward(bk->dq_h, bk->dk_h, bk->dv_h, bk->datt_h, bk->qr_h, bk->kr_h, bk->v_h, &bk->attn));
    TRY(cordon_rope_backward(bk->dq_h, bk->dq_h, &bk->rope)); /* in place, as rope_backward allows */
    TRY(cordon_rope_backward(bk->dk_h, bk->dk_h, &bk->rope));

    /* The adapters' gradients, and h1's from each projection. */
    TRY(cordon_lora_linear_backward(bk->dh1, aq->da, aq->db, bk->dq, bk->h1, bk->wq, aq->a, aq->b, &bk->lora));
    TRY(cordon_lora_linear_backward(bk->dh1v, av->da, av->db, bk->dv, bk->h1, bk->wv, av->a, av->b, &bk->lora));
    TRY(cordon_add(bk->dh1, bk->dh1, bk->dh1v));
    TRY(cordon_matmul(bk->dh1, bk->dk, bk->wk, &nt_acc));

    /* The gradient at the block's input, what the block below would receive. */
    TRY(cordon_rms_norm_backward(bk->dx0, CORDON_TENSOR_NONE, bk->dh1, bk->x0, bk->g1, RMS_EPS));
    TRY(cordon_add(bk->dx0, bk->dx0, bk->dx1));
    return CORDON_OK;
}

/* ---------------------------------------------------------------------------------------------------
 * The double-precision reference: the same block with plain loops, nothing shared with the library */

typedef struct reference {
    double *h1, *q, *k, *v, *att, *x1, *h2, *gt, *up, *m, *y; /* q, k after RoPE */
} reference;

static bool reference_alloc(reference *r, const config *c) {
    size_t T = c->seq;
    r->h1 = malloc(T * c->dim * sizeof(double));
    r->q = malloc(T * c->q_dim * sizeof(double));
    r->k = malloc(T * c->kv_dim * sizeof(double));
    r->v = malloc(T * c->kv_dim * sizeof(double));
    r->att = malloc(T * c->q_dim * sizeof(double));
    r->x1 = malloc(T * c->dim * sizeof(double));
    r->h2 = malloc(T * c->dim * sizeof(double));
    r->gt = malloc(T * c->ffn * sizeof(double));
    r->up = malloc(T * c->ffn * sizeof(double));
    r->m = malloc(T * c->ffn * sizeof(double));
    r->y = malloc(T * c->dim * sizeof(double));
    return r->h1 && r->q && r->k && r->v && r->att && r->x1 && r->h2 && r->gt && r->up && r->m && r->y;
}

static void reference_free(reference *r) {
    double *p[] = {r->h1, r->q, r->k, r->v, r->att, r->x1, r->h2, r->gt, r->up, r->m, r->y};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        free(p[i]);
    }
}

static void ref_rms_norm(double *y, const double *x, const float *g, size_t T, size_t n) {
    for (size_t t = 0; t < T; t++) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            ss += x[t * n + i] * x[t * n + i];
        }
        double inv = 1.0 / sqrt(ss / (double)n + (double)RMS_EPS);
        for (size_t i = 0; i < n; i++) {
            y[t * n + i] = x[t * n + i] * inv * g[i];
        }
    }
}

/* y (T × out) = x·W + s·(x·A)·B; A and B may be NULL (no adapter). */
static void ref_linear(double *y, const double *x, const float *w, const double *a, const double *b, size_t T,
                       size_t in, size_t out, size_t rank, double s) {
    for (size_t t = 0; t < T; t++) {
        for (size_t j = 0; j < out; j++) {
            double acc = 0;
            for (size_t i = 0; i < in; i++) {
                acc += x[t * in + i] * w[i * out + j];
            }
            y[t * out + j] = acc;
        }
        if (a != NULL) {
            for (size_t k = 0; k < rank; k++) {
                double xa = 0;
                for (size_t i = 0; i < in; i++) {
                    xa += x[t * in + i] * a[i * rank + k];
                }
                for (size_t j = 0; j < out; j++) {
                    y[t * out + j] += s * xa * b[k * out + j];
                }
            }
        }
    }
}

/* Half-split RoPE on every head of a (T, H·D) array, in place: pair (i, i + D/2) of row t rotated by
 * t·base^(-2i/D). */
static void ref_rope(double *x, size_t T, size_t H, size_t D) {
    for (size_t t = 0; t < T; t++) {
        for (size_t h = 0; h < H; h++) {
            double *row = x + (t * H + h) * D;
            for (size_t i = 0; i < D / 2; i++) {
                double ang = (double)t * pow((double)ROPE_BASE, -2.0 * (double)i / (double)D);
                double x0 = row[i], x1 = row[i + D / 2];
                row[i] = x0 * cos(ang) - x1 * sin(ang);
                row[i + D / 2] = x0 * sin(ang) + x1 * cos(ang);
            }
        }
    }
}

static void ref_attention(double *out, const double *q, const double *k, const double *v, const config *c,
                          double *p) {
    size_t T = c->seq, H = c->heads, Hk = c->kv_heads, D = c->head_dim;
    double scale = 1.0 / sqrt((double)D);
    for (size_t h = 0; h < H; h++) {
        size_t hk = h / (H / Hk);
        for (size_t t = 0; t < T; t++) {
            const double *qt = q + (t * H + h) * D;
            double mx = -INFINITY, sum = 0;
            for (size_t j = 0; j <= t; j++) {
                const double *kj = k + (j * Hk + hk) * D;
                double s = 0;
                for (size_t e = 0; e < D; e++) {
                    s += qt[e] * kj[e];
                }
                p[j] = s * scale;
                mx = p[j] > mx ? p[j] : mx;
            }
            for (size_t j = 0; j <= t; j++) {
                p[j] = exp(p[j] - mx);
                sum += p[j];
            }
            double *o = out + (t * H + h) * D;
            for (size_t e = 0; e < D; e++) {
                o[e] = 0;
            }
            for (size_t j = 0; j <= t; j++) {
                const double *vj = v + (j * Hk + hk) * D;
                for (size_t e = 0; e < D; e++) {
                    o[e] += p[j] / sum * vj[e];
                }
            }
        }
    }
}

/* The block's output for input x0 and adapters (aq_a, aq_b, av_a, av_b) in double; returns false when
 * out of memory. */
static bool ref_forward(reference *r, const block *bk, const float *x0f, const double *aq_a, const double *aq_b,
                        const double *av_a, const double *av_b) {
    const config *c = bk->cfg;
    size_t T = c->seq, d = c->dim, f = c->ffn;
    double s = (double)bk->lora.alpha / (double)c->rank;
    double *x0 = malloc(T * d * sizeof *x0), *o = malloc(T * d * sizeof *o), *dn = malloc(T * d * sizeof *dn);
    double *p = malloc(T * sizeof *p);
    if (!x0 || !o || !dn || !p) {
        free(x0); free(o); free(dn); free(p);
        return false;
    }
    for (size_t i = 0; i < T * d; i++) {
        x0[i] = x0f[i];
    }
    ref_rms_norm(r->h1, x0, bk->h_g1, T, d);
    ref_linear(r->q, r->h1, bk->h_wq, aq_a, aq_b, T, d, c->q_dim, c->rank, s);
    ref_linear(r->k, r->h1, bk->h_wk, NULL, NULL, T, d, c->kv_dim, c->rank, s);
    ref_linear(r->v, r->h1, bk->h_wv, av_a, av_b, T, d, c->kv_dim, c->rank, s);
    ref_rope(r->q, T, c->heads, c->head_dim);
    ref_rope(r->k, T, c->kv_heads, c->head_dim);
    ref_attention(r->att, r->q, r->k, r->v, c, p);
    ref_linear(o, r->att, bk->h_wo, NULL, NULL, T, c->q_dim, d, c->rank, s);
    for (size_t i = 0; i < T * d; i++) {
        r->x1[i] = x0[i] + o[i];
    }
    ref_rms_norm(r->h2, r->x1, bk->h_g2, T, d);
    ref_linear(r->gt, r->h2, bk->h_wg, NULL, NULL, T, d, f, c->rank, s);
    ref_linear(r->up, r->h2, bk->h_wu, NULL, NULL, T, d, f, c->rank, s);
    for (size_t i = 0; i < T * f; i++) {
        r->m[i] = r->gt[i] / (1.0 + exp(-r->gt[i])) * r->up[i];
    }
    ref_linear(dn, r->m, bk->h_wd, NULL, NULL, T, f, d, c->rank, s);
    for (size_t i = 0; i < T * d; i++) {
        r->y[i] = r->x1[i] + dn[i];
    }
    free(x0); free(o); free(dn); free(p);
    return true;
}

static double *to_double(const float *src, size_t n) {
    double *p = malloc(n * sizeof *p);
    if (p != NULL) {
        for (size_t i = 0; i < n; i++) {
            p[i] = src[i];
        }
    }
    return p;
}

typedef struct error_stats {
    double max_abs, max_ref;
} error_stats;

/* The largest |cordon − reference| over a tensor, and the largest |reference| for scale. */
static cordon_status compare(cordon_tensor t, const double *ref, size_t n, error_stats *out) {
    float *got = malloc(n * sizeof *got);
    if (got == NULL) {
        return CORDON_OUT_OF_MEMORY;
    }
    cordon_status st = download(t, got, n);
    *out = (error_stats){0, 0};
    for (size_t i = 0; st == CORDON_OK && i < n; i++) {
        double e = fabs((double)got[i] - ref[i]);
        out->max_abs = e > out->max_abs ? e : out->max_abs;
        out->max_ref = fabs(ref[i]) > out->max_ref ? fabs(ref[i]) : out->max_ref;
    }
    free(got);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Part 1: the forward pass against the reference */

static cordon_status part_forward(block *bk, const float *x0, bool *accurate) {
    const config *c = bk->cfg;
    size_t T = c->seq;
    printf("\n1. Forward pass of one block (teacher adapter on Q and V), against a double-precision reference\n");
    TRY(upload(bk->x0, x0, T * c->dim));
    double t0 = now_s();
    TRY(forward(bk, &bk->teacher_q, &bk->teacher_v));
    double t1 = now_s();
    printf("   cordon forward: %.3f ms (first call: scratch and pages warm up)\n", (t1 - t0) * 1e3);

    reference r = {0};
    double *aqa = to_double(bk->teacher_q.ha, c->dim * c->rank), *aqb = to_double(bk->teacher_q.hb, c->rank * c->q_dim);
    double *ava = to_double(bk->teacher_v.ha, c->dim * c->rank), *avb = to_double(bk->teacher_v.hb, c->rank * c->kv_dim);
    bool ok = aqa && aqb && ava && avb && reference_alloc(&r, c) && ref_forward(&r, bk, x0, aqa, aqb, ava, avb);
    free(aqa); free(aqb); free(ava); free(avb);
    if (!ok) {
        reference_free(&r);
        return report("reference", CORDON_OUT_OF_MEMORY, __LINE__);
    }
    printf("   reference (plain loops in double): %.3f ms\n", (now_s() - t1) * 1e3);
    struct {
        const char *name;
        cordon_tensor t;
        const double *ref;
        size_t n;
    } stages[] = {{"rms_norm", bk->h1, r.h1, T * c->dim},     {"Q after RoPE", bk->qr, r.q, T * c->q_dim},
                  {"K after RoPE", bk->kr, r.k, T * c->kv_dim}, {"V", bk->v, r.v, T * c->kv_dim},
                  {"attention", bk->att, r.att, T * c->q_dim},  {"after residual 1", bk->x1, r.x1, T * c->dim},
                  {"SiLU(gate)·up", bk->m, r.m, T * c->ffn},    {"block output", bk->y, r.y, T * c->dim}};
    printf("   %-20s %14s %14s %12s\n", "stage", "max |error|", "max |value|", "relative");
    cordon_status st = CORDON_OK;
    double worst = 0;
    for (size_t i = 0; st == CORDON_OK && i < sizeof stages / sizeof stages[0]; i++) {
        error_stats e = {0, 0};
        st = compare(stages[i].t, stages[i].ref, stages[i].n, &e);
        double rel = e.max_ref > 0 ? e.max_abs / e.max_ref : e.max_abs;
        worst = rel > worst ? rel : worst;
        if (st == CORDON_OK) {
            printf("   %-20s %14.3e %14.3e %12.2e\n", stages[i].name, e.max_abs, e.max_ref, rel);
        }
    }
    reference_free(&r);
    TRY(st);
    /* f32 through ~10 chained operations of width <= a few thousand: a few 1e-6 relative is expected. */
    *accurate = worst < 1e-4;
    printf("   %s: largest error %.2e of the stage's magnitude (limit 1e-4)\n",
           *accurate ? "agrees" : "DISAGREES", worst);
    return CORDON_OK;
}

/* ---------------------------------------------------------------------------------------------------
 * Part 2: LoRA fine-tuning */

/* MSE between y and target over n elements; writes dy = 2·(y − target)/n. */
static cordon_status loss_and_grad(block *bk, const float *target, float *ybuf, float *dybuf, size_t n, double *loss) {
    TRY(download(bk->y, ybuf, n));
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double diff = (double)ybuf[i] - (double)target[i];
        sum += diff * diff;
        dybuf[i] = (float)(2.0 * diff / (double)n);
    }
    *loss = sum / (double)n;
    TRY(upload(bk->dy, dybuf, n));
    return CORDON_OK;
}

static void adam_update(float *p, const float *g, double *m, double *v, size_t n, double lr, uint64_t step) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double c1 = 1.0 - pow(b1, (double)step), c2 = 1.0 - pow(b2, (double)step);
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * (double)g[i] * g[i];
        p[i] -= (float)(lr * (m[i] / c1) / (sqrt(v[i] / c2) + eps));
    }
}

/* Reads the adapter's gradients, takes one Adam step on the host copy and writes the adapter back. */
static cordon_status adapter_step(adapter *ad, double lr, uint64_t step) {
    TRY(download(ad->da, ad->ga, ad->in * ad->rank));
    TRY(download(ad->db, ad->gb, ad->rank * ad->out));
    adam_update(ad->ha, ad->ga, ad->ma, ad->va, ad->in * ad->rank, lr, step);
    adam_update(ad->hb, ad->gb, ad->mb, ad->vb, ad->rank * ad->out, lr, step);
    TRY(upload(ad->a, ad->ha, ad->in * ad->rank));
    TRY(upload(ad->b, ad->hb, ad->rank * ad->out));
    return CORDON_OK;
}

/* The loss of the student on (x, target) without touching gradients. */
static cordon_status eval_loss(block *bk, const float *x, const float *target, float *ybuf, float *dybuf,
                               double *loss) {
    size_t n = bk->cfg->seq * bk->cfg->dim;
    TRY(upload(bk->x0, x, n));
    TRY(forward(bk, &bk->student_q, &bk->student_v));
    return loss_and_grad(bk, target, ybuf, dybuf, n, loss);
}

/* Checks the backward pass once: the derivative of the loss along the gradient g (|g|, from cordon's
 * backward) against a central finite difference of the double-precision reference's loss along g/|g|. */
static cordon_status gradient_check(block *bk, const float *x, const float *target, bool *agrees) {
    const config *c = bk->cfg;
    const float *val[4] = {bk->student_q.ha, bk->student_q.hb, bk->student_v.ha, bk->student_v.hb};
    const float *grad[4] = {bk->student_q.ga, bk->student_q.gb, bk->student_v.ga, bk->student_v.gb};
    size_t n[4] = {c->dim * c->rank, c->rank * c->q_dim, c->dim * c->rank, c->rank * c->kv_dim};
    double *p[4] = {0};
    reference r = {0};
    bool ok = reference_alloc(&r, c);
    double norm = 0;
    for (int i = 0; i < 4; i++) {
        p[i] = malloc(n[i] * sizeof(double));
        ok = ok && p[i] != NULL;
        for (size_t j = 0; j < n[i]; j++) {
            norm += (double)grad[i][j] * grad[i][j];
        }
    }
    norm = sqrt(norm);
    double loss[2] = {0, 0};
    /* A step of 1e-4 in parameter space: truncation error ~h², rounding of the double loss negligible. */
    const double h = 1e-4;
    for (int side = 0; ok && norm > 0 && side < 2; side++) {
        double sign = side == 0 ? 1.0 : -1.0;
        for (int i = 0; i < 4; i++) {
            for (size_t j = 0; j < n[i]; j++) {
                p[i][j] = (double)val[i][j] + sign * h * (double)grad[i][j] / norm;
            }
        }
        ok = ref_forward(&r, bk, x, p[0], p[1], p[2], p[3]);
        for (size_t j = 0; ok && j < c->seq * c->dim; j++) {
            double diff = r.y[j] - (double)target[j];
            loss[side] += diff * diff;
        }
        loss[side] /= (double)(c->seq * c->dim);
    }
    for (int i = 0; i < 4; i++) {
        free(p[i]);
    }
    reference_free(&r);
    if (!ok) {
        return report("gradient check", CORDON_OUT_OF_MEMORY, __LINE__);
    }
    double fd = (loss[0] - loss[1]) / (2 * h);
    double rel = fabs(norm - fd) / (fd != 0 ? fabs(fd) : 1.0);
    /* f32 gradients through the block: a few 1e-6 relative is expected; 1e-3 means a wrong gradient. */
    *agrees = rel < 1e-3;
    printf("   gradient check (trained adapters, along the gradient): backward %.6e, finite difference of the\n"
           "   reference %.6e, relative difference %.1e (%s)\n",
           norm, fd, rel, *agrees ? "agrees" : "DISAGREES");
    return CORDON_OK;
}

/* FNV-1a over the bits of the trained adapters: equal across runs exactly when the results are
 * bit-identical (compare --threads 1 and 2 on a deterministic device). */
static uint64_t adapters_checksum(const block *bk) {
    const adapter *ads[2] = {&bk->student_q, &bk->student_v};
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (int i = 0; i < 2; i++) {
        const float *arrays[2] = {ads[i]->ha, ads[i]->hb};
        size_t n[2] = {ads[i]->in * ads[i]->rank, ads[i]->rank * ads[i]->out};
        for (int k = 0; k < 2; k++) {
            const unsigned char *bytes = (const unsigned char *)arrays[k];
            for (size_t j = 0; j < n[k] * sizeof(float); j++) {
                h = (h ^ bytes[j]) * UINT64_C(0x100000001b3);
            }
        }
    }
    return h;
}

static cordon_status part_train(block *bk, bool *fell, bool *grad_ok) {
    const config *c = bk->cfg;
    size_t n = c->seq * c->dim;
    printf("\n2. LoRA fine-tuning: frozen block, student adapter (rank %zu, alpha %.0f, B = 0 at start) learns "
           "the teacher's\n   output on fresh random sequences; MSE loss, Adam (lr %g), %zu steps, %s device\n",
           c->rank, (double)bk->lora.alpha, c->lr, c->steps, c->deterministic ? "deterministic" : "non-deterministic");
    float *x = malloc(n * sizeof *x), *target = malloc(n * sizeof *target);
    float *held_x = malloc(n * sizeof *held_x), *held_t = malloc(n * sizeof *held_t);
    float *ybuf = malloc(n * sizeof *ybuf), *dybuf = malloc(n * sizeof *dybuf);
    if (!x || !target || !held_x || !held_t || !ybuf || !dybuf) {
        free(x); free(target); free(held_x); free(held_t); free(ybuf); free(dybuf);
        return report("buffers", CORDON_OUT_OF_MEMORY, __LINE__);
    }
    cordon_status st = CORDON_OK;
    uint64_t rng = c->seed * UINT64_C(6364136223846793005) + 1;
    /* A held-out sequence, never trained on, measured before and after. */
    for (size_t i = 0; i < n; i++) {
        held_x[i] = rng_sym(&rng);
    }
#define STEP(call)                                                        \
    if (st == CORDON_OK && (st = (call)) != CORDON_OK) {                  \
        report(#call, st, __LINE__);                                      \
    }
    STEP(upload(bk->x0, held_x, n));
    STEP(forward(bk, &bk->teacher_q, &bk->teacher_v));
    STEP(download(bk->y, held_t, n));
    double held_before = 0, held = 0;
    STEP(eval_loss(bk, held_x, held_t, ybuf, dybuf, &held_before));
    printf("   step %5d/%zu  %-24s held-out loss %.6e\n", 0, c->steps, "", held_before);

    size_t log_every = c->steps >= 20 ? c->steps / 10 : 1;
    /* Learning-rate warm-up over the first tenth of the run: Adam's first steps move every parameter by
     * about lr at once, which would overshoot while B is still near 0. */
    double warmup = c->steps >= 10 ? (double)(c->steps / 10) : 1.0;
    double t_start = now_s();
    for (size_t step = 1; st == CORDON_OK && step <= c->steps; step++) {
        for (size_t i = 0; i < n; i++) {
            x[i] = rng_sym(&rng);
        }
        /* The target: the same block with the teacher's adapter. */
        STEP(upload(bk->x0, x, n));
        STEP(forward(bk, &bk->teacher_q, &bk->teacher_v));
        STEP(download(bk->y, target, n));
        double loss = 0;
        STEP(forward(bk, &bk->student_q, &bk->student_v));
        STEP(loss_and_grad(bk, target, ybuf, dybuf, n, &loss));
        STEP(backward(bk, &bk->student_q, &bk->student_v));
        double lr = c->lr * ((double)step < warmup ? (double)step / warmup : 1.0);
        STEP(adapter_step(&bk->student_q, lr, step));
        STEP(adapter_step(&bk->student_v, lr, step));
        if (st == CORDON_OK && (step % log_every == 0 || step == c->steps)) {
            STEP(eval_loss(bk, held_x, held_t, ybuf, dybuf, &held));
            double el = now_s() - t_start;
            printf("   step %5zu/%zu  train loss %.6e  held-out loss %.6e  (%.1f ms/step, %.1f s left)\n", step,
                   c->steps, loss, held, el / (double)step * 1e3, el / (double)step * (double)(c->steps - step));
            fflush(stdout);
        }
    }
    /* The backward pass checked once, at the trained adapters (A and B both non-zero by now, so every
     * path through the adapters carries gradient), on the held-out sequence. */
    STEP(eval_loss(bk, held_x, held_t, ybuf, dybuf, &held));
    STEP(backward(bk, &bk->student_q, &bk->student_v));
    STEP(download(bk->student_q.da, bk->student_q.ga, c->dim * c->rank));
    STEP(download(bk->student_q.db, bk->student_q.gb, c->rank * c->q_dim));
    STEP(download(bk->student_v.da, bk->student_v.ga, c->dim * c->rank));
    STEP(download(bk->student_v.db, bk->student_v.gb, c->rank * c->kv_dim));
    STEP(gradient_check(bk, held_x, held_t, grad_ok));
#undef STEP
    if (st == CORDON_OK) {
        /* The same sequence before and after: the comparison is not at the mercy of one batch's noise. */
        printf("   held-out loss: first %.6e, final %.6e (x%.3g)\n", held_before, held, held / held_before);
        printf("   adapter checksum: %016" PRIx64 "\n", adapters_checksum(bk));
        *fell = held < held_before;
        printf("   %s\n", *fell ? "the loss fell" : "THE LOSS DID NOT FALL");
    }
    free(x); free(target); free(held_x); free(held_t); free(ybuf); free(dybuf);
    return st;
}

/* Saves the student adapter as PEFT names it (lora_A.weight (r, in), lora_B.weight (out, r); cordon
 * transposes), with rank, alpha and the scaling convention in the metadata, then opens the file again
 * and checks that both adapters load back bit for bit. */
#define PEFT_LAYER "base_model.model.model.layers.0.self_attn."

static cordon_status same_values(cordon_tensor t, const float *expect, size_t n, bool *same) {
    float *got = malloc(n * sizeof *got);
    if (got == NULL) {
        return CORDON_OUT_OF_MEMORY;
    }
    cordon_status st = download(t, got, n);
    *same = *same && st == CORDON_OK && memcmp(got, expect, n * sizeof *got) == 0;
    free(got);
    return st;
}

static cordon_status save_adapter(block *bk, bool *saved) {
    const config *c = bk->cfg;
    cordon_lora_adapter ads[2] = {{PEFT_LAYER "q_proj", bk->student_q.a, bk->student_q.b},
                                  {PEFT_LAYER "v_proj", bk->student_v.a, bk->student_v.b}};
    char key[256] = "";
    cordon_status st = cordon_safetensors_save_lora(c->out, ads, 2, &bk->lora, 0, key, sizeof key);
    if (st != CORDON_OK) {
        fprintf(stderr, "transformer: saving %s failed at key \"%s\"\n", c->out, key);
        return report("cordon_safetensors_save_lora", st, __LINE__);
    }
    cordon_safetensors file;
    TRY(cordon_safetensors_open(c->out, &file));
    cordon_lora_params lp = {0};
    uint64_t rank = 0;
    st = cordon_safetensors_lora_params(file, &lp, &rank, key, sizeof key);
    bool same = st == CORDON_OK && rank == c->rank && lp.alpha == bk->lora.alpha && lp.scaling == bk->lora.scaling;
    const adapter *host[2] = {&bk->student_q, &bk->student_v};
    for (int i = 0; st == CORDON_OK && i < 2; i++) {
        cordon_tensor a = CORDON_TENSOR_NONE, b = CORDON_TENSOR_NONE;
        st = cordon_safetensors_load_lora(file, ads[i].prefix, bk->dev, &a, &b, key, sizeof key);
        if (st == CORDON_OK) {
            st = same_values(a, host[i]->ha, host[i]->in * host[i]->rank, &same);
        }
        if (st == CORDON_OK) {
            st = same_values(b, host[i]->hb, host[i]->rank * host[i]->out, &same);
        }
        /* Loaded tensors belong to the caller: destroy them (a failed load created nothing). */
        cordon_tensor loaded[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            cordon_status dst = loaded[k].handle != 0 ? cordon_tensor_destroy(loaded[k]) : CORDON_OK;
            st = st == CORDON_OK ? dst : st;
        }
    }
    cordon_status cst = cordon_safetensors_close(file);
    TRY(st);
    TRY(cst);
    *saved = same;
    printf("\n   saved the adapter to %s (%s{q_proj,v_proj}.lora_{A,B}.weight, rank %" PRIu64
           ", alpha %g, %s)\n   and read it back: %s\n",
           c->out, PEFT_LAYER, rank, (double)lp.alpha, lp.scaling == CORDON_LORA_SCALE_RSLORA ? "rslora" : "standard",
           same ? "identical" : "DIFFERENT");
    return CORDON_OK;
}

/* ---------------------------------------------------------------------------------------------------
 * Part 3: per-operation timings */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cordon_status part_timing(block *bk) {
    const config *c = bk->cfg;
    printf("\n3. Time per operation of the forward pass (median of %d runs after a warm-up; min-max)\n",
           TIMING_RUNS);
    printf("   %-24s %10s %21s %12s\n", "operation", "median us", "min-max us", "rate");
    double total = 0;
    for (int op = 0; op < OP_COUNT; op++) {
        double t[TIMING_RUNS];
        TRY(forward_op(bk, &bk->teacher_q, &bk->teacher_v, op));
        for (int i = 0; i < TIMING_RUNS; i++) {
            /* A device may queue operations and return (OpenCL): each timing ends when the device has
             * finished the work (cordon_device_sync, which costs nothing on the CPU). */
            TRY(cordon_device_sync(bk->dev));
            double t0 = now_s();
            TRY(forward_op(bk, &bk->teacher_q, &bk->teacher_v, op));
            TRY(cordon_device_sync(bk->dev));
            t[i] = (now_s() - t0) * 1e6;
        }
        qsort(t, TIMING_RUNS, sizeof t[0], cmp_double);
        double med = t[TIMING_RUNS / 2], flops, bytes;
        total += med;
        op_work(c, op, &flops, &bytes);
        char rate[32];
        if (flops > 0) {
            snprintf(rate, sizeof rate, "%7.2f GFLOP/s", flops / (med * 1e3));
        } else {
            snprintf(rate, sizeof rate, "%7.2f GB/s", bytes / (med * 1e3));
        }
        char range[32];
        snprintf(range, sizeof range, "%.1f-%.1f", t[0], t[TIMING_RUNS - 1]);
        printf("   %-24s %10.1f %21s %15s\n", op_names[op], med, range, rate);
    }
    /* The whole passes, and a whole training step as part 2 runs it (forward, backward, the Adam update
     * of both adapters on the host) with a learning rate of 0: the moments move, the weights do not. */
    double fwd[TIMING_RUNS], bwd[TIMING_RUNS], step[TIMING_RUNS];
    for (int i = 0; i < TIMING_RUNS; i++) {
        TRY(cordon_device_sync(bk->dev));
        double t0 = now_s();
        TRY(forward(bk, &bk->student_q, &bk->student_v));
        TRY(cordon_device_sync(bk->dev));
        double t1 = now_s();
        TRY(backward(bk, &bk->student_q, &bk->student_v));
        TRY(cordon_device_sync(bk->dev));
        double t2 = now_s();
        TRY(adapter_step(&bk->student_q, 0.0, c->steps + 1 + (uint64_t)i));
        TRY(adapter_step(&bk->student_v, 0.0, c->steps + 1 + (uint64_t)i));
        TRY(cordon_device_sync(bk->dev));
        fwd[i] = (t1 - t0) * 1e6;
        bwd[i] = (t2 - t1) * 1e6;
        step[i] = (now_s() - t0) * 1e6;
    }
    qsort(fwd, TIMING_RUNS, sizeof fwd[0], cmp_double);
    qsort(bwd, TIMING_RUNS, sizeof bwd[0], cmp_double);
    qsort(step, TIMING_RUNS, sizeof step[0], cmp_double);
    struct {
        const char *name;
        const double *t;
    } whole[] = {{"whole forward", fwd}, {"whole backward", bwd}, {"whole training step", step}};
    printf("   %-24s %10.1f\n", "sum of the operations", total);
    for (size_t k = 0; k < sizeof whole / sizeof whole[0]; k++) {
        char range[32];
        snprintf(range, sizeof range, "%.1f-%.1f", whole[k].t[0], whole[k].t[TIMING_RUNS - 1]);
        printf("   %-24s %10.1f %21s\n", whole[k].name, whole[k].t[TIMING_RUNS / 2], range);
    }
    cordon_device_info info;
    if (c->json && cordon_device_info_get(bk->dev, &info) == CORDON_OK) {
        for (size_t k = 0; k < sizeof whole / sizeof whole[0]; k++) {
            printf("{\"name\": \"%s (dim %zu, seq %zu, rank %zu, %u thread%s, %s)\", \"value\": %.3f, "
                   "\"unit\": \"us\"}\n",
                   whole[k].name, c->dim, c->seq, c->rank, info.threads, info.threads == 1 ? "" : "s", info.isa_name,
                   whole[k].t[TIMING_RUNS / 2]);
        }
    }
    return CORDON_OK;
}

/* ---------------------------------------------------------------------------------------------------
 * main */

int main(int argc, char **argv) {
    config cfg;
    int rc = parse_args(argc, argv, &cfg);
    if (rc != 0) {
        return rc;
    }
    cordon_device_options opt;
    cordon_device_options_init(&opt);
    opt.name = cfg.device;
    opt.threads = cfg.threads;
    opt.isa = cfg.isa;
    opt.deterministic = cfg.deterministic;
    /* Address space for the tensors: four times what the block's weights, activations and gradients
     * take, plus room for scratch. Only what is used is ever committed; the 64 GiB default reservation
     * is more than some tools (valgrind) let a process map. */
    double d = (double)cfg.dim, f = (double)cfg.ffn, q = (double)cfg.q_dim, kv = (double)cfg.kv_dim;
    double T = (double)cfg.seq, r = (double)cfg.rank;
    double floats = d * (q + 2 * kv) + q * d + 3 * d * f + 4 * r * (2 * d + q + kv) +
                    T * (13 * d + 8 * f + 5 * q + 5 * kv);
    opt.storage_bytes = (uint64_t)(16.0 * floats) + (UINT64_C(256) << 20);
    cordon_device dev;
    cordon_status st = cordon_device_create(&opt, &dev);
    if (st != CORDON_OK) {
        report("cordon_device_create", st, __LINE__);
        return 1;
    }
    cordon_device_info info;
    if (cordon_device_info_get(dev, &info) != CORDON_OK) {
        memset(&info, 0, sizeof info);
    }
    printf("cordon %s — transformer block example\n", cordon_version_string());
    printf("device: %s (%s)\n", info.kind, info.description);
    printf("block: dim %zu, %zu query heads and %zu key/value heads of %zu, sequence %zu, MLP %zu, LoRA rank %zu "
           "on Q and V, seed %" PRIu64 "\n",
           cfg.dim, cfg.heads, cfg.kv_heads, cfg.head_dim, cfg.seq, cfg.ffn, cfg.rank, cfg.seed);

    block bk;
    memset(&bk, 0, sizeof bk);
    bool accurate = false, fell = false, grad_ok = false, saved = false;
    uint64_t rng = cfg.seed ^ UINT64_C(0x5EED);
    float *x0 = random_array(&rng, cfg.seq * cfg.dim, 1.0f);
    st = x0 == NULL ? CORDON_OUT_OF_MEMORY : block_create(&bk, &cfg, dev);
    if (st == CORDON_OK) {
        st = part_forward(&bk, x0, &accurate);
    }
    if (st == CORDON_OK) {
        st = part_train(&bk, &fell, &grad_ok);
    }
    if (st == CORDON_OK) {
        st = save_adapter(&bk, &saved);
    }
    if (st == CORDON_OK) {
        st = part_timing(&bk);
    }
    if (cordon_device_info_get(dev, &info) == CORDON_OK) {
        printf("\ndevice storage: %" PRIu64 " tensors, %.1f MiB in use, %.1f MiB committed\n", info.tensors,
               (double)info.storage_in_use_bytes / 1048576.0, (double)info.storage_committed_bytes / 1048576.0);
    }
    free(x0);
    block_free_host(&bk);
    /* Destroying the device destroys every tensor still on it (views included). */
    cordon_status dst = cordon_device_destroy(dev);
    if (dst != CORDON_OK) {
        report("cordon_device_destroy", dst, __LINE__);
    }
    if (st != CORDON_OK || dst != CORDON_OK) {
        return 1;
    }
    if (!accurate || !fell || !grad_ok || !saved) {
        fprintf(stderr, "transformer: %s\n",
                !fell       ? "the loss did not fall"
                : !accurate ? "the forward pass disagrees with the reference"
                : !grad_ok  ? "the backward pass disagrees with the finite difference"
                            : "the saved adapter did not read back identically");
        return 1;
    }
    printf("ok\n");
    return 0;
}
