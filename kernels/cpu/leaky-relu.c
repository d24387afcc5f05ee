/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_leaky_relu (LfOps *a0, const LfTensor *a1, float a2, LfTensor *a3)
{
  (void) a1;
  (void) a2;
  (void) a3;
  lf_ops_fail (a0, LF_STATUS_INVALID, "leaky_relu: placeholder");
}
