/* prompt-weights.h: the A1111 emphasis parser on its own, text in, weighted
 * runs out (AUTOMATIC1111/stable-diffusion-webui modules/prompt_parser.py
 * parse_prompt_attention), so tests and fuzzers need no tokenizer.
 */
#ifndef LF_PROMPT_WEIGHTS_H
#define LF_PROMPT_WEIGHTS_H

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char  *text;   /* owned; may be empty                                 */
  double weight; /* the product of the enclosing multipliers; -1: BREAK */
} LfPromptRun;

/**
 * lf_prompt_parse_attention:
 * @prompt: UTF-8 text with emphasis syntax
 *
 * Splits @prompt into runs of equal weight, adjacent equal weights merged,
 * as upstream does: BREAK is a run of its own with text "BREAK" and weight
 * -1, and an empty prompt is one empty run of weight 1.
 *
 * Returns: (transfer full) (nullable): a #GArray of #LfPromptRun that frees
 *   the texts with itself, or %NULL with LF_ERROR_INVALID_REQUEST for text
 *   that is not UTF-8 or a weight that is not a number (“(a:1.2.3)”).
 */
GArray *lf_prompt_parse_attention (const char *prompt, GError **error);

/* Whether @run is a BREAK, by upstream's test (text and weight -1). */
gboolean lf_prompt_run_is_break (const LfPromptRun *run);

G_END_DECLS

#endif /* LF_PROMPT_WEIGHTS_H */
