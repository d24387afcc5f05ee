/* quick-gelu.c: y = x · σ(1.702 x), CLIP's quick_gelu (transformers
 * activations.QuickGELUActivation), used by the SD 1.5 text encoder.
 */
#include "cpu-pointwise.h"

#include <math.h>

static void
quick_gelu_span (const float *x, float *y, int64_t n, float param)
{
  (void)param;
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] / (1.0f + expf (-1.702f * x[i]));
}

void
lf_cpu_quick_gelu (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  lf_cpu_unary_run (ops, "quick_gelu", x, y, quick_gelu_span, 0.0f);
}
