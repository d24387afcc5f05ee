/* tokenizer-private.h: internals of the CLIP tokenizer shared between
 * tokenizer.c (files, BPE, ids), tokenizer-normalize.c (the text clean-up
 * transformers' CLIPTokenizer does without ftfy) and prompt-weights.c.
 */
#ifndef LF_TOKENIZER_PRIVATE_H
#define LF_TOKENIZER_PRIVATE_H

#include <glib.h>

#include "linfusion.h"

G_BEGIN_DECLS

/* transformers BasicTokenizer(strip_accents=False, do_split_on_punc=False)
 * followed by " ".join: drops NUL, U+FFFD and control characters, maps
 * whitespace to one space, spaces out CJK ideographs, NFC, lower-cases as
 * Python's str.lower and joins the words with single spaces. @text must be
 * valid UTF-8. Returns: (transfer full): never NULL. */
char *lf_tokenizer_normalize (const char *text, gssize len);

/* Checks that @text is UTF-8; otherwise LF_ERROR_INVALID_REQUEST naming the
 * byte offset of the first bad byte. */
gboolean lf_tokenizer_check_utf8 (const char *text, GError **error);

/* Appends the ids of @text (valid UTF-8, no BOS/EOS) to @ids (gint32).
 * Special token literals become their ids, as with transformers' added
 * tokens. The tokenizer's BPE cache is not locked: one thread at a time. */
void
lf_tokenizer_append_ids (LfTokenizer *tokenizer, const char *text, GArray *ids);

G_END_DECLS

#endif /* LF_TOKENIZER_PRIVATE_H */
