/* worker.c: the engine on one GThread, libgimp on the main thread (docs/
 * style.md §1.7, §6). The engine writes into a proxy sink; its calls travel
 * to the main thread over a GAsyncQueue, begin and finish wait for the main
 * thread's answer, and write copies each strip into one of two buffers, so
 * at most two strips are in flight and the worker waits when the main
 * thread is behind (double buffering, as libvips' sink_disc). */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "progress.h"
#include "worker.h"

#define N_STRIPS 2
/* Latents copied for a preview at most this size (512² px is 64 Ki). */
#define PREVIEW_FLOATS_MAX (4 * 256 * 256)

typedef enum
{
  MSG_PROGRESS,
  MSG_BEGIN,
  MSG_STRIP,
  MSG_FINISH,
  MSG_ABORT,
  MSG_DONE,
} MsgKind;

typedef struct
{
  MsgKind    kind;
  LfProgress progress; /* PROGRESS; its latents are @latents        */
  float     *latents;  /* PROGRESS: a copy, or NULL                 */
  int64_t    a, b, c;  /* BEGIN: width, height, strip height;
                          STRIP: y, rows                            */
  guint8  *strip;      /* STRIP: one of the free_strips buffers     */
  gboolean ok;         /* DONE                                      */
  GError  *error;      /* DONE                                      */
} Msg;

typedef struct
{
  gboolean ok;
  GError  *error;
  int64_t  strip_height;
} Reply;

typedef struct
{
  LfSink        sink; /* the proxy: worker thread */
  const LfJob  *job;
  GCancellable *cancel;
  LfSink       *target;  /* main thread only */
  GAsyncQueue  *to_main; /* Msg */
  GAsyncQueue  *replies; /* Reply to BEGIN and FINISH */
  GAsyncQueue  *free_strips;
  int           n_strips;
  int64_t       width;
  gint          write_failed; /* atomic; write_error is set before it */
  GError       *write_error;
  gint          preview_busy; /* atomic: a latents copy is queued */
} Worker;

static Msg *
msg_new (MsgKind kind)
{
  Msg *m = g_new0 (Msg, 1);

  m->kind = kind;
  return m;
}

/* ---- worker thread ------------------------------------------------- */

static Reply *
ask_main (Worker *w, Msg *m)
{
  g_async_queue_push (w->to_main, m);
  return g_async_queue_pop (w->replies);
}

static gboolean
take_reply (Reply *r, int64_t *strip_height, GError **error)
{
  const gboolean ok = r->ok;

  if (!ok)
    g_propagate_error (error, r->error);
  if (strip_height != NULL)
    *strip_height = r->strip_height;
  g_free (r);
  return ok;
}

static gboolean
alloc_strips (Worker *w, int64_t strip_height, GError **error)
{
  const gsize bytes = (gsize)(strip_height * w->width * 3);

  for (; w->n_strips < N_STRIPS; w->n_strips++)
    {
      guint8 *strip = g_try_malloc (bytes);

      if (strip == NULL)
        {
          g_autofree char *size = g_format_size (bytes);

          g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                       _ ("A strip of the result needs %s of memory"), size);
          return FALSE;
        }
      g_async_queue_push (w->free_strips, strip);
    }
  return TRUE;
}

static gboolean
proxy_begin (LfSink       *sink,
             int64_t       width,
             int64_t       height,
             LfPixelFormat format,
             int64_t      *strip_height,
             GError      **error)
{
  Worker *w = (Worker *)sink;
  Msg    *m = msg_new (MSG_BEGIN);

  (void)format; /* RGB8 is the only one */
  m->a = width;
  m->b = height;
  m->c = *strip_height;
  if (!take_reply (ask_main (w, m), strip_height, error))
    return FALSE;
  w->width = width;
  return alloc_strips (w, *strip_height, error);
}

static gboolean
take_write_error (Worker *w, GError **error)
{
  if (!g_atomic_int_get (&w->write_failed))
    return FALSE;
  g_propagate_error (error, g_error_copy (w->write_error));
  return TRUE;
}

static gboolean
proxy_write (LfSink       *sink,
             int64_t       y,
             int64_t       rows,
             const guint8 *pixels,
             size_t        stride,
             GError      **error)
{
  Worker      *w = (Worker *)sink;
  const size_t row = (size_t)w->width * 3;
  Msg         *m;
  guint8      *strip;

  if (take_write_error (w, error))
    return FALSE;
  strip = g_async_queue_pop (w->free_strips); /* waits: two in flight */
  for (int64_t r = 0; r < rows; r++)
    memcpy (strip + r * row, pixels + r * stride, row);
  m = msg_new (MSG_STRIP);
  m->a = y;
  m->b = rows;
  m->strip = strip;
  g_async_queue_push (w->to_main, m);
  return TRUE;
}

static gboolean
proxy_finish (LfSink *sink, GError **error)
{
  Worker *w = (Worker *)sink;
  guint8 *strips[N_STRIPS];

  /* Every strip back: the main thread has written them all. */
  for (int i = 0; i < w->n_strips; i++)
    strips[i] = g_async_queue_pop (w->free_strips);
  for (int i = 0; i < w->n_strips; i++)
    g_async_queue_push (w->free_strips, strips[i]);
  if (take_write_error (w, error))
    return FALSE;
  return take_reply (ask_main (w, msg_new (MSG_FINISH)), NULL, error);
}

static void
proxy_abort (LfSink *sink)
{
  Worker *w = (Worker *)sink;

  g_async_queue_push (w->to_main, msg_new (MSG_ABORT));
}

static void
on_progress (const LfProgress *p, gpointer user_data)
{
  Worker *w = user_data;
  Msg    *m = msg_new (MSG_PROGRESS);
  int64_t n = p->latent_shape[0] * p->latent_shape[1] * p->latent_shape[2]
              * p->latent_shape[3];

  m->progress = *p;
  m->progress.latents = NULL;
  /* One preview at a time: a main thread that is behind skips some. */
  if (w->job->interactive && p->latents != NULL && n > 0
      && n <= PREVIEW_FLOATS_MAX
      && g_atomic_int_compare_and_exchange (&w->preview_busy, 0, 1))
    m->progress.latents = m->latents
        = g_memdup2 (p->latents, (gsize)n * sizeof (float));
  g_async_queue_push (w->to_main, m);
}

static gpointer
worker_thread (gpointer data)
{
  Worker   *w = data;
  LfEngine *engine;
  GError   *error = NULL;
  Msg      *done = msg_new (MSG_DONE);

  done->ok
      = (engine = lf_engine_new ("cpu", 0, &error)) != NULL
        && lf_engine_load_model (engine, w->job->model, NULL, &error)
        && (w->job->linfusion == NULL
            || lf_engine_load_linfusion (engine, w->job->linfusion, &error))
        && (!w->job->control_linfusion
            || lf_engine_set_controlnet_linfusion (engine, TRUE, &error))
        && (w->job->controlnet == NULL
            || lf_engine_load_controlnet (engine, w->job->controlnet, &error))
        && (w->job->ip_adapter == NULL
            || lf_engine_load_ip_adapter (engine, w->job->ip_adapter,
                                          w->job->image_encoder, &error))
        && !g_cancellable_set_error_if_cancelled (w->cancel, &error)
        && lf_engine_generate (engine, w->job->request, &w->sink, on_progress,
                               w, w->cancel, &error);
  lf_engine_free (engine);
  done->error = error;
  g_async_queue_push (w->to_main, done);
  return NULL;
}

/* ---- main thread --------------------------------------------------- */

static void
reply (Worker *w, gboolean ok, GError *error, int64_t strip_height)
{
  Reply *r = g_new0 (Reply, 1);

  r->ok = ok;
  r->error = error;
  r->strip_height = strip_height;
  g_async_queue_push (w->replies, r);
}

static void
write_strip (Worker *w, Msg *m)
{
  GError *error = NULL;

  if (!g_atomic_int_get (&w->write_failed)
      && !w->target->write (w->target, m->a, m->b, m->strip,
                            (size_t)w->width * 3, &error))
    {
      w->write_error = error;
      g_atomic_int_set (&w->write_failed, 1);
    }
  g_async_queue_push (w->free_strips, m->strip);
}

/* Returns: TRUE on MSG_DONE, with its result in @ok and @error. */
static gboolean
handle (
    Worker *w, Msg *m, LfPluginProgress *progress, gboolean *ok, GError **error)
{
  GError  *e = NULL;
  gboolean r;

  switch (m->kind)
    {
    case MSG_PROGRESS:
      lf_plugin_progress_update (progress, &m->progress);
      if (m->latents != NULL)
        g_atomic_int_set (&w->preview_busy, 0);
      g_free (m->latents);
      break;
    case MSG_BEGIN:
      r = w->target->begin (w->target, m->a, m->b, LF_PIXEL_RGB8, &m->c, &e);
      reply (w, r, e, m->c);
      break;
    case MSG_STRIP:
      write_strip (w, m);
      break;
    case MSG_FINISH:
      r = w->target->finish (w->target, &e);
      reply (w, r, e, 0);
      break;
    case MSG_ABORT:
      w->target->abort (w->target);
      break;
    case MSG_DONE:
      *ok = m->ok;
      if (!m->ok)
        g_propagate_error (error, m->error);
      g_free (m);
      return TRUE;
    }
  g_free (m);
  return FALSE;
}

static void
worker_clear (Worker *w)
{
  guint8 *strip;

  while ((strip = g_async_queue_try_pop (w->free_strips)) != NULL)
    g_free (strip);
  g_async_queue_unref (w->free_strips);
  g_async_queue_unref (w->replies);
  g_async_queue_unref (w->to_main);
  g_clear_error (&w->write_error);
}

gboolean
lf_worker_run (const LfJob  *job,
               LfSink       *target,
               GCancellable *cancel,
               GError      **error)
{
  Worker w = { .sink = { proxy_begin, proxy_write, proxy_finish, proxy_abort },
               .job = job,
               .cancel = cancel,
               .target = target,
               .to_main = g_async_queue_new (),
               .replies = g_async_queue_new (),
               .free_strips = g_async_queue_new () };
  g_autoptr (LfPluginProgress) progress
      = lf_plugin_progress_new (job->title, job->interactive, cancel);
  GThread *thread;
  gboolean done = FALSE, ok = FALSE;

  thread = g_thread_try_new ("linfusion-engine", worker_thread, &w, error);
  while (thread != NULL && !done)
    {
      /* Interactive runs keep GTK alive (run window, its Cancel). */
      Msg *m = job->interactive ? g_async_queue_timeout_pop (w.to_main, 20000)
                                : g_async_queue_pop (w.to_main);

      while (job->interactive && g_main_context_iteration (NULL, FALSE))
        ;
      if (m != NULL)
        done = handle (&w, m, progress, &ok, error);
    }
  if (thread != NULL)
    g_thread_join (thread);
  worker_clear (&w);
  return ok;
}
