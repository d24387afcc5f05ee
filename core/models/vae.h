/* vae.h: diffusers AutoencoderKL, decode and encode. */
#ifndef LF_VAE_H
#define LF_VAE_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"

G_BEGIN_DECLS

typedef struct _LfVae LfVae;

/* Returns: (transfer full) (nullable): the VAE described by @cfg (diffusers
 * vae/config.json: in/out_channels, latent_channels, block_out_channels,
 * layers_per_block, norm_num_groups, scaling_factor, down/up block types,
 * mid_block_add_attention) with weights from @comp. */
LfVae *lf_vae_load (const LfComponent *comp,
                    const LfConfig    *cfg,
                    LfOps             *ops,
                    GError           **error);
void   lf_vae_free (LfVae *vae);

float lf_vae_get_scaling_factor (const LfVae *vae);
/* config shift_factor, 0 when null (SD-1/2/XL): decode takes
 * latents / scaling_factor + shift_factor, as diffusers pipelines pass. */
float   lf_vae_get_shift_factor (const LfVae *vae);
int64_t lf_vae_get_latent_channels (const LfVae *vae);
int     lf_vae_get_downscale (const LfVae *vae); /* 8 for SD */

size_t
lf_vae_plan_decode (const LfVae *vae, int64_t batch, int64_t h, int64_t w);
size_t
lf_vae_plan_encode (const LfVae *vae, int64_t batch, int64_t H, int64_t W);

/* z (B, latent, h, w), already divided by the scaling factor → image
 * (B, out_channels, 8h, 8w), unclamped (about [-1, 1]). */
gboolean lf_vae_decode (LfVae          *vae,
                        const LfTensor *z,
                        LfArena        *scratch,
                        LfTensor       *image,
                        GError        **error);

/* image (B, in_channels, H, W) in [-1, 1] → the posterior's mean and
 * logvar (B, latent, H/8, W/8), logvar clamped to [-30, 20] as upstream. */
gboolean lf_vae_encode (LfVae          *vae,
                        const LfTensor *image,
                        LfArena        *scratch,
                        LfTensor       *mean,
                        LfTensor       *logvar,
                        GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfVae, lf_vae_free)

G_END_DECLS

#endif /* LF_VAE_H */
