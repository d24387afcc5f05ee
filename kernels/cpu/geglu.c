/* geglu.c: the gating of diffusers GEGLU (attention.py) after its proj
 * Linear: hidden_states, gate = proj (x).chunk (2, dim=-1);
 * return hidden_states * gelu (gate).
 */
#include "cpu-pointwise.h"

static void
geglu_row (const float *x, float *y, int64_t F)
{
  for (int64_t i = 0; i < F; i++)
    y[i] = x[i] * lf_cpu_gelu1 (x[F + i]);
}

void
lf_cpu_geglu (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  LfCpuRows rx, ry;
  char      sx[LF_CPU_SHAPE_SIZE], sy[LF_CPU_SHAPE_SIZE];
  int64_t   n_rows;

  if (!lf_cpu_check_rows (ops, "geglu", "x", x, 0, &rx)
      || !lf_cpu_check_rows (ops, "geglu", "y", y, 1, &ry))
    return;
  if (x->ndim != y->ndim || rx.B != ry.B || rx.N != ry.N || rx.C != 2 * ry.C)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "geglu: x %s must be y %s with twice the channels",
                   lf_cpu_shape_str (x, sx), lf_cpu_shape_str (y, sy));
      return;
    }
  n_rows = rx.B * rx.N;

#pragma omp parallel for num_threads(                                          \
    ops->n_threads) if (n_rows * ry.C > LF_CPU_CHUNK) schedule(static)
  for (int64_t r = 0; r < n_rows; r++)
    {
      const int64_t b = r / rx.N, n = r % rx.N;

      geglu_row ((const float *)x->data + b * rx.sb + n * rx.sn,
                 (float *)y->data + b * ry.sb + n * ry.sn, ry.C);
    }
}
