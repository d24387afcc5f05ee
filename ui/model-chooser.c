/* model-chooser.c: the choosers of the path arguments (model, LinFusion,
 * ControlNet, IP-Adapter, image encoder, reference file). They are declared
 * with GIMP_FILE_CHOOSER_ACTION_ANY (a folder or a file, and a path that
 * does not exist survives to the engine's error message), for which
 * GimpProcedureDialog generates no widget; so each row is built here: an
 * entry showing the config's path (the last one used; GIMP keeps it between
 * runs), "Folder…" and/or "File…" buttons, and for optional ones a button
 * that unsets it. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets.h"

typedef struct
{
  GimpProcedureConfig *config;
  char                *property;
  LfChooserFlags       flags;
  GtkWidget           *entry, *clear;
} Chooser;

static void
chooser_free (gpointer data)
{
  Chooser *c = data;

  g_object_unref (c->config);
  g_free (c->property);
  g_free (c);
}

/* config → entry */
static void
file_notify (GimpProcedureConfig *config, GParamSpec *pspec, Chooser *c)
{
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;

  (void)pspec;
  g_object_get (config, c->property, &file, NULL);
  path = file != NULL ? g_file_get_path (file) : NULL;
  if (g_strcmp0 (gtk_entry_get_text (GTK_ENTRY (c->entry)), path ? path : "")
      != 0)
    gtk_entry_set_text (GTK_ENTRY (c->entry), path ? path : "");
  if (c->clear != NULL)
    gtk_widget_set_sensitive (c->clear, file != NULL);
}

/* The handler lives as long as the row (g_signal_connect_object). */
static void
on_notify (GimpProcedureConfig *config, GParamSpec *pspec, GtkWidget *row)
{
  file_notify (config, pspec, g_object_get_data (G_OBJECT (row), "lf-chooser"));
}

/* entry → config: a typed or pasted path, empty for none */
static void
entry_commit (Chooser *c)
{
  const char *text = gtk_entry_get_text (GTK_ENTRY (c->entry));
  g_autoptr (GFile) file = *text != '\0' ? g_file_new_for_path (text) : NULL;

  g_object_set (c->config, c->property, file, NULL);
}

static void
entry_activate (GtkEntry *entry, Chooser *c)
{
  (void)entry;
  entry_commit (c);
}

static gboolean
entry_focus_out (GtkWidget *entry, GdkEvent *event, Chooser *c)
{
  (void)entry;
  (void)event;
  entry_commit (c);
  return FALSE;
}

static void
add_filter (GtkFileChooserNative *native, gboolean images)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  if (images)
    {
      gtk_file_filter_set_name (filter, _ ("Images"));
      gtk_file_filter_add_pixbuf_formats (filter);
    }
  else
    {
      gtk_file_filter_set_name (filter, _ ("Checkpoints (*.safetensors)"));
      gtk_file_filter_add_pattern (filter, "*.safetensors");
    }
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
}

static void
pick (Chooser *c, GtkFileChooserAction action)
{
  GtkWidget *toplevel = gtk_widget_get_toplevel (c->entry);
  g_autoptr (GtkFileChooserNative) native = gtk_file_chooser_native_new (
      action == GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER ? _ ("Choose a folder")
                                                      : _ ("Choose a file"),
      GTK_WINDOW (toplevel), action, _ ("_Open"), _ ("_Cancel"));
  g_autoptr (GFile) current = NULL;

  g_object_get (c->config, c->property, &current, NULL);
  if (current != NULL)
    gtk_file_chooser_set_file (GTK_FILE_CHOOSER (native), current, NULL);
  if (action == GTK_FILE_CHOOSER_ACTION_OPEN)
    add_filter (native, (c->flags & LF_CHOOSER_IMAGE) != 0);
  if (gtk_native_dialog_run (GTK_NATIVE_DIALOG (native)) == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file
          = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      g_object_set (c->config, c->property, file, NULL);
    }
}

static void
folder_clicked (GtkButton *button, Chooser *c)
{
  (void)button;
  pick (c, GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
}

static void
file_clicked (GtkButton *button, Chooser *c)
{
  (void)button;
  pick (c, GTK_FILE_CHOOSER_ACTION_OPEN);
}

static void
clear_clicked (GtkButton *button, Chooser *c)
{
  (void)button;
  g_object_set (c->config, c->property, NULL, NULL);
}

/* The rows' labels share a width (one size group per dialog). */
static GtkSizeGroup *
label_group (GimpProcedureDialog *dialog)
{
  GtkSizeGroup *group = g_object_get_data (G_OBJECT (dialog), "lf-labels");

  if (group == NULL)
    {
      group = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
      g_object_set_data_full (G_OBJECT (dialog), "lf-labels", group,
                              g_object_unref);
    }
  return group;
}

static GtkWidget *
small_button (GtkWidget *box, const char *text, const char *tip)
{
  GtkWidget *button = gtk_button_new_with_label (text);

  gimp_help_set_help_data (button, tip, NULL);
  gtk_box_pack_start (GTK_BOX (box), button, FALSE, FALSE, 0);
  return button;
}

GtkWidget *
lf_labeled_row_new (GimpProcedureDialog *dialog,
                    const char          *label_text,
                    GtkWidget           *widget)
{
  GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (label_text);

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_size_group_add_widget (label_group (dialog), label);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  gtk_box_pack_start (GTK_BOX (hbox), label, FALSE, FALSE, 0);
  gtk_box_pack_start (GTK_BOX (hbox), widget, TRUE, TRUE, 0);
  gtk_widget_show_all (hbox);
  return hbox;
}

GtkWidget *
lf_model_chooser_new (GimpProcedureDialog *dialog,
                      const char          *property,
                      LfChooserFlags       flags,
                      const char          *placeholder)
{
  Chooser         *c = g_new0 (Chooser, 1);
  g_autofree char *signal = g_strconcat ("notify::", property, NULL);
  GParamSpec      *pspec;
  GtkWidget       *hbox;

  g_object_get (dialog, "config", &c->config, NULL);
  c->property = g_strdup (property);
  c->flags = flags;
  pspec
      = g_object_class_find_property (G_OBJECT_GET_CLASS (c->config), property);

  c->entry = gtk_entry_new ();
  gtk_entry_set_width_chars (GTK_ENTRY (c->entry), 28);
  gtk_entry_set_placeholder_text (GTK_ENTRY (c->entry), placeholder);
  gimp_help_set_help_data (c->entry, g_param_spec_get_blurb (pspec), NULL);
  hbox = lf_labeled_row_new (dialog, g_param_spec_get_nick (pspec), c->entry);
  g_object_set_data_full (G_OBJECT (hbox), "lf-chooser", c, chooser_free);
  g_signal_connect (c->entry, "activate", G_CALLBACK (entry_activate), c);
  g_signal_connect (c->entry, "focus-out-event", G_CALLBACK (entry_focus_out),
                    c);

  if (flags & LF_CHOOSER_FOLDER)
    g_signal_connect (small_button (hbox, _ ("Folder…"), _ ("Choose a folder")),
                      "clicked", G_CALLBACK (folder_clicked), c);
  if (flags & (LF_CHOOSER_FILE | LF_CHOOSER_IMAGE))
    g_signal_connect (small_button (hbox, _ ("File…"), _ ("Choose a file")),
                      "clicked", G_CALLBACK (file_clicked), c);
  if (flags & LF_CHOOSER_CLEAR)
    {
      c->clear = gtk_button_new_from_icon_name (GIMP_ICON_EDIT_CLEAR,
                                                GTK_ICON_SIZE_BUTTON);
      gimp_help_set_help_data (c->clear, _ ("Clear"), NULL);
      gtk_box_pack_start (GTK_BOX (hbox), c->clear, FALSE, FALSE, 0);
      g_signal_connect (c->clear, "clicked", G_CALLBACK (clear_clicked), c);
    }
  g_signal_connect_object (c->config, signal, G_CALLBACK (on_notify), hbox, 0);
  file_notify (c->config, pspec, c);
  gtk_widget_show_all (hbox);
  return hbox;
}
