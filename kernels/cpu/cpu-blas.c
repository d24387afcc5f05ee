/* cpu-blas.c: shape checks and OpenBLAS threading shared by the GEMM-shaped
 * CPU kernels (gemm, linear, conv2d, attention, linear_attention).
 */
#include "cpu-blas.h"

#include <cblas.h>
#include <limits.h>
#include <stdio.h>

int
lf_cpu_invalid (LfOps *ops, const char *op, const char *what, const LfTensor *t)
{
  char shape[LF_CPU_SHAPE_SIZE];

  if (t != NULL)
    lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s %s", op, what,
                 lf_cpu_shape_str (t, shape));
  else
    lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s", op, what);
  return 0;
}

int
lf_cpu_blas_int_ok (int64_t n)
{
  return n >= 0 && n <= INT_MAX;
}

/* The shared f32 check, plus what BLAS cannot take: negative strides. */
static int
check_f32 (LfOps *ops, const char *op, const char *name, const LfTensor *t)
{
  char what[96];

  if (!lf_cpu_check_f32 (ops, op, name, t))
    return 0;
  for (int i = 0; i < t->ndim; i++)
    if (t->stride[i] < 0)
      {
        snprintf (what, sizeof what, "%s has a negative stride", name);
        return lf_cpu_invalid (ops, op, what, t);
      }
  return 1;
}

int
lf_cpu_mat (LfOps          *ops,
            const char     *op,
            const char     *name,
            const LfTensor *t,
            LfCpuMat       *m)
{
  char what[128];
  int  r;

  if (!check_f32 (ops, op, name, t))
    return 0;
  if (t->ndim != 2 && t->ndim != 3)
    {
      snprintf (what, sizeof what, "%s must be 2-D or 3-D, got", name);
      return lf_cpu_invalid (ops, op, what, t);
    }
  r = t->ndim - 2;
  m->data = t->data;
  m->batch = t->ndim == 3 ? t->shape[0] : 1;
  m->batch_stride = t->ndim == 3 ? t->stride[0] : 0;
  m->rows = t->shape[r];
  m->cols = t->shape[r + 1];
  /* A single row may carry any stride; BLAS still wants ld ≥ max (1, cols). */
  m->ld = m->rows > 1 ? t->stride[r] : (m->cols > 1 ? m->cols : 1);
  if ((t->stride[r + 1] != 1 && m->cols > 1) || m->ld < m->cols || m->ld < 1)
    {
      snprintf (what, sizeof what,
                "%s needs a contiguous last dimension and a row stride "
                "of at least its length, got",
                name);
      return lf_cpu_invalid (ops, op, what, t);
    }
  if (!lf_cpu_blas_int_ok (m->rows) || !lf_cpu_blas_int_ok (m->ld))
    {
      snprintf (what, sizeof what, "%s is too large for one BLAS call:", name);
      return lf_cpu_invalid (ops, op, what, t);
    }
  return 1;
}

int
lf_cpu_check_contiguous (
    LfOps *ops, const char *op, const char *name, const LfTensor *t, int ndim)
{
  char what[128];

  if (!check_f32 (ops, op, name, t))
    return 0;
  if (t->ndim != ndim || !lf_tensor_is_contiguous (t))
    {
      snprintf (what, sizeof what, "%s must be a contiguous %d-D tensor, got",
                name, ndim);
      return lf_cpu_invalid (ops, op, what, t);
    }
  return 1;
}

int64_t
lf_cpu_scratch_slice_floats (const LfOps *ops, int n_slices)
{
  size_t slice;

  if (ops->scratch == NULL || n_slices < 1)
    return 0;
  slice = ops->scratch_bytes / (size_t)n_slices;
  slice -= slice % 64;
  return (int64_t)(slice / sizeof (float));
}

/* Blocks of at least this many rows or columns, a multiple of the
 * micro-kernel widths. */
#define SGEMM_SPLIT_ALIGN 32

static void
sgemm_block (int          trans_a,
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
             int64_t      ldc)
{
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
               alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

void
lf_cpu_sgemm (const LfOps *ops,
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
              int64_t      ldc)
{
  const int     split_m = m >= n;
  const int64_t len = split_m ? m : n;
  int64_t       parts = ops->n_threads;
  int64_t       step;

  if (m == 0 || n == 0)
    return;
  if (parts > len / SGEMM_SPLIT_ALIGN)
    parts = len / SGEMM_SPLIT_ALIGN;
  if (parts <= 1)
    {
      sgemm_block (trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                   ldc);
      return;
    }
  step = (len + parts - 1) / parts;
  step = (step + SGEMM_SPLIT_ALIGN - 1) / SGEMM_SPLIT_ALIGN * SGEMM_SPLIT_ALIGN;
#pragma omp parallel for num_threads(ops->n_threads)
  for (int64_t p = 0; p < parts; p++)
    {
      const int64_t i0 = p * step;
      const int64_t l = i0 + step < len ? step : len - i0;

      if (l <= 0)
        continue;
      if (split_m) /* rows of op(a) and c */
        sgemm_block (trans_a, trans_b, l, n, k, alpha,
                     a + (trans_a ? i0 : i0 * lda), lda, b, ldb, beta,
                     c + i0 * ldc, ldc);
      else /* columns of op(b) and c */
        sgemm_block (trans_a, trans_b, m, l, k, alpha, a, lda,
                     b + (trans_b ? i0 * ldb : i0), ldb, beta, c + i0, ldc);
    }
}
