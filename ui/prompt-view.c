/* prompt-view.c: a multi-line prompt. The GtkTextView is the one
 * GimpProcedureDialog generates for a string property (its buffer bound to
 * the config both ways by gimp_prop_text_buffer_new); this file gives it a
 * mnemonic label, word wrapping and a scrolled window of a few lines. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets.h"

GtkWidget *
lf_prompt_view_new (GimpProcedureDialog *dialog,
                    const char          *property,
                    const char          *label,
                    int                  lines)
{
  GtkWidget   *vbox, *title, *scrolled, *view;
  PangoLayout *layout;
  int          line_height;

  view
      = gimp_procedure_dialog_get_widget (dialog, property, GTK_TYPE_TEXT_VIEW);
  g_return_val_if_fail (GTK_IS_TEXT_VIEW (view), NULL);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (view), FALSE);

  vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  title = gtk_label_new_with_mnemonic (label);
  gtk_label_set_xalign (GTK_LABEL (title), 0.0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (title), view);
  gtk_box_pack_start (GTK_BOX (vbox), title, FALSE, FALSE, 0);

  scrolled = gtk_scrolled_window_new (NULL, NULL);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_shadow_type (GTK_SCROLLED_WINDOW (scrolled),
                                       GTK_SHADOW_IN);
  layout = gtk_widget_create_pango_layout (view, "Ag");
  pango_layout_get_pixel_size (layout, NULL, &line_height);
  g_object_unref (layout);
  gtk_widget_set_size_request (scrolled, 320, lines * line_height + 8);
  /* The dialog's widget table holds a reference of its own; the scrolled
   * window must not take the only one (as gimp_procedure_dialog_fill). */
  gtk_container_add (GTK_CONTAINER (scrolled), g_object_ref (view));
  gtk_box_pack_start (GTK_BOX (vbox), scrolled, TRUE, TRUE, 0);
  gtk_widget_show_all (vbox);
  return vbox;
}
