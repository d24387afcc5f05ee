/* ref-pointwise-ops.h: naive double references for the non-GEMM ops of
 * kernels/lf-ops.h (norms, activations, elementwise, layout, copy, timestep
 * embedding), each following its spec comment line by line. Inputs are
 * tensor views read through their strides; outputs are written as doubles
 * in the row-major order of the output's shape.
 */
#ifndef LF_REF_POINTWISE_OPS_H
#define LF_REF_POINTWISE_OPS_H

#include <stdint.h>

#include "lf-ops.h"

/* Element @flat (row-major over @t's shape) of @t, any dtype, any strides. */
double lf_ref_get (const LfTensor *t, int64_t flat);

/* f16 and bf16 from the IEEE encodings, in double, independent of
 * kernels/cpu/half.h: the value of a bit pattern, and the pattern nearest
 * (ties to even) to an f32 value @v; overflow gives ±inf, NaN a quiet NaN. */
double   lf_ref_f16_value (uint16_t h);
double   lf_ref_bf16_value (uint16_t h);
uint16_t lf_ref_f16_bits (double v);
uint16_t lf_ref_bf16_bits (double v);

/* ---- Normalisation (ref-norm.c) ---- */
void lf_ref_group_norm (const LfTensor *x,
                        const LfTensor *gamma,
                        const LfTensor *beta,
                        int             groups,
                        double          eps,
                        int             silu,
                        double         *y);
void lf_ref_layer_norm (const LfTensor *x,
                        const LfTensor *gamma,
                        const LfTensor *beta,
                        double          eps,
                        double         *y);

/* ---- Activations and arithmetic (ref-pointwise.c) ---- */
double lf_ref_gelu1 (double x);
double lf_ref_quick_gelu1 (double x);
double lf_ref_silu1 (double x);
double lf_ref_leaky_relu1 (double x, double slope);
/* min (max (x, lo), hi); NaN stays NaN */
double lf_ref_clamp1 (double x, double lo, double hi);
double lf_ref_elu_plus_one1 (double x);
void   lf_ref_geglu (const LfTensor *x, double *y);
void   lf_ref_add (const LfTensor *a, const LfTensor *b, double *y);
void   lf_ref_mul (const LfTensor *a, const LfTensor *b, double *y);
void   lf_ref_scale (const LfTensor *x, double s, double *y);

/* ---- Layout (ref-layout.c) ---- */
/* torch nearest interpolation of x (B, C, H, W) to (B, C, H2, W2). */
void
lf_ref_upsample_nearest (const LfTensor *x, int64_t H2, int64_t W2, double *y);
void lf_ref_concat_channels (const LfTensor *a, const LfTensor *b, double *y);
/* x's values, any dtype, in row-major order */
void lf_ref_copy (const LfTensor *x, double *y);

/* ---- Embeddings (ref-timestep-embedding.c) ---- */
void lf_ref_timestep_embedding (const LfTensor *t,
                                int             flip_sin_to_cos,
                                double          freq_shift,
                                double          max_period,
                                int64_t         dim,
                                double         *y);

#endif /* LF_REF_POINTWISE_OPS_H */
