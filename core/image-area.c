/* image-area.c: OpenCV's cv::resize (INTER_AREA) for reductions of 8-bit
 * RGB, byte for byte. Mirrors modules/imgproc/src/resize.cpp: the scale
 * is 1 / (out / in) in double; when both scales are within DBL_EPSILON of
 * integers, resizeAreaFast_ (an integer box sum; the 2 × 2 case rounds
 * half up with (s + 2) >> 2, the others multiply by 1.f / area and round
 * half to even); otherwise resizeArea_ with computeResizeAreaTab's float
 * weights, accumulated in float and rounded half to even.
 */
#include "config.h"

#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "image-ops.h"

/* OpenCV's saturate_cast<uchar> (float): cvRound, then clamp. */
static inline guint8
saturate_u8 (float v)
{
  long r = lrintf (v);

  return r < 0 ? 0 : r > 255 ? 255 : (guint8)r;
}

static void
area_fast (const guint8 *rgb,
           size_t        stride,
           int64_t       sx,
           int64_t       sy,
           int64_t       out_w,
           int64_t       out_h,
           guint8       *out)
{
  const float scale = 1.f / (float)(sx * sy);

  for (int64_t y = 0; y < out_h; y++)
    {
      const guint8 *rows = rgb + (size_t)(y * sy) * stride;
      guint8       *d = out + (size_t)y * (size_t)out_w * 3;

      for (int64_t x = 0; x < out_w * 3; x++)
        {
          const guint8 *s = rows + (x / 3) * sx * 3 + x % 3;
          int64_t       sum = 0;

          for (int64_t j = 0; j < sy; j++)
            for (int64_t i = 0; i < sx; i++)
              sum += s[(size_t)j * stride + i * 3];
          /* ResizeAreaFastVec: the 2 × 2 path of 1-, 3- and 4-channel
           * images is integer, rounding half up. */
          if (sx == 2 && sy == 2)
            d[x] = (guint8)((sum + 2) >> 2);
          else
            d[x] = saturate_u8 ((float)sum * scale);
        }
    }
}

typedef struct
{
  int64_t si, di; /* source and destination index (pixels) */
  float   alpha;
} AreaTap;

/* computeResizeAreaTab. Returns the number of taps (< 2 · in_size + 2). */
static int64_t
area_taps (int64_t in_size, int64_t out_size, double scale, AreaTap *tab)
{
  int64_t k = 0;

  for (int64_t dx = 0; dx < out_size; dx++)
    {
      double  fsx1 = dx * scale;
      double  fsx2 = fsx1 + scale;
      double  cell = MIN (scale, in_size - fsx1);
      int64_t sx1 = (int64_t)ceil (fsx1);
      int64_t sx2 = (int64_t)floor (fsx2);

      sx2 = MIN (sx2, in_size - 1);
      sx1 = MIN (sx1, sx2);
      if (sx1 - fsx1 > 1e-3)
        tab[k++] = (AreaTap){ sx1 - 1, dx, (float)((sx1 - fsx1) / cell) };
      for (int64_t sx = sx1; sx < sx2; sx++)
        tab[k++] = (AreaTap){ sx, dx, (float)(1.0 / cell) };
      if (fsx2 - sx2 > 1e-3)
        tab[k++]
            = (AreaTap){ sx2, dx,
                         (float)(MIN (MIN (fsx2 - sx2, 1.), cell) / cell) };
    }
  return k;
}

static void
area_general (const guint8  *rgb,
              size_t         stride,
              int64_t        out_w,
              const AreaTap *xtab,
              int64_t        nx,
              const AreaTap *ytab,
              int64_t        ny,
              float         *buf, /* (out_w · 3) */
              float         *sum, /* (out_w · 3) */
              guint8        *out)
{
  const int64_t n = out_w * 3;
  int64_t       prev_dy = ytab[0].di;

  memset (sum, 0, (size_t)n * sizeof (float));
  for (int64_t j = 0; j < ny; j++)
    {
      const guint8 *s = rgb + (size_t)ytab[j].si * stride;
      const float   beta = ytab[j].alpha;

      memset (buf, 0, (size_t)n * sizeof (float));
      for (int64_t k = 0; k < nx; k++)
        {
          const guint8 *p = s + xtab[k].si * 3;
          float        *b = buf + xtab[k].di * 3;
          const float   a = xtab[k].alpha;

          b[0] = b[0] + p[0] * a;
          b[1] = b[1] + p[1] * a;
          b[2] = b[2] + p[2] * a;
        }
      if (ytab[j].di != prev_dy)
        {
          guint8 *d = out + (size_t)prev_dy * (size_t)n;

          for (int64_t i = 0; i < n; i++)
            {
              d[i] = saturate_u8 (sum[i]);
              sum[i] = beta * buf[i];
            }
          prev_dy = ytab[j].di;
        }
      else
        for (int64_t i = 0; i < n; i++)
          sum[i] += beta * buf[i];
    }
  for (int64_t i = 0; i < n; i++)
    out[(size_t)prev_dy * (size_t)n + i] = saturate_u8 (sum[i]);
}

static gboolean
alloc_failed (size_t bytes, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
               _ ("Area resize: cannot allocate %.1f MiB"),
               (double)bytes / 1048576.0);
  return FALSE;
}

guint8 *
lf_image_resize_area (const guint8 *rgb,
                      int64_t       width,
                      int64_t       height,
                      size_t        stride,
                      int64_t       out_width,
                      int64_t       out_height,
                      GError      **error)
{
  /* cv::resize derives the scale from its inverse. */
  const double        scale_x = 1. / ((double)out_width / (double)width);
  const double        scale_y = 1. / ((double)out_height / (double)height);
  const double        iscale_x = nearbyint (scale_x);
  const double        iscale_y = nearbyint (scale_y);
  const size_t        out_bytes = (size_t)out_width * (size_t)out_height * 3;
  g_autofree guint8  *out = NULL;
  g_autofree AreaTap *xtab = NULL;
  g_autofree AreaTap *ytab = NULL;
  g_autofree float   *acc = NULL;

  g_return_val_if_fail (rgb != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (out_width > 0 && out_width <= width, NULL);
  g_return_val_if_fail (out_height > 0 && out_height <= height, NULL);
  g_return_val_if_fail (stride >= (size_t)width * 3, NULL);

  out = g_try_malloc (out_bytes);
  if (out == NULL)
    {
      alloc_failed (out_bytes, error);
      return NULL;
    }
  if (out_width == width && out_height == height)
    {
      for (int64_t y = 0; y < height; y++)
        memcpy (out + (size_t)y * (size_t)width * 3, rgb + (size_t)y * stride,
                (size_t)width * 3);
      return g_steal_pointer (&out);
    }
  if (fabs (scale_x - iscale_x) < DBL_EPSILON
      && fabs (scale_y - iscale_y) < DBL_EPSILON)
    {
      area_fast (rgb, stride, (int64_t)iscale_x, (int64_t)iscale_y, out_width,
                 out_height, out);
      return g_steal_pointer (&out);
    }

  xtab = g_try_new (AreaTap, 2 * width + 2);
  ytab = g_try_new (AreaTap, 2 * height + 2);
  acc = g_try_new (float, 2 * out_width * 3);
  if (xtab == NULL || ytab == NULL || acc == NULL)
    {
      alloc_failed ((size_t)(width + height) * 2 * sizeof (AreaTap), error);
      return NULL;
    }
  area_general (rgb, stride, out_width, xtab,
                area_taps (width, out_width, scale_x, xtab), ytab,
                area_taps (height, out_height, scale_y, ytab), acc,
                acc + out_width * 3, out);
  return g_steal_pointer (&out);
}
