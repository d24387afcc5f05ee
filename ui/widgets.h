/* widgets.h: the hand-written parts of the generation dialog (ui/), one per
 * file. Each is built around the widgets GimpProcedureDialog generates for
 * the config's properties and keeps no state of its own: what it shows and
 * edits lives in the GimpProcedureConfig. Main thread only. */
#ifndef LF_UI_WIDGETS_H
#define LF_UI_WIDGETS_H

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

G_BEGIN_DECLS

/* prompt-view.c: a mnemonic label over the dialog's GtkTextView for the
 * string @property (bound both ways), word-wrapped in a scrolled window
 * about @lines lines high. */
GtkWidget *lf_prompt_view_new (GimpProcedureDialog *dialog,
                               const char          *property,
                               const char          *label,
                               int                  lines);

/* model-chooser.c: a row for the GFile @property (declared with action
 * ANY, which GimpProcedureDialog cannot render): the config's path in an
 * entry, Folder… and File… buttons, and with @clearable a button that unsets
 * the property instead of File…. Returns: (transfer floating); pack it. */
GtkWidget *lf_model_chooser_new (GimpProcedureDialog *dialog,
                                 const char          *property,
                                 gboolean             clearable);

/* seed-entry.c: the generated "seed" spin button, given a "Random" button
 * that sets it to -1, which the plug-in reads as "draw a new seed for this
 * run". Returns: (transfer none), registered under "seed". */
GtkWidget *lf_seed_entry_new (GimpProcedureDialog *dialog);

/* size-entry.c: the generated "width" or "height" spin button, stepping
 * and snapping to multiples of 8. Returns: (transfer none). */
GtkWidget *lf_size_entry_new (GimpProcedureDialog *dialog,
                              const char          *property);

/* estimate-label.c: "≈ 7.1 GB, ≈ 4 min on 2 threads" for the config's
 * model, LinFusion, size and steps (lf_estimate), updated on notify. */
GtkWidget *lf_estimate_label_new (GimpProcedureConfig *config);

G_END_DECLS

#endif /* LF_UI_WIDGETS_H */
