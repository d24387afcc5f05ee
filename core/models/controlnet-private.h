/* controlnet-private.h: what controlnet.c (loading, forward) and
 * controlnet-cond.c (ControlNetConditioningEmbedding in strips) share, and
 * the strip-height setter the tests use.
 */
#ifndef LF_CONTROLNET_PRIVATE_H
#define LF_CONTROLNET_PRIVATE_H

#include <glib.h>

#include "controlnet.h"
#include "unet-private.h"
#include "weights.h"

G_BEGIN_DECLS

/* conv_in, 2 × (levels − 1) blocks, conv_out. */
#define LF_CONTROLNET_MAX_COND_CONVS 18

/* One 3×3 convolution (padding 1) of the conditioning embedding. */
typedef struct
{
  LfTensor w; /* (C_out, C_in, 3, 3) */
  LfTensor b; /* (C_out) */
  int      stride;
} CnConv;

/* diffusers ControlNetConditioningEmbedding: conv_in, SiLU, then blocks
 * (stride 1, 2, 1, 2, …) each followed by SiLU, then conv_out (no
 * activation) to the UNet's block_out_channels[0]. */
typedef struct
{
  int64_t  in_channels; /* conditioning_channels */
  gboolean bgr;         /* controlnet_conditioning_channel_order "bgr" */
  int      n_convs;
  CnConv   convs[LF_CONTROLNET_MAX_COND_CONVS];
} CnCondEmbedding;

struct _LfControlNet
{
  LfModelFiles   *files; /* the mapped weights */
  LfOps          *ops;
  LfUnet         *body; /* encoder-only copy: conv_in … mid_block */
  LfWeightStore  *store;
  CnCondEmbedding cond;
  int             n_res;
  LfTensor       *down_w; /* n_res, (C_i, C_i, 1, 1) controlnet_down_blocks */
  LfTensor       *down_b; /* n_res, (C_i) */
  LfTensor        mid_w;  /* (C_mid, C_mid, 1, 1) controlnet_mid_block */
  LfTensor        mid_b;  /* (C_mid) */
  gboolean        global_pool; /* global_pool_conditions */
  float          *ones;        /* (LF_CONTROLNET_ONES) for the pooling */
  int64_t         strip_rows;  /* output rows per conditioning strip; 0:
                                  from the memory budget */
};

#define LF_CONTROLNET_ONES 1024

/* Binds the conditioning embedding of @comp with out channels @channels
 * (@n_levels entries) from @in_channels to @c0. */
gboolean lf_controlnet_cond_load (LfControlNet      *cn,
                                  const LfComponent *comp,
                                  const int64_t     *channels,
                                  int                n_levels,
                                  int64_t            in_channels,
                                  int64_t            c0,
                                  GError           **error);

/* Forces @rows output rows per strip of lf_controlnet_embed_condition
 * (0: back to the memory budget). */
void lf_controlnet_set_strip_rows (LfControlNet *cn, int64_t rows);

/* The encoder-only UNet inside, for tests. Returns: (transfer none). */
LfUnet *lf_controlnet_get_body (LfControlNet *cn);

G_END_DECLS

#endif /* LF_CONTROLNET_PRIVATE_H */
