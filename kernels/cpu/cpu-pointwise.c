/* cpu-pointwise.c: argument checks and the contiguous unary runner shared
 * by the CPU non-GEMM kernels (see cpu-pointwise.h).
 */
#include "cpu-pointwise.h"

#include <stdio.h>

static int
rows_overlap (const LfCpuRows *r)
{
  const int64_t span_n = r->N > 0 ? (r->N - 1) * r->sn + r->C : 0;

  if (r->N > 1 && r->sn < r->C)
    return 1;
  return r->B > 1 && r->sb < span_n;
}

int
lf_cpu_check_rows (LfOps          *ops,
                   const char     *op,
                   const char     *arg,
                   const LfTensor *t,
                   int             is_output,
                   LfCpuRows      *rows)
{
  char s[LF_CPU_SHAPE_SIZE];
  int  last;

  if (!lf_cpu_check_f32 (ops, op, arg, t))
    return 0;
  if (t->ndim != 2 && t->ndim != 3)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "%s: %s %s must be token rows (B, N, C) or (M, C)", op, arg,
                   lf_cpu_shape_str (t, s));
      return 0;
    }
  last = t->ndim - 1;
  rows->B = t->ndim == 3 ? t->shape[0] : 1;
  rows->sb = t->ndim == 3 ? t->stride[0] : 0;
  rows->N = t->shape[last - 1];
  rows->sn = t->stride[last - 1];
  rows->C = t->shape[last];
  if ((rows->C > 1 && t->stride[last] != 1) || rows->sn < 0 || rows->sb < 0
      || (is_output && rows_overlap (rows)))
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "%s: %s %s has strides the op does not accept "
                   "(last dimension contiguous%s)",
                   op, arg, lf_cpu_shape_str (t, s),
                   is_output ? ", rows apart" : "");
      return 0;
    }
  return 1;
}

void
lf_cpu_unary_run (LfOps          *ops,
                  const char     *op,
                  const LfTensor *x,
                  LfTensor       *y,
                  LfCpuUnaryFn    fn,
                  float           param)
{
  const float *xp;
  float       *yp;
  int64_t      n, n_chunks;

  if (!lf_cpu_check_f32_contiguous (ops, op, "x", x)
      || !lf_cpu_check_f32_contiguous (ops, op, "y", y)
      || !lf_cpu_check_same_shape (ops, op, "x", x, "y", y))
    return;
  xp = x->data;
  yp = y->data;
  n = lf_tensor_numel (x);
  n_chunks = (n + LF_CPU_CHUNK - 1) / LF_CPU_CHUNK;

#pragma omp parallel for num_threads(ops->n_threads) if (n_chunks > 1)         \
    schedule(static)
  for (int64_t c = 0; c < n_chunks; c++)
    {
      const int64_t start = c * LF_CPU_CHUNK;
      const int64_t len = n - start < LF_CPU_CHUNK ? n - start : LF_CPU_CHUNK;

      fn (xp + start, yp + start, len, param);
    }
}
