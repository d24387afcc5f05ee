/* control-image.c: the ControlNet condition image as diffusers and the
 * preprocessors make it: VaeImageProcessor.resize (PIL Lanczos) to the
 * generation size, then OpenCV's Canny, or sd-webui-controlnet's
 * tile_resample (INTER_AREA by the rate) scaled back with PIL Lanczos.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>

#include "linfusion.h"

#include "image-ops.h"

#define MAX_SIDE      ((int64_t)1 << 20)
#define MAX_TILE_RATE 64.0
#define MAX_CANNY     1e6
/* tile_resample returns the image as it is below this rate. */
#define TILE_RATE_NOOP 1.1

static gboolean
check_size (const char *what, int64_t width, int64_t height, GError **error)
{
  if (width >= 1 && height >= 1 && width <= MAX_SIDE && height <= MAX_SIDE)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
               _ ("%s size %" PRId64 " × %" PRId64
                  " is out of range (1 to %" PRId64 " per side)"),
               what, width, height, MAX_SIDE);
  return FALSE;
}

static gboolean
check_arguments (const guint8       *rgb,
                 int64_t             width,
                 int64_t             height,
                 size_t              stride,
                 LfControlPreprocess kind,
                 double              canny_low,
                 double              canny_high,
                 double              tile_rate,
                 int64_t             out_width,
                 int64_t             out_height,
                 GError            **error)
{
  if (rgb == NULL)
    g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                         _ ("The control image is missing"));
  else if (!check_size (_ ("Control image"), width, height, error)
           || !check_size (_ ("Output"), out_width, out_height, error))
    return FALSE;
  else if (stride < (size_t)width * 3)
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Control image row stride %zu is shorter than %" PRId64
                    " RGB pixels"),
                 stride, width);
  else if (kind != LF_CONTROL_PREPROCESS_NONE
           && kind != LF_CONTROL_PREPROCESS_CANNY
           && kind != LF_CONTROL_PREPROCESS_TILE)
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Unknown control preprocessor %d"), (int)kind);
  else if (!(canny_low >= 0.0 && canny_low <= MAX_CANNY && canny_high >= 0.0
             && canny_high <= MAX_CANNY))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Canny thresholds must be between 0 and 10⁶, not %g and "
                    "%g"),
                 canny_low, canny_high);
  else if (!(tile_rate >= 1.0 && tile_rate <= MAX_TILE_RATE))
    g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                 _ ("Tile rate must be between 1 and %g, not %g"),
                 MAX_TILE_RATE, tile_rate);
  else
    return TRUE;
  return FALSE;
}

/* tile_resample: (int (W / rate), int (H / rate)) by INTER_AREA; then the
 * pipeline's own PIL Lanczos back to W × H. A side that would round to 0
 * (where OpenCV would refuse) is kept at 1 pixel. */
static guint8 *
tile_resample (guint8 *image, int64_t w, int64_t h, double rate, GError **error)
{
  g_autofree guint8 *small = NULL;
  int64_t            sw = MAX ((int64_t)((double)w / rate), 1);
  int64_t            sh = MAX ((int64_t)((double)h / rate), 1);

  if (rate < TILE_RATE_NOOP)
    return image;
  small = lf_image_resize_area (image, w, h, (size_t)w * 3, sw, sh, error);
  g_free (image);
  if (small == NULL)
    return NULL;
  return lf_image_resize (small, sw, sh, (size_t)sw * 3, w, h,
                          LF_RESAMPLE_LANCZOS, error);
}

guint8 *
lf_control_image_prepare (const guint8       *rgb,
                          int64_t             width,
                          int64_t             height,
                          size_t              stride,
                          LfControlPreprocess kind,
                          double              canny_low,
                          double              canny_high,
                          double              tile_rate,
                          int64_t             out_width,
                          int64_t             out_height,
                          GError            **error)
{
  g_autofree guint8 *image = NULL;
  guint8            *edges;

  if (!check_arguments (rgb, width, height, stride, kind, canny_low, canny_high,
                        tile_rate, out_width, out_height, error))
    return NULL;

  image = lf_image_resize (rgb, width, height, stride, out_width, out_height,
                           LF_RESAMPLE_LANCZOS, error);
  if (image == NULL)
    return NULL;

  switch (kind)
    {
    case LF_CONTROL_PREPROCESS_CANNY:
      edges = g_try_malloc ((size_t)out_width * (size_t)out_height * 3);
      if (edges == NULL)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                       _ ("Canny edges: cannot allocate %.1f MiB"),
                       (double)out_width * (double)out_height * 3 / 1048576.0);
          return NULL;
        }
      if (!lf_image_canny (image, out_width, out_height, (size_t)out_width * 3,
                           canny_low, canny_high, edges, error))
        {
          g_free (edges);
          return NULL;
        }
      return edges;
    case LF_CONTROL_PREPROCESS_TILE:
      return tile_resample (g_steal_pointer (&image), out_width, out_height,
                            tile_rate, error);
    case LF_CONTROL_PREPROCESS_NONE:
    default:
      return g_steal_pointer (&image);
    }
}
