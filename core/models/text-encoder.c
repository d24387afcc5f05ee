/* text-encoder.c: the CLIP text transformer (transformers
 * modeling_clip.py CLIPTextModel, called as diffusers' SD pipelines call it).
 * Weight names are transformers'. The prompt → conditioning path is in
 * text-encoder-prompt.c.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>

#include "linfusion.h"

#include "backend.h"
#include "text-encoder.h"
#include "tokenizer-private.h"
#include "weights.h"

#define N_TOKENS LF_TOKENS_PER_CHUNK /* every sequence is 77 long */

typedef struct
{
  int64_t  D;            /* hidden_size                                  */
  int64_t  intermediate; /* intermediate_size, I                         */
  int64_t  n_layers;     /* num_hidden_layers, L                         */
  int64_t  n_heads;      /* num_attention_heads                          */
  int64_t  n_positions;  /* max_position_embeddings, P (≥ 77)            */
  int64_t  vocab;        /* vocab_size, V                                */
  gboolean gelu;         /* hidden_act gelu (SD-2.x), else quick_gelu    */
  float    eps;          /* layer_norm_eps                               */
} TeConfig;

typedef struct
{
  LfTensor ln1_g, ln1_b;         /* (D) */
  LfTensor q_w, k_w, v_w, out_w; /* (D, D) */
  LfTensor q_b, k_b, v_b, out_b; /* (D) */
  LfTensor ln2_g, ln2_b;         /* (D) */
  LfTensor fc1_w;                /* (I, D) */
  LfTensor fc1_b;                /* (I) */
  LfTensor fc2_w;                /* (D, I) */
  LfTensor fc2_b;                /* (D) */
} TeLayer;

struct _LfTextEncoder
{
  TeConfig       cfg;
  LfOps         *ops;
  LfWeightStore *store;
  LfTensor       token_embedding;    /* (V, D) */
  LfTensor       position_embedding; /* (P, D) */
  TeLayer       *layers;             /* (L) */
  LfTensor       final_g, final_b;   /* (D) */
};

/* Activations of one forward, carved from the caller's arena. */
typedef struct
{
  LfTensor x;       /* (B, 77, D) the residual stream */
  LfTensor h;       /* (B, 77, D) */
  LfTensor q, k, v; /* (B, 77, D) */
  LfTensor a;       /* (B, 77, D) attention output */
  LfTensor m;       /* (B, 77, I) MLP hidden */
} TeActs;

/* ---- Key table -------------------------------------------------- */

typedef enum
{
  SHAPE_D,  /* (D)    */
  SHAPE_I,  /* (I)    */
  SHAPE_DD, /* (D, D) */
  SHAPE_ID, /* (I, D) */
  SHAPE_DI, /* (D, I) */
} TeShape;

typedef struct
{
  const char *key; /* after "text_model.encoder.layers.N." */
  size_t      offset;
  TeShape     shape;
} TeKey;

/* clang-format off */
static const TeKey layer_keys[] = {
  { "layer_norm1.weight",        G_STRUCT_OFFSET (TeLayer, ln1_g), SHAPE_D  },
  { "layer_norm1.bias",          G_STRUCT_OFFSET (TeLayer, ln1_b), SHAPE_D  },
  { "self_attn.q_proj.weight",   G_STRUCT_OFFSET (TeLayer, q_w),   SHAPE_DD },
  { "self_attn.q_proj.bias",     G_STRUCT_OFFSET (TeLayer, q_b),   SHAPE_D  },
  { "self_attn.k_proj.weight",   G_STRUCT_OFFSET (TeLayer, k_w),   SHAPE_DD },
  { "self_attn.k_proj.bias",     G_STRUCT_OFFSET (TeLayer, k_b),   SHAPE_D  },
  { "self_attn.v_proj.weight",   G_STRUCT_OFFSET (TeLayer, v_w),   SHAPE_DD },
  { "self_attn.v_proj.bias",     G_STRUCT_OFFSET (TeLayer, v_b),   SHAPE_D  },
  { "self_attn.out_proj.weight", G_STRUCT_OFFSET (TeLayer, out_w), SHAPE_DD },
  { "self_attn.out_proj.bias",   G_STRUCT_OFFSET (TeLayer, out_b), SHAPE_D  },
  { "layer_norm2.weight",        G_STRUCT_OFFSET (TeLayer, ln2_g), SHAPE_D  },
  { "layer_norm2.bias",          G_STRUCT_OFFSET (TeLayer, ln2_b), SHAPE_D  },
  { "mlp.fc1.weight",            G_STRUCT_OFFSET (TeLayer, fc1_w), SHAPE_ID },
  { "mlp.fc1.bias",              G_STRUCT_OFFSET (TeLayer, fc1_b), SHAPE_I  },
  { "mlp.fc2.weight",            G_STRUCT_OFFSET (TeLayer, fc2_w), SHAPE_DI },
  { "mlp.fc2.bias",              G_STRUCT_OFFSET (TeLayer, fc2_b), SHAPE_D  },
};
/* clang-format on */

/* ---- Config ----------------------------------------------------- */

/* A positive dimension; absent keys take transformers' CLIPTextConfig
 * defaults, as from_pretrained does. */
static gboolean
read_dim (const LfConfig *cfg,
          const char     *key,
          gint64          def,
          int64_t        *out,
          GError        **error)
{
  GError *local = NULL;
  gint64  v = lf_config_get_int (cfg, key, def, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (v <= 0 || v > (1 << 20))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: %s is %" PRId64 ", expected a positive size"),
                   lf_config_get_name (cfg), key, v);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
read_activation (const LfConfig *cfg, TeConfig *c, GError **error)
{
  GError     *local = NULL;
  const char *act
      = lf_config_get_string (cfg, "hidden_act", "quick_gelu", &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  c->gelu = g_strcmp0 (act, "gelu") == 0;
  if (!c->gelu && g_strcmp0 (act, "quick_gelu") != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: hidden_act “%s” is not supported (quick_gelu "
                      "or gelu)"),
                   lf_config_get_name (cfg), act);
      return FALSE;
    }
  return TRUE;
}

static gboolean
te_config_read (const LfConfig *cfg, TeConfig *c, GError **error)
{
  GError *local = NULL;
  double  eps;

  if (!read_dim (cfg, "hidden_size", 512, &c->D, error)
      || !read_dim (cfg, "intermediate_size", 2048, &c->intermediate, error)
      || !read_dim (cfg, "num_hidden_layers", 12, &c->n_layers, error)
      || !read_dim (cfg, "num_attention_heads", 8, &c->n_heads, error)
      || !read_dim (cfg, "max_position_embeddings", 77, &c->n_positions, error)
      || !read_dim (cfg, "vocab_size", 49408, &c->vocab, error)
      || !read_activation (cfg, c, error))
    return FALSE;
  eps = lf_config_get_double (cfg, "layer_norm_eps", 1e-5, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  c->eps = (float)eps;
  if (c->D % c->n_heads != 0 || c->n_positions < N_TOKENS)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: hidden_size %" PRId64 " with %" PRId64
                      " heads and %" PRId64 " positions is not supported"),
                   lf_config_get_name (cfg), c->D, c->n_heads, c->n_positions);
      return FALSE;
    }
  return TRUE;
}

/* ---- Load ------------------------------------------------------- */

static gboolean
bind_layer (LfTextEncoder *te, const LfComponent *comp, int l, GError **error)
{
  const TeConfig *c = &te->cfg;

  for (gsize i = 0; i < G_N_ELEMENTS (layer_keys); i++)
    {
      const TeKey  *k = &layer_keys[i];
      const int64_t shapes[][2] = {
        [SHAPE_D] = { c->D, 0 },
        [SHAPE_I] = { c->intermediate, 0 },
        [SHAPE_DD] = { c->D, c->D },
        [SHAPE_ID] = { c->intermediate, c->D },
        [SHAPE_DI] = { c->D, c->intermediate },
      };
      const int ndim = k->shape <= SHAPE_I ? 1 : 2;
      LfTensor *t = G_STRUCT_MEMBER_P (&te->layers[l], k->offset);

      if (!lf_weight_store_bindf (te->store, comp, ndim, shapes[k->shape], t,
                                  error, "text_model.encoder.layers.%d.%s", l,
                                  k->key))
        return FALSE;
    }
  return TRUE;
}

static gboolean
bind_weights (LfTextEncoder *te, const LfComponent *comp, GError **error)
{
  const TeConfig *c = &te->cfg;
  const int64_t   tok[] = { c->vocab, c->D };
  const int64_t   pos[] = { c->n_positions, c->D };
  const int64_t   d[] = { c->D };

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
  te->layers = g_new0 (TeLayer, te->cfg.n_layers);
  if (!bind_weights (te, comp, error))
    return NULL;
  return g_steal_pointer (&te);
}

int64_t
lf_text_encoder_get_hidden_size (const LfTextEncoder *te)
{
  return te->cfg.D;
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
  const size_t rows = (size_t)batch * N_TOKENS;
  const size_t d = lf_arena_padded_size (rows * te->cfg.D * sizeof (float));
  const size_t m
      = lf_arena_padded_size (rows * te->cfg.intermediate * sizeof (float));

  return 6 * d + m; /* x, h, q, k, v, a and the MLP hidden */
}

static gboolean
acts_carve (const LfTextEncoder *te,
            int64_t              batch,
            LfArena             *arena,
            TeActs              *a,
            GError             **error)
{
  const int64_t sd[] = { batch, N_TOKENS, te->cfg.D };
  const int64_t si[] = { batch, N_TOKENS, te->cfg.intermediate };
  LfTensor     *ds[] = { &a->x, &a->h, &a->q, &a->k, &a->v, &a->a };

  for (gsize i = 0; i < G_N_ELEMENTS (ds); i++)
    if (!lf_arena_tensor (arena, LF_DTYPE_F32, 3, sd, ds[i], error))
      return FALSE;
  return lf_arena_tensor (arena, LF_DTYPE_F32, 3, si, &a->m, error);
}

/* ---- Forward ---------------------------------------------------- */

/* CLIPTextEmbeddings: token rows gathered one by one through `copy` (the op
 * table has no gather), then the 77 first positions added, broadcast over
 * the batch. */
static void
embed (LfTextEncoder *te, const int32_t *ids, int64_t batch, LfTensor *x)
{
  LfOps        *ops = te->ops;
  const int64_t rows_shape[] = { batch * N_TOKENS, te->cfg.D };
  const int64_t pos_shape[] = { 1, N_TOKENS, te->cfg.D };
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

/* CLIPEncoderLayer: pre-LN, causal self-attention, then the MLP. */
static void
layer_forward (LfTextEncoder *te, const TeLayer *w, TeActs *a)
{
  LfOps          *ops = te->ops;
  const TeConfig *c = &te->cfg;
  const float     scale = 1.0f / sqrtf ((float)(c->D / c->n_heads));

  ops->layer_norm (ops, &a->x, &w->ln1_g, &w->ln1_b, c->eps, &a->h);
  ops->linear (ops, &a->h, &w->q_w, &w->q_b, &a->q);
  ops->linear (ops, &a->h, &w->k_w, &w->k_b, &a->k);
  ops->linear (ops, &a->h, &w->v_w, &w->v_b, &a->v);
  ops->attention (ops, &a->q, &a->k, &a->v, (int)c->n_heads, scale, 1, &a->a);
  ops->linear (ops, &a->a, &w->out_w, &w->out_b, &a->h);
  ops->add (ops, &a->x, &a->h, &a->x);

  ops->layer_norm (ops, &a->x, &w->ln2_g, &w->ln2_b, c->eps, &a->h);
  ops->linear (ops, &a->h, &w->fc1_w, &w->fc1_b, &a->m);
  if (c->gelu)
    ops->gelu (ops, &a->m, &a->m);
  else
    ops->quick_gelu (ops, &a->m, &a->m);
  ops->linear (ops, &a->m, &w->fc2_w, &w->fc2_b, &a->h);
  ops->add (ops, &a->x, &a->h, &a->x);
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
emit (LfTextEncoder *te,
      const TeActs  *a,
      int            done,
      int            stop,
      LfTensor      *hidden,
      LfTensor      *out,
      GError       **error)
{
  LfOps *ops = te->ops;

  if (hidden != NULL)
    ops->copy (ops, &a->x, &hidden[done]);
  if (done == stop)
    ops->layer_norm (ops, &a->x, &te->final_g, &te->final_b, te->cfg.eps, out);
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
  TeActs    a;
  gboolean  ok;

  g_return_val_if_fail (te != NULL && ids != NULL && out != NULL, FALSE);
  g_return_val_if_fail (batch > 0 && scratch != NULL, FALSE);

  if (!check_request (te, ids, batch, clip_skip, error))
    return FALSE;
  mark = lf_arena_mark (scratch);
  ok = acts_carve (te, batch, scratch, &a, error);
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
      layer_forward (te, &te->layers[l], &a);
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
