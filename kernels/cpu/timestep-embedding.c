/* timestep-embedding.c: diffusers get_timestep_embedding (embeddings.py)
 * with scale 1, reproducing its f32 arithmetic: the exponent
 * −ln (max_period) · i / (half − shift) and the argument t · freq are f32
 * products and quotients as in torch; exp, sin and cos are taken in double
 * and rounded once, which is as close as f32 can get to torch's results.
 */
#include "cpu-pointwise.h"

#include <math.h>

/* freq_i exactly as torch builds it: exponent = f32 (−ln max_period) ·
 * arange (half) in f32, divided in f32 by (half − shift), then exp. */
static float
frequency (int64_t i, int64_t half, float freq_shift, float max_period)
{
  const float neg_log = (float)-log ((double)max_period);
  const float div = (float)((double)half - (double)freq_shift);
  const float e = neg_log * (float)i / div;

  return (float)exp ((double)e);
}

static void
embed_row (float   t,
           int64_t half,
           int64_t dim,
           int     flip,
           float   freq_shift,
           float   max_period,
           float  *y)
{
  float *first = y;         /* sin, or cos when flipped */
  float *second = y + half; /* cos, or sin when flipped */

  for (int64_t i = 0; i < half; i++)
    {
      const float  arg = t * frequency (i, half, freq_shift, max_period);
      const double s = sin ((double)arg), c = cos ((double)arg);

      first[i] = (float)(flip ? c : s);
      second[i] = (float)(flip ? s : c);
    }
  if (dim % 2 == 1) /* F.pad (emb, (0, 1, 0, 0)) */
    y[dim - 1] = 0.0f;
}

static int
check_embedding (LfOps          *ops,
                 const LfTensor *t,
                 float           freq_shift,
                 float           max_period,
                 const LfTensor *y)
{
  char    st[LF_CPU_SHAPE_SIZE], sy[LF_CPU_SHAPE_SIZE];
  int64_t half;

  if (!lf_cpu_check_f32_contiguous (ops, "timestep_embedding", "t", t)
      || !lf_cpu_check_f32_contiguous (ops, "timestep_embedding", "y", y))
    return 0;
  if (t->ndim != 1 || y->ndim != 2 || y->shape[0] != t->shape[0])
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "timestep_embedding: t %s must be (B) and y %s (B, dim)",
                   lf_cpu_shape_str (t, st), lf_cpu_shape_str (y, sy));
      return 0;
    }
  half = y->shape[1] / 2;
  if (half > 0 && ((double)half == (double)freq_shift || !(max_period > 0)))
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "timestep_embedding: dim %lld with freq_shift %g and "
                   "max_period %g has no defined frequencies",
                   (long long)y->shape[1], (double)freq_shift,
                   (double)max_period);
      return 0;
    }
  return 1;
}

void
lf_cpu_timestep_embedding (LfOps          *ops,
                           const LfTensor *t,
                           int             flip_sin_to_cos,
                           float           freq_shift,
                           float           max_period,
                           LfTensor       *y)
{
  int64_t B, dim;

  if (!check_embedding (ops, t, freq_shift, max_period, y))
    return;
  B = y->shape[0];
  dim = y->shape[1];

#pragma omp parallel for num_threads(                                          \
    ops->n_threads) if (B * dim > LF_CPU_CHUNK) schedule(static)
  for (int64_t b = 0; b < B; b++)
    embed_row (((const float *)t->data)[b], dim / 2, dim, flip_sin_to_cos,
               freq_shift, max_period, (float *)y->data + b * dim);
}
