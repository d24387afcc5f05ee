/* linear.c: y = x · wᵀ + b on the CPU (torch.nn.Linear), one cblas_sgemm
 * over all token rows when their strides allow, else one per batch.
 */
#include "cpu-ops.h"

#include <string.h>

#include "cpu-blas.h"

static int
linear_check (LfOps          *ops,
              const LfTensor *x,
              const LfTensor *w,
              const LfTensor *b,
              LfTensor       *y,
              LfCpuMat       *mx,
              LfCpuMat       *mw,
              LfCpuMat       *my)
{
  if (!lf_cpu_mat (ops, "linear", "x", x, mx)
      || !lf_cpu_mat (ops, "linear", "w", w, mw)
      || !lf_cpu_mat (ops, "linear", "y", y, my))
    return 0;
  if (w->ndim != 2 || mw->cols != mx->cols)
    return lf_cpu_invalid (ops, "linear",
                           "w must be (N_out, K) with x's K, got", w);
  if (y->ndim != x->ndim || my->batch != mx->batch || my->rows != mx->rows
      || my->cols != mw->rows)
    return lf_cpu_invalid (ops, "linear",
                           "y must have x's batch and rows and N_out columns, "
                           "got",
                           y);
  if (mx->batch > 1 && (mx->batch_stride == 0 || my->batch_stride == 0))
    return lf_cpu_invalid (ops, "linear", "x and y may not broadcast, y is", y);
  if (b != NULL
      && (!lf_cpu_check_contiguous (ops, "linear", "b", b, 1)
          || b->shape[0] != mw->rows))
    return lf_cpu_invalid (ops, "linear", "b must be (N_out), got", b);
  return 1;
}

static void
linear_fill_bias (LfOps *ops, const LfCpuMat *my, const float *bias)
{
  const int64_t rows = my->batch * my->rows;

#pragma omp parallel for num_threads(ops->n_threads)
  for (int64_t r = 0; r < rows; r++)
    {
      const int64_t i = r / my->rows, j = r % my->rows;

      memcpy (my->data + i * my->batch_stride + j * my->ld, bias,
              (size_t)my->cols * sizeof (float));
    }
}

static void
linear_sgemm (const LfOps    *ops,
              const float    *x,
              const LfCpuMat *mx,
              const LfCpuMat *mw,
              float          *y,
              const LfCpuMat *my,
              int64_t         m,
              float           beta)
{
  lf_cpu_sgemm (ops, 0, 1, m, mw->rows, mx->cols, 1.0f, x, mx->ld, mw->data,
                mw->ld, beta, y, my->ld);
}

void
lf_cpu_linear (LfOps          *ops,
               const LfTensor *x,
               const LfTensor *w,
               const LfTensor *b,
               LfTensor       *y)
{
  LfCpuMat    mx, mw, my;
  const float beta = b != NULL ? 1.0f : 0.0f;
  int64_t     rows;

  if (!linear_check (ops, x, w, b, y, &mx, &mw, &my))
    return;
  rows = mx.batch * mx.rows;
  if (rows == 0 || my.cols == 0)
    return;
  if (b != NULL)
    linear_fill_bias (ops, &my, b->data);

  /* Batches laid end to end (the usual case, and every 2-D view) are one
   * (B·N, K) matrix. */
  if (mx.batch == 1
      || (mx.batch_stride == mx.rows * mx.ld
          && my.batch_stride == my.rows * my.ld && lf_cpu_blas_int_ok (rows)))
    {
      linear_sgemm (ops, mx.data, &mx, &mw, my.data, &my, rows, beta);
      return;
    }
  for (int64_t i = 0; i < mx.batch; i++)
    linear_sgemm (ops, mx.data + i * mx.batch_stride, &mx, &mw,
                  my.data + i * my.batch_stride, &my, mx.rows, beta);
}
