/* cpu-strided.c: the strided loop nest and the binary runner of add and mul
 * (see cpu-strided.h).
 */
#include "cpu-strided.h"

static int
mergeable (const LfCpuLoop *loop, int last, const LfTensor *const *t, int d)
{
  for (int k = 0; k < loop->n_ops; k++)
    if (loop->stride[k][last] != t[k]->stride[d] * t[k]->shape[d])
      return 0;
  return 1;
}

void
lf_cpu_loop_init (LfCpuLoop *loop, int n_ops, const LfTensor *const *t)
{
  int64_t rows = 1;
  int     nd = 0;

  loop->n_ops = n_ops;
  loop->n_tiles = 0;
  for (int d = 0; d < t[0]->ndim; d++)
    {
      if (t[0]->shape[d] == 0)
        return;
      if (t[0]->shape[d] == 1)
        continue;
      if (nd > 0 && mergeable (loop, nd - 1, t, d))
        nd--;
      else
        loop->shape[nd] = 1;
      loop->shape[nd] *= t[0]->shape[d];
      for (int k = 0; k < n_ops; k++)
        loop->stride[k][nd] = t[k]->stride[d];
      nd++;
    }
  if (nd == 0)
    {
      loop->shape[nd] = 1;
      for (int k = 0; k < n_ops; k++)
        loop->stride[k][nd] = 0;
      nd = 1;
    }
  loop->ndim = nd;
  for (int d = 0; d < nd - 1; d++)
    rows *= loop->shape[d];
  loop->tiles_per_row = (loop->shape[nd - 1] + LF_CPU_CHUNK - 1) / LF_CPU_CHUNK;
  loop->n_tiles = rows * loop->tiles_per_row;
}

int64_t
lf_cpu_loop_tile (const LfCpuLoop *loop, int64_t tile, int64_t *offset)
{
  const int     in = loop->ndim - 1;
  const int64_t start = (tile % loop->tiles_per_row) * LF_CPU_CHUNK;
  int64_t       row = tile / loop->tiles_per_row;

  for (int k = 0; k < loop->n_ops; k++)
    offset[k] = start * loop->stride[k][in];
  for (int d = in - 1; d >= 0; d--)
    {
      const int64_t i = row % loop->shape[d];

      row /= loop->shape[d];
      for (int k = 0; k < loop->n_ops; k++)
        offset[k] += i * loop->stride[k][d];
    }
  return loop->shape[in] - start < LF_CPU_CHUNK ? loop->shape[in] - start
                                                : LF_CPU_CHUNK;
}

void
lf_cpu_binary_run (LfOps          *ops,
                   const char     *op,
                   const LfTensor *a,
                   const LfTensor *b,
                   LfTensor       *y,
                   LfCpuBinaryFn   fn)
{
  const LfTensor *t[3] = { y, a, b };
  LfCpuLoop       loop;

  if (!lf_cpu_check_f32 (ops, op, "a", a) || !lf_cpu_check_f32 (ops, op, "b", b)
      || !lf_cpu_check_f32_contiguous (ops, op, "y", y)
      || !lf_cpu_check_same_shape (ops, op, "a", a, "y", y)
      || !lf_cpu_check_same_shape (ops, op, "b", b, "y", y))
    return;
  lf_cpu_loop_init (&loop, 3, t);

#pragma omp parallel for num_threads(ops->n_threads) if (loop.n_tiles > 1)     \
    schedule(static)
  for (int64_t i = 0; i < loop.n_tiles; i++)
    {
      int64_t       off[3];
      const int64_t n = lf_cpu_loop_tile (&loop, i, off);

      fn ((const float *)a->data + off[1], lf_cpu_loop_inner (&loop, 1),
          (const float *)b->data + off[2], lf_cpu_loop_inner (&loop, 2),
          (float *)y->data + off[0], n);
    }
}
