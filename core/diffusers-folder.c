/* diffusers-folder.c: finds a model's configs and weight files and indexes
 * every tensor by component and diffusers name. Mirrors the file lookup of
 * diffusers DiffusionPipeline.from_pretrained (model_index.json, per-folder
 * config.json + diffusion_pytorch_model[.fp16].safetensors or sharded
 * *.safetensors.index.json) and from_single_file (ldm-names.c).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "diffusers-folder.h"

struct _LfComponent
{
  char         *name;
  char         *class_name;
  LfConfig     *config;
  char         *weight_path;
  GArray       *weights; /* LfWeight */
  GHashTable   *by_name; /* diffusers name → index + 1 */
  GStringChunk *names;
};

struct _LfModelFiles
{
  char       *path;
  LfModelKind kind;
  LfArch      arch;
  GPtrArray  *files;      /* LfSafetensors, owned */
  GPtrArray  *components; /* LfComponent, owned   */
  GPtrArray  *unknown;    /* char *, owned        */
};

/* Weight file names, in diffusers' order of preference. */
static const char *const weight_names[] = {
  "diffusion_pytorch_model.safetensors",
  "model.safetensors",
  "diffusion_pytorch_model.fp16.safetensors",
  "model.fp16.safetensors",
};

/* model_index.json entries that carry no weights. */
static const char *const weightless_suffixes[] = {
  "Scheduler",        "Tokenizer",      "TokenizerFast",
  "FeatureExtractor", "ImageProcessor",
};

static void
component_free (LfComponent *comp)
{
  if (comp == NULL)
    return;
  g_free (comp->name);
  g_free (comp->class_name);
  lf_config_free (comp->config);
  g_free (comp->weight_path);
  g_array_unref (comp->weights);
  g_hash_table_unref (comp->by_name);
  g_string_chunk_free (comp->names);
  g_free (comp);
}

static LfComponent *
component_add_new (LfModelFiles *model, const char *name, const char *class)
{
  LfComponent *comp = g_new0 (LfComponent, 1);

  comp->name = g_strdup (name);
  comp->class_name = g_strdup (class);
  comp->weights = g_array_new (FALSE, TRUE, sizeof (LfWeight));
  comp->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  comp->names = g_string_chunk_new (4096);
  g_ptr_array_add (model->components, comp);
  return comp;
}

/* Adds @w (its name copied); a second tensor under the same name is an
 * error, as two shards or two LDM spellings would leave it ambiguous. */
static gboolean
component_add (LfComponent *comp, LfWeight *w, GError **error)
{
  if (g_hash_table_contains (comp->by_name, w->name))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: tensor “%s”: a second tensor for %s “%s”"),
                   lf_safetensors_get_path (w->file), w->tensor->name,
                   comp->name, w->name);
      return FALSE;
    }
  w->name = g_string_chunk_insert (comp->names, w->name);
  g_array_append_val (comp->weights, *w);
  g_hash_table_insert (comp->by_name, (gpointer)w->name,
                       GUINT_TO_POINTER (comp->weights->len));
  if (comp->weight_path == NULL)
    comp->weight_path = g_strdup (lf_safetensors_get_path (w->file));
  return TRUE;
}

static gboolean
component_add_file (LfComponent *comp, const LfSafetensors *st, GError **error)
{
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      LfWeight w = { t->name, st, t, LF_LDM_OP_NONE, 0, t->ndim, { 0 } };

      memcpy (w.shape, t->shape, sizeof w.shape);
      if (!component_add (comp, &w, error))
        return FALSE;
    }
  return TRUE;
}

static LfSafetensors *
open_file (LfModelFiles *model, const char *path, GError **error)
{
  LfSafetensors *st = lf_safetensors_open (path, error);

  if (st != NULL)
    g_ptr_array_add (model->files, st);
  return st;
}

/* A sharded checkpoint: *.safetensors.index.json's weight_map names the
 * shard of every tensor; each shard is opened once and indexed whole. */
static gboolean
add_shards (LfModelFiles *model,
            LfComponent  *comp,
            const char   *dir,
            const char   *index_path,
            GError      **error)
{
  g_autoptr (LfConfig) index = lf_config_load (index_path, error);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode      *map;
  JsonObjectIter iter;
  const char    *key;
  JsonNode      *value;

  if (index == NULL)
    return FALSE;
  map = json_object_get_member (lf_config_get_root (index), "weight_map");
  if (map == NULL || !JSON_NODE_HOLDS_OBJECT (map))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: key “weight_map”: expected an object"),
                   index_path);
      return FALSE;
    }
  json_object_iter_init (&iter, json_node_get_object (map));
  while (json_object_iter_next (&iter, &key, &value))
    {
      const char *shard
          = JSON_NODE_HOLDS_VALUE (value) ? json_node_get_string (value) : NULL;
      g_autofree char *path = NULL;
      LfSafetensors   *st;

      if (shard == NULL || strchr (shard, '/') != NULL || shard[0] == '.')
        {
          g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                       _ ("“%s”: key “%s”: expected a shard file name"),
                       index_path, key);
          return FALSE;
        }
      if (!g_hash_table_add (seen, (gpointer)shard))
        continue;
      path = g_build_filename (dir, shard, NULL);
      if ((st = open_file (model, path, error)) == NULL
          || !component_add_file (comp, st, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
add_weights (LfModelFiles *model,
             LfComponent  *comp,
             const char   *dir,
             GError      **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (weight_names); i++)
    {
      g_autofree char *path = g_build_filename (dir, weight_names[i], NULL);
      g_autofree char *index = g_strconcat (path, ".index.json", NULL);
      LfSafetensors   *st;

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return (st = open_file (model, path, error)) != NULL
               && component_add_file (comp, st, error);
      if (g_file_test (index, G_FILE_TEST_EXISTS))
        return add_shards (model, comp, dir, index, error);
    }
  g_set_error (error, LF_ERROR, LF_ERROR_IO,
               _ ("“%s”: no weight file (%s or %s)"), dir, weight_names[0],
               weight_names[1]);
  return FALSE;
}

/* A diffusers/transformers component: config.json + weights. */
static LfComponent *
open_component (LfModelFiles *model,
                const char   *dir,
                const char   *name,
                GError      **error)
{
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autoptr (GError) local = NULL;
  LfComponent *comp;
  LfConfig    *config;
  const char *class;
  JsonNode *archs;

  if (!g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("“%s”: missing (component “%s” needs its config)"),
                   config_path, name);
      return NULL;
    }
  if ((config = lf_config_load (config_path, error)) == NULL)
    return NULL;
  class = lf_config_get_string (config, "_class_name", NULL, &local);
  archs = json_object_get_member (lf_config_get_root (config), "architectures");
  if (class == NULL && archs != NULL && JSON_NODE_HOLDS_ARRAY (archs)
      && json_array_get_length (json_node_get_array (archs)) > 0)
    class = json_node_get_string (
        json_array_get_element (json_node_get_array (archs), 0));
  comp = component_add_new (model, name, class);
  comp->config = config;
  return add_weights (model, comp, dir, error) ? comp : NULL;
}

static gboolean
is_weightless (const char *class)
{
  for (gsize i = 0; i < G_N_ELEMENTS (weightless_suffixes); i++)
    if (g_str_has_suffix (class, weightless_suffixes[i]))
      return TRUE;
  return FALSE;
}

/* model_index.json: "name": ["library", "Class"] or [null, null]. */
static gboolean
open_pipeline (LfModelFiles *model, const char *index_path, GError **error)
{
  g_autoptr (LfConfig) index = lf_config_load (index_path, error);
  g_autoptr (GList) names = NULL;

  if (index == NULL)
    return FALSE;
  /* In file order (unet, vae, …), which iterators do not keep. */
  names = json_object_get_members (lf_config_get_root (index));
  for (GList *l = names; l != NULL; l = l->next)
    {
      const char      *name = l->data;
      JsonNode        *value;
      g_autofree char *dir = NULL;
      JsonArray       *pair;
      const char *class;

      value = json_object_get_member (lf_config_get_root (index), name);

      if (name[0] == '_' || !JSON_NODE_HOLDS_ARRAY (value))
        continue;
      pair = json_node_get_array (value);
      if (json_array_get_length (pair) != 2)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                       _ ("“%s”: key “%s”: expected [library, class]"),
                       index_path, name);
          return FALSE;
        }
      class = json_node_get_string (json_array_get_element (pair, 1));
      if (class == NULL || is_weightless (class))
        continue;
      dir = g_build_filename (model->path, name, NULL);
      if (open_component (model, dir, name, error) == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
open_folder (LfModelFiles *model, GError **error)
{
  g_autofree char *index
      = g_build_filename (model->path, "model_index.json", NULL);
  g_autofree char *config = g_build_filename (model->path, "config.json", NULL);
  g_autofree char *base = g_path_get_basename (model->path);
  LfComponent     *comp;

  if (g_file_test (index, G_FILE_TEST_EXISTS))
    {
      model->kind = LF_MODEL_KIND_DIFFUSERS;
      return open_pipeline (model, index, error);
    }
  if (!g_file_test (config, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("“%s”: no model_index.json or config.json in this "
                      "folder"),
                   model->path);
      return FALSE;
    }
  model->kind = LF_MODEL_KIND_COMPONENT;
  if ((comp = open_component (model, model->path, base, error)) == NULL)
    return FALSE;
  /* LinFusion's ModelMixin config lists the attention modules it replaces. */
  if (lf_config_has (comp->config, "modules_list"))
    {
      model->kind = LF_MODEL_KIND_LINFUSION;
      g_free (comp->name);
      comp->name = g_strdup ("linfusion");
    }
  return TRUE;
}

static const struct
{
  const char *name, *class;
} ldm_components[] = {
  { "unet", "UNet2DConditionModel" },
  { "vae", "AutoencoderKL" },
  { "text_encoder", "CLIPTextModel" },
  { "text_encoder_2", "CLIPTextModelWithProjection" },
  { "controlnet", "ControlNetModel" },
};

static gboolean
add_ldm_tensor (LfModelFiles        *model,
                const LfSafetensors *st,
                const LfStTensor    *t,
                const LfLdmLayout   *layout,
                GArray              *names,
                GError             **error)
{
  g_array_set_size (names, 0);
  if (lf_ldm_map_name (layout, t->name, t->ndim, names) == LF_LDM_UNKNOWN)
    g_ptr_array_add (model->unknown, g_strdup (t->name));
  for (guint k = 0; k < names->len; k++)
    {
      const LfLdmName *m = &g_array_index (names, LfLdmName, k);
      LfWeight         w = { m->name, st, t, m->op, m->part, 0, { 0 } };
      guint            c = 0;

      while (strcmp (ldm_components[c].name, m->component) != 0)
        c++;
      if (!lf_ldm_target_shape (st, t, m, &w.ndim, w.shape, error)
          || !component_add (model->components->pdata[c], &w, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
open_checkpoint (LfModelFiles *model, const LfSafetensors *st, GError **error)
{
  g_autoptr (GArray) names = g_array_new (FALSE, TRUE, sizeof (LfLdmName));
  LfLdmLayout layout;
  gboolean    ok = TRUE;

  g_array_set_clear_func (names, (GDestroyNotify)lf_ldm_name_clear);
  if (!lf_ldm_layout_detect (st, &layout, error))
    return FALSE;
  model->kind = LF_MODEL_KIND_CHECKPOINT;
  model->arch = layout.arch;
  for (gsize c = 0; c < G_N_ELEMENTS (ldm_components); c++)
    component_add_new (model, ldm_components[c].name, ldm_components[c].class);
  for (guint i = 0; ok && i < lf_safetensors_get_n_tensors (st); i++)
    ok = add_ldm_tensor (model, st, lf_safetensors_get_tensor (st, i), &layout,
                         names, error);
  for (guint c = model->components->len; c-- > 0;)
    if (((LfComponent *)model->components->pdata[c])->weights->len == 0)
      g_ptr_array_remove_index (model->components, c);
  return ok;
}

static gboolean
open_single_file (LfModelFiles *model, GError **error)
{
  LfSafetensors *st = open_file (model, model->path, error);
  LfComponent   *comp;

  if (st == NULL)
    return FALSE;
  if (lf_ldm_is_checkpoint (st))
    return open_checkpoint (model, st, error);
  model->kind = LF_MODEL_KIND_SAFETENSORS;
  comp = component_add_new (model, "weights", NULL);
  return component_add_file (comp, st, error);
}

/* Folders say little directly; SD-1 and SD-2 share the UNet layout but
 * differ in context width and in the text encoder's activation. */
static LfArch
arch_from_configs (const LfModelFiles *model)
{
  LfComponent *unet = lf_model_files_lookup (model, "unet");
  LfComponent *text = lf_model_files_lookup (model, "text_encoder");
  gint64       context;
  const char  *act, *added;

  if (unet == NULL || unet->config == NULL)
    return LF_ARCH_UNKNOWN;
  context = lf_config_get_int (unet->config, "cross_attention_dim", 0, NULL);
  added
      = lf_config_get_string (unet->config, "addition_embed_type", NULL, NULL);
  if (context == 2048 || lf_model_files_lookup (model, "text_encoder_2")
      || g_strcmp0 (added, "text_time") == 0)
    return LF_ARCH_SDXL;
  if (context == 1024)
    return LF_ARCH_SD21;
  if (context == 768)
    return LF_ARCH_SD15;
  if (text == NULL || text->config == NULL)
    return LF_ARCH_UNKNOWN;
  act = lf_config_get_string (text->config, "hidden_act", NULL, NULL);
  if (g_strcmp0 (act, "quick_gelu") == 0)
    return LF_ARCH_SD15;
  return g_strcmp0 (act, "gelu") == 0 ? LF_ARCH_SD21 : LF_ARCH_UNKNOWN;
}

LfModelFiles *
lf_model_files_open (const char *path, GError **error)
{
  g_autoptr (LfModelFiles) model = g_new0 (LfModelFiles, 1);
  gboolean ok;

  g_return_val_if_fail (path != NULL, NULL);

  model->path = g_strdup (path);
  model->files
      = g_ptr_array_new_with_free_func ((GDestroyNotify)lf_safetensors_free);
  model->components
      = g_ptr_array_new_with_free_func ((GDestroyNotify)component_free);
  model->unknown = g_ptr_array_new_with_free_func (g_free);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    ok = open_folder (model, error);
  else if (g_file_test (path, G_FILE_TEST_EXISTS))
    ok = open_single_file (model, error);
  else
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("“%s”: no such file or folder"), path);
      return NULL;
    }
  if (!ok)
    return NULL;
  if (model->kind != LF_MODEL_KIND_CHECKPOINT)
    model->arch = arch_from_configs (model);
  return g_steal_pointer (&model);
}

void
lf_model_files_free (LfModelFiles *model)
{
  if (model == NULL)
    return;
  /* Components point into the files: free them first. */
  g_clear_pointer (&model->components, g_ptr_array_unref);
  g_clear_pointer (&model->files, g_ptr_array_unref);
  g_clear_pointer (&model->unknown, g_ptr_array_unref);
  g_free (model->path);
  g_free (model);
}

const char *
lf_model_files_get_path (const LfModelFiles *model)
{
  return model->path;
}

LfModelKind
lf_model_files_get_kind (const LfModelFiles *model)
{
  return model->kind;
}

LfArch
lf_model_files_get_arch (const LfModelFiles *model)
{
  return model->arch;
}

guint
lf_model_files_get_n_components (const LfModelFiles *model)
{
  return model->components->len;
}

LfComponent *
lf_model_files_get_component (const LfModelFiles *model, guint index)
{
  g_return_val_if_fail (index < model->components->len, NULL);
  return model->components->pdata[index];
}

LfComponent *
lf_model_files_lookup (const LfModelFiles *model, const char *name)
{
  for (guint i = 0; i < model->components->len; i++)
    {
      LfComponent *comp = model->components->pdata[i];

      if (strcmp (comp->name, name) == 0)
        return comp;
    }
  return NULL;
}

const GPtrArray *
lf_model_files_get_unknown_keys (const LfModelFiles *model)
{
  return model->unknown;
}

const char *
lf_component_get_name (const LfComponent *comp)
{
  return comp->name;
}

const char *
lf_component_get_class_name (const LfComponent *comp)
{
  return comp->class_name;
}

const LfConfig *
lf_component_get_config (const LfComponent *comp)
{
  return comp->config;
}

const char *
lf_component_get_weight_path (const LfComponent *comp)
{
  return comp->weight_path;
}

guint
lf_component_get_n_weights (const LfComponent *comp)
{
  return comp->weights->len;
}

const LfWeight *
lf_component_get_weight (const LfComponent *comp, guint index)
{
  g_return_val_if_fail (index < comp->weights->len, NULL);
  return &g_array_index (comp->weights, LfWeight, index);
}

const LfWeight *
lf_component_lookup (const LfComponent *comp, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (comp->by_name, name));

  return i > 0 ? &g_array_index (comp->weights, LfWeight, i - 1) : NULL;
}

static char *
format_shape (int ndim, const int64_t *shape)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

const LfWeight *
lf_component_require (const LfComponent *comp,
                      const char        *name,
                      int                ndim,
                      const int64_t     *shape,
                      GError           **error)
{
  const LfWeight  *w = lf_component_lookup (comp, name);
  g_autofree char *want = format_shape (ndim, shape);
  g_autofree char *got = NULL;

  if (w == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: %s tensor “%s” %s is missing"),
                   comp->weight_path ? comp->weight_path : comp->name,
                   comp->name, name, want);
      return NULL;
    }
  got = format_shape (w->ndim, w->shape);
  if (strcmp (got, want) != 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: tensor “%s” (%s “%s”): shape %s, expected %s"),
                   lf_safetensors_get_path (w->file), w->tensor->name,
                   comp->name, name, got, want);
      return NULL;
    }
  return w;
}

gboolean
lf_weight_view (const LfWeight *w, LfTensor *out, GError **error)
{
  static const int transpose[2] = { 1, 0 };
  LfTensor         stored;
  int              ok = 1;

  if (!lf_st_tensor_view (w->file, w->tensor, &stored, error))
    return FALSE;
  switch (w->op)
    {
    case LF_LDM_OP_NONE:
      *out = stored;
      break;
    case LF_LDM_OP_SQUEEZE:
      ok = lf_tensor_reshape (&stored, w->ndim, w->shape, out);
      break;
    case LF_LDM_OP_ROWS:
      ok = lf_tensor_narrow (&stored, 0, w->part * w->shape[0], w->shape[0],
                             out);
      break;
    case LF_LDM_OP_TRANSPOSE:
      ok = lf_tensor_permute (&stored, transpose, out);
      break;
    }
  /* Shapes were checked when the weight was indexed. */
  g_assert (ok);
  return TRUE;
}
