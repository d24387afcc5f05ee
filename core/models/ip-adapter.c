/* ip-adapter.c: an IP-Adapter file (tencent-ailab layout: image_proj.*,
 * ip_adapter.<2k+1>.to_{k,v}_ip.weight), mounted on the UNet's
 * cross-attention layers as diffusers 0.30.3 loaders/unet.py
 * _convert_ip_adapter_attn_to_diffusers does, and the reference image →
 * image tokens path of the SD pipelines (encode_image,
 * prepare_ip_adapter_image_embeds, MultiIPAdapterImageProjection).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "linfusion.h"

#include "backend.h"
#include "ip-adapter-private.h"
#include "unet-private.h"

struct _LfIpAdapter
{
  char          *path;
  LfOps         *ops;
  LfModelFiles  *files;
  LfWeightStore *store;
  IpImageProj    proj;
  int            n_attn;  /* cross-attention layers the file covers */
  LfTensor      *to_k_ip; /* n_attn × (C_k, D), C_k the layer's channels */
  LfTensor      *to_v_ip; /* n_attn × (C_k, D) */
};

static gboolean
is_pickle_name (const char *path)
{
  static const char *const suffixes[] = { ".bin", ".pt", ".pth", ".ckpt" };
  g_autofree char         *lower = g_ascii_strdown (path, -1);

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (lower, suffixes[i]))
      return TRUE;
  return FALSE;
}

/* ip_adapter.1, .3, … as long as they go on; each pair shaped (C_k, D). */
static gboolean
bind_attention (LfIpAdapter *ip, const LfComponent *comp, GError **error)
{
  while (lf_component_hasf (comp, "ip_adapter.%d.to_k_ip.weight",
                            2 * ip->n_attn + 1))
    ip->n_attn++;
  if (ip->n_attn == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: no ip_adapter.1.to_k_ip.weight: not an "
                      "IP-Adapter file"),
                   ip->path);
      return FALSE;
    }
  ip->to_k_ip = g_new0 (LfTensor, ip->n_attn);
  ip->to_v_ip = g_new0 (LfTensor, ip->n_attn);
  for (int k = 0; k < ip->n_attn; k++)
    {
      g_autofree char *name
          = g_strdup_printf ("ip_adapter.%d.to_k_ip.weight", 2 * k + 1);
      const LfWeight *w = lf_component_lookup (comp, name);
      int64_t         shape[2];

      if (w->ndim != 2)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                       _ ("“%s”: %s has %d dimensions, expected 2"), ip->path,
                       name, w->ndim);
          return FALSE;
        }
      /* Rows are checked against the UNet at mount; columns are the
       * tokens' width. */
      shape[0] = w->shape[0], shape[1] = ip->proj.dim;
      if (!lf_weight_store_bind (ip->store, comp, name, 2, shape,
                                 &ip->to_k_ip[k], error)
          || !lf_weight_store_bindf (ip->store, comp, 2, shape, &ip->to_v_ip[k],
                                     error, "ip_adapter.%d.to_v_ip.weight",
                                     2 * k + 1))
        return FALSE;
    }
  return TRUE;
}

LfIpAdapter *
lf_ip_adapter_open (const char *path, LfOps *ops, GError **error)
{
  g_autoptr (LfIpAdapter) ip = NULL;
  const LfComponent *comp;

  g_return_val_if_fail (path != NULL && ops != NULL, NULL);

  if (is_pickle_name (path))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: PyTorch pickle files are not read; use the "
                      ".safetensors version of this IP-Adapter"),
                   path);
      return NULL;
    }
  ip = g_new0 (LfIpAdapter, 1);
  ip->path = g_strdup (path);
  ip->ops = ops;
  ip->store = lf_weight_store_new (ops);
  ip->files = lf_model_files_open (path, error);
  if (ip->files == NULL)
    return NULL;
  if (lf_model_files_get_kind (ip->files) != LF_MODEL_KIND_SAFETENSORS)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: not an IP-Adapter file (expected one "
                      ".safetensors file with image_proj.* and ip_adapter.* "
                      "keys)"),
                   path);
      return NULL;
    }
  comp = lf_model_files_get_component (ip->files, 0);
  if (!ip_image_proj_bind (&ip->proj, ip->store, comp, error)
      || !bind_attention (ip, comp, error))
    return NULL;
  return g_steal_pointer (&ip);
}

void
lf_ip_adapter_free (LfIpAdapter *ip)
{
  if (ip == NULL)
    return;
  ip_image_proj_clear (&ip->proj);
  g_free (ip->to_k_ip);
  g_free (ip->to_v_ip);
  lf_weight_store_free (ip->store);
  lf_model_files_free (ip->files);
  g_free (ip->path);
  g_free (ip);
}

int64_t
lf_ip_adapter_get_n_tokens (const LfIpAdapter *ip)
{
  return ip->proj.n_tokens;
}

int64_t
lf_ip_adapter_get_token_dim (const LfIpAdapter *ip)
{
  return ip->proj.dim;
}

gboolean
lf_ip_adapter_check_encoder (const LfIpAdapter  *ip,
                             const LfClipVision *enc,
                             GError            **error)
{
  gboolean plain;
  int64_t  have;

  g_return_val_if_fail (ip != NULL && enc != NULL, FALSE);
  plain = ip->proj.kind == IP_KIND_PLAIN;
  have = plain ? clip_vision_get_projection_dim (enc)
               : clip_vision_get_hidden_size (enc);
  if (have == ip->proj.in_dim)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               plain ? _ ("“%s”: image_proj.proj.weight takes %" PRId64
                          "-wide image embeddings; the image encoder's "
                          "projection_dim is %" PRId64)
                     : _ ("“%s”: image_proj.proj_in.weight takes %" PRId64
                          "-wide hidden states; the image encoder's "
                          "hidden_size is %" PRId64),
               ip->path, ip->proj.in_dim, have);
  return FALSE;
}

/* ---- Mount ---------------------------------------------------------- */

typedef struct
{
  UnetAttention         *attn;
  const UnetTransformer *t;
  int                    block;
} CrossLayer;

static void
add_block (GArray *out, UnetBlock *blk)
{
  for (int j = 0; blk->attentions != NULL && j < blk->n_layers; j++)
    {
      UnetTransformer *t = &blk->attentions[j];

      for (int b = 0; b < t->depth; b++)
        {
          CrossLayer c = { &t->blocks[b].attn2, t, b };

          g_array_append_val (out, c);
        }
    }
}

/* Every attn2 in UNet2DConditionModel.attn_processors order: down_blocks,
 * up_blocks, then mid_block (the model assigns up_blocks before mid_block,
 * and named_modules follows assignment order). */
static GArray *
cross_layers (LfUnet *unet)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (CrossLayer));

  for (int i = 0; i < unet->cfg.n_levels; i++)
    add_block (out, &unet->down[i]);
  for (int i = 0; i < unet->cfg.n_levels; i++)
    add_block (out, &unet->up[i]);
  add_block (out, &unet->mid);
  return out;
}

static gboolean
check_layer (const LfIpAdapter *ip,
             const LfUnet      *unet,
             const CrossLayer  *c,
             int                k,
             GError           **error)
{
  const LfTensor *w[2] = { &ip->to_k_ip[k], &ip->to_v_ip[k] };
  const char     *names[2] = { "to_k_ip", "to_v_ip" };
  const int64_t   C = c->t->channels, D = unet->cfg.cross_dim;

  for (int i = 0; i < 2; i++)
    if (w[i]->shape[0] != C || w[i]->shape[1] != D)
      {
        g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                     _ ("“%s”: ip_adapter.%d.%s.weight is [%" PRId64
                        ", %" PRId64 "]; the UNet's "
                        "%s.transformer_blocks.%d.attn2 needs [%" PRId64
                        ", %" PRId64 "]"),
                     ip->path, 2 * k + 1, names[i], w[i]->shape[0],
                     w[i]->shape[1], c->t->name, c->block, C, D);
        return FALSE;
      }
  return TRUE;
}

gboolean
lf_ip_adapter_mount (const LfIpAdapter *ip, LfUnet *unet, GError **error)
{
  g_autoptr (GArray) layers = NULL;

  g_return_val_if_fail (ip != NULL && unet != NULL, FALSE);
  layers = cross_layers (unet);
  if ((int)layers->len != ip->n_attn)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: weights for %d cross-attention layers "
                      "(ip_adapter.1 … ip_adapter.%d); the UNet has %u"),
                   ip->path, ip->n_attn, 2 * ip->n_attn - 1, layers->len);
      return FALSE;
    }
  for (guint k = 0; k < layers->len; k++)
    if (!check_layer (ip, unet, &g_array_index (layers, CrossLayer, k), (int)k,
                      error))
      return FALSE;
  for (guint k = 0; k < layers->len; k++)
    {
      UnetAttention *a = g_array_index (layers, CrossLayer, k).attn;

      a->to_k_ip = ip->to_k_ip[k];
      a->to_v_ip = ip->to_v_ip[k];
      a->n_ip_tokens = ip->proj.n_tokens;
    }
  return TRUE;
}

void
lf_ip_adapter_unmount (LfUnet *unet)
{
  g_autoptr (GArray) layers = NULL;

  g_return_if_fail (unet != NULL);
  layers = cross_layers (unet);
  for (guint k = 0; k < layers->len; k++)
    {
      UnetAttention *a = g_array_index (layers, CrossLayer, k).attn;

      a->to_k_ip = (LfTensor){ 0 };
      a->to_v_ip = (LfTensor){ 0 };
      a->n_ip_tokens = 0;
    }
}

/* ---- Encode --------------------------------------------------------- */

/* t ← 0, through `copy` from one broadcast zero (scaling arena memory by
 * 0 would keep whatever NaN it held). */
static void
fill_zero (LfOps *ops, LfTensor *t)
{
  static const float zero = 0.0f;
  LfTensor           z = *t;

  z.data = (void *)&zero;
  for (int d = 0; d < z.ndim; d++)
    z.stride[d] = 0;
  ops->copy (ops, &z, t);
}

/* Plain: image_embeds of the image, and zeros for the negative. */
static gboolean
encode_plain (LfIpAdapter    *ip,
              LfClipVision   *enc,
              const LfTensor *pixels,
              LfArena        *arena,
              LfTensor       *tokens,
              GError        **error)
{
  LfOps        *ops = ip->ops;
  const int64_t E = ip->proj.in_dim;
  LfTensor      emb, zero, cond;

  if (!lf_arena_tensor (arena, LF_DTYPE_F32, 2, (int64_t[]){ 2, E }, &emb,
                        error))
    return FALSE;
  lf_tensor_narrow (&emb, 0, 0, 1, &zero);
  lf_tensor_narrow (&emb, 0, 1, 1, &cond);
  fill_zero (ops, &zero);
  if (!lf_clip_vision_forward (enc, pixels, arena, &cond, NULL, error))
    return FALSE;
  ip_image_proj_forward (ops, &ip->proj, &emb, arena, tokens);
  return TRUE;
}

/* Plus: hidden_states[-2] of a zero pixel tensor (the negative, as
 * encode_image runs torch.zeros_like (image)) and of the image, in one
 * batch. */
static gboolean
encode_plus (LfIpAdapter    *ip,
             LfClipVision   *enc,
             const LfTensor *pixels,
             LfArena        *arena,
             LfTensor       *tokens,
             GError        **error)
{
  LfOps        *ops = ip->ops;
  const int64_t S = pixels->shape[2], N = clip_vision_get_n_tokens (enc);
  LfTensor      px, zero, cond, hidden;

  if (!lf_arena_tensor (arena, LF_DTYPE_F32, 4, (int64_t[]){ 2, 3, S, S }, &px,
                        error)
      || !lf_arena_tensor (arena, LF_DTYPE_F32, 3,
                           (int64_t[]){ 2, N, ip->proj.in_dim }, &hidden,
                           error))
    return FALSE;
  lf_tensor_narrow (&px, 0, 0, 1, &zero);
  lf_tensor_narrow (&px, 0, 1, 1, &cond);
  fill_zero (ops, &zero);
  ops->copy (ops, pixels, &cond);
  if (!lf_clip_vision_forward (enc, &px, arena, NULL, &hidden, error))
    return FALSE;
  ip_image_proj_forward (ops, &ip->proj, &hidden, arena, tokens);
  return TRUE;
}

gboolean
lf_ip_adapter_encode (LfIpAdapter    *ip,
                      LfClipVision   *enc,
                      const LfTensor *pixels,
                      LfTensor       *tokens,
                      GError        **error)
{
  const int64_t S = lf_clip_vision_get_image_size (enc);
  const int64_t N = clip_vision_get_n_tokens (enc);
  const int64_t T = ip->proj.n_tokens, D = ip->proj.dim;
  g_autoptr (LfArena) arena = NULL;
  size_t   bytes;
  gboolean ok;

  g_return_val_if_fail (ip != NULL && enc != NULL, FALSE);
  g_return_val_if_fail (pixels->ndim == 4 && pixels->shape[0] == 1
                            && pixels->shape[1] == 3 && pixels->shape[2] == S
                            && pixels->shape[3] == S,
                        FALSE);
  g_return_val_if_fail (tokens->ndim == 3 && tokens->shape[0] == 2
                            && tokens->shape[1] == T && tokens->shape[2] == D
                            && lf_tensor_is_contiguous (tokens),
                        FALSE);

  if (!lf_ip_adapter_check_encoder (ip, enc, error))
    return FALSE;
  if (ip->proj.kind == IP_KIND_PLAIN)
    bytes = lf_arena_padded_size (2 * (size_t)ip->proj.in_dim * sizeof (float))
            + MAX (lf_clip_vision_plan (enc, 1),
                   ip_image_proj_plan (&ip->proj, 2, 1));
  else
    bytes = lf_arena_padded_size ((size_t)(2 * 3 * S * S) * sizeof (float))
            + lf_arena_padded_size ((size_t)(2 * N * ip->proj.in_dim)
                                    * sizeof (float))
            + MAX (lf_clip_vision_plan (enc, 2),
                   ip_image_proj_plan (&ip->proj, 2, N));
  arena = lf_arena_new (bytes, error);
  if (arena == NULL)
    return FALSE;
  ok = ip->proj.kind == IP_KIND_PLAIN
           ? encode_plain (ip, enc, pixels, arena, tokens, error)
           : encode_plus (ip, enc, pixels, arena, tokens, error);
  return ok
         && lf_ops_take_error (ip->ops, _ ("IP-Adapter image projection"),
                               error);
}
