/* diffusers-folder.h: the weights of a model, by component and diffusers
 * name, whatever the layout on disk: a diffusers pipeline folder
 * (model_index.json), one component folder, a LinFusion folder, a
 * single-file LDM checkpoint (renamed through ldm-names.h) or a lone
 * .safetensors file. Mirrors diffusers DiffusionPipeline.from_pretrained /
 * from_single_file as far as finding files and names goes.
 */
#ifndef LF_DIFFUSERS_FOLDER_H
#define LF_DIFFUSERS_FOLDER_H

#include <glib.h>

#include "linfusion.h"

#include "json-config.h"
#include "ldm-names.h"
#include "safetensors.h"

G_BEGIN_DECLS

/* One tensor as a model loader asks for it: by diffusers name, with the
 * diffusers shape. Single-file checkpoints may store it differently; @op
 * says how the stored tensor becomes this one (lf_weight_view). */
typedef struct
{
  const char          *name;   /* the diffusers key                      */
  const LfSafetensors *file;   /* where it is stored                     */
  const LfStTensor    *tensor; /* as stored, under its stored name       */
  LfLdmOp              op;
  int                  part; /* LF_LDM_OP_ROWS: which third            */
  int                  ndim;
  int64_t              shape[LF_ST_MAX_DIMS]; /* after @op              */
} LfWeight;

typedef struct _LfComponent  LfComponent;
typedef struct _LfModelFiles LfModelFiles;

/**
 * lf_model_files_open:
 * @path: a folder or a .safetensors file
 *
 * Finds the layout, reads the configs and opens (validates) every weight
 * file. Weight data stays mapped and untouched.
 *
 * Returns: (transfer full) (nullable): the model, or %NULL with LF_ERROR_IO
 *   (missing or unreadable file, naming it) or LF_ERROR_FORMAT.
 */
LfModelFiles *lf_model_files_open (const char *path, GError **error);
void          lf_model_files_free (LfModelFiles *model);

const char *lf_model_files_get_path (const LfModelFiles *model);
LfModelKind lf_model_files_get_kind (const LfModelFiles *model);
/* From the UNet config (cross_attention_dim, addition_embed_type) and the
 * text encoder's activation in folders; from keys in checkpoints. */
LfArch lf_model_files_get_arch (const LfModelFiles *model);
guint  lf_model_files_get_n_components (const LfModelFiles *model);
/* Returns: (transfer none). */
LfComponent *lf_model_files_get_component (const LfModelFiles *model,
                                           guint               index);
/* Returns: (transfer none) (nullable): the component called @name
 * ("unet", "vae", "text_encoder", "text_encoder_2", "linfusion", …). */
LfComponent *lf_model_files_lookup (const LfModelFiles *model,
                                    const char         *name);
/* Checkpoint keys no rule maps, in file order. Returns: (transfer none). */
const GPtrArray *lf_model_files_get_unknown_keys (const LfModelFiles *model);

const char *lf_component_get_name (const LfComponent *comp);
/* Returns: (nullable): "UNet2DConditionModel" …, from the config. */
const char *lf_component_get_class_name (const LfComponent *comp);
/* Returns: (transfer none) (nullable): config.json; NULL in single files. */
const LfConfig *lf_component_get_config (const LfComponent *comp);
/* The weight file, or the first shard. */
const char *lf_component_get_weight_path (const LfComponent *comp);
guint       lf_component_get_n_weights (const LfComponent *comp);
/* In storage order. Returns: (transfer none). */
const LfWeight *lf_component_get_weight (const LfComponent *comp, guint index);
/* Returns: (transfer none) (nullable). */
const LfWeight *lf_component_lookup (const LfComponent *comp, const char *name);

/**
 * lf_component_require:
 * @shape: the expected diffusers shape, @ndim entries
 *
 * Returns: (transfer none) (nullable): the weight, or %NULL with
 *   LF_ERROR_FORMAT naming the file, the key and both shapes when it is
 *   missing or shaped differently.
 */
const LfWeight *lf_component_require (const LfComponent *comp,
                                      const char        *name,
                                      int                ndim,
                                      const int64_t     *shape,
                                      GError           **error);

/* A view of @w in its diffusers shape (squeezed, one third of the rows, or
 * transposed with strides); fails like lf_st_tensor_view. */
gboolean lf_weight_view (const LfWeight *w, LfTensor *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfModelFiles, lf_model_files_free)

G_END_DECLS

#endif /* LF_DIFFUSERS_FOLDER_H */
