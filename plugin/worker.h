/* worker.h: runs the engine (load, generate) on one worker thread while
 * the main thread, the only one that calls libgimp, writes the strips into
 * the target sink and shows progress. */
#ifndef LF_WORKER_H
#define LF_WORKER_H

#include <gio/gio.h>

#include "linfusion.h"

G_BEGIN_DECLS

typedef struct
{
  const char      *model;             /* a diffusers folder or a checkpoint */
  const char      *linfusion;         /* (nullable) a LinFusion folder      */
  const char      *controlnet;        /* (nullable) a ControlNet           */
  gboolean         control_linfusion; /* LinFusion on it too           */
  const char      *ip_adapter;        /* (nullable) an IP-Adapter file     */
  const char      *image_encoder;     /* (nullable) its image encoder      */
  const LfRequest *request;
  const char      *title;       /* of the run window                    */
  gboolean         interactive; /* run window, GTK events while running */
} LfJob;

/**
 * lf_worker_run:
 * @target: (transfer none): a main-thread sink (layer-sink.c)
 * @cancel: checked by the engine between steps; the run window's Cancel
 *   cancels it
 *
 * Blocks the main thread until the engine is done, meanwhile forwarding
 * the engine's sink calls to @target in order (at most two strips in
 * flight) and its progress to GIMP.
 *
 * Returns: %TRUE on success; else the engine's error unchanged
 *   (G_IO_ERROR_CANCELLED on cancel), and @target has been aborted if it
 *   was begun.
 */
gboolean lf_worker_run (const LfJob  *job,
                        LfSink       *target,
                        GCancellable *cancel,
                        GError      **error);

G_END_DECLS

#endif /* LF_WORKER_H */
