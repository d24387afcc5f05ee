/* vae-config.c: AutoencoderKL's vae/config.json as the VAE uses it, with
 * the defaults of diffusers 0.30.3 AutoencoderKL.__init__ for absent keys;
 * anything the engine cannot run is LF_ERROR_UNSUPPORTED naming the key.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "vae-private.h"

static gboolean
unsupported (const LfConfig *cfg,
             const char     *key,
             const char     *value,
             GError        **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
               _ ("%s: unsupported VAE setting “%s”: %s"),
               lf_config_get_name (cfg), key, value);
  return FALSE;
}

static gboolean
read_int (const LfConfig *cfg,
          const char     *key,
          gint64          def,
          gint64          max,
          int64_t        *out,
          GError        **error)
{
  GError *local = NULL;
  gint64  v = lf_config_get_int (cfg, key, def, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (v < 1 || v > max)
    {
      g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, v);
      return unsupported (cfg, key, s, error);
    }
  *out = v;
  return TRUE;
}

/* A list of block types that must all be @want, one per level. */
static gboolean
read_block_types (const LfConfig *cfg,
                  const char     *key,
                  const char     *want,
                  int             n_levels,
                  GError        **error)
{
  JsonObject *root = lf_config_get_root (cfg);
  JsonNode   *node = json_object_get_member (root, key);
  JsonArray  *list;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return n_levels == 1 || unsupported (cfg, key, _ ("missing"), error);
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return unsupported (cfg, key, _ ("not a list"), error);
  list = json_node_get_array (node);
  if ((int)json_array_get_length (list) != n_levels)
    return unsupported (
        cfg, key, _ ("not one entry per block_out_channels entry"), error);
  for (int i = 0; i < n_levels; i++)
    {
      JsonNode   *e = json_array_get_element (list, i);
      const char *s = JSON_NODE_HOLDS_VALUE (e)
                              && json_node_get_value_type (e) == G_TYPE_STRING
                          ? json_node_get_string (e)
                          : NULL;

      if (g_strcmp0 (s, want) != 0)
        return unsupported (cfg, key, s != NULL ? s : _ ("not a string"),
                            error);
    }
  return TRUE;
}

static gboolean
read_channels (const LfConfig *cfg, VaeConfig *c, GError **error)
{
  g_autoptr (GArray) list = NULL;

  if (!lf_config_get_int_array (cfg, "block_out_channels", &list, error))
    return FALSE;
  if (list == NULL)
    {
      c->n_levels = 1; /* diffusers default (64,) */
      c->channels[0] = 64;
      return TRUE;
    }
  if (list->len < 1 || list->len > VAE_MAX_LEVELS)
    return unsupported (cfg, "block_out_channels", _ ("number of entries"),
                        error);
  c->n_levels = (int)list->len;
  for (guint i = 0; i < list->len; i++)
    {
      c->channels[i] = g_array_index (list, gint64, i);
      if (c->channels[i] < 1 || c->channels[i] > 65536
          || c->channels[i] % c->groups != 0)
        return unsupported (cfg, "block_out_channels",
                            _ ("a channel count not divisible by "
                               "norm_num_groups"),
                            error);
    }
  return TRUE;
}

static gboolean
read_flags (const LfConfig *cfg, VaeConfig *c, GError **error)
{
  GError *local = NULL;
  double  shift;

  c->mid_attention
      = lf_config_get_bool (cfg, "mid_block_add_attention", TRUE, &local);
  if (local == NULL)
    c->quant_conv = lf_config_get_bool (cfg, "use_quant_conv", TRUE, &local);
  if (local == NULL)
    c->post_quant_conv
        = lf_config_get_bool (cfg, "use_post_quant_conv", TRUE, &local);
  if (local == NULL)
    c->force_upcast = lf_config_get_bool (cfg, "force_upcast", TRUE, &local);
  if (local == NULL)
    c->scaling_factor
        = (float)lf_config_get_double (cfg, "scaling_factor", 0.18215, &local);
  c->has_shift = lf_config_has (cfg, "shift_factor");
  if (local == NULL && c->has_shift)
    {
      shift = lf_config_get_double (cfg, "shift_factor", 0.0, &local);
      c->shift_factor = (float)shift;
    }
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

/* Reads @cfg with AutoencoderKL.__init__'s defaults for absent keys. */
gboolean
vae_config_read (const LfConfig *cfg, VaeConfig *c, GError **error)
{
  const char *cls = lf_config_get_string (cfg, "_class_name", NULL, NULL);
  const char *act = lf_config_get_string (cfg, "act_fn", "silu", NULL);
  int64_t     groups, layers;

  if (cls != NULL && strcmp (cls, "AutoencoderKL") != 0)
    return unsupported (cfg, "_class_name", cls, error);
  if (g_strcmp0 (act, "silu") != 0)
    return unsupported (cfg, "act_fn", act != NULL ? act : "?", error);
  if (!read_int (cfg, "in_channels", 3, 4096, &c->in_channels, error)
      || !read_int (cfg, "out_channels", 3, 4096, &c->out_channels, error)
      || !read_int (cfg, "latent_channels", 4, 4096, &c->latent_channels, error)
      || !read_int (cfg, "norm_num_groups", 32, 4096, &groups, error)
      || !read_int (cfg, "layers_per_block", 1, VAE_MAX_LAYERS, &layers, error))
    return FALSE;
  c->groups = (int)groups;
  c->layers_per_block = (int)layers;
  return read_channels (cfg, c, error)
         && read_block_types (cfg, "down_block_types", "DownEncoderBlock2D",
                              c->n_levels, error)
         && read_block_types (cfg, "up_block_types", "UpDecoderBlock2D",
                              c->n_levels, error)
         && read_flags (cfg, c, error);
}
