/* arena.c: bump allocation over one aligned block (see arena.h). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>

#include "linfusion.h"

#include "arena.h"

struct _LfArena
{
  guint8 *base;
  size_t  capacity;
  size_t  used;
  size_t  peak;
};

size_t
lf_arena_padded_size (size_t bytes)
{
  return (bytes + LF_ARENA_ALIGN - 1) / LF_ARENA_ALIGN * LF_ARENA_ALIGN;
}

LfArena *
lf_arena_new (size_t capacity, GError **error)
{
  LfArena *arena;
  void    *base = NULL;

  capacity = lf_arena_padded_size (capacity);
  if (capacity > 0 && posix_memalign (&base, LF_ARENA_ALIGN, capacity) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Cannot allocate %.1f MiB of working memory"),
                   capacity / 1048576.0);
      return NULL;
    }
  arena = g_new0 (LfArena, 1);
  arena->base = base;
  arena->capacity = capacity;
  return arena;
}

void
lf_arena_free (LfArena *arena)
{
  if (arena == NULL)
    return;
  free (arena->base);
  g_free (arena);
}

void *
lf_arena_alloc (LfArena *arena, size_t bytes, GError **error)
{
  const size_t padded = lf_arena_padded_size (bytes);
  void        *p;

  if (padded < bytes || padded > arena->capacity - arena->used)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Working memory exhausted: %.1f MiB requested, "
                      "%.1f MiB of %.1f MiB left"),
                   bytes / 1048576.0,
                   (arena->capacity - arena->used) / 1048576.0,
                   arena->capacity / 1048576.0);
      return NULL;
    }
  p = arena->base + arena->used;
  arena->used += padded;
  arena->peak = MAX (arena->peak, arena->used);
  return p;
}

gboolean
lf_arena_tensor (LfArena       *arena,
                 LfDtype        dtype,
                 int            ndim,
                 const int64_t *shape,
                 LfTensor      *out,
                 GError       **error)
{
  LfTensor t = lf_tensor_make (NULL, dtype, ndim, shape);
  size_t   n = lf_dtype_size (dtype);

  for (int i = 0; i < ndim; i++)
    {
      /* Sizes come from validated configs, but a product can still
       * overflow size_t for an absurd canvas: refuse instead of wrapping. */
      if (shape[i] < 0 || (shape[i] != 0 && n > G_MAXSIZE / (size_t)shape[i]))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                       _ ("Tensor too large to address"));
          return FALSE;
        }
      n *= (size_t)shape[i];
    }
  t.data = lf_arena_alloc (arena, n, error);
  if (t.data == NULL && n > 0)
    return FALSE;
  *out = t;
  return TRUE;
}

size_t
lf_arena_mark (const LfArena *arena)
{
  return arena->used;
}

void
lf_arena_reset (LfArena *arena, size_t mark)
{
  g_return_if_fail (mark <= arena->used);
  arena->used = mark;
}

size_t
lf_arena_capacity (const LfArena *arena)
{
  return arena->capacity;
}

size_t
lf_arena_used (const LfArena *arena)
{
  return arena->used;
}

size_t
lf_arena_peak (const LfArena *arena)
{
  return arena->peak;
}
