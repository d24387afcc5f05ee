/* request.c: LfRequest, the settings of one generation. Values are stored
 * as given; the pipeline validates them against the loaded model, so every
 * error names the model's limits too. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "request-private.h"

#define MAX_SIDE  (1 << 20) /* pixels; memory is checked when allocated */
#define MAX_STEPS 1000

gboolean
lf_request_validate (const LfRequest *r, GError **error)
{
  if (r->width < 8 || r->height < 8 || r->width > MAX_SIDE
      || r->height > MAX_SIDE || r->width % 8 != 0 || r->height % 8 != 0)
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Size %" PRId64 "×%" PRId64
                    " is not possible: width and height must be multiples "
                    "of 8 between 8 and %d"),
                 r->width, r->height, MAX_SIDE);
  else if (r->steps < 1 || r->steps > MAX_STEPS)
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Steps must be between 1 and %d, not %d"), MAX_STEPS,
                 r->steps);
  else if (!isfinite (r->guidance))
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("Guidance scale must be a finite number"));
  else if (!(r->strength >= 0.0 && r->strength <= 1.0))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Strength must be between 0 and 1, not %g"), r->strength);
  else if (r->clip_skip < 0)
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Clip skip must be 0 or more, not %d"), r->clip_skip);
  else
    return request_validate_control (r, error);
  return FALSE;
}

LfRequest *
lf_request_new (void)
{
  LfRequest *r = g_new0 (LfRequest, 1);

  r->prompt = g_strdup ("");
  r->negative_prompt = g_strdup ("");
  r->width = 512;
  r->height = 512;
  r->steps = 25;
  r->guidance = 7.5;
  r->strength = 0.75;
  r->canny_low = 100.0;
  r->canny_high = 200.0;
  r->tile_rate = 2.0;
  r->control_scale = 1.0;
  r->control_end = 1.0;
  r->ip_scale = 1.0;
  return r;
}

void
lf_request_free (LfRequest *r)
{
  if (r == NULL)
    return;
  g_free (r->prompt);
  g_free (r->negative_prompt);
  g_free (r->init_image);
  g_free (r->init_noise);
  g_free (r->control_image);
  g_free (r->ip_image);
  g_free (r);
}

void
lf_request_set_prompt (LfRequest *r, const char *prompt)
{
  g_free (r->prompt);
  r->prompt = g_strdup (prompt != NULL ? prompt : "");
}

void
lf_request_set_negative_prompt (LfRequest *r, const char *prompt)
{
  g_free (r->negative_prompt);
  r->negative_prompt = g_strdup (prompt != NULL ? prompt : "");
}

void
lf_request_set_size (LfRequest *r, int64_t width, int64_t height)
{
  r->width = width;
  r->height = height;
}

void
lf_request_set_steps (LfRequest *r, int steps)
{
  r->steps = steps;
}

void
lf_request_set_guidance (LfRequest *r, double guidance)
{
  r->guidance = guidance;
}

void
lf_request_set_seed (LfRequest *r, guint64 seed)
{
  r->seed = seed;
}

void
lf_request_set_sampler (LfRequest *r, LfSamplerKind kind)
{
  r->sampler = kind;
  r->has_sampler = TRUE;
}

gboolean
lf_request_set_scheduler_config (LfRequest *r, const char *path, GError **error)
{
  g_autoptr (LfConfig) cfg = lf_config_load (path, error);

  if (cfg == NULL || !lf_scheduler_config_load (cfg, &r->scheduler, error))
    return FALSE;
  r->has_scheduler_config = TRUE;
  return TRUE;
}

void
lf_request_set_prompt_weights (LfRequest *r, gboolean enable)
{
  r->prompt_weights = enable;
}

void
lf_request_set_long_prompts (LfRequest *r, gboolean enable)
{
  r->long_prompts = enable;
}

void
lf_request_set_clip_skip (LfRequest *r, int clip_skip)
{
  r->clip_skip = clip_skip;
}

guint8 *
request_copy_rgb (const guint8 *rgb,
                  int64_t       width,
                  int64_t       height,
                  size_t        stride)
{
  guint8 *copy;

  if (rgb == NULL || width <= 0 || height <= 0)
    return NULL;
  copy = g_malloc ((size_t)width * (size_t)height * 3);
  for (int64_t y = 0; y < height; y++)
    memcpy (copy + (size_t)y * (size_t)width * 3, rgb + (size_t)y * stride,
            (size_t)width * 3);
  return copy;
}

void
lf_request_set_init_image (LfRequest    *r,
                           int64_t       width,
                           int64_t       height,
                           const guint8 *rgb,
                           size_t        stride)
{
  g_free (r->init_image);
  r->init_width = width;
  r->init_height = height;
  r->init_image = request_copy_rgb (rgb, width, height, stride);
}

void
lf_request_set_strength (LfRequest *r, double strength)
{
  r->strength = strength;
}

void
lf_request_set_init_noise (LfRequest     *r,
                           const float   *noise,
                           int            ndim,
                           const int64_t *shape)
{
  int64_t n = 1;

  g_clear_pointer (&r->init_noise, g_free);
  r->init_noise_ndim = 0;
  if (noise == NULL || ndim < 1 || ndim > 4)
    return;
  for (int i = 0; i < ndim; i++)
    {
      r->init_noise_shape[i] = shape[i];
      n *= shape[i];
    }
  r->init_noise_ndim = ndim;
  r->init_noise = g_memdup2 (noise, (gsize)n * sizeof (float));
}
