/* test-tokenize.c: `linfusion tokenize` as users run it: the ids of the
 * reference prompt (ref/tokenizer.safetensors ids_full_0, ids_77_0) on one
 * line, --weights output, and exit status 1 with one stderr line for a
 * non-UTF-8 prompt, a missing model folder and a bad command line.
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>

#include "linfusion.h"

#include "lf-test.h"
#include "safetensors.h"

#define SET    "sd15-tiny-seed0"
#define PROMPT "a photograph of an astronaut riding a horse"

typedef struct
{
  char *out;
  char *err;
  int   status;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

/* Runs $LINFUSION tokenize with the NULL-terminated arguments; FALSE
 * after a skip when the binary is not known. */
static gboolean
run_tokenize (CliRun *run, ...)
{
  const char *exe = g_getenv ("LINFUSION");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int         wait_status = 0;
  const char *arg;
  va_list     args;

  if (exe == NULL)
    {
      g_test_skip ("LINFUSION is not set (run through meson test)");
      return FALSE;
    }
  g_ptr_array_add (argv, (char *)exe);
  g_ptr_array_add (argv, "tokenize");
  va_start (args, run);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  return TRUE;
}

/* Exit 1, nothing on stdout, one line on stderr naming @needle. */
static void
assert_one_line_error (const CliRun *run, const char *needle)
{
  g_assert_cmpint (run->status, ==, 1);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_true (g_str_has_prefix (run->err, "linfusion tokenize: "));
  g_assert_true (g_str_has_suffix (run->err, "\n"));
  g_assert_true (strchr (run->err, '\n') == run->err + strlen (run->err) - 1);
  g_assert_nonnull (strstr (run->err, needle));
}

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
  g_auto (CliRun) run = { 0 };
  g_auto (CliRun) padded = { 0 };

  if (dir == NULL || !run_tokenize (&run, "--model", dir, "--", PROMPT, NULL))
    return;
  want = expected_line (dir, "ids_full_0");
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, want);

  run_tokenize (&padded, "--padded", "--model", dir, PROMPT, NULL);
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
  g_auto (CliRun) run = { 0 };

  if (dir == NULL
      || !run_tokenize (&run, "--model", dir, "--weights", "--",
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
  g_auto (CliRun) run = { 0 };

  if (dir == NULL
      || !run_tokenize (&run, "--model", dir, "--", "caf\xe9 au lait", NULL))
    return;
  assert_one_line_error (&run, "UTF-8");
}

static void
test_missing_model (void)
{
  g_auto (CliRun) run = { 0 };

  if (!run_tokenize (&run, "--model", "/nonexistent/linfusion-model", "a",
                     NULL))
    return;
  assert_one_line_error (&run, "/nonexistent/linfusion-model");
}

static void
test_usage (void)
{
  g_auto (CliRun) run = { 0 };
  g_auto (CliRun) two = { 0 };

  if (!run_tokenize (&run, "just text", NULL))
    return;
  assert_one_line_error (&run, "--model");
  run_tokenize (&two, "--model", "/tmp", "--padded", "--weights", "a", NULL);
  assert_one_line_error (&two, "--weights");
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
