/* request-control.c: the ControlNet and IP-Adapter settings of a request.
 * Defaults follow diffusers' pipelines; the canny thresholds follow
 * lllyasviel's demo. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "linfusion.h"

#include "request-private.h"

#define MAX_TILE_RATE 64.0

static const char *const preprocess_names[] = { "none", "canny", "tile" };

const char *
lf_control_preprocess_to_string (LfControlPreprocess kind)
{
  if ((guint)kind >= G_N_ELEMENTS (preprocess_names))
    return "unknown";
  return preprocess_names[kind];
}

gboolean
lf_control_preprocess_from_string (const char *name, LfControlPreprocess *out)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (preprocess_names); i++)
    if (g_ascii_strcasecmp (name, preprocess_names[i]) == 0)
      {
        *out = (LfControlPreprocess)i;
        return TRUE;
      }
  return FALSE;
}

void
lf_request_set_control_image (LfRequest    *r,
                              int64_t       width,
                              int64_t       height,
                              const guint8 *rgb,
                              size_t        stride)
{
  g_free (r->control_image);
  r->control_width = width;
  r->control_height = height;
  r->control_image = request_copy_rgb (rgb, width, height, stride);
}

void
lf_request_set_control_preprocess (LfRequest *r, LfControlPreprocess kind)
{
  r->control_preprocess = kind;
}

void
lf_request_set_canny_thresholds (LfRequest *r, double low, double high)
{
  r->canny_low = low;
  r->canny_high = high;
}

void
lf_request_set_tile_rate (LfRequest *r, double rate)
{
  r->tile_rate = rate;
}

void
lf_request_set_control_scale (LfRequest *r, double scale)
{
  r->control_scale = scale;
}

void
lf_request_set_control_range (LfRequest *r, double start, double end)
{
  r->control_start = start;
  r->control_end = end;
}

void
lf_request_set_control_guess_mode (LfRequest *r, gboolean enable)
{
  r->guess_mode = enable;
}

void
lf_request_set_ip_adapter_image (LfRequest    *r,
                                 int64_t       width,
                                 int64_t       height,
                                 const guint8 *rgb,
                                 size_t        stride)
{
  g_free (r->ip_image);
  r->ip_width = width;
  r->ip_height = height;
  r->ip_image = request_copy_rgb (rgb, width, height, stride);
}

void
lf_request_set_ip_adapter_scale (LfRequest *r, double scale)
{
  r->ip_scale = scale;
}

gboolean
request_validate_control (const LfRequest *r, GError **error)
{
  if ((guint)r->control_preprocess >= G_N_ELEMENTS (preprocess_names))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Unknown control preprocessor %d"),
                 (int)r->control_preprocess);
  else if (!isfinite (r->control_scale))
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("Control scale must be a finite number"));
  else if (!(r->control_start >= 0.0 && r->control_start < r->control_end
             && r->control_end <= 1.0))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Control start and end must satisfy 0 ≤ start < end ≤ 1, "
                    "not %g and %g"),
                 r->control_start, r->control_end);
  else if (!(r->canny_low >= 0.0 && r->canny_high >= 0.0 && r->canny_high <= 1e6
             && r->canny_low <= 1e6))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Canny thresholds must be between 0 and 10⁶, not %g and "
                    "%g"),
                 r->canny_low, r->canny_high);
  else if (!(r->tile_rate >= 1.0 && r->tile_rate <= MAX_TILE_RATE))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Tile rate must be between 1 and %g, not %g"),
                 MAX_TILE_RATE, r->tile_rate);
  else if (!isfinite (r->ip_scale))
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("IP-Adapter scale must be a finite number"));
  else
    return TRUE;
  return FALSE;
}
