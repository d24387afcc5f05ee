/* cpu-strided.h: the loop nest behind the CPU ops that take any strides
 * (add, mul, copy): operands sharing one shape are walked in tiles of the
 * innermost dimension after size-1 dimensions are dropped and neighbours
 * merged, so contiguous operands become one unit-stride run (the fast path)
 * and broadcast (stride 0) views keep stride 0. Like torch's TensorIterator
 * dimension coalescing, written for this project.
 */
#ifndef LF_CPU_STRIDED_H
#define LF_CPU_STRIDED_H

#include "cpu-pointwise.h"

#define LF_CPU_LOOP_MAX_OPS 3

typedef struct
{
  int     n_ops;
  int     ndim; /* ≥ 1; dimension ndim − 1 is the inner one */
  int64_t shape[LF_TENSOR_MAX_DIMS];
  int64_t stride[LF_CPU_LOOP_MAX_OPS][LF_TENSOR_MAX_DIMS]; /* elements */
  int64_t tiles_per_row;
  int64_t n_tiles; /* 0 for an empty tensor */
} LfCpuLoop;

/* @t[0 .. n_ops) have the same shape (the caller checked it). */
void lf_cpu_loop_init (LfCpuLoop *loop, int n_ops, const LfTensor *const *t);

/* Sets @offset[k] to the element offset of tile @tile's first element in
 * operand k and returns the tile's length; element i of the tile is at
 * offset[k] + i · loop->stride[k][loop->ndim − 1]. */
int64_t lf_cpu_loop_tile (const LfCpuLoop *loop, int64_t tile, int64_t *offset);

/* The inner stride of operand @k. */
static inline int64_t
lf_cpu_loop_inner (const LfCpuLoop *loop, int k)
{
  return loop->stride[k][loop->ndim - 1];
}

/* y[i] = a[i · sa] ∘ b[i · sb] for i < n, y unit-stride. */
typedef void (*LfCpuBinaryFn) (const float *a,
                               int64_t      sa,
                               const float *b,
                               int64_t      sb,
                               float       *y,
                               int64_t      n);

/* Checks a, b (f32, y's shape, any strides) and y (f32, contiguous) and runs
 * @fn over tiles on ops->n_threads threads. y may be a or b (in place). */
void lf_cpu_binary_run (LfOps          *ops,
                        const char     *op,
                        const LfTensor *a,
                        const LfTensor *b,
                        LfTensor       *y,
                        LfCpuBinaryFn   fn);

#endif /* LF_CPU_STRIDED_H */
