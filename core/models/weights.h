/* weights.h: a model's weights as the backend computes with them. Tensors
 * are bound by diffusers name and checked against the shape the model's
 * config implies; f32 data that is suitably aligned is used in place from
 * the memory-mapped file, anything else (f16, bf16, unaligned or strided
 * views of checkpoint tensors) is converted once into memory the store owns.
 */
#ifndef LF_WEIGHTS_H
#define LF_WEIGHTS_H

#include <glib.h>

#include "diffusers-folder.h"
#include "lf-ops.h"

G_BEGIN_DECLS

typedef struct _LfWeightStore LfWeightStore;

/* Returns: (transfer full): an empty store converting with @ops->copy. */
LfWeightStore *lf_weight_store_new (LfOps *ops);
void           lf_weight_store_free (LfWeightStore *store);

/* Bytes the store allocated for converted weights (not the mapped ones). */
size_t lf_weight_store_get_bytes (const LfWeightStore *store);

/**
 * lf_weight_store_bind:
 * @comp: the component (unet, vae, text_encoder, linfusion…)
 * @name: the diffusers key
 * @ndim, @shape: what the config implies
 * @out: (out): a contiguous f32 view, valid while @store and @comp live
 *
 * Returns: %FALSE with LF_ERROR_FORMAT naming the file, the key, the
 *   expected and the actual shape when the tensor is missing or misshaped,
 *   or LF_ERROR_OUT_OF_MEMORY with the size.
 */
gboolean lf_weight_store_bind (LfWeightStore     *store,
                               const LfComponent *comp,
                               const char        *name,
                               int                ndim,
                               const int64_t     *shape,
                               LfTensor          *out,
                               GError           **error);

/* lf_weight_store_bind for keys built from a prefix, e.g.
 * lf_weight_store_bindf (s, c, 2, shape, &w->to_q, error,
 *                        "%s.attn1.to_q.weight", prefix). */
gboolean lf_weight_store_bindf (LfWeightStore     *store,
                                const LfComponent *comp,
                                int                ndim,
                                const int64_t     *shape,
                                LfTensor          *out,
                                GError           **error,
                                const char        *format,
                                ...) G_GNUC_PRINTF (7, 8);

/* TRUE when @comp has a tensor called printf (@format, …): for weights
 * that exist only in some configurations (a ResNet's conv_shortcut). */
gboolean lf_component_hasf (const LfComponent *comp, const char *format, ...)
    G_GNUC_PRINTF (2, 3);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfWeightStore, lf_weight_store_free)

G_END_DECLS

#endif /* LF_WEIGHTS_H */
