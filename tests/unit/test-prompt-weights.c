/* test-prompt-weights.c: the A1111 emphasis parser (modules/prompt_parser.py
 * parse_prompt_attention) on hand-written cases, on the runs that the Python
 * reference in tests/tools/make-tokenizer-fixture.py recorded in
 * tests/data/tokenizer-extra.json, and, with the CLIP fixture tokenizer,
 * lf_tokenizer_encode_weighted against the ids upstream gives each run.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "prompt-weights.h"

typedef struct
{
  const char *text;
  double      weight;
} Run;

static GArray *
parse (const char *prompt)
{
  g_autoptr (GError) error = NULL;
  GArray *runs = lf_prompt_parse_attention (prompt, &error);

  g_assert_no_error (error);
  g_assert_nonnull (runs);
  return runs;
}

static void
assert_runs (const char *prompt, const Run *expected, guint n)
{
  g_autoptr (GArray) runs = parse (prompt);

  g_assert_cmpuint (runs->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const LfPromptRun *run = &g_array_index (runs, LfPromptRun, i);

      g_assert_cmpstr (run->text, ==, expected[i].text);
      g_assert_cmpfloat_with_epsilon (run->weight, expected[i].weight, 1e-12);
    }
}

#define ASSERT_RUNS(prompt, ...)                                               \
  do                                                                           \
    {                                                                          \
      const Run expected_[] = { __VA_ARGS__ };                                 \
      assert_runs (prompt, expected_, G_N_ELEMENTS (expected_));               \
    }                                                                          \
  while (0)

static void
test_a1111_examples (void)
{
  /* The upstream docstring: the unclosed "(" before house weighs
   * everything after it by 1.1, so [on] ends at 1/1.1 · 1.1. */
  ASSERT_RUNS ("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).",
               { "a ", 1.0 }, { "house", 1.3 * 1.1 * 1.1 }, { " ", 1.1 },
               { "on", 1.0 }, { " a ", 1.1 }, { "hill", 0.55 },
               { ", sun, ", 1.1 }, { "sky", 1.1 * 1.1 * 1.1 * 1.1 },
               { ".", 1.1 });
  ASSERT_RUNS ("a (((house:1.3)) [on] a (hill:0.5)", { "a ", 1.0 },
               { "house", 1.573 }, { " ", 1.1 }, { "on", 1.0 }, { " a ", 1.1 },
               { "hill", 0.55 });
  ASSERT_RUNS ("a [on] b", { "a ", 1.0 }, { "on", 1 / 1.1 }, { " b", 1.0 });
  ASSERT_RUNS ("(a:1.5) (b: -1 ) [[c]]", { "a", 1.5 }, { " ", 1.0 },
               { "b", -1.0 }, { " ", 1.0 }, { "c", 1 / 1.1 / 1.1 });
  /* Unicode digits count, as Python's \d and float () take them. */
  ASSERT_RUNS ("(a:\xd9\xa1.\xd9\xa5)", { "a", 1.5 });
  /* Equal neighbours merge, and their texts then tokenise as one word. */
  ASSERT_RUNS ("(a)(b)", { "ab", 1.1 });
}

static void
test_escapes (void)
{
  ASSERT_RUNS ("\\(a\\) \\[b\\] \\\\", { "(a) [b] \\", 1.0 });
  /* A backslash escaping nothing is dropped. */
  ASSERT_RUNS ("a\\b", { "ab", 1.0 });
  ASSERT_RUNS ("(\\(a\\))", { "(a)", 1.1 });
}

static void
test_unbalanced (void)
{
  ASSERT_RUNS ("(a", { "a", 1.1 });
  ASSERT_RUNS ("[a", { "a", 1 / 1.1 });
  ASSERT_RUNS ("((a)", { "a", 1.21 });
  ASSERT_RUNS ("a)", { "a)", 1.0 });
  ASSERT_RUNS ("a]", { "a]", 1.0 });
  ASSERT_RUNS ("a:1.2)", { "a:1.2)", 1.0 });
  ASSERT_RUNS ("([a)]", { "a", 1.1 * (1 / 1.1) });
  /* A stray "]" is text, then scaled by the unclosed "(". */
  ASSERT_RUNS ("(a]", { "a]", 1.1 });
}

static void
test_break (void)
{
  g_autoptr (GArray) runs = parse ("a BREAK b");
  g_autoptr (GArray) inside = parse ("(a BREAK b)");

  g_assert_cmpuint (runs->len, ==, 3);
  g_assert_true (
      lf_prompt_run_is_break (&g_array_index (runs, LfPromptRun, 1)));
  g_assert_cmpstr (g_array_index (runs, LfPromptRun, 2).text, ==, "b");
  /* Inside brackets the BREAK run is scaled too, and then it is a word. */
  g_assert_cmpuint (inside->len, ==, 3);
  g_assert_false (
      lf_prompt_run_is_break (&g_array_index (inside, LfPromptRun, 1)));
  ASSERT_RUNS ("aBREAK b", { "aBREAK b", 1.0 });
  ASSERT_RUNS ("BREAK", { "", 1.0 }, { "BREAK", -1.0 }, { "", 1.0 });
  ASSERT_RUNS ("a\tBREAK\n\nb", { "a", 1.0 }, { "BREAK", -1.0 }, { "b", 1.0 });
}

static void
test_empty_and_errors (void)
{
  g_autoptr (GError) error = NULL;

  ASSERT_RUNS ("", { "", 1.0 });
  ASSERT_RUNS ("()", { "", 1.0 });
  g_assert_null (lf_prompt_parse_attention ("(a:1.2.3)", &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "1.2.3"));
  g_clear_error (&error);
  g_assert_null (lf_prompt_parse_attention ("(a:.)", &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_clear_error (&error);
  g_assert_null (lf_prompt_parse_attention ("(a\xff)", &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
}

static JsonArray *
fixture_cases (JsonParser *parser)
{
  g_autofree char *path = lf_test_data_path ("tokenizer-extra.json");
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_object_get_array_member (
      json_node_get_object (json_parser_get_root (parser)), "emphasis");
}

/* Exact: the weights are products of the same doubles in the same order. */
static void
check_fixture_runs (JsonObject *c)
{
  const char *prompt = json_object_get_string_member (c, "prompt");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) runs = lf_prompt_parse_attention (prompt, &error);
  JsonArray *want;

  if (json_object_has_member (c, "error"))
    {
      g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
      return;
    }
  g_assert_no_error (error);
  want = json_object_get_array_member (c, "runs");
  g_assert_cmpuint (runs->len, ==, json_array_get_length (want));
  for (guint i = 0; i < runs->len; i++)
    {
      JsonArray         *w = json_array_get_array_element (want, i);
      const LfPromptRun *run = &g_array_index (runs, LfPromptRun, i);

      g_assert_cmpstr (run->text, ==, json_array_get_string_element (w, 0));
      g_assert_cmpfloat (run->weight, ==, json_array_get_double_element (w, 1));
    }
}

static void
test_fixture_runs (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *cases = fixture_cases (parser);

  if (cases == NULL)
    return;
  g_assert_cmpuint (json_array_get_length (cases), >=, 100);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    check_fixture_runs (json_array_get_object_element (cases, i));
}

static void
check_fixture_tokens (LfTokenizer *tok, JsonObject *c)
{
  const char *prompt = json_object_get_string_member (c, "prompt");
  g_autoptr (LfPromptTokens) got = NULL;
  JsonArray *ids, *weights, *breaks;

  if (json_object_has_member (c, "error"))
    return;
  got = lf_tokenizer_encode_weighted (tok, prompt, NULL);
  g_assert_nonnull (got);
  ids = json_object_get_array_member (c, "ids");
  weights = json_object_get_array_member (c, "weights");
  breaks = json_object_get_array_member (c, "breaks");
  g_assert_cmpuint (got->ids->len, ==, json_array_get_length (ids));
  g_assert_cmpuint (got->weights->len, ==, got->ids->len);
  for (guint i = 0; i < got->ids->len; i++)
    {
      g_assert_cmpint (g_array_index (got->ids, gint32, i), ==,
                       json_array_get_int_element (ids, i));
      g_assert_cmpfloat (g_array_index (got->weights, gfloat, i), ==,
                         (gfloat)json_array_get_double_element (weights, i));
    }
  g_assert_cmpuint (got->breaks->len, ==, json_array_get_length (breaks));
  for (guint i = 0; i < got->breaks->len; i++)
    g_assert_cmpint (g_array_index (got->breaks, gint64, i), ==,
                     json_array_get_int_element (breaks, i));
}

static void
test_fixture_tokens (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *cases;

  if (dir == NULL || (cases = fixture_cases (parser)) == NULL)
    return;
  tok = lf_tokenizer_new (dir, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    check_fixture_tokens (tok, json_array_get_object_element (cases, i));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/prompt-weights/a1111-examples", test_a1111_examples);
  g_test_add_func ("/prompt-weights/escapes", test_escapes);
  g_test_add_func ("/prompt-weights/unbalanced", test_unbalanced);
  g_test_add_func ("/prompt-weights/break", test_break);
  g_test_add_func ("/prompt-weights/empty-and-errors", test_empty_and_errors);
  g_test_add_func ("/prompt-weights/fixture-runs", test_fixture_runs);
  g_test_add_func ("/prompt-weights/fixture-tokens", test_fixture_tokens);
  return g_test_run ();
}
