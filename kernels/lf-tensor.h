/* lf-tensor.h: the tensor view shared by the engine and every backend.
 *
 * A tensor never owns memory: it is a pointer, a storage type, a shape and
 * strides, all 64-bit so a 32768² canvas (over 2^31 elements) is addressed
 * without overflow. Plain C99, no GLib, so it compiles under cc and nvcc.
 */
#ifndef LF_TENSOR_H
#define LF_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

#define LF_TENSOR_MAX_DIMS 5

  typedef enum
  {
    LF_DTYPE_F32 = 0,
    LF_DTYPE_F16,
    LF_DTYPE_BF16,
  } LfDtype;

  typedef struct
  {
    void   *data; /* first element, already offset  */
    LfDtype dtype;
    int     ndim; /* 0 .. LF_TENSOR_MAX_DIMS        */
    int64_t shape[LF_TENSOR_MAX_DIMS];
    int64_t stride[LF_TENSOR_MAX_DIMS]; /* in elements; 0 = broadcast    */
  } LfTensor;

  size_t      lf_dtype_size (LfDtype dtype);
  const char *lf_dtype_name (LfDtype dtype);

  /* A contiguous (row-major) tensor over @data. @shape has @ndim entries. */
  LfTensor
  lf_tensor_make (void *data, LfDtype dtype, int ndim, const int64_t *shape);

  /* Shorthands for contiguous tensors of 1 to 4 dimensions. */
  LfTensor lf_tensor_1d (void *data, LfDtype dtype, int64_t d0);
  LfTensor lf_tensor_2d (void *data, LfDtype dtype, int64_t d0, int64_t d1);
  LfTensor
  lf_tensor_3d (void *data, LfDtype dtype, int64_t d0, int64_t d1, int64_t d2);
  LfTensor lf_tensor_4d (void   *data,
                         LfDtype dtype,
                         int64_t d0,
                         int64_t d1,
                         int64_t d2,
                         int64_t d3);

  int64_t lf_tensor_numel (const LfTensor *t);
  size_t  lf_tensor_nbytes (const LfTensor *t); /* numel × element size */
  int     lf_tensor_is_contiguous (const LfTensor *t);
  int     lf_tensor_same_shape (const LfTensor *a, const LfTensor *b);

  /* Views (no copies). Each returns 0 and leaves *out untouched when the
   * request does not fit the tensor; callers inside the engine treat that as a
   * bug, since shapes were validated at load time. */

  /* The same elements with a new shape; @t must be contiguous. */
  int lf_tensor_reshape (const LfTensor *t,
                         int             ndim,
                         const int64_t  *shape,
                         LfTensor       *out);
  /* Elements [start, start + len) along @dim. */
  int lf_tensor_narrow (
      const LfTensor *t, int dim, int64_t start, int64_t len, LfTensor *out);
  /* Dimensions reordered: out.shape[i] = t.shape[perm[i]]. */
  int lf_tensor_permute (const LfTensor *t, const int *perm, LfTensor *out);
  /* A size-1 dimension @dim repeated @n times with stride 0 (broadcast). */
  int lf_tensor_expand (const LfTensor *t, int dim, int64_t n, LfTensor *out);

#ifdef __cplusplus
}
#endif

#endif /* LF_TENSOR_H */
