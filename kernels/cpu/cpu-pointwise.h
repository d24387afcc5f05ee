/* cpu-pointwise.h: private helpers of the CPU non-GEMM kernels: argument
 * checks that record LF_STATUS_INVALID with the op and the shape, token-row
 * geometry, and the threaded runner for contiguous f32 unary maps (the
 * activations and scale). No upstream counterpart; the checks follow the
 * conventions at the top of lf-ops.h.
 */
#ifndef LF_CPU_POINTWISE_H
#define LF_CPU_POINTWISE_H

#include "cpu-check.h"
#include "cpu-ops.h"

#include <math.h>

/* Elements per unit of parallel work: large enough to amortise the
 * scheduling, small enough that huge tensors split over every thread. */
#define LF_CPU_CHUNK ((int64_t)16384)

/* gelu (x) = x · Φ(x) with Φ(x) = erfc (−x/√2) / 2: equal to
 * (1 + erf (x/√2)) / 2 but keeps its relative accuracy for negative x, where
 * 1 + erf cancels in f32. Shared by gelu and geglu. */
static inline float
lf_cpu_gelu1 (float x)
{
  return 0.5f * x * erfcf (-x * (float)M_SQRT1_2);
}

/* Token rows (B, N, C): row r = (b, n) starts at b·sb + n·sn elements. A 2-D
 * (M, C) tensor is B = 1, N = M. */
typedef struct
{
  int64_t B, N, C;
  int64_t sb, sn;
} LfCpuRows;

/* f32 token rows (2-D or 3-D, last dimension contiguous). An output's rows
 * must not overlap each other. */
int lf_cpu_check_rows (LfOps          *ops,
                       const char     *op,
                       const char     *arg,
                       const LfTensor *t,
                       int             is_output,
                       LfCpuRows      *rows);

/* y[i] = fn (x[i]) over @n contiguous elements; @param is the op's scalar. */
typedef void (*LfCpuUnaryFn) (const float *x, float *y, int64_t n, float param);

/* Checks x and y (f32, contiguous, same shape) and runs @fn over chunks on
 * ops->n_threads threads. y may be x (in place). */
void lf_cpu_unary_run (LfOps          *ops,
                       const char     *op,
                       const LfTensor *x,
                       LfTensor       *y,
                       LfCpuUnaryFn    fn,
                       float           param);

#endif /* LF_CPU_POINTWISE_H */
