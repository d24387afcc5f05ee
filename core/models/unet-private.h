/* unet-private.h: what unet.c, unet-blocks.c and linfusion.c share: the
 * weight structs of the diffusers blocks (ResnetBlock2D, Transformer2DModel,
 * BasicTransformerBlock, Attention, LinFusion's GeneralizedLinearAttention),
 * their forwards and their activation plans, and a debug hook for tests.
 */
#ifndef LF_UNET_PRIVATE_H
#define LF_UNET_PRIVATE_H

#include <glib.h>

#include "arena.h"
#include "unet.h"
#include "weights.h"

G_BEGIN_DECLS

#define LF_UNET_MAX_LEVELS 8

/* Token rows per chunk of the feed-forward and LinFusion MLPs: GEGLU's 8C
 * hidden width never exists for the whole canvas at once. */
#define LF_UNET_CHUNK_TOKENS 4096

/* Every shape is validated at load time; binding runs through this. */
typedef struct
{
  LfWeightStore     *store;
  const LfComponent *comp;
} UnetLoader;

/* One key of a weight table: a tensor at @offset in the struct, its shape
 * with symbolic sizes (negative: an index into the dims array given to
 * unet_bind_table, minus one) and literal ones. */
typedef struct
{
  const char *suffix;
  size_t      offset;
  int         ndim;
  int64_t     shape[4];
} UnetKey;

gboolean unet_bind_table (const UnetLoader *ld,
                          const char       *prefix,
                          const UnetKey    *keys,
                          gsize             n_keys,
                          const int64_t    *dims,
                          void             *base,
                          GError          **error);

/* ---- ResnetBlock2D ---------------------------------------------------- */

typedef struct
{
  int64_t  c_in, c_out;
  LfTensor norm1_gamma, norm1_beta; /* (C_in) */
  LfTensor conv1_w;                 /* (C_out, C_in, 3, 3) */
  LfTensor conv1_b;                 /* (C_out) */
  LfTensor temb_w;                  /* (C_out, T) time_emb_proj */
  LfTensor temb_b;                  /* (C_out) */
  LfTensor norm2_gamma, norm2_beta; /* (C_out) */
  LfTensor conv2_w;                 /* (C_out, C_out, 3, 3) */
  LfTensor conv2_b;                 /* (C_out) */
  LfTensor shortcut_w; /* (C_out, C_in) from (C_out, C_in, 1, 1); C_in≠C_out */
  LfTensor shortcut_b; /* (C_out); data NULL when C_in == C_out */
} UnetResnet;

/* ---- Attention (diffusers Attention, AttnProcessor) -------------------- */

typedef struct
{
  LfTensor to_q;  /* (C, C), no bias */
  LfTensor to_k;  /* (C, D), D = C (attn1) or cross_attention_dim (attn2) */
  LfTensor to_v;  /* (C, D) */
  LfTensor out_w; /* (C, C) to_out.0 */
  LfTensor out_b; /* (C) */
  /* IP-Adapter's decoupled cross-attention (attn2 only): (C, D_ip), no
   * bias; data NULL when no adapter is mounted. Views of the adapter's
   * weights (lf_ip_adapter_mount / _unmount). */
  LfTensor to_k_ip, to_v_ip;
  int64_t  n_ip_tokens; /* T the forward's plan reserves for; 0 unmounted */
} UnetAttention;

/* ---- LinFusion GeneralizedLinearAttention ------------------------------ */

/* to_q_ / to_k_: Linear → LayerNorm → LeakyReLU(0.01) → Linear. */
typedef struct
{
  LfTensor in_w;              /* (M, C) .0 */
  LfTensor in_b;              /* (M) */
  LfTensor ln_gamma, ln_beta; /* (M) .1 */
  LfTensor out_w;             /* (C, M) .3 */
  LfTensor out_b;             /* (C) */
} LinfusionMlp;

typedef struct
{
  char        *module_name; /* diffusers path of the attn1 it replaces */
  int64_t      dim, heads, mid;
  LfTensor     to_q, to_k, to_v; /* (C, C), no bias */
  LfTensor     out_w;            /* (C, C) to_out.0 */
  LfTensor     out_b;            /* (C) */
  LinfusionMlp mlp_q, mlp_k;
} LinfusionModule;

typedef struct
{
  LfWeightStore   *store;
  LinfusionModule *modules; /* n_modules */
  int              n_modules;
  int64_t          max_mid;
} Linfusion;

/* ---- Transformer2DModel / BasicTransformerBlock ------------------------ */

typedef struct
{
  LfTensor               norm1_gamma, norm1_beta; /* (C) */
  LfTensor               norm2_gamma, norm2_beta; /* (C) */
  LfTensor               norm3_gamma, norm3_beta; /* (C) */
  UnetAttention          attn1, attn2;
  LfTensor               ff_in_w;   /* (8C, C) ff.net.0.proj (GEGLU) */
  LfTensor               ff_in_b;   /* (8C) */
  LfTensor               ff_out_w;  /* (C, 4C) ff.net.2 */
  LfTensor               ff_out_b;  /* (C) */
  const LinfusionModule *linfusion; /* replaces attn1 when set */
} UnetBasicBlock;

typedef struct
{
  char           *name; /* "down_blocks.0.attentions.1" */
  int64_t         channels, heads;
  int             depth;
  LfTensor        norm_gamma, norm_beta; /* (C) GroupNorm, eps 1e-6 */
  LfTensor        proj_in_w;  /* (C, C): a 1×1 conv or a Linear, same math */
  LfTensor        proj_in_b;  /* (C) */
  LfTensor        proj_out_w; /* (C, C) */
  LfTensor        proj_out_b; /* (C) */
  UnetBasicBlock *blocks;     /* depth */
} UnetTransformer;

typedef void (*LfUnetDebugFn) (const char     *name,
                               const LfTensor *t,
                               gpointer        user_data);

/* ---- The model ----------------------------------------------------- */

#define LF_UNET_MAX_LAYERS 8 /* layers_per_block */
#define LF_UNET_MAX_SKIPS  (1 + LF_UNET_MAX_LEVELS * (LF_UNET_MAX_LAYERS + 1))

typedef struct
{
  int64_t  in_channels, out_channels;
  int      n_levels;
  int64_t  channels[LF_UNET_MAX_LEVELS];  /* block_out_channels */
  gboolean down_attn[LF_UNET_MAX_LEVELS]; /* CrossAttnDownBlock2D */
  gboolean up_attn[LF_UNET_MAX_LEVELS];   /* CrossAttnUpBlock2D, up order */
  int64_t  layers[LF_UNET_MAX_LEVELS];    /* layers_per_block, down order */
  int64_t  heads[LF_UNET_MAX_LEVELS];     /* attention heads, down order */
  int64_t  depth[LF_UNET_MAX_LEVELS];     /* transformer_layers_per_block */
  int64_t  cross_dim;                     /* cross_attention_dim */
  gboolean linear_proj;                   /* use_linear_projection */
  int64_t  groups;                        /* norm_num_groups */
  double   eps;                           /* norm_eps */
  gboolean flip_sin_to_cos;
  double   freq_shift;
} UnetConfig;

/* One down, mid or up block: resnets[i] then attentions[i] (the mid block
 * runs resnets[0], then attentions[i], resnets[i + 1]). */
typedef struct
{
  int              n_layers;
  UnetResnet      *resnets;    /* n_layers (+ 1 in the mid block) */
  UnetTransformer *attentions; /* n_layers, or NULL (DownBlock2D…) */
  LfTensor         sampler_w; /* (C, C, 3, 3) down/upsampler; NULL data: none */
  LfTensor         sampler_b; /* (C) */
} UnetBlock;

struct _LfUnet
{
  UnetConfig     cfg;
  LfOps         *ops;
  LfWeightStore *store;
  LfTensor       conv_in_w; /* (C0, C_in, 3, 3) */
  LfTensor       conv_in_b; /* (C0) */
  LfTensor       time_1_w;  /* (T, C0) time_embedding.linear_1, T = 4·C0 */
  LfTensor       time_1_b;  /* (T) */
  LfTensor       time_2_w;  /* (T, T) time_embedding.linear_2 */
  LfTensor       time_2_b;  /* (T) */
  UnetBlock      down[LF_UNET_MAX_LEVELS];
  UnetBlock      mid;
  UnetBlock      up[LF_UNET_MAX_LEVELS];
  LfTensor       norm_out_gamma, norm_out_beta; /* (C0) conv_norm_out */
  LfTensor       conv_out_w;                    /* (C_out, C0, 3, 3) */
  LfTensor       conv_out_b;                    /* (C_out) */
  gboolean       encoder_only; /* ControlNet: no up blocks and no conv_out */
  GPtrArray     *transformers; /* UnetTransformer *, every attentions.i */
  Linfusion     *linfusion;    /* (nullable) mounted modules */
  LfUnetDebugFn  debug;
  gpointer       debug_data;
};

/* Reads unet/config.json; LF_ERROR_UNSUPPORTED naming the key for what the
 * forward cannot run (unet-config.c). */
gboolean
unet_config_parse (const LfConfig *cfg, UnetConfig *out, GError **error);
/* The same for an encoder-only copy (ControlNetModel's config.json): no
 * up_block_types, and out_channels is not read. */
gboolean unet_config_parse_encoder (const LfConfig *cfg,
                                    UnetConfig     *out,
                                    GError        **error);

/* ---- Forward context -------------------------------------------------- */

typedef struct
{
  LfOps          *ops;
  LfArena        *arena;
  int64_t         groups;    /* norm_num_groups */
  float           eps;       /* norm_eps of the ResNets */
  const LfTensor *temb_silu; /* (B, T) silu (time_embedding (t)) */
  const LfTensor *context;   /* (B, L, D) */
  int64_t         max_mid;   /* widest LinFusion MLP mounted, 0 without */
  const LfTensor *ip_tokens; /* (B, T, D_ip) IP-Adapter tokens, or NULL */
  float           ip_scale;
} UnetRun;

/* A contiguous f32 tensor from the arena; lf_unet_forward checked the
 * capacity against the plan, so a failure here is a bug. */
LfTensor unet_carve (LfArena *arena, int ndim, const int64_t *shape);
size_t   unet_bytes (int64_t n_floats); /* padded, as the arena counts */

/* y (B, C_out, H, W) = ResnetBlock2D (x (B, C_in, H, W)); y ≠ x. */
void   unet_resnet_forward (const UnetRun    *run,
                            const UnetResnet *r,
                            const LfTensor   *x,
                            LfTensor         *y);
size_t unet_resnet_plan (const UnetResnet *r, int64_t batch, int64_t hw);

/* x (B, C, H, W) ← Transformer2DModel (x), in place (the residual is x).
 * With run->ip_tokens, each attn2 that has an IP-Adapter mounted adds
 * ip_scale · attention (q, to_k_ip (tokens), to_v_ip (tokens)) before its
 * to_out (diffusers IPAdapterAttnProcessor); tokens that do not fit the
 * mounted adapter record LF_STATUS_INVALID. */
void   unet_transformer_forward (const UnetRun         *run,
                                 const UnetTransformer *t,
                                 LfTensor              *x);
size_t unet_transformer_plan (const UnetTransformer *t,
                              int64_t                batch,
                              int64_t                hw,
                              int64_t                context_len,
                              int64_t                max_mid);

/* Downsample2D: 3×3 conv, stride 2, padding 1. y (B, C, H/2, W/2). */
void unet_downsample_forward (LfOps          *ops,
                              const LfTensor *w,
                              const LfTensor *b,
                              const LfTensor *x,
                              LfTensor       *y);
/* Upsample2D: nearest ×2 into @tmp (B, C, 2H, 2W), then a 3×3 conv into y. */
void unet_upsample_forward (LfOps          *ops,
                            const LfTensor *w,
                            const LfTensor *b,
                            const LfTensor *x,
                            LfTensor       *tmp,
                            LfTensor       *y);

/* y = x · wᵀ + b, or y += x · wᵀ + b when @accumulate (a residual). */
void unet_linear (LfOps          *ops,
                  const LfTensor *x,
                  const LfTensor *w,
                  const LfTensor *b,
                  LfTensor       *y,
                  gboolean        accumulate);

/* Scratch for one attention call over (B, N, C) tokens: q, k, v (B, N, C)
 * and, for LinFusion, mlp (rows of a chunk × (M + C)). */
typedef struct
{
  LfTensor q, k, v;
  float   *mlp;
  int64_t  mlp_floats;
} UnetAttnScratch;

/* Softmax attention: o = attention (x, context or x) without to_out; then
 * y (=/+=) to_out (o). x (B, N, C) is overwritten with o. context (B, L, D)
 * or NULL for self-attention; then s->k and s->v must be (B, N, C), else
 * (B, L, C). */
void unet_attention_forward (LfOps               *ops,
                             const UnetAttention *a,
                             int64_t              heads,
                             LfTensor            *x,
                             const LfTensor      *context,
                             UnetAttnScratch     *s,
                             LfTensor            *y,
                             gboolean             accumulate);

/* ---- LinFusion (linfusion.c) ------------------------------------------ */

/* Reads a LinFusion folder's modules_list and binds every module. */
Linfusion *lf_linfusion_load (const LfComponent *comp,
                              const LfConfig    *cfg,
                              LfOps             *ops,
                              GError           **error);
void       lf_linfusion_free (Linfusion *lf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Linfusion, lf_linfusion_free)

/* y (=/+=) GeneralizedLinearAttention (x); x (B, N, C) is overwritten.
 * s->mlp holds at least LF_UNET_CHUNK_TOKENS · (M + C) floats. */
void lf_linfusion_forward (LfOps                 *ops,
                           const LinfusionModule *m,
                           LfTensor              *x,
                           UnetAttnScratch       *s,
                           LfTensor              *y,
                           gboolean               accumulate);

/* lf_unet_mount_linfusion; with @skip_absent, modules whose attn1 the UNet
 * does not have are left out instead of refused (an encoder-only copy has
 * no up blocks), and LF_ERROR_FORMAT says so when none is left. */
gboolean lf_unet_mount_linfusion_present (LfUnet            *unet,
                                          const LfComponent *linfusion,
                                          const LfConfig    *cfg,
                                          gboolean           skip_absent,
                                          GError           **error);
/* Back to softmax attn1 everywhere; the modules are freed. */
void lf_unet_unmount_linfusion (LfUnet *unet);

/* ---- Encoder only (the ControlNet's copy of the UNet) ------------------ */

/* Returns: (transfer full) (nullable): conv_in, time_embedding, the down
 * blocks and the mid block of @cfg (see unet_config_parse_encoder) from
 * @comp; no up blocks, conv_norm_out or conv_out. lf_unet_plan of such a
 * UNet covers lf_unet_encode; lf_unet_forward must not be called on it. */
LfUnet *lf_unet_load_encoder (const LfComponent *comp,
                              const LfConfig    *cfg,
                              LfOps             *ops,
                              GError           **error);

/**
 * lf_unet_encode:
 * @x: (B, C_in, h, w)
 * @t: (B) timesteps
 * @context: (B, L, D)
 * @cond: (nullable): (1, C0, h, w), added to conv_in's output of every
 *   batch entry (diffusers ControlNetModel: sample = conv_in (sample) +
 *   controlnet_cond_embedding (cond))
 * @skips: (out): lf_unet_get_n_skips views, the skip connections in the
 *   order the down blocks push them (conv_in's first)
 * @mid: (out): the mid block's output
 *
 * The first half of the forward. The outputs are carved from @scratch
 * after its mark on entry and stay there: the caller resets the arena when
 * it is done with them. @scratch must have lf_unet_plan bytes left; that
 * is not checked here.
 */
gboolean lf_unet_encode (LfUnet         *unet,
                         const LfTensor *x,
                         const float    *t,
                         const LfTensor *context,
                         const LfTensor *cond,
                         LfArena        *scratch,
                         LfTensor       *skips,
                         LfTensor       *mid,
                         GError        **error);

/* ---- Tests ------------------------------------------------------------ */

/* Called with "time_proj", "time_embedding", "conv_in", "down_blocks.i",
 * "down_blocks.i.res_j", "mid_block", "up_blocks.i" during a forward. */
void lf_unet_set_debug (LfUnet *unet, LfUnetDebugFn fn, gpointer user_data);

/* The block at diffusers path @name ("mid_block.attentions.0"…), or NULL. */
const UnetTransformer *lf_unet_lookup_transformer (const LfUnet *unet,
                                                   const char   *name);

G_END_DECLS

#endif /* LF_UNET_PRIVATE_H */
