/* ip-adapter-proj.c: IP-Adapter's image projection. Plain: tokens =
 * LayerNorm (reshape (proj (image_embeds), T, D)) (tencent-ailab
 * ImageProjModel, diffusers ImageProjection). Plus: the Perceiver Resampler
 * (tencent-ailab resampler.py, diffusers IPAdapterPlusImageProjection) on
 * the encoder's penultimate hidden states. Keys are the published ones
 * ("image_proj.proj.weight", "image_proj.layers.N.0.to_kv.weight", …).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "ip-adapter-private.h"
#include "unet-private.h"

#define LN_EPS 1e-5f /* torch.nn.LayerNorm default, everywhere here */
#define DIM_HEAD                                                               \
  64 /* resampler.py's dim_head; diffusers infers heads                        \
        as to_q rows / 64 from it */

/* Symbolic sizes of the key tables. */
enum
{
  DIM_W = -1,  /* resampler width (latents' last dimension) */
  DIM_A = -2,  /* attention inner width, 64 · heads */
  DIM_2A = -3, /* fused to_kv rows */
  DIM_F = -4,  /* feed-forward hidden */
  DIM_E = -5,  /* input width */
  DIM_D = -6,  /* token width */
  DIM_T = -7,  /* tokens */
  DIM_TD = -8, /* T · D */
};

#define KEY(suffix, type, member, ndim, ...)                                   \
  {                                                                            \
    suffix, offsetof (type, member), ndim,                                     \
    {                                                                          \
      __VA_ARGS__                                                              \
    }                                                                          \
  }

/* clang-format off */
static const UnetKey plain_keys[] = {
  KEY ("proj.weight", IpImageProj, proj_w, 2, DIM_TD, DIM_E),
  KEY ("proj.bias",   IpImageProj, proj_b, 1, DIM_TD),
  KEY ("norm.weight", IpImageProj, norm_g, 1, DIM_D),
  KEY ("norm.bias",   IpImageProj, norm_b, 1, DIM_D),
};

static const UnetKey plus_keys[] = {
  KEY ("latents",         IpImageProj, latents,    3, 1, DIM_T, DIM_W),
  KEY ("proj_in.weight",  IpImageProj, proj_in_w,  2, DIM_W, DIM_E),
  KEY ("proj_in.bias",    IpImageProj, proj_in_b,  1, DIM_W),
  KEY ("proj_out.weight", IpImageProj, proj_out_w, 2, DIM_D, DIM_W),
  KEY ("proj_out.bias",   IpImageProj, proj_out_b, 1, DIM_D),
  KEY ("norm_out.weight", IpImageProj, norm_out_g, 1, DIM_D),
  KEY ("norm_out.bias",   IpImageProj, norm_out_b, 1, DIM_D),
};

static const UnetKey layer_keys[] = {
  KEY ("0.norm1.weight",  IpResamplerLayer, norm1_g,   1, DIM_W),
  KEY ("0.norm1.bias",    IpResamplerLayer, norm1_b,   1, DIM_W),
  KEY ("0.norm2.weight",  IpResamplerLayer, norm2_g,   1, DIM_W),
  KEY ("0.norm2.bias",    IpResamplerLayer, norm2_b,   1, DIM_W),
  KEY ("0.to_q.weight",   IpResamplerLayer, to_q,      2, DIM_A, DIM_W),
  KEY ("0.to_kv.weight",  IpResamplerLayer, to_kv,     2, DIM_2A, DIM_W),
  KEY ("0.to_out.weight", IpResamplerLayer, to_out,    2, DIM_W, DIM_A),
  KEY ("1.0.weight",      IpResamplerLayer, ff_norm_g, 1, DIM_W),
  KEY ("1.0.bias",        IpResamplerLayer, ff_norm_b, 1, DIM_W),
  KEY ("1.1.weight",      IpResamplerLayer, ff_in,     2, DIM_F, DIM_W),
  KEY ("1.3.weight",      IpResamplerLayer, ff_out,    2, DIM_W, DIM_F),
};
/* clang-format on */

/* ---- Kind and sizes ------------------------------------------------- */

static gboolean
has (const LfComponent *comp, const char *name)
{
  return lf_component_lookup (comp, name) != NULL;
}

/* The stored shape of @name, which must exist with @ndim dimensions. */
static gboolean
stored_shape (const LfComponent *comp,
              const char        *name,
              int                ndim,
              int64_t           *shape,
              GError           **error)
{
  const LfWeight *w = lf_component_lookup (comp, name);

  if (w == NULL || w->ndim != ndim)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: %s is missing or does not have %d dimensions"),
                   lf_component_get_weight_path (comp), name, ndim);
      return FALSE;
    }
  memcpy (shape, w->shape, (size_t)ndim * sizeof *shape);
  return TRUE;
}

static gboolean
detect_kind (IpImageProj *p, const LfComponent *comp, GError **error)
{
  const char *path = lf_component_get_weight_path (comp);

  if (has (comp, "image_proj.proj.weight"))
    p->kind = IP_KIND_PLAIN;
  else if (has (comp, "image_proj.latents"))
    p->kind = IP_KIND_PLUS;
  else if (has (comp, "image_proj.proj.3.weight")
           || has (comp, "image_proj.perceiver_resampler.proj_in.weight")
           || has (comp, "image_proj.norm.weight"))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("“%s”: IP-Adapter Full Face and FaceID files are not "
                      "supported (only ip-adapter and ip-adapter-plus)"),
                   path);
      return FALSE;
    }
  else
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: not an IP-Adapter file (no image_proj.proj.weight "
                      "or image_proj.latents)"),
                   path);
      return FALSE;
    }
  return TRUE;
}

/* T = rows / D, as the LayerNorm's width gives D. */
static gboolean
plain_sizes (IpImageProj *p, const LfComponent *comp, GError **error)
{
  int64_t proj[2], norm[1];

  if (!stored_shape (comp, "image_proj.proj.weight", 2, proj, error)
      || !stored_shape (comp, "image_proj.norm.weight", 1, norm, error))
    return FALSE;
  if (norm[0] <= 0 || proj[0] % norm[0] != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: image_proj.proj.weight has %" PRId64
                      " rows, not a multiple of image_proj.norm.weight's "
                      "%" PRId64),
                   lf_component_get_weight_path (comp), proj[0], norm[0]);
      return FALSE;
    }
  p->dim = norm[0];
  p->n_tokens = proj[0] / norm[0];
  p->in_dim = proj[1];
  return TRUE;
}

static gboolean
plus_sizes (IpImageProj *p, const LfComponent *comp, GError **error)
{
  int64_t lat[3], in[2], out[2], q[2], ff[2];

  if (!stored_shape (comp, "image_proj.latents", 3, lat, error)
      || !stored_shape (comp, "image_proj.proj_in.weight", 2, in, error)
      || !stored_shape (comp, "image_proj.proj_out.weight", 2, out, error)
      || !stored_shape (comp, "image_proj.layers.0.0.to_q.weight", 2, q, error)
      || !stored_shape (comp, "image_proj.layers.0.1.1.weight", 2, ff, error))
    return FALSE;
  if (q[0] % DIM_HEAD != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: image_proj.layers.0.0.to_q.weight has %" PRId64
                      " rows, not heads of 64"),
                   lf_component_get_weight_path (comp), q[0]);
      return FALSE;
    }
  p->n_tokens = lat[1], p->width = lat[2];
  p->in_dim = in[1], p->dim = out[0];
  p->inner = q[0], p->heads = q[0] / DIM_HEAD, p->ff = ff[0];
  while (
      lf_component_hasf (comp, "image_proj.layers.%d.0.to_q.weight", p->depth))
    p->depth++;
  return TRUE;
}

gboolean
ip_image_proj_bind (IpImageProj       *p,
                    LfWeightStore     *store,
                    const LfComponent *comp,
                    GError           **error)
{
  const UnetLoader ld = { store, comp };
  int64_t          dims[8];

  if (!detect_kind (p, comp, error))
    return FALSE;
  if (p->kind == IP_KIND_PLAIN)
    {
      if (!plain_sizes (p, comp, error))
        return FALSE;
      dims[-DIM_E - 1] = p->in_dim, dims[-DIM_D - 1] = p->dim;
      dims[-DIM_TD - 1] = p->n_tokens * p->dim;
      return unet_bind_table (&ld, "image_proj", plain_keys,
                              G_N_ELEMENTS (plain_keys), dims, p, error);
    }
  if (!plus_sizes (p, comp, error))
    return FALSE;
  dims[-DIM_W - 1] = p->width, dims[-DIM_A - 1] = p->inner;
  dims[-DIM_2A - 1] = 2 * p->inner, dims[-DIM_F - 1] = p->ff;
  dims[-DIM_E - 1] = p->in_dim, dims[-DIM_D - 1] = p->dim;
  dims[-DIM_T - 1] = p->n_tokens;
  if (!unet_bind_table (&ld, "image_proj", plus_keys, G_N_ELEMENTS (plus_keys),
                        dims, p, error))
    return FALSE;
  /* (1, T, W) seen as (T, W) */
  p->latents
      = lf_tensor_2d (p->latents.data, LF_DTYPE_F32, p->n_tokens, p->width);
  p->layers = g_new0 (IpResamplerLayer, p->depth);
  for (int i = 0; i < p->depth; i++)
    {
      char prefix[48];

      g_snprintf (prefix, sizeof prefix, "image_proj.layers.%d", i);
      if (!unet_bind_table (&ld, prefix, layer_keys, G_N_ELEMENTS (layer_keys),
                            dims, &p->layers[i], error))
        return FALSE;
    }
  return TRUE;
}

void
ip_image_proj_clear (IpImageProj *p)
{
  g_clear_pointer (&p->layers, g_free);
}

/* ---- Forward -------------------------------------------------------- */

static size_t
floats (int64_t n)
{
  return lf_arena_padded_size ((size_t)n * sizeof (float));
}

size_t
ip_image_proj_plan (const IpImageProj *p, int64_t batch, int64_t n_in)
{
  const int64_t B = batch, T = p->n_tokens, W = p->width;

  if (p->kind == IP_KIND_PLAIN)
    return floats (B * T * p->dim);
  /* x, latents, cat (x, latents), q, kv, o, t, ff hidden, proj_out */
  return floats (B * n_in * W) + floats (B * T * W)
         + floats (B * (n_in + T) * W) + floats (B * T * p->inner)
         + floats (B * (n_in + T) * 2 * p->inner) + floats (B * T * p->inner)
         + floats (B * T * W) + floats (B * T * p->ff)
         + floats (B * T * p->dim);
}

static LfTensor
carve3 (LfArena *arena, int64_t b, int64_t n, int64_t c)
{
  return unet_carve (arena, 3, (int64_t[]){ b, n, c });
}

/* Buffers of one Resampler pass over B inputs of N rows. */
typedef struct
{
  LfTensor x;      /* (B, N, W) proj_in (hidden states) */
  LfTensor lat;    /* (B, T, W) the latents, updated in place */
  LfTensor cat;    /* (B, N + T, W) [norm1 (x), norm2 (latents)] */
  LfTensor q;      /* (B, T, A) */
  LfTensor kv;     /* (B, N + T, 2A) */
  LfTensor o;      /* (B, T, A) */
  LfTensor t;      /* (B, T, W) */
  LfTensor hidden; /* (B, T, F) */
} ResamplerActs;

/* PerceiverAttention then the feed-forward, each added to the latents:
 * the queries come from the latents only, the keys and values from the
 * image features and the latents together. resampler.py scales q and k
 * by 64^(-1/4) each, diffusers scales the product by 64^(-1/2): the same. */
static void
resampler_layer (LfOps                  *ops,
                 const IpImageProj      *p,
                 const IpResamplerLayer *l,
                 ResamplerActs          *r)
{
  const int64_t N = r->x.shape[1], T = p->n_tokens;
  LfTensor      xn, ln, k, v;

  lf_tensor_narrow (&r->cat, 1, 0, N, &xn);
  lf_tensor_narrow (&r->cat, 1, N, T, &ln);
  ops->layer_norm (ops, &r->x, &l->norm1_g, &l->norm1_b, LN_EPS, &xn);
  ops->layer_norm (ops, &r->lat, &l->norm2_g, &l->norm2_b, LN_EPS, &ln);
  ops->linear (ops, &ln, &l->to_q, NULL, &r->q);
  ops->linear (ops, &r->cat, &l->to_kv, NULL, &r->kv);
  lf_tensor_narrow (&r->kv, 2, 0, p->inner, &k);
  lf_tensor_narrow (&r->kv, 2, p->inner, p->inner, &v);
  ops->attention (ops, &r->q, &k, &v, (int)p->heads,
                  (float)(1.0 / sqrt ((double)DIM_HEAD)), 0, &r->o);
  ops->linear (ops, &r->o, &l->to_out, NULL, &r->t);
  ops->add (ops, &r->lat, &r->t, &r->lat);

  ops->layer_norm (ops, &r->lat, &l->ff_norm_g, &l->ff_norm_b, LN_EPS, &r->t);
  ops->linear (ops, &r->t, &l->ff_in, NULL, &r->hidden);
  ops->gelu (ops, &r->hidden, &r->hidden);
  ops->linear (ops, &r->hidden, &l->ff_out, NULL, &r->t);
  ops->add (ops, &r->lat, &r->t, &r->lat);
}

static void
resampler_forward (LfOps             *ops,
                   const IpImageProj *p,
                   const LfTensor    *x,
                   LfArena           *arena,
                   LfTensor          *tokens)
{
  const int64_t B = x->shape[0], N = x->shape[1], T = p->n_tokens;
  const int64_t W = p->width, A = p->inner;
  ResamplerActs r;
  LfTensor      lat1, latb, out;

  r.x = carve3 (arena, B, N, W);
  r.lat = carve3 (arena, B, T, W);
  r.cat = carve3 (arena, B, N + T, W);
  r.q = carve3 (arena, B, T, A);
  r.kv = carve3 (arena, B, N + T, 2 * A);
  r.o = carve3 (arena, B, T, A);
  r.t = carve3 (arena, B, T, W);
  r.hidden = carve3 (arena, B, T, p->ff);
  out = carve3 (arena, B, T, p->dim);

  ops->linear (ops, x, &p->proj_in_w, &p->proj_in_b, &r.x);
  lf_tensor_reshape (&p->latents, 3, (int64_t[]){ 1, T, W }, &lat1);
  lf_tensor_expand (&lat1, 0, B, &latb);
  ops->copy (ops, &latb, &r.lat);
  for (int i = 0; i < p->depth; i++)
    resampler_layer (ops, p, &p->layers[i], &r);
  ops->linear (ops, &r.lat, &p->proj_out_w, &p->proj_out_b, &out);
  ops->layer_norm (ops, &out, &p->norm_out_g, &p->norm_out_b, LN_EPS, tokens);
}

void
ip_image_proj_forward (LfOps             *ops,
                       const IpImageProj *p,
                       const LfTensor    *x,
                       LfArena           *arena,
                       LfTensor          *tokens)
{
  const size_t mark = lf_arena_mark (arena);

  if (p->kind == IP_KIND_PLAIN)
    {
      const int64_t B = x->shape[0];
      LfTensor      y
          = unet_carve (arena, 2, (int64_t[]){ B, p->n_tokens * p->dim });
      LfTensor y3 = lf_tensor_3d (y.data, LF_DTYPE_F32, B, p->n_tokens, p->dim);

      ops->linear (ops, x, &p->proj_w, &p->proj_b, &y);
      ops->layer_norm (ops, &y3, &p->norm_g, &p->norm_b, LN_EPS, tokens);
    }
  else
    resampler_forward (ops, p, x, arena, tokens);
  lf_arena_reset (arena, mark);
}
