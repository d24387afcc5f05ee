/* ip-adapter-private.h: what clip-vision.c, ip-adapter.c and
 * ip-adapter-proj.c share: the encoder's sizes and the image projection
 * (diffusers ImageProjection / IPAdapterPlusImageProjection, weights under
 * the published tencent-ailab names).
 */
#ifndef LF_IP_ADAPTER_PRIVATE_H
#define LF_IP_ADAPTER_PRIVATE_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "ip-adapter.h"
#include "weights.h"

G_BEGIN_DECLS

/* ---- The encoder's sizes ------------------------------------------- */

int64_t clip_vision_get_hidden_size (const LfClipVision *enc);
int64_t clip_vision_get_projection_dim (const LfClipVision *enc);
int64_t clip_vision_get_n_tokens (const LfClipVision *enc); /* 1 + patches */

/* Tests: @last (B, N, D) ← last_hidden_state (before post_layernorm). */
gboolean clip_vision_forward_last (LfClipVision   *enc,
                                   const LfTensor *pixels,
                                   LfArena        *scratch,
                                   LfTensor       *last,
                                   GError        **error);

/* ---- Image projection ---------------------------------------------- */

typedef enum
{
  IP_KIND_PLAIN, /* ip-adapter_sd15: Linear + LayerNorm on image_embeds */
  IP_KIND_PLUS,  /* ip-adapter-plus: Resampler on hidden_states[-2] */
} IpKind;

/* One Resampler block: PerceiverAttention, then the feed-forward. */
typedef struct
{
  LfTensor norm1_g, norm1_b;     /* (W) on the image features */
  LfTensor norm2_g, norm2_b;     /* (W) on the latents */
  LfTensor to_q;                 /* (A, W), A = 64 · heads */
  LfTensor to_kv;                /* (2A, W): k rows first, then v */
  LfTensor to_out;               /* (W, A) */
  LfTensor ff_norm_g, ff_norm_b; /* (W) layers.N.1.0 */
  LfTensor ff_in;                /* (F, W) layers.N.1.1 */
  LfTensor ff_out;               /* (W, F) layers.N.1.3 */
} IpResamplerLayer;

typedef struct
{
  IpKind  kind;
  int64_t n_tokens; /* T: 4 plain, num_queries (16) Plus */
  int64_t dim;      /* D: the tokens' width, cross_attention_dim */
  int64_t in_dim;   /* E: projection_dim (plain) or hidden_size (Plus) */

  /* plain */
  LfTensor proj_w;         /* (T · D, E) */
  LfTensor proj_b;         /* (T · D) */
  LfTensor norm_g, norm_b; /* (D) */

  /* Plus */
  int64_t           width, inner, heads, ff; /* W, A, A / 64, F */
  int               depth;
  LfTensor          latents;                /* (T, W) stored (1, T, W) */
  LfTensor          proj_in_w;              /* (W, E) */
  LfTensor          proj_in_b;              /* (W) */
  LfTensor          proj_out_w;             /* (D, W) */
  LfTensor          proj_out_b;             /* (D) */
  LfTensor          norm_out_g, norm_out_b; /* (D) */
  IpResamplerLayer *layers;                 /* depth */
} IpImageProj;

/* Finds the kind and sizes from the keys of @comp ("image_proj.*") and
 * binds the weights. LF_ERROR_UNSUPPORTED for the Full Face and FaceID
 * variants, LF_ERROR_FORMAT naming the file and key otherwise. */
gboolean ip_image_proj_bind (IpImageProj       *p,
                             LfWeightStore     *store,
                             const LfComponent *comp,
                             GError           **error);
void     ip_image_proj_clear (IpImageProj *p);

/* Arena bytes of ip_image_proj_forward for @batch inputs of @n_in rows
 * (1 for the plain projection). */
size_t ip_image_proj_plan (const IpImageProj *p, int64_t batch, int64_t n_in);

/* tokens (B, T, D) ← projection (x): x (B, E) image_embeds (plain) or
 * (B, N_in, E) hidden states (Plus). */
void ip_image_proj_forward (LfOps             *ops,
                            const IpImageProj *p,
                            const LfTensor    *x,
                            LfArena           *arena,
                            LfTensor          *tokens);

G_END_DECLS

#endif /* LF_IP_ADAPTER_PRIVATE_H */
