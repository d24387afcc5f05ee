/* layer-norm.c: torch.nn.LayerNorm over the last dimension (biased
 * variance, elementwise affine), as in diffusers BasicTransformerBlock and
 * the CLIP text encoder. Token rows, so fused-projection slices pass as is.
 */
#include "cpu-pointwise.h"

/* Row statistics in double, mean first and then the centred sum of squares,
 * so rows with a large mean keep their variance (E[x²] − E[x]² would not). */
static void
layer_norm_row (const float *x,
                const float *gamma,
                const float *beta,
                int64_t      C,
                float        eps,
                float       *y)
{
  double sum = 0.0, sq = 0.0;
  float  mean, rstd;

  for (int64_t c = 0; c < C; c++)
    sum += x[c];
  mean = (float)(sum / (double)C);
  for (int64_t c = 0; c < C; c++)
    {
      const double d = (double)x[c] - sum / (double)C;

      sq += d * d;
    }
  rstd = (float)(1.0 / sqrt (sq / (double)C + (double)eps));
  for (int64_t c = 0; c < C; c++)
    y[c] = (x[c] - mean) * rstd * gamma[c] + beta[c];
}

static int
check_affine (LfOps *ops, const LfTensor *t, const char *arg, int64_t C)
{
  char s[LF_CPU_SHAPE_SIZE];

  if (!lf_cpu_check_f32_contiguous (ops, "layer_norm", arg, t))
    return 0;
  if (t->ndim != 1 || t->shape[0] != C)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "layer_norm: %s %s must be (%lld), the rows' length", arg,
                   lf_cpu_shape_str (t, s), (long long)C);
      return 0;
    }
  return 1;
}

void
lf_cpu_layer_norm (LfOps          *ops,
                   const LfTensor *x,
                   const LfTensor *gamma,
                   const LfTensor *beta,
                   float           eps,
                   LfTensor       *y)
{
  LfCpuRows rx, ry;
  int64_t   n_rows;

  if (!lf_cpu_check_rows (ops, "layer_norm", "x", x, 0, &rx)
      || !lf_cpu_check_rows (ops, "layer_norm", "y", y, 1, &ry)
      || !lf_cpu_check_same_shape (ops, "layer_norm", "x", x, "y", y)
      || !check_affine (ops, gamma, "gamma", rx.C)
      || !check_affine (ops, beta, "beta", rx.C))
    return;
  n_rows = rx.B * rx.N;

#pragma omp parallel for num_threads(                                          \
    ops->n_threads) if (n_rows * rx.C > LF_CPU_CHUNK) schedule(static)
  for (int64_t r = 0; r < n_rows; r++)
    {
      const int64_t b = r / rx.N, n = r % rx.N;

      layer_norm_row ((const float *)x->data + b * rx.sb + n * rx.sn,
                      gamma->data, beta->data, rx.C, eps,
                      (float *)y->data + b * ry.sb + n * ry.sn);
    }
}
