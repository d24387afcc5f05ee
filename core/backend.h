/* backend.h: a compute backend as the engine holds it: the op table plus
 * the scratch memory its kernels carve from. Model code sees only LfOps.
 */
#ifndef LF_BACKEND_H
#define LF_BACKEND_H

#include <glib.h>

#include "lf-ops.h"

G_BEGIN_DECLS

typedef struct _LfBackend LfBackend;

/* Returns: (transfer full) (nullable): the CPU backend with @n_threads
 * threads (0: all cores), or NULL with LF_ERROR_OUT_OF_MEMORY. */
LfBackend *lf_backend_new_cpu (int n_threads, GError **error);
void       lf_backend_free (LfBackend *backend);

/* Returns: (transfer none): the backend's op table. */
LfOps *lf_backend_get_ops (LfBackend *backend);

/* Turns a recorded op failure into a GError (LF_ERROR_BACKEND, or
 * LF_ERROR_OUT_OF_MEMORY for missing scratch) prefixed with @what, and
 * clears it. Returns TRUE when no failure was recorded. */
gboolean lf_ops_take_error (LfOps *ops, const char *what, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfBackend, lf_backend_free)

G_END_DECLS

#endif /* LF_BACKEND_H */
