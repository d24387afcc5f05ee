/* cpu-check.h: argument checks shared by the CPU kernels (cpu-check.c). */
#ifndef LF_CPU_CHECK_H
#define LF_CPU_CHECK_H

#include "lf-ops.h"

/* Writes "(2, 24, 7, 13)" into @buf (at least LF_CPU_SHAPE_SIZE bytes). */
#define LF_CPU_SHAPE_SIZE 96
const char *lf_cpu_shape_str (const LfTensor *t, char *buf);

/* Each returns 1 when @t passes, else records LF_STATUS_INVALID naming @op
 * and @arg and returns 0. */
/* Present, with a valid rank, no negative size, and data unless empty. */
int lf_cpu_check_tensor (LfOps          *ops,
                         const char     *op,
                         const char     *arg,
                         const LfTensor *t);
int lf_cpu_check_f32 (LfOps          *ops,
                      const char     *op,
                      const char     *arg,
                      const LfTensor *t);
int lf_cpu_check_f32_contiguous (LfOps          *ops,
                                 const char     *op,
                                 const char     *arg,
                                 const LfTensor *t);
int lf_cpu_check_same_shape (LfOps          *ops,
                             const char     *op,
                             const char     *arg_a,
                             const LfTensor *a,
                             const char     *arg_b,
                             const LfTensor *b);

#endif /* LF_CPU_CHECK_H */
