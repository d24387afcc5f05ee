/* add.c: y = a + b with broadcast views (torch a + b after expand), e.g. the
 * ResnetBlock2D time embedding (B, C, 1, 1) added over H and W, and every
 * residual connection (in place).
 */
#include "cpu-strided.h"

/* Unit and zero strides get their own loops so they vectorise. */
static void
add_span (
    const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
  if (sa == 1 && sb == 1)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i] + b[i];
  else if (sa == 1 && sb == 0)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i] + b[0];
  else if (sa == 0 && sb == 1)
    for (int64_t i = 0; i < n; i++)
      y[i] = a[0] + b[i];
  else
    for (int64_t i = 0; i < n; i++)
      y[i] = a[i * sa] + b[i * sb];
}

void
lf_cpu_add (LfOps *ops, const LfTensor *a, const LfTensor *b, LfTensor *y)
{
  lf_cpu_binary_run (ops, "add", a, b, y, add_span);
}
