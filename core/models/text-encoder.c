/* text-encoder.c: the CLIP text transformer (transformers
 * modeling_clip.py CLIPTextModel, called as diffusers' SD pipelines call it).
 * Weight names are transformers'. The prompt → conditioning path is in
 * text-encoder-prompt.c.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>

#include "linfusion.h"

#include "backend.h"
#include "clip-encoder.h"
#include "text-encoder.h"
#include "tokenizer-private.h"
#include "weights.h"

#define N_TOKENS LF_TOKENS_PER_CHUNK /* every sequence is 77 long */

typedef struct
{
  ClipDims dims;        /* hidden_size D, intermediate_size, heads, act, eps */
  int64_t  n_layers;    /* num_hidden_layers, L                     */
  int64_t  n_positions; /* max_position_embeddings, P (≥ 77)        */
  int64_t  vocab;       /* vocab_size, V                            */
} TeConfig;

struct _LfTextEncoder
{
  TeConfig       cfg;
  LfOps         *ops;
  LfWeightStore *store;
  LfTensor       token_embedding;    /* (V, D) */
  LfTensor       position_embedding; /* (P, D) */
  ClipLayer     *layers;             /* (L) */
  LfTensor       final_g, final_b;   /* (D) */
};

/* ---- Config ----------------------------------------------------- */

/* transformers CLIPTextConfig defaults, as from_pretrained applies them. */
static const ClipDims text_defaults
    = { .D = 512, .I = 2048, .n_heads = 8, .gelu = FALSE, .eps = 1e-5f };

static gboolean
te_config_read (const LfConfig *cfg, TeConfig *c, GError **error)
{
  if (!clip_config_read_dims (cfg, &text_defaults, &c->dims, error)
      || !clip_config_read_dim (cfg, "num_hidden_layers", 12, &c->n_layers,
                                error)
      || !clip_config_read_dim (cfg, "max_position_embeddings", 77,
                                &c->n_positions, error)
      || !clip_config_read_dim (cfg, "vocab_size", 49408, &c->vocab, error))
    return FALSE;
  if (c->n_positions < N_TOKENS)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: %" PRId64 " positions are not supported (at "
                      "least 77)"),
                   lf_config_get_name (cfg), c->n_positions);
      return FALSE;
    }
  return TRUE;
}

/* ---- Load ------------------------------------------------------- */

static gboolean
bind_layer (LfTextEncoder *te, const LfComponent *comp, int l, GError **error)
{
  char prefix[64];

  g_snprintf (prefix, sizeof prefix, "text_model.encoder.layers.%d", l);
  return clip_layer_bind (te->store, comp, prefix, &te->cfg.dims,
                          &te->layers[l], error);
}

static gboolean
bind_weights (LfTextEncoder *te, const LfComponent *comp, GError **error)
{
  const TeConfig *c = &te->cfg;
  const int64_t   tok[] = { c->vocab, c->dims.D };
  const int64_t   pos[] = { c->n_positions, c->dims.D };
  const int64_t   d[] = { c->dims.D };

  if (!lf_weight_store_bind (te->store, comp,
                             "text_model.embeddings.token_embedding.weight", 2,
                             tok, &te->token_embedding, error)
      || !lf_weight_store_bind (
          te->store, comp, "text_model.embeddings.position_embedding.weight", 2,
          pos, &te->position_embedding, error))
    return FALSE;
  for (int l = 0; l < c->n_layers; l++)
    if (!bind_layer (te, comp, l, error))
      return FALSE;
  return lf_weight_store_bind (te->store, comp,
                               "text_model.final_layer_norm.weight", 1, d,
                               &te->final_g, error)
         && lf_weight_store_bind (te->store, comp,
                                  "text_model.final_layer_norm.bias", 1, d,
                                  &te->final_b, error);
}

LfTextEncoder *
lf_text_encoder_load (const LfComponent *comp,
                      const LfConfig    *cfg,
                      LfOps             *ops,
                      GError           **error)
{
  g_autoptr (LfTextEncoder) te = NULL;

  g_return_val_if_fail (comp != NULL, NULL);
  g_return_val_if_fail (cfg != NULL, NULL);
  g_return_val_if_fail (ops != NULL, NULL);

  te = g_new0 (LfTextEncoder, 1);
  te->ops = ops;
  te->store = lf_weight_store_new (ops);
  if (!te_config_read (cfg, &te->cfg, error))
    return NULL;
  te->layers = g_new0 (ClipLayer, te->cfg.n_layers);
  if (!bind_weights (te, comp, error))
    return NULL;
  return g_steal_pointer (&te);
}

int64_t
lf_text_encoder_get_hidden_size (const LfTextEncoder *te)
{
  return te->cfg.dims.D;
}

int
lf_text_encoder_get_n_layers (const LfTextEncoder *te)
{
  return (int)te->cfg.n_layers;
}

/* ---- Plan ------------------------------------------------------- */

size_t
lf_text_encoder_plan (const LfTextEncoder *te, int64_t batch)
{
  return clip_acts_plan (&te->cfg.dims, batch * N_TOKENS);
}

/* ---- Forward ---------------------------------------------------- */

/* CLIPTextEmbeddings: token rows gathered one by one through `copy` (the op
 * table has no gather), then the 77 first positions added, broadcast over
 * the batch. */
static void
embed (LfTextEncoder *te, const int32_t *ids, int64_t batch, LfTensor *x)
{
  LfOps        *ops = te->ops;
  const int64_t rows_shape[] = { batch * N_TOKENS, te->cfg.dims.D };
  const int64_t pos_shape[] = { 1, N_TOKENS, te->cfg.dims.D };
  LfTensor      rows, pos, pos1, posb;

  lf_tensor_reshape (x, 2, rows_shape, &rows);
  for (int64_t i = 0; i < batch * N_TOKENS; i++)
    {
      LfTensor src, dst;

      lf_tensor_narrow (&te->token_embedding, 0, ids[i], 1, &src);
      lf_tensor_narrow (&rows, 0, i, 1, &dst);
      ops->copy (ops, &src, &dst);
    }
  lf_tensor_narrow (&te->position_embedding, 0, 0, N_TOKENS, &pos);
  lf_tensor_reshape (&pos, 3, pos_shape, &pos1);
  lf_tensor_expand (&pos1, 0, batch, &posb);
  ops->add (ops, x, &posb, x);
}

static gboolean
check_request (const LfTextEncoder *te,
               const int32_t       *ids,
               int64_t              batch,
               int                  clip_skip,
               GError             **error)
{
  if (clip_skip < 0 || clip_skip > te->cfg.n_layers)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("clip skip %d is outside 0 … %d for this text encoder"),
                   clip_skip, (int)te->cfg.n_layers);
      return FALSE;
    }
  for (int64_t i = 0; i < batch * N_TOKENS; i++)
    if (ids[i] < 0 || ids[i] >= te->cfg.vocab)
      {
        g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                     _ ("Token id %d is outside the text encoder's vocabulary "
                        "of %" PRId64),
                     ids[i], te->cfg.vocab);
        return FALSE;
      }
  return TRUE;
}

/* After @done layers: hand hidden_states[done] to the caller, and produce
 * the output when it is the one clip skip selects. */
static gboolean
emit (LfTextEncoder  *te,
      const ClipActs *a,
      int             done,
      int             stop,
      LfTensor       *hidden,
      LfTensor       *out,
      GError        **error)
{
  LfOps *ops = te->ops;

  if (hidden != NULL)
    ops->copy (ops, &a->x, &hidden[done]);
  if (done == stop)
    ops->layer_norm (ops, &a->x, &te->final_g, &te->final_b, te->cfg.dims.eps,
                     out);
  return lf_ops_take_error (ops, _ ("Text encoder output"), error);
}

gboolean
lf_text_encoder_forward (LfTextEncoder *te,
                         const int32_t *ids,
                         int64_t        batch,
                         int            clip_skip,
                         LfArena       *scratch,
                         LfTensor      *hidden,
                         LfTensor      *out,
                         GError       **error)
{
  const int stop = (int)te->cfg.n_layers - clip_skip;
  size_t    mark;
  ClipActs  a;
  gboolean  ok;

  g_return_val_if_fail (te != NULL && ids != NULL && out != NULL, FALSE);
  g_return_val_if_fail (batch > 0 && scratch != NULL, FALSE);

  if (!check_request (te, ids, batch, clip_skip, error))
    return FALSE;
  mark = lf_arena_mark (scratch);
  ok = clip_acts_carve (&te->cfg.dims, batch, N_TOKENS, scratch, &a, error);
  if (ok)
    {
      embed (te, ids, batch, &a.x);
      ok = lf_ops_take_error (te->ops, _ ("Text encoder embeddings"), error)
           && emit (te, &a, 0, stop, hidden, out, error);
    }
  /* Layers past the clip-skip point run only when a test asks for every
   * hidden state. */
  for (int l = 0; ok && l < te->cfg.n_layers && (hidden != NULL || l < stop);
       l++)
    {
      char what[64];

      g_snprintf (what, sizeof what, _ ("Text encoder layer %d"), l);
      clip_layer_forward (te->ops, &te->cfg.dims, &te->layers[l], TRUE, &a);
      ok = lf_ops_take_error (te->ops, what, error)
           && emit (te, &a, l + 1, stop, hidden, out, error);
    }
  lf_arena_reset (scratch, mark);
  return ok;
}

void
lf_text_encoder_free (LfTextEncoder *te)
{
  if (te == NULL)
    return;
  lf_weight_store_free (te->store);
  g_free (te->layers);
  g_free (te);
}
