/* cpu-blas.h: private helpers of the GEMM-shaped CPU kernels: shape checks
 * that record LF_STATUS_INVALID with the op and the offending shape, the
 * matrix view cblas_sgemm wants, and OpenBLAS threading around OpenMP
 * regions (OpenBLAS must not spawn its pool inside one of ours).
 */
#ifndef LF_CPU_BLAS_H
#define LF_CPU_BLAS_H

#include <stddef.h>
#include <stdint.h>

#include "cpu-check.h"
#include "lf-ops.h"

/* A 2-D or 3-D f32 view as a batch of row-major matrices: element (i, r, c)
 * is data[i·batch_stride + r·ld + c]. A 2-D view has batch 1. */
typedef struct
{
  float  *data;
  int64_t batch; /* 1 for a 2-D view */
  int64_t rows, cols;
  int64_t ld;           /* row stride, ≥ cols, fits a BLAS int */
  int64_t batch_stride; /* 0 broadcasts one matrix */
} LfCpuMat;

/* Fills @m from @t (f32, 2-D or 3-D, last dimension contiguous, row stride
 * ≥ row length, sizes that fit cblas ints). Returns 0 after recording
 * LF_STATUS_INVALID naming @op and @name otherwise. */
int lf_cpu_mat (LfOps          *ops,
                const char     *op,
                const char     *name,
                const LfTensor *t,
                LfCpuMat       *m);

/* Checks that @t is a contiguous f32 tensor with @ndim dimensions; records
 * LF_STATUS_INVALID naming @op and @name otherwise. */
int lf_cpu_check_contiguous (
    LfOps *ops, const char *op, const char *name, const LfTensor *t, int ndim);

/* Records LF_STATUS_INVALID "op: what (shape of t)". Returns 0. */
int lf_cpu_invalid (LfOps          *ops,
                    const char     *op,
                    const char     *what,
                    const LfTensor *t);

/* 1 when @n fits the int arguments of cblas_sgemm. */
int lf_cpu_blas_int_ok (int64_t n);

/* c (m, n) = alpha · op(a) · op(b) + beta · c, row-major, split over
 * ops->n_threads OpenMP threads along the longer of m and n, each block a
 * single-threaded cblas_sgemm. One thread pool (libgomp's) then serves
 * every kernel: OpenBLAS's pthread pool running between our OpenMP regions
 * competes with libgomp's spinning workers and halves throughput. */
void lf_cpu_sgemm (const LfOps *ops,
                   int          trans_a,
                   int          trans_b,
                   int64_t      m,
                   int64_t      n,
                   int64_t      k,
                   float        alpha,
                   const float *a,
                   int64_t      lda,
                   const float *b,
                   int64_t      ldb,
                   float        beta,
                   float       *c,
                   int64_t      ldc);

/* Per-thread slice of ops->scratch: @n_slices slices, each a multiple of 64
 * bytes. Returns the slice size in floats. */
int64_t lf_cpu_scratch_slice_floats (const LfOps *ops, int n_slices);

#endif /* LF_CPU_BLAS_H */
