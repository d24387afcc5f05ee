/* image-clip.c: transformers' CLIPImageProcessor (4.44) as diffusers builds
 * it for IP-Adapter: shortest edge to @size (get_resize_output_image_size),
 * PIL bicubic, centre crop (center_crop's floor offsets), rescale by 1/255
 * in float64 cast to float32, then (x − mean) / std in float32.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "image-ops.h"

/* transformers' OPENAI_CLIP_MEAN and OPENAI_CLIP_STD. */
static const double clip_mean[3] = { 0.48145466, 0.4578275, 0.40821073 };
static const double clip_std[3] = { 0.26862954, 0.26130258, 0.27577711 };

gboolean
lf_image_clip_preprocess (const guint8 *rgb,
                          int64_t       width,
                          int64_t       height,
                          size_t        stride,
                          int64_t       size,
                          float        *out,
                          GError      **error)
{
  g_autofree guint8 *resized = NULL;
  int64_t            rw, rh, top, left;
  const size_t       plane = (size_t)size * (size_t)size;

  g_return_val_if_fail (rgb != NULL && out != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0 && size > 0, FALSE);

  /* new_long = int(size · long / short): a true division, truncated. */
  if (width <= height)
    {
      rw = size;
      rh = (int64_t)((double)(size * height) / (double)width);
    }
  else
    {
      rh = size;
      rw = (int64_t)((double)(size * width) / (double)height);
    }
  resized = lf_image_resize (rgb, width, height, stride, rw, rh,
                             LF_RESAMPLE_BICUBIC, error);
  if (resized == NULL)
    return FALSE;

  top = (rh - size) / 2;
  left = (rw - size) / 2;
  for (int c = 0; c < 3; c++)
    {
      const float mean = (float)clip_mean[c];
      const float std = (float)clip_std[c];
      float      *dst = out + c * plane;

      for (int64_t y = 0; y < size; y++)
        {
          const guint8 *row = resized + ((size_t)(top + y) * (size_t)rw) * 3;

          for (int64_t x = 0; x < size; x++)
            {
              float v = (float)(row[(left + x) * 3 + c] * (1.0 / 255.0));

              dst[y * size + x] = (v - mean) / std;
            }
        }
    }
  return TRUE;
}
