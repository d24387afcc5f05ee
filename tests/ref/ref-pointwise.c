/* ref-pointwise.c: naive double references of the activations (torch gelu
 * via erf, CLIP quick_gelu, silu, leaky_relu, elu + 1), diffusers GEGLU and
 * the elementwise add, mul and scale (lf-ops.h).
 */
#include "config.h"

#include <math.h>

#include "ref-pointwise-ops.h"

double
lf_ref_gelu1 (double x)
{
  return x * 0.5 * (1.0 + erf (x / sqrt (2.0)));
}

double
lf_ref_quick_gelu1 (double x)
{
  return x / (1.0 + exp (-1.702 * x));
}

double
lf_ref_silu1 (double x)
{
  return x / (1.0 + exp (-x));
}

double
lf_ref_leaky_relu1 (double x, double slope)
{
  return x >= 0.0 ? x : slope * x;
}

double
lf_ref_elu_plus_one1 (double x)
{
  return x > 0.0 ? x + 1.0 : exp (x);
}

void
lf_ref_geglu (const LfTensor *x, double *y)
{
  const int64_t C2 = x->shape[x->ndim - 1], F = C2 / 2;
  const int64_t rows = C2 > 0 ? lf_tensor_numel (x) / C2 : 0;

  for (int64_t r = 0; r < rows; r++)
    for (int64_t i = 0; i < F; i++)
      y[r * F + i] = lf_ref_get (x, r * C2 + i)
                     * lf_ref_gelu1 (lf_ref_get (x, r * C2 + F + i));
}

void
lf_ref_add (const LfTensor *a, const LfTensor *b, double *y)
{
  for (int64_t i = 0; i < lf_tensor_numel (a); i++)
    y[i] = lf_ref_get (a, i) + lf_ref_get (b, i);
}

void
lf_ref_mul (const LfTensor *a, const LfTensor *b, double *y)
{
  for (int64_t i = 0; i < lf_tensor_numel (a); i++)
    y[i] = lf_ref_get (a, i) * lf_ref_get (b, i);
}

void
lf_ref_scale (const LfTensor *x, double s, double *y)
{
  for (int64_t i = 0; i < lf_tensor_numel (x); i++)
    y[i] = s * lf_ref_get (x, i);
}

double
lf_ref_clamp1 (double x, double lo, double hi)
{
  if (isnan (x))
    return x;
  return x < lo ? lo : (x > hi ? hi : x);
}
