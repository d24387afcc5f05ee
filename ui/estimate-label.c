/* estimate-label.c: what the chosen settings will cost, "≈ 7.1 GB, ≈ 4 min
 * on 2 threads", from lf_estimate (model headers only, nothing loaded),
 * refreshed when the config changes (coalesced in an idle, so a spin
 * button held down reads the model's headers once per frame at most). */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "widgets.h"

#define IDLE_KEY "lf-estimate-idle"

static char *
format_seconds (double seconds)
{
  if (seconds < 90.0)
    return g_strdup_printf (_ ("≈ %.0f s"), MAX (seconds, 1.0));
  if (seconds < 90.0 * 60.0)
    return g_strdup_printf (_ ("≈ %.0f min"), seconds / 60.0);
  return g_strdup_printf (_ ("≈ %.1f h"), seconds / 3600.0);
}

static void
show_estimate (GtkLabel *label,
               GFile    *model,
               gboolean  linfusion,
               int64_t   width,
               int64_t   height,
               int       steps)
{
  const int threads = (int)g_get_num_processors ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_file_get_path (model);
  g_autofree char *memory = NULL, *time = NULL, *text = NULL;
  g_autofree char *weights = NULL, *work = NULL, *tip = NULL;
  LfEstimate       e;

  if (path == NULL
      || !lf_estimate (path, linfusion, width, height, steps, threads, &e,
                       &error))
    {
      gtk_label_set_text (label, error != NULL ? error->message
                                               : _ ("The model is not a "
                                                    "local file"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (label), NULL);
      return;
    }
  memory = g_format_size (e.weight_bytes + e.activation_bytes);
  time = format_seconds (e.seconds);
  /* TRANSLATORS: "≈ 7.1 GB, ≈ 4 min on 2 threads" */
  text = g_strdup_printf (
      ngettext ("≈ %s, %s on %d thread", "≈ %s, %s on %d threads", threads),
      memory, time, threads);
  gtk_label_set_text (label, text);
  weights = g_format_size (e.weight_bytes);
  work = g_format_size (e.activation_bytes);
  tip = g_strdup_printf (_ ("Memory: %s of weights and %s of working memory. "
                            "Time: a rough estimate for this computer's "
                            "processor."),
                         weights, work);
  gtk_widget_set_tooltip_text (GTK_WIDGET (label), tip);
}

static gboolean
update (gpointer data)
{
  GtkLabel            *label = data;
  GimpProcedureConfig *config = g_object_get_data (data, "config");
  g_autoptr (GFile) model = NULL;
  g_autoptr (GFile) linfusion = NULL;
  int width = 512, height = 512, steps = 25;

  g_object_steal_data (data, IDLE_KEY);
  g_object_get (config, "model", &model, "linfusion", &linfusion, "width",
                &width, "height", &height, "steps", &steps, NULL);
  if (model == NULL)
    gtk_label_set_text (label, _ ("Choose a model to see how much memory and "
                                  "time this takes"));
  else
    show_estimate (label, model, linfusion != NULL, width, height, steps);
  return G_SOURCE_REMOVE;
}

static void
cancel_idle (gpointer id)
{
  g_source_remove (GPOINTER_TO_UINT (id));
}

static void
config_notify (GimpProcedureConfig *config G_GNUC_UNUSED,
               GParamSpec                 *pspec,
               GtkLabel                   *label)
{
  const char *name = g_param_spec_get_name (pspec);
  guint       id;

  if (g_strcmp0 (name, "model") != 0 && g_strcmp0 (name, "linfusion") != 0
      && g_strcmp0 (name, "width") != 0 && g_strcmp0 (name, "height") != 0
      && g_strcmp0 (name, "steps") != 0)
    return;
  if (g_object_get_data (G_OBJECT (label), IDLE_KEY) != NULL)
    return;
  id = g_idle_add (update, label);
  g_object_set_data_full (G_OBJECT (label), IDLE_KEY, GUINT_TO_POINTER (id),
                          cancel_idle);
}

GtkWidget *
lf_estimate_label_new (GimpProcedureConfig *config)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
  gimp_label_set_attributes (GTK_LABEL (label), PANGO_ATTR_STYLE,
                             PANGO_STYLE_ITALIC, -1);
  g_object_set_data_full (G_OBJECT (label), "config", g_object_ref (config),
                          g_object_unref);
  g_signal_connect_object (config, "notify", G_CALLBACK (config_notify), label,
                           0);
  update (label);
  return label;
}
