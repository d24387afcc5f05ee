/* model-info.c: the public lf_model_info_* summary of a model path (kind,
 * architecture, and per component its weight file, tensor and parameter
 * counts and dtypes), built on diffusers-folder.c. What `linfusion inspect`
 * prints; counts follow diffusers names, so a checkpoint and the folder it
 * converts to report the same numbers.
 */
#include "config.h"

#include <string.h>

#include "linfusion.h"

#include "diffusers-folder.h"

struct _LfModelInfo
{
  LfModelFiles *files;
  GArray       *components; /* LfComponentInfo; strings owned below */
  GPtrArray    *strings;    /* dtype summaries */
};

static char *
dtype_summary (const LfComponent *comp)
{
  gint64   counts[LF_ST_BOOL + 1] = { 0 };
  GString *s = g_string_new (NULL);
  int      kinds = 0;

  for (guint i = 0; i < lf_component_get_n_weights (comp); i++)
    counts[lf_component_get_weight (comp, i)->tensor->dtype]++;
  for (int d = 0; d <= LF_ST_BOOL; d++)
    kinds += counts[d] > 0;
  for (int d = 0; d <= LF_ST_BOOL; d++)
    {
      if (counts[d] == 0)
        continue;
      if (s->len > 0)
        g_string_append (s, ", ");
      g_string_append (s, lf_st_dtype_lower_name (d));
      if (kinds > 1)
        g_string_append_printf (s, " ×%" G_GINT64_FORMAT, counts[d]);
    }
  return g_string_free (s, FALSE);
}

static void
add_component (LfModelInfo *info, const LfComponent *comp)
{
  LfComponentInfo ci = { 0 };
  char           *dtypes = dtype_summary (comp);

  ci.name = lf_component_get_name (comp);
  ci.class_name = lf_component_get_class_name (comp);
  ci.path = lf_component_get_weight_path (comp);
  ci.n_tensors = lf_component_get_n_weights (comp);
  for (guint i = 0; i < lf_component_get_n_weights (comp); i++)
    {
      const LfWeight *w = lf_component_get_weight (comp, i);
      gint64          n = 1;

      for (int k = 0; k < w->ndim; k++)
        n *= w->shape[k];
      ci.n_params += n;
    }
  ci.dtypes = dtypes;
  g_ptr_array_add (info->strings, dtypes);
  g_array_append_val (info->components, ci);
}

LfModelInfo *
lf_model_info_new (const char *path, GError **error)
{
  g_autoptr (LfModelInfo) info = g_new0 (LfModelInfo, 1);

  g_return_val_if_fail (path != NULL, NULL);

  info->components = g_array_new (FALSE, TRUE, sizeof (LfComponentInfo));
  info->strings = g_ptr_array_new_with_free_func (g_free);
  info->files = lf_model_files_open (path, error);
  if (info->files == NULL)
    return NULL;
  for (guint i = 0; i < lf_model_files_get_n_components (info->files); i++)
    add_component (info, lf_model_files_get_component (info->files, i));
  return g_steal_pointer (&info);
}

void
lf_model_info_free (LfModelInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->components, g_array_unref);
  g_clear_pointer (&info->strings, g_ptr_array_unref);
  lf_model_files_free (info->files);
  g_free (info);
}

LfModelKind
lf_model_info_get_kind (const LfModelInfo *info)
{
  return lf_model_files_get_kind (info->files);
}

const char *
lf_model_info_get_kind_name (const LfModelInfo *info)
{
  switch (lf_model_info_get_kind (info))
    {
    case LF_MODEL_KIND_SAFETENSORS:
      return "safetensors";
    case LF_MODEL_KIND_DIFFUSERS:
      return "diffusers";
    case LF_MODEL_KIND_CHECKPOINT:
      return "checkpoint";
    case LF_MODEL_KIND_LINFUSION:
      return "linfusion";
    case LF_MODEL_KIND_COMPONENT:
      return "component";
    }
  return "unknown";
}

const char *
lf_model_info_get_architecture (const LfModelInfo *info)
{
  return lf_arch_name (lf_model_files_get_arch (info->files));
}

guint
lf_model_info_get_n_components (const LfModelInfo *info)
{
  return info->components->len;
}

const LfComponentInfo *
lf_model_info_get_component (const LfModelInfo *info, guint index)
{
  g_return_val_if_fail (index < info->components->len, NULL);
  return &g_array_index (info->components, LfComponentInfo, index);
}

void
lf_model_info_get_tensor (const LfModelInfo *info,
                          guint              component,
                          guint              index,
                          LfTensorInfo      *out)
{
  const LfComponent *comp;
  const LfWeight    *w;

  g_return_if_fail (component < info->components->len);
  comp = lf_model_files_get_component (info->files, component);
  g_return_if_fail (index < lf_component_get_n_weights (comp));
  w = lf_component_get_weight (comp, index);
  memset (out, 0, sizeof *out);
  out->name = w->name;
  out->stored_name = w->tensor->name;
  out->dtype = lf_st_dtype_lower_name (w->tensor->dtype);
  out->ndim = w->ndim;
  for (int k = 0; k < w->ndim && k < (int)G_N_ELEMENTS (out->shape); k++)
    out->shape[k] = w->shape[k];
}

guint
lf_model_info_get_n_unknown_keys (const LfModelInfo *info)
{
  return lf_model_files_get_unknown_keys (info->files)->len;
}

const char *
lf_model_info_get_unknown_key (const LfModelInfo *info, guint index)
{
  const GPtrArray *keys = lf_model_files_get_unknown_keys (info->files);

  g_return_val_if_fail (index < keys->len, NULL);
  return keys->pdata[index];
}
