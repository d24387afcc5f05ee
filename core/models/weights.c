/* weights.c: binding weights by diffusers name (see weights.h). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <stdlib.h>

#include "linfusion.h"

#include "backend.h"
#include "weights.h"

struct _LfWeightStore
{
  LfOps     *ops;
  GPtrArray *buffers; /* converted tensors, freed with free () */
  size_t     bytes;
};

LfWeightStore *
lf_weight_store_new (LfOps *ops)
{
  LfWeightStore *store = g_new0 (LfWeightStore, 1);

  store->ops = ops;
  store->buffers = g_ptr_array_new_with_free_func (free);
  return store;
}

void
lf_weight_store_free (LfWeightStore *store)
{
  if (store == NULL)
    return;
  g_ptr_array_unref (store->buffers);
  g_free (store);
}

size_t
lf_weight_store_get_bytes (const LfWeightStore *store)
{
  return store->bytes;
}

static gboolean
usable_in_place (const LfTensor *t)
{
  return t->dtype == LF_DTYPE_F32 && lf_tensor_is_contiguous (t)
         && (guintptr)t->data % 16 == 0;
}

/* Converts @src into a new contiguous f32 tensor the store owns. */
static gboolean
convert (LfWeightStore  *store,
         const char     *name,
         const LfTensor *src,
         LfTensor       *out,
         GError        **error)
{
  const size_t bytes = (size_t)lf_tensor_numel (src) * sizeof (float);
  void        *data = NULL;
  LfTensor     dst;

  if (posix_memalign (&data, 64, MAX (bytes, 64)) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Cannot allocate %.1f MiB for weight “%s”"),
                   bytes / 1048576.0, name);
      return FALSE;
    }
  g_ptr_array_add (store->buffers, data);
  store->bytes += bytes;
  dst = lf_tensor_make (data, LF_DTYPE_F32, src->ndim, src->shape);
  store->ops->copy (store->ops, src, &dst);
  if (!lf_ops_take_error (store->ops, name, error))
    return FALSE;
  *out = dst;
  return TRUE;
}

gboolean
lf_weight_store_bind (LfWeightStore     *store,
                      const LfComponent *comp,
                      const char        *name,
                      int                ndim,
                      const int64_t     *shape,
                      LfTensor          *out,
                      GError           **error)
{
  const LfWeight *w = lf_component_require (comp, name, ndim, shape, error);
  LfTensor        view;

  if (w == NULL || !lf_weight_view (w, &view, error))
    return FALSE;
  if (usable_in_place (&view))
    {
      *out = view;
      return TRUE;
    }
  return convert (store, name, &view, out, error);
}

gboolean
lf_weight_store_bindf (LfWeightStore     *store,
                       const LfComponent *comp,
                       int                ndim,
                       const int64_t     *shape,
                       LfTensor          *out,
                       GError           **error,
                       const char        *format,
                       ...)
{
  g_autofree char *name = NULL;
  va_list          args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  return lf_weight_store_bind (store, comp, name, ndim, shape, out, error);
}

gboolean
lf_component_hasf (const LfComponent *comp, const char *format, ...)
{
  g_autofree char *name = NULL;
  va_list          args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  return lf_component_lookup (comp, name) != NULL;
}
