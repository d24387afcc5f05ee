/* fuzz-json-config.c: libFuzzer target for the config reader
 * (lf_config_new_from_data with its NaN/Infinity rewriting), then every
 * getter on the keys diffusers configs use, and the duplicate-key scan;
 * tests/fuzz/corpus/json-config/ is replayed by `meson test`.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <string.h>

#include "json-config.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const keys[] = {
  "layers_per_block",
  "lambda_min_clipped",
  "block_out_channels",
  "_class_name",
  "flip_sin_to_cos",
  "modules_list",
  "a",
  "",
};

static void
touch_key (const LfConfig *cfg, const char *key)
{
  g_autoptr (GArray) array = NULL;

  lf_config_has (cfg, key);
  lf_config_get_int (cfg, key, 0, NULL);
  lf_config_get_double (cfg, key, 0.0, NULL);
  lf_config_get_bool (cfg, key, FALSE, NULL);
  lf_config_get_string (cfg, key, NULL, NULL);
  lf_config_get_int_array (cfg, key, &array, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (LfConfig) cfg = NULL;
  g_autofree char *dup = NULL;
  JsonObjectIter   iter;
  const char      *key;
  JsonNode        *node;

  dup = lf_json_find_duplicate_key ((const char *)data, size);
  /* The key is copied out of @data, so it cannot be longer. */
  g_assert (dup == NULL || strlen (dup) <= size);
  cfg = lf_config_new_from_data ((const char *)data, size, "fuzz.json", NULL);
  if (cfg == NULL)
    return 0;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    touch_key (cfg, keys[i]);
  json_object_iter_init (&iter, lf_config_get_root (cfg));
  while (json_object_iter_next (&iter, &key, &node))
    {
      double v;

      touch_key (cfg, key);
      lf_config_node_get_double (node, &v);
      if (JSON_NODE_HOLDS_OBJECT (node))
        lf_config_object_get_int (cfg, json_node_get_object (node), "dim_n", 0,
                                  NULL);
    }
  return 0;
}
