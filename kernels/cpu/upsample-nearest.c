/* upsample-nearest.c: torch.nn.functional.interpolate (mode="nearest") on
 * (B, C, H, W) to y's size, as diffusers' Upsample2D (×2, or to the next
 * skip connection's size) and the VAE decoder's up blocks. The source index
 * follows torch's nearest_idx, float scale included, so odd sizes pick the
 * same pixels as upstream.
 */
#include "cpu-pointwise.h"

/* torch upsample nearest_idx: exact for ×1 and ×2, else the float scale. */
static inline int64_t
nearest_src (int64_t o, int64_t n, int64_t m)
{
  int64_t i;

  if (m == n)
    return o;
  if (m == 2 * n)
    return o >> 1;
  i = (int64_t)floorf ((float)o * ((float)n / (float)m));
  return i < n - 1 ? i : n - 1;
}

void
lf_cpu_upsample_nearest (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  char    sx[LF_CPU_SHAPE_SIZE], sy[LF_CPU_SHAPE_SIZE];
  int64_t H, W, H2, W2, rows;

  if (!lf_cpu_check_f32_contiguous (ops, "upsample_nearest", "x", x)
      || !lf_cpu_check_f32_contiguous (ops, "upsample_nearest", "y", y))
    return;
  if (x->ndim != 4 || y->ndim != 4 || y->shape[0] != x->shape[0]
      || y->shape[1] != x->shape[1] || x->shape[2] < 1 || x->shape[3] < 1)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "upsample_nearest: x %s (B, C, H, W) and y %s must be "
                   "(B, C, H2, W2)",
                   lf_cpu_shape_str (x, sx), lf_cpu_shape_str (y, sy));
      return;
    }
  H = x->shape[2];
  W = x->shape[3];
  H2 = y->shape[2];
  W2 = y->shape[3];
  rows = x->shape[0] * x->shape[1] * H2; /* output rows */

#pragma omp parallel for num_threads(                                          \
    ops->n_threads) if (rows * W2 > LF_CPU_CHUNK) schedule(static)
  for (int64_t r = 0; r < rows; r++)
    {
      const int64_t plane = r / H2, i = nearest_src (r % H2, H, H2);
      const float  *src = (const float *)x->data + (plane * H + i) * W;
      float        *dst = (float *)y->data + r * W2;

      for (int64_t j = 0; j < W2; j++)
        dst[j] = src[nearest_src (j, W, W2)];
    }
}
