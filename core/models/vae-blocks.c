/* vae-blocks.c: the AutoencoderKL's blocks (see vae-private.h): ResnetBlock2D
 * with temb None, the mid block's Attention (one head over every pixel) and
 * the resampling convolutions. Mirrors diffusers 0.30.3 models/resnet.py,
 * unets/unet_2d_blocks.py UNetMidBlock2D, attention_processor.py and
 * downsampling.py / upsampling.py; weight names are diffusers keys.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "vae-private.h"

/* In the block tables below 'i' is C_in and 'o' is C_out. */
/* clang-format off */
static const VaeKey resnet_keys[] = {
  { "norm1.weight", offsetof (VaeResnet, norm1_gamma), "i"    },
  { "norm1.bias",   offsetof (VaeResnet, norm1_beta),  "i"    },
  { "conv1.weight", offsetof (VaeResnet, conv1_w),     "oi33" },
  { "conv1.bias",   offsetof (VaeResnet, conv1_b),     "o"    },
  { "norm2.weight", offsetof (VaeResnet, norm2_gamma), "o"    },
  { "norm2.bias",   offsetof (VaeResnet, norm2_beta),  "o"    },
  { "conv2.weight", offsetof (VaeResnet, conv2_w),     "oo33" },
  { "conv2.bias",   offsetof (VaeResnet, conv2_b),     "o"    },
};

static const VaeKey shortcut_keys[] = {
  { "conv_shortcut.weight", offsetof (VaeResnet, shortcut_w), "oi11" },
  { "conv_shortcut.bias",   offsetof (VaeResnet, shortcut_b), "o"    },
};

static const VaeKey attention_keys[] = {
  { "group_norm.weight", offsetof (VaeAttention, norm_gamma), "o"  },
  { "group_norm.bias",   offsetof (VaeAttention, norm_beta),  "o"  },
  { "to_q.weight",       offsetof (VaeAttention, q_w),        "oo" },
  { "to_q.bias",         offsetof (VaeAttention, q_b),        "o"  },
  { "to_k.weight",       offsetof (VaeAttention, k_w),        "oo" },
  { "to_k.bias",         offsetof (VaeAttention, k_b),        "o"  },
  { "to_v.weight",       offsetof (VaeAttention, v_w),        "oo" },
  { "to_v.bias",         offsetof (VaeAttention, v_b),        "o"  },
  { "to_out.0.weight",   offsetof (VaeAttention, out_w),      "oo" },
  { "to_out.0.bias",     offsetof (VaeAttention, out_b),      "o"  },
};

/* Folders saved by diffusers before the Attention rewrite; diffusers renames
 * these on load (_convert_deprecated_attention_blocks). */
static const VaeKey attention_old_keys[] = {
  { "group_norm.weight", offsetof (VaeAttention, norm_gamma), "o"  },
  { "group_norm.bias",   offsetof (VaeAttention, norm_beta),  "o"  },
  { "query.weight",      offsetof (VaeAttention, q_w),        "oo" },
  { "query.bias",        offsetof (VaeAttention, q_b),        "o"  },
  { "key.weight",        offsetof (VaeAttention, k_w),        "oo" },
  { "key.bias",          offsetof (VaeAttention, k_b),        "o"  },
  { "value.weight",      offsetof (VaeAttention, v_w),        "oo" },
  { "value.bias",        offsetof (VaeAttention, v_b),        "o"  },
  { "proj_attn.weight",  offsetof (VaeAttention, out_w),      "oo" },
  { "proj_attn.bias",    offsetof (VaeAttention, out_b),      "o"  },
};

static const VaeKey resample_keys[] = {
  { "conv.weight", offsetof (VaeResample, conv_w), "oo33" },
  { "conv.bias",   offsetof (VaeResample, conv_b), "o"    },
};
/* clang-format on */

gboolean
vae_bind_keys (LfWeightStore     *store,
               const LfComponent *comp,
               const char        *prefix,
               const VaeKey      *keys,
               gsize              n_keys,
               const int64_t     *sizes,
               void              *block,
               GError           **error)
{
  for (gsize i = 0; i < n_keys; i++)
    {
      int64_t   shape[4];
      int       ndim = 0;
      LfTensor *t = (LfTensor *)((char *)block + keys[i].offset);

      for (const char *d = keys[i].shape; *d != '\0' && ndim < 4; d++)
        shape[ndim++] = g_ascii_isdigit (*d) ? *d - '0' : sizes[*d - 'a'];
      if (!lf_weight_store_bindf (store, comp, ndim, shape, t, error, "%s%s%s",
                                  prefix != NULL ? prefix : "",
                                  prefix != NULL ? "." : "", keys[i].name))
        return FALSE;
    }
  return TRUE;
}

/* The sizes of a block's table: C_in and C_out. */
static const int64_t *
block_sizes (int64_t sizes[26], int64_t c_in, int64_t c_out)
{
  memset (sizes, 0, 26 * sizeof *sizes);
  sizes['i' - 'a'] = c_in;
  sizes['o' - 'a'] = c_out;
  return sizes;
}

gboolean
vae_resnet_load (VaeResnet         *w,
                 LfWeightStore     *store,
                 const LfComponent *comp,
                 const char        *prefix,
                 int64_t            c_in,
                 int64_t            c_out,
                 GError           **error)
{
  int64_t sizes[26];

  *w = (VaeResnet){ .c_in = c_in, .c_out = c_out };
  if (!vae_bind_keys (store, comp, prefix, resnet_keys,
                      G_N_ELEMENTS (resnet_keys),
                      block_sizes (sizes, c_in, c_out), w, error))
    return FALSE;
  /* diffusers: use_in_shortcut = in_channels != out_channels. */
  return c_in == c_out
         || vae_bind_keys (store, comp, prefix, shortcut_keys,
                           G_N_ELEMENTS (shortcut_keys),
                           block_sizes (sizes, c_in, c_out), w, error);
}

gboolean
vae_attention_load (VaeAttention      *w,
                    LfWeightStore     *store,
                    const LfComponent *comp,
                    const char        *prefix,
                    int64_t            c,
                    GError           **error)
{
  gboolean old = !lf_component_hasf (comp, "%s.to_q.weight", prefix)
                 && lf_component_hasf (comp, "%s.query.weight", prefix);
  int64_t sizes[26];

  *w = (VaeAttention){ .c = c };
  if (old)
    return vae_bind_keys (store, comp, prefix, attention_old_keys,
                          G_N_ELEMENTS (attention_old_keys),
                          block_sizes (sizes, c, c), w, error);
  return vae_bind_keys (store, comp, prefix, attention_keys,
                        G_N_ELEMENTS (attention_keys),
                        block_sizes (sizes, c, c), w, error);
}

gboolean
vae_mid_load (VaeMid            *w,
              LfWeightStore     *store,
              const LfComponent *comp,
              const char        *prefix,
              int64_t            c,
              gboolean           attention,
              GError           **error)
{
  g_autofree char *r0 = g_strdup_printf ("%s.resnets.0", prefix);
  g_autofree char *r1 = g_strdup_printf ("%s.resnets.1", prefix);
  g_autofree char *at = g_strdup_printf ("%s.attentions.0", prefix);

  w->has_attention = attention;
  return vae_resnet_load (&w->resnets[0], store, comp, r0, c, c, error)
         && (!attention
             || vae_attention_load (&w->attention, store, comp, at, c, error))
         && vae_resnet_load (&w->resnets[1], store, comp, r1, c, c, error);
}

gboolean
vae_resample_load (VaeResample       *w,
                   LfWeightStore     *store,
                   const LfComponent *comp,
                   const char        *prefix,
                   int64_t            c,
                   GError           **error)
{
  int64_t sizes[26];

  return vae_bind_keys (store, comp, prefix, resample_keys,
                        G_N_ELEMENTS (resample_keys), block_sizes (sizes, c, c),
                        w, error);
}

LfTensor
vae_act (float *data, int64_t B, int64_t C, int64_t H, int64_t W)
{
  return lf_tensor_4d (data, LF_DTYPE_F32, B, C, H, W);
}

void
vae_conv (LfOps          *ops,
          const LfTensor *x,
          const LfTensor *w,
          const LfTensor *b,
          int             pad,
          LfTensor       *y)
{
  const LfConv2dParams p = { .stride = 1,
                             .dilation = 1,
                             .pad_top = pad,
                             .pad_bottom = pad,
                             .pad_left = pad,
                             .pad_right = pad };

  ops->conv2d (ops, x, w, b, &p, y);
}

static float *
other_slot (const VaeSlots *s, int k)
{
  return s->slot[(s->cur + k) % 3];
}

/* Input x in slot cur, the norms' output in cur + 1, the result in cur + 2:
 * x must survive until the residual is added. */
void
vae_resnet_forward (
    LfOps *ops, int groups, const VaeResnet *w, VaeSlots *s, LfTensor *x)
{
  const int64_t B = x->shape[0], H = x->shape[2], W = x->shape[3];
  float        *tmp = other_slot (s, 1);
  LfTensor      t = vae_act (tmp, B, w->c_in, H, W);
  LfTensor      y = vae_act (other_slot (s, 2), B, w->c_out, H, W);

  ops->group_norm_silu (ops, x, &w->norm1_gamma, &w->norm1_beta, groups,
                        VAE_NORM_EPS, &t);
  vae_conv (ops, &t, &w->conv1_w, &w->conv1_b, 1, &y);
  t = vae_act (tmp, B, w->c_out, H, W);
  ops->group_norm_silu (ops, &y, &w->norm2_gamma, &w->norm2_beta, groups,
                        VAE_NORM_EPS, &t);
  vae_conv (ops, &t, &w->conv2_w, &w->conv2_b, 1, &y);
  if (w->shortcut_w.data != NULL)
    {
      vae_conv (ops, x, &w->shortcut_w, &w->shortcut_b, 0, &t);
      ops->add (ops, &t, &y, &y);
    }
  else
    ops->add (ops, x, &y, &y);
  s->cur = (s->cur + 2) % 3;
  *x = y;
}

/* AttnProcessor on (B, C, H, W): GroupNorm, tokens (B, H·W, C), q k v, one
 * head with scale 1/sqrt(C), to_out.0, residual (rescale_output_factor 1).
 * The two free slots are split in halves (u = B·C·H·W floats each):
 * a = [norm | k] then [q | k] then [out | k], b = [tokens | v] then [y | v]. */
void
vae_attention_forward (
    LfOps *ops, int groups, const VaeAttention *w, VaeSlots *s, LfTensor *x)
{
  const int64_t B = x->shape[0], C = x->shape[1];
  const int64_t N = x->shape[2] * x->shape[3], u = B * C * N;
  const int     swap[3] = { 0, 2, 1 };
  float        *a = other_slot (s, 1), *b = other_slot (s, 2);
  LfTensor      norm = vae_act (a, B, C, x->shape[2], x->shape[3]);
  LfTensor      tokens = lf_tensor_3d (b, LF_DTYPE_F32, B, N, C);
  LfTensor      q = lf_tensor_3d (a, LF_DTYPE_F32, B, N, C);
  LfTensor      k = lf_tensor_3d (a + u, LF_DTYPE_F32, B, N, C);
  LfTensor      v = lf_tensor_3d (b + u, LF_DTYPE_F32, B, N, C);
  LfTensor      y = lf_tensor_3d (b, LF_DTYPE_F32, B, N, C);
  LfTensor      o = lf_tensor_3d (a, LF_DTYPE_F32, B, N, C);
  LfTensor      norm_bcn, x_bcn, view;
  const int64_t bcn[3] = { B, C, N };

  ops->group_norm (ops, x, &w->norm_gamma, &w->norm_beta, groups, VAE_NORM_EPS,
                   &norm);
  lf_tensor_reshape (&norm, 3, bcn, &norm_bcn);
  lf_tensor_permute (&norm_bcn, swap, &view);
  ops->copy (ops, &view, &tokens);
  ops->linear (ops, &tokens, &w->q_w, &w->q_b, &q);
  ops->linear (ops, &tokens, &w->k_w, &w->k_b, &k);
  ops->linear (ops, &tokens, &w->v_w, &w->v_b, &v);
  ops->attention (ops, &q, &k, &v, 1, (float)(1.0 / sqrt ((double)C)), 0, &y);
  ops->linear (ops, &y, &w->out_w, &w->out_b, &o);
  /* The residual add reads the tokens transposed: no copy back to NCHW. */
  lf_tensor_reshape (x, 3, bcn, &x_bcn);
  lf_tensor_permute (&o, swap, &view);
  ops->add (ops, &view, &x_bcn, &x_bcn);
}

void
vae_mid_forward (
    LfOps *ops, int groups, const VaeMid *w, VaeSlots *s, LfTensor *x)
{
  vae_resnet_forward (ops, groups, &w->resnets[0], s, x);
  if (w->has_attention)
    vae_attention_forward (ops, groups, &w->attention, s, x);
  vae_resnet_forward (ops, groups, &w->resnets[1], s, x);
}

void
vae_downsample_forward (LfOps             *ops,
                        const VaeResample *w,
                        VaeSlots          *s,
                        LfTensor          *x)
{
  /* Downsample2D (padding 0): F.pad (x, (0, 1, 0, 1)), then the conv. */
  const LfConv2dParams p = { .stride = 2,
                             .dilation = 1,
                             .pad_top = 0,
                             .pad_bottom = 1,
                             .pad_left = 0,
                             .pad_right = 1 };
  LfTensor             y = vae_act (other_slot (s, 1), x->shape[0], x->shape[1],
                                    x->shape[2] / 2, x->shape[3] / 2);

  ops->conv2d (ops, x, &w->conv_w, &w->conv_b, &p, &y);
  s->cur = (s->cur + 1) % 3;
  *x = y;
}

void
vae_upsample_forward (LfOps             *ops,
                      const VaeResample *w,
                      VaeSlots          *s,
                      LfTensor          *x)
{
  const int64_t B = x->shape[0], C = x->shape[1];
  const int64_t H = 2 * x->shape[2], W = 2 * x->shape[3];
  LfTensor      up = vae_act (other_slot (s, 1), B, C, H, W);
  LfTensor      y = vae_act (other_slot (s, 2), B, C, H, W);

  ops->upsample_nearest (ops, x, &up);
  vae_conv (ops, &up, &w->conv_w, &w->conv_b, 1, &y);
  s->cur = (s->cur + 2) % 3;
  *x = y;
}
