/* unet.c: diffusers UNet2DConditionModel (SD-1.x/2.x layouts): weights by
 * diffusers key, the activation plan and the forward. Mirrors diffusers
 * 0.30.3 unets/unet_2d_condition.py (UNet2DConditionModel.__init__ and
 * forward) and unets/unet_2d_blocks.py (CrossAttnDownBlock2D, DownBlock2D,
 * UNetMidBlock2DCrossAttn, UpBlock2D, CrossAttnUpBlock2D).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "backend.h"
#include "unet-private.h"

/* Symbolic sizes of the key tables. */
enum
{
  DIM_CIN = -1,  /* a ResNet's input channels */
  DIM_COUT = -2, /* its output channels; a transformer's C */
  DIM_T = -3,    /* time embedding width, 4·C0 */
  DIM_CTX = -4,  /* cross_attention_dim */
  DIM_FF = -5,   /* GEGLU projection, 8C */
  DIM_FF2 = -6,  /* feed-forward inner width, 4C */
};

#define RKEY(suffix, member, ndim, ...)                                        \
  {                                                                            \
    suffix, offsetof (UnetResnet, member), ndim,                               \
    {                                                                          \
      __VA_ARGS__                                                              \
    }                                                                          \
  }
#define BKEY(suffix, member, ndim, ...)                                        \
  {                                                                            \
    suffix, offsetof (UnetBasicBlock, member), ndim,                           \
    {                                                                          \
      __VA_ARGS__                                                              \
    }                                                                          \
  }

/* clang-format off */
static const UnetKey resnet_keys[] = {
  RKEY ("norm1.weight",         norm1_gamma, 1, DIM_CIN),
  RKEY ("norm1.bias",           norm1_beta,  1, DIM_CIN),
  RKEY ("conv1.weight",         conv1_w,     4, DIM_COUT, DIM_CIN, 3, 3),
  RKEY ("conv1.bias",           conv1_b,     1, DIM_COUT),
  RKEY ("time_emb_proj.weight", temb_w,      2, DIM_COUT, DIM_T),
  RKEY ("time_emb_proj.bias",   temb_b,      1, DIM_COUT),
  RKEY ("norm2.weight",         norm2_gamma, 1, DIM_COUT),
  RKEY ("norm2.bias",           norm2_beta,  1, DIM_COUT),
  RKEY ("conv2.weight",         conv2_w,     4, DIM_COUT, DIM_COUT, 3, 3),
  RKEY ("conv2.bias",           conv2_b,     1, DIM_COUT),
};

static const UnetKey shortcut_keys[] = {
  RKEY ("conv_shortcut.weight", shortcut_w,  4, DIM_COUT, DIM_CIN, 1, 1),
  RKEY ("conv_shortcut.bias",   shortcut_b,  1, DIM_COUT),
};

static const UnetKey basic_block_keys[] = {
  BKEY ("norm1.weight",          norm1_gamma,  1, DIM_COUT),
  BKEY ("norm1.bias",            norm1_beta,   1, DIM_COUT),
  BKEY ("attn1.to_q.weight",     attn1.to_q,   2, DIM_COUT, DIM_COUT),
  BKEY ("attn1.to_k.weight",     attn1.to_k,   2, DIM_COUT, DIM_COUT),
  BKEY ("attn1.to_v.weight",     attn1.to_v,   2, DIM_COUT, DIM_COUT),
  BKEY ("attn1.to_out.0.weight", attn1.out_w,  2, DIM_COUT, DIM_COUT),
  BKEY ("attn1.to_out.0.bias",   attn1.out_b,  1, DIM_COUT),
  BKEY ("norm2.weight",          norm2_gamma,  1, DIM_COUT),
  BKEY ("norm2.bias",            norm2_beta,   1, DIM_COUT),
  BKEY ("attn2.to_q.weight",     attn2.to_q,   2, DIM_COUT, DIM_COUT),
  BKEY ("attn2.to_k.weight",     attn2.to_k,   2, DIM_COUT, DIM_CTX),
  BKEY ("attn2.to_v.weight",     attn2.to_v,   2, DIM_COUT, DIM_CTX),
  BKEY ("attn2.to_out.0.weight", attn2.out_w,  2, DIM_COUT, DIM_COUT),
  BKEY ("attn2.to_out.0.bias",   attn2.out_b,  1, DIM_COUT),
  BKEY ("norm3.weight",          norm3_gamma,  1, DIM_COUT),
  BKEY ("norm3.bias",            norm3_beta,   1, DIM_COUT),
  BKEY ("ff.net.0.proj.weight",  ff_in_w,      2, DIM_FF, DIM_COUT),
  BKEY ("ff.net.0.proj.bias",    ff_in_b,      1, DIM_FF),
  BKEY ("ff.net.2.weight",       ff_out_w,     2, DIM_COUT, DIM_FF2),
  BKEY ("ff.net.2.bias",         ff_out_b,     1, DIM_COUT),
};
/* clang-format on */

/* ---- Loading ---------------------------------------------------------- */

static gboolean
bind_one (const UnetLoader *ld,
          const char       *prefix,
          const char       *suffix,
          int               ndim,
          const int64_t    *shape,
          LfTensor         *out,
          GError          **error)
{
  return lf_weight_store_bindf (ld->store, ld->comp, ndim, shape, out, error,
                                "%s.%s", prefix, suffix);
}

/* A (C_out, C_in, 1, 1) conv or a (C_out, C_in) Linear, seen as the latter. */
static void
as_matrix (LfTensor *w)
{
  const int64_t shape[2] = { w->shape[0], w->shape[1] };

  lf_tensor_reshape (w, 2, shape, w);
}

static gboolean
load_resnet (const UnetLoader *ld,
             const char       *prefix,
             int64_t           c_in,
             int64_t           c_out,
             int64_t           t_dim,
             UnetResnet       *r,
             GError          **error)
{
  const int64_t dims[3] = { c_in, c_out, t_dim };

  r->c_in = c_in, r->c_out = c_out;
  if (!unet_bind_table (ld, prefix, resnet_keys, G_N_ELEMENTS (resnet_keys),
                        dims, r, error))
    return FALSE;
  /* diffusers creates conv_shortcut exactly when in ≠ out channels. */
  if (c_in == c_out)
    return TRUE;
  if (!unet_bind_table (ld, prefix, shortcut_keys, G_N_ELEMENTS (shortcut_keys),
                        dims, r, error))
    return FALSE;
  as_matrix (&r->shortcut_w);
  return TRUE;
}

static gboolean
load_transformer (const UnetLoader *ld,
                  const UnetConfig *cfg,
                  const char       *name,
                  int64_t           C,
                  int               level,
                  UnetTransformer  *t,
                  GError          **error)
{
  const int64_t dims[6] = { C, C, 4 * C, cfg->cross_dim, 8 * C, 4 * C };
  const int64_t vec[1] = { C };
  const int64_t proj[4] = { C, C, 1, 1 };
  const int     proj_ndim = cfg->linear_proj ? 2 : 4;

  t->name = g_strdup (name);
  t->channels = C;
  t->heads = cfg->heads[level];
  t->depth = (int)cfg->depth[level];
  t->blocks = g_new0 (UnetBasicBlock, t->depth);
  if (!bind_one (ld, name, "norm.weight", 1, vec, &t->norm_gamma, error)
      || !bind_one (ld, name, "norm.bias", 1, vec, &t->norm_beta, error)
      || !bind_one (ld, name, "proj_in.weight", proj_ndim, proj, &t->proj_in_w,
                    error)
      || !bind_one (ld, name, "proj_in.bias", 1, vec, &t->proj_in_b, error)
      || !bind_one (ld, name, "proj_out.weight", proj_ndim, proj,
                    &t->proj_out_w, error)
      || !bind_one (ld, name, "proj_out.bias", 1, vec, &t->proj_out_b, error))
    return FALSE;
  as_matrix (&t->proj_in_w);
  as_matrix (&t->proj_out_w);
  for (int j = 0; j < t->depth; j++)
    {
      g_autofree char *prefix
          = g_strdup_printf ("%s.transformer_blocks.%d", name, j);

      if (!unet_bind_table (ld, prefix, basic_block_keys,
                            G_N_ELEMENTS (basic_block_keys), dims,
                            &t->blocks[j], error))
        return FALSE;
    }
  return TRUE;
}

/* One block: resnets with input channels @c_in[i], attentions when @attn
 * (heads and depth of config level @level), an optional sampler conv. */
static gboolean
load_block (LfUnet           *u,
            const UnetLoader *ld,
            const char       *prefix,
            int               n_resnets,
            const int64_t    *c_in,
            int64_t           c_out,
            gboolean          attn,
            int               level,
            const char       *sampler,
            UnetBlock        *blk,
            GError          **error)
{
  const UnetConfig *cfg = &u->cfg;
  const int64_t     t_dim = 4 * cfg->channels[0];
  const gboolean    mid = blk == &u->mid;
  const int         n_attn = !attn ? 0 : mid ? n_resnets - 1 : n_resnets;

  blk->n_layers = mid ? n_resnets - 1 : n_resnets;
  blk->resnets = g_new0 (UnetResnet, n_resnets);
  blk->attentions = attn ? g_new0 (UnetTransformer, n_attn) : NULL;
  for (int i = 0; i < n_resnets; i++)
    {
      g_autofree char *p = g_strdup_printf ("%s.resnets.%d", prefix, i);

      if (!load_resnet (ld, p, c_in[i], c_out, t_dim, &blk->resnets[i], error))
        return FALSE;
    }
  for (int i = 0; i < n_attn; i++)
    {
      g_autofree char *p = g_strdup_printf ("%s.attentions.%d", prefix, i);

      if (!load_transformer (ld, cfg, p, c_out, level, &blk->attentions[i],
                             error))
        return FALSE;
      g_ptr_array_add (u->transformers, &blk->attentions[i]);
    }
  if (sampler != NULL)
    {
      g_autofree char *p = g_strdup_printf ("%s.%s.0.conv", prefix, sampler);
      const int64_t    w[4] = { c_out, c_out, 3, 3 }, b[1] = { c_out };

      if (!bind_one (ld, p, "weight", 4, w, &blk->sampler_w, error)
          || !bind_one (ld, p, "bias", 1, b, &blk->sampler_b, error))
        return FALSE;
    }
  return TRUE;
}

/* Down blocks and the mid block; @skips collects the skip channels in the
 * order the forward pushes them. */
static gboolean
load_down_mid (LfUnet *u, const UnetLoader *ld, GArray *skips, GError **error)
{
  const UnetConfig *cfg = &u->cfg;
  const int         n = cfg->n_levels;
  int64_t           c_prev = cfg->channels[0];
  int64_t           c_in[LF_UNET_MAX_LAYERS + 1];

  g_array_append_val (skips, c_prev);
  for (int i = 0; i < n; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("down_blocks.%d", i);
      const int64_t    c = cfg->channels[i];

      for (int j = 0; j < cfg->layers[i]; j++)
        {
          c_in[j] = j == 0 ? c_prev : c;
          g_array_append_val (skips, c);
        }
      if (i < n - 1)
        g_array_append_val (skips, c);
      if (!load_block (u, ld, prefix, (int)cfg->layers[i], c_in, c,
                       cfg->down_attn[i], i, i < n - 1 ? "downsamplers" : NULL,
                       &u->down[i], error))
        return FALSE;
      c_prev = c;
    }
  c_in[0] = c_in[1] = cfg->channels[n - 1];
  return load_block (u, ld, "mid_block", 2, c_in, cfg->channels[n - 1], TRUE,
                     n - 1, NULL, &u->mid, error);
}

static gboolean
skips_mismatch (GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
               _ ("UNet: layers_per_block gives up blocks that do not "
                  "consume the down blocks' skip connections"));
  return FALSE;
}

/* Up block i mirrors level n − 1 − i; resnet j takes the hidden state and
 * the skip popped from @skips (CrossAttnUpBlock2D's res_skip_channels). */
static gboolean
load_up (LfUnet *u, const UnetLoader *ld, GArray *skips, GError **error)
{
  const UnetConfig *cfg = &u->cfg;
  const int         n = cfg->n_levels;
  int64_t           c_prev = cfg->channels[n - 1];
  int64_t           c_in[LF_UNET_MAX_LAYERS + 1];

  for (int i = 0; i < n; i++)
    {
      g_autofree char *prefix = g_strdup_printf ("up_blocks.%d", i);
      const int        level = n - 1 - i;
      const int64_t    c = cfg->channels[level];
      const int        layers = (int)cfg->layers[level] + 1;

      for (int j = 0; j < layers; j++)
        {
          if (skips->len == 0)
            return skips_mismatch (error);
          c_in[j] = (j == 0 ? c_prev : c)
                    + g_array_index (skips, int64_t, skips->len - 1);
          g_array_set_size (skips, skips->len - 1);
        }
      if (!load_block (u, ld, prefix, layers, c_in, c, cfg->up_attn[i], level,
                       i < n - 1 ? "upsamplers" : NULL, &u->up[i], error))
        return FALSE;
      c_prev = c;
    }
  return skips->len == 0 || skips_mismatch (error);
}

/* conv_in and the time embedding: what the ControlNet's copy has too. */
static gboolean
load_head (LfUnet *u, const UnetLoader *ld, GError **error)
{
  const UnetConfig *c = &u->cfg;
  const int64_t     C0 = c->channels[0], T = 4 * C0;
  const int64_t     in_w[4] = { C0, c->in_channels, 3, 3 }, c0[1] = { C0 };
  const int64_t     t[1] = { T }, t1[2] = { T, C0 }, t2[2] = { T, T };

  return bind_one (ld, "conv_in", "weight", 4, in_w, &u->conv_in_w, error)
         && bind_one (ld, "conv_in", "bias", 1, c0, &u->conv_in_b, error)
         && bind_one (ld, "time_embedding", "linear_1.weight", 2, t1,
                      &u->time_1_w, error)
         && bind_one (ld, "time_embedding", "linear_1.bias", 1, t, &u->time_1_b,
                      error)
         && bind_one (ld, "time_embedding", "linear_2.weight", 2, t2,
                      &u->time_2_w, error)
         && bind_one (ld, "time_embedding", "linear_2.bias", 1, t, &u->time_2_b,
                      error);
}

static gboolean
load_tail (LfUnet *u, const UnetLoader *ld, GError **error)
{
  const UnetConfig *c = &u->cfg;
  const int64_t     C0 = c->channels[0], c0[1] = { C0 };
  const int64_t     out_w[4] = { c->out_channels, C0, 3, 3 };
  const int64_t     out_b[1] = { c->out_channels };

  return bind_one (ld, "conv_norm_out", "weight", 1, c0, &u->norm_out_gamma,
                   error)
         && bind_one (ld, "conv_norm_out", "bias", 1, c0, &u->norm_out_beta,
                      error)
         && bind_one (ld, "conv_out", "weight", 4, out_w, &u->conv_out_w, error)
         && bind_one (ld, "conv_out", "bias", 1, out_b, &u->conv_out_b, error);
}

LfUnet *
lf_unet_load (const LfComponent *comp,
              const LfConfig    *cfg,
              LfOps             *ops,
              GError           **error)
{
  g_autoptr (LfUnet) u = NULL;
  g_autoptr (GArray) skips = g_array_new (FALSE, FALSE, sizeof (int64_t));
  UnetLoader ld;

  g_return_val_if_fail (comp != NULL && ops != NULL, NULL);
  if (cfg == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: the UNet has no config.json"),
                   lf_component_get_name (comp));
      return NULL;
    }
  u = g_new0 (LfUnet, 1);
  u->ops = ops;
  u->store = lf_weight_store_new (ops);
  u->transformers = g_ptr_array_new ();
  ld = (UnetLoader){ u->store, comp };
  if (!unet_config_parse (cfg, &u->cfg, error) || !load_head (u, &ld, error)
      || !load_down_mid (u, &ld, skips, error)
      || !load_up (u, &ld, skips, error) || !load_tail (u, &ld, error))
    return NULL;
  return g_steal_pointer (&u);
}

LfUnet *
lf_unet_load_encoder (const LfComponent *comp,
                      const LfConfig    *cfg,
                      LfOps             *ops,
                      GError           **error)
{
  g_autoptr (LfUnet) u = NULL;
  g_autoptr (GArray) skips = g_array_new (FALSE, FALSE, sizeof (int64_t));
  UnetLoader ld;

  g_return_val_if_fail (comp != NULL && cfg != NULL && ops != NULL, NULL);
  u = g_new0 (LfUnet, 1);
  u->ops = ops;
  u->store = lf_weight_store_new (ops);
  u->transformers = g_ptr_array_new ();
  u->encoder_only = TRUE;
  ld = (UnetLoader){ u->store, comp };
  if (!unet_config_parse_encoder (cfg, &u->cfg, error)
      || !load_head (u, &ld, error) || !load_down_mid (u, &ld, skips, error))
    return NULL;
  return g_steal_pointer (&u);
}

/* ---- Plan ------------------------------------------------------------- */

/* The forward's arena use, replayed: persistent tensors stay, block
 * temporaries are released after each block. */
typedef struct
{
  size_t used, peak;
} Plan;

static void
plan_keep (Plan *p, size_t bytes)
{
  p->used += bytes;
  p->peak = MAX (p->peak, p->used);
}

static void
plan_temp (Plan *p, size_t bytes)
{
  p->peak = MAX (p->peak, p->used + bytes);
}

static int64_t
max_mid (const LfUnet *u)
{
  return u->linfusion != NULL ? u->linfusion->max_mid : 0;
}

/* The latent side at @level: each Downsample2D (3×3, stride 2, padding 1)
 * gives ceil (n / 2), so any multiple of 8 pixels works, as in diffusers. */
static inline int64_t
level_side (int64_t n, int level)
{
  return (n + ((int64_t)1 << level) - 1) >> level;
}

static inline int64_t
level_hw (int64_t h, int64_t w, int level)
{
  return level_side (h, level) * level_side (w, level);
}

/* Floats of the one buffer the mid and up blocks write their hidden state
 * into: the largest block output, upsampled ones included. */
static int64_t
slot_floats (const LfUnet *u, int64_t B, int64_t h, int64_t w)
{
  const int n = u->cfg.n_levels;
  int64_t   f = B * u->cfg.channels[n - 1] * level_hw (h, w, n - 1);

  for (int i = 0; !u->encoder_only && i < n; i++)
    {
      const int level = n - 1 - i;

      /* up block i ends at the next level's size when it upsamples */
      f = MAX (f, B * u->cfg.channels[level]
                      * level_hw (h, w, i < n - 1 ? level - 1 : level));
    }
  return f;
}

static void
plan_down_mid (
    const LfUnet *u, Plan *p, int64_t B, int64_t h, int64_t w, int64_t L)
{
  const int n = u->cfg.n_levels;
  int64_t   hw;

  for (int i = 0; i < n; i++)
    {
      const UnetBlock *blk = &u->down[i];
      const int64_t    c = u->cfg.channels[i];

      hw = level_hw (h, w, i);
      for (int j = 0; j < blk->n_layers; j++)
        {
          plan_keep (p, unet_bytes (B * c * hw));
          plan_temp (p, unet_resnet_plan (&blk->resnets[j], B, hw));
          if (blk->attentions != NULL)
            plan_temp (p, unet_transformer_plan (&blk->attentions[j], B, hw, L,
                                                 max_mid (u)));
        }
      if (blk->sampler_w.data != NULL)
        plan_keep (p, unet_bytes (B * c * level_hw (h, w, i + 1)));
    }
  hw = level_hw (h, w, n - 1);
  plan_keep (p, unet_bytes (B * u->cfg.channels[n - 1] * hw));
  plan_keep (p, unet_bytes (slot_floats (u, B, h, w)));
  for (int j = 0; j <= u->mid.n_layers; j++)
    {
      plan_temp (p, unet_resnet_plan (&u->mid.resnets[j], B, hw));
      if (j < u->mid.n_layers)
        plan_temp (p, unet_transformer_plan (&u->mid.attentions[j], B, hw, L,
                                             max_mid (u)));
    }
}

size_t
lf_unet_plan (const LfUnet *unet,
              int64_t       batch,
              int64_t       h,
              int64_t       w,
              int64_t       context_len)
{
  const int64_t B = batch, C0 = unet->cfg.channels[0], T = 4 * C0;
  const int     n = unet->cfg.n_levels;
  Plan          p = { 0, 0 };

  plan_keep (&p, unet_bytes (B * T));
  plan_temp (&p, unet_bytes (B * C0) + unet_bytes (B * T));
  plan_keep (&p, unet_bytes (B * C0 * h * w));
  plan_down_mid (unet, &p, B, h, w, context_len);
  if (unet->encoder_only)
    return p.peak; /* lf_unet_encode stops after the mid block */
  for (int i = 0; i < n; i++)
    {
      const UnetBlock *blk = &unet->up[i];
      const int        level = n - 1 - i;
      const int64_t    hw = level_hw (h, w, level);

      for (int j = 0; j < blk->n_layers; j++)
        {
          plan_temp (&p, unet_bytes (B * blk->resnets[j].c_in * hw)
                             + unet_resnet_plan (&blk->resnets[j], B, hw));
          if (blk->attentions != NULL)
            plan_temp (&p, unet_transformer_plan (&blk->attentions[j], B, hw,
                                                  context_len, max_mid (unet)));
        }
      if (blk->sampler_w.data != NULL)
        plan_temp (&p, unet_bytes (B * blk->resnets[0].c_out
                                   * level_hw (h, w, level - 1)));
    }
  plan_temp (&p, unet_bytes (B * C0 * h * w));
  return p.peak;
}

/* ---- Forward ---------------------------------------------------------- */

static void
debug_tensor (const LfUnet *u, const LfTensor *t, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
debug_tensor (const LfUnet *u, const LfTensor *t, const char *format, ...)
{
  char    name[64];
  va_list args;

  if (u->debug == NULL)
    return;
  va_start (args, format);
  g_vsnprintf (name, sizeof name, format, args);
  va_end (args);
  u->debug (name, t, u->debug_data);
}

static LfTensor
carve4 (LfArena *arena, int64_t B, int64_t C, int64_t H, int64_t W)
{
  const int64_t shape[4] = { B, C, H, W };

  return unet_carve (arena, 4, shape);
}

/* Timesteps → sinusoids → Linear, SiLU, Linear; the ResNets only ever use
 * silu (emb), so that is what is kept. */
static void
time_embedding (const LfUnet *u, LfArena *arena, const float *t, LfTensor *y)
{
  LfOps        *ops = u->ops;
  const int64_t B = y->shape[0], C0 = u->cfg.channels[0];
  const size_t  mark = lf_arena_mark (arena);
  LfTensor      tt = lf_tensor_1d ((void *)t, LF_DTYPE_F32, B);
  const int64_t s_emb[2] = { B, C0 }, s_t1[2] = { B, 4 * C0 };
  LfTensor      emb = unet_carve (arena, 2, s_emb);
  LfTensor      t1 = unet_carve (arena, 2, s_t1);

  ops->timestep_embedding (ops, &tt, u->cfg.flip_sin_to_cos,
                           (float)u->cfg.freq_shift, 10000.0f, &emb);
  debug_tensor (u, &emb, "time_proj");
  ops->linear (ops, &emb, &u->time_1_w, &u->time_1_b, &t1);
  ops->silu (ops, &t1, &t1);
  ops->linear (ops, &t1, &u->time_2_w, &u->time_2_b, y);
  debug_tensor (u, y, "time_embedding");
  ops->silu (ops, y, y);
  lf_arena_reset (arena, mark);
}

/* CrossAttnDownBlock2D / DownBlock2D: every output is a skip connection. */
static gboolean
down_block (const LfUnet  *u,
            const UnetRun *run,
            int            i,
            LfTensor      *skips,
            int           *n_skips,
            GError       **error)
{
  const UnetBlock *blk = &u->down[i];
  LfTensor         h = skips[*n_skips - 1];
  const int64_t    B = h.shape[0], H = h.shape[2], W = h.shape[3];
  const int64_t    c = u->cfg.channels[i];
  char             what[32];

  for (int j = 0; j < blk->n_layers; j++)
    {
      LfTensor out = carve4 (run->arena, B, c, H, W);

      unet_resnet_forward (run, &blk->resnets[j], &h, &out);
      if (blk->attentions != NULL)
        unet_transformer_forward (run, &blk->attentions[j], &out);
      skips[(*n_skips)++] = h = out;
      debug_tensor (u, &h, "down_blocks.%d.res_%d", i, j);
    }
  if (blk->sampler_w.data != NULL)
    {
      LfTensor out = carve4 (run->arena, B, c, (H + 1) / 2, (W + 1) / 2);

      unet_downsample_forward (run->ops, &blk->sampler_w, &blk->sampler_b, &h,
                               &out);
      skips[(*n_skips)++] = h = out;
      debug_tensor (u, &h, "down_blocks.%d.res_%d", i, blk->n_layers);
    }
  debug_tensor (u, &h, "down_blocks.%d", i);
  g_snprintf (what, sizeof what, "UNet down_blocks.%d", i);
  return lf_ops_take_error (run->ops, what, error);
}

/* UNetMidBlock2DCrossAttn: resnets[0], then (attentions[l], resnets[l + 1]),
 * alternating between @slot and @spare. */
static gboolean
mid_block (const LfUnet  *u,
           const UnetRun *run,
           float         *slot,
           LfTensor      *spare,
           LfTensor      *h,
           GError       **error)
{
  const UnetBlock *blk = &u->mid;
  LfTensor  a = lf_tensor_4d (slot, LF_DTYPE_F32, h->shape[0], h->shape[1],
                              h->shape[2], h->shape[3]);
  LfTensor *cur = &a, *next = spare;

  unet_resnet_forward (run, &blk->resnets[0], h, cur);
  for (int l = 0; l < blk->n_layers; l++)
    {
      LfTensor *t = cur;

      unet_transformer_forward (run, &blk->attentions[l], cur);
      unet_resnet_forward (run, &blk->resnets[l + 1], cur, next);
      cur = next, next = t;
    }
  *h = *cur;
  debug_tensor (u, h, "mid_block");
  return lf_ops_take_error (run->ops, "UNet mid_block", error);
}

/* CrossAttnUpBlock2D / UpBlock2D: each resnet reads cat (hidden, skip)
 * (hidden first, as torch.cat in diffusers); outputs go to @slot. */
static gboolean
up_block (const LfUnet  *u,
          const UnetRun *run,
          int            i,
          LfTensor      *skips,
          int           *n_skips,
          float         *slot,
          LfTensor      *h,
          GError       **error)
{
  LfOps           *ops = run->ops;
  const UnetBlock *blk = &u->up[i];
  const int64_t    B = h->shape[0], H = h->shape[2], W = h->shape[3];
  const int64_t    c = blk->resnets[0].c_out;
  char             what[32];

  for (int j = 0; j < blk->n_layers; j++)
    {
      const LfTensor *s = &skips[--(*n_skips)];
      const size_t    mark = lf_arena_mark (run->arena);
      LfTensor cat = carve4 (run->arena, B, h->shape[1] + s->shape[1], H, W);
      LfTensor out = lf_tensor_4d (slot, LF_DTYPE_F32, B, c, H, W);

      ops->concat_channels (ops, h, s, &cat);
      unet_resnet_forward (run, &blk->resnets[j], &cat, &out);
      lf_arena_reset (run->arena, mark);
      if (blk->attentions != NULL)
        unet_transformer_forward (run, &blk->attentions[j], &out);
      *h = out;
    }
  if (blk->sampler_w.data != NULL)
    {
      /* diffusers' forward_upsample_size: to the size of the skip the next
       * block reads first (2H × 2W when the latent divides evenly). */
      const LfTensor *next = &skips[*n_skips - 1];
      const int64_t   H2 = next->shape[2], W2 = next->shape[3];
      const size_t    mark = lf_arena_mark (run->arena);
      LfTensor        tmp = carve4 (run->arena, B, c, H2, W2);
      LfTensor        out = lf_tensor_4d (slot, LF_DTYPE_F32, B, c, H2, W2);

      /* h lives in the slot too; the nearest ×2 copy frees it first. */
      unet_upsample_forward (ops, &blk->sampler_w, &blk->sampler_b, h, &tmp,
                             &out);
      lf_arena_reset (run->arena, mark);
      *h = out;
    }
  debug_tensor (u, h, "up_blocks.%d", i);
  g_snprintf (what, sizeof what, "UNet up_blocks.%d", i);
  return lf_ops_take_error (ops, what, error);
}

static gboolean
check_request (const LfUnet   *u,
               const LfTensor *x,
               LfArena        *scratch,
               int64_t         L,
               GError        **error)
{
  const size_t need
      = lf_unet_plan (u, x->shape[0], x->shape[2], x->shape[3], L);
  const size_t left = lf_arena_capacity (scratch) - lf_arena_used (scratch);

  if (need > left)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("UNet at %lld×%lld latents needs %.1f MiB of working "
                      "memory; %.1f MiB are left"),
                   (long long)x->shape[3], (long long)x->shape[2],
                   need / 1048576.0, left / 1048576.0);
      return FALSE;
    }
  return TRUE;
}

/* The skips' channels and latent level, in push order. */
static void
skip_levels (const LfUnet *u, int64_t *channels, int *levels, int *n)
{
  const int n_levels = u->cfg.n_levels;

  *n = 0;
  channels[*n] = u->cfg.channels[0], levels[(*n)++] = 0;
  for (int i = 0; i < n_levels; i++)
    {
      for (int j = 0; j < u->down[i].n_layers; j++)
        channels[*n] = u->cfg.channels[i], levels[(*n)++] = i;
      if (u->down[i].sampler_w.data != NULL)
        channels[*n] = u->cfg.channels[i], levels[(*n)++] = i + 1;
    }
}

int
lf_unet_get_n_skips (const LfUnet *unet)
{
  int64_t c[LF_UNET_MAX_SKIPS];
  int     l[G_N_ELEMENTS (c)], n;

  skip_levels (unet, c, l, &n);
  return n;
}

void
lf_unet_skip_shape (const LfUnet *unet,
                    int           i,
                    int64_t       batch,
                    int64_t       h,
                    int64_t       w,
                    int64_t       shape[4])
{
  int64_t c[LF_UNET_MAX_SKIPS];
  int     l[G_N_ELEMENTS (c)], n;

  skip_levels (unet, c, l, &n);
  if (i >= n) /* the mid block's output */
    {
      const int last = unet->cfg.n_levels - 1;

      shape[0] = batch, shape[1] = unet->cfg.channels[last];
      shape[2] = level_side (h, last), shape[3] = level_side (w, last);
      return;
    }
  shape[0] = batch, shape[1] = c[i];
  shape[2] = level_side (h, l[i]), shape[3] = level_side (w, l[i]);
}

static gboolean
same_shape (const LfTensor *a, const LfTensor *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d])
      return FALSE;
  return TRUE;
}

static gboolean
check_extras (const LfUnet       *u,
              const LfUnetExtras *ex,
              const LfTensor     *x,
              GError            **error)
{
  const int n = lf_unet_get_n_skips (u);

  if (ex->down_residuals == NULL && ex->mid_residual == NULL)
    return TRUE;
  if (ex->down_residuals == NULL || ex->mid_residual == NULL
      || ex->n_down_residuals != n)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("UNet: %d ControlNet residuals for %d skip connections"),
                   ex->n_down_residuals, n);
      return FALSE;
    }
  for (int i = 0; i <= n; i++)
    {
      const LfTensor *r = i < n ? &ex->down_residuals[i] : ex->mid_residual;
      int64_t         shape[4];
      LfTensor        want;

      lf_unet_skip_shape (u, i, x->shape[0], x->shape[2], x->shape[3], shape);
      want = lf_tensor_make (NULL, LF_DTYPE_F32, 4, shape);
      if (!same_shape (r, &want))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                       _ ("UNet: ControlNet residual %d has the wrong shape "
                          "(%lld channels for %lld)"),
                       i, (long long)r->shape[1], (long long)shape[1]);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
lf_unet_forward (LfUnet         *unet,
                 const LfTensor *x,
                 const float    *t,
                 const LfTensor *context,
                 LfArena        *scratch,
                 LfTensor       *out,
                 GError        **error)
{
  return lf_unet_forward_with (unet, x, t, context, NULL, scratch, out, error);
}

/* The forward's first half, shared with the ControlNet: what it leaves in
 * the arena for the second. */
typedef struct
{
  LfTensor temb; /* (B, T) silu (time embedding) */
  UnetRun  run;
  LfTensor skips[LF_UNET_MAX_SKIPS];
  int      n_skips;
  LfTensor h;    /* the mid block's output */
  float   *slot; /* where the mid and up blocks write */
} UnetEncoded;

/* Time embedding, conv_in (+ @cond), down blocks, mid block. */
static gboolean
encode (LfUnet             *unet,
        const LfTensor     *x,
        const float        *t,
        const LfTensor     *context,
        const LfTensor     *cond,
        const LfUnetExtras *extras,
        LfArena            *scratch,
        UnetEncoded        *e,
        GError            **error)
{
  const UnetConfig *cfg = &unet->cfg;
  LfOps            *ops = unet->ops;
  const int64_t     B = x->shape[0], H = x->shape[2], W = x->shape[3];
  LfTensor          spare;
  gboolean          ok;

  e->n_skips = 0;
  e->temb = unet_carve (scratch, 2, (int64_t[]){ B, 4 * cfg->channels[0] });
  e->run = (UnetRun){ .ops = ops,
                      .arena = scratch,
                      .groups = cfg->groups,
                      .eps = (float)cfg->eps,
                      .temb_silu = &e->temb,
                      .context = context,
                      .max_mid = max_mid (unet),
                      .ip_tokens = extras->ip_tokens,
                      .ip_scale = extras->ip_scale };
  time_embedding (unet, scratch, t, &e->temb);
  e->skips[e->n_skips++] = carve4 (scratch, B, cfg->channels[0], H, W);
  ops->conv2d (ops, x, &unet->conv_in_w, &unet->conv_in_b,
               &(LfConv2dParams){ 1, 1, 1, 1, 1, 1 }, &e->skips[0]);
  if (cond != NULL)
    {
      /* One conditioning for the whole batch: a stride-0 view. */
      LfTensor c = *cond;

      c.shape[0] = B, c.stride[0] = 0;
      ops->add (ops, &e->skips[0], &c, &e->skips[0]);
    }
  debug_tensor (unet, &e->skips[0], "conv_in");
  ok = lf_ops_take_error (ops, "UNet time embedding and conv_in", error);
  for (int i = 0; ok && i < cfg->n_levels; i++)
    ok = down_block (unet, &e->run, i, e->skips, &e->n_skips, error);
  if (!ok)
    return FALSE;
  e->h = e->skips[e->n_skips - 1];
  spare = carve4 (scratch, B, e->h.shape[1], e->h.shape[2], e->h.shape[3]);
  e->slot = unet_carve (scratch, 1, (int64_t[]){ slot_floats (unet, B, H, W) })
                .data;
  return mid_block (unet, &e->run, e->slot, &spare, &e->h, error);
}

gboolean
lf_unet_encode (LfUnet         *unet,
                const LfTensor *x,
                const float    *t,
                const LfTensor *context,
                const LfTensor *cond,
                LfArena        *scratch,
                LfTensor       *skips,
                LfTensor       *mid,
                GError        **error)
{
  static const LfUnetExtras none = { 0 };
  const UnetConfig         *cfg = &unet->cfg;
  UnetEncoded               e;

  g_return_val_if_fail (x->ndim == 4 && x->shape[1] == cfg->in_channels, FALSE);
  g_return_val_if_fail (context->ndim == 3 && context->shape[0] == x->shape[0]
                            && context->shape[2] == cfg->cross_dim,
                        FALSE);
  g_return_val_if_fail (cond == NULL
                            || (cond->ndim == 4 && cond->shape[0] == 1
                                && cond->shape[1] == cfg->channels[0]
                                && cond->shape[2] == x->shape[2]
                                && cond->shape[3] == x->shape[3]),
                        FALSE);
  if (!encode (unet, x, t, context, cond, &none, scratch, &e, error))
    return FALSE;
  memcpy (skips, e.skips, sizeof (LfTensor) * e.n_skips);
  *mid = e.h;
  return TRUE;
}

gboolean
lf_unet_forward_with (LfUnet             *unet,
                      const LfTensor     *x,
                      const float        *t,
                      const LfTensor     *context,
                      const LfUnetExtras *extras,
                      LfArena            *scratch,
                      LfTensor           *out,
                      GError            **error)
{
  static const LfUnetExtras none = { 0 };
  const UnetConfig         *cfg = &unet->cfg;
  LfOps                    *ops = unet->ops;
  const int                 n = cfg->n_levels;
  UnetEncoded               e;
  LfTensor                  tmp;
  size_t                    mark;
  gboolean                  ok;

  g_return_val_if_fail (!unet->encoder_only, FALSE);
  g_return_val_if_fail (x->ndim == 4 && x->shape[1] == cfg->in_channels, FALSE);
  g_return_val_if_fail (context->ndim == 3 && context->shape[0] == x->shape[0]
                            && context->shape[2] == cfg->cross_dim,
                        FALSE);
  g_return_val_if_fail (out->ndim == 4 && out->shape[1] == cfg->out_channels,
                        FALSE);
  if (extras == NULL)
    extras = &none;
  if (!check_request (unet, x, scratch, context->shape[1], error)
      || !check_extras (unet, extras, x, error))
    return FALSE;
  mark = lf_arena_mark (scratch);
  ok = encode (unet, x, t, context, NULL, extras, scratch, &e, error);
  /* diffusers adds the residuals to the skips only: the mid block has read
   * the last down block's plain output (it does not write its input). */
  for (int i = 0; ok && extras->down_residuals != NULL && i < e.n_skips; i++)
    ops->add (ops, &e.skips[i], &extras->down_residuals[i], &e.skips[i]);
  if (ok && extras->mid_residual != NULL)
    ops->add (ops, &e.h, extras->mid_residual, &e.h);
  for (int i = 0; ok && i < n; i++)
    ok = up_block (unet, &e.run, i, e.skips, &e.n_skips, e.slot, &e.h, error);

  if (ok)
    {
      tmp = carve4 (scratch, x->shape[0], cfg->channels[0], x->shape[2],
                    x->shape[3]);
      ops->group_norm_silu (ops, &e.h, &unet->norm_out_gamma,
                            &unet->norm_out_beta, (int)cfg->groups,
                            (float)cfg->eps, &tmp);
      ops->conv2d (ops, &tmp, &unet->conv_out_w, &unet->conv_out_b,
                   &(LfConv2dParams){ 1, 1, 1, 1, 1, 1 }, out);
      ok = lf_ops_take_error (ops, "UNet conv_out", error);
    }
  lf_arena_reset (scratch, mark);
  return ok;
}

/* ---- Free and accessors ---------------------------------------------- */

static void
block_free (UnetBlock *blk, int n_attn)
{
  g_free (blk->resnets);
  for (int i = 0; blk->attentions != NULL && i < n_attn; i++)
    {
      g_free (blk->attentions[i].name);
      g_free (blk->attentions[i].blocks);
    }
  g_free (blk->attentions);
}

void
lf_unet_free (LfUnet *unet)
{
  if (unet == NULL)
    return;
  for (int i = 0; i < LF_UNET_MAX_LEVELS; i++)
    {
      block_free (&unet->down[i], unet->down[i].n_layers);
      block_free (&unet->up[i], unet->up[i].n_layers);
    }
  block_free (&unet->mid, unet->mid.n_layers);
  g_ptr_array_unref (unet->transformers);
  lf_linfusion_free (unet->linfusion);
  lf_weight_store_free (unet->store);
  g_free (unet);
}

int64_t
lf_unet_get_in_channels (const LfUnet *unet)
{
  return unet->cfg.in_channels;
}

int64_t
lf_unet_get_cross_attention_dim (const LfUnet *unet)
{
  return unet->cfg.cross_dim;
}

void
lf_unet_set_debug (LfUnet *unet, LfUnetDebugFn fn, gpointer user_data)
{
  unet->debug = fn;
  unet->debug_data = user_data;
}

const UnetTransformer *
lf_unet_lookup_transformer (const LfUnet *unet, const char *name)
{
  for (guint i = 0; i < unet->transformers->len; i++)
    {
      const UnetTransformer *t = g_ptr_array_index (unet->transformers, i);

      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}
