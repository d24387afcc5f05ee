/* json-config.c: config.json / model_index.json reader over json-glib.
 * Mirrors what diffusers' ConfigMixin.from_config and transformers'
 * PretrainedConfig read: Python json output, including its non-standard
 * NaN, Infinity and -Infinity literals, which a small tokenizer rewrites
 * into marker strings before json-glib sees the text.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "json-config.h"

/* Cannot be confused with anything Python writes unescaped: a control
 * character is always escaped by json.dumps, so the marker only appears
 * where we put it (or where a file spells "\u0001lf:" on purpose). */
#define NONFINITE_PREFIX "\001lf:"

struct _LfConfig
{
  char       *name;
  JsonParser *parser;
  JsonObject *root;
};

static const char *const nonfinite_literals[]
    = { "-Infinity", "Infinity", "NaN" };

static gboolean
is_word_char (char c)
{
  return g_ascii_isalnum (c) || c == '_';
}

/* Length of the non-finite literal at @p, or 0. A literal glued to letters
 * (NaNx) is left for json-glib to reject. */
static gsize
nonfinite_at (const char *p, const char *end, const char *start)
{
  if (p > start && is_word_char (p[-1]))
    return 0;
  for (gsize i = 0; i < G_N_ELEMENTS (nonfinite_literals); i++)
    {
      gsize n = strlen (nonfinite_literals[i]);

      if ((gsize)(end - p) >= n && memcmp (p, nonfinite_literals[i], n) == 0
          && (p + n == end || !is_word_char (p[n])))
        return n;
    }
  return 0;
}

/* Copies @data, replacing bare NaN/Infinity/-Infinity outside strings by
 * "\u0001lf:<literal>". Strings and their escapes are copied untouched. */
static GString *
rewrite_nonfinite (const char *data, gsize len)
{
  GString    *out = g_string_sized_new (len + 16);
  const char *p = data, *end = data + len;
  gboolean    in_string = FALSE;

  while (p < end)
    {
      gsize n;

      if (in_string)
        {
          if (*p == '\\' && p + 1 < end)
            g_string_append_c (out, *p++);
          else if (*p == '"')
            in_string = FALSE;
          g_string_append_c (out, *p++);
          continue;
        }
      if (*p == '"')
        in_string = TRUE;
      else if ((n = nonfinite_at (p, end, data)) > 0)
        {
          g_string_append (out, "\"\\u0001lf:");
          g_string_append_len (out, p, n);
          g_string_append_c (out, '"');
          p += n;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  return out;
}

LfConfig *
lf_config_new_from_data (const char *data,
                         gssize      len,
                         const char *name,
                         GError    **error)
{
  g_autoptr (LfConfig) cfg = g_new0 (LfConfig, 1);
  g_autoptr (GError) local = NULL;
  g_autoptr (GString) text = NULL;
  JsonNode *root;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (len < 0)
    len = strlen (data);
  cfg->name = g_strdup (name);
  cfg->parser = json_parser_new_immutable ();
  text = rewrite_nonfinite (data, len);
  if (!json_parser_load_from_data (cfg->parser, text->str, text->len, &local))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: not valid JSON: %s"), name, local->message);
      return NULL;
    }
  root = json_parser_get_root (cfg->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: expected a JSON object at the top level"), name);
      return NULL;
    }
  cfg->root = json_node_get_object (root);
  return g_steal_pointer (&cfg);
}

LfConfig *
lf_config_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize            len = 0;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, _ ("“%s”: cannot read: %s"),
                   path, local->message);
      return NULL;
    }
  return lf_config_new_from_data (data, len, path, error);
}

void
lf_config_free (LfConfig *cfg)
{
  if (cfg == NULL)
    return;
  g_clear_object (&cfg->parser);
  g_free (cfg->name);
  g_free (cfg);
}

const char *
lf_config_get_name (const LfConfig *cfg)
{
  return cfg->name;
}

JsonObject *
lf_config_get_root (const LfConfig *cfg)
{
  return cfg->root;
}

static JsonNode *
member (JsonObject *obj, const char *key)
{
  JsonNode *node = json_object_get_member (obj, key);

  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

gboolean
lf_config_has (const LfConfig *cfg, const char *key)
{
  return member (cfg->root, key) != NULL;
}

static void
set_type_error (const LfConfig *cfg,
                const char     *key,
                const char     *expected,
                GError        **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("“%s”: key “%s”: expected %s"), cfg->name, key, expected);
}

static const char *
marker_literal (JsonNode *node)
{
  const char *s;

  if (json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string (node);
  if (!g_str_has_prefix (s, NONFINITE_PREFIX))
    return NULL;
  return s + strlen (NONFINITE_PREFIX);
}

gboolean
lf_config_node_get_double (JsonNode *node, double *out)
{
  const char *lit;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      *out = (double)json_node_get_int (node);
      return TRUE;
    case G_TYPE_DOUBLE:
      *out = json_node_get_double (node);
      return TRUE;
    default:
      break;
    }
  if ((lit = marker_literal (node)) == NULL)
    return FALSE;
  if (strcmp (lit, "NaN") == 0)
    *out = NAN;
  else
    *out = lit[0] == '-' ? -INFINITY : INFINITY;
  return TRUE;
}

/* An integer, or a double with an integral value in range (some tools write
 * 2.0 where Python wrote 2). */
static gboolean
node_get_int (JsonNode *node, gint64 *out)
{
  double d;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    {
      *out = json_node_get_int (node);
      return TRUE;
    }
  if (json_node_get_value_type (node) != G_TYPE_DOUBLE)
    return FALSE;
  d = json_node_get_double (node);
  if (!(d >= -9.0e18 && d <= 9.0e18) || d != floor (d))
    return FALSE;
  *out = (gint64)d;
  return TRUE;
}

gint64
lf_config_object_get_int (const LfConfig *cfg,
                          JsonObject     *obj,
                          const char     *key,
                          gint64          def,
                          GError        **error)
{
  JsonNode *node = member (obj, key);
  gint64    v;

  if (node == NULL)
    return def;
  if (!node_get_int (node, &v))
    {
      set_type_error (cfg, key, _ ("an integer"), error);
      return def;
    }
  return v;
}

double
lf_config_object_get_double (const LfConfig *cfg,
                             JsonObject     *obj,
                             const char     *key,
                             double          def,
                             GError        **error)
{
  JsonNode *node = member (obj, key);
  double    v;

  if (node == NULL)
    return def;
  if (!lf_config_node_get_double (node, &v))
    {
      set_type_error (cfg, key, _ ("a number"), error);
      return def;
    }
  return v;
}

gboolean
lf_config_object_get_bool (const LfConfig *cfg,
                           JsonObject     *obj,
                           const char     *key,
                           gboolean        def,
                           GError        **error)
{
  JsonNode *node = member (obj, key);

  if (node == NULL)
    return def;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      set_type_error (cfg, key, _ ("true or false"), error);
      return def;
    }
  return json_node_get_boolean (node);
}

const char *
lf_config_object_get_string (const LfConfig *cfg,
                             JsonObject     *obj,
                             const char     *key,
                             const char     *def,
                             GError        **error)
{
  JsonNode *node = member (obj, key);

  if (node == NULL)
    return def;
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING
      || marker_literal (node) != NULL)
    {
      set_type_error (cfg, key, _ ("a string"), error);
      return def;
    }
  return json_node_get_string (node);
}

gint64
lf_config_get_int (const LfConfig *cfg,
                   const char     *key,
                   gint64          def,
                   GError        **error)
{
  return lf_config_object_get_int (cfg, cfg->root, key, def, error);
}

double
lf_config_get_double (const LfConfig *cfg,
                      const char     *key,
                      double          def,
                      GError        **error)
{
  return lf_config_object_get_double (cfg, cfg->root, key, def, error);
}

gboolean
lf_config_get_bool (const LfConfig *cfg,
                    const char     *key,
                    gboolean        def,
                    GError        **error)
{
  return lf_config_object_get_bool (cfg, cfg->root, key, def, error);
}

const char *
lf_config_get_string (const LfConfig *cfg,
                      const char     *key,
                      const char     *def,
                      GError        **error)
{
  return lf_config_object_get_string (cfg, cfg->root, key, def, error);
}

gboolean
lf_config_get_int_array (const LfConfig *cfg,
                         const char     *key,
                         GArray        **out,
                         GError        **error)
{
  JsonNode *node = member (cfg->root, key);
  g_autoptr (GArray) values = NULL;
  JsonArray *array;

  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      set_type_error (cfg, key, _ ("an array of integers"), error);
      return FALSE;
    }
  array = json_node_get_array (node);
  values = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gint64 v;

      if (!node_get_int (json_array_get_element (array, i), &v))
        {
          set_type_error (cfg, key, _ ("an array of integers"), error);
          return FALSE;
        }
      g_array_append_val (values, v);
    }
  *out = g_steal_pointer (&values);
  return TRUE;
}

/* End of the string starting at the quote @p (the closing quote), or @end. */
static const char *
skip_string (const char *p, const char *end)
{
  for (p++; p < end; p++)
    {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        return p;
    }
  return end;
}

char *
lf_json_find_duplicate_key (const char *data, gsize len)
{
  g_autoptr (GHashTable) seen
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *p = data, *end = data + len;
  int         depth = 0;

  for (; p < end; p++)
    {
      const char *q, *close;

      if (*p == '{' || *p == '[')
        depth++;
      else if (*p == '}' || *p == ']')
        depth--;
      if (*p != '"')
        continue;
      close = skip_string (p, end);
      if (close == end)
        return NULL;
      for (q = close + 1; q < end && g_ascii_isspace (*q); q++)
        ;
      if (depth == 1 && q < end && *q == ':')
        {
          char *key = g_strndup (p + 1, close - p - 1);

          if (!g_hash_table_add (seen, key))
            return g_strndup (p + 1, close - p - 1);
        }
      p = close;
    }
  return NULL;
}
