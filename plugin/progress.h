/* progress.h: the main thread's side of the engine's progress: GIMP's
 * progress bar (throttled to whole percents) and, in interactive runs, the
 * run window with its own Cancel. */
#ifndef LF_PLUGIN_PROGRESS_H
#define LF_PLUGIN_PROGRESS_H

#include <gio/gio.h>

#include "linfusion.h"

G_BEGIN_DECLS

typedef struct _LfPluginProgress LfPluginProgress;

/* @with_window: also show the run window, whose Cancel cancels @cancel. */
LfPluginProgress *lf_plugin_progress_new (const char   *title,
                                          gboolean      with_window,
                                          GCancellable *cancel);
void              lf_plugin_progress_update (LfPluginProgress *progress,
                                             const LfProgress *report);
void              lf_plugin_progress_free (LfPluginProgress *progress);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfPluginProgress, lf_plugin_progress_free)

G_END_DECLS

#endif /* LF_PLUGIN_PROGRESS_H */
