/* leaky-relu.c: torch.nn.functional.leaky_relu, as in LinFusion's
 * generalised-linear-attention MLPs (negative slope 0.01).
 */
#include "cpu-pointwise.h"

static void
leaky_relu_span (const float *x, float *y, int64_t n, float slope)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] >= 0.0f ? x[i] : slope * x[i];
}

void
lf_cpu_leaky_relu (LfOps *ops, const LfTensor *x, float slope, LfTensor *y)
{
  lf_cpu_unary_run (ops, "leaky_relu", x, y, leaky_relu_span, slope);
}
