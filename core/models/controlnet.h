/* controlnet.h: diffusers ControlNetModel (SD-1.x/2.x): the conditioning
 * embedding, a copy of the UNet's encoder and mid block, and the zero
 * convolutions whose outputs the UNet adds to its skip connections.
 */
#ifndef LF_CONTROLNET_H
#define LF_CONTROLNET_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"
#include "unet.h"

G_BEGIN_DECLS

typedef struct _LfControlNet LfControlNet;

/**
 * lf_controlnet_open:
 * @path: a diffusers ControlNetModel folder (config.json +
 *   diffusion_pytorch_model[.fp16].safetensors) or a single-file ControlNet
 *   (.safetensors with ControlNet v1.1 names, `control_model.` prefix or
 *   none; mapped as diffusers' convert_controlnet_checkpoint)
 * @unet_cfg: the base UNet's config, used for a single file (which has
 *   none); its conditioning_embedding_out_channels are diffusers' default
 *   (16, 32, 96, 256)
 *
 * Returns: (transfer full) (nullable): the ControlNet, or NULL with an
 *   error naming the file and key.
 */
LfControlNet *lf_controlnet_open (const char     *path,
                                  const LfConfig *unet_cfg,
                                  LfOps          *ops,
                                  GError        **error);
void          lf_controlnet_free (LfControlNet *cn);

/* FALSE with LF_ERROR_FORMAT naming both models when the residuals do not
 * fit @unet's skip connections (count, channels) or the cross-attention
 * sizes differ. */
gboolean lf_controlnet_check_fits (const LfControlNet *cn,
                                   const LfUnet       *unet,
                                   GError            **error);

/* LinFusion modules on the ControlNet's attn1 layers (those of the
 * LinFusion folder whose module_name exists in the ControlNet: down and
 * mid blocks); unmount restores softmax attention. */
gboolean lf_controlnet_mount_linfusion (LfControlNet      *cn,
                                        const LfComponent *linfusion,
                                        const LfConfig    *cfg,
                                        GError           **error);
void     lf_controlnet_unmount_linfusion (LfControlNet *cn);

/* config global_pool_conditions (shuffle models): the pipeline then runs
 * guess mode, and the residuals are not logspace-scaled. */
gboolean lf_controlnet_get_global_pool (const LfControlNet *cn);

/* Down residuals (12 for SD-1.x); the mid residual comes after them. */
int lf_controlnet_get_n_residuals (const LfControlNet *cn);

/* Arena bytes of lf_controlnet_forward (residual outputs not included). */
size_t lf_controlnet_plan (const LfControlNet *cn,
                           int64_t             batch,
                           int64_t             h,
                           int64_t             w,
                           int64_t             context_len);

/**
 * lf_controlnet_embed_condition:
 * @cond: (1, 3, H, W) the control image in [0, 1], H and W multiples of 8
 * @out: (1, C0, H/8, W/8), allocated by the caller
 *
 * controlnet_cond_embedding, run once per generation (it does not depend
 * on the step), in strips of rows so the full-resolution feature maps
 * never exist whole: the result equals the one-piece evaluation.
 */
gboolean lf_controlnet_embed_condition (LfControlNet   *cn,
                                        const LfTensor *cond,
                                        LfTensor       *out,
                                        GError        **error);

/**
 * lf_controlnet_forward:
 * @x: (B, C_in, h, w) the UNet's input at this step
 * @t: (B) timesteps
 * @context: (B, L, D)
 * @cond_emb: (1, C0, h, w) from lf_controlnet_embed_condition, the same
 *   for every batch entry
 * @scales: n_residuals + 1 factors, one per residual (mid last)
 * @down: n_residuals tensors, shapes as lf_unet_skip_shape, written
 * @mid: the mid residual, written
 */
gboolean lf_controlnet_forward (LfControlNet   *cn,
                                const LfTensor *x,
                                const float    *t,
                                const LfTensor *context,
                                const LfTensor *cond_emb,
                                const float    *scales,
                                LfArena        *scratch,
                                LfTensor       *down,
                                LfTensor       *mid,
                                GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfControlNet, lf_controlnet_free)

G_END_DECLS

#endif /* LF_CONTROLNET_H */
