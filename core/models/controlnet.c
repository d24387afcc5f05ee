/* controlnet.c: diffusers ControlNetModel (0.30.3 models/controlnet.py):
 * loading from a diffusers folder or a ControlNet v1.1 single file (renamed
 * by ldm-names.c as convert_controlnet_checkpoint), the fit check against a
 * UNet, LinFusion on its self-attention, and the forward: the UNet's
 * encoder (unet.c) with the conditioning added after conv_in, then one 1×1
 * zero convolution per skip connection and for the mid block, the scales,
 * and the optional global pooling.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "backend.h"
#include "controlnet-private.h"

/* diffusers ControlNetModel's default conditioning_embedding_out_channels. */
static const int64_t default_cond_channels[] = { 16, 32, 96, 256 };

void
lf_controlnet_free (LfControlNet *cn)
{
  if (cn == NULL)
    return;
  lf_unet_free (cn->body);
  lf_weight_store_free (cn->store);
  g_free (cn->down_w);
  g_free (cn->down_b);
  g_free (cn->ones);
  lf_model_files_free (cn->files);
  g_free (cn);
}

LfUnet *
lf_controlnet_get_body (LfControlNet *cn)
{
  return cn->body;
}

/* ---- Configuration ---------------------------------------------------- */

typedef struct
{
  int64_t  channels[LF_CONTROLNET_MAX_COND_CONVS / 2];
  int      n_levels;
  int64_t  in_channels;
  gboolean bgr, global_pool;
} CnConfig;

static gboolean
bad_key (const LfConfig *cfg, const char *key, int code, GError **error)
{
  g_set_error (error, LF_ERROR, code,
               _ ("%s: the value of “%s” is not supported"),
               lf_config_get_name (cfg), key);
  return FALSE;
}

/* ControlNetModel's own keys in its config.json. */
static gboolean
read_config (const LfConfig *cfg, CnConfig *c, GError **error)
{
  g_autoptr (GArray) ch = NULL;
  GError     *local = NULL;
  const char *order;

  if (!lf_config_get_int_array (cfg, "conditioning_embedding_out_channels", &ch,
                                error))
    return FALSE;
  if (ch == NULL)
    {
      c->n_levels = G_N_ELEMENTS (default_cond_channels);
      memcpy (c->channels, default_cond_channels, sizeof default_cond_channels);
    }
  else if (ch->len < 1 || ch->len > G_N_ELEMENTS (c->channels))
    return bad_key (cfg, "conditioning_embedding_out_channels",
                    LF_ERROR_UNSUPPORTED, error);
  else
    {
      c->n_levels = (int)ch->len;
      for (int i = 0; i < c->n_levels; i++)
        if ((c->channels[i] = g_array_index (ch, gint64, i)) < 1)
          return bad_key (cfg, "conditioning_embedding_out_channels",
                          LF_ERROR_FORMAT, error);
    }
  c->in_channels = lf_config_get_int (cfg, "conditioning_channels", 3, &local);
  if (local == NULL)
    c->global_pool
        = lf_config_get_bool (cfg, "global_pool_conditions", FALSE, &local);
  if (local == NULL)
    order = lf_config_get_string (cfg, "controlnet_conditioning_channel_order",
                                  "rgb", &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (c->in_channels < 1 || c->in_channels > 64)
    return bad_key (cfg, "conditioning_channels", LF_ERROR_UNSUPPORTED, error);
  if (strcmp (order, "rgb") != 0 && strcmp (order, "bgr") != 0)
    return bad_key (cfg, "controlnet_conditioning_channel_order",
                    LF_ERROR_UNSUPPORTED, error);
  c->bgr = strcmp (order, "bgr") == 0;
  return TRUE;
}

/* A single file has no config: the embedding's widths come from its
 * convolutions (conv_in, then blocks.2i+1 widen), the rest is diffusers'
 * default. */
static gboolean
infer_config (const LfComponent *comp, CnConfig *c, GError **error)
{
  const LfWeight *w
      = lf_component_lookup (comp, "controlnet_cond_embedding.conv_in.weight");
  int n_blocks = 0;

  if (w == NULL || w->ndim != 4)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: no ControlNet conditioning embedding "
                      "(input_hint_block.0.weight)"),
                   lf_component_get_weight_path (comp));
      return FALSE;
    }
  c->channels[0] = w->shape[0];
  c->in_channels = w->shape[1];
  while (lf_component_hasf (comp, "controlnet_cond_embedding.blocks.%d.weight",
                            n_blocks))
    n_blocks++;
  c->n_levels = n_blocks / 2 + 1;
  if (n_blocks % 2 != 0 || c->n_levels > (int)G_N_ELEMENTS (c->channels))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: %d ControlNet input_hint_block convolutions "
                      "between the first and the last; expected pairs"),
                   lf_component_get_weight_path (comp), n_blocks);
      return FALSE;
    }
  for (int i = 1; i < c->n_levels; i++)
    {
      char name[64];

      g_snprintf (name, sizeof name,
                  "controlnet_cond_embedding.blocks.%d.weight", 2 * i - 1);
      w = lf_component_lookup (comp, name);
      c->channels[i] = w->shape[0];
    }
  c->bgr = FALSE;
  c->global_pool = FALSE;
  return TRUE;
}

/* ---- Loading ---------------------------------------------------------- */

/* The weights and the config that describes them. */
static gboolean
find_component (LfControlNet       *cn,
                const LfConfig     *unet_cfg,
                const LfComponent **comp,
                const LfConfig    **cfg,
                GError            **error)
{
  const char *path = lf_model_files_get_path (cn->files);
  const char *class;

  switch (lf_model_files_get_kind (cn->files))
    {
    case LF_MODEL_KIND_COMPONENT:
      *comp = lf_model_files_get_component (cn->files, 0);
      *cfg = lf_component_get_config (*comp);
      class = lf_component_get_class_name (*comp);
      if (class == NULL || strcmp (class, "ControlNetModel") == 0)
        return TRUE;
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” holds a %s, not a ControlNetModel"), path, class);
      return FALSE;
    case LF_MODEL_KIND_CHECKPOINT:
      *comp = lf_model_files_lookup (cn->files, "controlnet");
      break;
    case LF_MODEL_KIND_SAFETENSORS:
      /* diffusers names in a lone file */
      *comp = lf_model_files_get_component (cn->files, 0);
      break;
    default:
      *comp = NULL;
      break;
    }
  *cfg = unet_cfg;
  if (*comp == NULL
      || lf_component_lookup (*comp, "controlnet_cond_embedding.conv_in.weight")
             == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a ControlNet (no input_hint_block or "
                      "controlnet_cond_embedding weights)"),
                   path);
      return FALSE;
    }
  if (unet_cfg == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("“%s”: a single-file ControlNet needs the base UNet's "
                      "config"),
                   path);
      return FALSE;
    }
  return TRUE;
}

/* controlnet_down_blocks.i for each skip, controlnet_mid_block. */
static gboolean
load_zero_convs (LfControlNet *cn, const LfComponent *comp, GError **error)
{
  cn->n_res = lf_unet_get_n_skips (cn->body);
  cn->down_w = g_new0 (LfTensor, cn->n_res);
  cn->down_b = g_new0 (LfTensor, cn->n_res);
  for (int i = 0; i <= cn->n_res; i++)
    {
      const gboolean   mid = i == cn->n_res;
      g_autofree char *name
          = mid ? g_strdup ("controlnet_mid_block")
                : g_strdup_printf ("controlnet_down_blocks.%d", i);
      int64_t shape[4];

      lf_unet_skip_shape (cn->body, i, 1, 8, 8, shape);
      shape[2] = shape[3] = 1;
      shape[0] = shape[1];
      if (!lf_weight_store_bindf (cn->store, comp, 4, shape,
                                  mid ? &cn->mid_w : &cn->down_w[i], error,
                                  "%s.weight", name)
          || !lf_weight_store_bindf (cn->store, comp, 1, shape,
                                     mid ? &cn->mid_b : &cn->down_b[i], error,
                                     "%s.bias", name))
        return FALSE;
    }
  return TRUE;
}

LfControlNet *
lf_controlnet_open (const char     *path,
                    const LfConfig *unet_cfg,
                    LfOps          *ops,
                    GError        **error)
{
  g_autoptr (LfControlNet) cn = NULL;
  const LfComponent *comp;
  const LfConfig    *cfg;
  CnConfig           c = { 0 };
  int64_t            c0[4];

  g_return_val_if_fail (path != NULL && ops != NULL, NULL);
  cn = g_new0 (LfControlNet, 1);
  cn->ops = ops;
  cn->store = lf_weight_store_new (ops);
  cn->files = lf_model_files_open (path, error);
  if (cn->files == NULL || !find_component (cn, unet_cfg, &comp, &cfg, error))
    return NULL;
  if (cfg == unet_cfg ? !infer_config (comp, &c, error)
                      : !read_config (cfg, &c, error))
    return NULL;
  cn->body = lf_unet_load_encoder (comp, cfg, ops, error);
  if (cn->body == NULL)
    return NULL;
  lf_unet_skip_shape (cn->body, 0, 1, 8, 8, c0);
  cn->cond.bgr = c.bgr;
  cn->global_pool = c.global_pool;
  if (!lf_controlnet_cond_load (cn, comp, c.channels, c.n_levels, c.in_channels,
                                c0[1], error)
      || !load_zero_convs (cn, comp, error))
    return NULL;
  cn->ones = g_new (float, LF_CONTROLNET_ONES);
  for (int i = 0; i < LF_CONTROLNET_ONES; i++)
    cn->ones[i] = 1.0f;
  return g_steal_pointer (&cn);
}

/* ---- Fit, LinFusion, sizes -------------------------------------------- */

static gboolean
misfit (GError **error, const char *what, int64_t cn_value, int64_t unet_value)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("The ControlNet does not fit the UNet: %s is %lld in the "
                  "ControlNet and %lld in the UNet"),
               what, (long long)cn_value, (long long)unet_value);
  return FALSE;
}

gboolean
lf_controlnet_check_fits (const LfControlNet *cn,
                          const LfUnet       *unet,
                          GError            **error)
{
  /* A latent size whose levels are all distinct, to compare them too. */
  const int64_t side = (int64_t)1 << LF_UNET_MAX_LEVELS;
  const int     n = lf_unet_get_n_skips (cn->body);

  g_return_val_if_fail (cn != NULL && unet != NULL, FALSE);
  if (n != lf_unet_get_n_skips (unet))
    return misfit (error, _ ("the number of skip connections"), n,
                   lf_unet_get_n_skips (unet));
  if (lf_unet_get_cross_attention_dim (cn->body)
      != lf_unet_get_cross_attention_dim (unet))
    return misfit (error, "cross_attention_dim",
                   lf_unet_get_cross_attention_dim (cn->body),
                   lf_unet_get_cross_attention_dim (unet));
  for (int i = 0; i <= n; i++)
    {
      int64_t a[4], b[4];
      char    what[64];

      lf_unet_skip_shape (cn->body, i, 1, side, side, a);
      lf_unet_skip_shape (unet, i, 1, side, side, b);
      if (i < n)
        g_snprintf (what, sizeof what, _ ("residual %d's channels"), i);
      else
        g_snprintf (what, sizeof what, _ ("the mid residual's channels"));
      if (a[1] != b[1])
        return misfit (error, what, a[1], b[1]);
      if (a[2] != b[2])
        {
          g_snprintf (what, sizeof what, _ ("residual %d's height at %lld"), i,
                      (long long)side);
          return misfit (error, what, a[2], b[2]);
        }
    }
  return TRUE;
}

gboolean
lf_controlnet_mount_linfusion (LfControlNet      *cn,
                               const LfComponent *linfusion,
                               const LfConfig    *cfg,
                               GError           **error)
{
  g_return_val_if_fail (cn != NULL && linfusion != NULL, FALSE);
  /* The up blocks' modules have nothing to replace here. */
  return lf_unet_mount_linfusion_present (cn->body, linfusion, cfg, TRUE,
                                          error);
}

void
lf_controlnet_unmount_linfusion (LfControlNet *cn)
{
  lf_unet_unmount_linfusion (cn->body);
}

int
lf_controlnet_get_n_residuals (const LfControlNet *cn)
{
  return cn->n_res;
}

/* The widest residual's B × C floats: the pooled means. */
static int64_t
pool_floats (const LfControlNet *cn, int64_t batch)
{
  int64_t most = 0;

  for (int i = 0; i <= cn->n_res; i++)
    {
      int64_t shape[4];

      lf_unet_skip_shape (cn->body, i, batch, 8, 8, shape);
      most = MAX (most, batch * shape[1]);
    }
  return most;
}

size_t
lf_controlnet_plan (const LfControlNet *cn,
                    int64_t             batch,
                    int64_t             h,
                    int64_t             w,
                    int64_t             context_len)
{
  return (cn->global_pool ? unet_bytes (pool_floats (cn, batch)) : 0)
         + lf_unet_plan (cn->body, batch, h, w, context_len);
}

/* ---- Forward ---------------------------------------------------------- */

/* y (B, C, H, W) ← its mean over H and W, broadcast back (diffusers:
 * torch.mean (sample, dim=(2, 3), keepdim=True), which the UNet then
 * broadcasts when adding). The sums are GEMMs against a vector of ones,
 * chunk by chunk; @tmp holds B·C floats. */
static void
global_pool (const LfControlNet *cn, float *tmp, LfTensor *y)
{
  LfOps        *ops = cn->ops;
  const int64_t rows = y->shape[0] * y->shape[1];
  const int64_t hw = y->shape[2] * y->shape[3];
  LfTensor      x2, mean = lf_tensor_2d (tmp, LF_DTYPE_F32, rows, 1);
  LfTensor      back = *y;

  lf_tensor_reshape (y, 2, (int64_t[]){ rows, hw }, &x2);
  for (int64_t k0 = 0; k0 < hw; k0 += LF_CONTROLNET_ONES)
    {
      const int64_t k = MIN (LF_CONTROLNET_ONES, hw - k0);
      LfTensor      a, ones = lf_tensor_2d (cn->ones, LF_DTYPE_F32, 1, k);

      lf_tensor_narrow (&x2, 1, k0, k, &a);
      ops->gemm (ops, &a, 0, &ones, 1, 1.0f / (float)hw, k0 > 0 ? 1.0f : 0.0f,
                 &mean);
    }
  back.data = tmp;
  back.stride[0] = y->shape[1], back.stride[1] = 1;
  back.stride[2] = back.stride[3] = 0;
  ops->copy (ops, &back, y);
}

/* y = scale · controlnet block (x): a 1×1 convolution. */
static void
zero_conv (const LfControlNet *cn,
           const LfTensor     *x,
           const LfTensor     *w,
           const LfTensor     *b,
           float               scale,
           float              *pool_tmp,
           LfTensor           *y)
{
  static const LfConv2dParams one = { 1, 1, 0, 0, 0, 0 };
  LfOps                      *ops = cn->ops;

  ops->conv2d (ops, x, w, b, &one, y);
  if (scale != 1.0f)
    ops->scale (ops, y, scale, y);
  if (pool_tmp != NULL)
    global_pool (cn, pool_tmp, y);
}

static gboolean
check_outputs (const LfControlNet *cn,
               const LfTensor     *x,
               const LfTensor     *cond_emb,
               const LfTensor     *down,
               const LfTensor     *mid,
               GError            **error)
{
  int64_t c0[4];

  lf_unet_skip_shape (cn->body, 0, 1, x->shape[2], x->shape[3], c0);
  if (cond_emb->ndim != 4 || cond_emb->shape[0] != 1
      || cond_emb->shape[1] != c0[1] || cond_emb->shape[2] != x->shape[2]
      || cond_emb->shape[3] != x->shape[3])
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("ControlNet: the conditioning embedding does not match "
                      "%lld×%lld latents"),
                   (long long)x->shape[3], (long long)x->shape[2]);
      return FALSE;
    }
  for (int i = 0; i <= cn->n_res; i++)
    {
      const LfTensor *r = i < cn->n_res ? &down[i] : mid;
      int64_t         s[4];

      lf_unet_skip_shape (cn->body, i, x->shape[0], x->shape[2], x->shape[3],
                          s);
      if (r->ndim != 4 || r->shape[0] != s[0] || r->shape[1] != s[1]
          || r->shape[2] != s[2] || r->shape[3] != s[3]
          || !lf_tensor_is_contiguous (r))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                       _ ("ControlNet: residual %d must be a contiguous "
                          "(%lld, %lld, %lld, %lld) tensor"),
                       i, (long long)s[0], (long long)s[1], (long long)s[2],
                       (long long)s[3]);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
check_arena (const LfControlNet *cn,
             const LfTensor     *x,
             const LfTensor     *context,
             LfArena            *scratch,
             GError            **error)
{
  const size_t need = lf_controlnet_plan (cn, x->shape[0], x->shape[2],
                                          x->shape[3], context->shape[1]);
  const size_t left = lf_arena_capacity (scratch) - lf_arena_used (scratch);

  if (need <= left)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
               _ ("ControlNet at %lld×%lld latents needs %.1f MiB of working "
                  "memory; %.1f MiB are left"),
               (long long)x->shape[3], (long long)x->shape[2], need / 1048576.0,
               left / 1048576.0);
  return FALSE;
}

gboolean
lf_controlnet_forward (LfControlNet   *cn,
                       const LfTensor *x,
                       const float    *t,
                       const LfTensor *context,
                       const LfTensor *cond_emb,
                       const float    *scales,
                       LfArena        *scratch,
                       LfTensor       *down,
                       LfTensor       *mid,
                       GError        **error)
{
  LfTensor skips[LF_UNET_MAX_SKIPS], mid_out;
  float   *pool_tmp = NULL;
  size_t   mark;
  gboolean ok;

  g_return_val_if_fail (cn != NULL && x != NULL && x->ndim == 4, FALSE);
  g_return_val_if_fail (context != NULL && context->ndim == 3, FALSE);
  g_return_val_if_fail (cond_emb != NULL && scales != NULL, FALSE);
  if (!check_outputs (cn, x, cond_emb, down, mid, error)
      || !check_arena (cn, x, context, scratch, error))
    return FALSE;
  mark = lf_arena_mark (scratch);
  if (cn->global_pool)
    pool_tmp
        = unet_carve (scratch, 1, (int64_t[]){ pool_floats (cn, x->shape[0]) })
              .data;
  ok = lf_unet_encode (cn->body, x, t, context, cond_emb, scratch, skips,
                       &mid_out, error);
  for (int i = 0; ok && i < cn->n_res; i++)
    zero_conv (cn, &skips[i], &cn->down_w[i], &cn->down_b[i], scales[i],
               pool_tmp, &down[i]);
  if (ok)
    {
      zero_conv (cn, &mid_out, &cn->mid_w, &cn->mid_b, scales[cn->n_res],
                 pool_tmp, mid);
      ok = lf_ops_take_error (cn->ops, "ControlNet zero convolutions", error);
    }
  lf_arena_reset (scratch, mark);
  return ok;
}

gboolean
lf_controlnet_get_global_pool (const LfControlNet *cn)
{
  return cn->global_pool;
}
