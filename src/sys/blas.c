/* SPDX-License-Identifier: Apache-2.0 */
/* cordon — the BLAS library (OpenBLAS's cblas), when the build found it (CORDON_HAVE_OPENBLAS).
 *
 * Threads: cordon's CPU device splits a product into panels on its own pool and calls BLAS for each
 * panel on the pool's threads, so BLAS must not start threads of its own (two pools on the same cores
 * is the oversubscription users of OpenBLAS report most). cordon__sys_blas_set_single_threaded sets
 * OpenBLAS's thread count to 1 for the process before the first BLAS call of a device; this is a
 * process-wide setting (documented in docs/compute.md), checked again before every product a device hands
 * to BLAS, so a host that raised it in between cannot make BLAS start threads inside cordon's tasks. */
#include "sys/sys_internal.h"

#if defined(CORDON_HAVE_OPENBLAS) && CORDON_HAVE_OPENBLAS
#  include <cblas.h>
#  include <limits.h>

bool cordon__sys_blas_available(void) {
    return true;
}

const char *cordon__sys_blas_name(void) {
    return "openblas";
}

void cordon__sys_blas_set_single_threaded(void) {
    /* SAFETY: openblas_get_num_threads -- read OpenBLAS's current thread count.
     * Relies on: nothing; it reads a process-wide integer.
     * On failure: cannot fail. */
    if (openblas_get_num_threads() == 1) {
        return; /* the common case: nothing to change, no lock taken inside OpenBLAS */
    }
    /* SAFETY: openblas_set_num_threads -- make OpenBLAS compute on the calling thread only.
     * Relies on: 1 is a valid count; OpenBLAS applies it to later calls from any thread (it is
     * process-wide); cordon calls it before the device's first BLAS call, never during one.
     * On failure: returns nothing; a build whose OpenBLAS ignores it can only use more threads, which
     * the thread-count test would report. */
    openblas_set_num_threads(1);
}

cordon_status cordon__sys_blas_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                                     size_t ldc) {
    if (m == 0 || n == 0 || k == 0 || a == NULL || b == NULL || c == NULL || m > INT_MAX || n > INT_MAX ||
        k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX || ldc < n ||
        lda < (trans_a ? m : k) || ldb < (trans_b ? k : n)) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* SAFETY: cblas_sgemm -- C = alpha·op(A)·op(B) + beta·C, row-major.
     * Relies on: every size and leading dimension fits an int and is >= 1, checked above; lda, ldb, ldc
     * are at least the row lengths of op-stored A, B and C (checked above), so every element read or
     * written lies in the caller's arrays, which the safe layer sized from validated tensor views; C does
     * not overlap A or B (the ops layer refuses aliasing); beta = 0 is passed only when C need not be
     * read, and OpenBLAS then does not read C.
     * On failure: cblas reports argument errors through xerbla, which prints and returns; the checks
     * above make every such error impossible. */
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
    return CORDON_OK;
}

cordon_status cordon__sys_blas_sgemv(bool trans, size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                     const float *x, float beta, float *y) {
    if (rows == 0 || cols == 0 || a == NULL || x == NULL || y == NULL || rows > INT_MAX || cols > INT_MAX ||
        lda > INT_MAX || lda < cols) {
        return CORDON_INVALID_ARGUMENT;
    }
    /* SAFETY: cblas_sgemv -- y = alpha·op(A)·x + beta·y, A row-major rows × cols.
     * Relies on: sizes and lda fit an int, lda >= cols (checked above); x has cols (or rows when trans)
     * elements and y rows (or cols), unit stride, as the safe layer passes them; y overlaps neither A nor
     * x.
     * On failure: argument errors are impossible after the checks above. */
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, (int)rows, (int)cols, alpha, a, (int)lda, x, 1, beta,
                y, 1);
    return CORDON_OK;
}

#else

bool cordon__sys_blas_available(void) {
    return false;
}

const char *cordon__sys_blas_name(void) {
    return "none";
}

void cordon__sys_blas_set_single_threaded(void) {
}

cordon_status cordon__sys_blas_sgemm(bool trans_a, bool trans_b, size_t m, size_t n, size_t k, float alpha,
                                     const float *a, size_t lda, const float *b, size_t ldb, float beta, float *c,
                                     size_t ldc) {
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b, (void)ldb;
    (void)beta, (void)c, (void)ldc;
    return CORDON_BACKEND_UNAVAILABLE;
}

cordon_status cordon__sys_blas_sgemv(bool trans, size_t rows, size_t cols, float alpha, const float *a, size_t lda,
                                     const float *x, float beta, float *y) {
    (void)trans, (void)rows, (void)cols, (void)alpha, (void)a, (void)lda, (void)x, (void)beta, (void)y;
    return CORDON_BACKEND_UNAVAILABLE;
}

#endif
