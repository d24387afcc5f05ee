/* json-config.h: diffusers/transformers config.json, model_index.json and
 * scheduler_config.json, read with json-glib. Python's json module writes
 * the bare literals NaN, Infinity and -Infinity (diffusers'
 * DPMSolverMultistepScheduler has "lambda_min_clipped": -Infinity); they are
 * accepted here and returned by the double getters.
 */
#ifndef LF_JSON_CONFIG_H
#define LF_JSON_CONFIG_H

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _LfConfig LfConfig;

/**
 * lf_config_load:
 * @path: a JSON file whose top level is an object
 *
 * Returns: (transfer full) (nullable): the config, or %NULL with
 *   LF_ERROR_IO (unreadable) or LF_ERROR_FORMAT (not JSON, not an object),
 *   the message naming @path.
 */
LfConfig *lf_config_load (const char *path, GError **error);

/* The same over text in memory; @len -1 means NUL-terminated; @name is the
 * file name used in messages. */
LfConfig *lf_config_new_from_data (const char *data,
                                   gssize      len,
                                   const char *name,
                                   GError    **error);
void      lf_config_free (LfConfig *cfg);

const char *lf_config_get_name (const LfConfig *cfg);
/* Returns: (transfer none): the top-level object. Non-finite numbers appear
 * in it as marker strings; read them with lf_config_node_get_double. */
JsonObject *lf_config_get_root (const LfConfig *cfg);

/* TRUE when @key is present and not null. */
gboolean lf_config_has (const LfConfig *cfg, const char *key);

/* Typed getters. An absent or null key gives @def and no error; a value of
 * another type gives @def and LF_ERROR_FORMAT naming the file, the key and
 * the expected type. The _object_ forms read a member of @obj (an object
 * inside @cfg, e.g. one entry of a list) instead of the top level. */
gint64   lf_config_get_int (const LfConfig *cfg,
                            const char     *key,
                            gint64          def,
                            GError        **error);
double   lf_config_get_double (const LfConfig *cfg,
                               const char     *key,
                               double          def,
                               GError        **error);
gboolean lf_config_get_bool (const LfConfig *cfg,
                             const char     *key,
                             gboolean        def,
                             GError        **error);
/* Returns: (transfer none) (nullable): the string, or @def. */
const char *lf_config_get_string (const LfConfig *cfg,
                                  const char     *key,
                                  const char     *def,
                                  GError        **error);

gint64      lf_config_object_get_int (const LfConfig *cfg,
                                      JsonObject     *obj,
                                      const char     *key,
                                      gint64          def,
                                      GError        **error);
double      lf_config_object_get_double (const LfConfig *cfg,
                                         JsonObject     *obj,
                                         const char     *key,
                                         double          def,
                                         GError        **error);
gboolean    lf_config_object_get_bool (const LfConfig *cfg,
                                       JsonObject     *obj,
                                       const char     *key,
                                       gboolean        def,
                                       GError        **error);
const char *lf_config_object_get_string (const LfConfig *cfg,
                                         JsonObject     *obj,
                                         const char     *key,
                                         const char     *def,
                                         GError        **error);

/**
 * lf_config_get_int_array:
 * @out: (out) (transfer full): a #GArray of gint64, or %NULL when @key is
 *   absent or null
 *
 * Returns: %FALSE with LF_ERROR_FORMAT when the value is not an array of
 *   integers.
 */
gboolean lf_config_get_int_array (const LfConfig *cfg,
                                  const char     *key,
                                  GArray        **out,
                                  GError        **error);

/* A JSON number, or one of the non-finite literals; FALSE for anything
 * else (no error: callers name the key). */
gboolean lf_config_node_get_double (JsonNode *node, double *out);

/* The first member name that occurs twice in the top-level object of the
 * JSON text @data, as written (escapes undecoded), or %NULL. json-glib keeps
 * one of the two silently, so formats that forbid duplicates check this. */
char *lf_json_find_duplicate_key (const char *data, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfConfig, lf_config_free)

G_END_DECLS

#endif /* LF_JSON_CONFIG_H */
