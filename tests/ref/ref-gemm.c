/* ref-gemm.c: naive double references of gemm and linear (lf-ops.h), plus
 * the strided-view accessors the GEMM-shaped references share.
 */
#include "config.h"

#include "ref-gemm-ops.h"

double
lf_ref_at3 (const LfTensor *t, int64_t i, int64_t r, int64_t c)
{
  const float *p = t->data;

  if (t->ndim == 2)
    return p[r * t->stride[0] + c * t->stride[1]];
  return p[i * t->stride[0] + r * t->stride[1] + c * t->stride[2]];
}

void
lf_ref_gather3 (const LfTensor *t, float *out)
{
  const int     o = t->ndim - 2;
  const int64_t n_batch = t->ndim == 3 ? t->shape[0] : 1;

  for (int64_t i = 0; i < n_batch; i++)
    for (int64_t r = 0; r < t->shape[o]; r++)
      for (int64_t c = 0; c < t->shape[o + 1]; c++)
        *out++ = (float)lf_ref_at3 (t, i, r, c);
}

/* op(x)[r][c] of batch i; a batch of one broadcasts. */
static double
op_at (const LfTensor *x, int trans, int64_t i, int64_t r, int64_t c)
{
  if (x->ndim == 3 && x->shape[0] == 1)
    i = 0;
  return trans ? lf_ref_at3 (x, i, c, r) : lf_ref_at3 (x, i, r, c);
}

void
lf_ref_gemm (const LfTensor *a,
             int             trans_a,
             const LfTensor *b,
             int             trans_b,
             float           alpha,
             float           beta,
             const LfTensor *c,
             double         *out)
{
  const int     o = c->ndim - 2;
  const int64_t n_batch = c->ndim == 3 ? c->shape[0] : 1;
  const int64_t M = c->shape[o], N = c->shape[o + 1];
  const int64_t K = trans_a ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1];

  for (int64_t i = 0; i < n_batch; i++)
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++)
        {
          double acc = 0.0;

          for (int64_t k = 0; k < K; k++)
            acc += op_at (a, trans_a, i, m, k) * op_at (b, trans_b, i, k, n);
          acc *= alpha;
          if (beta != 0.0f)
            acc += beta * lf_ref_at3 (c, i, m, n);
          *out++ = acc;
        }
}

void
lf_ref_linear (const LfTensor *x,
               const LfTensor *w,
               const LfTensor *b,
               double         *y)
{
  const int     o = x->ndim - 2;
  const int64_t n_batch = x->ndim == 3 ? x->shape[0] : 1;
  const int64_t N = x->shape[o], K = x->shape[o + 1], N_out = w->shape[0];

  for (int64_t i = 0; i < n_batch; i++)
    for (int64_t r = 0; r < N; r++)
      for (int64_t n = 0; n < N_out; n++)
        {
          double acc = b != NULL ? ((const float *)b->data)[n] : 0.0;

          for (int64_t k = 0; k < K; k++)
            acc += lf_ref_at3 (x, i, r, k) * lf_ref_at3 (w, 0, n, k);
          *y++ = acc;
        }
}
