/* upsample-nearest2x.c: torch.nn.functional.interpolate (scale_factor=2,
 * mode="nearest") on (B, C, H, W), as in diffusers Upsample2D and the VAE
 * decoder's up blocks.
 */
#include "cpu-pointwise.h"

static void
upsample_row (const float *x, int64_t W, float *y)
{
  for (int64_t j = 0; j < W; j++)
    {
      y[2 * j] = x[j];
      y[2 * j + 1] = x[j];
    }
}

void
lf_cpu_upsample_nearest2x (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  char    sx[LF_CPU_SHAPE_SIZE], sy[LF_CPU_SHAPE_SIZE];
  int64_t H, W, rows;

  if (!lf_cpu_check_f32_contiguous (ops, "upsample_nearest2x", "x", x)
      || !lf_cpu_check_f32_contiguous (ops, "upsample_nearest2x", "y", y))
    return;
  if (x->ndim != 4 || y->ndim != 4 || y->shape[0] != x->shape[0]
      || y->shape[1] != x->shape[1] || y->shape[2] != 2 * x->shape[2]
      || y->shape[3] != 2 * x->shape[3])
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "upsample_nearest2x: x %s (B, C, H, W) and y %s must be "
                   "(B, C, 2H, 2W)",
                   lf_cpu_shape_str (x, sx), lf_cpu_shape_str (y, sy));
      return;
    }
  H = x->shape[2];
  W = x->shape[3];
  rows = x->shape[0] * x->shape[1] * 2 * H; /* output rows */

#pragma omp parallel for num_threads(                                          \
    ops->n_threads) if (rows * W > LF_CPU_CHUNK) schedule(static)
  for (int64_t r = 0; r < rows; r++)
    {
      const int64_t plane = r / (2 * H), i = (r % (2 * H)) / 2;

      upsample_row ((const float *)x->data + (plane * H + i) * W, W,
                    (float *)y->data + r * 2 * W);
    }
}
