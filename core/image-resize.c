/* image-resize.c: PIL's Image.resize for RGB images, byte for byte.
 * Mirrors Pillow's libImaging/Resample.c (ImagingResample, 8 bits per
 * channel): coefficients in double, normalised to 1, rounded to fixed point
 * with 22 fraction bits, a horizontal pass into the source rows the
 * vertical pass needs, then the vertical pass, each rounding and clipping to
 * 8 bits.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "image-ops.h"

/* 32 bits minus 8 for the result and 2 for overshoot (negative lobes). */
#define PRECISION_BITS (32 - 8 - 2)

typedef double (*FilterFunc) (double x);

/* Keys' cubic with a = −0.5, written as Pillow evaluates it. */
static double
bicubic_filter (double x)
{
  const double a = -0.5;

  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

static double
sinc_filter (double x)
{
  if (x == 0.0)
    return 1.0;
  x = x * G_PI;
  return sin (x) / x;
}

/* Pillow's window is half-open: −3 ≤ x < 3. */
static double
lanczos_filter (double x)
{
  if (-3.0 <= x && x < 3.0)
    return sinc_filter (x) * sinc_filter (x / 3);
  return 0.0;
}

/* One axis: for each output index the first input index, the tap count and
 * ksize fixed-point weights. */
typedef struct
{
  int64_t  ksize;
  int64_t *first; /* (out_size) */
  int64_t *count; /* (out_size) */
  int32_t *k;     /* (out_size, ksize) */
} Coeffs;

static void
coeffs_clear (Coeffs *c)
{
  g_free (c->first);
  g_free (c->count);
  g_free (c->k);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Coeffs, coeffs_clear)

static gboolean
alloc_failed (size_t bytes, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
               _ ("Image resize: cannot allocate %.1f MiB"),
               (double)bytes / 1048576.0);
  return FALSE;
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc. The box is (0, in)
 * as a float, as Pillow passes it. */
static gboolean
coeffs_init (Coeffs    *c,
             int64_t    in_size,
             int64_t    out_size,
             LfResample filter,
             GError   **error)
{
  FilterFunc fn
      = filter == LF_RESAMPLE_LANCZOS ? lanczos_filter : bicubic_filter;
  double  base_support = filter == LF_RESAMPLE_LANCZOS ? 3.0 : 2.0;
  double  scale = (double)(float)in_size / (double)out_size;
  double  filterscale = scale < 1.0 ? 1.0 : scale;
  double  support = base_support * filterscale;
  double  ss = 1.0 / filterscale;
  size_t  nk;
  double *w;

  c->ksize = (int64_t)ceil (support) * 2 + 1;
  nk = (size_t)out_size * (size_t)c->ksize;
  c->first = g_try_new (int64_t, out_size);
  c->count = g_try_new (int64_t, out_size);
  c->k = g_try_new0 (int32_t, nk);
  w = g_try_new (double, c->ksize);
  if (c->first == NULL || c->count == NULL || c->k == NULL || w == NULL)
    {
      g_free (w);
      return alloc_failed (nk * sizeof (int32_t), error);
    }
  for (int64_t xx = 0; xx < out_size; xx++)
    {
      double   center = (xx + 0.5) * scale;
      double   ww = 0.0;
      int64_t  xmin = (int64_t)(center - support + 0.5);
      int64_t  xmax = (int64_t)(center + support + 0.5);
      int32_t *k = c->k + xx * c->ksize;

      xmin = MAX (xmin, 0);
      xmax = MIN (xmax, in_size) - xmin;
      for (int64_t x = 0; x < xmax; x++)
        {
          w[x] = fn (((double)(x + xmin) - center + 0.5) * ss);
          ww += w[x];
        }
      for (int64_t x = 0; x < xmax; x++)
        {
          double v = ww != 0.0 ? w[x] / ww : w[x];

          k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                       : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
      c->first[xx] = xmin;
      c->count[xx] = xmax;
    }
  g_free (w);
  return TRUE;
}

/* Pillow's clip8: an arithmetic shift, then 0…255. */
static inline guint8
clip8 (int64_t ss)
{
  if (ss < 0)
    return 0;
  ss >>= PRECISION_BITS;
  return ss > 255 ? 255 : (guint8)ss;
}

static void
resample_horizontal (const guint8 *src,
                     size_t        stride,
                     int64_t       rows,
                     const Coeffs *c,
                     int64_t       out_w,
                     guint8       *dst)
{
  for (int64_t y = 0; y < rows; y++)
    {
      const guint8 *in = src + (size_t)y * stride;
      guint8       *out = dst + (size_t)y * (size_t)out_w * 3;

      for (int64_t xx = 0; xx < out_w; xx++)
        {
          const int32_t *k = c->k + xx * c->ksize;
          const guint8  *p = in + c->first[xx] * 3;
          int64_t        s0, s1, s2;

          s0 = s1 = s2 = 1 << (PRECISION_BITS - 1);
          for (int64_t x = 0; x < c->count[xx]; x++)
            {
              s0 += p[x * 3 + 0] * (int64_t)k[x];
              s1 += p[x * 3 + 1] * (int64_t)k[x];
              s2 += p[x * 3 + 2] * (int64_t)k[x];
            }
          out[xx * 3 + 0] = clip8 (s0);
          out[xx * 3 + 1] = clip8 (s1);
          out[xx * 3 + 2] = clip8 (s2);
        }
    }
}

/* @src row 0 is source row @row0 of the coefficients; @acc holds one
 * output row of sums. Taps outermost, so the source is read row by row. */
static void
resample_vertical (const guint8 *src,
                   size_t        stride,
                   int64_t       row0,
                   int64_t       width,
                   const Coeffs *c,
                   int64_t       out_h,
                   int64_t      *acc,
                   guint8       *dst)
{
  const int64_t n = width * 3;

  for (int64_t yy = 0; yy < out_h; yy++)
    {
      const int32_t *k = c->k + yy * c->ksize;
      const guint8  *in = src + (size_t)(c->first[yy] - row0) * stride;
      guint8        *out = dst + (size_t)yy * (size_t)n;

      for (int64_t i = 0; i < n; i++)
        acc[i] = 1 << (PRECISION_BITS - 1);
      for (int64_t y = 0; y < c->count[yy]; y++)
        {
          const guint8 *row = in + (size_t)y * stride;

          for (int64_t i = 0; i < n; i++)
            acc[i] += row[i] * (int64_t)k[y];
        }
      for (int64_t i = 0; i < n; i++)
        out[i] = clip8 (acc[i]);
    }
}

static guint8 *
copy_rows (const guint8 *rgb,
           int64_t       width,
           int64_t       height,
           size_t        stride,
           GError      **error)
{
  size_t  row = (size_t)width * 3;
  guint8 *out = g_try_malloc (row * (size_t)height);

  if (out == NULL)
    {
      alloc_failed (row * (size_t)height, error);
      return NULL;
    }
  for (int64_t y = 0; y < height; y++)
    memcpy (out + (size_t)y * row, rgb + (size_t)y * stride, row);
  return out;
}

guint8 *
lf_image_resize (const guint8 *rgb,
                 int64_t       width,
                 int64_t       height,
                 size_t        stride,
                 int64_t       out_width,
                 int64_t       out_height,
                 LfResample    filter,
                 GError      **error)
{
  g_auto (Coeffs) cv = { 0 };
  g_auto (Coeffs) ch = { 0 };
  g_autofree guint8  *tmp = NULL;
  g_autofree int64_t *acc = NULL;
  const guint8       *src = rgb;
  size_t              src_stride = stride;
  int64_t             row0 = 0;
  size_t              out_bytes;
  guint8             *out;

  g_return_val_if_fail (rgb != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);
  g_return_val_if_fail (out_width > 0 && out_height > 0, NULL);
  g_return_val_if_fail (stride >= (size_t)width * 3, NULL);

  if (out_width == width && out_height == height)
    return copy_rows (rgb, width, height, stride, error);

  if (!coeffs_init (&cv, height, out_height, filter, error))
    return NULL;
  if (out_width != width)
    {
      /* Only the source rows some output row reads. */
      int64_t last = cv.first[out_height - 1] + cv.count[out_height - 1];
      size_t  bytes;

      row0 = cv.first[0];
      bytes = (size_t)out_width * 3 * (size_t)(last - row0);
      if (!coeffs_init (&ch, width, out_width, filter, error))
        return NULL;
      tmp = g_try_malloc (MAX (bytes, 1));
      if (tmp == NULL)
        {
          alloc_failed (bytes, error);
          return NULL;
        }
      resample_horizontal (rgb + (size_t)row0 * stride, stride, last - row0,
                           &ch, out_width, tmp);
      src = tmp;
      src_stride = (size_t)out_width * 3;
    }
  if (out_height == height)
    return g_steal_pointer (&tmp);

  out_bytes = (size_t)out_width * 3 * (size_t)out_height;
  out = g_try_malloc (out_bytes);
  acc = g_try_new (int64_t, out_width * 3);
  if (out == NULL || acc == NULL)
    {
      g_free (out);
      alloc_failed (out_bytes, error);
      return NULL;
    }
  resample_vertical (src, src_stride, row0, out_width, &cv, out_height, acc,
                     out);
  return out;
}
