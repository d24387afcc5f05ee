/* concat-channels.c: torch.cat ([a, b], dim=1) on (B, C, H, W), the skip
 * connections of the diffusers UNet up blocks.
 */
#include "cpu-pointwise.h"

#include <string.h>

/* For each batch item, y holds a's Ca·H·W elements and then b's Cb·H·W:
 * output chunks map to at most a few contiguous runs of a or b. */
static void
concat_chunk (const float *a,
              int64_t      na,
              const float *b,
              int64_t      nb,
              float       *y,
              int64_t      start,
              int64_t      end)
{
  for (int64_t o = start; o < end;)
    {
      const int64_t bi = o / (na + nb), off = o % (na + nb);
      const float  *src
          = off < na ? a + bi * na + off : b + bi * nb + (off - na);
      const int64_t run = off < na ? na - off : na + nb - off;
      const int64_t len = run < end - o ? run : end - o;

      memcpy (y + o, src, (size_t)len * sizeof (float));
      o += len;
    }
}

void
lf_cpu_concat_channels (LfOps          *ops,
                        const LfTensor *a,
                        const LfTensor *b,
                        LfTensor       *y)
{
  char    sa[LF_CPU_SHAPE_SIZE], sb[LF_CPU_SHAPE_SIZE], sy[LF_CPU_SHAPE_SIZE];
  int64_t na, nb, total, n_chunks;

  if (!lf_cpu_check_f32_contiguous (ops, "concat_channels", "a", a)
      || !lf_cpu_check_f32_contiguous (ops, "concat_channels", "b", b)
      || !lf_cpu_check_f32_contiguous (ops, "concat_channels", "y", y))
    return;
  if (a->ndim != 4 || b->ndim != 4 || y->ndim != 4 || a->shape[0] != y->shape[0]
      || b->shape[0] != y->shape[0] || a->shape[1] + b->shape[1] != y->shape[1]
      || a->shape[2] != y->shape[2] || b->shape[2] != y->shape[2]
      || a->shape[3] != y->shape[3] || b->shape[3] != y->shape[3])
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "concat_channels: a %s and b %s do not concatenate to "
                   "y %s along channels",
                   lf_cpu_shape_str (a, sa), lf_cpu_shape_str (b, sb),
                   lf_cpu_shape_str (y, sy));
      return;
    }
  na = a->shape[1] * a->shape[2] * a->shape[3];
  nb = b->shape[1] * b->shape[2] * b->shape[3];
  total = lf_tensor_numel (y);
  n_chunks = (total + LF_CPU_CHUNK - 1) / LF_CPU_CHUNK;

#pragma omp parallel for num_threads(ops->n_threads) if (n_chunks > 1)         \
    schedule(static)
  for (int64_t c = 0; c < n_chunks; c++)
    {
      const int64_t start = c * LF_CPU_CHUNK;

      concat_chunk (a->data, na, b->data, nb, y->data, start,
                    total - start < LF_CPU_CHUNK ? total
                                                 : start + LF_CPU_CHUNK);
    }
}
