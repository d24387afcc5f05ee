/* unet.h: diffusers UNet2DConditionModel (SD-1.x/2.x layouts, any size from
 * its config) with LinFusion's linear attention mountable on every attn1.
 */
#ifndef LF_UNET_H
#define LF_UNET_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"

G_BEGIN_DECLS

typedef struct _LfUnet LfUnet;

/* Returns: (transfer full) (nullable): the UNet described by @cfg (diffusers
 * unet/config.json: in/out_channels, block_out_channels, down/up_block_types,
 * layers_per_block, attention_head_dim (the head COUNT for SD-1.x) or
 * num_attention_heads, cross_attention_dim, use_linear_projection,
 * norm_num_groups, norm_eps, flip_sin_to_cos, freq_shift,
 * transformer_layers_per_block, upcast_attention) with weights from @comp.
 * Configurations it cannot run give LF_ERROR_UNSUPPORTED naming the key. */
LfUnet *lf_unet_load (const LfComponent *comp,
                      const LfConfig    *cfg,
                      LfOps             *ops,
                      GError           **error);
void    lf_unet_free (LfUnet *unet);

/**
 * lf_unet_mount_linfusion:
 * @linfusion: a LinFusion folder's component (config.json modules_list +
 *   diffusion_pytorch_model.safetensors)
 *
 * Replaces each attn1 named in modules_list[i].module_name by LinFusion
 * module i (its own to_q/k/v/out and to_q_/to_k_ MLPs); the UNet's own
 * attn1 weights are then unused. A LinFusion folder that does not fit (an
 * unknown module name, a dim or head mismatch) gives LF_ERROR_FORMAT
 * naming the module, and leaves the UNet unchanged.
 */
gboolean lf_unet_mount_linfusion (LfUnet            *unet,
                                  const LfComponent *linfusion,
                                  const LfConfig    *cfg,
                                  GError           **error);
gboolean lf_unet_has_linfusion (const LfUnet *unet);

int64_t lf_unet_get_in_channels (const LfUnet *unet);
int64_t lf_unet_get_cross_attention_dim (const LfUnet *unet);

/* Arena bytes lf_unet_forward needs (batch B, latent h × w, context of L
 * tokens), chunking included. */
size_t lf_unet_plan (const LfUnet *unet,
                     int64_t       batch,
                     int64_t       h,
                     int64_t       w,
                     int64_t       context_len);

/**
 * lf_unet_forward:
 * @x: (B, C_in, h, w) latents (already scaled by the sampler)
 * @t: (B) timesteps, may be fractional
 * @context: (B, L, D) text conditioning
 * @out: (B, C_out, h, w), allocated by the caller
 */
gboolean lf_unet_forward (LfUnet         *unet,
                          const LfTensor *x,
                          const float    *t,
                          const LfTensor *context,
                          LfArena        *scratch,
                          LfTensor       *out,
                          GError        **error);

/* What a forward may add to the plain UNet. */
typedef struct
{
  /* ControlNet: added to the skip connections (in the order the down
   * blocks push them, conv_in's first) and to the mid block's output, as
   * diffusers' down/mid_block_additional_residuals; NULL for none. */
  const LfTensor *down_residuals; /* n_down_residuals, (B, C_i, h_i, w_i) */
  int             n_down_residuals;
  const LfTensor *mid_residual; /* (B, C_mid, h_mid, w_mid) */
  /* IP-Adapter (lf_ip_adapter_mount): image tokens (B, T, D_ip) for
   * the decoupled cross-attention, weighted by @ip_scale; NULL for none. */
  const LfTensor *ip_tokens;
  float           ip_scale;
} LfUnetExtras;

/* lf_unet_forward with ControlNet residuals and/or IP-Adapter tokens;
 * @extras may be NULL. Residuals whose count or shapes do not match the
 * skips give LF_ERROR_INVALID_REQUEST. */
gboolean lf_unet_forward_with (LfUnet             *unet,
                               const LfTensor     *x,
                               const float        *t,
                               const LfTensor     *context,
                               const LfUnetExtras *extras,
                               LfArena            *scratch,
                               LfTensor           *out,
                               GError            **error);

/* The number of skip connections (12 for SD-1.x) and their shapes for
 * batch B at latent h × w; index n is the mid block's output. */
int  lf_unet_get_n_skips (const LfUnet *unet);
void lf_unet_skip_shape (const LfUnet *unet,
                         int           i,
                         int64_t       batch,
                         int64_t       h,
                         int64_t       w,
                         int64_t       shape[4]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfUnet, lf_unet_free)

G_END_DECLS

#endif /* LF_UNET_H */
