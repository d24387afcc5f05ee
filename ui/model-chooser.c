/* model-chooser.c: the model and LinFusion choosers. The model's is the
 * GimpFileChooser GimpProcedureDialog generates for the GFile argument: it
 * shows the config's value (the last one used; GIMP stores it between
 * runs) and writes the user's choice back. LinFusion is optional, and
 * GimpFileChooser cannot show "none" (3.0.4 passes NULL to
 * gtk_file_chooser_set_file), so its row is a GtkFileChooserButton bound to
 * the config by hand, with a button that unsets the property. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets.h"

/* config → button */
static void
file_notify (GimpProcedureConfig *config,
             GParamSpec          *pspec,
             GtkFileChooser      *button)
{
  GtkWidget *clear = g_object_get_data (G_OBJECT (button), "clear");
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFile) shown = gtk_file_chooser_get_file (button);

  g_object_get (config, g_param_spec_get_name (pspec), &file, NULL);
  if (file == NULL)
    gtk_file_chooser_unselect_all (button);
  else if (shown == NULL || !g_file_equal (file, shown))
    gtk_file_chooser_set_file (button, file, NULL);
  gtk_widget_set_sensitive (clear, file != NULL);
}

/* button → config, when the user picks a folder */
static void
file_set (GtkFileChooser *button, GimpProcedureConfig *config)
{
  const char *property = g_object_get_data (G_OBJECT (button), "property");
  g_autoptr (GFile) file = gtk_file_chooser_get_file (button);

  g_object_set (config, property, file, NULL);
}

static void
clear_clicked (GtkButton *clear G_GNUC_UNUSED, GtkWidget *button)
{
  GimpProcedureConfig *config = g_object_get_data (G_OBJECT (button), "config");
  const char *property = g_object_get_data (G_OBJECT (button), "property");

  g_object_set (config, property, NULL, NULL);
}

/* Line the label up with the generated model chooser's: a size group of
 * both (GTK sizes a widget over all of its groups, so this joins the
 * dialog's own label group too). */
static void
align_label (GimpProcedureDialog *dialog, GtkWidget *label)
{
  GtkWidget *model
      = gimp_procedure_dialog_get_widget (dialog, "model", G_TYPE_NONE);
  GtkSizeGroup *group;

  if (!GIMP_IS_FILE_CHOOSER (model))
    return;
  group = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  gtk_size_group_add_widget (
      group, gimp_file_chooser_get_label_widget (GIMP_FILE_CHOOSER (model)));
  gtk_size_group_add_widget (group, label);
  g_object_set_data_full (G_OBJECT (label), "size-group", group,
                          g_object_unref);
}

static GtkWidget *
clearable_chooser_new (GimpProcedureDialog *dialog,
                       GimpProcedureConfig *config,
                       GParamSpec          *pspec)
{
  const char      *property = g_param_spec_get_name (pspec);
  g_autofree char *signal = g_strconcat ("notify::", property, NULL);
  GtkWidget       *hbox, *label, *button, *clear;

  hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  label = gtk_label_new_with_mnemonic (g_param_spec_get_nick (pspec));
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  align_label (dialog, label);
  gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);

  button = gtk_file_chooser_button_new (g_param_spec_get_nick (pspec),
                                        GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), button);
  gimp_help_set_help_data (button, g_param_spec_get_blurb (pspec), NULL);
  gtk_box_pack_start (GTK_BOX (hbox), button, FALSE, FALSE, 0);

  clear = gtk_button_new_from_icon_name (GIMP_ICON_EDIT_CLEAR,
                                         GTK_ICON_SIZE_BUTTON);
  gimp_help_set_help_data (
      clear, _ ("Clear: generate with the model's own attention"), NULL);
  gtk_box_pack_start (GTK_BOX (hbox), clear, FALSE, FALSE, 0);

  g_object_set_data_full (G_OBJECT (button), "property", g_strdup (property),
                          g_free);
  g_object_set_data_full (G_OBJECT (button), "config", g_object_ref (config),
                          g_object_unref);
  g_object_set_data (G_OBJECT (button), "clear", clear);
  g_signal_connect (button, "file-set", G_CALLBACK (file_set), config);
  g_signal_connect (clear, "clicked", G_CALLBACK (clear_clicked), button);
  g_signal_connect_object (config, signal, G_CALLBACK (file_notify), button, 0);
  file_notify (config, pspec, GTK_FILE_CHOOSER (button));
  gtk_widget_show_all (hbox);
  return hbox;
}

GtkWidget *
lf_model_chooser_new (GimpProcedureDialog *dialog,
                      const char          *property,
                      gboolean             clearable)
{
  GimpProcedureConfig *config = NULL;
  GtkWidget           *widget;

  if (!clearable)
    return gimp_procedure_dialog_get_widget (dialog, property, G_TYPE_NONE);
  g_object_get (dialog, "config", &config, NULL);
  widget = clearable_chooser_new (
      dialog, config,
      g_object_class_find_property (G_OBJECT_GET_CLASS (config), property));
  g_object_unref (config);
  return widget;
}
