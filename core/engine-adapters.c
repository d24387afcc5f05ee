/* engine-adapters.c: what an engine mounts beside the base model: a
 * ControlNet (with or without LinFusion on its self-attention) and an
 * IP-Adapter with its image encoder. Each replaces the previous one and
 * leaves the engine as it was when loading fails. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "engine-private.h"

static gboolean
require_model (const LfEngine *e, const char *what, GError **error)
{
  if (e->unet != NULL)
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
               _ ("Load a model before its %s"), what);
  return FALSE;
}

static gboolean
require_linfusion (const LfEngine *e, GError **error)
{
  if (e->linfusion != NULL)
    return TRUE;
  g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                       _ ("LinFusion on the ControlNet needs a LinFusion "
                          "folder loaded for the model"));
  return FALSE;
}

/* Replaces whatever LinFusion modules @cn had. */
static gboolean
mount_controlnet_linfusion (LfEngine *e, LfControlNet *cn, GError **error)
{
  const LfComponent *comp = lf_model_files_lookup (e->linfusion, "linfusion");

  return lf_controlnet_mount_linfusion (cn, comp,
                                        lf_component_get_config (comp), error);
}

gboolean
lf_engine_load_controlnet (LfEngine *e, const char *path, GError **error)
{
  g_autoptr (LfControlNet) cn = NULL;

  g_return_val_if_fail (e != NULL && path != NULL, FALSE);
  if (!require_model (e, _ ("ControlNet"), error))
    return FALSE;
  cn = lf_controlnet_open (path, e->unet_config, e->ops, error);
  if (cn == NULL || !lf_controlnet_check_fits (cn, e->unet, error)
      || (e->controlnet_linfusion
          && (!require_linfusion (e, error)
              || !mount_controlnet_linfusion (e, cn, error))))
    {
      g_prefix_error (error, _ ("ControlNet “%s”: "), path);
      return FALSE;
    }
  lf_controlnet_free (e->controlnet);
  e->controlnet = g_steal_pointer (&cn);
  return TRUE;
}

void
lf_engine_unload_controlnet (LfEngine *e)
{
  g_clear_pointer (&e->controlnet, lf_controlnet_free);
}

gboolean
lf_engine_set_controlnet_linfusion (LfEngine *e,
                                    gboolean  enable,
                                    GError  **error)
{
  g_return_val_if_fail (e != NULL, FALSE);
  if (enable && !require_linfusion (e, error))
    return FALSE;
  if (e->controlnet != NULL && enable
      && !mount_controlnet_linfusion (e, e->controlnet, error))
    return FALSE;
  if (e->controlnet != NULL && !enable)
    lf_controlnet_unmount_linfusion (e->controlnet);
  e->controlnet_linfusion = enable;
  return TRUE;
}

/* image_encoder/ beside the adapter file, else in its parent folder (the
 * layout of h94/IP-Adapter: models/ip-adapter_sd15.safetensors and
 * models/image_encoder/). */
static char *
find_image_encoder (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *parent = g_path_get_dirname (dir);
  const char      *places[2] = { dir, parent };

  for (int i = 0; i < 2; i++)
    {
      g_autofree char *candidate
          = g_build_filename (places[i], "image_encoder", NULL);

      if (g_file_test (candidate, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&candidate);
    }
  return NULL;
}

gboolean
lf_engine_load_ip_adapter (LfEngine   *e,
                           const char *path,
                           const char *image_encoder,
                           GError    **error)
{
  g_autoptr (LfIpAdapter) ip = NULL;
  g_autoptr (LfClipVision) enc = NULL;
  g_autofree char *found = NULL;

  g_return_val_if_fail (e != NULL && path != NULL, FALSE);
  if (!require_model (e, _ ("IP-Adapter"), error))
    return FALSE;
  if (image_encoder == NULL
      && (image_encoder = found = find_image_encoder (path)) == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("IP-Adapter “%s” needs its image encoder (a "
                      "CLIPVisionModelWithProjection folder): none is named "
                      "and there is no image_encoder folder beside it"),
                   path);
      return FALSE;
    }
  ip = lf_ip_adapter_open (path, e->ops, error);
  if (ip == NULL)
    return FALSE;
  enc = lf_clip_vision_open (image_encoder, e->ops, error);
  if (enc == NULL || !lf_ip_adapter_check_encoder (ip, enc, error))
    return FALSE;
  lf_engine_unload_ip_adapter (e);
  if (!lf_ip_adapter_mount (ip, e->unet, error))
    {
      g_prefix_error (error, _ ("IP-Adapter “%s”: "), path);
      return FALSE;
    }
  e->ip_adapter = g_steal_pointer (&ip);
  e->ip_encoder = g_steal_pointer (&enc);
  return TRUE;
}

void
lf_engine_unload_ip_adapter (LfEngine *e)
{
  if (e->ip_adapter != NULL && e->unet != NULL)
    lf_ip_adapter_unmount (e->unet);
  g_clear_pointer (&e->ip_adapter, lf_ip_adapter_free);
  g_clear_pointer (&e->ip_encoder, lf_clip_vision_free);
}
