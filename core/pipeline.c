/* pipeline.c: text-to-image and image-to-image, stage by stage as diffusers'
 * StableDiffusionPipeline and StableDiffusionImg2ImgPipeline run them:
 * prompts → text encoder → initial latents (torch's generator) → sampler
 * steps with classifier-free guidance, batch [uncond, cond] → VAE decode →
 * the sink, in strips. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "arena.h"
#include "engine-private.h"
#include "pipeline-private.h"
#include "request-private.h"
#include "rng.h"

#define STRIP_ROWS 64

static void
report_latents (
    Generation *g, LfStage stage, int step, int n_steps, const float *latents)
{
  const LfProgress p = { stage,   step,
                         n_steps, g_timer_elapsed (g->timer, NULL),
                         latents, { 1, g->c, g->h, g->w } };

  if (g->progress != NULL)
    g->progress (&p, g->user_data);
}

void
pipeline_report (Generation *g, LfStage stage, int step, int n_steps)
{
  report_latents (g, stage, step, n_steps, NULL);
}

/* The model's limits, after lf_request_validate. */
static gboolean
validate (const LfEngine *e, const LfRequest *r, GError **error)
{
  const int downscale = lf_vae_get_downscale (e->vae);

  if (!lf_request_validate (r, error))
    return FALSE;
  if (r->width % downscale != 0 || r->height % downscale != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("Width and height must be multiples of %d for this "
                      "model, not %" PRId64 "×%" PRId64),
                   downscale, r->width, r->height);
      return FALSE;
    }
  if (r->clip_skip >= lf_text_encoder_get_n_layers (e->text_encoder))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("Clip skip %d is out of range for a %d-layer text "
                      "encoder"),
                   r->clip_skip,
                   lf_text_encoder_get_n_layers (e->text_encoder));
      return FALSE;
    }
  if (r->init_image != NULL
      && (r->init_width != r->width || r->init_height != r->height))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("The init image is %" PRId64 "×%" PRId64
                      " but the requested size is %" PRId64 "×%" PRId64),
                   r->init_width, r->init_height, r->width, r->height);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_init_noise (const Generation *g, GError **error)
{
  const LfRequest *r = g->r;
  const int64_t    want[4] = { 1, g->c, g->h, g->w };

  if (r->init_noise == NULL)
    return TRUE;
  if (r->init_noise_ndim == 4
      && memcmp (r->init_noise_shape, want, sizeof want) == 0)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
               _ ("The initial noise must have shape [1, %" PRId64 ", %" PRId64
                  ", %" PRId64 "] for %" PRId64 "×%" PRId64),
               g->c, g->h, g->w, r->width, r->height);
  return FALSE;
}

/* (1, L, D) conditioning of @prompt, repeated with the empty prompt's
 * encoding up to @len tokens (A1111's pad_cond_uncond for long prompts). */
static gboolean
encode (Generation *g,
        const char *prompt,
        float     **out,
        int64_t    *len,
        GError    **error)
{
  const LfRequest *r = g->r;
  LfPromptFlags    flags = (r->prompt_weights ? LF_PROMPT_WEIGHTS : 0)
                        | (r->long_prompts ? LF_PROMPT_LONG : 0);

  *out
      = lf_text_encoder_encode_prompt (g->e->text_encoder, g->e->tokenizer,
                                       prompt, flags, r->clip_skip, len, error);
  return *out != NULL;
}

static float *
pad_with_empty (
    Generation *g, float *z, int64_t len, int64_t to, GError **error)
{
  const int64_t     d = lf_text_encoder_get_hidden_size (g->e->text_encoder);
  g_autofree float *empty = NULL;
  int64_t           empty_len;

  if (len == to)
    return z;
  if (!encode (g, "", &empty, &empty_len, error))
    {
      g_free (z);
      return NULL;
    }
  z = g_realloc_n (z, (gsize)(to * d), sizeof (float));
  for (int64_t at = len; at < to; at += empty_len)
    memcpy (z + at * d, empty,
            (size_t)(MIN (empty_len, to - at) * d) * sizeof (float));
  return z;
}

/* The context (batch, L, D), batch order [uncond, cond] as diffusers. */
static gboolean
stage_text (Generation *g, GError **error)
{
  const int64_t     d = lf_text_encoder_get_hidden_size (g->e->text_encoder);
  g_autofree float *cond = NULL, *uncond = NULL;
  int64_t           lc, lu = 0;

  pipeline_report (g, LF_STAGE_TEXT, 0, g->batch);
  if (!encode (g, g->r->prompt, &cond, &lc, error))
    return FALSE;
  if (g->batch == 1)
    {
      g->context = g_steal_pointer (&cond);
      g->context_len = lc;
      pipeline_report (g, LF_STAGE_TEXT, 1, 1);
      return TRUE;
    }
  if (!encode (g, g->r->negative_prompt, &uncond, &lu, error))
    return FALSE;
  g->context_len = MAX (lc, lu);
  if ((cond
       = pad_with_empty (g, g_steal_pointer (&cond), lc, g->context_len, error))
          == NULL
      || (uncond = pad_with_empty (g, g_steal_pointer (&uncond), lu,
                                   g->context_len, error))
             == NULL)
    return FALSE;
  g->context = g_new (float, 2 * g->context_len * d);
  memcpy (g->context, uncond, (size_t)(g->context_len * d) * sizeof (float));
  memcpy (g->context + g->context_len * d, cond,
          (size_t)(g->context_len * d) * sizeof (float));
  pipeline_report (g, LF_STAGE_TEXT, 2, 2);
  return TRUE;
}

/* The sampler the request asks for: its scheduler config, else the model's
 * scheduler with the requested algorithm, else the model's scheduler. */
static LfSampler *
make_sampler (Generation *g, double strength, GError **error)
{
  const LfRequest  *r = g->r;
  LfSchedulerConfig cfg = g->e->scheduler;

  if (r->has_scheduler_config)
    cfg = r->scheduler;
  else if (r->has_sampler)
    lf_scheduler_config_with_kind (&g->e->scheduler, r->sampler, &cfg);
  return lf_sampler_new (&cfg, r->steps, strength, error);
}

/* img2img: the init image's latents, x0 = scaling · (mean + std · z) with
 * z drawn first from the generator, as DiagonalGaussianDistribution.sample
 * in prepare_latents. */
static gboolean
encode_init_image (Generation *g, LfTorchRng *rng, float *x0, GError **error)
{
  const LfRequest *r = g->r;
  const size_t     mk = lf_arena_mark (g->arena);
  LfTensor         image, mean, logvar;
  const int64_t    ishape[4] = { 1, 3, r->height, r->width };
  const int64_t    lshape[4] = { 1, g->c, g->h, g->w };
  const float      scale = lf_vae_get_scaling_factor (g->e->vae);
  float           *px;

  pipeline_report (g, LF_STAGE_ENCODE, 0, 1);
  if (!lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, ishape, &image, error)
      || !lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, lshape, &mean, error)
      || !lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, lshape, &logvar, error))
    return FALSE;
  px = image.data;
  /* VaeImageProcessor: u8 / 255 in float32, then 2x − 1, planar RGB. */
  for (int64_t y = 0; y < r->height; y++)
    for (int64_t x = 0; x < r->width; x++)
      for (int ch = 0; ch < 3; ch++)
        px[(ch * r->height + y) * r->width + x]
            = 2.0f
                  * ((float)r->init_image[(y * r->width + x) * 3 + ch] / 255.0f)
              - 1.0f;
  if (!lf_vae_encode (g->e->vae, &image, g->arena, &mean, &logvar, error))
    return FALSE;
  lf_torch_rng_randn (rng, x0, g->n);
  for (int64_t i = 0; i < g->n; i++)
    {
      const float m = ((float *)mean.data)[i];
      const float s = expf (0.5f * ((float *)logvar.data)[i]);

      x0[i] = scale * (m + s * x0[i]);
    }
  lf_arena_reset (g->arena, mk);
  pipeline_report (g, LF_STAGE_ENCODE, 1, 1);
  return TRUE;
}

/* One UNet evaluation with guidance: out = e_u + s · (e_c − e_u). */
static gboolean
denoise (Generation  *g,
         LfSampler   *sampler,
         int          i,
         const float *latents,
         float       *guided,
         GError     **error)
{
  const size_t  mk = lf_arena_mark (g->arena);
  const int64_t xs[4] = { g->batch, g->c, g->h, g->w };
  const float   scale = lf_sampler_get_input_scale (sampler, i);
  const float   t = (float)lf_sampler_get_timestep (sampler, i);
  const float   ts[2] = { t, t };
  const float   s = (float)g->r->guidance;
  LfTensor      x, out;
  const float  *e;

  if (!lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, xs, &x, error)
      || !lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, xs, &out, error))
    return FALSE;
  for (int b = 0; b < g->batch; b++)
    for (int64_t k = 0; k < g->n; k++)
      ((float *)x.data)[b * g->n + k] = latents[k] * scale;
  if (!pipeline_unet (g, i, lf_sampler_get_n_steps (sampler), &x, ts, &out,
                      error))
    return FALSE;
  e = out.data;
  for (int64_t k = 0; k < g->n; k++)
    guided[k] = g->batch == 1 ? e[k] : e[k] + s * (e[g->n + k] - e[k]);
  lf_arena_reset (g->arena, mk);
  return TRUE;
}

/* n latent floats in host memory, or NULL with the size (a gigapixel
 * canvas has about 10⁸ latent elements). */
static float *
latent_buffer (const Generation *g, GError **error)
{
  float *p = g_try_malloc_n ((gsize)g->n, sizeof (float));

  if (p == NULL && (error == NULL || *error == NULL))
    g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                 _ ("Cannot allocate %.1f MiB for the latents"),
                 g->n * sizeof (float) / 1048576.0);
  return p;
}

static gboolean
stage_sampling (Generation *g, GError **error)
{
  const LfRequest *r = g->r;
  const gboolean   img2img = r->init_image != NULL;
  g_autoptr (LfSampler) sampler = NULL;
  g_autofree float *noise = latent_buffer (g, error);
  g_autofree float *latents = latent_buffer (g, error);
  g_autofree float *guided = latent_buffer (g, error);
  LfTorchRng        rng;
  int               n_steps;

  if (noise == NULL || latents == NULL || guided == NULL)
    return FALSE;
  sampler = make_sampler (g, img2img ? r->strength : 1.0, error);
  if (sampler == NULL || !lf_sampler_reserve (sampler, g->n, error))
    return FALSE;
  n_steps = lf_sampler_get_n_steps (sampler);
  lf_torch_rng_init (&rng, r->seed, LF_TORCH_RANDN_AVX2);
  if (img2img && !encode_init_image (g, &rng, latents, error))
    return FALSE;
  if (r->init_noise != NULL)
    memcpy (noise, r->init_noise, (size_t)g->n * sizeof (float));
  else
    lf_torch_rng_randn (&rng, noise, g->n);
  if (img2img && n_steps > 0)
    lf_sampler_add_noise (sampler, latents, noise, g->n, latents);
  else if (!img2img)
    for (int64_t k = 0; k < g->n; k++)
      latents[k] = noise[k] * (float)lf_sampler_get_init_noise_sigma (sampler);

  for (int i = 0; i < n_steps; i++)
    {
      if (g_cancellable_set_error_if_cancelled (g->cancel, error))
        return FALSE;
      if (!denoise (g, sampler, i, latents, guided, error))
        return FALSE;
      lf_sampler_step (sampler, i, guided, latents, g->n, &rng);
      report_latents (g, LF_STAGE_SAMPLING, i + 1, n_steps, latents);
    }
  g_free (g->e->initial_noise);
  g_free (g->e->final_latents);
  g->e->initial_noise = g_steal_pointer (&noise);
  g->e->final_latents = g_steal_pointer (&latents);
  g->e->latent_shape[0] = 1;
  g->e->latent_shape[1] = g->c;
  g->e->latent_shape[2] = g->h;
  g->e->latent_shape[3] = g->w;
  return TRUE;
}

/* round (clamp (x/2 + 0.5, 0, 1) · 255) with numpy's round half to even,
 * as diffusers' VaeImageProcessor.postprocess + numpy_to_pil. */
static void
to_rgb8 (const float *img,
         int64_t      H,
         int64_t      W,
         int64_t      y0,
         int64_t      rows,
         guint8      *out)
{
  for (int64_t y = 0; y < rows; y++)
    for (int64_t x = 0; x < W; x++)
      for (int ch = 0; ch < 3; ch++)
        {
          float v = img[(ch * H + y0 + y) * W + x] / 2.0f + 0.5f;

          v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
          out[(y * W + x) * 3 + ch] = (guint8)rintf (v * 255.0f);
        }
}

static gboolean
stage_decode (Generation *g, LfSink *sink, GError **error)
{
  const int64_t      H = g->r->height, W = g->r->width;
  const int64_t      zs[4] = { 1, g->c, g->h, g->w };
  const int64_t      is[4] = { 1, 3, H, W };
  const float        scale = lf_vae_get_scaling_factor (g->e->vae);
  int64_t            strip = STRIP_ROWS;
  g_autofree guint8 *rgb = NULL;
  LfTensor           z, image;
  int                n_strips;

  pipeline_report (g, LF_STAGE_DECODE, 0, 1);
  if (!lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, zs, &z, error)
      || !lf_arena_tensor (g->arena, LF_DTYPE_F32, 4, is, &image, error))
    return FALSE;
  /* diffusers divides: vae.decode (latents / scaling_factor). */
  for (int64_t k = 0; k < g->n; k++)
    ((float *)z.data)[k] = g->e->final_latents[k] / scale;
  if (!lf_vae_decode (g->e->vae, &z, g->arena, &image, error))
    return FALSE;
  if (!sink->begin (sink, W, H, LF_PIXEL_RGB8, &strip, error))
    return FALSE;
  strip = CLAMP (strip, 1, H);
  rgb = g_malloc ((size_t)(strip * W * 3));
  n_strips = (int)((H + strip - 1) / strip);
  for (int64_t y = 0; y < H; y += strip)
    {
      const int64_t rows = MIN (strip, H - y);

      if (g_cancellable_set_error_if_cancelled (g->cancel, error))
        return FALSE;
      to_rgb8 (image.data, H, W, y, rows, rgb);
      if (!sink->write (sink, y, rows, rgb, (size_t)(W * 3), error))
        return FALSE;
      pipeline_report (g, LF_STAGE_DECODE, (int)(y / strip) + 1, n_strips);
    }
  return sink->finish (sink, error);
}

static size_t
plan_bytes (const Generation *g)
{
  const int64_t H = g->r->height, W = g->r->width;
  size_t        need;

  need = lf_text_encoder_plan (g->e->text_encoder, 1);
  need = MAX (need, pipeline_denoise_plan (g)
                        + 2
                              * lf_arena_padded_size ((size_t)(g->batch * g->n)
                                                      * sizeof (float)));
  need = MAX (need, lf_vae_plan_decode (g->e->vae, 1, g->h, g->w)
                        + lf_arena_padded_size ((size_t)(3 * H * W + g->n)
                                                * sizeof (float)));
  if (g->r->init_image != NULL)
    need = MAX (need, lf_vae_plan_encode (g->e->vae, 1, H, W)
                          + lf_arena_padded_size ((size_t)(3 * H * W + 2 * g->n)
                                                  * sizeof (float)));
  return need + 4 * LF_ARENA_ALIGN;
}

gboolean
lf_engine_generate (LfEngine        *e,
                    const LfRequest *r,
                    LfSink          *sink,
                    LfProgressFunc   progress,
                    gpointer         user_data,
                    GCancellable    *cancellable,
                    GError         **error)
{
  Generation g = { .e = e,
                   .r = r,
                   .progress = progress,
                   .user_data = user_data,
                   .cancel = cancellable };
  gboolean   ok;

  g_return_val_if_fail (e != NULL && r != NULL && sink != NULL, FALSE);
  if (e->unet == NULL)
    {
      g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                           _ ("No model is loaded"));
      ok = FALSE;
    }
  else
    {
      g.timer = g_timer_new ();
      g.c = lf_unet_get_in_channels (e->unet);
      g.h = r->height / lf_vae_get_downscale (e->vae);
      g.w = r->width / lf_vae_get_downscale (e->vae);
      g.n = g.c * g.h * g.w;
      /* diffusers: do_classifier_free_guidance = guidance_scale > 1 */
      g.batch = r->guidance > 1.0 ? 2 : 1;
      ok = validate (e, r, error) && check_init_noise (&g, error)
           && pipeline_validate_adapters (e, r, error) && stage_text (&g, error)
           && pipeline_prepare_adapters (&g, error)
           && (g.arena = lf_arena_new (plan_bytes (&g), error)) != NULL
           && stage_sampling (&g, error) && stage_decode (&g, sink, error);
      g_timer_destroy (g.timer);
    }
  if (!ok)
    sink->abort (sink);
  lf_arena_free (g.arena);
  g_free (g.context);
  pipeline_clear_adapters (&g);
  return ok;
}
