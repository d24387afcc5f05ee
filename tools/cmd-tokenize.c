/* cmd-tokenize.c: `linfusion tokenize`, the CLIP token ids of a text as
 * transformers' CLIPTokenizer gives them (BOS … EOS, untruncated), the 77
 * ids the text encoder gets (--padded), or the A1111 emphasis (--weights).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "linfusion.h"

#include "commands.h"

typedef struct
{
  char    *model;
  gboolean padded;
  gboolean weights;
} TokenizeOptions;

static gboolean
parse_options (int *argc, char ***argv, TokenizeOptions *opts, GError **error)
{
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &opts->model,
      "A tokenizer folder or a diffusers pipeline folder", "PATH" },
    { "padded", 0, 0, G_OPTION_ARG_NONE, &opts->padded,
      "Print the 77 ids the text encoder gets (truncated, padded)", NULL },
    { "weights", 0, 0, G_OPTION_ARG_NONE, &opts->weights,
      "Parse A1111 emphasis and print id:weight pairs (no BOS/EOS)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("[--] TEXT");

  g_option_context_set_summary (
      context, "Print the CLIP token ids of TEXT on one line.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  /* GOption keeps a "--" that comes before the text. */
  if (*argc == 3 && strcmp ((*argv)[1], "--") == 0)
    {
      (*argv)[1] = (*argv)[2];
      *argc = 2;
    }
  if (opts->model == NULL || *argc != 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "usage: linfusion tokenize --model PATH [--padded | "
                   "--weights] [--] TEXT");
      return FALSE;
    }
  if (opts->padded && opts->weights)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--padded and --weights exclude each other");
      return FALSE;
    }
  return TRUE;
}

static gboolean
print_ids (LfTokenizer *tokenizer,
           const char  *text,
           gboolean     padded,
           GError     **error)
{
  g_autoptr (GArray) ids
      = padded ? lf_tokenizer_encode_padded (tokenizer, text, error)
               : lf_tokenizer_encode (tokenizer, text, error);
  g_autoptr (GString) line = g_string_new (NULL);

  if (ids == NULL)
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (line, "%s%d", i > 0 ? " " : "",
                            g_array_index (ids, gint32, i));
  printf ("%s\n", line->str);
  return TRUE;
}

/* "id:weight" pairs, with the word BREAK where the prompt forces a chunk. */
static gboolean
print_weights (LfTokenizer *tokenizer, const char *text, GError **error)
{
  g_autoptr (LfPromptTokens) tokens = NULL;
  g_autoptr (GString) line = g_string_new (NULL);
  guint b = 0;

  tokens = lf_tokenizer_encode_weighted (tokenizer, text, error);
  if (tokens == NULL)
    return FALSE;
  for (guint i = 0; i <= tokens->ids->len; i++)
    {
      for (; b < tokens->breaks->len
             && g_array_index (tokens->breaks, gint64, b) == (gint64)i;
           b++)
        g_string_append_printf (line, "%sBREAK", line->len > 0 ? " " : "");
      if (i < tokens->ids->len)
        g_string_append_printf (
            line, "%s%d:%g", line->len > 0 ? " " : "",
            g_array_index (tokens->ids, gint32, i),
            (double)g_array_index (tokens->weights, gfloat, i));
    }
  printf ("%s\n", line->str);
  return TRUE;
}

int
lf_cmd_tokenize (int argc, char **argv)
{
  TokenizeOptions opts = { NULL, FALSE, FALSE };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tokenizer = NULL;
  g_autofree char *model = NULL;
  gboolean         ok;

  ok = parse_options (&argc, &argv, &opts, &error);
  model = opts.model;
  if (!ok)
    return lf_cmd_fail ("tokenize", error);
  tokenizer = lf_tokenizer_new (model, &error);
  if (tokenizer == NULL)
    return lf_cmd_fail ("tokenize", error);
  ok = opts.weights ? print_weights (tokenizer, argv[1], &error)
                    : print_ids (tokenizer, argv[1], opts.padded, &error);
  if (!ok)
    return lf_cmd_fail ("tokenize", error);
  return 0;
}
