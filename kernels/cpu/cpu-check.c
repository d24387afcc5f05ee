/* cpu-check.c: argument checks shared by every CPU kernel. Each records
 * LF_STATUS_INVALID naming the op, the argument and its shape, since a bad
 * shape reaching a kernel is a bug in the caller to be reported, not a crash.
 */
#include "cpu-check.h"

#include <stdio.h>

const char *
lf_cpu_shape_str (const LfTensor *t, char *buf)
{
  size_t len = 0;

  buf[0] = '\0';
  len += snprintf (buf, LF_CPU_SHAPE_SIZE, "(");
  for (int i = 0; i < t->ndim && i < LF_TENSOR_MAX_DIMS; i++)
    if (len < LF_CPU_SHAPE_SIZE)
      len += snprintf (buf + len, LF_CPU_SHAPE_SIZE - len, "%s%lld",
                       i > 0 ? ", " : "", (long long)t->shape[i]);
  if (len < LF_CPU_SHAPE_SIZE)
    snprintf (buf + len, LF_CPU_SHAPE_SIZE - len, ")");
  return buf;
}

int
lf_cpu_check_tensor (LfOps          *ops,
                     const char     *op,
                     const char     *arg,
                     const LfTensor *t)
{
  if (t == NULL)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s is missing", op, arg);
      return 0;
    }
  if (t->ndim < 0 || t->ndim > LF_TENSOR_MAX_DIMS)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s has %d dimensions", op, arg,
                   t->ndim);
      return 0;
    }
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] < 0)
      {
        char s[LF_CPU_SHAPE_SIZE];

        lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s has a negative size %s",
                     op, arg, lf_cpu_shape_str (t, s));
        return 0;
      }
  if (t->data == NULL && lf_tensor_numel (t) > 0)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s has no data", op, arg);
      return 0;
    }
  return 1;
}

int
lf_cpu_check_f32 (LfOps          *ops,
                  const char     *op,
                  const char     *arg,
                  const LfTensor *t)
{
  if (!lf_cpu_check_tensor (ops, op, arg, t))
    return 0;
  if (t->dtype != LF_DTYPE_F32)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s is %s, expected f32", op,
                   arg, lf_dtype_name (t->dtype));
      return 0;
    }
  return 1;
}

int
lf_cpu_check_f32_contiguous (LfOps          *ops,
                             const char     *op,
                             const char     *arg,
                             const LfTensor *t)
{
  char s[LF_CPU_SHAPE_SIZE];

  if (!lf_cpu_check_f32 (ops, op, arg, t))
    return 0;
  if (!lf_tensor_is_contiguous (t))
    {
      lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s %s is not contiguous", op,
                   arg, lf_cpu_shape_str (t, s));
      return 0;
    }
  return 1;
}

int
lf_cpu_check_same_shape (LfOps          *ops,
                         const char     *op,
                         const char     *arg_a,
                         const LfTensor *a,
                         const char     *arg_b,
                         const LfTensor *b)
{
  char sa[LF_CPU_SHAPE_SIZE], sb[LF_CPU_SHAPE_SIZE];

  if (lf_tensor_same_shape (a, b))
    return 1;
  lf_ops_fail (ops, LF_STATUS_INVALID, "%s: %s %s and %s %s differ in shape",
               op, arg_a, lf_cpu_shape_str (a, sa), arg_b,
               lf_cpu_shape_str (b, sb));
  return 0;
}
