/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_conv2d (LfOps *a0, const LfTensor *a1, const LfTensor *a2, const LfTensor *a3, const LfConv2dParams *a4, LfTensor *a5)
{
  (void) a1;
  (void) a2;
  (void) a3;
  (void) a4;
  (void) a5;
  lf_ops_fail (a0, LF_STATUS_INVALID, "conv2d: placeholder");
}
