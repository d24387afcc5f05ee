/* seed-entry.c: the seed, as GimpProcedureDialog's spin button for "seed"
 * plus a "Random" button. Random sets the seed to -1, which the plug-in
 * reads as "draw a new seed for this run" (and records the one it drew on
 * the new layer), so OK after Random gives a different image every time. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "widgets.h"

static void
random_clicked (GtkButton *button G_GNUC_UNUSED, GimpProcedureConfig *config)
{
  g_object_set (config, "seed", -1, NULL);
}

GtkWidget *
lf_seed_entry_new (GimpProcedureDialog *dialog)
{
  GimpProcedureConfig *config = NULL;
  GtkWidget           *spin, *button;

  g_object_get (dialog, "config", &config, NULL);
  spin
      = gimp_procedure_dialog_get_widget (dialog, "seed", GIMP_TYPE_LABEL_SPIN);
  g_return_val_if_fail (GIMP_IS_LABEL_SPIN (spin), NULL);
  gimp_help_set_help_data (
      gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (spin)),
      _ ("The same seed and settings give the same image; -1 draws a new "
         "seed for each run"),
      NULL);

  button = gtk_button_new_with_mnemonic (_ ("Ran_dom"));
  gimp_help_set_help_data (
      button, _ ("Set the seed to -1: a new seed for each run"), NULL);
  g_signal_connect_object (button, "clicked", G_CALLBACK (random_clicked),
                           config, 0);
  /* GimpLabelSpin is a grid: label, spin button; the button goes third */
  gtk_grid_attach (GTK_GRID (spin), button, 2, 0, 1, 1);
  gtk_widget_show (button);
  g_object_unref (config);
  return spin;
}
