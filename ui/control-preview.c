/* control-preview.c: a small picture of what the ControlNet will see (see
 * widgets.h): the layer's thumbnail through lf_control_image_prepare, the
 * engine's own resize and preprocessing, at the generation size scaled to
 * fit LF_CONTROL_PREVIEW_SIZE. Canny at that size finds coarser edges than
 * at the full size; the picture shows the kind of input, not every edge. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "widgets.h"

#define DEBOUNCE_MS 150

typedef struct
{
  GimpProcedureConfig *config;
  GtkWidget           *combo, *image;
  guint                timeout;
} Preview;

static void
preview_free (gpointer data)
{
  Preview *p = data;

  if (p->timeout != 0)
    g_source_remove (p->timeout);
  g_object_unref (p->config);
  g_free (p);
}

/* A thumbnail of 1–4 bytes per pixel (gray, gray + alpha, RGB, RGBA) as
 * packed RGB, alpha ignored as the engine's input ignores it. */
static guint8 *
thumbnail_rgb (GimpDrawable *drawable, gint *width, gint *height)
{
  gint bpp;
  g_autoptr (GBytes) bytes = gimp_drawable_get_thumbnail_data (
      drawable, 2 * LF_CONTROL_PREVIEW_SIZE, 2 * LF_CONTROL_PREVIEW_SIZE, width,
      height, &bpp);
  const guint8 *src;
  guint8       *rgb;
  const gsize   n = (gsize)*width * (gsize)*height;

  if (bytes == NULL || bpp < 1 || bpp > 4
      || g_bytes_get_size (bytes) < n * (gsize)bpp)
    return NULL;
  src = g_bytes_get_data (bytes, NULL);
  rgb = g_malloc (n * 3);
  for (gsize i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      rgb[i * 3 + c] = src[i * bpp + (bpp < 3 ? 0 : c)];
  return rgb;
}

static void
free_pixels (guchar *pixels, gpointer data)
{
  (void)data;
  g_free (pixels);
}

static void
show (Preview *p, guint8 *rgb, gint width, gint height, const char *why)
{
  g_autoptr (GdkPixbuf) pixbuf = NULL;

  if (rgb != NULL)
    pixbuf = gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, width,
                                       height, width * 3, free_pixels, NULL);
  gtk_image_set_from_pixbuf (GTK_IMAGE (p->image), pixbuf);
  gimp_help_set_help_data (p->image, why, NULL);
}

/* The generation size scaled to fit the preview. */
static void
preview_size (GimpProcedureConfig *config, gint *width, gint *height)
{
  gint    w, h;
  gdouble scale;

  g_object_get (config, "width", &w, "height", &h, NULL);
  scale = MIN (1.0, (gdouble)LF_CONTROL_PREVIEW_SIZE / MAX (1, MAX (w, h)));
  *width = MAX (1, (gint)(w * scale + 0.5));
  *height = MAX (1, (gint)(h * scale + 0.5));
}

static gboolean
update (gpointer data)
{
  Preview *p = data;
  g_autoptr (GError) error = NULL;
  g_autofree char    *preprocess = NULL;
  g_autofree guint8  *rgb = NULL;
  guint8             *out = NULL;
  GimpDrawable       *drawable = NULL;
  LfControlPreprocess kind = LF_CONTROL_PREPROCESS_NONE;
  gdouble             low, high, rate;
  gint                id, tw = 0, th = 0, pw, ph;

  p->timeout = 0;
  if (gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (p->combo), &id))
    drawable = gimp_drawable_get_by_id (id);
  if (drawable == NULL || (rgb = thumbnail_rgb (drawable, &tw, &th)) == NULL)
    {
      show (p, NULL, 0, 0, _ ("No control layer"));
      return G_SOURCE_REMOVE;
    }
  g_object_get (p->config, "control-preprocess", &preprocess, "canny-low", &low,
                "canny-high", &high, "tile-rate", &rate, NULL);
  lf_control_preprocess_from_string (preprocess, &kind);
  preview_size (p->config, &pw, &ph);
  out = lf_control_image_prepare (rgb, tw, th, (size_t)tw * 3, kind, low, high,
                                  rate, pw, ph, &error);
  show (p, out, pw, ph,
        out != NULL ? _ ("What the ControlNet sees, scaled down")
                    : error->message);
  return G_SOURCE_REMOVE;
}

static void
schedule (Preview *p)
{
  if (p->timeout != 0)
    g_source_remove (p->timeout);
  p->timeout = g_timeout_add (DEBOUNCE_MS, update, p);
}

static void
on_config_notify (GimpProcedureConfig *config,
                  GParamSpec          *pspec,
                  GtkWidget           *image)
{
  static const char *const inputs[]
      = { "control-preprocess", "canny-low", "canny-high",
          "tile-rate",          "width",     "height" };

  (void)config;
  for (gsize i = 0; i < G_N_ELEMENTS (inputs); i++)
    if (g_str_equal (pspec->name, inputs[i]))
      schedule (g_object_get_data (G_OBJECT (image), "lf-preview"));
}

static void
on_combo_changed (GtkWidget *image)
{
  schedule (g_object_get_data (G_OBJECT (image), "lf-preview"));
}

GtkWidget *
lf_control_preview_new (GimpProcedureConfig *config, GtkWidget *layer_combo)
{
  Preview   *p = g_new0 (Preview, 1);
  GtkWidget *frame = gtk_frame_new (NULL);

  p->config = g_object_ref (config);
  p->combo = layer_combo;
  p->image = gtk_image_new ();
  gtk_widget_set_size_request (p->image, LF_CONTROL_PREVIEW_SIZE,
                               LF_CONTROL_PREVIEW_SIZE);
  gtk_frame_set_shadow_type (GTK_FRAME (frame), GTK_SHADOW_IN);
  gtk_widget_set_valign (frame, GTK_ALIGN_START);
  gtk_container_add (GTK_CONTAINER (frame), p->image);
  /* freed with the image, which also ends the pending timeout */
  g_object_set_data_full (G_OBJECT (p->image), "lf-preview", p, preview_free);
  g_signal_connect_object (config, "notify", G_CALLBACK (on_config_notify),
                           p->image, 0);
  g_signal_connect_object (layer_combo, "changed",
                           G_CALLBACK (on_combo_changed), p->image,
                           G_CONNECT_SWAPPED);
  schedule (p);
  gtk_widget_show_all (frame);
  return frame;
}
