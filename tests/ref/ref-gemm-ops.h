/* ref-gemm-ops.h: naive double-precision references of the GEMM-shaped ops
 * (gemm, linear, conv2d, attention, linear_attention), each following its
 * spec comment in kernels/lf-ops.h line by line. Inputs are f32 views with
 * any strides; outputs are contiguous double arrays in the op's shape.
 */
#ifndef LF_REF_GEMM_OPS_H
#define LF_REF_GEMM_OPS_H

#include <stdint.h>

#include "lf-ops.h"

/* Element (i, r, c) of a 2-D or 3-D f32 view; a 2-D view ignores i. */
double lf_ref_at3 (const LfTensor *t, int64_t i, int64_t r, int64_t c);

/* The elements of a 2-D or 3-D f32 view, contiguous, into @out. */
void lf_ref_gather3 (const LfTensor *t, float *out);

/* out (batch, M, N) = alpha · op(a) · op(b) + beta · c, batch and (M, N)
 * from c; c is read only when beta ≠ 0. */
void lf_ref_gemm (const LfTensor *a,
                  int             trans_a,
                  const LfTensor *b,
                  int             trans_b,
                  float           alpha,
                  float           beta,
                  const LfTensor *c,
                  double         *out);

/* y (B·N or M, N_out) = x · wᵀ + b; b may be NULL. */
void lf_ref_linear (const LfTensor *x,
                    const LfTensor *w,
                    const LfTensor *b,
                    double         *y);

/* y (B, C_out, H_out, W_out); b may be NULL. */
void lf_ref_conv2d (const LfTensor       *x,
                    const LfTensor       *w,
                    const LfTensor       *b,
                    const LfConv2dParams *p,
                    int64_t               H_out,
                    int64_t               W_out,
                    double               *y);

/* y (B, Nq, H·Dv), plain softmax over all visible keys. */
void lf_ref_attention (const LfTensor *q,
                       const LfTensor *k,
                       const LfTensor *v,
                       int             heads,
                       float           scale,
                       int             causal,
                       double         *y);

/* y (B, N, H·Dv) = (q · S) / (q · k̄ + eps), S = KᵀV / N, k̄ = mean k. */
void lf_ref_linear_attention (const LfTensor *q,
                              const LfTensor *k,
                              const LfTensor *v,
                              int             heads,
                              float           eps,
                              double         *y);

#endif /* LF_REF_GEMM_OPS_H */
