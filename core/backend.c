/* backend.c: creating backends and reporting their failures as GErrors. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>

#include "linfusion.h"

#include "backend.h"
#include "cpu-ops.h"

struct _LfBackend
{
  LfOps ops;
  void *scratch;
};

LfBackend *
lf_backend_new_cpu (int n_threads, GError **error)
{
  LfBackend *backend;
  size_t     bytes;
  void      *scratch = NULL;

  if (n_threads <= 0)
    n_threads = (int)g_get_num_processors ();
  bytes = lf_cpu_ops_scratch_hint (n_threads);
  if (posix_memalign (&scratch, 64, bytes) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Cannot allocate %.1f MiB of kernel scratch memory"),
                   bytes / 1048576.0);
      return NULL;
    }
  backend = g_new0 (LfBackend, 1);
  lf_cpu_ops_init (&backend->ops, n_threads);
  backend->scratch = scratch;
  backend->ops.scratch = scratch;
  backend->ops.scratch_bytes = bytes;
  return backend;
}

void
lf_backend_free (LfBackend *backend)
{
  if (backend == NULL)
    return;
  free (backend->scratch);
  g_free (backend);
}

LfOps *
lf_backend_get_ops (LfBackend *backend)
{
  return &backend->ops;
}

gboolean
lf_ops_take_error (LfOps *ops, const char *what, GError **error)
{
  if (ops->status == LF_STATUS_OK)
    return TRUE;
  g_set_error (error, LF_ERROR,
               ops->status == LF_STATUS_NO_SCRATCH ? LF_ERROR_OUT_OF_MEMORY
                                                   : LF_ERROR_BACKEND,
               _ ("%s: %s backend: %s"), what, ops->name, ops->message);
  lf_ops_clear (ops);
  return FALSE;
}
