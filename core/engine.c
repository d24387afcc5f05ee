/* engine.c: LfEngine: a backend and the models loaded on it. Configs come
 * from the model folder, or for single-file checkpoints from a diffusers
 * folder the user names or our built-in copies of the published ones, as
 * diffusers' from_single_file does. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "builtin-configs.h"
#include "engine-private.h"

LfEngine *
lf_engine_new (const char *device, int n_threads, GError **error)
{
  g_autoptr (LfEngine) engine = g_new0 (LfEngine, 1);

  if (device != NULL && !g_str_equal (device, "cpu")
      && !g_str_equal (device, "auto"))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("Device “%s” is not available in this build (use "
                      "“cpu”)"),
                   device);
      return NULL;
    }
  if (n_threads < 0 || n_threads > 4096)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("Thread count %d is out of range"), n_threads);
      return NULL;
    }
  engine->backend = lf_backend_new_cpu (n_threads, error);
  if (engine->backend == NULL)
    return NULL;
  engine->ops = lf_backend_get_ops (engine->backend);
  return g_steal_pointer (&engine);
}

static void
unload_model (LfEngine *e)
{
  lf_engine_unload_controlnet (e);
  lf_engine_unload_ip_adapter (e);
  e->unet_config = NULL;
  g_clear_pointer (&e->unet_config_owned, lf_config_free);
  g_clear_pointer (&e->text_encoder, lf_text_encoder_free);
  g_clear_pointer (&e->unet, lf_unet_free);
  g_clear_pointer (&e->vae, lf_vae_free);
  g_clear_pointer (&e->tokenizer, lf_tokenizer_free);
  g_clear_pointer (&e->linfusion, lf_model_files_free);
  g_clear_pointer (&e->configs, lf_model_files_free);
  g_clear_pointer (&e->model, lf_model_files_free);
}

void
lf_engine_free (LfEngine *engine)
{
  if (engine == NULL)
    return;
  unload_model (engine);
  g_free (engine->initial_noise);
  g_free (engine->final_latents);
  lf_backend_free (engine->backend);
  g_free (engine);
}

/* The config of @name: the component's own, else the --config folder's,
 * else the built-in one for the checkpoint's architecture. */
static const LfConfig *
component_config (LfEngine          *e,
                  const LfComponent *comp,
                  const char        *name,
                  LfConfig         **owned,
                  GError           **error)
{
  const LfComponent *other;

  if (lf_component_get_config (comp) != NULL)
    return lf_component_get_config (comp);
  if (e->configs != NULL)
    {
      other = lf_model_files_lookup (e->configs, name);
      if (other != NULL && lf_component_get_config (other) != NULL)
        return lf_component_get_config (other);
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” has no %s/config.json"),
                   lf_model_files_get_path (e->configs), name);
      return NULL;
    }
  *owned = lf_builtin_config (lf_model_files_get_arch (e->model), name, error);
  return *owned;
}

static const LfComponent *
require_component (LfEngine *e, const char *name, GError **error)
{
  const LfComponent *comp = lf_model_files_lookup (e->model, name);

  if (comp == NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_FORMAT, _ ("“%s” has no %s"),
                 lf_model_files_get_path (e->model), name);
  return comp;
}

static gboolean
load_models (LfEngine *e, GError **error)
{
  g_autoptr (LfConfig) te_owned = NULL, unet_owned = NULL, vae_owned = NULL;
  const LfComponent *te, *unet, *vae;
  const LfConfig    *te_cfg, *unet_cfg, *vae_cfg;

  if ((te = require_component (e, "text_encoder", error)) == NULL
      || (unet = require_component (e, "unet", error)) == NULL
      || (vae = require_component (e, "vae", error)) == NULL)
    return FALSE;
  if ((te_cfg = component_config (e, te, "text_encoder", &te_owned, error))
          == NULL
      || (unet_cfg = component_config (e, unet, "unet", &unet_owned, error))
             == NULL
      || (vae_cfg = component_config (e, vae, "vae", &vae_owned, error))
             == NULL)
    return FALSE;
  e->text_encoder = lf_text_encoder_load (te, te_cfg, e->ops, error);
  if (e->text_encoder == NULL)
    return FALSE;
  e->unet = lf_unet_load (unet, unet_cfg, e->ops, error);
  if (e->unet == NULL)
    return FALSE;
  e->unet_config = unet_cfg;
  e->unet_config_owned = g_steal_pointer (&unet_owned);
  e->vae = lf_vae_load (vae, vae_cfg, e->ops, error);
  return e->vae != NULL;
}

/* The folder's scheduler/scheduler_config.json, else the built-in one. */
static gboolean
load_scheduler (LfEngine *e, const char *folder, GError **error)
{
  g_autoptr (LfConfig) cfg = NULL;
  g_autofree char *path = NULL;

  if (folder != NULL)
    path
        = g_build_filename (folder, "scheduler", "scheduler_config.json", NULL);
  if (path != NULL && g_file_test (path, G_FILE_TEST_EXISTS))
    cfg = lf_config_load (path, error);
  else
    cfg = lf_builtin_config (lf_model_files_get_arch (e->model), "scheduler",
                             error);
  return cfg != NULL && lf_scheduler_config_load (cfg, &e->scheduler, error);
}

static gboolean
load_tokenizer (LfEngine *e, const char *folder, GError **error)
{
  if (folder == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("“%s” is a single-file checkpoint, which carries no "
                      "tokenizer: pass a diffusers folder of the same model "
                      "family with --config"),
                   lf_model_files_get_path (e->model));
      return FALSE;
    }
  e->tokenizer = lf_tokenizer_new (folder, error);
  return e->tokenizer != NULL;
}

gboolean
lf_engine_load_model (LfEngine   *e,
                      const char *path,
                      const char *config_path,
                      GError    **error)
{
  const char *folder;

  g_return_val_if_fail (e != NULL && path != NULL, FALSE);
  unload_model (e);
  e->model = lf_model_files_open (path, error);
  if (e->model == NULL)
    return FALSE;
  switch (lf_model_files_get_kind (e->model))
    {
    case LF_MODEL_KIND_DIFFUSERS:
      folder = path;
      break;
    case LF_MODEL_KIND_CHECKPOINT:
      folder = config_path;
      break;
    default:
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a Stable Diffusion model (a diffusers "
                      "folder or a single-file checkpoint)"),
                   path);
      unload_model (e);
      return FALSE;
    }
  if (config_path != NULL
      && (e->configs = lf_model_files_open (config_path, error)) == NULL)
    {
      unload_model (e);
      return FALSE;
    }
  if (!load_tokenizer (e, folder, error) || !load_models (e, error)
      || !load_scheduler (e, folder, error))
    {
      g_prefix_error (error, _ ("Loading “%s”: "), path);
      unload_model (e);
      return FALSE;
    }
  return TRUE;
}

gboolean
lf_engine_load_linfusion (LfEngine *e, const char *path, GError **error)
{
  g_autoptr (LfModelFiles) files = NULL;
  const LfComponent *comp;

  g_return_val_if_fail (e != NULL && path != NULL, FALSE);
  if (e->unet == NULL)
    {
      g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                           _ ("Load a model before its LinFusion modules"));
      return FALSE;
    }
  files = lf_model_files_open (path, error);
  if (files == NULL)
    return FALSE;
  comp = lf_model_files_lookup (files, "linfusion");
  if (lf_model_files_get_kind (files) != LF_MODEL_KIND_LINFUSION
      || comp == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a LinFusion folder (config.json with "
                      "modules_list and diffusion_pytorch_model.safetensors)"),
                   path);
      return FALSE;
    }
  if (!lf_unet_mount_linfusion (e->unet, comp, lf_component_get_config (comp),
                                error))
    {
      g_prefix_error (error, _ ("Mounting “%s”: "), path);
      return FALSE;
    }
  g_clear_pointer (&e->linfusion, lf_model_files_free);
  e->linfusion = g_steal_pointer (&files);
  /* a ControlNet that runs LinFusion takes the new modules too */
  return !e->controlnet_linfusion
         || lf_engine_set_controlnet_linfusion (e, TRUE, error);
}

const float *
lf_engine_get_initial_noise (const LfEngine *e, int64_t shape[4])
{
  memcpy (shape, e->latent_shape, sizeof e->latent_shape);
  return e->initial_noise;
}

const float *
lf_engine_get_final_latents (const LfEngine *e, int64_t shape[4])
{
  memcpy (shape, e->latent_shape, sizeof e->latent_shape);
  return e->final_latents;
}
