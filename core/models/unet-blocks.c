/* unet-blocks.c: the UNet's building blocks, each a list of op calls.
 * Mirrors diffusers 0.30.3 resnet.py (ResnetBlock2D), downsampling.py,
 * upsampling.py, transformers/transformer_2d.py (Transformer2DModel,
 * continuous input), attention.py (BasicTransformerBlock, FeedForward with
 * GEGLU) and attention_processor.py (Attention with AttnProcessor, and
 * IPAdapterAttnProcessor in attn2 when an IP-Adapter is mounted).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "linfusion.h"

#include "unet-private.h"

/* diffusers hard-codes these, whatever the config says. */
#define TRANSFORMER_GN_EPS 1e-6f
#define LAYER_NORM_EPS     1e-5f

static const LfConv2dParams conv3x3 = { .stride = 1,
                                        .dilation = 1,
                                        .pad_top = 1,
                                        .pad_bottom = 1,
                                        .pad_left = 1,
                                        .pad_right = 1 };

gboolean
unet_bind_table (const UnetLoader *ld,
                 const char       *prefix,
                 const UnetKey    *keys,
                 gsize             n_keys,
                 const int64_t    *dims,
                 void             *base,
                 GError          **error)
{
  for (gsize i = 0; i < n_keys; i++)
    {
      int64_t   shape[4];
      LfTensor *out = (LfTensor *)((char *)base + keys[i].offset);

      for (int d = 0; d < keys[i].ndim; d++)
        shape[d] = keys[i].shape[d] < 0 ? dims[-keys[i].shape[d] - 1]
                                        : keys[i].shape[d];
      if (!lf_weight_store_bindf (ld->store, ld->comp, keys[i].ndim, shape, out,
                                  error, "%s.%s", prefix, keys[i].suffix))
        return FALSE;
    }
  return TRUE;
}

size_t
unet_bytes (int64_t n_floats)
{
  return lf_arena_padded_size ((size_t)n_floats * sizeof (float));
}

LfTensor
unet_carve (LfArena *arena, int ndim, const int64_t *shape)
{
  LfTensor t;
  gboolean ok = lf_arena_tensor (arena, LF_DTYPE_F32, ndim, shape, &t, NULL);

  g_assert (ok);
  return t;
}

/* @b (C) seen with @y's shape: stride 1 along @dim, 0 elsewhere. */
static LfTensor
broadcast_along (const LfTensor *b, const LfTensor *y, int dim)
{
  LfTensor v = *y;

  v.data = b->data;
  for (int i = 0; i < v.ndim; i++)
    v.stride[i] = i == dim ? 1 : 0;
  return v;
}

/* The same contiguous tensor with its leading dimensions merged. */
static LfTensor
as_rows (const LfTensor *t)
{
  LfTensor      r;
  const int64_t shape[2]
      = { lf_tensor_numel (t) / t->shape[t->ndim - 1], t->shape[t->ndim - 1] };

  if (t->ndim == 2 || !lf_tensor_reshape (t, 2, shape, &r))
    return *t;
  return r;
}

/* (B, C, H, W) seen as (B, C, H·W). */
static LfTensor
as_planes (const LfTensor *t)
{
  LfTensor      r;
  const int64_t shape[3]
      = { t->shape[0], t->shape[1], t->shape[2] * t->shape[3] };

  lf_tensor_reshape (t, 3, shape, &r);
  return r;
}

void
unet_linear (LfOps          *ops,
             const LfTensor *x,
             const LfTensor *w,
             const LfTensor *b,
             LfTensor       *y,
             gboolean        accumulate)
{
  LfTensor x2 = as_rows (x), y2 = as_rows (y);

  if (!accumulate)
    {
      ops->linear (ops, &x2, w, b, &y2);
      return;
    }
  ops->gemm (ops, &x2, 0, w, 1, 1.0f, 1.0f, &y2);
  if (b != NULL)
    {
      LfTensor bv = broadcast_along (b, &y2, 1);

      ops->add (ops, &y2, &bv, &y2);
    }
}

/* ---- ResnetBlock2D ---------------------------------------------------- */

size_t
unet_resnet_plan (const UnetResnet *r, int64_t batch, int64_t hw)
{
  return unet_bytes (batch * MAX (r->c_in, r->c_out) * hw)
         + unet_bytes (batch * r->c_out) + unet_bytes (r->c_out);
}

/* h = conv1 (silu (norm1 (x))) + time_emb_proj (silu (temb));
 * y = conv2 (silu (norm2 (h))) + shortcut (x). conv1's bias is folded into
 * the time projection and conv2's into the shortcut's, saving two passes. */
void
unet_resnet_forward (const UnetRun    *run,
                     const UnetResnet *r,
                     const LfTensor   *x,
                     LfTensor         *y)
{
  LfOps        *ops = run->ops;
  const int64_t B = x->shape[0], H = x->shape[2], W = x->shape[3];
  const size_t  mark = lf_arena_mark (run->arena);
  const int64_t tmp_shape[2] = { B, MAX (r->c_in, r->c_out) * H * W };
  const int64_t tp_shape[2] = { B, r->c_out }, bias_shape[1] = { r->c_out };
  LfTensor      tmp = unet_carve (run->arena, 2, tmp_shape);
  LfTensor      tp = unet_carve (run->arena, 2, tp_shape);
  LfTensor      bias = unet_carve (run->arena, 1, bias_shape);
  LfTensor      t_in = lf_tensor_4d (tmp.data, LF_DTYPE_F32, B, r->c_in, H, W);
  LfTensor t_out = lf_tensor_4d (tmp.data, LF_DTYPE_F32, B, r->c_out, H, W);
  LfTensor bv, tpv = *y;

  ops->linear (ops, run->temb_silu, &r->temb_w, &r->temb_b, &tp);
  bv = broadcast_along (&r->conv1_b, &tp, 1);
  ops->add (ops, &tp, &bv, &tp);
  ops->group_norm_silu (ops, x, &r->norm1_gamma, &r->norm1_beta,
                        (int)run->groups, run->eps, &t_in);
  ops->conv2d (ops, &t_in, &r->conv1_w, NULL, &conv3x3, y);
  tpv.data = tp.data;
  tpv.stride[0] = r->c_out, tpv.stride[1] = 1, tpv.stride[2] = 0,
  tpv.stride[3] = 0;
  ops->add (ops, y, &tpv, y);
  ops->group_norm_silu (ops, y, &r->norm2_gamma, &r->norm2_beta,
                        (int)run->groups, run->eps, &t_out);
  if (r->shortcut_w.data == NULL)
    {
      ops->conv2d (ops, &t_out, &r->conv2_w, &r->conv2_b, &conv3x3, y);
      ops->add (ops, y, x, y);
    }
  else
    {
      LfTensor x3 = as_planes (x), y3 = as_planes (y);

      ops->conv2d (ops, &t_out, &r->conv2_w, NULL, &conv3x3, y);
      ops->gemm (ops, &r->shortcut_w, 0, &x3, 0, 1.0f, 1.0f, &y3);
      ops->add (ops, &r->conv2_b, &r->shortcut_b, &bias);
      bv = broadcast_along (&bias, &y3, 1);
      ops->add (ops, &y3, &bv, &y3);
    }
  lf_arena_reset (run->arena, mark);
}

/* ---- Downsample2D / Upsample2D ----------------------------------------- */

void
unet_downsample_forward (LfOps          *ops,
                         const LfTensor *w,
                         const LfTensor *b,
                         const LfTensor *x,
                         LfTensor       *y)
{
  const LfConv2dParams p = { .stride = 2,
                             .dilation = 1,
                             .pad_top = 1,
                             .pad_bottom = 1,
                             .pad_left = 1,
                             .pad_right = 1 };

  ops->conv2d (ops, x, w, b, &p, y);
}

void
unet_upsample_forward (LfOps          *ops,
                       const LfTensor *w,
                       const LfTensor *b,
                       const LfTensor *x,
                       LfTensor       *tmp,
                       LfTensor       *y)
{
  ops->upsample_nearest (ops, x, tmp);
  ops->conv2d (ops, tmp, w, b, &conv3x3, y);
}

/* ---- Attention --------------------------------------------------------- */

void
unet_attention_forward (LfOps               *ops,
                        const UnetAttention *a,
                        int64_t              heads,
                        LfTensor            *x,
                        const LfTensor      *context,
                        UnetAttnScratch     *s,
                        LfTensor            *y,
                        gboolean             accumulate)
{
  const LfTensor *src = context != NULL ? context : x;
  const int64_t   d = x->shape[x->ndim - 1] / heads;

  unet_linear (ops, x, &a->to_q, NULL, &s->q, FALSE);
  unet_linear (ops, src, &a->to_k, NULL, &s->k, FALSE);
  unet_linear (ops, src, &a->to_v, NULL, &s->v, FALSE);
  ops->attention (ops, &s->q, &s->k, &s->v, (int)heads,
                  (float)(1.0 / sqrt ((double)d)), 0, x);
  unet_linear (ops, x, &a->out_w, &a->out_b, y, accumulate);
}

/* ---- Transformer2DModel ------------------------------------------------ */

/* Rows of one feed-forward / MLP chunk. */
static int64_t
chunk_rows (int64_t rows)
{
  return MIN (rows, LF_UNET_CHUNK_TOKENS);
}

static int64_t
mlp_floats (int64_t rows, int64_t C, int64_t max_mid)
{
  return chunk_rows (rows) * MAX (8 * C, max_mid + C);
}

/* k and v of the IP-Adapter branch, (B, T, C) each, when one is mounted
 * (all blocks of a transformer are mounted together). */
static size_t
ip_plan (const UnetTransformer *t, int64_t batch)
{
  const int64_t T = t->blocks[0].attn2.n_ip_tokens;

  return T > 0 ? 2 * unet_bytes (batch * T * t->channels) : 0;
}

size_t
unet_transformer_plan (const UnetTransformer *t,
                       int64_t                batch,
                       int64_t                hw,
                       int64_t                context_len,
                       int64_t                max_mid)
{
  const int64_t C = t->channels, rows = batch * hw;
  const size_t  full = unet_bytes (rows * C);
  const size_t  blocks = 4 * full + 2 * unet_bytes (batch * context_len * C)
                        + unet_bytes (mlp_floats (rows, C, max_mid))
                        + unet_bytes (chunk_rows (rows) * 4 * C);

  return full + MAX (full, blocks + ip_plan (t, batch));
}

/* FeedForward: h += net.2 (geglu (net.0.proj (x))), in chunks of rows so
 * the (rows, 8C) projection stays bounded. */
static void
feed_forward (LfOps                *ops,
              const UnetBasicBlock *blk,
              const LfTensor       *x,
              LfTensor             *h,
              float                *p_buf,
              float                *g_buf)
{
  const LfTensor x2 = as_rows (x), h2 = as_rows (h);
  const int64_t  rows = x2.shape[0], C = x2.shape[1];
  const int64_t  n_max = chunk_rows (rows);

  for (int64_t r0 = 0; r0 < rows; r0 += n_max)
    {
      const int64_t n = MIN (n_max, rows - r0);
      LfTensor      xc, hc;
      LfTensor      p = lf_tensor_2d (p_buf, LF_DTYPE_F32, n, 8 * C);
      LfTensor      g = lf_tensor_2d (g_buf, LF_DTYPE_F32, n, 4 * C);

      lf_tensor_narrow (&x2, 0, r0, n, &xc);
      lf_tensor_narrow (&h2, 0, r0, n, &hc);
      ops->linear (ops, &xc, &blk->ff_in_w, &blk->ff_in_b, &p);
      ops->geglu (ops, &p, &g);
      unet_linear (ops, &g, &blk->ff_out_w, &blk->ff_out_b, &hc, TRUE);
    }
}

typedef struct
{
  LfTensor        a;     /* (B, N, C) norm outputs, then attention outputs */
  UnetAttnScratch self;  /* q, k, v (B, N, C) */
  UnetAttnScratch cross; /* q (B, N, C), k, v (B, L, C) */
  float          *ff_g;  /* (chunk, 4C) GEGLU output */
  LfTensor        ip_k, ip_v; /* (B, T, C) IP-Adapter branch; NULL data
                                 without one */
} BlockBuffers;

/* Whether @a's IP-Adapter branch runs, and whether run->ip_tokens fit it. */
static gboolean
ip_branch_runs (const UnetRun *run, const UnetAttention *a, int64_t B)
{
  const LfTensor *tok = run->ip_tokens;

  if (tok == NULL)
    return FALSE;
  if (a->to_k_ip.data == NULL || tok->ndim != 3 || tok->shape[0] != B
      || tok->shape[1] != a->n_ip_tokens
      || tok->shape[2] != a->to_k_ip.shape[1])
    {
      lf_ops_fail (run->ops, LF_STATUS_INVALID,
                   "IP-Adapter tokens (%lld, %lld, %lld) given to an attn2 "
                   "with %s",
                   (long long)tok->shape[0],
                   (long long)(tok->ndim > 1 ? tok->shape[1] : 0),
                   (long long)(tok->ndim > 2 ? tok->shape[2] : 0),
                   a->to_k_ip.data == NULL ? "no adapter mounted"
                                           : "another adapter mounted");
      return FALSE;
    }
  /* diffusers skips the branch at scale 0 */
  return run->ip_scale != 0.0f;
}

/* IPAdapterAttnProcessor: o = attention (q, k_text, v_text) + ip_scale ·
 * attention (q, to_k_ip (tokens), to_v_ip (tokens)) with the same query
 * and heads, then one to_out; h += to_out (o). The image branch's output
 * goes to bb->self.k, which attn1 no longer needs. */
static void
cross_attention_forward (const UnetRun         *run,
                         const UnetTransformer *t,
                         const UnetAttention   *a,
                         LfTensor              *h,
                         BlockBuffers          *bb)
{
  LfOps        *ops = run->ops;
  const int64_t d = t->channels / t->heads;
  const float   scale = (float)(1.0 / sqrt ((double)d));
  LfTensor     *x = &bb->a, *o_ip = &bb->self.k;

  if (!ip_branch_runs (run, a, h->shape[0]))
    {
      unet_attention_forward (ops, a, t->heads, x, run->context, &bb->cross, h,
                              TRUE);
      return;
    }
  unet_linear (ops, x, &a->to_q, NULL, &bb->cross.q, FALSE);
  unet_linear (ops, run->context, &a->to_k, NULL, &bb->cross.k, FALSE);
  unet_linear (ops, run->context, &a->to_v, NULL, &bb->cross.v, FALSE);
  ops->attention (ops, &bb->cross.q, &bb->cross.k, &bb->cross.v, (int)t->heads,
                  scale, 0, x);
  unet_linear (ops, run->ip_tokens, &a->to_k_ip, NULL, &bb->ip_k, FALSE);
  unet_linear (ops, run->ip_tokens, &a->to_v_ip, NULL, &bb->ip_v, FALSE);
  ops->attention (ops, &bb->cross.q, &bb->ip_k, &bb->ip_v, (int)t->heads, scale,
                  0, o_ip);
  ops->scale (ops, o_ip, run->ip_scale, o_ip);
  ops->add (ops, x, o_ip, x);
  unet_linear (ops, x, &a->out_w, &a->out_b, h, TRUE);
}

/* BasicTransformerBlock: h += attn1 (norm1 (h)); h += attn2 (norm2 (h),
 * context); h += ff (norm3 (h)). LinFusion replaces exactly attn1. */
static void
basic_block_forward (const UnetRun         *run,
                     const UnetTransformer *t,
                     const UnetBasicBlock  *blk,
                     LfTensor              *h,
                     BlockBuffers          *bb)
{
  LfOps *ops = run->ops;

  ops->layer_norm (ops, h, &blk->norm1_gamma, &blk->norm1_beta, LAYER_NORM_EPS,
                   &bb->a);
  if (blk->linfusion != NULL)
    lf_linfusion_forward (ops, blk->linfusion, &bb->a, &bb->self, h, TRUE);
  else
    unet_attention_forward (ops, &blk->attn1, t->heads, &bb->a, NULL, &bb->self,
                            h, TRUE);
  ops->layer_norm (ops, h, &blk->norm2_gamma, &blk->norm2_beta, LAYER_NORM_EPS,
                   &bb->a);
  cross_attention_forward (run, t, &blk->attn2, h, bb);
  ops->layer_norm (ops, h, &blk->norm3_gamma, &blk->norm3_beta, LAYER_NORM_EPS,
                   &bb->a);
  feed_forward (ops, blk, &bb->a, h, bb->self.mlp, bb->ff_g);
}

static void
carve_block_buffers (const UnetRun         *run,
                     const UnetTransformer *t,
                     int64_t                B,
                     int64_t                N,
                     int64_t                max_mid,
                     BlockBuffers          *bb)
{
  const int64_t C = t->channels, L = run->context->shape[1];
  const int64_t full[3] = { B, N, C }, ctx[3] = { B, L, C };
  const int64_t mlp[1] = { mlp_floats (B * N, C, max_mid) };
  const int64_t g[1] = { chunk_rows (B * N) * 4 * C };
  LfTensor      m;

  bb->a = unet_carve (run->arena, 3, full);
  bb->self.q = unet_carve (run->arena, 3, full);
  bb->self.k = unet_carve (run->arena, 3, full);
  bb->self.v = unet_carve (run->arena, 3, full);
  bb->cross.q = bb->self.q;
  bb->cross.k = unet_carve (run->arena, 3, ctx);
  bb->cross.v = unet_carve (run->arena, 3, ctx);
  m = unet_carve (run->arena, 1, mlp);
  bb->self.mlp = m.data;
  bb->self.mlp_floats = mlp[0];
  bb->ff_g = unet_carve (run->arena, 1, g).data;
  bb->ip_k = bb->ip_v = (LfTensor){ 0 };
  if (run->ip_tokens != NULL && t->blocks[0].attn2.n_ip_tokens > 0)
    {
      const int64_t ip[3] = { B, t->blocks[0].attn2.n_ip_tokens, C };

      bb->ip_k = unet_carve (run->arena, 3, ip);
      bb->ip_v = unet_carve (run->arena, 3, ip);
    }
}

/* Transformer2DModel: GroupNorm (eps 1e-6) → proj_in → blocks → proj_out
 * → + x. proj_in and proj_out are GEMMs that read and write NCHW directly,
 * so no layout copy is made; a 1×1 conv and a Linear are the same GEMM. */
void
unet_transformer_forward (const UnetRun         *run,
                          const UnetTransformer *t,
                          LfTensor              *x)
{
  LfOps        *ops = run->ops;
  const int64_t B = x->shape[0], C = t->channels;
  const int64_t N = x->shape[2] * x->shape[3];
  const int64_t h_shape[3] = { B, N, C };
  const size_t  mark = lf_arena_mark (run->arena);
  LfTensor      h = unet_carve (run->arena, 3, h_shape);
  const size_t  mark_h = lf_arena_mark (run->arena);
  LfTensor      gn = unet_carve (run->arena, 4, x->shape);
  LfTensor      gn3 = as_planes (&gn), x3 = as_planes (x), bv;
  BlockBuffers  bb;
  const int64_t max_mid = run->max_mid;

  ops->group_norm (ops, x, &t->norm_gamma, &t->norm_beta, (int)run->groups,
                   TRANSFORMER_GN_EPS, &gn);
  bv = broadcast_along (&t->proj_in_b, &h, 2);
  ops->copy (ops, &bv, &h);
  ops->gemm (ops, &gn3, 1, &t->proj_in_w, 1, 1.0f, 1.0f, &h);
  lf_arena_reset (run->arena, mark_h);

  carve_block_buffers (run, t, B, N, max_mid, &bb);
  for (int i = 0; i < t->depth; i++)
    basic_block_forward (run, t, &t->blocks[i], &h, &bb);

  ops->gemm (ops, &t->proj_out_w, 0, &h, 1, 1.0f, 1.0f, &x3);
  bv = broadcast_along (&t->proj_out_b, &x3, 1);
  ops->add (ops, &x3, &bv, &x3);
  lf_arena_reset (run->arena, mark);
}
