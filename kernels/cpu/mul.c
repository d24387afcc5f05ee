/* mul.c: y = a · b with add's broadcast rules (torch a * b after expand),
 * e.g. LinFusion's gating and classifier-free guidance terms.
 */
#include "cpu-strided.h"

/* Unit and zero strides get their own loops so they vectorise. */
static void
mul_span (
    const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
  if (sa == 1 && sb == 1)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i] * b[i];
  else if (sa == 1 && sb == 0)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i] * b[0];
  else if (sa == 0 && sb == 1)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[0] * b[i];
  else
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i * sa] * b[i * sb];
}

void
lf_cpu_mul (LfOps *ops, const LfTensor *a, const LfTensor *b, LfTensor *y)
{
  lf_cpu_binary_run (ops, "mul", a, b, y, mul_span);
}
