/* pipeline-adapters.c: ControlNet and IP-Adapter inside a generation, as
 * diffusers 0.30.3's StableDiffusionControlNet(Img2Img)Pipeline and the
 * IP-Adapter mixin run them: the control image is prepared once
 * (prepare_image: resize, / 255), the ControlNet runs on the same input as
 * the UNet at every controlled step (guess mode: the conditional half only,
 * zeros for the other), and the reference image becomes [uncond, cond]
 * image tokens beside the text context. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "image-ops.h"
#include "pipeline-private.h"

/* LF_UNET_MAX_SKIPS: a UNet of 8 levels of 8 layers */
#define MAX_RESIDUALS 80

gboolean
pipeline_validate_adapters (const LfEngine  *e,
                            const LfRequest *r,
                            GError         **error)
{
  if (r->control_image != NULL && e->controlnet == NULL)
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("A control image needs a ControlNet: load one "
                            "first"));
  else if (r->ip_image != NULL && e->ip_adapter == NULL)
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("An IP-Adapter image needs an IP-Adapter: load "
                            "one first"));
  else
    return TRUE;
  return FALSE;
}

static gboolean
controlled (const Generation *g)
{
  return g->e->controlnet != NULL && g->r->control_image != NULL;
}

/* diffusers: guess_mode = guess_mode or global_pool_conditions. */
static gboolean
guess_mode (const Generation *g)
{
  return g->r->guess_mode || lf_controlnet_get_global_pool (g->e->controlnet);
}

static gboolean
prepare_control (Generation *g, GError **error)
{
  const LfRequest   *r = g->r;
  const int64_t      W = r->width, H = r->height;
  const int64_t      cshape[4] = { 1, 3, H, W };
  g_autofree guint8 *rgb = NULL;
  g_autofree float  *px = NULL;
  LfTensor           cond, emb;

  rgb = lf_control_image_prepare (
      r->control_image, r->control_width, r->control_height,
      (size_t)r->control_width * 3, r->control_preprocess, r->canny_low,
      r->canny_high, r->tile_rate, W, H, error);
  if (rgb == NULL)
    return FALSE;
  px = g_try_malloc_n ((gsize)(3 * H * W), sizeof (float));
  lf_unet_skip_shape (g->e->unet, 0, 1, g->h, g->w, g->cond_emb_shape);
  g->cond_emb = g_try_malloc_n ((gsize)(g->cond_emb_shape[1] * g->h * g->w),
                                sizeof (float));
  if (px == NULL || g->cond_emb == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Cannot allocate %.1f MiB for the control image"),
                   3.0 * (double)(H * W) * sizeof (float) / 1048576.0);
      return FALSE;
    }
  /* VaeImageProcessor.pil_to_numpy: float32 (u8) / 255, then planar. */
  for (int64_t y = 0; y < H; y++)
    for (int64_t x = 0; x < W; x++)
      for (int ch = 0; ch < 3; ch++)
        px[(ch * H + y) * W + x] = (float)rgb[(y * W + x) * 3 + ch] / 255.0f;
  cond = lf_tensor_make (px, LF_DTYPE_F32, 4, cshape);
  emb = lf_tensor_make (g->cond_emb, LF_DTYPE_F32, 4, g->cond_emb_shape);
  return lf_controlnet_embed_condition (g->e->controlnet, &cond, &emb, error);
}

static gboolean
prepare_ip (Generation *g, GError **error)
{
  const LfRequest  *r = g->r;
  LfIpAdapter      *ip = g->e->ip_adapter;
  const int64_t     S = lf_clip_vision_get_image_size (g->e->ip_encoder);
  const int64_t     T = lf_ip_adapter_get_n_tokens (ip);
  const int64_t     D = lf_ip_adapter_get_token_dim (ip);
  const int64_t     pshape[4] = { 1, 3, S, S }, tshape[3] = { 2, T, D };
  g_autofree float *px = g_new (float, 3 * S * S);
  g_autofree float *both = g_new (float, 2 * T * D);
  LfTensor          pixels, tokens;

  if (!lf_image_clip_preprocess (r->ip_image, r->ip_width, r->ip_height,
                                 (size_t)r->ip_width * 3, S, px, error))
    return FALSE;
  pixels = lf_tensor_make (px, LF_DTYPE_F32, 4, pshape);
  tokens = lf_tensor_make (both, LF_DTYPE_F32, 3, tshape);
  if (!lf_ip_adapter_encode (ip, g->e->ip_encoder, &pixels, &tokens, error))
    return FALSE;
  /* Without guidance only the conditional tokens are used. */
  g->ip_tokens_shape[0] = g->batch;
  g->ip_tokens_shape[1] = T;
  g->ip_tokens_shape[2] = D;
  if (g->batch == 2)
    g->ip_tokens = g_steal_pointer (&both);
  else
    g->ip_tokens = g_memdup2 (both + T * D, (gsize)(T * D) * sizeof (float));
  return TRUE;
}

gboolean
pipeline_prepare_adapters (Generation *g, GError **error)
{
  const int n = (controlled (g) ? 1 : 0) + (g->r->ip_image != NULL ? 1 : 0);
  int       done = 0;

  if (n == 0)
    return TRUE;
  pipeline_report (g, LF_STAGE_ENCODE, 0, n);
  if (controlled (g))
    {
      if (!prepare_control (g, error))
        return FALSE;
      pipeline_report (g, LF_STAGE_ENCODE, ++done, n);
    }
  if (g->r->ip_image != NULL)
    {
      if (!prepare_ip (g, error))
        return FALSE;
      pipeline_report (g, LF_STAGE_ENCODE, ++done, n);
    }
  return TRUE;
}

void
pipeline_clear_adapters (Generation *g)
{
  g_clear_pointer (&g->cond_emb, g_free);
  g_clear_pointer (&g->ip_tokens, g_free);
}

static size_t
residual_bytes (const Generation *g)
{
  const int n = lf_unet_get_n_skips (g->e->unet);
  size_t    bytes = 0;

  for (int i = 0; i <= n; i++)
    {
      int64_t shape[4];

      lf_unet_skip_shape (g->e->unet, i, g->batch, g->h, g->w, shape);
      bytes += lf_arena_padded_size (
          (size_t)(shape[0] * shape[1] * shape[2] * shape[3]) * sizeof (float));
    }
  return bytes;
}

size_t
pipeline_denoise_plan (const Generation *g)
{
  size_t need = lf_unet_plan (g->e->unet, g->batch, g->h, g->w, g->context_len);

  if (controlled (g))
    need = residual_bytes (g)
           + MAX (need, lf_controlnet_plan (g->e->controlnet, g->batch, g->h,
                                            g->w, g->context_len));
  return need;
}

/* pipeline_controlnet: control_guidance_start/end: step i of n runs when
 * start ≤ i/n and (i + 1)/n ≤ end (the comparison diffusers makes in
 * Python floats). */
static double
keep (const Generation *g, int step, int n_steps)
{
  const double a = (double)step / n_steps, b = (double)(step + 1) / n_steps;

  return (a < g->r->control_start || b > g->r->control_end) ? 0.0 : 1.0;
}

/* ControlNetModel.forward's scales: conditioning_scale for every
 * residual, times logspace (-1, 0, n + 1) in guess mode. */
static void
residual_scales (const Generation *g, int n, double scale, float *scales)
{
  const gboolean logspace
      = g->r->guess_mode && !lf_controlnet_get_global_pool (g->e->controlnet);

  for (int i = 0; i <= n; i++)
    {
      const float s
          = logspace ? powf (10.0f, -1.0f + (float)i / (float)n) : 1.0f;

      scales[i] = s * (float)scale;
    }
}

static gboolean
control_residuals (Generation     *g,
                   const LfTensor *x,
                   const float    *t,
                   const LfTensor *ctx,
                   double          scale,
                   LfTensor       *down,
                   LfTensor       *mid,
                   GError        **error)
{
  LfControlNet  *cn = g->e->controlnet;
  const int      n = lf_controlnet_get_n_residuals (cn);
  const gboolean cond_only = guess_mode (g) && g->batch == 2;
  const int64_t  es[4] = { 1, g->cond_emb_shape[1], g->h, g->w };
  LfTensor       emb = lf_tensor_make (g->cond_emb, LF_DTYPE_F32, 4, es);
  LfTensor       cx = *x, cctx = *ctx, cdown[MAX_RESIDUALS], cmid = *mid;
  float          scales[MAX_RESIDUALS + 1];

  residual_scales (g, n, scale, scales);
  for (int i = 0; i < n; i++)
    cdown[i] = down[i];
  if (cond_only)
    {
      /* the unconditional half gets zero residuals */
      lf_tensor_narrow (x, 0, 1, 1, &cx);
      lf_tensor_narrow (ctx, 0, 1, 1, &cctx);
      for (int i = 0; i <= n; i++)
        {
          LfTensor *r = i < n ? &down[i] : mid, zero;

          lf_tensor_narrow (r, 0, 0, 1, &zero);
          memset (zero.data, 0,
                  (size_t)lf_tensor_numel (&zero) * sizeof (float));
          lf_tensor_narrow (r, 0, 1, 1, i < n ? &cdown[i] : &cmid);
        }
    }
  return lf_controlnet_forward (cn, &cx, cond_only ? t + 1 : t, &cctx, &emb,
                                scales, g->arena, cdown, &cmid, error);
}

gboolean
pipeline_unet (Generation     *g,
               int             step,
               int             n_steps,
               const LfTensor *x,
               const float    *t,
               LfTensor       *out,
               GError        **error)
{
  const int64_t cs[3]
      = { g->batch, g->context_len,
          lf_text_encoder_get_hidden_size (g->e->text_encoder) };
  const LfTensor ctx = lf_tensor_make (g->context, LF_DTYPE_F32, 3, cs);
  const double   scale
      = controlled (g) ? g->r->control_scale * keep (g, step, n_steps) : 0.0;
  const size_t mk = lf_arena_mark (g->arena);
  LfUnetExtras extras = { 0 };
  LfTensor     down[MAX_RESIDUALS], mid, ip;
  gboolean     ok = TRUE;

  if (g->ip_tokens != NULL)
    {
      ip = lf_tensor_make (g->ip_tokens, LF_DTYPE_F32, 3, g->ip_tokens_shape);
      extras.ip_tokens = &ip;
      extras.ip_scale = (float)g->r->ip_scale;
    }
  /* A step with scale 0 adds exact zeros in diffusers: skip the work. */
  if (scale != 0.0)
    {
      const int n = lf_controlnet_get_n_residuals (g->e->controlnet);

      if (n > MAX_RESIDUALS)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       _ ("A ControlNet with %d residuals is not supported"),
                       n);
          return FALSE;
        }
      for (int i = 0; ok && i <= n; i++)
        {
          int64_t shape[4];

          lf_unet_skip_shape (g->e->unet, i, g->batch, g->h, g->w, shape);
          ok = lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, shape,
                                i < n ? &down[i] : &mid, error);
        }
      ok = ok && control_residuals (g, x, t, &ctx, scale, down, &mid, error);
      extras.down_residuals = down;
      extras.n_down_residuals = n;
      extras.mid_residual = &mid;
    }
  ok = ok
       && lf_unet_forward_with (g->e->unet, x, t, &ctx, &extras, g->arena, out,
                                error);
  lf_arena_reset (g->arena, mk);
  return ok;
}
