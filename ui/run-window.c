/* run-window.c: the window shown while the engine works: stage and step, a
 * progress bar, the current step's latents as a cheap RGB preview
 * (lf_latents_preview_rgb8, scaled up), and a Cancel button that cancels
 * the run's GCancellable; the engine stops at its next step or strip. The
 * plug-in's main loop keeps it responsive while a worker runs the engine. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "lf-ui.h"

#define PLUG_IN_BINARY "linfusion"
#define PREVIEW_SIZE   256 /* the preview's longer side, in pixels */

struct _LfUiRunWindow
{
  GtkWidget    *dialog;
  GtkWidget    *label;
  GtkWidget    *bar;
  GtkWidget    *preview; /* GtkImage */
  GCancellable *cancellable;
};

static void
cancel (LfUiRunWindow *window)
{
  g_cancellable_cancel (window->cancellable);
  gtk_dialog_set_response_sensitive (GTK_DIALOG (window->dialog),
                                     GTK_RESPONSE_CANCEL, FALSE);
  gtk_label_set_text (GTK_LABEL (window->label),
                      _ ("Cancelling after this step…"));
}

static void
response (GtkDialog *dialog G_GNUC_UNUSED,
          int response_id   G_GNUC_UNUSED,
          LfUiRunWindow    *window)
{
  cancel (window);
}

/* Closing the window cancels too; it stays until the plug-in destroys it. */
static gboolean
delete_event (GtkWidget *widget G_GNUC_UNUSED,
              GdkEvent *event   G_GNUC_UNUSED,
              LfUiRunWindow    *window)
{
  cancel (window);
  return TRUE;
}

LfUiRunWindow *
lf_ui_run_window_new (const char *title, GCancellable *cancellable)
{
  LfUiRunWindow *window = g_new0 (LfUiRunWindow, 1);
  GtkWidget     *vbox;

  g_return_val_if_fail (G_IS_CANCELLABLE (cancellable), NULL);

  gimp_ui_init (PLUG_IN_BINARY);
  window->cancellable = g_object_ref (cancellable);
  window->dialog = gimp_dialog_new (title, "linfusion-run", NULL, 0, NULL, NULL,
                                    _ ("_Cancel"), GTK_RESPONSE_CANCEL, NULL);
  gtk_window_set_resizable (GTK_WINDOW (window->dialog), FALSE);
  g_signal_connect (window->dialog, "response", G_CALLBACK (response), window);
  g_signal_connect (window->dialog, "delete-event", G_CALLBACK (delete_event),
                    window);

  vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_container_set_border_width (GTK_CONTAINER (vbox), 12);
  gtk_box_pack_start (
      GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (window->dialog))), vbox,
      TRUE, TRUE, 0);

  window->preview = gtk_image_new ();
  gtk_widget_set_size_request (window->preview, PREVIEW_SIZE, PREVIEW_SIZE);
  gtk_box_pack_start (GTK_BOX (vbox), window->preview, FALSE, FALSE, 0);

  window->label = gtk_label_new (_ ("Loading the model…"));
  gtk_label_set_xalign (GTK_LABEL (window->label), 0.0);
  gtk_box_pack_start (GTK_BOX (vbox), window->label, FALSE, FALSE, 0);

  window->bar = gtk_progress_bar_new ();
  gtk_box_pack_start (GTK_BOX (vbox), window->bar, FALSE, FALSE, 0);

  gtk_widget_show_all (window->dialog);
  return window;
}

static void
free_pixels (guchar *pixels, gpointer data G_GNUC_UNUSED)
{
  g_free (pixels);
}

/* The latents (1, 4, h, w) as an RGB preview, the longer side scaled to
 * PREVIEW_SIZE (h × w is small: 64 × 64 for a 512² image). */
static void
show_latents (LfUiRunWindow *window, const LfProgress *progress)
{
  const int64_t h = progress->latent_shape[2], w = progress->latent_shape[3];
  const double  scale = (double)PREVIEW_SIZE / MAX (h, w);
  GdkPixbuf    *small, *big;
  guint8       *rgb;

  if (progress->latent_shape[1] != 4 || h < 1 || w < 1 || h > 65536
      || w > 65536)
    return;
  rgb = g_malloc ((gsize)(h * w * 3));
  lf_latents_preview_rgb8 (progress->latents, progress->latent_shape, rgb);
  small = gdk_pixbuf_new_from_data (rgb, GDK_COLORSPACE_RGB, FALSE, 8, (int)w,
                                    (int)h, (int)(w * 3), free_pixels, NULL);
  big = gdk_pixbuf_scale_simple (small, MAX ((int)(w * scale), 1),
                                 MAX ((int)(h * scale), 1),
                                 GDK_INTERP_BILINEAR);
  gtk_image_set_from_pixbuf (GTK_IMAGE (window->preview), big);
  g_object_unref (big);
  g_object_unref (small);
}

static char *
stage_text (const LfProgress *progress)
{
  switch (progress->stage)
    {
    case LF_STAGE_TEXT:
      return g_strdup (_ ("Encoding the prompts"));
    case LF_STAGE_ENCODE:
      return g_strdup (_ ("Encoding the image"));
    case LF_STAGE_SAMPLING:
      return g_strdup_printf (_ ("Step %d of %d"), progress->step,
                              progress->n_steps);
    case LF_STAGE_DECODE:
      return g_strdup (_ ("Decoding the image"));
    }
  return g_strdup ("");
}

void
lf_ui_run_window_update (LfUiRunWindow *window, const LfProgress *progress)
{
  g_autofree char *stage = NULL, *text = NULL;
  const int        seconds = (int)progress->seconds;

  g_return_if_fail (window != NULL && progress != NULL);

  if (g_cancellable_is_cancelled (window->cancellable))
    return;
  stage = stage_text (progress);
  /* TRANSLATORS: a stage ("Step 3 of 25"), then minutes:seconds since the
   * start */
  text
      = g_strdup_printf (_ ("%s — %d:%02d"), stage, seconds / 60, seconds % 60);
  gtk_label_set_text (GTK_LABEL (window->label), text);
  if (progress->n_steps > 0)
    gtk_progress_bar_set_fraction (
        GTK_PROGRESS_BAR (window->bar),
        CLAMP ((double)progress->step / progress->n_steps, 0.0, 1.0));
  else
    gtk_progress_bar_pulse (GTK_PROGRESS_BAR (window->bar));
  if (progress->stage == LF_STAGE_SAMPLING && progress->latents != NULL)
    show_latents (window, progress);
}

void
lf_ui_run_window_destroy (LfUiRunWindow *window)
{
  if (window == NULL)
    return;
  gtk_widget_destroy (window->dialog);
  g_object_unref (window->cancellable);
  g_free (window);
}
