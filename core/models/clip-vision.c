/* clip-vision.c: the IP-Adapter image encoder, transformers 4.44
 * CLIPVisionModelWithProjection: patch embedding (a conv with stride =
 * patch, no bias), class token and positions, pre_layrnorm, the encoder
 * layers without a mask, and visual_projection (post_layernorm (CLS)).
 * Weight names are transformers'.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "linfusion.h"

#include "backend.h"
#include "clip-encoder.h"
#include "ip-adapter-private.h"

struct _LfClipVision
{
  char          *folder;
  LfModelFiles  *files;
  LfOps         *ops;
  LfWeightStore *store;
  ClipDims       dims;         /* hidden_size D, intermediate_size, heads … */
  int64_t        n_layers;     /* num_hidden_layers, L */
  int64_t        image_size;   /* S */
  int64_t        patch;        /* P; S / P patches per side */
  int64_t        channels;     /* num_channels, 3 */
  int64_t        proj_dim;     /* projection_dim, E */
  int64_t        n_tokens;     /* N = 1 + (S / P)² */
  LfTensor       class_emb;    /* (D) */
  LfTensor       patch_w;      /* (D, 3, P, P) */
  LfTensor       pos_emb;      /* (N, D) */
  LfTensor       pre_g, pre_b; /* (D) pre_layrnorm */
  ClipLayer     *layers;       /* (L) */
  LfTensor       post_g, post_b; /* (D) post_layernorm */
  LfTensor       proj_w;         /* (E, D) visual_projection, no bias */
};

/* transformers CLIPVisionConfig defaults, as from_pretrained applies them. */
static const ClipDims vision_defaults
    = { .D = 768, .I = 3072, .n_heads = 12, .gelu = FALSE, .eps = 1e-5f };

static gboolean
read_config (LfClipVision *enc, const LfConfig *cfg, GError **error)
{
  if (!clip_config_read_dims (cfg, &vision_defaults, &enc->dims, error)
      || !clip_config_read_dim (cfg, "num_hidden_layers", 12, &enc->n_layers,
                                error)
      || !clip_config_read_dim (cfg, "image_size", 224, &enc->image_size, error)
      || !clip_config_read_dim (cfg, "patch_size", 32, &enc->patch, error)
      || !clip_config_read_dim (cfg, "num_channels", 3, &enc->channels, error)
      || !clip_config_read_dim (cfg, "projection_dim", 512, &enc->proj_dim,
                                error))
    return FALSE;
  if (enc->image_size % enc->patch != 0 || enc->channels != 3)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: image_size %" PRId64 " with patch_size %" PRId64
                      " and %" PRId64 " channels is not supported"),
                   lf_config_get_name (cfg), enc->image_size, enc->patch,
                   enc->channels);
      return FALSE;
    }
  enc->n_tokens
      = 1 + (enc->image_size / enc->patch) * (enc->image_size / enc->patch);
  return TRUE;
}

static gboolean
bind (LfClipVision      *enc,
      const LfComponent *comp,
      const char        *name,
      int                ndim,
      const int64_t     *shape,
      LfTensor          *out,
      GError           **error)
{
  return lf_weight_store_bind (enc->store, comp, name, ndim, shape, out, error);
}

static gboolean
bind_weights (LfClipVision *enc, const LfComponent *comp, GError **error)
{
  const int64_t D = enc->dims.D, P = enc->patch;
  const int64_t d[] = { D }, pos[] = { enc->n_tokens, D };
  const int64_t patch[] = { D, enc->channels, P, P };
  const int64_t proj[] = { enc->proj_dim, D };

  if (!bind (enc, comp, "vision_model.embeddings.class_embedding", 1, d,
             &enc->class_emb, error)
      || !bind (enc, comp, "vision_model.embeddings.patch_embedding.weight", 4,
                patch, &enc->patch_w, error)
      || !bind (enc, comp, "vision_model.embeddings.position_embedding.weight",
                2, pos, &enc->pos_emb, error)
      || !bind (enc, comp, "vision_model.pre_layrnorm.weight", 1, d,
                &enc->pre_g, error)
      || !bind (enc, comp, "vision_model.pre_layrnorm.bias", 1, d, &enc->pre_b,
                error))
    return FALSE;
  for (int64_t l = 0; l < enc->n_layers; l++)
    {
      char prefix[64];

      g_snprintf (prefix, sizeof prefix, "vision_model.encoder.layers.%d",
                  (int)l);
      if (!clip_layer_bind (enc->store, comp, prefix, &enc->dims,
                            &enc->layers[l], error))
        return FALSE;
    }
  return bind (enc, comp, "vision_model.post_layernorm.weight", 1, d,
               &enc->post_g, error)
         && bind (enc, comp, "vision_model.post_layernorm.bias", 1, d,
                  &enc->post_b, error)
         && bind (enc, comp, "visual_projection.weight", 2, proj, &enc->proj_w,
                  error);
}

LfClipVision *
lf_clip_vision_open (const char *folder, LfOps *ops, GError **error)
{
  g_autoptr (LfClipVision) enc = NULL;
  const LfComponent *comp;

  g_return_val_if_fail (folder != NULL && ops != NULL, NULL);

  enc = g_new0 (LfClipVision, 1);
  enc->folder = g_strdup (folder);
  enc->ops = ops;
  enc->store = lf_weight_store_new (ops);
  enc->files = lf_model_files_open (folder, error);
  if (enc->files == NULL)
    return NULL;
  if (lf_model_files_get_kind (enc->files) != LF_MODEL_KIND_COMPONENT)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: not an image encoder folder (config.json and "
                      "model.safetensors of a CLIPVisionModelWithProjection)"),
                   folder);
      return NULL;
    }
  comp = lf_model_files_get_component (enc->files, 0);
  if (!read_config (enc, lf_component_get_config (comp), error))
    return NULL;
  enc->layers = g_new0 (ClipLayer, enc->n_layers);
  if (!bind_weights (enc, comp, error))
    return NULL;
  return g_steal_pointer (&enc);
}

void
lf_clip_vision_free (LfClipVision *enc)
{
  if (enc == NULL)
    return;
  lf_weight_store_free (enc->store);
  lf_model_files_free (enc->files);
  g_free (enc->layers);
  g_free (enc->folder);
  g_free (enc);
}

int64_t
lf_clip_vision_get_image_size (const LfClipVision *enc)
{
  return enc->image_size;
}

int64_t
clip_vision_get_hidden_size (const LfClipVision *enc)
{
  return enc->dims.D;
}

int64_t
clip_vision_get_projection_dim (const LfClipVision *enc)
{
  return enc->proj_dim;
}

int64_t
clip_vision_get_n_tokens (const LfClipVision *enc)
{
  return enc->n_tokens;
}

size_t
lf_clip_vision_plan (const LfClipVision *enc, int64_t batch)
{
  return clip_acts_plan (&enc->dims, batch * enc->n_tokens)
         + lf_arena_padded_size ((size_t)(batch * enc->dims.D)
                                 * sizeof (float));
}

/* CLIPVisionEmbeddings into @a->h: the patch conv goes through a->q (B · D
 * · patches ≤ B · N · D floats), is transposed to token rows behind the
 * class token, and the positions are added; then pre_layrnorm into a->x. */
static void
embed (LfClipVision *enc, const LfTensor *pixels, ClipActs *a)
{
  LfOps               *ops = enc->ops;
  const int64_t        B = pixels->shape[0], D = enc->dims.D;
  const int64_t        g = enc->image_size / enc->patch, n = g * g;
  const int            perm[3] = { 0, 2, 1 };
  const LfConv2dParams p = { .stride = (int)enc->patch, .dilation = 1 };
  const int64_t        cls_shape[3] = { 1, 1, D };
  const int64_t        pos_shape[3] = { 1, enc->n_tokens, D };
  LfTensor conv = lf_tensor_4d (a->q.data, LF_DTYPE_F32, B, D, g, g);
  LfTensor planes = lf_tensor_3d (a->q.data, LF_DTYPE_F32, B, D, n);
  LfTensor rows, patches, cls1, clsb, first, pos1, posb;

  ops->conv2d (ops, pixels, &enc->patch_w, NULL, &p, &conv);
  lf_tensor_permute (&planes, perm, &rows);
  lf_tensor_narrow (&a->h, 1, 1, n, &patches);
  ops->copy (ops, &rows, &patches);
  lf_tensor_reshape (&enc->class_emb, 3, cls_shape, &cls1);
  lf_tensor_expand (&cls1, 0, B, &clsb);
  lf_tensor_narrow (&a->h, 1, 0, 1, &first);
  ops->copy (ops, &clsb, &first);
  lf_tensor_reshape (&enc->pos_emb, 3, pos_shape, &pos1);
  lf_tensor_expand (&pos1, 0, B, &posb);
  ops->add (ops, &a->h, &posb, &a->h);
  ops->layer_norm (ops, &a->h, &enc->pre_g, &enc->pre_b, enc->dims.eps, &a->x);
}

/* image_embeds = visual_projection (post_layernorm (x[:, 0])). */
static void
project (LfClipVision   *enc,
         const ClipActs *a,
         LfTensor       *cls,
         LfTensor       *image_embeds)
{
  LfOps   *ops = enc->ops;
  LfTensor first, cls3;

  lf_tensor_narrow (&a->x, 1, 0, 1, &first);
  cls3 = lf_tensor_3d (cls->data, LF_DTYPE_F32, cls->shape[0], 1, enc->dims.D);
  ops->layer_norm (ops, &first, &enc->post_g, &enc->post_b, enc->dims.eps,
                   &cls3);
  ops->linear (ops, cls, &enc->proj_w, NULL, image_embeds);
}

static gboolean
check_shape (const LfTensor *t, int ndim, const int64_t *shape)
{
  if (t->ndim != ndim)
    return FALSE;
  for (int d = 0; d < ndim; d++)
    if (t->shape[d] != shape[d])
      return FALSE;
  return lf_tensor_is_contiguous (t);
}

/* The forward with every output: @last gets hidden_states[-1]
 * (last_hidden_state, before post_layernorm). */
static gboolean
forward (LfClipVision   *enc,
         const LfTensor *pixels,
         LfArena        *scratch,
         LfTensor       *image_embeds,
         LfTensor       *penultimate,
         LfTensor       *last,
         GError        **error)
{
  const int64_t B = pixels->shape[0], D = enc->dims.D;
  const int64_t cls_shape[2] = { B, D };
  /* hidden_states[-2] is the input of the last layer, which runs only for
   * image_embeds and last_hidden_state. */
  const int64_t n_run = image_embeds != NULL || last != NULL
                            ? enc->n_layers
                            : enc->n_layers - 1;
  size_t        mark = lf_arena_mark (scratch);
  ClipActs      a;
  LfTensor      cls;
  gboolean      ok;

  ok = clip_acts_carve (&enc->dims, B, enc->n_tokens, scratch, &a, error)
       && lf_arena_tensor (scratch, LF_DTYPE_F32, 2, cls_shape, &cls, error);
  if (ok)
    {
      embed (enc, pixels, &a);
      ok = lf_ops_take_error (enc->ops, _ ("Image encoder embeddings"), error);
    }
  for (int64_t l = 0; ok && l < n_run; l++)
    {
      char what[64];

      if (l == enc->n_layers - 1 && penultimate != NULL)
        enc->ops->copy (enc->ops, &a.x, penultimate);
      g_snprintf (what, sizeof what, _ ("Image encoder layer %d"), (int)l);
      clip_layer_forward (enc->ops, &enc->dims, &enc->layers[l], FALSE, &a);
      ok = lf_ops_take_error (enc->ops, what, error);
    }
  if (ok && n_run < enc->n_layers && penultimate != NULL)
    enc->ops->copy (enc->ops, &a.x, penultimate);
  if (ok && last != NULL)
    enc->ops->copy (enc->ops, &a.x, last);
  if (ok && image_embeds != NULL)
    project (enc, &a, &cls, image_embeds);
  ok = ok && lf_ops_take_error (enc->ops, _ ("Image encoder output"), error);
  lf_arena_reset (scratch, mark);
  return ok;
}

gboolean
lf_clip_vision_forward (LfClipVision   *enc,
                        const LfTensor *pixels,
                        LfArena        *scratch,
                        LfTensor       *image_embeds,
                        LfTensor       *penultimate,
                        GError        **error)
{
  g_return_val_if_fail (enc != NULL && scratch != NULL, FALSE);
  g_return_val_if_fail (
      check_shape (
          pixels, 4,
          (int64_t[]){ pixels->shape[0], 3, enc->image_size, enc->image_size }),
      FALSE);
  g_return_val_if_fail (
      image_embeds == NULL
          || check_shape (image_embeds, 2,
                          (int64_t[]){ pixels->shape[0], enc->proj_dim }),
      FALSE);
  g_return_val_if_fail (
      penultimate == NULL
          || check_shape (
              penultimate, 3,
              (int64_t[]){ pixels->shape[0], enc->n_tokens, enc->dims.D }),
      FALSE);
  return forward (enc, pixels, scratch, image_embeds, penultimate, NULL, error);
}

gboolean
clip_vision_forward_last (LfClipVision   *enc,
                          const LfTensor *pixels,
                          LfArena        *scratch,
                          LfTensor       *last,
                          GError        **error)
{
  return forward (enc, pixels, scratch, NULL, NULL, last, error);
}
