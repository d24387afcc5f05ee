/* layer-source.c: reads img2img's input, the control layer and the
 * IP-Adapter's reference through their GeglBuffers as "R'G'B' u8" (GEGL
 * converts from any type and precision and drops alpha), as GIMP's own
 * plug-ins read drawables (plug-ins/common/tile.c). img2img's input is
 * resampled with gegl:scale-size when the request's size differs; the
 * others go to the engine at their own size (it resizes them as diffusers
 * does). */
#include "config.h"

#include <gegl.h>
#include <glib/gi18n.h>

#include "layer-source.h"

static void
read_resampled (
    GeglBuffer *buffer, gint width, gint height, guint8 *rgb, gint stride)
{
  GeglNode *graph, *source, *scale;

  /* libgimp sets GEGL up for buffers only; operations need their modules
   * loaded (GIMP's plug-ins/common/tile.c calls it too). */
  gegl_init (NULL, NULL);
  graph = gegl_node_new ();

  source = gegl_node_new_child (graph, "operation", "gegl:buffer-source",
                                "buffer", buffer, NULL);
  scale = gegl_node_new_child (graph, "operation", "gegl:scale-size", "x",
                               (gdouble)width, "y", (gdouble)height, "sampler",
                               GEGL_SAMPLER_CUBIC, NULL);
  gegl_node_link (source, scale);
  /* A drawable's buffer starts at (0, 0) and scale-size scales about the
   * origin, so the result covers (0, 0, width, height). */
  gegl_node_blit (scale, 1.0, GEGL_RECTANGLE (0, 0, width, height),
                  babl_format ("R'G'B' u8"), rgb, stride, GEGL_BLIT_DEFAULT);
  g_object_unref (graph);
}

static guint8 *
alloc_rgb (gint width, gint height, GError **error)
{
  const gsize bytes = (gsize)width * 3 * (gsize)height;
  guint8     *rgb = g_try_malloc (bytes);

  if (rgb == NULL)
    {
      g_autofree char *size = g_format_size (bytes);

      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Reading a layer at %d×%d needs %s of memory"), width,
                   height, size);
    }
  return rgb;
}

gboolean
lf_layer_source_set_init_image (LfRequest    *request,
                                GimpDrawable *drawable,
                                gint          width,
                                gint          height,
                                GError      **error)
{
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (drawable);
  const gint         stride = width * 3;
  g_autofree guint8 *rgb = alloc_rgb (width, height, error);

  if (rgb == NULL)
    return FALSE;
  if (gimp_drawable_get_width (drawable) == width
      && gimp_drawable_get_height (drawable) == height)
    gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, width, height), 1.0,
                     babl_format ("R'G'B' u8"), rgb, stride, GEGL_ABYSS_NONE);
  else
    read_resampled (buffer, width, height, rgb, stride);
  lf_request_set_init_image (request, width, height, rgb, (size_t)stride);
  return TRUE;
}

/* @drawable at its own size. Returns: (transfer full) (nullable). */
static guint8 *
read_own_size (GimpDrawable *drawable,
               gint         *width,
               gint         *height,
               GError      **error)
{
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (drawable);
  guint8 *rgb;

  *width = gimp_drawable_get_width (drawable);
  *height = gimp_drawable_get_height (drawable);
  rgb = alloc_rgb (*width, *height, error);
  if (rgb != NULL)
    gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, *width, *height), 1.0,
                     babl_format ("R'G'B' u8"), rgb, *width * 3,
                     GEGL_ABYSS_NONE);
  return rgb;
}

gboolean
lf_layer_source_set_control_image (LfRequest    *request,
                                   GimpDrawable *drawable,
                                   GError      **error)
{
  g_autofree guint8 *rgb = NULL;
  gint               w, h;

  if ((rgb = read_own_size (drawable, &w, &h, error)) == NULL)
    return FALSE;
  lf_request_set_control_image (request, w, h, rgb, (size_t)w * 3);
  return TRUE;
}

gboolean
lf_layer_source_set_ip_adapter_image (LfRequest    *request,
                                      GimpDrawable *drawable,
                                      GError      **error)
{
  g_autofree guint8 *rgb = NULL;
  gint               w, h;

  if ((rgb = read_own_size (drawable, &w, &h, error)) == NULL)
    return FALSE;
  lf_request_set_ip_adapter_image (request, w, h, rgb, (size_t)w * 3);
  return TRUE;
}

gboolean
lf_layer_source_set_ip_adapter_file (LfRequest  *request,
                                     const char *path,
                                     GError    **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  GimpImage *image = gimp_file_load (GIMP_RUN_NONINTERACTIVE, file);
  GimpLayer *layer;
  gboolean   ok;

  if (image == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("Cannot load the reference image “%s”: %s"), path,
                   gimp_pdb_get_last_error (gimp_get_pdb ()));
      return FALSE;
    }
  /* Visible layers merged with their alpha kept, so that one layer reads
   * as the CLI reads a PNG: alpha dropped, not composited. */
  layer = gimp_image_merge_visible_layers (image, GIMP_CLIP_TO_IMAGE);
  ok = layer != NULL
       && lf_layer_source_set_ip_adapter_image (request, GIMP_DRAWABLE (layer),
                                                error);
  if (layer == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_IO,
                 _ ("The reference image “%s” has no visible layer"), path);
  gimp_image_delete (image);
  return ok;
}
