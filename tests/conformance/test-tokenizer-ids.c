/* test-tokenizer-ids.c: our CLIP tokenizer against transformers'
 * CLIPTokenizer (slow, no ftfy): the six prompts of ref/tokenizer.safetensors
 * (untruncated and 77-id forms) and the few hundred of
 * tests/data/tokenizer-extra.json (tests/tools/make-tokenizer-fixture.py).
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "safetensors.h"

#define SET "sd15-tiny-seed0"

static LfTokenizer *
open_tokenizer (char **set_dir)
{
  g_autoptr (GError) error = NULL;
  LfTokenizer *tok;

  *set_dir = lf_test_conformance_dir (SET);
  if (*set_dir == NULL)
    return NULL;
  tok = lf_tokenizer_new (*set_dir, &error);
  g_assert_no_error (error);
  return tok;
}

/* Whether @got (gint32) equals @n int64 ids at @expected; on a difference,
 * a message with the prompt and both sequences. */
static gboolean
ids_equal (const char   *what,
           const char   *prompt,
           const GArray *got,
           const gint64 *expected,
           gsize         n)
{
  g_autoptr (GString) a = g_string_new (NULL);
  g_autoptr (GString) b = g_string_new (NULL);
  g_autofree char *escaped = NULL;
  gboolean         same = got->len == n;

  for (gsize i = 0; same && i < n; i++)
    same = g_array_index (got, gint32, i) == expected[i];
  if (same)
    return TRUE;
  for (guint i = 0; i < got->len; i++)
    g_string_append_printf (a, " %d", g_array_index (got, gint32, i));
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (b, " %" G_GINT64_FORMAT, expected[i]);
  escaped = g_strescape (prompt, NULL);
  g_test_message ("%s: “%s”\n  got     %s\n  expected%s", what, escaped, a->str,
                  b->str);
  return FALSE;
}

static const LfStTensor *
lookup (LfSafetensors *st, const char *name, LfStDtype dtype)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, dtype);
  g_assert_cmpint (t->ndim, ==, 1);
  return t;
}

static void
test_reference_prompts (void)
{
  g_autofree char *dir = NULL, *path = NULL;
  g_autoptr (LfTokenizer) tok = open_tokenizer (&dir);
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (GError) error = NULL;

  if (tok == NULL)
    return;
  path = g_build_filename (dir, "ref", "tokenizer.safetensors", NULL);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);

  for (int i = 0; i < 6; i++)
    {
      g_autofree char  *pname = g_strdup_printf ("prompt_utf8_%d", i);
      g_autofree char  *fname = g_strdup_printf ("ids_full_%d", i);
      g_autofree char  *pad_name = g_strdup_printf ("ids_77_%d", i);
      const LfStTensor *p = lookup (st, pname, LF_ST_U8);
      const LfStTensor *full = lookup (st, fname, LF_ST_I64);
      const LfStTensor *padded = lookup (st, pad_name, LF_ST_I64);
      g_autofree char  *prompt = g_strndup (p->data, p->shape[0]);
      g_autoptr (GArray) ids = lf_tokenizer_encode (tok, prompt, &error);
      g_autoptr (GArray) ids77 = NULL;

      g_assert_no_error (error);
      g_assert_true (
          ids_equal (fname, prompt, ids, full->data, full->shape[0]));
      ids77 = lf_tokenizer_encode_padded (tok, prompt, &error);
      g_assert_no_error (error);
      g_assert_cmpint (padded->shape[0], ==, LF_TOKENS_PER_CHUNK);
      g_assert_true (ids_equal (pad_name, prompt, ids77, padded->data,
                                LF_TOKENS_PER_CHUNK));
    }
}

/* The extra upstream fixture, tests/data/tokenizer-extra.json. */
static JsonParser *
load_extra (void)
{
  g_autofree char *path = lf_test_data_path ("tokenizer-extra.json");
  g_autoptr (GError) error = NULL;
  JsonParser *parser;

  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return parser;
}

static gboolean
check_extra_case (LfTokenizer *tok, JsonObject *c)
{
  const char        *prompt = json_object_get_string_member (c, "prompt");
  JsonArray         *want = json_object_get_array_member (c, "ids");
  const guint        n = json_array_get_length (want);
  g_autofree gint64 *expected = g_new (gint64, MAX (n, 1));
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = lf_tokenizer_encode (tok, prompt, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    expected[i] = json_array_get_int_element (want, i);
  return ids_equal ("extra", prompt, ids, expected, n);
}

static void
test_extra_prompts (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (LfTokenizer) tok = open_tokenizer (&dir);
  g_autoptr (JsonParser) parser = NULL;
  JsonArray *cases;
  guint      n, bad = 0;

  if (tok == NULL || (parser = load_extra ()) == NULL)
    return;
  cases = json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "tokenizer");
  n = json_array_get_length (cases);
  g_assert_cmpuint (n, >=, 300);
  for (guint i = 0; i < n; i++)
    bad += !check_extra_case (tok, json_array_get_object_element (cases, i));
  g_test_message ("%u of %u upstream prompts match", n - bad, n);
  g_assert_cmpuint (bad, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tokenizer/ids/reference-prompts", test_reference_prompts);
  g_test_add_func ("/tokenizer/ids/extra-prompts", test_extra_prompts);
  return g_test_run ();
}
