/* vae.c: diffusers AutoencoderKL (SD-1/2/XL VAE), decode and encode, on the
 * op table. Mirrors diffusers 0.30.3 models/autoencoders/autoencoder_kl.py
 * and autoencoders/vae.py (Encoder, Decoder, DiagonalGaussianDistribution);
 * the blocks are in vae-blocks.c. Activations rotate through three slots of
 * one arena, so the peak is three times the largest activation.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "linfusion.h"

#include "backend.h"
#include "vae-private.h"
#include "vae.h"

/* One DownEncoderBlock2D or UpDecoderBlock2D. */
typedef struct
{
  VaeResnet   resnets[VAE_MAX_LAYERS + 1];
  gboolean    has_sample; /* downsamplers.0 / upsamplers.0 */
  VaeResample sample;
} VaeLevel;

/* C0 = block_out_channels[0], CL = block_out_channels[-1], Z = latent. */
typedef struct
{
  LfTensor conv_in_w;                     /* (C0, in_channels, 3, 3) */
  LfTensor conv_in_b;                     /* (C0) */
  VaeLevel down[VAE_MAX_LEVELS];          /* at H, H/2, …; C0 … CL */
  VaeMid   mid;                           /* CL */
  LfTensor norm_out_gamma, norm_out_beta; /* (CL) */
  LfTensor conv_out_w;                    /* (2Z, CL, 3, 3) */
  LfTensor conv_out_b;                    /* (2Z) */
  LfTensor quant_w; /* (2Z, 2Z, 1, 1); if use_quant_conv */
  LfTensor quant_b; /* (2Z) */
} VaeEncoder;

typedef struct
{
  LfTensor post_quant_w;       /* (Z, Z, 1, 1); if use_post_quant_conv */
  LfTensor post_quant_b;       /* (Z) */
  LfTensor conv_in_w;          /* (CL, Z, 3, 3) */
  LfTensor conv_in_b;          /* (CL) */
  VaeMid   mid;                /* CL */
  VaeLevel up[VAE_MAX_LEVELS]; /* up_blocks.i at h·2^i; CL … C0 */
  LfTensor norm_out_gamma, norm_out_beta; /* (C0) */
  LfTensor conv_out_w;                    /* (out_channels, C0, 3, 3) */
  LfTensor conv_out_b;                    /* (out_channels) */
} VaeDecoder;

struct _LfVae
{
  VaeConfig      cfg;
  LfOps         *ops;
  LfWeightStore *store;
  VaeEncoder     enc;
  VaeDecoder     dec;
};

/* Letters: i in_channels, o out_channels, z latent, m 2·latent (moments),
 * f C0, l CL. */
/* clang-format off */
static const VaeKey encoder_keys[] = {
  { "encoder.conv_in.weight",       offsetof (VaeEncoder, conv_in_w),      "fi33" },
  { "encoder.conv_in.bias",         offsetof (VaeEncoder, conv_in_b),      "f"    },
  { "encoder.conv_norm_out.weight", offsetof (VaeEncoder, norm_out_gamma), "l"    },
  { "encoder.conv_norm_out.bias",   offsetof (VaeEncoder, norm_out_beta),  "l"    },
  { "encoder.conv_out.weight",      offsetof (VaeEncoder, conv_out_w),     "ml33" },
  { "encoder.conv_out.bias",        offsetof (VaeEncoder, conv_out_b),     "m"    },
};

static const VaeKey quant_keys[] = {
  { "quant_conv.weight", offsetof (VaeEncoder, quant_w), "mm11" },
  { "quant_conv.bias",   offsetof (VaeEncoder, quant_b), "m"    },
};

static const VaeKey post_quant_keys[] = {
  { "post_quant_conv.weight", offsetof (VaeDecoder, post_quant_w), "zz11" },
  { "post_quant_conv.bias",   offsetof (VaeDecoder, post_quant_b), "z"    },
};

static const VaeKey decoder_keys[] = {
  { "decoder.conv_in.weight",       offsetof (VaeDecoder, conv_in_w),      "lz33" },
  { "decoder.conv_in.bias",         offsetof (VaeDecoder, conv_in_b),      "l"    },
  { "decoder.conv_norm_out.weight", offsetof (VaeDecoder, norm_out_gamma), "f"    },
  { "decoder.conv_norm_out.bias",   offsetof (VaeDecoder, norm_out_beta),  "f"    },
  { "decoder.conv_out.weight",      offsetof (VaeDecoder, conv_out_w),     "of33" },
  { "decoder.conv_out.bias",        offsetof (VaeDecoder, conv_out_b),     "o"    },
};
/* clang-format on */

/* ---- load ---------------------------------------------------------- */

static const int64_t *
vae_sizes (const VaeConfig *c, int64_t sizes[26])
{
  memset (sizes, 0, 26 * sizeof *sizes);
  sizes['i' - 'a'] = c->in_channels;
  sizes['o' - 'a'] = c->out_channels;
  sizes['z' - 'a'] = c->latent_channels;
  sizes['m' - 'a'] = 2 * c->latent_channels;
  sizes['f' - 'a'] = c->channels[0];
  sizes['l' - 'a'] = c->channels[c->n_levels - 1];
  return sizes;
}

/* Encoder: down_blocks.i goes from channels[i − 1] (C0 for i = 0) to
 * channels[i]; Decoder: up_blocks.i from the reversed list. */
static gboolean
vae_level_load (LfVae             *vae,
                const LfComponent *comp,
                gboolean           decoder,
                int                i,
                GError           **error)
{
  const VaeConfig *c = &vae->cfg;
  const int        n = c->n_levels;
  VaeLevel        *level = decoder ? &vae->dec.up[i] : &vae->enc.down[i];
  const char      *base = decoder ? "decoder.up_blocks" : "encoder.down_blocks";
  int64_t          c_in = decoder ? c->channels[i == 0 ? n - 1 : n - i]
                                  : c->channels[i > 0 ? i - 1 : 0];
  const int64_t    c_out = c->channels[decoder ? n - 1 - i : i];
  const int        layers = c->layers_per_block + (decoder ? 1 : 0);

  for (int r = 0; r < layers; r++)
    {
      g_autofree char *p = g_strdup_printf ("%s.%d.resnets.%d", base, i, r);

      if (!vae_resnet_load (&level->resnets[r], vae->store, comp, p, c_in,
                            c_out, error))
        return FALSE;
      c_in = c_out;
    }
  level->has_sample = i < n - 1;
  if (level->has_sample)
    {
      g_autofree char *p = g_strdup_printf (
          "%s.%d.%s.0", base, i, decoder ? "upsamplers" : "downsamplers");

      return vae_resample_load (&level->sample, vae->store, comp, p, c_out,
                                error);
    }
  return TRUE;
}

static gboolean
vae_weights_load (LfVae *vae, const LfComponent *comp, GError **error)
{
  const VaeConfig *c = &vae->cfg;
  const int64_t    cl = c->channels[c->n_levels - 1];
  int64_t          sizes[26];

  vae_sizes (c, sizes);
  if (!vae_bind_keys (vae->store, comp, NULL, encoder_keys,
                      G_N_ELEMENTS (encoder_keys), sizes, &vae->enc, error)
      || (c->quant_conv
          && !vae_bind_keys (vae->store, comp, NULL, quant_keys,
                             G_N_ELEMENTS (quant_keys), sizes, &vae->enc,
                             error))
      || (c->post_quant_conv
          && !vae_bind_keys (vae->store, comp, NULL, post_quant_keys,
                             G_N_ELEMENTS (post_quant_keys), sizes, &vae->dec,
                             error))
      || !vae_bind_keys (vae->store, comp, NULL, decoder_keys,
                         G_N_ELEMENTS (decoder_keys), sizes, &vae->dec, error)
      || !vae_mid_load (&vae->enc.mid, vae->store, comp, "encoder.mid_block",
                        cl, c->mid_attention, error)
      || !vae_mid_load (&vae->dec.mid, vae->store, comp, "decoder.mid_block",
                        cl, c->mid_attention, error))
    return FALSE;
  for (int i = 0; i < c->n_levels; i++)
    if (!vae_level_load (vae, comp, FALSE, i, error)
        || !vae_level_load (vae, comp, TRUE, i, error))
      return FALSE;
  return TRUE;
}

LfVae *
lf_vae_load (const LfComponent *comp,
             const LfConfig    *cfg,
             LfOps             *ops,
             GError           **error)
{
  g_autoptr (LfVae) vae = NULL;

  g_return_val_if_fail (comp != NULL && cfg != NULL && ops != NULL, NULL);
  vae = g_new0 (LfVae, 1);
  vae->ops = ops;
  vae->store = lf_weight_store_new (ops);
  if (!vae_config_read (cfg, &vae->cfg, error)
      || !vae_weights_load (vae, comp, error))
    return NULL;
  return g_steal_pointer (&vae);
}

void
lf_vae_free (LfVae *vae)
{
  if (vae == NULL)
    return;
  lf_weight_store_free (vae->store);
  g_free (vae);
}

float
lf_vae_get_scaling_factor (const LfVae *vae)
{
  return vae->cfg.scaling_factor;
}

int64_t
lf_vae_get_latent_channels (const LfVae *vae)
{
  return vae->cfg.latent_channels;
}

float
lf_vae_get_shift_factor (const LfVae *vae)
{
  return vae->cfg.has_shift ? vae->cfg.shift_factor : 0.0f;
}

int
lf_vae_get_downscale (const LfVae *vae)
{
  return 1 << (vae->cfg.n_levels - 1);
}

/* ---- plan ---------------------------------------------------------- */

/* Floats one slot holds for batch 1: the largest activation, or the
 * attention's pairs of token tensors. */
static int64_t
decode_slot_floats (const VaeConfig *c, int64_t h, int64_t w)
{
  const int n = c->n_levels;
  int64_t   c_prev = c->channels[n - 1], m;

  m = MAX (c->latent_channels, c_prev) * h * w;
  if (c->mid_attention)
    m = MAX (m, 2 * c_prev * h * w);
  for (int i = 0; i < n; i++)
    {
      const int64_t ch = c->channels[n - 1 - i];

      m = MAX (m, MAX (c_prev, ch) * h * w);
      if (i < n - 1)
        {
          h *= 2;
          w *= 2;
          m = MAX (m, ch * h * w);
        }
      c_prev = ch;
    }
  return m;
}

static int64_t
encode_slot_floats (const VaeConfig *c, int64_t h, int64_t w)
{
  const int n = c->n_levels;
  int64_t   c_prev = c->channels[0], m = c_prev * h * w;

  for (int i = 0; i < n; i++)
    {
      m = MAX (m, MAX (c_prev, c->channels[i]) * h * w);
      if (i < n - 1)
        {
          h /= 2;
          w /= 2;
          m = MAX (m, c->channels[i] * h * w);
        }
      c_prev = c->channels[i];
    }
  if (c->mid_attention)
    m = MAX (m, 2 * c_prev * h * w);
  return MAX (m, 2 * c->latent_channels * h * w);
}

/* Three slots of @floats each, or G_MAXSIZE when that does not fit in
 * size_t (the arena then refuses it with the size). */
static size_t
slots_bytes (int64_t batch, int64_t floats)
{
  if (batch < 1 || floats < 1
      || (guint64)floats > G_MAXSIZE / 16 / (guint64)batch)
    return G_MAXSIZE;
  return 3 * lf_arena_padded_size ((size_t)(batch * floats) * sizeof (float));
}

size_t
lf_vae_plan_decode (const LfVae *vae, int64_t batch, int64_t h, int64_t w)
{
  return slots_bytes (batch, decode_slot_floats (&vae->cfg, h, w));
}

size_t
lf_vae_plan_encode (const LfVae *vae, int64_t batch, int64_t H, int64_t W)
{
  return slots_bytes (batch, encode_slot_floats (&vae->cfg, H, W));
}

static gboolean
slots_alloc (LfArena *arena, size_t bytes, VaeSlots *s, GError **error)
{
  const size_t one = bytes / 3;

  s->cur = 0;
  for (int i = 0; i < 3; i++)
    if ((s->slot[i] = lf_arena_alloc (arena, one, error)) == NULL)
      return FALSE;
  return TRUE;
}

/* ---- forward ------------------------------------------------------- */

static gboolean
block_done (
    LfOps *ops, const char *coder, const char *block, int i, GError **error)
{
  char what[96];

  if (i >= 0)
    g_snprintf (what, sizeof what, "VAE %s.%s.%d", coder, block, i);
  else
    g_snprintf (what, sizeof what, "VAE %s.%s", coder, block);
  return lf_ops_take_error (ops, what, error);
}

/* Decoder.forward after post_quant_conv: conv_in, mid_block, up_blocks in
 * order (the first at the latent size), conv_norm_out + SiLU, conv_out. */
static gboolean
decoder_forward (const LfVae    *vae,
                 const LfTensor *z, /* (B, Z, h, w) */
                 VaeSlots       *s,
                 LfTensor       *image, /* (B, out_channels, H, W) */
                 GError        **error)
{
  const VaeConfig  *c = &vae->cfg;
  const VaeDecoder *d = &vae->dec;
  LfOps            *ops = vae->ops;
  const int64_t     B = z->shape[0];
  LfTensor          x = *z, t;

  if (c->post_quant_conv)
    {
      t = vae_act (s->slot[s->cur], B, z->shape[1], z->shape[2], z->shape[3]);
      vae_conv (ops, z, &d->post_quant_w, &d->post_quant_b, 0, &t);
      x = t;
      s->cur = (s->cur + 1) % 3;
    }
  t = vae_act (s->slot[s->cur], B, d->conv_in_w.shape[0], z->shape[2],
               z->shape[3]);
  vae_conv (ops, &x, &d->conv_in_w, &d->conv_in_b, 1, &t);
  x = t;
  if (!block_done (ops, "decoder", "conv_in", -1, error))
    return FALSE;
  vae_mid_forward (ops, c->groups, &d->mid, s, &x);
  if (!block_done (ops, "decoder", "mid_block", -1, error))
    return FALSE;
  for (int i = 0; i < c->n_levels; i++)
    {
      const VaeLevel *level = &d->up[i];

      for (int r = 0; r < c->layers_per_block + 1; r++)
        vae_resnet_forward (ops, c->groups, &level->resnets[r], s, &x);
      if (level->has_sample)
        vae_upsample_forward (ops, &level->sample, s, &x);
      if (!block_done (ops, "decoder", "up_blocks", i, error))
        return FALSE;
    }
  t = vae_act (s->slot[(s->cur + 1) % 3], B, x.shape[1], x.shape[2],
               x.shape[3]);
  ops->group_norm_silu (ops, &x, &d->norm_out_gamma, &d->norm_out_beta,
                        c->groups, VAE_NORM_EPS, &t);
  vae_conv (ops, &t, &d->conv_out_w, &d->conv_out_b, 1, image);
  return block_done (ops, "decoder", "conv_out", -1, error);
}

/* Encoder.forward and quant_conv: the moments (B, 2Z, h, w) in a slot. */
static gboolean
encoder_forward (const LfVae    *vae,
                 const LfTensor *image, /* (B, in_channels, H, W) */
                 VaeSlots       *s,
                 LfTensor       *moments,
                 GError        **error)
{
  const VaeConfig  *c = &vae->cfg;
  const VaeEncoder *e = &vae->enc;
  LfOps            *ops = vae->ops;
  const int64_t     B = image->shape[0];
  LfTensor          x, t;

  x = vae_act (s->slot[s->cur], B, c->channels[0], image->shape[2],
               image->shape[3]);
  vae_conv (ops, image, &e->conv_in_w, &e->conv_in_b, 1, &x);
  if (!block_done (ops, "encoder", "conv_in", -1, error))
    return FALSE;
  for (int i = 0; i < c->n_levels; i++)
    {
      const VaeLevel *level = &e->down[i];

      for (int r = 0; r < c->layers_per_block; r++)
        vae_resnet_forward (ops, c->groups, &level->resnets[r], s, &x);
      if (level->has_sample)
        vae_downsample_forward (ops, &level->sample, s, &x);
      if (!block_done (ops, "encoder", "down_blocks", i, error))
        return FALSE;
    }
  vae_mid_forward (ops, c->groups, &e->mid, s, &x);
  if (!block_done (ops, "encoder", "mid_block", -1, error))
    return FALSE;
  t = vae_act (s->slot[(s->cur + 1) % 3], B, x.shape[1], x.shape[2],
               x.shape[3]);
  ops->group_norm_silu (ops, &x, &e->norm_out_gamma, &e->norm_out_beta,
                        c->groups, VAE_NORM_EPS, &t);
  *moments = vae_act (s->slot[(s->cur + 2) % 3], B, 2 * c->latent_channels,
                      x.shape[2], x.shape[3]);
  vae_conv (ops, &t, &e->conv_out_w, &e->conv_out_b, 1, moments);
  s->cur = (s->cur + 2) % 3;
  if (c->quant_conv)
    {
      t = vae_act (s->slot[(s->cur + 1) % 3], B, moments->shape[1],
                   moments->shape[2], moments->shape[3]);
      vae_conv (ops, moments, &e->quant_w, &e->quant_b, 0, &t);
      *moments = t;
      s->cur = (s->cur + 1) % 3;
    }
  return block_done (ops, "encoder", "conv_out", -1, error);
}

static gboolean
check_f32 (const LfTensor *t,
           const char     *what,
           int64_t         C,
           int64_t         H,
           int64_t         W,
           int64_t         B,
           GError        **error)
{
  if (t->dtype == LF_DTYPE_F32 && t->ndim == 4 && lf_tensor_is_contiguous (t)
      && t->shape[0] == B && t->shape[1] == C && t->shape[2] == H
      && t->shape[3] == W && B >= 1 && H >= 1 && W >= 1)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
               _ ("VAE: %s must be a contiguous f32 tensor of %" PRId64
                  " × %" PRId64 " × %" PRId64 " × %" PRId64),
               what, B, C, H, W);
  return FALSE;
}

gboolean
lf_vae_decode (LfVae          *vae,
               const LfTensor *z,
               LfArena        *scratch,
               LfTensor       *image,
               GError        **error)
{
  const int64_t f = lf_vae_get_downscale (vae);
  const size_t  mark = lf_arena_mark (scratch);
  VaeSlots      s;
  gboolean      ok;

  if (!check_f32 (z, "the latent", vae->cfg.latent_channels, z->shape[2],
                  z->shape[3], z->shape[0], error)
      || !check_f32 (image, "the image", vae->cfg.out_channels, f * z->shape[2],
                     f * z->shape[3], z->shape[0], error))
    return FALSE;
  ok = slots_alloc (
           scratch,
           lf_vae_plan_decode (vae, z->shape[0], z->shape[2], z->shape[3]), &s,
           error)
       && decoder_forward (vae, z, &s, image, error);
  lf_arena_reset (scratch, mark);
  return ok;
}

gboolean
lf_vae_encode (LfVae          *vae,
               const LfTensor *image,
               LfArena        *scratch,
               LfTensor       *mean,
               LfTensor       *logvar,
               GError        **error)
{
  const int64_t f = lf_vae_get_downscale (vae), Z = vae->cfg.latent_channels;
  const int64_t B = image->shape[0], H = image->shape[2], W = image->shape[3];
  const size_t  mark = lf_arena_mark (scratch);
  VaeSlots      s;
  LfTensor      moments, half;
  gboolean      ok;

  if (H % f != 0 || W % f != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("VAE: the image size %" PRId64 " × %" PRId64
                      " is not a multiple of %d"),
                   W, H, (int)f);
      return FALSE;
    }
  if (!check_f32 (image, "the image", vae->cfg.in_channels, H, W, B, error)
      || !check_f32 (mean, "the mean", Z, H / f, W / f, B, error)
      || !check_f32 (logvar, "the logvar", Z, H / f, W / f, B, error))
    return FALSE;
  ok = slots_alloc (scratch, lf_vae_plan_encode (vae, B, H, W), &s, error)
       && encoder_forward (vae, image, &s, &moments, error);
  if (ok)
    {
      /* DiagonalGaussianDistribution: mean, logvar = chunk (moments, 2, 1) */
      lf_tensor_narrow (&moments, 1, 0, Z, &half);
      vae->ops->copy (vae->ops, &half, mean);
      lf_tensor_narrow (&moments, 1, Z, Z, &half);
      vae->ops->copy (vae->ops, &half, logvar);
      /* DiagonalGaussianDistribution clamps logvar to [−30, 20]. */
      vae->ops->clamp (vae->ops, logvar, -30.0f, 20.0f, logvar);
      ok = block_done (vae->ops, "encoder", "posterior", -1, error);
    }
  lf_arena_reset (scratch, mark);
  return ok;
}
