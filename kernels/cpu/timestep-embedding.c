/* PLACEHOLDER: replaced by the real kernel before issue 2 lands */
#include "cpu-ops.h"

void lf_cpu_timestep_embedding (LfOps *a0, const LfTensor *a1, int a2, float a3, float a4, LfTensor *a5)
{
  (void) a1;
  (void) a2;
  (void) a3;
  (void) a4;
  (void) a5;
  lf_ops_fail (a0, LF_STATUS_INVALID, "timestep_embedding: placeholder");
}
