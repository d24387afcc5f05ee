/* progress.c: engine progress on the main thread. GIMP's bar moves with
 * the step count (the text stage ~0 %, sampling to 92 %, decoding the
 * rest) and is updated only when the whole percent changes, since each
 * call is a round trip to the core (GIMP's plug-ins/common/tile.c). */
#include "config.h"

#include <glib/gi18n.h>
#include <libgimp/gimp.h>
#include <math.h>

#include "lf-ui.h"
#include "progress.h"

struct _LfPluginProgress
{
  LfUiRunWindow *window;
  int            percent;
  int            stage, step; /* what the text shows now */
};

LfPluginProgress *
lf_plugin_progress_new (const char   *title,
                        gboolean      with_window,
                        GCancellable *cancel)
{
  LfPluginProgress *p = g_new0 (LfPluginProgress, 1);

  p->percent = -1;
  p->stage = -1;
  gimp_progress_init (_ ("LinFusion: loading the model"));
  if (with_window)
    p->window = lf_ui_run_window_new (title, cancel);
  return p;
}

static double
fraction (const LfProgress *r)
{
  const double done = r->n_steps > 0 ? (double)r->step / r->n_steps : 0.0;

  switch (r->stage)
    {
    case LF_STAGE_TEXT:
      return 0.01 * done;
    case LF_STAGE_ENCODE:
      return 0.01 + 0.01 * done;
    case LF_STAGE_SAMPLING:
      return 0.02 + 0.90 * done;
    case LF_STAGE_DECODE:
    default:
      return 0.92 + 0.08 * done;
    }
}

static void
set_text (LfPluginProgress *p, const LfProgress *r)
{
  g_autofree char *text = NULL;

  if ((int)r->stage == p->stage
      && (r->stage != LF_STAGE_SAMPLING || r->step == p->step))
    return;
  p->stage = r->stage;
  p->step = r->step;
  switch (r->stage)
    {
    case LF_STAGE_TEXT:
      text = g_strdup (_ ("LinFusion: encoding the prompt"));
      break;
    case LF_STAGE_ENCODE:
      text = g_strdup (_ ("LinFusion: encoding the input"));
      break;
    case LF_STAGE_SAMPLING:
      text = g_strdup_printf (_ ("LinFusion: step %d of %d"), r->step,
                              r->n_steps);
      break;
    case LF_STAGE_DECODE:
    default:
      text = g_strdup (_ ("LinFusion: decoding the image"));
      break;
    }
  gimp_progress_set_text (text);
}

void
lf_plugin_progress_update (LfPluginProgress *p, const LfProgress *r)
{
  const int percent = (int)floor (100.0 * fraction (r));

  set_text (p, r);
  if (percent != p->percent)
    {
      p->percent = percent;
      gimp_progress_update (percent / 100.0);
    }
  if (p->window != NULL)
    lf_ui_run_window_update (p->window, r);
}

void
lf_plugin_progress_free (LfPluginProgress *p)
{
  if (p == NULL)
    return;
  if (p->window != NULL)
    lf_ui_run_window_destroy (p->window);
  gimp_progress_end ();
  g_free (p);
}
