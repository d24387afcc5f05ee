/* clip-encoder.h: what the CLIP text and vision towers share: the
 * CLIPEncoderLayer weights and forward (transformers modeling_clip.py,
 * pre-LN attention + MLP) and the config readers with CLIPConfig's defaults.
 */
#ifndef LF_CLIP_ENCODER_H
#define LF_CLIP_ENCODER_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"
#include "weights.h"

G_BEGIN_DECLS

typedef struct
{
  int64_t  D;       /* hidden_size                               */
  int64_t  I;       /* intermediate_size                         */
  int64_t  n_heads; /* num_attention_heads                       */
  gboolean gelu;    /* hidden_act gelu, else quick_gelu          */
  float    eps;     /* layer_norm_eps                            */
} ClipDims;

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
} ClipLayer;

/* Activations of one layer over (B, N) tokens. */
typedef struct
{
  LfTensor x;       /* (B, N, D) the residual stream */
  LfTensor h;       /* (B, N, D) */
  LfTensor q, k, v; /* (B, N, D) */
  LfTensor a;       /* (B, N, D) attention output */
  LfTensor m;       /* (B, N, I) MLP hidden */
} ClipActs;

/* A size in 1 … 2^20; absent keys take @def (transformers' default, as
 * from_pretrained does). FALSE with LF_ERROR_FORMAT naming the key. */
gboolean clip_config_read_dim (const LfConfig *cfg,
                               const char     *key,
                               gint64          def,
                               int64_t        *out,
                               GError        **error);

/* hidden_size, intermediate_size, num_attention_heads, hidden_act and
 * layer_norm_eps, with @def's values for absent keys (@def->gelu: the
 * default activation). */
gboolean clip_config_read_dims (const LfConfig *cfg,
                                const ClipDims *def,
                                ClipDims       *out,
                                GError        **error);

/* Binds "<prefix>.layer_norm1.weight" … with the shapes @dims implies. */
gboolean clip_layer_bind (LfWeightStore     *store,
                          const LfComponent *comp,
                          const char        *prefix,
                          const ClipDims    *dims,
                          ClipLayer         *layer,
                          GError           **error);

/* Bytes of ClipActs for @rows = B · N tokens, as the arena counts them. */
size_t clip_acts_plan (const ClipDims *dims, int64_t rows);

gboolean clip_acts_carve (const ClipDims *dims,
                          int64_t         batch,
                          int64_t         n_tokens,
                          LfArena        *arena,
                          ClipActs       *a,
                          GError        **error);

/* a->x ← CLIPEncoderLayer (a->x): causal self-attention for the text
 * tower, none for the vision tower. */
void clip_layer_forward (LfOps           *ops,
                         const ClipDims  *dims,
                         const ClipLayer *w,
                         gboolean         causal,
                         ClipActs        *a);

G_END_DECLS

#endif /* LF_CLIP_ENCODER_H */
