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
 * ANY, which GimpProcedureDialog cannot render): its nick as a mnemonic
 * label, the config's path in an entry showing @placeholder when empty, and
 * the buttons of @flags. Returns: (transfer floating); pack it. */
typedef enum
{
  LF_CHOOSER_FOLDER = 1 << 0, /* "Folder…"                             */
  LF_CHOOSER_FILE = 1 << 1,   /* "File…", showing .safetensors         */
  LF_CHOOSER_IMAGE = 1 << 2,  /* "File…", showing images               */
  LF_CHOOSER_CLEAR = 1 << 3,  /* a button that unsets the property     */
} LfChooserFlags;

GtkWidget *lf_model_chooser_new (GimpProcedureDialog *dialog,
                                 const char          *property,
                                 LfChooserFlags       flags,
                                 const char          *placeholder);

/* A mnemonic label (in the dialog's label size group, so rows align) and
 * @widget in a row. Returns: (transfer floating). */
GtkWidget *lf_labeled_row_new (GimpProcedureDialog *dialog,
                               const char          *label_text,
                               GtkWidget           *widget);

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

/* adapter-sections.c: the "ControlNet" and "IP-Adapter" expanders of
 * generate and img2img: model choosers, a layer combo for the control
 * layer and for the reference (starting at @drawable, the current layer),
 * the reference file, preprocessing, thresholds (sensitive for canny only),
 * scales, the control range and a preview of the control image. Returns:
 * (transfer floating). */
GtkWidget *lf_controlnet_section_new (GimpProcedureDialog *dialog,
                                      GimpDrawable        *drawable);
GtkWidget *lf_ip_adapter_section_new (GimpProcedureDialog *dialog,
                                      GimpDrawable        *drawable);

/* After OK: the layer combos into the config; a control layer and a
 * reference only when their model is chosen, the reference layer only
 * without a reference file. */
void lf_adapter_sections_commit (GimpProcedureDialog *dialog);

/* control-preview.c: at most LF_CONTROL_PREVIEW_SIZE px, what the engine
 * feeds the ControlNet (lf_control_image_prepare) for the combo's layer at
 * the generation size scaled down, redrawn 150 ms after the layer, the
 * preprocessing, the thresholds or the size last changed. Returns:
 * (transfer floating). */
#define LF_CONTROL_PREVIEW_SIZE 160
GtkWidget *lf_control_preview_new (GimpProcedureConfig *config,
                                   GtkWidget           *layer_combo);

G_END_DECLS

#endif /* LF_UI_WIDGETS_H */
