/* test-tokenizer.c: the CLIP tokenizer piece by piece: BPE merge order on a
 * small hand-made vocabulary, the BasicTokenizer clean-up (transformers
 * without ftfy), special literals, framing and padding, and every load
 * error. Behaviour on real prompts is tests/conformance/test-tokenizer-ids.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "tokenizer-private.h"

/* ids: byte symbols 0–9 and </w> forms 10–19, merges 20–24, specials. */
static const char tiny_vocab[]
    = "{\"a\":0,\"b\":1,\"c\":2,\"x\":3,\"y\":4,\"!\":5,\"'\":6,\"s\":7,"
      "\"a</w>\":10,\"b</w>\":11,\"c</w>\":12,\"x</w>\":13,\"y</w>\":14,"
      "\"!</w>\":15,\"s</w>\":17,"
      "\"bc</w>\":20,\"ab\":21,\"abc</w>\":22,\"aa\":23,\"'s</w>\":24,"
      "\"<|startoftext|>\":100,\"<|endoftext|>\":101}";

/* Rank 0 is "b c</w>", so "abc" must become a + bc</w>, never abc</w>. */
static const char tiny_merges[]
    = "#version: 0.2\nb c</w>\na b\nab c</w>\na a\n' s</w>\n";

static void
put (const char *dir, const char *name, const char *contents)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static char *
tiny_dir_new (const char *vocab, const char *merges, const char *map)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("lf-tokenizer-XXXXXX", &error);

  g_assert_no_error (error);
  if (vocab != NULL)
    put (dir, "vocab.json", vocab);
  if (merges != NULL)
    put (dir, "merges.txt", merges);
  if (map != NULL)
    put (dir, "special_tokens_map.json", map);
  return dir;
}

static void
tiny_dir_free (char *dir)
{
  const char *names[]
      = { "vocab.json", "merges.txt", "special_tokens_map.json" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
  g_free (dir);
}

static void
assert_ids (GArray *ids, const gint32 *expected, guint n)
{
  g_assert_nonnull (ids);
  g_assert_cmpmem (ids->data, ids->len * sizeof (gint32), expected,
                   n * sizeof (gint32));
}

static LfTokenizer *
tiny_tokenizer (char **dir)
{
  g_autoptr (GError) error = NULL;
  LfTokenizer *tok;

  *dir = tiny_dir_new (tiny_vocab, tiny_merges, NULL);
  tok = lf_tokenizer_new (*dir, &error);
  g_assert_no_error (error);
  return tok;
}

static void
test_bpe_merge_order (void)
{
  char *dir;
  g_autoptr (LfTokenizer) tok = tiny_tokenizer (&dir);
  const gint32 abc[] = { 100, 0, 20, 101 };
  const gint32 aaaa[] = { 100, 23, 0, 10, 101 };
  const gint32 aaa[] = { 100, 23, 10, 101 };

  for (int round = 0; round < 2; round++) /* the second comes from cache */
    {
      g_autoptr (GArray) a = lf_tokenizer_encode (tok, "abc", NULL);
      g_autoptr (GArray) b = lf_tokenizer_encode (tok, "aaa", NULL);
      g_autoptr (GArray) c = lf_tokenizer_encode (tok, "aaaa", NULL);

      assert_ids (a, abc, G_N_ELEMENTS (abc));
      /* Left to right, non-overlapping: aa + a</w>, not a + aa; "a a</w>"
       * is no merge, so aaaa stops at aa + a + a</w>. */
      assert_ids (b, aaa, G_N_ELEMENTS (aaa));
      assert_ids (c, aaaa, G_N_ELEMENTS (aaaa));
    }
  tiny_dir_free (dir);
}

static void
test_words_and_specials (void)
{
  char *dir;
  g_autoptr (LfTokenizer) tok = tiny_tokenizer (&dir);
  /* "x's!!" is x + 's + "!!" (a punctuation run; "!!" has no merge, and
   * an unknown symbol becomes the unknown id, EOS); digits split. */
  const gint32 words[] = { 100, 13, 24, 5, 15, 101 };
  const gint32 specials[] = { 100, 13, 101, 14, 100, 100, 101 };
  const gint32 unknown[] = { 100, 101, 101, 101 };
  g_autoptr (GArray) a = lf_tokenizer_encode (tok, "X'S!!", NULL);
  g_autoptr (GArray) b = lf_tokenizer_encode (
      tok, "x<|endoftext|>Y<|startoftext|><|startoftext|>", NULL);
  g_autoptr (GArray) c = lf_tokenizer_encode (tok, "7 8", NULL);

  assert_ids (a, words, G_N_ELEMENTS (words));
  assert_ids (b, specials, G_N_ELEMENTS (specials));
  assert_ids (c, unknown, G_N_ELEMENTS (unknown));
  tiny_dir_free (dir);
}

static void
test_padded (void)
{
  char *dir = tiny_dir_new (tiny_vocab, tiny_merges,
                            "{\"pad_token\":{\"content\":\"!\"}}");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = lf_tokenizer_new (dir, &error);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GArray) shrt = NULL;
  g_autoptr (GArray) lng = NULL;

  g_assert_no_error (error);
  for (int i = 0; i < 100; i++)
    g_string_append (text, i % 2 ? "x " : "y ");
  shrt = lf_tokenizer_encode_padded (tok, "abc", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (shrt->len, ==, LF_TOKENS_PER_CHUNK);
  g_assert_cmpint (g_array_index (shrt, gint32, 2), ==, 20);
  g_assert_cmpint (g_array_index (shrt, gint32, 3), ==, 101);
  for (guint i = 4; i < shrt->len; i++)
    g_assert_cmpint (g_array_index (shrt, gint32, i), ==, 5);

  lng = lf_tokenizer_encode_padded (tok, text->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lng->len, ==, LF_TOKENS_PER_CHUNK);
  g_assert_cmpint (g_array_index (lng, gint32, 0), ==, 100);
  g_assert_cmpint (g_array_index (lng, gint32, 75), ==, 14); /* word 74 */
  g_assert_cmpint (g_array_index (lng, gint32, 76), ==, 101);
  tiny_dir_free (dir);
}

static void
assert_normalized (const char *text, const char *expected)
{
  g_autofree char *got = lf_tokenizer_normalize (text, -1);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_normalize (void)
{
  assert_normalized ("", "");
  assert_normalized (" \t\r\n ", "");
  assert_normalized ("  Multiple   SPACES\tand\nnewlines,  ",
                     "multiple spaces and newlines,");
  /* Control and format characters, U+FFFD and private use vanish. */
  assert_normalized ("a\x01"
                     "b\xe2\x80\x8d"
                     "c\xef\xbf\xbd"
                     "d\xee\x80\x80",
                     "abcd");
  /* NBSP, ideographic space, line and paragraph separators split. */
  assert_normalized ("a\xc2\xa0"
                     "b\xe3\x80\x80"
                     "c\xe2\x80\xa8"
                     "d\xe2\x80\xa9"
                     "e",
                     "a b c d e");
  /* CJK ideographs are spaced out, kana are not. */
  assert_normalized ("東京タワー", "東 京 タワー");
  assert_normalized ("x\xf0\xaa\x9c\x80y", "x \xf0\xaa\x9c\x80 y");
  /* NFC: e + combining acute is é. */
  assert_normalized ("Re\xcc\x81sume\xcc\x81", "résumé");
  /* Python's str.lower: İ is i + combining dot, Σ is final only after a
   * cased letter and before none; Roman numerals and circled letters. */
  assert_normalized ("İ", "i\xcc\x87");
  assert_normalized ("ΟΔΥΣΣΕΥΣ Σ ΑΣ. ΑΣ'Β ΑΣ1", "οδυσσευς σ ας. ασ'β ας1");
  assert_normalized ("ⅫⒶ ǅ ẞ", "ⅻⓐ ǆ ß");
}

static void
test_invalid_utf8 (void)
{
  char *dir;
  g_autoptr (LfTokenizer) tok = tiny_tokenizer (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = lf_tokenizer_encode (tok,
                                                "ab\xff"
                                                "cd",
                                                &error);
  g_autoptr (LfPromptTokens) weighted = NULL;

  g_assert_null (ids);
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "offset 2"));
  g_assert_nonnull (strstr (error->message, "0xFF"));
  g_clear_error (&error);
  weighted = lf_tokenizer_encode_weighted (tok, "(a)\xc3", &error);
  g_assert_null (weighted);
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "offset 3"));
  g_clear_error (&error);
  g_assert_null (lf_tokenizer_encode_padded (tok, "\xed\xa0\x80", &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  tiny_dir_free (dir);
}

/* Loading @vocab/@merges fails with @code and a message naming @needle. */
static void
assert_load_fails (const char *vocab,
                   const char *merges,
                   const char *map,
                   int         code,
                   const char *needle)
{
  char *dir = tiny_dir_new (vocab, merges, map);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = lf_tokenizer_new (dir, &error);

  g_assert_null (tok);
  g_assert_error (error, LF_ERROR, code);
  g_assert_nonnull (strstr (error->message, needle));
  tiny_dir_free (dir);
}

static void
test_load_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) none = lf_tokenizer_new ("/nonexistent/tok", &error);

  g_assert_null (none);
  g_assert_error (error, LF_ERROR, LF_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/tok"));

  assert_load_fails (NULL, tiny_merges, NULL, LF_ERROR_IO, "vocab.json");
  assert_load_fails (tiny_vocab, NULL, NULL, LF_ERROR_IO, "merges.txt");
  assert_load_fails ("{\"a\":", tiny_merges, NULL, LF_ERROR_FORMAT,
                     "vocab.json");
  assert_load_fails ("[1,2]", tiny_merges, NULL, LF_ERROR_FORMAT, "vocab.json");
  assert_load_fails ("{\"a\":\"one\"}", tiny_merges, NULL, LF_ERROR_FORMAT,
                     "“a”");
  assert_load_fails ("{\"a\":-4}", tiny_merges, NULL, LF_ERROR_FORMAT,
                     "vocab.json");
  assert_load_fails ("{\"a\":1}", tiny_merges, NULL, LF_ERROR_FORMAT,
                     "<|endoftext|>");
  assert_load_fails (tiny_vocab, "#version\na b\na b c\n", NULL,
                     LF_ERROR_FORMAT, "line 3");
  assert_load_fails (tiny_vocab, "#version\na \xff\n", NULL, LF_ERROR_FORMAT,
                     "merges.txt");
  assert_load_fails (tiny_vocab, tiny_merges, "{\"pad_token\":\"zz\"}",
                     LF_ERROR_FORMAT, "zz");
  assert_load_fails (tiny_vocab, tiny_merges, "not json", LF_ERROR_FORMAT,
                     "special_tokens_map.json");
}

/* A pipeline folder resolves to its tokenizer/ subfolder. */
static void
test_pipeline_folder (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pipe = g_dir_make_tmp ("lf-pipeline-XXXXXX", &error);
  g_autofree char *sub = g_build_filename (pipe, "tokenizer", NULL);
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (GArray) ids = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  put (sub, "vocab.json", tiny_vocab);
  put (sub, "merges.txt", tiny_merges);
  tok = lf_tokenizer_new (pipe, &error);
  g_assert_no_error (error);
  ids = lf_tokenizer_encode (tok, "", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpint (g_array_index (ids, gint32, 0), ==, 100);
  g_assert_cmpint (g_array_index (ids, gint32, 1), ==, 101);
  tiny_dir_free (g_steal_pointer (&sub));
  g_rmdir (pipe);
}

/* The real vocabulary: equivalences the clean-up implies, and load time
 * (the plug-in loads the tokenizer on every run). */
static void
test_real_vocabulary (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  const char      *same[][2] = {
         { "A  Photo", "a photo" },
         { "x\x01y", "xy" },
         { "東京", " 東 京 " },
         { "cafe\xcc\x81", "café" },
         { "it's", "it 's" },
         { "8k", "8 k" },
         { "<|endoftext|>", "<|ENDOFTEXT|>" },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GTimer) timer = g_timer_new ();
  g_autoptr (LfTokenizer) tok = NULL;
  double seconds;

  if (dir == NULL)
    return;
  tok = lf_tokenizer_new (dir, &error);
  seconds = g_timer_elapsed (timer, NULL);
  g_assert_no_error (error);
  g_test_message ("tokenizer loaded in %.3f s", seconds);
  g_assert_cmpfloat (seconds, <, 3.0);
  for (gsize i = 0; i < G_N_ELEMENTS (same); i++)
    {
      g_autoptr (GArray) a = lf_tokenizer_encode (tok, same[i][0], NULL);
      g_autoptr (GArray) b = lf_tokenizer_encode (tok, same[i][1], NULL);

      assert_ids (a, (const gint32 *)b->data, b->len);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tokenizer/bpe-merge-order", test_bpe_merge_order);
  g_test_add_func ("/tokenizer/words-and-specials", test_words_and_specials);
  g_test_add_func ("/tokenizer/padded", test_padded);
  g_test_add_func ("/tokenizer/normalize", test_normalize);
  g_test_add_func ("/tokenizer/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/tokenizer/load-errors", test_load_errors);
  g_test_add_func ("/tokenizer/pipeline-folder", test_pipeline_folder);
  g_test_add_func ("/tokenizer/real-vocabulary", test_real_vocabulary);
  return g_test_run ();
}
