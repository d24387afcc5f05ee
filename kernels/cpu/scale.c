/* scale.c: y = s · x (torch tensor * scalar), e.g. the VAE scaling factor
 * and classifier-free guidance terms.
 */
#include "cpu-pointwise.h"

static void
scale_span (const float *x, float *y, int64_t n, float s)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = s * x[i];
}

void
lf_cpu_scale (LfOps *ops, const LfTensor *x, float s, LfTensor *y)
{
  lf_cpu_unary_run (ops, "scale", x, y, scale_span, s);
}
