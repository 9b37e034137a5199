/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the OpenCL device's operations over validated descriptors (backend.h): matrix products
 * through CLBlast, everything else as the kernels of kernels_opencl.c. Every function queues its
 * commands and returns without waiting; views are passed as offsets and strides (no copy), except that
 * an operand CLBlast cannot address (neither row- nor column-major with unit stride) is first packed
 * into scratch. Scratch goes back to the free list right after its commands are queued (see
 * opencl_internal.h: the in-order queue orders every later use after them). */
#include "compute/opencl/opencl_internal.h"

static uint64_t rows_of(const cordon__view *v) {
    return v->shape[0] * v->shape[1] * v->shape[2];
}

/* Scratch of n floats. */
static cordon_status scratch(cordon__device *dev, uint64_t n, cordon__block **out) {
    return cordon__scratch_get(dev, (n > 0 ? n : 1) * sizeof(float), out);
}

/* A contiguous copy of v in scratch (when copy_in, its elements are copied: queued). */
static cordon_status pack(cordon__device *dev, const cordon__view *v, bool copy_in, cordon__block **blk,
                          cordon__view *out) {
    cordon_status st = scratch(dev, cordon__view_elements(v), blk);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__view s = *v;
    s.storage = *blk;
    s.offset = 0;
    uint64_t stride = 1;
    for (unsigned i = CORDON__MAX_DIMS; i-- > 0;) {
        s.strides[i] = stride;
        stride *= s.shape[i];
    }
    *out = s;
    if (copy_in) {
        st = cordon__ocl_copy(dev, out, v);
        if (st != CORDON_OK) {
            cordon__scratch_put(dev, *blk);
            *blk = NULL;
        }
    }
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Matrix products */

/* Can CLBlast address the matrix (last two dimensions) as it is: row-major with unit column stride, or
 * stored transposed with unit row stride, with a leading dimension at least the stored row length? */
static bool blas_form(const cordon__view *v, bool *trans, uint64_t *ld) {
    uint64_t rows = v->shape[2], cols = v->shape[3], s2 = v->strides[2], s3 = v->strides[3];
    if ((cols == 1 || s3 == 1) && (rows == 1 || s2 >= cols)) {
        *trans = false;
        *ld = rows == 1 ? cols : s2;
        return true;
    }
    if ((rows == 1 || s2 == 1) && (cols == 1 || s3 >= rows)) {
        *trans = true;
        *ld = cols == 1 ? rows : s3;
        return true;
    }
    return false;
}

/* Element offset of batch (b0, b1) of a view broadcast over the batch dimensions. */
static uint64_t batch_offset(const cordon__view *v, uint64_t b0, uint64_t b1) {
    return v->offset + (v->shape[0] == 1 ? 0 : b0 * v->strides[0]) + (v->shape[1] == 1 ? 0 : b1 * v->strides[1]);
}

static cordon_status scale_in_place(cordon__device *dev, const cordon__view *c, float s) {
    cordon__ew_desc e = {.y = *c, .a = *c, .b = {0}, .kind = CORDON__EW_SCALE, .s = s};
    return cordon__ocl_elementwise(dev, &e);
}

cordon_status cordon__ocl_matmul(cordon__device *dev, const cordon__matmul_desc *d) {
    if (d->alpha == 0.0f) {
        /* A and B are not read: C = beta·C, and beta = 0 does not read C either. */
        if (d->beta == 0.0f) {
            return cordon__ocl_fill(dev, &d->c, 0.0f);
        }
        return d->beta == 1.0f ? CORDON_OK : scale_in_place(dev, &d->c, d->beta);
    }
    cordon__ocl_device *ocl = cordon__ocl(dev);
    cordon__view a = d->a, b = d->b, c = d->c;
    cordon__block *pa = NULL, *pb = NULL, *pc = NULL;
    bool ta = false, tb = false, tc = false;
    uint64_t lda = 0, ldb = 0, ldc = 0;
    bool gemv = d->m == 1;
    cordon_status st = CORDON_OK;
    if (!blas_form(&a, &ta, &lda) || (gemv && d->k > 1 && a.strides[3] == 0)) {
        st = pack(dev, &d->a, true, &pa, &a);
        if (st == CORDON_OK && !blas_form(&a, &ta, &lda)) {
            st = CORDON_UNSUPPORTED; /* unreachable: a packed view is row-major */
        }
    }
    if (st == CORDON_OK && !blas_form(&b, &tb, &ldb)) {
        st = pack(dev, &d->b, true, &pb, &b);
        if (st == CORDON_OK && !blas_form(&b, &tb, &ldb)) {
            st = CORDON_UNSUPPORTED;
        }
    }
    bool c_direct = gemv ? (d->n == 1 || c.strides[3] >= 1) : (blas_form(&c, &tc, &ldc) && !tc);
    if (st == CORDON_OK && !c_direct) {
        st = pack(dev, &d->c, d->beta != 0.0f, &pc, &c);
        if (st == CORDON_OK && !gemv && (!blas_form(&c, &tc, &ldc) || tc)) {
            st = CORDON_UNSUPPORTED;
        }
    }
    float beta = d->beta;
    if (st == CORDON_OK && beta == 0.0f) {
        /* beta = 0 never reads C: cordon zeroes it, so what CLBlast does with 0·C does not matter. */
        st = cordon__ocl_fill(dev, &c, 0.0f);
    }
    if (st == CORDON_OK) {
        cordon__lock(&ocl->run_lock);
        for (uint64_t b0 = 0; b0 < c.shape[0] && st == CORDON_OK; b0++) {
            for (uint64_t b1 = 0; b1 < c.shape[1] && st == CORDON_OK; b1++) {
                uint64_t ao = batch_offset(&a, b0, b1), bo = batch_offset(&b, b0, b1), co = batch_offset(&c, b0, b1);
                if (gemv) {
                    uint64_t incx = d->k == 1 ? 1 : a.strides[3];
                    uint64_t incy = d->n == 1 ? 1 : c.strides[3];
                    /* y (1 × N) = x (1 × K)·B: B row-major (K × N) is y = Bᵀx; stored transposed (N × K), y = B x. */
                    st = cordon__sys_cl_sgemv(ocl->queue, !tb, tb ? (size_t)d->n : (size_t)d->k,
                                              tb ? (size_t)d->k : (size_t)d->n, d->alpha, b.storage->handle, (size_t)bo,
                                              (size_t)ldb, a.storage->handle, (size_t)ao, (size_t)incx, beta,
                                              c.storage->handle, (size_t)co, (size_t)incy);
                } else {
                    st = cordon__sys_cl_sgemm(ocl->queue, ta, tb, (size_t)d->m, (size_t)d->n, (size_t)d->k, d->alpha,
                                              a.storage->handle, (size_t)ao, (size_t)lda, b.storage->handle, (size_t)bo,
                                              (size_t)ldb, beta, c.storage->handle, (size_t)co, (size_t)ldc);
                }
                ocl->pending++;
            }
        }
        if (st == CORDON_OK && ocl->pending >= CORDON__OCL_FLUSH_EVERY) {
            ocl->pending = 0;
            st = cordon__sys_cl_flush(ocl->queue);
        }
        cordon__unlock(&ocl->run_lock);
    }
    if (st == CORDON_OK && pc != NULL) {
        st = cordon__ocl_copy(dev, &d->c, &c);
    }
    cordon__scratch_put(dev, pa);
    cordon__scratch_put(dev, pb);
    cordon__scratch_put(dev, pc);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Row operations: one work-group per row */

cordon_status cordon__ocl_softmax(cordon__device *dev, const cordon__softmax_desc *d) {
    cordon__ocl_args A = {0};
    const uint64_t *sh = d->x.shape;
    cordon__ocl_arg_view(&A, &d->y, sh, &d->x);
    cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
    cordon__ocl_arg_view(&A, &d->mask, sh, &d->x);
    cordon__ocl_arg_i32(&A, d->mask.present ? 1 : 0);
    cordon__ocl_arg_u64x4(&A, sh);
    cordon__ocl_arg_f32(&A, d->scale);
    cordon__ocl_arg_i32(&A, d->causal ? 1 : 0);
    return cordon__ocl_run(dev, CORDON__OCL_SOFTMAX, &A, rows_of(&d->x));
}

cordon_status cordon__ocl_softmax_backward(cordon__device *dev, const cordon__softmax_bwd_desc *d) {
    cordon__ocl_args A = {0};
    const uint64_t *sh = d->y.shape;
    cordon__ocl_arg_view(&A, &d->dx, sh, &d->y);
    cordon__ocl_arg_view(&A, &d->y, sh, &d->y);
    cordon__ocl_arg_view(&A, &d->dy, sh, &d->y);
    cordon__ocl_arg_u64x4(&A, sh);
    cordon__ocl_arg_f32(&A, d->scale);
    return cordon__ocl_run(dev, CORDON__OCL_SOFTMAX_BWD, &A, rows_of(&d->y));
}

/* A 1-D parameter as (buffer, offset, stride); absent: the fallback's buffer, never read. */
static void arg_param(cordon__ocl_args *A, const cordon__view *v, const cordon__view *fallback) {
    cordon__ocl_arg_buffer(A, v->present ? v->storage : fallback->storage);
    cordon__ocl_arg_u64(A, v->present ? v->offset : 0);
    cordon__ocl_arg_u64(A, v->present ? v->strides[3] : 0);
}

cordon_status cordon__ocl_norm(cordon__device *dev, const cordon__norm_desc *d) {
    cordon__ocl_args A = {0};
    const uint64_t *sh = d->x.shape;
    cordon__ocl_arg_view(&A, &d->y, sh, &d->x);
    cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
    arg_param(&A, &d->weight, &d->x);
    arg_param(&A, &d->bias, &d->x);
    cordon__ocl_arg_i32(&A, (d->weight.present ? 1 : 0) | (d->bias.present ? 2 : 0));
    cordon__ocl_arg_u64x4(&A, sh);
    cordon__ocl_arg_f32(&A, d->eps);
    cordon__ocl_arg_i32(&A, d->layer ? 1 : 0);
    return cordon__ocl_run(dev, CORDON__OCL_NORM, &A, rows_of(&d->x));
}

cordon_status cordon__ocl_norm_backward(cordon__device *dev, const cordon__norm_bwd_desc *d) {
    const uint64_t *sh = d->x.shape;
    uint64_t rows = rows_of(&d->x), n = sh[3];
    cordon__block *stats = NULL;
    cordon_status st = scratch(dev, 3 * rows, &stats);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__ocl_args A = {0};
    cordon__ocl_arg_buffer(&A, stats);
    cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
    cordon__ocl_arg_u64x4(&A, sh);
    cordon__ocl_arg_f32(&A, d->eps);
    cordon__ocl_arg_i32(&A, d->layer ? 1 : 0);
    st = cordon__ocl_run(dev, CORDON__OCL_NORM_STATS, &A, rows);
    /* The parameter gradients read dy before dx (which may be dy) is written. */
    if (st == CORDON_OK && (d->dweight.present || d->dbias.present)) {
        A = (cordon__ocl_args){0};
        arg_param(&A, &d->dweight, &d->x);
        arg_param(&A, &d->dbias, &d->x);
        cordon__ocl_arg_i32(&A, (d->dweight.present ? 1 : 0) | (d->dbias.present ? 2 : 0));
        cordon__ocl_arg_view(&A, &d->dy, sh, &d->x);
        cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
        cordon__ocl_arg_buffer(&A, stats);
        cordon__ocl_arg_u64x4(&A, sh);
        cordon__ocl_arg_i32(&A, d->layer ? 1 : 0);
        st = cordon__ocl_run(dev, CORDON__OCL_NORM_PARAM_GRAD, &A, cordon__ocl_groups_for(dev, n));
    }
    if (st == CORDON_OK) {
        A = (cordon__ocl_args){0};
        cordon__ocl_arg_view(&A, &d->dx, sh, &d->x);
        cordon__ocl_arg_view(&A, &d->dy, sh, &d->x);
        cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
        arg_param(&A, &d->weight, &d->x);
        cordon__ocl_arg_i32(&A, d->weight.present ? 1 : 0);
        cordon__ocl_arg_buffer(&A, stats);
        cordon__ocl_arg_u64x4(&A, sh);
        cordon__ocl_arg_i32(&A, d->layer ? 1 : 0);
        st = cordon__ocl_run(dev, CORDON__OCL_NORM_BWD, &A, rows);
    }
    cordon__scratch_put(dev, stats);
    return st;
}

/* ---------------------------------------------------------------------------------------------------
 * Elementwise and RoPE */

cordon_status cordon__ocl_elementwise(cordon__device *dev, const cordon__ew_desc *d) {
    cordon__ocl_args A = {0};
    cordon__ocl_ew_params p = {0};
    bool binary = d->kind == CORDON__EW_ADD || d->kind == CORDON__EW_MUL || d->kind == CORDON__EW_SILU_BWD ||
                  d->kind == CORDON__EW_GELU_ERF_BWD || d->kind == CORDON__EW_GELU_TANH_BWD;
    bool has_b = binary && d->b.present;
    p.n = cordon__view_elements(&d->y);
    memcpy(p.sh, d->y.shape, sizeof p.sh);
    cordon__ocl_view_place(&d->y, &p.yo, p.ys);
    cordon__ocl_view_place(&d->a, &p.ao, p.as);
    if (has_b) {
        cordon__ocl_view_place(&d->b, &p.bo, p.bs);
    }
    p.kind = (int32_t)d->kind;
    p.s = d->s;
    p.binary = binary ? 1 : 0;
    bool flat = cordon__view_contiguous(&d->y) && cordon__view_contiguous(&d->a) && cordon__same_shape(&d->y, &d->a) &&
                (!binary || (cordon__view_contiguous(&d->b) && cordon__same_shape(&d->y, &d->b)));
    p.flat = flat ? 1 : 0;
    cordon__ocl_arg_buffer(&A, d->y.storage);
    cordon__ocl_arg_buffer(&A, d->a.storage);
    cordon__ocl_arg_buffer(&A, has_b ? d->b.storage : d->a.storage); /* absent: never read */
    cordon__ocl_arg_struct(&A, &p, sizeof p);
    return cordon__ocl_run(dev, CORDON__OCL_EW, &A, cordon__ocl_groups_for(dev, p.n));
}

cordon_status cordon__ocl_rope(cordon__device *dev, const cordon__rope_desc *d) {
    cordon__ocl_args A = {0};
    const uint64_t *sh = d->x.shape;
    uint64_t pairs = rows_of(&d->x) * (sh[3] / 2);
    cordon__ocl_arg_view(&A, &d->y, sh, &d->x);
    cordon__ocl_arg_view(&A, &d->x, sh, &d->x);
    cordon__ocl_arg_u64x4(&A, sh);
    cordon__ocl_arg_u64(&A, d->position0);
    cordon__ocl_arg_real(dev, &A, d->base);
    cordon__ocl_arg_i32(&A, d->inverse ? 1 : 0);
    cordon__ocl_arg_i32(&A, d->layout == CORDON_ROPE_INTERLEAVED ? 1 : 0);
    return cordon__ocl_run(dev, CORDON__OCL_ROPE, &A, cordon__ocl_groups_for(dev, pairs));
}

/* ---------------------------------------------------------------------------------------------------
 * Attention: one work-group per query row (probabilities in scratch), backward one per key row */

static void attn_dims(const cordon__attention_desc *d, uint64_t dims[4], uint64_t dims2[4], uint64_t mshape[4]) {
    dims[0] = d->q.shape[1];
    dims[1] = d->q.shape[2];
    dims[2] = d->k.shape[2];
    dims[3] = d->q.shape[3];
    dims2[0] = d->v.shape[3];
    dims2[1] = d->k.shape[1];
    dims2[2] = dims2[3] = 0;
    mshape[0] = d->q.shape[0];
    mshape[1] = d->q.shape[1];
    mshape[2] = d->q.shape[2];
    mshape[3] = d->k.shape[2];
}

cordon_status cordon__ocl_attention(cordon__device *dev, const cordon__attention_desc *d) {
    uint64_t dims[4], dims2[4], msh[4];
    attn_dims(d, dims, dims2, msh);
    uint64_t rows = d->q.shape[0] * d->q.shape[1] * d->q.shape[2];
    cordon__block *p = NULL;
    cordon_status st = scratch(dev, rows * dims[2], &p);
    if (st != CORDON_OK) {
        return st;
    }
    cordon__ocl_args A = {0};
    cordon__ocl_arg_view(&A, &d->out, d->out.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->q, d->q.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->k, d->k.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->v, d->v.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->mask, msh, &d->q);
    cordon__ocl_arg_i32(&A, d->mask.present ? 1 : 0);
    cordon__ocl_arg_buffer(&A, p);
    cordon__ocl_arg_u64x4(&A, dims);
    cordon__ocl_arg_u64x4(&A, dims2);
    cordon__ocl_arg_f32(&A, d->scale);
    cordon__ocl_arg_i32(&A, d->causal ? 1 : 0);
    st = cordon__ocl_run(dev, CORDON__OCL_ATTN, &A, rows);
    cordon__scratch_put(dev, p);
    return st;
}

cordon_status cordon__ocl_attention_backward(cordon__device *dev, const cordon__attention_desc *d) {
    uint64_t dims[4], dims2[4], msh[4];
    attn_dims(d, dims, dims2, msh);
    uint64_t rows = d->q.shape[0] * d->q.shape[1] * d->q.shape[2];
    cordon__block *p = NULL, *ds = NULL;
    cordon_status st = scratch(dev, rows * dims[2], &p);
    if (st != CORDON_OK) {
        return st;
    }
    st = scratch(dev, rows * dims[2], &ds);
    if (st != CORDON_OK) {
        cordon__scratch_put(dev, p);
        return st;
    }
    cordon__ocl_args A = {0};
    cordon__ocl_arg_view(&A, &d->dq, d->dq.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->q, d->q.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->k, d->k.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->v, d->v.shape, &d->q);
    cordon__ocl_arg_view(&A, &d->mask, msh, &d->q);
    cordon__ocl_arg_i32(&A, d->mask.present ? 1 : 0);
    cordon__ocl_arg_view(&A, &d->dout, d->dout.shape, &d->q);
    cordon__ocl_arg_buffer(&A, p);
    cordon__ocl_arg_buffer(&A, ds);
    cordon__ocl_arg_u64x4(&A, dims);
    cordon__ocl_arg_u64x4(&A, dims2);
    cordon__ocl_arg_f32(&A, d->scale);
    cordon__ocl_arg_i32(&A, d->causal ? 1 : 0);
    st = cordon__ocl_run(dev, CORDON__OCL_ATTN_BWD_Q, &A, rows);
    if (st == CORDON_OK) {
        A = (cordon__ocl_args){0};
        cordon__ocl_arg_view(&A, &d->dk, d->dk.shape, &d->q);
        cordon__ocl_arg_view(&A, &d->dv, d->dv.shape, &d->q);
        cordon__ocl_arg_view(&A, &d->q, d->q.shape, &d->q);
        cordon__ocl_arg_view(&A, &d->dout, d->dout.shape, &d->q);
        cordon__ocl_arg_buffer(&A, p);
        cordon__ocl_arg_buffer(&A, ds);
        cordon__ocl_arg_u64x4(&A, dims);
        cordon__ocl_arg_u64x4(&A, dims2);
        st = cordon__ocl_run(dev, CORDON__OCL_ATTN_BWD_KV, &A, d->k.shape[0] * d->k.shape[1] * d->k.shape[2]);
    }
    cordon__scratch_put(dev, ds);
    cordon__scratch_put(dev, p);
    return st;
}
