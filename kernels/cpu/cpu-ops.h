/* cpu-ops.h: the CPU backend. Every op of lf-ops.h as lf_cpu_<op>, one file
 * per op (kernels/cpu/<op>.c), computed in f32 with OpenMP threads and
 * OpenBLAS for GEMM-shaped work.
 */
#ifndef LF_CPU_OPS_H
#define LF_CPU_OPS_H

#include "lf-ops.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* Fills @ops with the CPU table. Scratch stays the caller's to set
   * (ops->scratch, ops->scratch_bytes); @n_threads ≥ 1 is used by the OpenMP
   * kernels and by OpenBLAS. Allocates nothing. */
  void lf_cpu_ops_init (LfOps *ops, int n_threads);

  /* Scratch a CPU backend with @n_threads threads should be given so that
   * every op runs with efficient chunk sizes (ops adapt to less, down to a
   * small per-thread minimum). */
  size_t lf_cpu_ops_scratch_hint (int n_threads);

  /* -- GEMM-shaped ops: gemm.c, linear.c, conv2d.c, attention.c,
   *    linear-attention.c -- */
  void lf_cpu_gemm (LfOps *,
                    const LfTensor *,
                    int,
                    const LfTensor *,
                    int,
                    float,
                    float,
                    LfTensor *);
  void lf_cpu_linear (LfOps *,
                      const LfTensor *,
                      const LfTensor *,
                      const LfTensor *,
                      LfTensor *);
  void lf_cpu_conv2d (LfOps *,
                      const LfTensor *,
                      const LfTensor *,
                      const LfTensor *,
                      const LfConv2dParams *,
                      LfTensor *);
  void lf_cpu_attention (LfOps *,
                         const LfTensor *,
                         const LfTensor *,
                         const LfTensor *,
                         int,
                         float,
                         int,
                         LfTensor *);
  void lf_cpu_linear_attention (LfOps *,
                                const LfTensor *,
                                const LfTensor *,
                                const LfTensor *,
                                int,
                                float,
                                LfTensor *);

  /* -- Normalisation, activations, elementwise, layout, embeddings -- */
  void lf_cpu_group_norm (LfOps *,
                          const LfTensor *,
                          const LfTensor *,
                          const LfTensor *,
                          int,
                          float,
                          LfTensor *);
  void lf_cpu_group_norm_silu (LfOps *,
                               const LfTensor *,
                               const LfTensor *,
                               const LfTensor *,
                               int,
                               float,
                               LfTensor *);
  void lf_cpu_layer_norm (LfOps *,
                          const LfTensor *,
                          const LfTensor *,
                          const LfTensor *,
                          float,
                          LfTensor *);
  void lf_cpu_gelu (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_quick_gelu (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_geglu (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_silu (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_leaky_relu (LfOps *, const LfTensor *, float, LfTensor *);
  void lf_cpu_elu_plus_one (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_clamp (LfOps *, const LfTensor *, float, float, LfTensor *);
  void lf_cpu_add (LfOps *, const LfTensor *, const LfTensor *, LfTensor *);
  void lf_cpu_mul (LfOps *, const LfTensor *, const LfTensor *, LfTensor *);
  void lf_cpu_scale (LfOps *, const LfTensor *, float, LfTensor *);
  void lf_cpu_upsample_nearest (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_concat_channels (LfOps *,
                               const LfTensor *,
                               const LfTensor *,
                               LfTensor *);
  void lf_cpu_copy (LfOps *, const LfTensor *, LfTensor *);
  void lf_cpu_timestep_embedding (
      LfOps *, const LfTensor *, int, float, float, LfTensor *);

#ifdef __cplusplus
}
#endif

#endif /* LF_CPU_OPS_H */
