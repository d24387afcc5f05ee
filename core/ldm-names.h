/* ldm-names.h: single-file LDM checkpoints (CompVis / Stability layout) and
 * the diffusers name of each of their tensors. Mirrors diffusers
 * loaders/single_file_utils.py (CHECKPOINT_KEY_NAMES, convert_ldm_unet_
 * checkpoint, convert_ldm_vae_checkpoint, convert_open_clip_checkpoint);
 * the rules are in docs/reference/components.md §1.6.
 */
#ifndef LF_LDM_NAMES_H
#define LF_LDM_NAMES_H

#include <glib.h>

#include "safetensors.h"

G_BEGIN_DECLS

typedef enum
{
  LF_ARCH_UNKNOWN,
  LF_ARCH_SD15,
  LF_ARCH_SD21,
  LF_ARCH_SDXL,
} LfArch;

/* "unknown", "sd15", "sd21", "sdxl" */
const char *lf_arch_name (LfArch arch);

/* How the stored tensor becomes the diffusers one (a view, never a copy). */
typedef enum
{
  LF_LDM_OP_NONE,    /* same shape                                       */
  LF_LDM_OP_SQUEEZE, /* VAE attention 1×1 conv (C, C, 1, 1) → linear (C, C) */
  LF_LDM_OP_ROWS,    /* one third of OpenCLIP in_proj (3D, …) → (D, …)  */
  LF_LDM_OP_TRANSPOSE, /* OpenCLIP text_projection (D, P) → (P, D)        */
} LfLdmOp;

typedef enum
{
  LF_LDM_MAPPED,  /* one or more diffusers names were appended            */
  LF_LDM_IGNORED, /* known but unused: EMA copies, buffers, SD-2's last
                     text layer and projection (as diffusers drops them)  */
  LF_LDM_UNKNOWN, /* no rule matches; reported by inspect                 */
} LfLdmStatus;

typedef struct
{
  const char *component; /* "unet", "vae", "text_encoder[_2]", "controlnet" */
  char       *name;      /* the diffusers key, owned                       */
  LfLdmOp     op;
  int         part; /* LF_LDM_OP_ROWS: 0 = q, 1 = k, 2 = v rows       */
} LfLdmName;

/* What the mapping needs to know about the checkpoint, counted from its
 * keys rather than assumed. */
typedef struct
{
  LfArch arch;
  int    unet_levels;           /* block_out_channels entries, 0 if no UNet */
  int    unet_layers_per_block; /* resnets per down level                   */
  int    vae_levels;            /* decoder.up.N count, 0 if no VAE          */
  int    openclip_layers;       /* resblocks of the OpenCLIP encoder, or 0   */
  /* ControlNet v1.1 (control_model. prefix, or none at all: then every
   * key without another prefix is the ControlNet's) */
  gboolean controlnet_bare;      /* its keys have no prefix                 */
  int      controlnet_hint_last; /* index of input_hint_block's last conv   */
} LfLdmLayout;

/* TRUE when some tensor carries an LDM prefix (model.diffusion_model.,
 * first_stage_model., cond_stage_model., conditioner.embedders.,
 * control_model.) or is a ControlNet's input_hint_block without one. The
 * ControlNet's tensors form the "controlnet" component. */
gboolean lf_ldm_is_checkpoint (const LfSafetensors *st);

/**
 * lf_ldm_layout_detect:
 *
 * Counts levels and layers from the keys and detects the architecture as
 * diffusers' infer_diffusers_model_type does: SDXL by its second text
 * encoder or label_emb, SD-2 by the OpenCLIP encoder, SD-1 by the CLIP one,
 * else by the cross-attention width (768, 1024, 2048).
 *
 * Returns: %FALSE with LF_ERROR_FORMAT naming the file when the UNet keys
 *   do not form whole levels.
 */
gboolean lf_ldm_layout_detect (const LfSafetensors *st,
                               LfLdmLayout         *layout,
                               GError             **error);

/**
 * lf_ldm_map_name:
 * @key: an LDM key
 * @ndim: dimensions of the stored tensor (decides the 1×1 squeeze)
 * @out: a #GArray of #LfLdmName to append to; clear entries with
 *   lf_ldm_name_clear
 *
 * Returns: whether (and how) @key maps; only %LF_LDM_MAPPED appends.
 */
LfLdmStatus lf_ldm_map_name (const LfLdmLayout *layout,
                             const char        *key,
                             int                ndim,
                             GArray            *out);
void        lf_ldm_name_clear (LfLdmName *name);

/**
 * lf_ldm_target_shape:
 *
 * The diffusers shape of @t after @name's op.
 *
 * Returns: %FALSE with LF_ERROR_FORMAT naming the file and key when @t does
 *   not have the shape the op needs.
 */
gboolean lf_ldm_target_shape (const LfSafetensors *st,
                              const LfStTensor    *t,
                              const LfLdmName     *name,
                              int                 *ndim,
                              int64_t             *shape,
                              GError             **error);

G_END_DECLS

#endif /* LF_LDM_NAMES_H */
