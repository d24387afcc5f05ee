/* gelu.c: y = x · Φ(x) with the exact normal CDF (torch.nn.functional.gelu,
 * approximate="none", as diffusers' GELU and CLIP's "gelu" use it).
 */
#include "cpu-pointwise.h"

static void
gelu_span (const float *x, float *y, int64_t n, float param)
{
  (void)param;
  for (int64_t i = 0; i < n; i++)
    y[i] = lf_cpu_gelu1 (x[i]);
}

void
lf_cpu_gelu (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  lf_cpu_unary_run (ops, "gelu", x, y, gelu_span, 0.0f);
}
