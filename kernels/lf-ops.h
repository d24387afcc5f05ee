/* lf-ops.h: the op interface. One table of function pointers per backend
 * (kernels/cpu now, kernels/cuda later); model code calls ops only through
 * it and never knows which backend runs. The comment on each member is the
 * op's specification; tests/ref/ implements it line by line in double.
 *
 * Conventions for every op:
 * - Tensors are views (lf-tensor.h). Unless a member says otherwise, inputs
 *   and outputs are contiguous and the CPU backend computes in f32 (storage
 *   f32; `copy` converts to and from f16/bf16).
 * - "Token rows": tensors shaped (B, N, C) whose last dimension is
 *   contiguous; the row stride (stride[1]) and batch stride (stride[0]) may be
 *   larger than C, so slices of a fused projection can be passed unchanged.
 * - Elementwise ops may run in place (y aliasing x with the same layout).
 * - Ops never allocate, print or exit. Scratch memory is ops->scratch,
 *   provided by the caller; a kernel that needs more than it can get records
 *   LF_STATUS_NO_SCRATCH. A bad shape records LF_STATUS_INVALID (a bug in
 *   the caller: user data is validated before it reaches ops). The first
 *   failure is kept (sticky), later ones are ignored; core/ turns it into a
 *   GError at block boundaries.
 */
#ifndef LF_OPS_H
#define LF_OPS_H

#include "lf-tensor.h"

#ifdef __cplusplus
extern "C"
{
#endif

  typedef enum
  {
    LF_STATUS_OK = 0,
    LF_STATUS_INVALID,    /* shapes, dtypes or strides the op does not accept */
    LF_STATUS_NO_SCRATCH, /* ops->scratch too small for this call             */
    LF_STATUS_BACKEND,    /* the device or a library call failed              */
  } LfStatus;

#define LF_OPS_MESSAGE_SIZE 256

  /* Geometry of a 2-D convolution. Padding is per side, so the VAE encoder's
   * asymmetric F.pad (0, 1, 0, 1) before a stride-2 conv is one call. */
  typedef struct
  {
    int stride;
    int dilation;
    int pad_top, pad_bottom, pad_left, pad_right;
  } LfConv2dParams;

  typedef struct _LfOps LfOps;

  struct _LfOps
  {
    const char *name; /* "cpu" or "cuda" */
    int         n_threads;

    void  *scratch; /* (scratch_bytes) caller-owned, 64-byte aligned */
    size_t scratch_bytes;

    LfStatus status; /* sticky: the first failure is kept */
    char     message[LF_OPS_MESSAGE_SIZE];

    /* ---- GEMM-shaped ------------------------------------------------ */

    /* c[i] = alpha · op(a[i]) · op(b[i]) + beta · c[i] for every batch i.
     * op(a) is a (M, K), or aᵀ of a stored (K, M) when trans_a; op(b) is
     * (K, N), or bᵀ of a stored (N, K) when trans_b; c (M, N).
     * a, b, c are 2-D, or 3-D with a batch dimension first; a batch stride of
     * 0 in a or b broadcasts one matrix over the batch. The last dimension of
     * each is contiguous; the row stride may exceed the row length. */
    void (*gemm) (LfOps          *ops,
                  const LfTensor *a,
                  int             trans_a,
                  const LfTensor *b,
                  int             trans_b,
                  float           alpha,
                  float           beta,
                  LfTensor       *c);

    /* y = x · wᵀ + b (torch.nn.Linear). x token rows (B, N, K) or (M, K),
     * w (N_out, K), b (N_out) or NULL, y token rows (B, N, N_out) or
     * (M, N_out). */
    void (*linear) (LfOps          *ops,
                    const LfTensor *x,
                    const LfTensor *w,
                    const LfTensor *b,
                    LfTensor       *y);

    /* torch.nn.functional.conv2d with zero padding, groups 1.
     * x (B, C_in, H, W), w (C_out, C_in, KH, KW), b (C_out) or NULL,
     * y (B, C_out, H_out, W_out) with
     * H_out = (H + pad_top + pad_bottom − dilation·(KH − 1) − 1) / stride + 1
     * and W_out likewise. Computed as implicit GEMM over bounded chunks of
     * output rows, so scratch does not grow with the canvas. */
    void (*conv2d) (LfOps                *ops,
                    const LfTensor       *x,
                    const LfTensor       *w,
                    const LfTensor       *b,
                    const LfConv2dParams *p,
                    LfTensor             *y);

    /* Softmax attention, blockwise with an online softmax, so no (Nq, Nk)
     * score matrix exists at once. q token rows (B, Nq, H·D), k (B, Nk, H·D),
     * v (B, Nk, H·Dv), y (B, Nq, H·Dv). Head h uses channels [h·D, (h+1)·D)
     * of q and k and [h·Dv, (h+1)·Dv) of v and y (diffusers head_to_batch_dim
     * order). y_i = Σ_j softmax_j (scale · q_i·k_j) v_j; with causal set,
     * query i attends to keys j ≤ i only (CLIP text encoder). */
    void (*attention) (LfOps          *ops,
                       const LfTensor *q,
                       const LfTensor *k,
                       const LfTensor *v,
                       int             heads,
                       float           scale,
                       int             causal,
                       LfTensor       *y);

    /* LinFusion normalised non-causal linear attention, the feature map
     * (elu + 1) already applied to q and k. q, k token rows (B, N, H·D), v
     * (B, N, H·Dv), y (B, N, H·Dv); heads as in attention. Two passes per
     * (batch, head), state accumulated in f32:
     *   S = Kᵀ V / N  (D, Dv)      k̄ = (1/N) Σ_j k_j  (D)
     *   y_i = (q_i · S) / (q_i · k̄ + eps)
     * eps is 1e-4 in LinFusion. N may be large (a 1024² latent is 1 M tokens):
     * the kernel must not need scratch proportional to N. */
    void (*linear_attention) (LfOps          *ops,
                              const LfTensor *q,
                              const LfTensor *k,
                              const LfTensor *v,
                              int             heads,
                              float           eps,
                              LfTensor       *y);

    /* ---- Normalisation ---------------------------------------------- */

    /* torch GroupNorm: x, y (B, C, ...) with C divisible by groups; for each
     * (batch, group) mean and biased variance over C/groups channels and all
     * trailing positions, y = (x − mean) / sqrt (var + eps) · gamma[c] +
     * beta[c]. gamma, beta (C). Sums accumulate in double on the CPU. */
    void (*group_norm) (LfOps          *ops,
                        const LfTensor *x,
                        const LfTensor *gamma,
                        const LfTensor *beta,
                        int             groups,
                        float           eps,
                        LfTensor       *y);

    /* silu (group_norm (x)): the ResNet and VAE pattern, fused. */
    void (*group_norm_silu) (LfOps          *ops,
                             const LfTensor *x,
                             const LfTensor *gamma,
                             const LfTensor *beta,
                             int             groups,
                             float           eps,
                             LfTensor       *y);

    /* torch LayerNorm over the last dimension C: x, y token rows (..., C),
     * gamma, beta (C); biased variance. */
    void (*layer_norm) (LfOps          *ops,
                        const LfTensor *x,
                        const LfTensor *gamma,
                        const LfTensor *beta,
                        float           eps,
                        LfTensor       *y);

    /* ---- Activations (x, y same shape; in place allowed) ------------- */

    /* y = x · Φ(x), Φ the normal CDF via erf (torch gelu, approximate none) */
    void (*gelu) (LfOps *ops, const LfTensor *x, LfTensor *y);
    /* y = x · σ(1.702 x) (CLIP quick_gelu) */
    void (*quick_gelu) (LfOps *ops, const LfTensor *x, LfTensor *y);
    /* diffusers GEGLU after its projection: x token rows (..., 2F),
     * y (..., F), y = x[..., :F] · gelu (x[..., F:]) (first half value,
     * second half gate). */
    void (*geglu) (LfOps *ops, const LfTensor *x, LfTensor *y);
    /* y = x · σ(x) */
    void (*silu) (LfOps *ops, const LfTensor *x, LfTensor *y);
    /* y = x if x ≥ 0 else slope · x (LinFusion's MLPs use 0.01) */
    void (*leaky_relu) (LfOps          *ops,
                        const LfTensor *x,
                        float           slope,
                        LfTensor       *y);
    /* y = elu (x) + 1 = x + 1 if x > 0 else exp (x): LinFusion's kernel φ */
    void (*elu_plus_one) (LfOps *ops, const LfTensor *x, LfTensor *y);
    /* y = min (max (x, lo), hi) (torch.clamp): −inf gives lo, +inf hi, NaN
     * stays NaN. The VAE posterior's logvar is clamped to [−30, 20]. */
    void (*clamp) (
        LfOps *ops, const LfTensor *x, float lo, float hi, LfTensor *y);

    /* ---- Elementwise arithmetic -------------------------------------- */

    /* y = a + b. y contiguous; a and b have y's shape but any strides, so a
     * stride-0 view broadcasts (a time embedding (B, C, 1, 1) expanded over
     * H and W). In place allowed when a or b is y. */
    void (*add) (LfOps *ops, const LfTensor *a, const LfTensor *b, LfTensor *y);
    /* y = a · b, with add's layout rules. */
    void (*mul) (LfOps *ops, const LfTensor *a, const LfTensor *b, LfTensor *y);
    /* y = s · x */
    void (*scale) (LfOps *ops, const LfTensor *x, float s, LfTensor *y);

    /* ---- Layout ------------------------------------------------------ */

    /* torch interpolate (size = y's H2 × W2, mode nearest): x (B, C, H, W),
     * y (B, C, H2, W2), y[.., i, j] = x[.., src (i, H, H2), src (j, W, W2)]
     * with src (o, n, m) = o when m = n, o / 2 when m = 2n, else
     * min (floor (o · s), n − 1) where s = (float) n / m. diffusers'
     * Upsample2D uses ×2, or the next skip's size when the latent is not a
     * multiple of 2^(levels − 1). */
    void (*upsample_nearest) (LfOps *ops, const LfTensor *x, LfTensor *y);

    /* Channel concatenation (torch.cat dim 1): a (B, Ca, H, W),
     * b (B, Cb, H, W), y (B, Ca + Cb, H, W). */
    void (*concat_channels) (LfOps          *ops,
                             const LfTensor *a,
                             const LfTensor *b,
                             LfTensor       *y);

    /* y = x elementwise, any strides in x and y and any dtype pair among
     * f32, f16 and bf16 (round to nearest even; f16 overflow gives ±inf, as
     * torch). This is the f16/bf16 ↔ f32 conversion and materialises
     * permuted views. */
    void (*copy) (LfOps *ops, const LfTensor *x, LfTensor *y);

    /* ---- Embeddings -------------------------------------------------- */

    /* diffusers get_timestep_embedding: t (B) f32 (may be fractional),
     * y (B, dim). half = dim / 2, freq_i = exp (−ln (max_period) · i /
     * (half − freq_shift)), arg = t · freq_i computed in f32 as upstream,
     * y = [sin (arg), cos (arg)], or [cos, sin] when flip_sin_to_cos; an odd
     * dim gets a trailing zero. SD: flip 1, shift 0, max_period 10000. */
    void (*timestep_embedding) (LfOps          *ops,
                                const LfTensor *t,
                                int             flip_sin_to_cos,
                                float           freq_shift,
                                float           max_period,
                                LfTensor       *y);
  };

  /* Records a failure unless one is already recorded (status is sticky).
   * printf-style message, truncated to LF_OPS_MESSAGE_SIZE. */
  void lf_ops_fail (LfOps *ops, LfStatus status, const char *fmt, ...)
#ifdef __GNUC__
      __attribute__ ((format (printf, 3, 4)))
#endif
      ;

  /* Clears a recorded failure (the caller has reported it). */
  void lf_ops_clear (LfOps *ops);

#ifdef __cplusplus
}
#endif

#endif /* LF_OPS_H */
