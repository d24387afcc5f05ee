/* size-entry.c: "width" and "height", GimpProcedureDialog's spin buttons
 * stepping and snapping to multiples of 8, the VAE's scale factor (the
 * engine refuses other sizes). */
#include "config.h"

#include "widgets.h"

GtkWidget *
lf_size_entry_new (GimpProcedureDialog *dialog, const char *property)
{
  GtkWidget *spin, *button;

  spin = gimp_procedure_dialog_get_widget (dialog, property,
                                           GIMP_TYPE_LABEL_SPIN);
  g_return_val_if_fail (GIMP_IS_LABEL_SPIN (spin), NULL);
  gimp_label_spin_set_increments (GIMP_LABEL_SPIN (spin), 8.0, 64.0);
  button = gimp_label_spin_get_spin_button (GIMP_LABEL_SPIN (spin));
  gtk_spin_button_set_snap_to_ticks (GTK_SPIN_BUTTON (button), TRUE);
  return spin;
}
