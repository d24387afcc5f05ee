/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_mul (LfOps *a0, const LfTensor *a1, const LfTensor *a2, LfTensor *a3)
{
  (void) a1;
  (void) a2;
  (void) a3;
  lf_ops_fail (a0, LF_STATUS_INVALID, "mul: placeholder");
}
