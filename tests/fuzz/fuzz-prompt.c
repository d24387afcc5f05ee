/* fuzz-prompt.c: arbitrary bytes into the A1111 emphasis parser and, when
 * the CLIP fixture tokenizer is found (LF_CONFORMANCE_DIR, else
 * ../shared/conformance from the working folder or the source tree), into
 * every tokenizer entry point. Invalid UTF-8 must come back as an error.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linfusion.h"

#include "prompt-weights.h"

#define SET "sd15-tiny-seed0"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LfTokenizer *
try_load (const char *root)
{
  g_autofree char *dir = NULL;

  if (root == NULL || *root == '\0')
    return NULL;
  dir = g_build_filename (root, SET, NULL);
  return g_file_test (dir, G_FILE_TEST_IS_DIR) ? lf_tokenizer_new (dir, NULL)
                                               : NULL;
}

/* Loaded once; NULL when no fixture is around (the parser is still
 * fuzzed). */
static LfTokenizer *
get_tokenizer (void)
{
  static LfTokenizer *tok;
  static gboolean     tried;

  if (!tried)
    {
      tried = TRUE;
      tok = try_load (g_getenv ("LF_CONFORMANCE_DIR"));
      if (tok == NULL)
        tok = try_load ("../shared/conformance");
      if (tok == NULL)
        tok = try_load (LF_FUZZ_CONFORMANCE_DIR);
    }
  return tok;
}

static void
fuzz_parser (const char *text, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) runs = lf_prompt_parse_attention (text, &error);

  if ((runs == NULL) == (error == NULL) || (!valid && runs != NULL))
    abort ();
  for (guint i = 0; runs != NULL && i < runs->len; i++)
    if (g_array_index (runs, LfPromptRun, i).text == NULL)
      abort ();
}

static void
fuzz_tokenizer (LfTokenizer *tok, const char *text, gboolean valid)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = lf_tokenizer_encode (tok, text, &error);
  g_autoptr (GArray) padded = lf_tokenizer_encode_padded (tok, text, NULL);
  g_autoptr (LfPromptTokens) weighted = NULL;

  if (valid != (ids != NULL) || valid != (error == NULL))
    abort ();
  if (ids == NULL)
    return;
  if (ids->len < 2 || padded == NULL || padded->len != LF_TOKENS_PER_CHUNK
      || g_array_index (ids, gint32, 0) != LF_TOKEN_BOS
      || g_array_index (padded, gint32, 0) != LF_TOKEN_BOS)
    abort ();
  weighted = lf_tokenizer_encode_weighted (tok, text, NULL);
  if (weighted != NULL && weighted->ids->len != weighted->weights->len)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* The API takes C strings: the text ends at the first NUL. */
  g_autofree char *text = g_strndup ((const char *)data, size);
  const gboolean   valid = g_utf8_validate (text, -1, NULL);
  LfTokenizer     *tok = get_tokenizer ();

  fuzz_parser (text, valid);
  if (tok != NULL)
    fuzz_tokenizer (tok, text, valid);
  return 0;
}
