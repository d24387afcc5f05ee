/* tokenizer.c: the CLIP byte-level BPE tokenizer, as transformers' slow
 * CLIPTokenizer runs it without ftfy (models/clip/tokenization_clip.py:
 * bytes_to_unicode, bpe, _tokenize; added tokens split first as in
 * tokenization_utils.py PreTrainedTokenizer.tokenize). Loads vocab.json and
 * merges.txt; see docs/reference/components.md §3.2.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "linfusion.h"

#include "tokenizer-private.h"

#define BOS_TEXT "<|startoftext|>"
#define EOS_TEXT "<|endoftext|>"

/* CLIPTokenizer keeps merges.txt lines [1, 49152 - 256 - 2 + 1): the
 * header, then at most this many merges. */
#define MAX_MERGES (49152 - 256 - 2)

/* The BPE cache is a memo; dropping it only costs time. The bound keeps a
 * long-lived tokenizer (or a fuzzer) from growing without limit. */
#define MAX_CACHE 65536

struct _LfTokenizer
{
  GHashTable *vocab; /* symbol → id                                  */
  GHashTable *ranks; /* "first second" → merge rank                  */
  GHashTable *cache; /* byte-mapped word → GArray of gint32 ids       */
  GRegex     *words; /* CLIPTokenizer.pat                            */
  gint32      id_bos;
  gint32      id_eos; /* also the unknown-token id, as upstream        */
  gint32      id_pad;
  char        byte_symbol[256][3]; /* bytes_to_unicode, as UTF-8      */
};

/* A symbol of a word being merged: a span of the byte-mapped word. */
typedef struct
{
  guint32 off;
  guint32 len;
} Span;

/* bytes_to_unicode: printable Latin-1 bytes stand for themselves, the 68
 * others for U+0100 onwards in byte order, so no symbol is whitespace. */
static void
init_byte_symbols (LfTokenizer *tok)
{
  guint n = 0;

  for (guint b = 0; b < 256; b++)
    {
      gboolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC)
                           || (b >= 0xAE && b <= 0xFF);
      gint len
          = g_unichar_to_utf8 (printable ? b : 256 + n++, tok->byte_symbol[b]);

      tok->byte_symbol[b][len] = '\0';
    }
}

static gboolean
read_file (const char *path, char **contents, gsize *length, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (g_file_get_contents (path, contents, length, &local))
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_IO,
               _ ("Cannot load the CLIP tokenizer: %s"), local->message);
  return FALSE;
}

static gboolean
add_vocab_entry (LfTokenizer *tok,
                 const char  *path,
                 const char  *symbol,
                 JsonNode    *node,
                 GError     **error)
{
  gint64 id;

  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || (id = json_node_get_int (node)) < 0 || id > G_MAXINT32)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: the id of “%s” is not an integer in [0, %d]"),
                   path, symbol, G_MAXINT32);
      return FALSE;
    }
  g_hash_table_insert (tok->vocab, g_strdup (symbol),
                       GINT_TO_POINTER ((gint32)id));
  return TRUE;
}

static gboolean
lookup_id (LfTokenizer *tok, const char *symbol, gint32 *id)
{
  gpointer value;

  if (!g_hash_table_lookup_extended (tok->vocab, symbol, NULL, &value))
    return FALSE;
  *id = GPOINTER_TO_INT (value);
  return TRUE;
}

/* vocab.json: one JSON object mapping each symbol to its id. */
static gboolean
load_vocab (LfTokenizer *tok, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize            length = 0;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  JsonObject    *object;
  JsonObjectIter iter;
  const char    *symbol;
  JsonNode      *node;

  if (!read_file (path, &data, &length, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, data, length, &local)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a JSON object of token ids: %s"), path,
                   local ? local->message : _ ("not an object"));
      return FALSE;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &symbol, &node))
    if (!add_vocab_entry (tok, path, symbol, node, error))
      return FALSE;
  if (!lookup_id (tok, BOS_TEXT, &tok->id_bos)
      || !lookup_id (tok, EOS_TEXT, &tok->id_eos))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” lacks the special tokens %s and %s"), path,
                   BOS_TEXT, EOS_TEXT);
      return FALSE;
    }
  tok->id_pad = tok->id_eos;
  return TRUE;
}

/* One merges.txt line, "first second", stored under that key with its
 * rank; a repeated pair keeps its last rank, as Python's dict does. */
static gboolean
add_merge (LfTokenizer *tok,
           const char  *path,
           const char  *line,
           gint         rank,
           GError     **error)
{
  g_auto (GStrv) fields = g_strsplit_set (line, " \t\r", -1);
  const char *pair[2];
  guint       n = 0;

  for (guint i = 0; fields[i] != NULL; i++)
    if (*fields[i] != '\0')
      {
        if (n == 2)
          {
            n = 3;
            break;
          }
        pair[n++] = fields[i];
      }
  if (n != 2)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”, line %d: expected two symbols, found “%s”"), path,
                   rank + 2, line);
      return FALSE;
    }
  g_hash_table_insert (tok->ranks, g_strconcat (pair[0], " ", pair[1], NULL),
                       GINT_TO_POINTER (rank));
  return TRUE;
}

static gboolean
load_merges (LfTokenizer *tok, const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize            length = 0;
  char            *line, *end;

  if (!read_file (path, &data, &length, error))
    return FALSE;
  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not UTF-8 text"), path);
      return FALSE;
    }
  /* Line 0 is the "#version" header, skipped unread as upstream does. Not
   * g_strsplit: it costs a strstr per line over the whole rest. */
  line = g_strstrip (data);
  end = line + strlen (line);
  for (gint index = 0; line != NULL && index <= MAX_MERGES; index++)
    {
      char *next = memchr (line, '\n', end - line);

      if (next != NULL)
        *next++ = '\0';
      if (index > 0 && !add_merge (tok, path, line, index - 1, error))
        return FALSE;
      line = next;
    }
  return TRUE;
}

/* The pad id from special_tokens_map.json ("!" for SD-2.x and SDXL's second
 * tokenizer); without that file or entry, EOS, as CLIPTokenizer's default. */
static gboolean
load_pad (LfTokenizer *tok, const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  JsonNode   *root, *pad;
  const char *text = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!json_parser_load_from_mapped_file (parser, path, &local)
      || !JSON_NODE_HOLDS_OBJECT ((root = json_parser_get_root (parser))))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a JSON object: %s"), path,
                   local ? local->message : _ ("not an object"));
      return FALSE;
    }
  pad = json_object_get_member (json_node_get_object (root), "pad_token");
  if (pad != NULL && JSON_NODE_HOLDS_OBJECT (pad))
    pad = json_object_get_member (json_node_get_object (pad), "content");
  if (pad != NULL && JSON_NODE_HOLDS_VALUE (pad)
      && json_node_get_value_type (pad) == G_TYPE_STRING)
    text = json_node_get_string (pad);
  if (text != NULL && !lookup_id (tok, text, &tok->id_pad))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: the pad token “%s” is not in the vocabulary"),
                   path, text);
      return FALSE;
    }
  return TRUE;
}

static void
seed_cache (LfTokenizer *tok)
{
  /* CLIPTokenizer's cache starts with the special literals, so a regex
   * match of one (say after control characters were dropped from inside
   * it) becomes its id rather than BPE pieces. */
  GArray *bos = g_array_new (FALSE, FALSE, sizeof (gint32));
  GArray *eos = g_array_new (FALSE, FALSE, sizeof (gint32));

  g_array_append_val (bos, tok->id_bos);
  g_array_append_val (eos, tok->id_eos);
  g_hash_table_replace (tok->cache, g_strdup (BOS_TEXT), bos);
  g_hash_table_replace (tok->cache, g_strdup (EOS_TEXT), eos);
}

/* A tokenizer folder, or a pipeline folder's tokenizer/ subfolder. */
static char *
tokenizer_dir (const char *path)
{
  g_autofree char *vocab = g_build_filename (path, "vocab.json", NULL);
  g_autofree char *sub = g_build_filename (path, "tokenizer", NULL);

  if (!g_file_test (vocab, G_FILE_TEST_EXISTS)
      && g_file_test (sub, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&sub);
  return g_strdup (path);
}

LfTokenizer *
lf_tokenizer_new (const char *path, GError **error)
{
  g_autoptr (LfTokenizer) tok = g_new0 (LfTokenizer, 1);
  g_autofree char *dir = NULL, *vocab = NULL, *merges = NULL, *map = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("Cannot load the CLIP tokenizer: “%s” is not a folder"),
                   path);
      return NULL;
    }
  dir = tokenizer_dir (path);
  vocab = g_build_filename (dir, "vocab.json", NULL);
  merges = g_build_filename (dir, "merges.txt", NULL);
  map = g_build_filename (dir, "special_tokens_map.json", NULL);

  tok->vocab = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  tok->ranks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  tok->cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_array_unref);
  /* The regex module's IGNORECASE folds simply, as PCRE2 does ("'ſ" is
   * "'s"); \p{L} and \p{N} are general categories in both. */
  tok->words = g_regex_new ("<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re"
                            "|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]"
                            "|[^\\s\\p{L}\\p{N}]+",
                            G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
  g_assert (tok->words != NULL);
  init_byte_symbols (tok);

  if (!load_vocab (tok, vocab, error) || !load_merges (tok, merges, error)
      || !load_pad (tok, map, error))
    return NULL;
  seed_cache (tok);
  g_debug ("tokenizer %s: %u symbols, %u merges", dir,
           g_hash_table_size (tok->vocab), g_hash_table_size (tok->ranks));
  return g_steal_pointer (&tok);
}

void
lf_tokenizer_free (LfTokenizer *tokenizer)
{
  if (tokenizer == NULL)
    return;
  g_clear_pointer (&tokenizer->vocab, g_hash_table_unref);
  g_clear_pointer (&tokenizer->ranks, g_hash_table_unref);
  g_clear_pointer (&tokenizer->cache, g_hash_table_unref);
  g_clear_pointer (&tokenizer->words, g_regex_unref);
  g_free (tokenizer);
}

static gint
pair_rank (LfTokenizer *tok, const char *word, Span a, Span b, GString *key)
{
  gpointer value;

  g_string_truncate (key, 0);
  g_string_append_len (key, word + a.off, a.len);
  g_string_append_c (key, ' ');
  g_string_append_len (key, word + b.off, b.len);
  if (!g_hash_table_lookup_extended (tok->ranks, key->str, NULL, &value))
    return G_MAXINT;
  return GPOINTER_TO_INT (value);
}

/* One pass of CLIPTokenizer.bpe: merges every occurrence of the best pair,
 * left to right, and carries over the ranks of pairs it did not touch. */
static guint
merge_pass (Span *sym, gint *rank, gboolean *fresh, guint n, gint best)
{
  guint out = 0;

  for (guint i = 0; i < n; out++)
    if (i + 1 < n && rank[i] == best)
      {
        sym[out].off = sym[i].off;
        sym[out].len = sym[i].len + sym[i + 1].len;
        fresh[out] = TRUE;
        i += 2;
      }
    else
      {
        sym[out] = sym[i];
        rank[out] = rank[i];
        fresh[out] = FALSE;
        i++;
      }
  return out;
}

/* Merges the @n spans @sym of @word (byte-mapped, "</w>" appended and
 * part of the last span) in place; returns how many are left. */
static guint
bpe (LfTokenizer *tok, const char *word, Span *sym, guint n)
{
  g_autofree gint     *rank = g_new (gint, n);
  g_autofree gboolean *fresh = g_new (gboolean, n);
  g_autoptr (GString) key = g_string_new (NULL);

  for (guint i = 0; i + 1 < n; i++)
    rank[i] = pair_rank (tok, word, sym[i], sym[i + 1], key);
  while (n > 1)
    {
      gint best = G_MAXINT;

      for (guint i = 0; i + 1 < n; i++)
        best = MIN (best, rank[i]);
      if (best == G_MAXINT)
        break;
      n = merge_pass (sym, rank, fresh, n, best);
      for (guint i = 0; i + 1 < n; i++)
        if (fresh[i] || fresh[i + 1])
          rank[i] = pair_rank (tok, word, sym[i], sym[i + 1], key);
    }
  return n;
}

/* The ids of one regex match, from the cache or by BPE. */
static GArray *
word_ids (LfTokenizer *tok, const char *text, gsize len)
{
  GString         *mapped = g_string_sized_new (2 * len + 5);
  g_autofree Span *sym = g_new (Span, MAX (len, 1));
  GArray          *ids;
  guint            n = 0;

  g_assert (len > 0); /* every alternative of the pattern consumes */
  for (gsize i = 0; i < len; i++)
    {
      const char *s = tok->byte_symbol[(guchar)text[i]];

      sym[n].off = mapped->len;
      sym[n++].len = strlen (s);
      g_string_append (mapped, s);
    }
  ids = g_hash_table_lookup (tok->cache, mapped->str);
  if (ids != NULL)
    {
      g_string_free (mapped, TRUE);
      return ids;
    }
  g_string_append (mapped, "</w>");
  sym[n - 1].len += 4;
  n = bpe (tok, mapped->str, sym, n);
  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *symbol
          = g_strndup (mapped->str + sym[i].off, sym[i].len);
      gint32 id = tok->id_eos;

      lookup_id (tok, symbol, &id);
      g_array_append_val (ids, id);
    }
  if (g_hash_table_size (tok->cache) >= MAX_CACHE)
    {
      g_hash_table_remove_all (tok->cache);
      seed_cache (tok);
    }
  g_string_truncate (mapped, mapped->len - 4);
  g_hash_table_insert (tok->cache, g_string_free (mapped, FALSE), ids);
  return ids;
}

/* CLIPTokenizer._tokenize of a piece without special literals. */
static void
append_piece (LfTokenizer *tok, const char *text, gsize len, GArray *ids)
{
  g_autofree char *norm = lf_tokenizer_normalize (text, len);
  g_autoptr (GMatchInfo) match = NULL;

  g_regex_match (tok->words, norm, 0, &match);
  while (g_match_info_matches (match))
    {
      gint    start, end;
      GArray *word;

      g_match_info_fetch_pos (match, 0, &start, &end);
      word = word_ids (tok, norm + start, end - start);
      g_array_append_vals (ids, word->data, word->len);
      g_match_info_next (match, NULL);
    }
}

void
lf_tokenizer_append_ids (LfTokenizer *tokenizer, const char *text, GArray *ids)
{
  const char *p = text;
  gint32      special;

  /* Added tokens first: the literal specials split the text, and each
   * piece between them is tokenised on its own. */
  while (*p != '\0')
    {
      const char *bos = strstr (p, BOS_TEXT), *eos = strstr (p, EOS_TEXT);
      const char *hit = (bos == NULL || (eos != NULL && eos < bos)) ? eos : bos;
      gsize       piece = hit != NULL ? (gsize)(hit - p) : strlen (p);

      if (piece > 0)
        append_piece (tokenizer, p, piece, ids);
      if (hit == NULL)
        break;
      special = hit == bos ? tokenizer->id_bos : tokenizer->id_eos;
      g_array_append_val (ids, special);
      p = hit + (hit == bos ? strlen (BOS_TEXT) : strlen (EOS_TEXT));
    }
}

gboolean
lf_tokenizer_check_utf8 (const char *text, GError **error)
{
  const char *end = NULL;

  if (g_utf8_validate (text, -1, &end))
    return TRUE;
  g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
               _ ("The prompt is not valid UTF-8: byte 0x%02X at offset %zu "
                  "starts no valid character"),
               (guchar)*end, (gsize)(end - text));
  return FALSE;
}

GArray *
lf_tokenizer_encode (LfTokenizer *tokenizer, const char *text, GError **error)
{
  GArray *ids;

  g_return_val_if_fail (tokenizer != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!lf_tokenizer_check_utf8 (text, error))
    return NULL;
  ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_array_append_val (ids, tokenizer->id_bos);
  lf_tokenizer_append_ids (tokenizer, text, ids);
  g_array_append_val (ids, tokenizer->id_eos);
  return ids;
}

GArray *
lf_tokenizer_encode_padded (LfTokenizer *tokenizer,
                            const char  *text,
                            GError     **error)
{
  GArray *ids = lf_tokenizer_encode (tokenizer, text, error);

  if (ids == NULL)
    return NULL;
  /* truncation=True drops content tokens, then frames them again. */
  if (ids->len > LF_TOKENS_PER_CHUNK)
    {
      g_array_set_size (ids, LF_TOKENS_PER_CHUNK);
      g_array_index (ids, gint32, LF_TOKENS_PER_CHUNK - 1) = tokenizer->id_eos;
    }
  while (ids->len < LF_TOKENS_PER_CHUNK)
    g_array_append_val (ids, tokenizer->id_pad);
  return ids;
}
