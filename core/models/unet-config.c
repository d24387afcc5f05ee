/* unet-config.c: diffusers UNet2DConditionModel config.json → UnetConfig.
 * Mirrors the argument handling of UNet2DConditionModel.__init__ in diffusers
 * 0.30.3 (unets/unet_2d_condition.py): per-block lists, the
 * attention_head_dim-is-the-head-count convention, and what it may not run.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "unet-private.h"

/* Keys that must be absent or null: SDXL's added embeddings, class
 * conditioning, custom time embeddings and the like. */
static const char *const null_keys[] = {
  "addition_embed_type",
  "class_embed_type",
  "num_class_embeds",
  "encoder_hid_dim",
  "encoder_hid_dim_type",
  "time_cond_proj_dim",
  "timestep_post_act",
  "time_embedding_act_fn",
  "time_embedding_dim",
  "cross_attention_norm",
  "reverse_transformer_layers_per_block",
};

/* String keys with the one value the forward implements. */
static const struct
{
  const char *key, *value;
} string_keys[] = {
  { "act_fn", "silu" },
  { "attention_type", "default" },
  { "time_embedding_type", "positional" },
  { "resnet_time_scale_shift", "default" },
  { "mid_block_type", "UNetMidBlock2DCrossAttn" },
};

/* Numbers and booleans with the one value the forward implements. */
static const struct
{
  const char *key;
  double      value;
} number_keys[] = {
  { "conv_in_kernel", 3 },          { "conv_out_kernel", 3 },
  { "downsample_padding", 1 },      { "mid_block_scale_factor", 1 },
  { "resnet_out_scale_factor", 1 },
};
static const char *const false_keys[] = {
  "center_input_sample",     "dual_cross_attention", "resnet_skip_time_act",
  "class_embeddings_concat", "only_cross_attention",
};

static gboolean
unsupported (const LfConfig *cfg, const char *key, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
               _ ("%s: the value of “%s” is not supported"),
               lf_config_get_name (cfg), key);
  return FALSE;
}

static gboolean
check_supported (const LfConfig *cfg, GError **error)
{
  JsonObject *root = lf_config_get_root (cfg);

  for (gsize i = 0; i < G_N_ELEMENTS (null_keys); i++)
    if (lf_config_has (cfg, null_keys[i]))
      return unsupported (cfg, null_keys[i], error);
  for (gsize i = 0; i < G_N_ELEMENTS (string_keys); i++)
    {
      JsonNode   *n = json_object_get_member (root, string_keys[i].key);
      const char *v;

      /* An explicit null mid_block_type means no mid block at all. */
      if (n == NULL)
        continue;
      v = JSON_NODE_HOLDS_VALUE (n)
                  && json_node_get_value_type (n) == G_TYPE_STRING
              ? json_node_get_string (n)
              : NULL;
      if (v == NULL || strcmp (v, string_keys[i].value) != 0)
        return unsupported (cfg, string_keys[i].key, error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (number_keys); i++)
    {
      JsonNode *n = json_object_get_member (root, number_keys[i].key);
      double    v;

      if (n != NULL && !JSON_NODE_HOLDS_NULL (n)
          && (!lf_config_node_get_double (n, &v) || v != number_keys[i].value))
        return unsupported (cfg, number_keys[i].key, error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (false_keys); i++)
    {
      JsonNode *n = json_object_get_member (root, false_keys[i]);

      if (n != NULL && !JSON_NODE_HOLDS_NULL (n)
          && (!JSON_NODE_HOLDS_VALUE (n)
              || json_node_get_value_type (n) != G_TYPE_BOOLEAN
              || json_node_get_boolean (n)))
        return unsupported (cfg, false_keys[i], error);
    }
  return TRUE;
}

static gboolean
bad_value (const LfConfig *cfg, const char *key, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("%s: “%s” must be an integer or a list of %s integers"),
               lf_config_get_name (cfg), key, "block_out_channels");
  return FALSE;
}

/* An int for every level, or a list with one entry per level. */
static gboolean
per_level (const LfConfig *cfg,
           const char     *key,
           int             n,
           int64_t         def,
           int64_t        *out,
           GError        **error)
{
  JsonNode *node = json_object_get_member (lf_config_get_root (cfg), key);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node)
      || JSON_NODE_HOLDS_VALUE (node))
    {
      GError *local = NULL;
      int64_t v = lf_config_get_int (cfg, key, def, &local);

      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      for (int i = 0; i < n; i++)
        out[i] = v;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (json_node_get_array (node)) != (guint)n)
    return bad_value (cfg, key, error);
  for (int i = 0; i < n; i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (node), i);

      if (!JSON_NODE_HOLDS_VALUE (e)
          || json_node_get_value_type (e) != G_TYPE_INT64)
        return bad_value (cfg, key, error);
      out[i] = json_node_get_int (e);
    }
  return TRUE;
}

/* down_block_types / up_block_types: one of two names per level. */
static gboolean
block_types (const LfConfig *cfg,
             const char     *key,
             int             n,
             const char     *plain,
             const char     *cross,
             gboolean       *attn,
             GError        **error)
{
  JsonNode *node = json_object_get_member (lf_config_get_root (cfg), key);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (json_node_get_array (node)) != (guint)n)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: “%s” must list one block per entry of "
                      "block_out_channels (%d)"),
                   lf_config_get_name (cfg), key, n);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      JsonNode   *e = json_array_get_element (json_node_get_array (node), i);
      const char *v = JSON_NODE_HOLDS_VALUE (e)
                              && json_node_get_value_type (e) == G_TYPE_STRING
                          ? json_node_get_string (e)
                          : "";

      if (strcmp (v, plain) != 0 && strcmp (v, cross) != 0)
        {
          g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                       _ ("%s: %s[%d] “%s” is not supported (only %s and %s)"),
                       lf_config_get_name (cfg), key, i, v, plain, cross);
          return FALSE;
        }
      attn[i] = strcmp (v, cross) == 0;
    }
  return TRUE;
}

static gboolean
read_scalars (const LfConfig *cfg, UnetConfig *c, GError **error)
{
  GError *local = NULL;

  c->in_channels = lf_config_get_int (cfg, "in_channels", 4, &local);
  if (local == NULL)
    c->out_channels = lf_config_get_int (cfg, "out_channels", 4, &local);
  if (local == NULL)
    c->cross_dim = lf_config_get_int (cfg, "cross_attention_dim", 1280, &local);
  if (local == NULL)
    c->linear_proj
        = lf_config_get_bool (cfg, "use_linear_projection", FALSE, &local);
  if (local == NULL)
    c->groups = lf_config_get_int (cfg, "norm_num_groups", 32, &local);
  if (local == NULL)
    c->eps = lf_config_get_double (cfg, "norm_eps", 1e-5, &local);
  if (local == NULL)
    c->flip_sin_to_cos
        = lf_config_get_bool (cfg, "flip_sin_to_cos", TRUE, &local);
  if (local == NULL)
    c->freq_shift = lf_config_get_double (cfg, "freq_shift", 0.0, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_levels (const LfConfig *cfg,
             UnetConfig     *c,
             gboolean        encoder_only,
             GError        **error)
{
  g_autoptr (GArray) ch = NULL;
  const char *heads_key = lf_config_has (cfg, "num_attention_heads")
                              ? "num_attention_heads"
                              : "attention_head_dim";

  if (!lf_config_get_int_array (cfg, "block_out_channels", &ch, error))
    return FALSE;
  if (ch == NULL || ch->len < 1 || ch->len > LF_UNET_MAX_LEVELS)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("%s: block_out_channels must have 1 to %d entries"),
                   lf_config_get_name (cfg), LF_UNET_MAX_LEVELS);
      return FALSE;
    }
  c->n_levels = (int)ch->len;
  for (int i = 0; i < c->n_levels; i++)
    c->channels[i] = g_array_index (ch, gint64, i);
  /* diffusers: num_attention_heads = num_attention_heads or
   * attention_head_dim; the latter is the head count (issue #2011). */
  return block_types (cfg, "down_block_types", c->n_levels, "DownBlock2D",
                      "CrossAttnDownBlock2D", c->down_attn, error)
         && (encoder_only
             || block_types (cfg, "up_block_types", c->n_levels, "UpBlock2D",
                             "CrossAttnUpBlock2D", c->up_attn, error))
         && per_level (cfg, "layers_per_block", c->n_levels, 2, c->layers,
                       error)
         && per_level (cfg, heads_key, c->n_levels, 8, c->heads, error)
         && per_level (cfg, "transformer_layers_per_block", c->n_levels, 1,
                       c->depth, error);
}

static gboolean
out_of_range (const LfConfig *cfg, const char *key, int64_t v, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("%s: “%s” = %lld is out of range or does not divide the "
                  "channels"),
               lf_config_get_name (cfg), key, (long long)v);
  return FALSE;
}

static gboolean
validate (const LfConfig *cfg, const UnetConfig *c, GError **error)
{
  if (c->in_channels < 1 || c->in_channels > 4096)
    return out_of_range (cfg, "in_channels", c->in_channels, error);
  if (c->out_channels < 1 || c->out_channels > 4096)
    return out_of_range (cfg, "out_channels", c->out_channels, error);
  if (c->cross_dim < 1 || c->cross_dim > 65536)
    return out_of_range (cfg, "cross_attention_dim", c->cross_dim, error);
  if (c->groups < 1 || !(c->eps > 0.0))
    return out_of_range (cfg, "norm_num_groups", c->groups, error);
  for (int i = 0; i < c->n_levels; i++)
    {
      if (c->channels[i] < 1 || c->channels[i] > 65536
          || c->channels[i] % c->groups != 0)
        return out_of_range (cfg, "block_out_channels", c->channels[i], error);
      if (c->layers[i] < 1 || c->layers[i] >= LF_UNET_MAX_LAYERS)
        return out_of_range (cfg, "layers_per_block", c->layers[i], error);
      if (c->heads[i] < 1 || c->channels[i] % c->heads[i] != 0)
        return out_of_range (cfg, "attention_head_dim", c->heads[i], error);
      if (c->depth[i] < 1 || c->depth[i] > 64)
        return out_of_range (cfg, "transformer_layers_per_block", c->depth[i],
                             error);
    }
  return TRUE;
}

static gboolean
parse (const LfConfig *cfg,
       gboolean        encoder_only,
       UnetConfig     *out,
       GError        **error)
{
  UnetConfig c = { 0 };

  if (!check_supported (cfg, error) || !read_scalars (cfg, &c, error)
      || !read_levels (cfg, &c, encoder_only, error)
      || !validate (cfg, &c, error))
    return FALSE;
  *out = c;
  return TRUE;
}

gboolean
unet_config_parse (const LfConfig *cfg, UnetConfig *out, GError **error)
{
  return parse (cfg, FALSE, out, error);
}

/* ControlNetModel's config has the UNet's keys for the encoder half only;
 * its own keys (conditioning_*, global_pool_conditions) are read by
 * controlnet.c. */
gboolean
unet_config_parse_encoder (const LfConfig *cfg, UnetConfig *out, GError **error)
{
  return parse (cfg, TRUE, out, error);
}
