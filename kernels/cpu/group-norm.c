/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_group_norm (LfOps *a0, const LfTensor *a1, const LfTensor *a2, const LfTensor *a3, int a4, float a5, LfTensor *a6)
{
  (void) a1;
  (void) a2;
  (void) a3;
  (void) a4;
  (void) a5;
  (void) a6;
  lf_ops_fail (a0, LF_STATUS_INVALID, "group_norm: placeholder");
}
void lf_cpu_group_norm_silu (LfOps *a0, const LfTensor *a1, const LfTensor *a2, const LfTensor *a3, int a4, float a5, LfTensor *a6)
{
  (void) a1;
  (void) a2;
  (void) a3;
  (void) a4;
  (void) a5;
  (void) a6;
  lf_ops_fail (a0, LF_STATUS_INVALID, "group_norm_silu: placeholder");
}
