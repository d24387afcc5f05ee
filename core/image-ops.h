/* image-ops.h: the image preprocessing the pipelines do in Python, in C
 * and bit-exact: PIL's Image.resize (8-bit, fixed point), OpenCV's
 * resize INTER_AREA and Canny, transformers' CLIPImageProcessor.
 * Images are packed RGB8 rows of @stride bytes.
 */
#ifndef LF_IMAGE_OPS_H
#define LF_IMAGE_OPS_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum
{
  LF_RESAMPLE_BICUBIC, /* PIL.Image.BICUBIC (a = −0.5)  */
  LF_RESAMPLE_LANCZOS, /* PIL.Image.LANCZOS (a = 3)     */
} LfResample;

/* PIL Image.resize ((out_w, out_h), filter) of an RGB image, byte for
 * byte. Returns: (transfer full): out_h · out_w · 3 bytes, or NULL with
 * LF_ERROR_OUT_OF_MEMORY when the buffer cannot be had. */
guint8 *lf_image_resize (const guint8 *rgb,
                         int64_t       width,
                         int64_t       height,
                         size_t        stride,
                         int64_t       out_width,
                         int64_t       out_height,
                         LfResample    filter,
                         GError      **error);

/* cv2.resize (img, (out_w, out_h), interpolation=cv2.INTER_AREA) for a
 * reduction (out ≤ in on both sides), byte for byte. */
guint8 *lf_image_resize_area (const guint8 *rgb,
                              int64_t       width,
                              int64_t       height,
                              size_t        stride,
                              int64_t       out_width,
                              int64_t       out_height,
                              GError      **error);

/* cv2.Canny (img, low, high) on the 3-channel image (aperture 3, L1
 * gradient, the strongest channel per pixel), the 0/255 edge map written
 * to all three channels of @out (height · width · 3). */
gboolean lf_image_canny (const guint8 *rgb,
                         int64_t       width,
                         int64_t       height,
                         size_t        stride,
                         double        low,
                         double        high,
                         guint8       *out,
                         GError      **error);

/* CLIPImageProcessor (size = crop = @size): shortest edge to @size with
 * PIL bicubic, centre crop, × 1/255, (x − mean) / std with OpenAI CLIP's
 * mean and std. @out: (3, size, size) planar float32. */
gboolean lf_image_clip_preprocess (const guint8 *rgb,
                                   int64_t       width,
                                   int64_t       height,
                                   size_t        stride,
                                   int64_t       size,
                                   float        *out,
                                   GError      **error);

G_END_DECLS

#endif /* LF_IMAGE_OPS_H */
