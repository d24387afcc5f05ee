/* text-encoder-prompt.c: a prompt → the text conditioning, as diffusers'
 * SD pipelines encode it (taken literally, truncated at 77 tokens), or with
 * AUTOMATIC1111's "Original" emphasis (modules/sd_emphasis.py) and
 * long-prompt chunking (modules/sd_hijack_clip.py tokenize_line).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <math.h>

#include "linfusion.h"

#include "arena.h"
#include "text-encoder.h"
#include "tokenizer-private.h"

#define N_TOKENS        LF_TOKENS_PER_CHUNK /* every sequence is 77 long */
#define CHUNK_CONTENT   (N_TOKENS - 2)      /* BOS + 75 + EOS            */
#define COMMA_BACKTRACK 20 /* A1111 opts.comma_padding_backtrack default */

/* ---- Prompt → conditioning -------------------------------------- */

/* A1111's PromptChunk list being built: finished chunks of 77 ids, each
 * with a weight per id, and the chunk being filled (≤ 75 content ids). */
typedef struct
{
  GArray *ids;     /* gint32, 77 per finished chunk */
  GArray *weights; /* gfloat, 77 per finished chunk */
  GArray *cur_ids; /* gint32, ≤ 75 */
  GArray *cur_w;   /* gfloat, ≤ 75 */
  gint64  last_comma;
  gint32  bos, eos, pad, comma;
} Chunker;

static gboolean
chunker_init (Chunker *ch, LfTokenizer *tok, GError **error)
{
  g_autoptr (GArray) empty = lf_tokenizer_encode_padded (tok, "", error);
  g_autoptr (GArray) comma = g_array_new (FALSE, FALSE, sizeof (gint32));

  if (empty == NULL)
    return FALSE;
  /* encode_padded ("") is BOS, EOS, pad…: the tokenizer's special ids. */
  ch->bos = g_array_index (empty, gint32, 0);
  ch->eos = g_array_index (empty, gint32, 1);
  ch->pad = g_array_index (empty, gint32, 2);
  lf_tokenizer_append_ids (tok, ",", comma);
  ch->comma = comma->len == 1 ? g_array_index (comma, gint32, 0) : -1;
  ch->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  ch->weights = g_array_new (FALSE, FALSE, sizeof (gfloat));
  ch->cur_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  ch->cur_w = g_array_new (FALSE, FALSE, sizeof (gfloat));
  ch->last_comma = -1;
  return TRUE;
}

static void
chunker_clear (Chunker *ch)
{
  g_clear_pointer (&ch->ids, g_array_unref);
  g_clear_pointer (&ch->weights, g_array_unref);
  g_clear_pointer (&ch->cur_ids, g_array_unref);
  g_clear_pointer (&ch->cur_w, g_array_unref);
}

/* next_chunk (): BOS + the first @n pending tokens + EOS, padded with EOS
 * at weight 1.0; then, as process_tokens does for SD-2 tokenizers, every id
 * after the first EOS becomes the pad id. Tokens after @n stay pending. */
static void
chunker_emit (Chunker *ch, guint n)
{
  const guint  start = ch->ids->len;
  const gfloat one = 1.0f;
  gint32      *ids;

  g_array_append_val (ch->ids, ch->bos);
  g_array_append_val (ch->weights, one);
  g_array_append_vals (ch->ids, ch->cur_ids->data, n);
  g_array_append_vals (ch->weights, ch->cur_w->data, n);
  while (ch->ids->len < start + N_TOKENS)
    {
      g_array_append_val (ch->ids, ch->eos);
      g_array_append_val (ch->weights, one);
    }
  ids = &g_array_index (ch->ids, gint32, start);
  for (int i = 1; i < N_TOKENS; i++)
    if (ids[i] == ch->eos)
      {
        for (int j = i + 1; j < N_TOKENS; j++)
          ids[j] = ch->pad;
        break;
      }
  g_array_remove_range (ch->cur_ids, 0, n);
  g_array_remove_range (ch->cur_w, 0, n);
  ch->last_comma = -1;
}

static void
chunker_next (Chunker *ch)
{
  chunker_emit (ch, ch->cur_ids->len);
}

/* One token of tokenize_line's loop, in its order of tests. */
static void
chunker_add (Chunker *ch, gint32 id, gfloat weight)
{
  const gint64 len = ch->cur_ids->len;

  if (id == ch->comma)
    ch->last_comma = len;
  else if (len == CHUNK_CONTENT && ch->last_comma != -1
           && len - ch->last_comma <= COMMA_BACKTRACK)
    /* A full chunk with a comma in its last 20 tokens: what follows the
     * comma moves to the next chunk (opts.comma_padding_backtrack). */
    chunker_emit (ch, (guint)ch->last_comma + 1);
  if (ch->cur_ids->len == CHUNK_CONTENT)
    chunker_next (ch);
  g_array_append_val (ch->cur_ids, id);
  g_array_append_val (ch->cur_w, weight);
}

/* Long prompts: every token, a new chunk at each BREAK. Otherwise the
 * first 75 tokens in one chunk, as diffusers truncates (BREAK ignored). */
static void
chunker_run (Chunker *ch, const LfPromptTokens *t, gboolean long_prompt)
{
  const guint n = long_prompt ? t->ids->len : MIN (t->ids->len, CHUNK_CONTENT);
  const guint n_breaks = long_prompt ? t->breaks->len : 0;
  guint       b = 0;

  for (guint i = 0; i < n; i++)
    {
      for (; b < n_breaks && g_array_index (t->breaks, gint64, b) <= i; b++)
        chunker_next (ch);
      chunker_add (ch, g_array_index (t->ids, gint32, i),
                   g_array_index (t->weights, gfloat, i));
    }
  for (; b < n_breaks; b++)
    chunker_next (ch);
  if (ch->cur_ids->len > 0 || ch->ids->len == 0)
    chunker_next (ch);
}

/* The prompt taken literally but split at BREAK, as A1111's parser splits
 * text (prompt_parser.py re_break), each piece tokenised on its own. */
static LfPromptTokens *
literal_tokens (LfTokenizer *tok, const char *prompt, GError **error)
{
  g_auto (GStrv) pieces = NULL;
  LfPromptTokens *t;
  const gfloat    one = 1.0f;

  if (!lf_tokenizer_check_utf8 (prompt, error))
    return NULL;
  pieces = g_regex_split_simple ("\\s*\\bBREAK\\b\\s*", prompt, 0, 0);
  t = g_new0 (LfPromptTokens, 1);
  t->ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  t->weights = g_array_new (FALSE, FALSE, sizeof (gfloat));
  t->breaks = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (int i = 0; pieces[i] != NULL; i++)
    {
      gint64 at = t->ids->len;

      if (i > 0)
        g_array_append_val (t->breaks, at);
      lf_tokenizer_append_ids (tok, pieces[i], t->ids);
    }
  while (t->weights->len < t->ids->len)
    g_array_append_val (t->weights, one);
  return t;
}

/* The 77-id chunks of @prompt and, with weights or long prompts, a weight
 * per id (NULL without flags: the diffusers path). */
static gboolean
prompt_chunks (LfTokenizer  *tok,
               const char   *prompt,
               LfPromptFlags flags,
               GArray      **ids,
               GArray      **weights,
               GError      **error)
{
  g_autoptr (LfPromptTokens) tokens = NULL;
  Chunker ch;

  *weights = NULL;
  if ((flags & (LF_PROMPT_WEIGHTS | LF_PROMPT_LONG)) == 0)
    {
      *ids = lf_tokenizer_encode_padded (tok, prompt, error);
      return *ids != NULL;
    }
  tokens = (flags & LF_PROMPT_WEIGHTS)
               ? lf_tokenizer_encode_weighted (tok, prompt, error)
               : literal_tokens (tok, prompt, error);
  if (tokens == NULL || !chunker_init (&ch, tok, error))
    return FALSE;
  chunker_run (&ch, tokens, (flags & LF_PROMPT_LONG) != 0);
  *ids = g_steal_pointer (&ch.ids);
  *weights = g_steal_pointer (&ch.weights);
  chunker_clear (&ch);
  return TRUE;
}

/* sd_emphasis.py EmphasisOriginal on one chunk @z (77, D): scale each
 * token's vector by its weight, then restore the chunk's mean. Means are
 * summed in double. */
static void
apply_emphasis (float *z, const gfloat *w, int64_t D)
{
  double before = 0.0, after = 0.0;
  float  ratio;

  for (int64_t i = 0; i < N_TOKENS * D; i++)
    before += z[i];
  for (int64_t t = 0; t < N_TOKENS; t++)
    for (int64_t d = 0; d < D; d++)
      {
        z[t * D + d] *= w[t];
        after += z[t * D + d];
      }
  if (after == 0.0)
    return;
  ratio = (float)(before / after);
  for (int64_t i = 0; i < N_TOKENS * D; i++)
    z[i] *= ratio;
}

float *
lf_text_encoder_encode_prompt (LfTextEncoder *te,
                               LfTokenizer   *tokenizer,
                               const char    *prompt,
                               LfPromptFlags  flags,
                               int            clip_skip,
                               int64_t       *out_tokens,
                               GError       **error)
{
  g_autoptr (GArray) ids = NULL;
  g_autoptr (GArray) weights = NULL;
  g_autoptr (LfArena) arena = NULL;
  g_autofree float *z = NULL;
  int64_t           n_chunks, D;
  size_t            bytes;
  LfTensor          out;

  g_return_val_if_fail (te != NULL && tokenizer != NULL, NULL);
  g_return_val_if_fail (prompt != NULL && out_tokens != NULL, NULL);

  if (!prompt_chunks (tokenizer, prompt, flags, &ids, &weights, error))
    return NULL;
  n_chunks = ids->len / N_TOKENS;
  D = lf_text_encoder_get_hidden_size (te);
  bytes = (size_t)n_chunks * N_TOKENS * D * sizeof (float);
  z = g_try_malloc (bytes);
  if (z == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("Cannot allocate %.1f MiB for the prompt's %" PRId64
                      " token embeddings"),
                   bytes / 1048576.0, n_chunks * N_TOKENS);
      return NULL;
    }
  arena = lf_arena_new (lf_text_encoder_plan (te, n_chunks), error);
  out = lf_tensor_3d (z, LF_DTYPE_F32, n_chunks, N_TOKENS, D);
  /* Chunks are independent sequences: one batch. */
  if (arena == NULL
      || !lf_text_encoder_forward (te, (const int32_t *)ids->data, n_chunks,
                                   clip_skip, arena, NULL, &out, error))
    return NULL;
  for (int64_t c = 0; (flags & LF_PROMPT_WEIGHTS) && c < n_chunks; c++)
    apply_emphasis (z + c * N_TOKENS * D,
                    &g_array_index (weights, gfloat, c * N_TOKENS), D);
  *out_tokens = n_chunks * N_TOKENS;
  return g_steal_pointer (&z);
}
