/* prompt-weights.c: A1111 prompt emphasis. Mirrors AUTOMATIC1111/stable-
 * diffusion-webui modules/prompt_parser.py (re_attention, re_break,
 * parse_prompt_attention) and the per-run tokenisation of
 * modules/sd_hijack_clip.py tokenize_line; components.md §3.3.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "prompt-weights.h"
#include "tokenizer-private.h"

/* Python's Unicode \s (str.isspace) and \w ([\p{L}\p{N}_]) spelled out, so
 * the patterns do not depend on PCRE2's UCP tables for these. */
#define PY_SPACE                                                               \
  "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"          \
  "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
#define PY_WORD "[\\p{L}\\p{N}_]"

/* clang-format off */
/* re_attention: escapes, brackets, ":weight)", plain text, a lone colon. */
static const char attention_pattern[] =
  "\\\\\\(|\\\\\\)|\\\\\\[|\\\\]|\\\\\\\\|\\\\|\\(|\\[|"
  ":" PY_SPACE "*([+-]?[.\\p{Nd}]+)" PY_SPACE "*\\)|"
  "\\)|]|[^\\\\()\\[\\]:]+|:";

/* re_break: \s*\bBREAK\b\s* */
static const char break_pattern[] =
  PY_SPACE "*(?<!" PY_WORD ")BREAK(?!" PY_WORD ")" PY_SPACE "*";
/* clang-format on */

#define ROUND_MULTIPLIER  1.1
#define SQUARE_MULTIPLIER (1.0 / 1.1)

typedef struct
{
  GRegex *attention;
  GRegex *breaks;
} Patterns;

static const Patterns *
get_patterns (void)
{
  static Patterns patterns;
  static gsize    done = 0;

  if (g_once_init_enter (&done))
    {
      patterns.attention
          = g_regex_new (attention_pattern, G_REGEX_OPTIMIZE, 0, NULL);
      patterns.breaks = g_regex_new (break_pattern, G_REGEX_OPTIMIZE, 0, NULL);
      g_assert (patterns.attention != NULL && patterns.breaks != NULL);
      g_once_init_leave (&done, 1);
    }
  return &patterns;
}

static void
clear_run (gpointer data)
{
  g_free (((LfPromptRun *)data)->text);
}

static GArray *
runs_new (void)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (LfPromptRun));

  g_array_set_clear_func (runs, clear_run);
  return runs;
}

static void
append_run (GArray *runs, const char *text, gsize len, double weight)
{
  LfPromptRun run = { g_strndup (text, len), weight };

  g_array_append_val (runs, run);
}

/* Plain text, split at each BREAK (re.split (re_break, text)). */
static void
append_text (GArray *runs, const char *text, gsize len)
{
  g_autoptr (GMatchInfo) match = NULL;
  gint prev = 0;

  g_regex_match_full (get_patterns ()->breaks, text, len, 0, 0, &match, NULL);
  while (g_match_info_matches (match))
    {
      gint start, end;

      g_match_info_fetch_pos (match, 0, &start, &end);
      append_run (runs, text + prev, start - prev, 1.0);
      append_run (runs, "BREAK", 5, -1.0);
      prev = end;
      g_match_info_next (match, NULL);
    }
  append_run (runs, text + prev, len - prev, 1.0);
}

static void
multiply_range (GArray *runs, guint start, double multiplier)
{
  for (guint p = start; p < runs->len; p++)
    g_array_index (runs, LfPromptRun, p).weight *= multiplier;
}

static guint
pop (GArray *stack)
{
  guint top = g_array_index (stack, guint, stack->len - 1);

  g_array_set_size (stack, stack->len - 1);
  return top;
}

/* Python's float () of what [+-]?[.\d]+ matched: \d is any Unicode decimal
 * digit; more than one dot, or no digit, is a ValueError upstream. */
static gboolean
parse_weight (const char *text, gsize len, double *weight, GError **error)
{
  g_autoptr (GString) ascii = g_string_new (NULL);
  guint    digits = 0, dots = 0;
  gboolean bad = FALSE;

  for (const char *p = text; p < text + len; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      gint digit = g_unichar_digit_value (c);

      if (c == '+' || c == '-' || c == '.')
        dots += c == '.';
      else if (digit >= 0)
        digits++;
      else
        bad = TRUE; /* a digit to PCRE2's tables, not to GLib's */
      g_string_append_c (ascii, digit >= 0 ? (char)('0' + digit) : (char)c);
    }
  if (bad || digits == 0 || dots > 1)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("The emphasis weight “%.*s” in the prompt is not a "
                      "number"),
                   (int)len, text);
      return FALSE;
    }
  *weight = g_ascii_strtod (ascii->str, NULL);
  return TRUE;
}

/* One re_attention match, as the body of upstream's loop. */
static gboolean
parse_token (GArray     *runs,
             GArray     *round,
             GArray     *square,
             GMatchInfo *match,
             const char *prompt,
             GError    **error)
{
  gint        start, end, w_start = -1, w_end = -1;
  const char *text;
  gsize       len;
  double      weight;

  g_match_info_fetch_pos (match, 0, &start, &end);
  g_match_info_fetch_pos (match, 1, &w_start, &w_end);
  text = prompt + start;
  len = end - start;

  if (text[0] == '\\')
    append_run (runs, text + 1, len - 1, 1.0);
  else if (len == 1 && (text[0] == '(' || text[0] == '['))
    g_array_append_val (text[0] == '(' ? round : square, runs->len);
  else if (w_start >= 0 && round->len > 0)
    {
      if (!parse_weight (prompt + w_start, w_end - w_start, &weight, error))
        return FALSE;
      multiply_range (runs, pop (round), weight);
    }
  else if (len == 1 && text[0] == ')' && round->len > 0)
    multiply_range (runs, pop (round), ROUND_MULTIPLIER);
  else if (len == 1 && text[0] == ']' && square->len > 0)
    multiply_range (runs, pop (square), SQUARE_MULTIPLIER);
  else
    append_text (runs, text, len);
  return TRUE;
}

/* Adjacent runs of equal weight become one (their texts joined, which
 * changes how they tokenise: "(a)(b)" is the word "ab"). */
static GArray *
merge_runs (GArray *runs)
{
  GArray  *merged = runs_new ();
  GString *text = NULL;
  double   weight = 0.0;

  for (guint i = 0; i <= runs->len; i++)
    {
      const LfPromptRun *run
          = i < runs->len ? &g_array_index (runs, LfPromptRun, i) : NULL;

      if (text != NULL && run != NULL && run->weight == weight)
        {
          g_string_append (text, run->text);
          continue;
        }
      if (text != NULL)
        {
          LfPromptRun done = { g_string_free (text, FALSE), weight };

          g_array_append_val (merged, done);
        }
      if (run != NULL)
        {
          text = g_string_new (run->text);
          weight = run->weight;
        }
    }
  return merged;
}

GArray *
lf_prompt_parse_attention (const char *prompt, GError **error)
{
  g_autoptr (GArray) runs = NULL;
  g_autoptr (GArray) round = NULL;
  g_autoptr (GArray) square = NULL;
  g_autoptr (GMatchInfo) match = NULL;

  g_return_val_if_fail (prompt != NULL, NULL);

  if (!lf_tokenizer_check_utf8 (prompt, error))
    return NULL;
  runs = runs_new ();
  round = g_array_new (FALSE, FALSE, sizeof (guint));
  square = g_array_new (FALSE, FALSE, sizeof (guint));

  g_regex_match (get_patterns ()->attention, prompt, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    if (!parse_token (runs, round, square, match, prompt, error))
      return NULL;

  /* Unclosed brackets act as if closed at the end, round ones first. */
  for (guint i = 0; i < round->len; i++)
    multiply_range (runs, g_array_index (round, guint, i), ROUND_MULTIPLIER);
  for (guint i = 0; i < square->len; i++)
    multiply_range (runs, g_array_index (square, guint, i), SQUARE_MULTIPLIER);
  if (runs->len == 0)
    append_run (runs, "", 0, 1.0);
  return merge_runs (runs);
}

gboolean
lf_prompt_run_is_break (const LfPromptRun *run)
{
  return run->weight == -1.0 && strcmp (run->text, "BREAK") == 0;
}

LfPromptTokens *
lf_tokenizer_encode_weighted (LfTokenizer *tokenizer,
                              const char  *prompt,
                              GError     **error)
{
  g_autoptr (GArray) runs = NULL;
  LfPromptTokens *tokens;

  g_return_val_if_fail (tokenizer != NULL, NULL);
  g_return_val_if_fail (prompt != NULL, NULL);

  runs = lf_prompt_parse_attention (prompt, error);
  if (runs == NULL)
    return NULL;
  tokens = g_new0 (LfPromptTokens, 1);
  tokens->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  tokens->weights = g_array_new (FALSE, FALSE, sizeof (gfloat));
  tokens->breaks = g_array_new (FALSE, FALSE, sizeof (gint64));

  /* Each run is tokenised on its own, without BOS/EOS, and every token
   * takes the run's weight (sd_hijack_clip.py tokenize_line). */
  for (guint i = 0; i < runs->len; i++)
    {
      const LfPromptRun *run = &g_array_index (runs, LfPromptRun, i);
      const guint        from = tokens->ids->len;
      const gfloat       weight = (gfloat)run->weight;

      if (lf_prompt_run_is_break (run))
        {
          gint64 at = tokens->ids->len;

          g_array_append_val (tokens->breaks, at);
          continue;
        }
      lf_tokenizer_append_ids (tokenizer, run->text, tokens->ids);
      for (guint k = from; k < tokens->ids->len; k++)
        g_array_append_val (tokens->weights, weight);
    }
  return tokens;
}

void
lf_prompt_tokens_free (LfPromptTokens *tokens)
{
  if (tokens == NULL)
    return;
  g_clear_pointer (&tokens->ids, g_array_unref);
  g_clear_pointer (&tokens->weights, g_array_unref);
  g_clear_pointer (&tokens->breaks, g_array_unref);
  g_free (tokens);
}
