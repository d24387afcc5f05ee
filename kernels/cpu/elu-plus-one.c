/* elu-plus-one.c: y = elu (x) + 1, LinFusion's kernel feature map φ applied
 * to queries and keys (F.elu (x) + 1 in its linear attention processor).
 */
#include "cpu-pointwise.h"

#include <math.h>

/* Written as exp (x) rather than (exp (x) − 1) + 1 so small outputs keep
 * their relative precision. */
static void
elu_plus_one_span (const float *x, float *y, int64_t n, float param)
{
  (void)param;
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] > 0.0f ? x[i] + 1.0f : expf (x[i]);
}

void
lf_cpu_elu_plus_one (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  lf_cpu_unary_run (ops, "elu_plus_one", x, y, elu_plus_one_span, 0.0f);
}
