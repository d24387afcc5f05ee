/* test-json-config.c: the config reader: Python's NaN/Infinity/-Infinity
 * outside strings, the same text inside strings left alone, typed getters
 * with defaults, and errors naming the file and key.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "json-config.h"

static const char scheduler[]
    = "{\"_class_name\": \"DPMSolverMultistepScheduler\",\n"
      " \"lambda_min_clipped\": -Infinity, \"upper\": Infinity,\n"
      " \"nan\": NaN, \"list\": [NaN, -Infinity, 1.5],\n"
      " \"text\": \"NaN and -Infinity \\\" Infinity\", \"esc\": \"a\\\\\",\n"
      " \"steps\": 1000, \"beta\": 0.00085, \"two\": 2.0, \"flag\": true,\n"
      " \"channels\": [16, 16, 32, 32], \"none\": null,\n"
      " \"modules_list\": [{\"dim_n\": 16, \"module_name\": \"x\"}]}";

static LfConfig *
load (const char *text)
{
  g_autoptr (GError) error = NULL;
  LfConfig *cfg = lf_config_new_from_data (text, -1, "cfg.json", &error);

  g_assert_no_error (error);
  g_assert_nonnull (cfg);
  return cfg;
}

static void
test_nonfinite (void)
{
  g_autoptr (LfConfig) cfg = load (scheduler);
  g_autoptr (GError) error = NULL;
  JsonArray *list;
  double     v;

  v = lf_config_get_double (cfg, "lambda_min_clipped", 0.0, &error);
  g_assert_no_error (error);
  g_assert_true (isinf (v) && v < 0);
  v = lf_config_get_double (cfg, "upper", 0.0, &error);
  g_assert_true (isinf (v) && v > 0);
  g_assert_true (isnan (lf_config_get_double (cfg, "nan", 0.0, &error)));
  g_assert_no_error (error);

  list = json_object_get_array_member (lf_config_get_root (cfg), "list");
  g_assert_true (
      lf_config_node_get_double (json_array_get_element (list, 0), &v));
  g_assert_true (isnan (v));
  g_assert_true (
      lf_config_node_get_double (json_array_get_element (list, 1), &v));
  g_assert_true (isinf (v) && v < 0);
  g_assert_true (
      lf_config_node_get_double (json_array_get_element (list, 2), &v));
  g_assert_cmpfloat (v, ==, 1.5);

  /* A marker is a number, not a string. */
  g_assert_null (lf_config_get_string (cfg, "nan", NULL, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
}

static void
test_strings_untouched (void)
{
  g_autoptr (LfConfig) cfg = load (scheduler);
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (lf_config_get_string (cfg, "text", NULL, &error), ==,
                   "NaN and -Infinity \" Infinity");
  g_assert_cmpstr (lf_config_get_string (cfg, "esc", NULL, &error), ==, "a\\");
  g_assert_cmpstr (lf_config_get_string (cfg, "_class_name", NULL, &error), ==,
                   "DPMSolverMultistepScheduler");
  g_assert_no_error (error);
}

static void
test_getters (void)
{
  g_autoptr (LfConfig) cfg = load (scheduler);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) channels = NULL;
  g_autoptr (GArray) absent = NULL;
  JsonArray  *modules;
  JsonObject *m;

  g_assert_cmpint (lf_config_get_int (cfg, "steps", 0, &error), ==, 1000);
  g_assert_cmpint (lf_config_get_int (cfg, "two", 0, &error), ==, 2);
  g_assert_cmpint (lf_config_get_int (cfg, "absent", 7, &error), ==, 7);
  g_assert_cmpint (lf_config_get_int (cfg, "none", 9, &error), ==, 9);
  g_assert_cmpfloat (lf_config_get_double (cfg, "beta", 0, &error), ==,
                     0.00085);
  g_assert_cmpfloat (lf_config_get_double (cfg, "steps", 0, &error), ==, 1000);
  g_assert_true (lf_config_get_bool (cfg, "flag", FALSE, &error));
  g_assert_false (lf_config_get_bool (cfg, "absent", FALSE, &error));
  g_assert_cmpstr (lf_config_get_string (cfg, "none", "dflt", &error), ==,
                   "dflt");
  g_assert_true (lf_config_has (cfg, "flag"));
  g_assert_false (lf_config_has (cfg, "none"));
  g_assert_false (lf_config_has (cfg, "absent"));
  g_assert_true (lf_config_get_int_array (cfg, "channels", &channels, &error));
  g_assert_cmpuint (channels->len, ==, 4);
  g_assert_cmpint (g_array_index (channels, gint64, 2), ==, 32);
  g_assert_true (lf_config_get_int_array (cfg, "absent", &absent, &error));
  g_assert_null (absent);
  g_assert_no_error (error);

  modules
      = json_object_get_array_member (lf_config_get_root (cfg), "modules_list");
  m = json_array_get_object_element (modules, 0);
  g_assert_cmpint (lf_config_object_get_int (cfg, m, "dim_n", 0, &error), ==,
                   16);
  g_assert_cmpstr (
      lf_config_object_get_string (cfg, m, "module_name", NULL, &error), ==,
      "x");
  g_assert_no_error (error);
}

static void
assert_type_error (GError *error, const char *key, const char *expected)
{
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "cfg.json"));
  g_assert_nonnull (strstr (error->message, key));
  g_assert_nonnull (strstr (error->message, expected));
}

static void
test_type_errors (void)
{
  g_autoptr (LfConfig) cfg = load (scheduler);
  GError *error = NULL;
  GArray *array = NULL;

  g_assert_cmpint (lf_config_get_int (cfg, "beta", 5, &error), ==, 5);
  assert_type_error (error, "beta", "integer");
  g_clear_error (&error);
  g_assert_false (lf_config_get_bool (cfg, "steps", FALSE, &error));
  assert_type_error (error, "steps", "true or false");
  g_clear_error (&error);
  g_assert_cmpfloat (lf_config_get_double (cfg, "text", 1.0, &error), ==, 1.0);
  assert_type_error (error, "text", "number");
  g_clear_error (&error);
  g_assert_null (lf_config_get_string (cfg, "channels", NULL, &error));
  assert_type_error (error, "channels", "string");
  g_clear_error (&error);
  g_assert_false (lf_config_get_int_array (cfg, "list", &array, &error));
  g_assert_null (array);
  assert_type_error (error, "list", "array of integers");
  g_clear_error (&error);
  g_assert_false (lf_config_get_int_array (cfg, "steps", &array, &error));
  assert_type_error (error, "steps", "array of integers");
  g_clear_error (&error);
}

static void
test_bad_json (void)
{
  static const char *const bad[] = {
    "{\"a\": }",     "[1, 2]",        "\"text\"",    "",
    "{\"a\": NaNa}", "{\"a\": -Inf}", "{\"a\": 1,}", "{\"a\": \"unterminated}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (LfConfig) cfg
          = lf_config_new_from_data (bad[i], -1, "bad.json", &error);

      g_test_message ("%s → %s", bad[i], error ? error->message : "accepted");
      g_assert_null (cfg);
      g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
      g_assert_nonnull (strstr (error->message, "bad.json"));
    }
}

static void
test_load_file (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfConfig) cfg
      = lf_config_load ("/nonexistent/config.json", &error);

  g_assert_null (cfg);
  g_assert_error (error, LF_ERROR, LF_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/config.json"));
}

static void
test_duplicate_keys (void)
{
  const char *text
      = "{\"a\": {\"x\": 1, \"x\": 2}, \"b\\\"\": 1, \"b\\\"\": 2}";
  g_autofree char *dup = lf_json_find_duplicate_key (text, strlen (text));
  g_autofree char *none
      = lf_json_find_duplicate_key ("{\"a\":[\"a\",\"a\"]}", 16);

  /* Nested duplicates do not count; the top-level one is found raw. */
  g_assert_cmpstr (dup, ==, "b\\\"");
  g_assert_null (none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-config/nonfinite", test_nonfinite);
  g_test_add_func ("/json-config/strings-untouched", test_strings_untouched);
  g_test_add_func ("/json-config/getters", test_getters);
  g_test_add_func ("/json-config/type-errors", test_type_errors);
  g_test_add_func ("/json-config/bad-json", test_bad_json);
  g_test_add_func ("/json-config/load-file", test_load_file);
  g_test_add_func ("/json-config/duplicate-keys", test_duplicate_keys);
  return g_test_run ();
}
