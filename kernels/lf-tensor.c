/* lf-tensor.c: tensor views. Pure index arithmetic; nothing here touches
 * element data, so the same code serves host and device pointers.
 */
#include "lf-tensor.h"

#include <string.h>

size_t
lf_dtype_size (LfDtype dtype)
{
  switch (dtype)
    {
    case LF_DTYPE_F32:
      return 4;
    case LF_DTYPE_F16:
    case LF_DTYPE_BF16:
      return 2;
    }
  return 0;
}

const char *
lf_dtype_name (LfDtype dtype)
{
  switch (dtype)
    {
    case LF_DTYPE_F32:
      return "f32";
    case LF_DTYPE_F16:
      return "f16";
    case LF_DTYPE_BF16:
      return "bf16";
    }
  return "?";
}

LfTensor
lf_tensor_make (void *data, LfDtype dtype, int ndim, const int64_t *shape)
{
  LfTensor t;
  uint64_t stride = 1;

  /* Unsigned: an absurd shape wraps instead of being undefined; callers
   * that allocate check the byte size themselves (lf_arena_tensor). */
  memset (&t, 0, sizeof t);
  t.data = data;
  t.dtype = dtype;
  t.ndim = ndim;
  for (int i = ndim - 1; i >= 0; i--)
    {
      t.shape[i] = shape[i];
      t.stride[i] = (int64_t)stride;
      stride *= (uint64_t)shape[i];
    }
  return t;
}

LfTensor
lf_tensor_1d (void *data, LfDtype dtype, int64_t d0)
{
  const int64_t shape[1] = { d0 };
  return lf_tensor_make (data, dtype, 1, shape);
}

LfTensor
lf_tensor_2d (void *data, LfDtype dtype, int64_t d0, int64_t d1)
{
  const int64_t shape[2] = { d0, d1 };
  return lf_tensor_make (data, dtype, 2, shape);
}

LfTensor
lf_tensor_3d (void *data, LfDtype dtype, int64_t d0, int64_t d1, int64_t d2)
{
  const int64_t shape[3] = { d0, d1, d2 };
  return lf_tensor_make (data, dtype, 3, shape);
}

LfTensor
lf_tensor_4d (
    void *data, LfDtype dtype, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
  const int64_t shape[4] = { d0, d1, d2, d3 };
  return lf_tensor_make (data, dtype, 4, shape);
}

int64_t
lf_tensor_numel (const LfTensor *t)
{
  int64_t n = 1;

  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

size_t
lf_tensor_nbytes (const LfTensor *t)
{
  return (size_t)lf_tensor_numel (t) * lf_dtype_size (t->dtype);
}

int
lf_tensor_is_contiguous (const LfTensor *t)
{
  int64_t stride = 1;

  for (int i = t->ndim - 1; i >= 0; i--)
    {
      /* A dimension of size 1 may carry any stride. */
      if (t->shape[i] != 1 && t->stride[i] != stride)
        return 0;
      stride *= t->shape[i];
    }
  return 1;
}

int
lf_tensor_same_shape (const LfTensor *a, const LfTensor *b)
{
  if (a->ndim != b->ndim)
    return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i])
      return 0;
  return 1;
}

int
lf_tensor_reshape (const LfTensor *t,
                   int             ndim,
                   const int64_t  *shape,
                   LfTensor       *out)
{
  int64_t n = 1;

  if (ndim < 0 || ndim > LF_TENSOR_MAX_DIMS || !lf_tensor_is_contiguous (t))
    return 0;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return 0;
      n *= shape[i];
    }
  if (n != lf_tensor_numel (t))
    return 0;
  *out = lf_tensor_make (t->data, t->dtype, ndim, shape);
  return 1;
}

int
lf_tensor_narrow (
    const LfTensor *t, int dim, int64_t start, int64_t len, LfTensor *out)
{
  LfTensor v;

  if (dim < 0 || dim >= t->ndim || start < 0 || len < 0
      || start > t->shape[dim] - len)
    return 0;
  v = *t;
  v.data = (char *)t->data
           + start * t->stride[dim] * (int64_t)lf_dtype_size (t->dtype);
  v.shape[dim] = len;
  *out = v;
  return 1;
}

int
lf_tensor_permute (const LfTensor *t, const int *perm, LfTensor *out)
{
  LfTensor v = *t;
  int      seen[LF_TENSOR_MAX_DIMS] = { 0 };

  for (int i = 0; i < t->ndim; i++)
    {
      if (perm[i] < 0 || perm[i] >= t->ndim || seen[perm[i]])
        return 0;
      seen[perm[i]] = 1;
      v.shape[i] = t->shape[perm[i]];
      v.stride[i] = t->stride[perm[i]];
    }
  *out = v;
  return 1;
}

int
lf_tensor_expand (const LfTensor *t, int dim, int64_t n, LfTensor *out)
{
  LfTensor v;

  if (dim < 0 || dim >= t->ndim || t->shape[dim] != 1 || n < 0)
    return 0;
  v = *t;
  v.shape[dim] = n;
  v.stride[dim] = 0;
  *out = v;
  return 1;
}
