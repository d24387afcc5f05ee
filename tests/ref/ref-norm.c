/* ref-norm.c: naive double references of group_norm, group_norm_silu and
 * layer_norm (lf-ops.h; torch.nn.GroupNorm and LayerNorm, biased variance).
 */
#include "config.h"

#include <math.h>

#include "ref-pointwise-ops.h"

void
lf_ref_group_norm (const LfTensor *x,
                   const LfTensor *gamma,
                   const LfTensor *beta,
                   int             groups,
                   double          eps,
                   int             silu,
                   double         *y)
{
  const int64_t B = x->shape[0], C = x->shape[1];
  const int64_t cpg = C / groups;
  int64_t       S = 1;

  for (int d = 2; d < x->ndim; d++)
    S *= x->shape[d];
  for (int64_t b = 0; b < B; b++)
    for (int64_t g = 0; g < groups; g++)
      {
        const int64_t first = (b * C + g * cpg) * S, n = cpg * S;
        double        mean = 0.0, var = 0.0;

        for (int64_t i = 0; i < n; i++)
          mean += lf_ref_get (x, first + i);
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++)
          var += pow (lf_ref_get (x, first + i) - mean, 2.0);
        var /= (double)n;
        for (int64_t i = 0; i < n; i++)
          {
            const int64_t c = g * cpg + i / S;
            double v = (lf_ref_get (x, first + i) - mean) / sqrt (var + eps)
                           * lf_ref_get (gamma, c)
                       + lf_ref_get (beta, c);

            y[first + i] = silu ? lf_ref_silu1 (v) : v;
          }
      }
}

void
lf_ref_layer_norm (const LfTensor *x,
                   const LfTensor *gamma,
                   const LfTensor *beta,
                   double          eps,
                   double         *y)
{
  const int64_t C = x->shape[x->ndim - 1];
  const int64_t rows = C > 0 ? lf_tensor_numel (x) / C : 0;

  for (int64_t r = 0; r < rows; r++)
    {
      double mean = 0.0, var = 0.0;

      for (int64_t c = 0; c < C; c++)
        mean += lf_ref_get (x, r * C + c);
      mean /= (double)C;
      for (int64_t c = 0; c < C; c++)
        var += pow (lf_ref_get (x, r * C + c) - mean, 2.0);
      var /= (double)C;
      for (int64_t c = 0; c < C; c++)
        y[r * C + c] = (lf_ref_get (x, r * C + c) - mean) / sqrt (var + eps)
                           * lf_ref_get (gamma, c)
                       + lf_ref_get (beta, c);
    }
}
