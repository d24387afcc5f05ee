/* lf-ui.h: the plug-in's GTK3 dialogs (libgimpui 3.0). The plug-in (plugin/)
 * calls these from its main thread; all settings live in the procedure's
 * GimpProcedureConfig (argument names are the PDB/Script-Fu interface). */
#ifndef LF_UI_H
#define LF_UI_H

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "linfusion.h"

G_BEGIN_DECLS

/**
 * lf_ui_dialog_run:
 * @procedure: one of plug-in-linfusion-generate, -img2img, -create
 * @config: its config; the dialog edits it in place
 * @image: (nullable): the image (NULL for -create)
 * @drawable: (nullable): the selected drawable (img2img's input; the
 *   control layer and the reference the dialog offers first)
 *
 * Shows the generation dialog: multi-line prompt and negative prompt, model
 * and LinFusion choosers (remembering the last choice), sampler, steps,
 * guidance, seed with a "random" button, size (and strength for img2img),
 * an estimate of memory and time for the chosen size, and for generate
 * and img2img the ControlNet and IP-Adapter sections. On OK, a control
 * layer and a reference are stored only when their model is chosen.
 *
 * Returns: %TRUE when the user pressed OK.
 */
gboolean lf_ui_dialog_run (GimpProcedure       *procedure,
                           GimpProcedureConfig *config,
                           GimpImage           *image,
                           GimpDrawable        *drawable);

typedef struct _LfUiRunWindow LfUiRunWindow;

/* The window shown while the engine works: the stage and step, a live
 * preview of the current step (lf_latents_preview_rgb8), and a Cancel
 * button that cancels @cancellable. */
LfUiRunWindow *lf_ui_run_window_new (const char   *title,
                                     GCancellable *cancellable);
/* Main thread only; @progress->latents is read during the call. */
void lf_ui_run_window_update (LfUiRunWindow    *window,
                              const LfProgress *progress);
void lf_ui_run_window_destroy (LfUiRunWindow *window);

G_END_DECLS

#endif /* LF_UI_H */
