/* arena.h: one block of memory per run, handed out by bumping a pointer.
 * Activations are allocated after a mark and released by resetting to it,
 * so every sampler step reuses the same bytes and the peak is known before
 * the run (karpathy/llm.c malloc_and_point_parameters, in GLib terms).
 */
#ifndef LF_ARENA_H
#define LF_ARENA_H

#include <glib.h>

#include "lf-tensor.h"

G_BEGIN_DECLS

#define LF_ARENA_ALIGN 64

typedef struct _LfArena LfArena;

/* Returns: (transfer full) (nullable): an arena of @capacity bytes, or NULL
 * with LF_ERROR_OUT_OF_MEMORY giving the size. */
LfArena *lf_arena_new (size_t capacity, GError **error);
void     lf_arena_free (LfArena *arena);

/* Returns: (transfer none) (nullable): @bytes rounded up to LF_ARENA_ALIGN,
 * or NULL with LF_ERROR_OUT_OF_MEMORY naming what was asked and left. */
void *lf_arena_alloc (LfArena *arena, size_t bytes, GError **error);

/* A contiguous tensor carved from the arena. */
gboolean lf_arena_tensor (LfArena       *arena,
                          LfDtype        dtype,
                          int            ndim,
                          const int64_t *shape,
                          LfTensor      *out,
                          GError       **error);

/* Everything allocated after the mark is released by lf_arena_reset. */
size_t lf_arena_mark (const LfArena *arena);
void   lf_arena_reset (LfArena *arena, size_t mark);

size_t lf_arena_capacity (const LfArena *arena);
size_t lf_arena_used (const LfArena *arena);
size_t lf_arena_peak (const LfArena *arena); /* highest use since creation */

/* Bytes @bytes occupies in an arena, alignment included: for _plan code. */
size_t lf_arena_padded_size (size_t bytes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfArena, lf_arena_free)

G_END_DECLS

#endif /* LF_ARENA_H */
