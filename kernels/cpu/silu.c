/* silu.c: y = x · σ(x) (torch.nn.functional.silu), the activation of every
 * diffusers ResnetBlock2D and of the time embedding MLP.
 */
#include "cpu-pointwise.h"

#include <math.h>

/* x / (1 + e^−x): for x ≪ 0 the exponential overflows to inf and y is −0,
 * the limit, instead of inf · 0. */
static void
silu_span (const float *x, float *y, int64_t n, float param)
{
  (void)param;
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] / (1.0f + expf (-x[i]));
}

void
lf_cpu_silu (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  lf_cpu_unary_run (ops, "silu", x, y, silu_span, 0.0f);
}
