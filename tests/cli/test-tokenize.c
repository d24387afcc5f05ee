/* test-tokenize.c: `linfusion tokenize` as users run it: the ids of the
 * reference prompt (ref/tokenizer.safetensors ids_full_0, ids_77_0) on one
 * line, --weights output, and exit status 1 with one stderr line for a
 * non-UTF-8 prompt, a missing model folder and a bad command line.
 */
#include "config.h"

#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "safetensors.h"

#define SET    "sd15-tiny-seed0"
#define PROMPT "a photograph of an astronaut riding a horse"

static char *
expected_line (const char *set_dir, const char *name)
{
  g_autofree char *path
      = g_build_filename (set_dir, "ref", "tokenizer.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);
  const LfStTensor *t;
  GString          *line = g_string_new (NULL);

  g_assert_no_error (error);
  t = lf_safetensors_lookup (st, name);
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, LF_ST_I64);
  for (int64_t i = 0; i < t->shape[0]; i++)
    g_string_append_printf (line, "%s%" G_GINT64_FORMAT, i > 0 ? " " : "",
                            ((const gint64 *)t->data)[i]);
  g_string_append_c (line, '\n');
  return g_string_free (line, FALSE);
}

static void
test_ids (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *want = NULL, *want77 = NULL;
  g_auto (LfTestRun) run = { 0 };
  g_auto (LfTestRun) padded = { 0 };

  if (dir == NULL
      || !lf_test_run_cli (&run, "tokenize", "--model", dir, "--", PROMPT,
                           NULL))
    return;
  want = expected_line (dir, "ids_full_0");
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, want);

  lf_test_run_cli (&padded, "tokenize", "--padded", "--model", dir, PROMPT,
                   NULL);
  want77 = expected_line (dir, "ids_77_0");
  g_assert_cmpint (padded.status, ==, 0);
  g_assert_cmpstr (padded.out, ==, want77);
}

static void
test_weights (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (GArray) a = NULL, c = NULL;
  g_autofree char *want = NULL;
  g_auto (LfTestRun) run = { 0 };

  if (dir == NULL
      || !lf_test_run_cli (&run, "tokenize", "--model", dir, "--weights", "--",
                           "horse (rider:1.5) BREAK [moon]", NULL))
    return;
  tok = lf_tokenizer_new (dir, NULL);
  a = lf_tokenizer_encode (tok, "horse rider", NULL);
  c = lf_tokenizer_encode (tok, "moon", NULL);
  g_assert_cmpuint (a->len, ==, 4);
  g_assert_cmpuint (c->len, ==, 3);
  want = g_strdup_printf (
      "%d:1 %d:1.5 BREAK %d:%g\n", g_array_index (a, gint32, 1),
      g_array_index (a, gint32, 2), g_array_index (c, gint32, 1),
      (double)(gfloat)(1 / 1.1));
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, want);
}

static void
test_invalid_utf8 (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_auto (LfTestRun) run = { 0 };

  if (dir == NULL
      || !lf_test_run_cli (&run, "tokenize", "--model", dir, "--",
                           "caf\xe9 au lait", NULL))
    return;
  lf_test_assert_cli_error (&run, "tokenize", "UTF-8");
}

static void
test_missing_model (void)
{
  g_auto (LfTestRun) run = { 0 };

  if (!lf_test_run_cli (&run, "tokenize", "--model",
                        "/nonexistent/linfusion-model", "a", NULL))
    return;
  lf_test_assert_cli_error (&run, "tokenize", "/nonexistent/linfusion-model");
}

static void
test_usage (void)
{
  g_auto (LfTestRun) run = { 0 };
  g_auto (LfTestRun) two = { 0 };

  if (!lf_test_run_cli (&run, "tokenize", "just text", NULL))
    return;
  lf_test_assert_cli_error (&run, "tokenize", "--model");
  lf_test_run_cli (&two, "tokenize", "--model", "/tmp", "--padded", "--weights",
                   "a", NULL);
  lf_test_assert_cli_error (&two, "tokenize", "--weights");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/tokenize/ids", test_ids);
  g_test_add_func ("/cli/tokenize/weights", test_weights);
  g_test_add_func ("/cli/tokenize/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/cli/tokenize/missing-model", test_missing_model);
  g_test_add_func ("/cli/tokenize/usage", test_usage);
  return g_test_run ();
}
