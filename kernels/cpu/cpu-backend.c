/* cpu-backend.c: the CPU op table, one line per op (ggml-backend style). */
#include "cpu-ops.h"

#include <cblas.h>
#include <string.h>

void
lf_cpu_ops_init (LfOps *ops, int n_threads)
{
  memset (ops, 0, sizeof *ops);
  ops->name = "cpu";
  ops->n_threads = n_threads > 0 ? n_threads : 1;
  /* Every GEMM is split over our OpenMP threads, each piece one
   * single-threaded cblas_sgemm (cpu-blas.c): OpenBLAS's own pthread pool
   * would fight libgomp's spinning workers for the same cores (measured:
   * half the GEMM rate on 2 cores). */
  openblas_set_num_threads (1);

  /* GEMM-shaped */
  ops->gemm = lf_cpu_gemm;
  ops->linear = lf_cpu_linear;
  ops->conv2d = lf_cpu_conv2d;
  ops->attention = lf_cpu_attention;
  ops->linear_attention = lf_cpu_linear_attention;

  /* normalisation, activations, elementwise, layout, embeddings */
  ops->group_norm = lf_cpu_group_norm;
  ops->group_norm_silu = lf_cpu_group_norm_silu;
  ops->layer_norm = lf_cpu_layer_norm;
  ops->gelu = lf_cpu_gelu;
  ops->quick_gelu = lf_cpu_quick_gelu;
  ops->geglu = lf_cpu_geglu;
  ops->silu = lf_cpu_silu;
  ops->leaky_relu = lf_cpu_leaky_relu;
  ops->elu_plus_one = lf_cpu_elu_plus_one;
  ops->clamp = lf_cpu_clamp;
  ops->add = lf_cpu_add;
  ops->mul = lf_cpu_mul;
  ops->scale = lf_cpu_scale;
  ops->upsample_nearest = lf_cpu_upsample_nearest;
  ops->concat_channels = lf_cpu_concat_channels;
  ops->copy = lf_cpu_copy;
  ops->timestep_embedding = lf_cpu_timestep_embedding;
}

size_t
lf_cpu_ops_scratch_hint (int n_threads)
{
  /* 16 MiB per thread: a conv im2col chunk of a few hundred output rows of
   * a 1280-channel 3×3 layer, or an attention block. */
  return (size_t)(n_threads > 0 ? n_threads : 1) * 16u * 1024u * 1024u;
}
