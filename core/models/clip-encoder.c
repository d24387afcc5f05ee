/* clip-encoder.c: CLIPEncoderLayer (transformers 4.44 modeling_clip.py) as
 * the text tower (causal) and the vision tower (no mask) run it, and the
 * CLIPTextConfig / CLIPVisionConfig readers they share.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>

#include "linfusion.h"

#include "clip-encoder.h"

typedef enum
{
  SHAPE_D,  /* (D)    */
  SHAPE_I,  /* (I)    */
  SHAPE_DD, /* (D, D) */
  SHAPE_ID, /* (I, D) */
  SHAPE_DI, /* (D, I) */
} ClipShape;

typedef struct
{
  const char *key; /* after "<prefix>." */
  size_t      offset;
  ClipShape   shape;
} ClipKey;

/* clang-format off */
static const ClipKey layer_keys[] = {
  { "layer_norm1.weight",        G_STRUCT_OFFSET (ClipLayer, ln1_g), SHAPE_D  },
  { "layer_norm1.bias",          G_STRUCT_OFFSET (ClipLayer, ln1_b), SHAPE_D  },
  { "self_attn.q_proj.weight",   G_STRUCT_OFFSET (ClipLayer, q_w),   SHAPE_DD },
  { "self_attn.q_proj.bias",     G_STRUCT_OFFSET (ClipLayer, q_b),   SHAPE_D  },
  { "self_attn.k_proj.weight",   G_STRUCT_OFFSET (ClipLayer, k_w),   SHAPE_DD },
  { "self_attn.k_proj.bias",     G_STRUCT_OFFSET (ClipLayer, k_b),   SHAPE_D  },
  { "self_attn.v_proj.weight",   G_STRUCT_OFFSET (ClipLayer, v_w),   SHAPE_DD },
  { "self_attn.v_proj.bias",     G_STRUCT_OFFSET (ClipLayer, v_b),   SHAPE_D  },
  { "self_attn.out_proj.weight", G_STRUCT_OFFSET (ClipLayer, out_w), SHAPE_DD },
  { "self_attn.out_proj.bias",   G_STRUCT_OFFSET (ClipLayer, out_b), SHAPE_D  },
  { "layer_norm2.weight",        G_STRUCT_OFFSET (ClipLayer, ln2_g), SHAPE_D  },
  { "layer_norm2.bias",          G_STRUCT_OFFSET (ClipLayer, ln2_b), SHAPE_D  },
  { "mlp.fc1.weight",            G_STRUCT_OFFSET (ClipLayer, fc1_w), SHAPE_ID },
  { "mlp.fc1.bias",              G_STRUCT_OFFSET (ClipLayer, fc1_b), SHAPE_I  },
  { "mlp.fc2.weight",            G_STRUCT_OFFSET (ClipLayer, fc2_w), SHAPE_DI },
  { "mlp.fc2.bias",              G_STRUCT_OFFSET (ClipLayer, fc2_b), SHAPE_D  },
};
/* clang-format on */

/* ---- Config ----------------------------------------------------- */

gboolean
clip_config_read_dim (const LfConfig *cfg,
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
read_activation (const LfConfig *cfg,
                 gboolean        def_gelu,
                 gboolean       *gelu,
                 GError        **error)
{
  GError     *local = NULL;
  const char *act = lf_config_get_string (
      cfg, "hidden_act", def_gelu ? "gelu" : "quick_gelu", &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  *gelu = g_strcmp0 (act, "gelu") == 0;
  if (!*gelu && g_strcmp0 (act, "quick_gelu") != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: hidden_act “%s” is not supported (quick_gelu "
                      "or gelu)"),
                   lf_config_get_name (cfg), act);
      return FALSE;
    }
  return TRUE;
}

gboolean
clip_config_read_dims (const LfConfig *cfg,
                       const ClipDims *def,
                       ClipDims       *out,
                       GError        **error)
{
  GError *local = NULL;
  double  eps;

  if (!clip_config_read_dim (cfg, "hidden_size", def->D, &out->D, error)
      || !clip_config_read_dim (cfg, "intermediate_size", def->I, &out->I,
                                error)
      || !clip_config_read_dim (cfg, "num_attention_heads", def->n_heads,
                                &out->n_heads, error)
      || !read_activation (cfg, def->gelu, &out->gelu, error))
    return FALSE;
  eps = lf_config_get_double (cfg, "layer_norm_eps", def->eps, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  out->eps = (float)eps;
  if (out->D % out->n_heads != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: hidden_size %" PRId64
                      " does not split into %" PRId64 " heads"),
                   lf_config_get_name (cfg), out->D, out->n_heads);
      return FALSE;
    }
  return TRUE;
}

/* ---- Weights ---------------------------------------------------- */

gboolean
clip_layer_bind (LfWeightStore     *store,
                 const LfComponent *comp,
                 const char        *prefix,
                 const ClipDims    *dims,
                 ClipLayer         *layer,
                 GError           **error)
{
  const int64_t shapes[][2] = {
    [SHAPE_D] = { dims->D, 0 },        [SHAPE_I] = { dims->I, 0 },
    [SHAPE_DD] = { dims->D, dims->D }, [SHAPE_ID] = { dims->I, dims->D },
    [SHAPE_DI] = { dims->D, dims->I },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (layer_keys); i++)
    {
      const ClipKey *k = &layer_keys[i];
      const int      ndim = k->shape <= SHAPE_I ? 1 : 2;
      LfTensor      *t = G_STRUCT_MEMBER_P (layer, k->offset);

      if (!lf_weight_store_bindf (store, comp, ndim, shapes[k->shape], t, error,
                                  "%s.%s", prefix, k->key))
        return FALSE;
    }
  return TRUE;
}

/* ---- Forward ---------------------------------------------------- */

size_t
clip_acts_plan (const ClipDims *dims, int64_t rows)
{
  const size_t d
      = lf_arena_padded_size ((size_t)rows * dims->D * sizeof (float));
  const size_t m
      = lf_arena_padded_size ((size_t)rows * dims->I * sizeof (float));

  return 6 * d + m; /* x, h, q, k, v, a and the MLP hidden */
}

gboolean
clip_acts_carve (const ClipDims *dims,
                 int64_t         batch,
                 int64_t         n_tokens,
                 LfArena        *arena,
                 ClipActs       *a,
                 GError        **error)
{
  const int64_t sd[] = { batch, n_tokens, dims->D };
  const int64_t si[] = { batch, n_tokens, dims->I };
  LfTensor     *ds[] = { &a->x, &a->h, &a->q, &a->k, &a->v, &a->a };

  for (gsize i = 0; i < G_N_ELEMENTS (ds); i++)
    if (!lf_arena_tensor (arena, LF_DTYPE_F32, 3, sd, ds[i], error))
      return FALSE;
  return lf_arena_tensor (arena, LF_DTYPE_F32, 3, si, &a->m, error);
}

void
clip_layer_forward (LfOps           *ops,
                    const ClipDims  *dims,
                    const ClipLayer *w,
                    gboolean         causal,
                    ClipActs        *a)
{
  const float scale = 1.0f / sqrtf ((float)(dims->D / dims->n_heads));

  ops->layer_norm (ops, &a->x, &w->ln1_g, &w->ln1_b, dims->eps, &a->h);
  ops->linear (ops, &a->h, &w->q_w, &w->q_b, &a->q);
  ops->linear (ops, &a->h, &w->k_w, &w->k_b, &a->k);
  ops->linear (ops, &a->h, &w->v_w, &w->v_b, &a->v);
  ops->attention (ops, &a->q, &a->k, &a->v, (int)dims->n_heads, scale,
                  causal ? 1 : 0, &a->a);
  ops->linear (ops, &a->a, &w->out_w, &w->out_b, &a->h);
  ops->add (ops, &a->x, &a->h, &a->x);

  ops->layer_norm (ops, &a->x, &w->ln2_g, &w->ln2_b, dims->eps, &a->h);
  ops->linear (ops, &a->h, &w->fc1_w, &w->fc1_b, &a->m);
  if (dims->gelu)
    ops->gelu (ops, &a->m, &a->m);
  else
    ops->quick_gelu (ops, &a->m, &a->m);
  ops->linear (ops, &a->m, &w->fc2_w, &w->fc2_b, &a->h);
  ops->add (ops, &a->x, &a->h, &a->x);
}
