/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_gemm (LfOps *a0, const LfTensor *a1, int a2, const LfTensor *a3, int a4, float a5, float a6, LfTensor *a7)
{
  (void) a1;
  (void) a2;
  (void) a3;
  (void) a4;
  (void) a5;
  (void) a6;
  (void) a7;
  lf_ops_fail (a0, LF_STATUS_INVALID, "gemm: placeholder");
}
