/* vae-private.h: the building blocks of the AutoencoderKL (vae.c): diffusers
 * ResnetBlock2D without time embedding, the mid block's one-head Attention,
 * and the resampling convolutions, each with its weights and forward.
 * Mirrors diffusers models/resnet.py, attention_processor.py (AttnProcessor)
 * and downsampling.py / upsampling.py as AutoencoderKL builds them.
 */
#ifndef LF_VAE_PRIVATE_H
#define LF_VAE_PRIVATE_H

#include <glib.h>

#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"
#include "weights.h"

G_BEGIN_DECLS

#define VAE_MAX_LEVELS 6 /* downscale up to 32 */
#define VAE_MAX_LAYERS 4 /* layers_per_block; the decoder has one more */

/* The fields of vae/config.json that change results. */
typedef struct
{
  int64_t  in_channels, out_channels, latent_channels;
  int      n_levels;
  int64_t  channels[VAE_MAX_LEVELS]; /* block_out_channels */
  int      layers_per_block;
  int      groups; /* norm_num_groups */
  float    scaling_factor;
  gboolean has_shift; /* shift_factor is not null (the pipeline applies it) */
  float    shift_factor;
  gboolean force_upcast; /* recorded only: everything runs in f32 */
  gboolean mid_attention, quant_conv, post_quant_conv;
} VaeConfig;

/* Reads @cfg into @c (AutoencoderKL.__init__'s defaults for absent keys). */
gboolean vae_config_read (const LfConfig *cfg, VaeConfig *c, GError **error);

/* Every GroupNorm of the VAE (resnets, attention, conv_norm_out). */
#define VAE_NORM_EPS 1e-6f

typedef struct
{
  int64_t  c_in, c_out;
  LfTensor norm1_gamma, norm1_beta; /* (C_in) */
  LfTensor conv1_w;                 /* (C_out, C_in, 3, 3) */
  LfTensor conv1_b;                 /* (C_out) */
  LfTensor norm2_gamma, norm2_beta; /* (C_out) */
  LfTensor conv2_w;                 /* (C_out, C_out, 3, 3) */
  LfTensor conv2_b;                 /* (C_out) */
  LfTensor shortcut_w;              /* (C_out, C_in, 1, 1); if C_in != C_out */
  LfTensor shortcut_b;              /* (C_out); if C_in != C_out */
} VaeResnet;

typedef struct
{
  int64_t  c;
  LfTensor norm_gamma, norm_beta; /* (C) */
  LfTensor q_w, k_w, v_w, out_w;  /* (C, C) */
  LfTensor q_b, k_b, v_b, out_b;  /* (C) */
} VaeAttention;

/* UNetMidBlock2D: resnets.0, attentions.0 (unless disabled), resnets.1. */
typedef struct
{
  VaeResnet    resnets[2];
  gboolean     has_attention;
  VaeAttention attention;
} VaeMid;

/* Downsample2D or Upsample2D with use_conv: one 3×3 convolution. */
typedef struct
{
  LfTensor conv_w; /* (C, C, 3, 3) */
  LfTensor conv_b; /* (C) */
} VaeResample;

/* One weight: its key under a prefix, its offset in the block's struct, and
 * its shape as a string of dimensions: a letter is a size given by the
 * caller (sizes['i' − 'a'] for 'i'), a digit is that size. */
typedef struct
{
  const char *name;
  size_t      offset;
  const char *shape;
} VaeKey;

/* Binds @keys into the struct at @block; @prefix (nullable) and a dot are
 * put before each name. @sizes has 26 entries, one per lower-case letter. */
gboolean vae_bind_keys (LfWeightStore     *store,
                        const LfComponent *comp,
                        const char        *prefix,
                        const VaeKey      *keys,
                        gsize              n_keys,
                        const int64_t     *sizes,
                        void              *block,
                        GError           **error);

/* Each loader binds the weights under @prefix (a diffusers module path such
 * as "decoder.up_blocks.1.resnets.0"), checking every shape. */
gboolean vae_resnet_load (VaeResnet         *w,
                          LfWeightStore     *store,
                          const LfComponent *comp,
                          const char        *prefix,
                          int64_t            c_in,
                          int64_t            c_out,
                          GError           **error);
gboolean vae_attention_load (VaeAttention      *w,
                             LfWeightStore     *store,
                             const LfComponent *comp,
                             const char        *prefix,
                             int64_t            c,
                             GError           **error);
gboolean vae_mid_load (VaeMid            *w,
                       LfWeightStore     *store,
                       const LfComponent *comp,
                       const char        *prefix,
                       int64_t            c,
                       gboolean           attention,
                       GError           **error);
gboolean vae_resample_load (VaeResample       *w,
                            LfWeightStore     *store,
                            const LfComponent *comp,
                            const char        *prefix,
                            int64_t            c,
                            GError           **error);

/* The activations of one forward live in three equal slots of the arena; a
 * block reads its input from one and uses the other two, and the slots
 * rotate so that the peak is three times the largest activation. */
typedef struct
{
  float *slot[3];
  int    cur; /* the slot holding the current activation */
} VaeSlots;

/* x (B, C_in, H, W) in the current slot → (B, C_out, H, W) in another. */
void vae_resnet_forward (
    LfOps *ops, int groups, const VaeResnet *w, VaeSlots *s, LfTensor *x);
/* x (B, C, H, W) in the current slot, updated in place; needs slots of at
 * least 2·B·C·H·W floats. */
void vae_attention_forward (
    LfOps *ops, int groups, const VaeAttention *w, VaeSlots *s, LfTensor *x);
void vae_mid_forward (
    LfOps *ops, int groups, const VaeMid *w, VaeSlots *s, LfTensor *x);
/* x (B, C, H, W) → (B, C, H/2, W/2): F.pad (0, 1, 0, 1), conv stride 2. */
void vae_downsample_forward (LfOps             *ops,
                             const VaeResample *w,
                             VaeSlots          *s,
                             LfTensor          *x);
/* x (B, C, H, W) → (B, C, 2H, 2W): nearest ×2, conv padding 1. */
void vae_upsample_forward (LfOps             *ops,
                           const VaeResample *w,
                           VaeSlots          *s,
                           LfTensor          *x);

/* y = conv2d (x) with square padding @pad and stride 1. */
void vae_conv (LfOps          *ops,
               const LfTensor *x,
               const LfTensor *w,
               const LfTensor *b,
               int             pad,
               LfTensor       *y);

/* A contiguous (B, C, H, W) f32 tensor over @data. */
LfTensor vae_act (float *data, int64_t B, int64_t C, int64_t H, int64_t W);

G_END_DECLS

#endif /* LF_VAE_PRIVATE_H */
