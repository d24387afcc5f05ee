/* copy.c: y = x for any strides on both sides and any dtype pair among f32,
 * f16 and bf16 (torch Tensor.copy_ / .to (dtype) / .contiguous ()): the
 * f16/bf16 ↔ f32 conversion of weights and the materialisation of permuted
 * views. Same-dtype copies move bits, so NaN payloads survive.
 */
#include "cpu-strided.h"
#include "half.h"

#include <string.h>

/* Converting tiles pass through f32 in blocks this long (on the stack). */
#define BLOCK 1024

static void
load_f32 (const void *x, LfDtype dt, int64_t sx, float *v, int64_t n)
{
  const float    *xf = x;
  const uint16_t *xh = x;

  if (dt == LF_DTYPE_F32)
    for (int64_t i = 0; i < n; i++)
      v[i] = xf[i * sx];
  else if (dt == LF_DTYPE_F16)
    for (int64_t i = 0; i < n; i++)
      v[i] = lf_f16_to_f32 (xh[i * sx]);
  else
    for (int64_t i = 0; i < n; i++)
      v[i] = lf_bf16_to_f32 (xh[i * sx]);
}

static void
store_f32 (const float *v, int64_t n, void *y, LfDtype dt, int64_t sy)
{
  float    *yf = y;
  uint16_t *yh = y;

  if (dt == LF_DTYPE_F32)
    for (int64_t i = 0; i < n; i++)
      yf[i * sy] = v[i];
  else if (dt == LF_DTYPE_F16)
    for (int64_t i = 0; i < n; i++)
      yh[i * sy] = lf_f32_to_f16 (v[i]);
  else
    for (int64_t i = 0; i < n; i++)
      yh[i * sy] = lf_f32_to_bf16 (v[i]);
}

static void
move_bits (const void *x, int64_t sx, void *y, int64_t sy, size_t es, int64_t n)
{
  if (sx == 1 && sy == 1)
    memcpy (y, x, (size_t)n * es);
  else if (es == 4)
    for (int64_t i = 0; i < n; i++)
      ((uint32_t *)y)[i * sy] = ((const uint32_t *)x)[i * sx];
  else
    for (int64_t i = 0; i < n; i++)
      ((uint16_t *)y)[i * sy] = ((const uint16_t *)x)[i * sx];
}

static void
copy_span (const LfTensor *x,
           int64_t         ox,
           int64_t         sx,
           LfTensor       *y,
           int64_t         oy,
           int64_t         sy,
           int64_t         n)
{
  const size_t ex = lf_dtype_size (x->dtype), ey = lf_dtype_size (y->dtype);
  const char  *xp = (const char *)x->data + ox * (int64_t)ex;
  char        *yp = (char *)y->data + oy * (int64_t)ey;
  float        v[BLOCK];

  if (x->dtype == y->dtype)
    {
      move_bits (xp, sx, yp, sy, ex, n);
      return;
    }
  for (int64_t o = 0; o < n; o += BLOCK)
    {
      const int64_t m = n - o < BLOCK ? n - o : BLOCK;

      load_f32 (xp + o * sx * (int64_t)ex, x->dtype, sx, v, m);
      store_f32 (v, m, yp + o * sy * (int64_t)ey, y->dtype, sy);
    }
}

static int
check_copy (LfOps *ops, const LfTensor *x, const LfTensor *y)
{
  const LfTensor *t[2] = { x, y };
  char            s[LF_CPU_SHAPE_SIZE];

  for (int k = 0; k < 2; k++)
    if (!lf_cpu_check_tensor (ops, "copy", k == 0 ? "x" : "y", t[k]))
      return 0;
    else if (lf_dtype_size (t[k]->dtype) == 0)
      {
        lf_ops_fail (ops, LF_STATUS_INVALID, "copy: %s has unknown dtype %d",
                     k == 0 ? "x" : "y", (int)t[k]->dtype);
        return 0;
      }
  if (!lf_cpu_check_same_shape (ops, "copy", "x", x, "y", y))
    return 0;
  /* A zero stride in y would have threads race to write one element. */
  for (int d = 0; d < y->ndim; d++)
    if (y->shape[d] > 1 && y->stride[d] == 0)
      {
        lf_ops_fail (ops, LF_STATUS_INVALID,
                     "copy: y %s is a broadcast view (stride 0 in dim %d)",
                     lf_cpu_shape_str (y, s), d);
        return 0;
      }
  return 1;
}

void
lf_cpu_copy (LfOps *ops, const LfTensor *x, LfTensor *y)
{
  const LfTensor *t[2] = { y, x };
  LfCpuLoop       loop;

  if (!check_copy (ops, x, y))
    return;
  lf_cpu_loop_init (&loop, 2, t);

#pragma omp parallel for num_threads(ops->n_threads) if (loop.n_tiles > 1)     \
    schedule(static)
  for (int64_t i = 0; i < loop.n_tiles; i++)
    {
      int64_t       off[2];
      const int64_t n = lf_cpu_loop_tile (&loop, i, off);

      copy_span (x, off[1], lf_cpu_loop_inner (&loop, 1), y, off[0],
                 lf_cpu_loop_inner (&loop, 0), n);
    }
}
