/* image-canny.c: cv2.Canny (img, low, high) on an 8-bit RGB image
 * (aperture 3, L1 gradient), byte for byte. Mirrors OpenCV's
 * modules/imgproc/src/canny.cpp: 3 × 3 Sobel with BORDER_REPLICATE per
 * channel, the channel of largest |dx| + |dy| per pixel (the first on
 * ties), non-maximum suppression in four sectors with tan 22.5° in 15-bit
 * fixed point and OpenCV's strict / non-strict comparisons, thresholds
 * floored and swapped when low > high, hysteresis over 8 neighbours.
 *
 * Memory: three rows of gradients and magnitudes (O(width)), one byte per
 * pixel of state (the edge map with a one-pixel frame) and the hysteresis
 * stack (grown on demand, at most one entry per pixel).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "image-ops.h"

#define CANNY_SHIFT 15
/* (int)(tan 22.5° · 2^15 + 0.5), as OpenCV computes it. */
#define TG22 13573

enum
{
  MAP_CANDIDATE = 0, /* above low, a local maximum: an edge if connected */
  MAP_NONE = 1,      /* not an edge (also the frame)                     */
  MAP_EDGE = 2,      /* an edge                                          */
};

/* One image row's winning gradient and magnitude, with a zero on each side
 * so that j − 1 and j + 1 read 0 outside the image. */
typedef struct
{
  int16_t *dx;  /* (width) */
  int16_t *dy;  /* (width) */
  int32_t *mag; /* (width + 2), mag[0] and mag[width + 1] are 0 */
} GradRow;

/* Map indices of edges whose neighbours are still to be visited. */
typedef struct
{
  int64_t *data;
  size_t   n, capacity;
} Stack;

/* Room for @extra more entries; grows by half, as OpenCV's stack does. */
static gboolean
stack_reserve (Stack *s, size_t extra)
{
  size_t   capacity;
  int64_t *data;

  if (s->n + extra <= s->capacity)
    return TRUE;
  capacity = MAX (s->capacity + s->capacity / 2, s->n + extra);
  data = g_try_renew (int64_t, s->data, capacity);
  if (data == NULL)
    return FALSE;
  s->data = data;
  s->capacity = capacity;
  return TRUE;
}

static inline const guint8 *
row_at (const guint8 *rgb, size_t stride, int64_t height, int64_t y)
{
  y = CLAMP (y, 0, height - 1);
  return rgb + (size_t)y * stride;
}

/* Sobel dx, dy of every channel of row @y (BORDER_REPLICATE), keeping the
 * channel with the largest L1 magnitude. */
static void
gradient_row (const guint8 *rgb,
              int64_t       width,
              int64_t       height,
              size_t        stride,
              int64_t       y,
              GradRow      *g)
{
  const guint8 *up = row_at (rgb, stride, height, y - 1);
  const guint8 *mid = row_at (rgb, stride, height, y);
  const guint8 *down = row_at (rgb, stride, height, y + 1);

  g->mag[0] = g->mag[width + 1] = 0;
  for (int64_t x = 0; x < width; x++)
    {
      const int64_t l = MAX (x - 1, 0) * 3, c = x * 3;
      const int64_t r = MIN (x + 1, width - 1) * 3;
      int32_t       best = -1;

      for (int k = 0; k < 3; k++)
        {
          int32_t dx = (up[r + k] - up[l + k]) + 2 * (mid[r + k] - mid[l + k])
                       + (down[r + k] - down[l + k]);
          int32_t dy = (down[l + k] + 2 * down[c + k] + down[r + k])
                       - (up[l + k] + 2 * up[c + k] + up[r + k]);
          int32_t m = abs (dx) + abs (dy);

          if (m > best)
            {
              best = m;
              g->dx[x] = (int16_t)dx;
              g->dy[x] = (int16_t)dy;
            }
        }
      g->mag[x + 1] = best;
    }
}

/* Non-maximum suppression of row @cur between @prev and @next (magnitude
 * rows, NULL outside the image); @map is the row's state, seeds pushed. */
static void
suppress_row (const GradRow *cur,
              const int32_t *prev,
              const int32_t *next,
              int64_t        width,
              int32_t        low,
              int32_t        high,
              guint8        *map,
              int64_t        map_index,
              Stack         *stack)
{
  for (int64_t j = 0; j < width; j++)
    {
      const int32_t *mag = cur->mag + 1;
      int32_t        m = mag[j];
      gboolean       keep = FALSE;

      if (m > low)
        {
          int32_t xs = cur->dx[j], ys = cur->dy[j];
          int64_t x = abs (xs);
          int64_t y = (int64_t)abs (ys) << CANNY_SHIFT;
          int64_t tg22x = x * TG22;
          int32_t p, n;

          if (y < tg22x)
            keep = m > mag[j - 1] && m >= mag[j + 1];
          else if (y > tg22x + (x << (CANNY_SHIFT + 1)))
            {
              p = prev != NULL ? prev[j + 1] : 0;
              n = next != NULL ? next[j + 1] : 0;
              keep = m > p && m >= n;
            }
          else
            {
              int s = (xs ^ ys) < 0 ? -1 : 1;

              p = prev != NULL ? prev[j + 1 - s] : 0;
              n = next != NULL ? next[j + 1 + s] : 0;
              keep = m > p && m > n;
            }
        }
      if (!keep)
        map[j] = MAP_NONE;
      else if (m > high)
        {
          map[j] = MAP_EDGE;
          stack->data[stack->n++] = map_index + j;
        }
      else
        map[j] = MAP_CANDIDATE;
    }
}

/* Grows every seed through 8-connected candidates. Each pixel is pushed
 * once at most. */
static gboolean
hysteresis (guint8 *map, int64_t map_stride, Stack *stack)
{
  const int64_t offsets[8] = { -1,
                               1,
                               -map_stride - 1,
                               -map_stride,
                               -map_stride + 1,
                               map_stride - 1,
                               map_stride,
                               map_stride + 1 };

  while (stack->n > 0)
    {
      int64_t i;

      if (!stack_reserve (stack, 8))
        return FALSE;
      i = stack->data[--stack->n];
      for (int k = 0; k < 8; k++)
        if (map[i + offsets[k]] == MAP_CANDIDATE)
          {
            map[i + offsets[k]] = MAP_EDGE;
            stack->data[stack->n++] = i + offsets[k];
          }
    }
  return TRUE;
}

/* cvFloor of the threshold, clamped to where it still decides something
 * (magnitudes are 0…2040). */
static int32_t
threshold_floor (double t)
{
  return (int32_t)CLAMP (floor (t), -1.0, 4096.0);
}

static gboolean
out_of_memory (int64_t width, int64_t height, size_t bytes, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
               _ ("Canny edges of a %" PRId64 " × %" PRId64
                  " image: cannot allocate %.1f MiB"),
               width, height, (double)bytes / 1048576.0);
  return FALSE;
}

static void
write_edges (const guint8 *map, int64_t width, int64_t height, guint8 *out)
{
  for (int64_t y = 0; y < height; y++)
    {
      const guint8 *m = map + (size_t)(y + 1) * (size_t)(width + 2) + 1;
      guint8       *d = out + (size_t)y * (size_t)width * 3;

      for (int64_t x = 0; x < width; x++)
        d[3 * x] = d[3 * x + 1] = d[3 * x + 2] = m[x] == MAP_EDGE ? 255 : 0;
    }
}

gboolean
lf_image_canny (const guint8 *rgb,
                int64_t       width,
                int64_t       height,
                size_t        stride,
                double        low,
                double        high,
                guint8       *out,
                GError      **error)
{
  const int64_t       mw = width + 2;
  const size_t        n_map = (size_t)mw * (size_t)(height + 2);
  g_autofree guint8  *map = NULL;
  g_autofree int16_t *grad = NULL;
  g_autofree int32_t *mags = NULL;
  Stack               stack = { NULL, 0, 0 };
  GradRow             rows[3];
  int32_t             ilow, ihigh;
  gboolean            ok = TRUE;

  g_return_val_if_fail (rgb != NULL && out != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0, FALSE);
  g_return_val_if_fail (stride >= (size_t)width * 3, FALSE);

  if (low > high)
    {
      double t = low;

      low = high;
      high = t;
    }
  ilow = threshold_floor (low);
  ihigh = threshold_floor (high);

  map = g_try_malloc (n_map);
  grad = g_try_new (int16_t, 6 * width);
  mags = g_try_new (int32_t, 3 * mw);
  if (map == NULL || grad == NULL || mags == NULL
      || !stack_reserve (&stack, MAX (1024, n_map / 10)))
    {
      g_free (stack.data);
      return out_of_memory (width, height, n_map, error);
    }
  for (int r = 0; r < 3; r++)
    rows[r] = (GradRow){ grad + 2 * r * width, grad + (2 * r + 1) * width,
                         mags + r * mw };
  /* The frame is never an edge, so the 8 neighbours need no bounds test. */
  memset (map, MAP_NONE, (size_t)mw);
  memset (map + (size_t)mw * (size_t)(height + 1), MAP_NONE, (size_t)mw);

  gradient_row (rgb, width, height, stride, 0, &rows[0]);
  if (height > 1)
    gradient_row (rgb, width, height, stride, 1, &rows[1]);
  for (int64_t y = 0; ok && y < height; y++)
    {
      const GradRow *cur = &rows[y % 3];
      const GradRow *prev = y > 0 ? &rows[(y + 2) % 3] : NULL;
      const GradRow *next = y + 1 < height ? &rows[(y + 1) % 3] : NULL;
      guint8        *map_row = map + (size_t)(y + 1) * (size_t)mw;

      if (!(ok = stack_reserve (&stack, (size_t)width)))
        break;
      map_row[0] = map_row[width + 1] = MAP_NONE;
      suppress_row (cur, prev != NULL ? prev->mag : NULL,
                    next != NULL ? next->mag : NULL, width, ilow, ihigh,
                    map_row + 1, (y + 1) * mw + 1, &stack);
      /* The slot of row y − 1, no longer needed. */
      if (y + 2 < height)
        gradient_row (rgb, width, height, stride, y + 2, &rows[(y + 2) % 3]);
    }
  ok = ok && hysteresis (map, mw, &stack);
  if (!ok)
    {
      size_t bytes = stack.capacity * sizeof (int64_t) * 3 / 2;

      g_free (stack.data);
      return out_of_memory (width, height, bytes, error);
    }
  g_free (stack.data);
  write_edges (map, width, height, out);
  return TRUE;
}
