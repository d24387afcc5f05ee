/* adapter-sections.c: the ControlNet and IP-Adapter expanders of the
 * generation dialog (see widgets.h). Settings are the config's generated
 * widgets; the two layers are GimpDrawableComboBoxes (any open image's
 * drawables), which always show a layer, so the config gets a layer only
 * on OK and only when its model is chosen: choosing no model switches the
 * section off (lf_adapter_sections_commit). */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets.h"

#define CONTROL_COMBO "lf-control-layer-combo"
#define IP_COMBO      "lf-ip-layer-combo"

static GimpProcedureConfig *
dialog_config (GimpProcedureDialog *dialog)
{
  GimpProcedureConfig *config;

  g_object_get (dialog, "config", &config, NULL);
  g_object_unref (config); /* the dialog keeps it */
  return config;
}

/* A combo of the open images' drawables showing @property's layer, else
 * @fallback, else the first; kept on the dialog under @key. */
static GtkWidget *
layer_combo (GimpProcedureDialog *dialog,
             const char          *property,
             GimpDrawable        *fallback,
             const char          *key)
{
  GtkWidget *combo = gimp_drawable_combo_box_new (NULL, NULL, NULL);
  g_autoptr (GimpDrawable) current = NULL;

  g_object_get (dialog_config (dialog), property, &current, NULL);
  if (current != NULL && gimp_item_is_valid (GIMP_ITEM (current)))
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo),
                                   gimp_item_get_id (GIMP_ITEM (current)));
  else if (fallback != NULL)
    gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo),
                                   gimp_item_get_id (GIMP_ITEM (fallback)));
  g_object_set_data (G_OBJECT (dialog), key, combo);
  return combo;
}

static GtkWidget *
layer_row (GimpProcedureDialog *dialog, const char *property, GtkWidget *combo)
{
  GParamSpec *pspec = g_object_class_find_property (
      G_OBJECT_GET_CLASS (dialog_config (dialog)), property);

  gimp_help_set_help_data (combo, g_param_spec_get_blurb (pspec), NULL);
  return lf_labeled_row_new (dialog, g_param_spec_get_nick (pspec), combo);
}

/* The generated widgets of the NULL-terminated properties in a box (the
 * dialog's widget table keeps a reference of its own). */
static GtkWidget *
generated_box (GimpProcedureDialog *dialog, const char *id, ...)
{
  GList     *ids = NULL;
  GtkWidget *box;
  va_list    args;

  va_start (args, id);
  for (const char *p = va_arg (args, const char *); p != NULL;
       p = va_arg (args, const char *))
    {
      GParamSpec *pspec = g_object_class_find_property (
          G_OBJECT_GET_CLASS (dialog_config (dialog)), p);

      /* numbers as spin scales; choices and toggles as the dialog makes
       * them */
      if (pspec != NULL && G_IS_PARAM_SPEC_DOUBLE (pspec))
        gimp_procedure_dialog_get_spin_scale (dialog, p, 1.0);
      ids = g_list_append (ids, (gpointer)p);
    }
  va_end (args);
  box = gimp_procedure_dialog_fill_box_list (dialog, id, ids);
  g_list_free (ids);
  gtk_box_set_spacing (GTK_BOX (box), 6);
  return g_object_ref (box);
}

static GtkWidget *
expander (const char *title, GtkWidget *contents, gboolean expanded)
{
  GtkWidget       *e = gtk_expander_new (NULL);
  GtkWidget       *label = gtk_label_new (NULL);
  g_autofree char *markup = g_markup_printf_escaped ("<b>%s</b>", title);

  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_expander_set_label_widget (GTK_EXPANDER (e), label);
  gtk_expander_set_expanded (GTK_EXPANDER (e), expanded);
  gtk_container_set_border_width (GTK_CONTAINER (contents), 6);
  gtk_container_add (GTK_CONTAINER (e), contents);
  gtk_widget_show_all (e);
  return e;
}

static gboolean
has_file (GimpProcedureConfig *config, const char *property)
{
  g_autoptr (GFile) file = NULL;

  g_object_get (config, property, &file, NULL);
  return file != NULL;
}

GtkWidget *
lf_controlnet_section_new (GimpProcedureDialog *dialog, GimpDrawable *drawable)
{
  GimpProcedureConfig *config = dialog_config (dialog);
  GtkWidget           *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget           *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget           *combo
      = layer_combo (dialog, "control-layer", drawable, CONTROL_COMBO);
  GimpValueArray *canny = gimp_value_array_new_from_types (
      NULL, G_TYPE_STRING, "canny", G_TYPE_NONE);
  GimpValueArray *tile = gimp_value_array_new_from_types (NULL, G_TYPE_STRING,
                                                          "tile", G_TYPE_NONE);

  gtk_box_pack_start (GTK_BOX (vbox),
                      lf_model_chooser_new (dialog, "control-model",
                                            LF_CHOOSER_FOLDER | LF_CHOOSER_FILE
                                                | LF_CHOOSER_CLEAR,
                                            _ ("none: no ControlNet")),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox),
                      layer_row (dialog, "control-layer", combo), FALSE, FALSE,
                      0);
  gtk_box_pack_start (
      GTK_BOX (hbox),
      generated_box (dialog, "controlnet-settings", "control-preprocess",
                     "canny-low", "canny-high", "tile-rate", "control-scale",
                     "control-start", "control-end", "control-guess-mode",
                     "control-linfusion", NULL),
      TRUE, TRUE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), lf_control_preview_new (config, combo),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox), hbox, FALSE, FALSE, 0);
  gimp_procedure_dialog_set_sensitive_if_in (dialog, "canny-low", NULL,
                                             "control-preprocess", canny, TRUE);
  gimp_procedure_dialog_set_sensitive_if_in (
      dialog, "canny-high", NULL, "control-preprocess",
      gimp_value_array_copy (canny), TRUE);
  gimp_procedure_dialog_set_sensitive_if_in (dialog, "tile-rate", NULL,
                                             "control-preprocess", tile, TRUE);
  return expander (_ ("ControlNet"), vbox, has_file (config, "control-model"));
}

/* The reference layer counts only without a reference file. */
static void
reference_notify (GimpProcedureConfig *config,
                  GParamSpec          *pspec,
                  GtkWidget           *combo)
{
  (void)pspec;
  gtk_widget_set_sensitive (combo, !has_file (config, "ip-adapter-file"));
}

GtkWidget *
lf_ip_adapter_section_new (GimpProcedureDialog *dialog, GimpDrawable *drawable)
{
  GimpProcedureConfig *config = dialog_config (dialog);
  GtkWidget           *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget           *combo
      = layer_combo (dialog, "ip-adapter-image", drawable, IP_COMBO);

  gtk_box_pack_start (GTK_BOX (vbox),
                      lf_model_chooser_new (dialog, "ip-adapter",
                                            LF_CHOOSER_FILE | LF_CHOOSER_CLEAR,
                                            _ ("none: no IP-Adapter")),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (
      GTK_BOX (vbox),
      lf_model_chooser_new (dialog, "image-encoder",
                            LF_CHOOSER_FOLDER | LF_CHOOSER_CLEAR,
                            _ ("image_encoder beside the adapter")),
      FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox),
                      layer_row (dialog, "ip-adapter-image", combo), FALSE,
                      FALSE, 0);
  gtk_box_pack_start (GTK_BOX (vbox),
                      lf_model_chooser_new (dialog, "ip-adapter-file",
                                            LF_CHOOSER_IMAGE | LF_CHOOSER_CLEAR,
                                            _ ("none: the reference layer")),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (
      GTK_BOX (vbox),
      generated_box (dialog, "ip-adapter-settings", "ip-adapter-scale", NULL),
      FALSE, FALSE, 0);
  g_signal_connect_object (config, "notify::ip-adapter-file",
                           G_CALLBACK (reference_notify), combo, 0);
  reference_notify (config, NULL, combo);
  return expander (_ ("IP-Adapter"), vbox, has_file (config, "ip-adapter"));
}

/* The combo's drawable, or NULL. Returns: (transfer none). */
static GimpDrawable *
combo_drawable (GimpProcedureDialog *dialog, const char *key)
{
  GtkWidget *combo = g_object_get_data (G_OBJECT (dialog), key);
  gint       id;

  if (combo == NULL
      || !gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &id))
    return NULL;
  return gimp_drawable_get_by_id (id);
}

void
lf_adapter_sections_commit (GimpProcedureDialog *dialog)
{
  GimpProcedureConfig *config = dialog_config (dialog);
  const gboolean       control = has_file (config, "control-model");
  const gboolean       ip = has_file (config, "ip-adapter");
  const gboolean       file = ip && has_file (config, "ip-adapter-file");

  g_object_set (config, "control-layer",
                control ? combo_drawable (dialog, CONTROL_COMBO) : NULL,
                "ip-adapter-image",
                ip && !file ? combo_drawable (dialog, IP_COMBO) : NULL, NULL);
  if (!ip)
    g_object_set (config, "ip-adapter-file", NULL, "image-encoder", NULL, NULL);
}
