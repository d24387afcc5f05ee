/* clamp.c: torch.clamp (x, lo, hi), as AutoencoderKL's posterior clamps
 * its logvar to [−30, 20]. Written with comparisons, not fminf/fmaxf, so a
 * NaN stays NaN as in torch.
 */
#include "cpu-pointwise.h"

void
lf_cpu_clamp (LfOps *ops, const LfTensor *x, float lo, float hi, LfTensor *y)
{
  const float *xp;
  float       *yp;
  int64_t      n;

  if (!lf_cpu_check_f32_contiguous (ops, "clamp", "x", x)
      || !lf_cpu_check_f32_contiguous (ops, "clamp", "y", y)
      || !lf_cpu_check_same_shape (ops, "clamp", "x", x, "y", y))
    return;
  if (!(lo <= hi))
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "clamp: lo %g is above hi %g",
                   (double)lo, (double)hi);
      return;
    }
  xp = x->data;
  yp = y->data;
  n = lf_tensor_numel (x);
#pragma omp parallel for num_threads(ops->n_threads) if (n > LF_CPU_CHUNK)     \
    schedule(static)
  for (int64_t i = 0; i < n; i++)
    yp[i] = xp[i] < lo ? lo : (xp[i] > hi ? hi : xp[i]);
}
