/* layer-source.c: reads img2img's input drawable through its GeglBuffer as
 * "R'G'B' u8" (GEGL converts from any type and precision and drops alpha),
 * resampled with gegl:scale-size when the request's size differs, as GIMP's
 * own plug-ins read drawables (plug-ins/common/tile.c). */
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

gboolean
lf_layer_source_set_init_image (LfRequest    *request,
                                GimpDrawable *drawable,
                                gint          width,
                                gint          height,
                                GError      **error)
{
  g_autoptr (GeglBuffer) buffer = gimp_drawable_get_buffer (drawable);
  const gint         stride = width * 3;
  const gsize        bytes = (gsize)stride * (gsize)height;
  g_autofree guint8 *rgb = g_try_malloc (bytes);

  if (rgb == NULL)
    {
      g_autofree char *size = g_format_size (bytes);

      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Reading the input layer at %d×%d needs %s of memory"),
                   width, height, size);
      return FALSE;
    }
  if (gimp_drawable_get_width (drawable) == width
      && gimp_drawable_get_height (drawable) == height)
    gegl_buffer_get (buffer, GEGL_RECTANGLE (0, 0, width, height), 1.0,
                     babl_format ("R'G'B' u8"), rgb, stride, GEGL_ABYSS_NONE);
  else
    read_resampled (buffer, width, height, rgb, stride);
  lf_request_set_init_image (request, width, height, rgb, (size_t)stride);
  return TRUE;
}
