/* controlnet-cond.c: diffusers ControlNetConditioningEmbedding (diffusers
 * 0.30.3 models/controlnet.py) evaluated in strips of output rows. Each
 * strip reads exactly the input rows its 3×3 convolutions reach (the
 * halo), padded with zeros only at the image's own edges, so the result is
 * the one-piece evaluation while the full-resolution 16/32/96-channel maps
 * never exist whole.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "backend.h"
#include "controlnet-private.h"

/* Each of the two strip buffers stays under this unless one output row
 * needs more. A strip of R output rows reads about 8R + 39 input rows (the
 * halo of SD's eight 3×3 convolutions), so small strips recompute much: at
 * 16384 pixels wide with 16 channels at full resolution, 128 MiB gives
 * R = 11 (about 40 % recomputed) and 256 MiB in all. */
#define STRIP_BUDGET_BYTES ((size_t)128 << 20)

static gboolean
bind_conv (LfControlNet      *cn,
           const LfComponent *comp,
           const char        *name,
           int64_t            c_out,
           int64_t            c_in,
           int                stride,
           CnConv            *conv,
           GError           **error)
{
  const int64_t w[4] = { c_out, c_in, 3, 3 }, b[1] = { c_out };

  conv->stride = stride;
  return lf_weight_store_bindf (cn->store, comp, 4, w, &conv->w, error,
                                "controlnet_cond_embedding.%s.weight", name)
         && lf_weight_store_bindf (cn->store, comp, 1, b, &conv->b, error,
                                   "controlnet_cond_embedding.%s.bias", name);
}

gboolean
lf_controlnet_cond_load (LfControlNet      *cn,
                         const LfComponent *comp,
                         const int64_t     *channels,
                         int                n_levels,
                         int64_t            in_channels,
                         int64_t            c0,
                         GError           **error)
{
  CnCondEmbedding *e = &cn->cond;

  g_assert (n_levels >= 1 && 2 * n_levels <= LF_CONTROLNET_MAX_COND_CONVS);
  e->in_channels = in_channels;
  e->n_convs = 0;
  if (!bind_conv (cn, comp, "conv_in", channels[0], in_channels, 1,
                  &e->convs[e->n_convs++], error))
    return FALSE;
  for (int i = 0; i < n_levels - 1; i++)
    {
      char name[32];

      g_snprintf (name, sizeof name, "blocks.%d", 2 * i);
      if (!bind_conv (cn, comp, name, channels[i], channels[i], 1,
                      &e->convs[e->n_convs++], error))
        return FALSE;
      g_snprintf (name, sizeof name, "blocks.%d", 2 * i + 1);
      if (!bind_conv (cn, comp, name, channels[i + 1], channels[i], 2,
                      &e->convs[e->n_convs++], error))
        return FALSE;
    }
  return bind_conv (cn, comp, "conv_out", c0, channels[n_levels - 1], 1,
                    &e->convs[e->n_convs++], error);
}

void
lf_controlnet_set_strip_rows (LfControlNet *cn, int64_t rows)
{
  cn->strip_rows = rows;
}

/* ---- Geometry --------------------------------------------------------- */

/* A 3×3 convolution with padding 1: n → (n − 1) / s + 1. */
static int64_t
conv_out_side (int64_t n, int stride)
{
  return (n - 1) / stride + 1;
}

/* Rows of every level for one strip: level k is conv k's input, level
 * n_convs the output. [lo[k], hi[k]) are the rows of level k the strip
 * needs; pad_top/bottom[k] the zero rows conv k adds at the image edges. */
typedef struct
{
  int64_t lo[LF_CONTROLNET_MAX_COND_CONVS + 1];
  int64_t hi[LF_CONTROLNET_MAX_COND_CONVS + 1];
  int     pad_top[LF_CONTROLNET_MAX_COND_CONVS];
  int     pad_bottom[LF_CONTROLNET_MAX_COND_CONVS];
} Strip;

/* Output row o of a conv reads input rows s·o − 1 … s·o + 1; what falls
 * outside the image is the conv's own zero padding. */
static void
strip_rows (const CnCondEmbedding *e,
            const int64_t         *side,
            int64_t                o0,
            int64_t                o1,
            Strip                 *s)
{
  const int n = e->n_convs;

  s->lo[n] = o0, s->hi[n] = o1;
  for (int k = n - 1; k >= 0; k--)
    {
      const int64_t st = e->convs[k].stride;
      const int64_t first = st * s->lo[k + 1] - 1;
      const int64_t last = st * (s->hi[k + 1] - 1) + 1;

      s->lo[k] = MAX (first, 0);
      s->hi[k] = MIN (last + 1, side[k]);
      s->pad_top[k] = (int)(s->lo[k] - first);
      s->pad_bottom[k] = (int)(last + 1 - s->hi[k]);
    }
}

static int64_t
level_channels (const CnCondEmbedding *e, int k)
{
  return k == 0 ? e->in_channels : e->convs[k - 1].w.shape[0];
}

/* Floats of the largest level of any strip of @rows output rows. */
static int64_t
strip_floats (const CnCondEmbedding *e,
              const int64_t         *height,
              const int64_t         *width,
              int64_t                rows)
{
  int64_t r = rows, most = 0;

  for (int k = e->n_convs; k >= 0; k--)
    {
      most = MAX (most, level_channels (e, k) * MIN (r, height[k]) * width[k]);
      if (k > 0)
        r = e->convs[k - 1].stride * (r - 1) + 3;
    }
  return most;
}

/* The most output rows whose strip fits the budget (at least one). */
static int64_t
choose_rows (const LfControlNet *cn,
             const int64_t      *height,
             const int64_t      *width)
{
  int64_t lo = 1, hi = height[cn->cond.n_convs];

  if (cn->strip_rows > 0)
    return MIN (cn->strip_rows, hi);
  while (lo < hi)
    {
      const int64_t mid = lo + (hi - lo + 1) / 2;

      if ((size_t)strip_floats (&cn->cond, height, width, mid) * sizeof (float)
          <= STRIP_BUDGET_BYTES)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}

/* ---- Evaluation ------------------------------------------------------- */

/* The strip's input rows, channels reversed for "bgr" (torch.flip dim 1). */
static void
load_input (LfOps                 *ops,
            const CnCondEmbedding *e,
            const LfTensor        *cond,
            const Strip           *s,
            LfTensor              *dst)
{
  LfTensor rows;

  lf_tensor_narrow (cond, 2, s->lo[0], s->hi[0] - s->lo[0], &rows);
  if (!e->bgr)
    {
      ops->copy (ops, &rows, dst);
      return;
    }
  for (int64_t c = 0; c < e->in_channels; c++)
    {
      LfTensor from, to;

      lf_tensor_narrow (&rows, 1, e->in_channels - 1 - c, 1, &from);
      lf_tensor_narrow (dst, 1, c, 1, &to);
      ops->copy (ops, &from, &to);
    }
}

static void
run_strip (LfOps                 *ops,
           const CnCondEmbedding *e,
           const LfTensor        *cond,
           const int64_t         *width,
           const Strip           *s,
           float                 *buf[2],
           LfTensor              *out)
{
  LfTensor src, dst, out_rows;
  int      cur = 0;

  src = lf_tensor_4d (buf[cur], LF_DTYPE_F32, 1, e->in_channels,
                      s->hi[0] - s->lo[0], width[0]);
  load_input (ops, e, cond, s, &src);
  for (int k = 0; k < e->n_convs; k++)
    {
      const CnConv        *c = &e->convs[k];
      const LfConv2dParams p = { .stride = c->stride,
                                 .dilation = 1,
                                 .pad_top = s->pad_top[k],
                                 .pad_bottom = s->pad_bottom[k],
                                 .pad_left = 1,
                                 .pad_right = 1 };

      dst = lf_tensor_4d (buf[1 - cur], LF_DTYPE_F32, 1, c->w.shape[0],
                          s->hi[k + 1] - s->lo[k + 1], width[k + 1]);
      ops->conv2d (ops, &src, &c->w, &c->b, &p, &dst);
      if (k < e->n_convs - 1)
        ops->silu (ops, &dst, &dst);
      src = dst;
      cur = 1 - cur;
    }
  lf_tensor_narrow (out, 2, s->lo[e->n_convs],
                    s->hi[e->n_convs] - s->lo[e->n_convs], &out_rows);
  ops->copy (ops, &src, &out_rows);
}

static gboolean
check_shapes (const LfControlNet *cn,
              const LfTensor     *cond,
              const LfTensor     *out,
              const int64_t      *height,
              const int64_t      *width,
              GError            **error)
{
  const CnCondEmbedding *e = &cn->cond;
  const int              n = e->n_convs;

  if (cond->ndim != 4 || cond->shape[0] != 1 || cond->shape[1] != e->in_channels
      || out->ndim != 4 || out->shape[0] != 1
      || out->shape[1] != level_channels (e, n) || out->shape[2] != height[n]
      || out->shape[3] != width[n])
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("ControlNet: a %lld-channel %lld×%lld control image "
                      "gives a %lld-channel %lld×%lld embedding, not "
                      "%lld-channel %lld×%lld"),
                   (long long)e->in_channels, (long long)width[0],
                   (long long)height[0], (long long)level_channels (e, n),
                   (long long)width[n], (long long)height[n],
                   (long long)out->shape[1], (long long)out->shape[3],
                   (long long)out->shape[2]);
      return FALSE;
    }
  return TRUE;
}

gboolean
lf_controlnet_embed_condition (LfControlNet   *cn,
                               const LfTensor *cond,
                               LfTensor       *out,
                               GError        **error)
{
  const CnCondEmbedding *e = &cn->cond;
  LfOps                 *ops = cn->ops;
  int64_t                height[LF_CONTROLNET_MAX_COND_CONVS + 1];
  int64_t                width[LF_CONTROLNET_MAX_COND_CONVS + 1];
  g_autoptr (LfArena) arena = NULL;
  int64_t rows, floats;
  float  *buf[2];

  g_return_val_if_fail (cn != NULL && cond != NULL && out != NULL, FALSE);
  g_return_val_if_fail (
      cond->ndim == 4 && cond->shape[2] > 0 && cond->shape[3] > 0, FALSE);
  height[0] = cond->shape[2], width[0] = cond->shape[3];
  for (int k = 0; k < e->n_convs; k++)
    {
      height[k + 1] = conv_out_side (height[k], e->convs[k].stride);
      width[k + 1] = conv_out_side (width[k], e->convs[k].stride);
    }
  if (!check_shapes (cn, cond, out, height, width, error))
    return FALSE;
  rows = choose_rows (cn, height, width);
  floats = strip_floats (e, height, width, rows);
  arena = lf_arena_new (2 * unet_bytes (floats), error);
  if (arena == NULL)
    return FALSE;
  buf[0] = lf_arena_alloc (arena, (size_t)floats * sizeof (float), error);
  buf[1] = lf_arena_alloc (arena, (size_t)floats * sizeof (float), error);
  g_assert (buf[0] != NULL && buf[1] != NULL);
  g_debug ("ControlNet conditioning %lld×%lld: strips of %lld rows, "
           "2 × %.1f MiB",
           (long long)width[0], (long long)height[0], (long long)rows,
           floats * 4.0 / 1048576.0);
  for (int64_t o0 = 0; o0 < height[e->n_convs]; o0 += rows)
    {
      Strip s;

      strip_rows (e, height, o0, MIN (o0 + rows, height[e->n_convs]), &s);
      run_strip (ops, e, cond, width, &s, buf, out);
      if (!lf_ops_take_error (ops, "ControlNet conditioning embedding", error))
        return FALSE;
    }
  return TRUE;
}
