/* text-encoder.h: the CLIP text encoder (transformers CLIPTextModel) and
 * the prompt → conditioning path the SD pipelines use: tokenizer, encoder,
 * optional A1111 emphasis weights and long-prompt chunking.
 */
#ifndef LF_TEXT_ENCODER_H
#define LF_TEXT_ENCODER_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"
#include "linfusion.h"

G_BEGIN_DECLS

typedef struct _LfTextEncoder LfTextEncoder;

/* Returns: (transfer full) (nullable): the encoder described by @cfg (a
 * transformers CLIPTextConfig: hidden_size, intermediate_size,
 * num_hidden_layers, num_attention_heads, max_position_embeddings,
 * vocab_size, hidden_act quick_gelu|gelu, layer_norm_eps) with weights from
 * @comp, or NULL with an error naming the key. */
LfTextEncoder *lf_text_encoder_load (const LfComponent *comp,
                                     const LfConfig    *cfg,
                                     LfOps             *ops,
                                     GError           **error);
void           lf_text_encoder_free (LfTextEncoder *te);

int64_t lf_text_encoder_get_hidden_size (const LfTextEncoder *te);
int     lf_text_encoder_get_n_layers (const LfTextEncoder *te);

/* Arena bytes lf_text_encoder_forward needs for @batch sequences. */
size_t lf_text_encoder_plan (const LfTextEncoder *te, int64_t batch);

/**
 * lf_text_encoder_forward:
 * @ids: (B · 77) token ids
 * @clip_skip: 0: the last layer; k ≥ 1: hidden_states[-(k + 1)], as
 *   diffusers' clip_skip (then final_layer_norm in both cases)
 * @hidden: (nullable): (n_layers + 1) tensors (B, 77, D) receiving every
 *   hidden state before the final norm (tests), or NULL
 * @out: (B, 77, D) output, allocated by the caller
 */
gboolean lf_text_encoder_forward (LfTextEncoder *te,
                                  const int32_t *ids,
                                  int64_t        batch,
                                  int            clip_skip,
                                  LfArena       *scratch,
                                  LfTensor      *hidden,
                                  LfTensor      *out,
                                  GError       **error);

typedef enum
{
  LF_PROMPT_WEIGHTS = 1 << 0, /* A1111 emphasis: scale, restore the mean */
  LF_PROMPT_LONG = 1 << 1,    /* > 75 tokens: 77-token chunks, concatenated */
} LfPromptFlags;

/**
 * lf_text_encoder_encode_prompt:
 *
 * The conditioning for one prompt. Without flags as diffusers: the prompt
 * taken literally and truncated to 77 tokens. With LF_PROMPT_WEIGHTS the
 * emphasis syntax is parsed and applied to the embeddings
 * (z · w, then z · mean_before / mean_after); with LF_PROMPT_LONG the
 * tokens are cut into chunks of 75 (BREAK starts a new one), each encoded
 * as BOS + 75 + EOS (padded) and concatenated, so the context has
 * 77 · n_chunks tokens.
 *
 * Returns: (transfer full) (nullable): a (1, 77 · n_chunks, D) f32 buffer
 *   (g_free) with its shape in @out_shape, or NULL with an error.
 */
float *lf_text_encoder_encode_prompt (LfTextEncoder *te,
                                      LfTokenizer   *tokenizer,
                                      const char    *prompt,
                                      LfPromptFlags  flags,
                                      int            clip_skip,
                                      int64_t       *out_tokens,
                                      GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfTextEncoder, lf_text_encoder_free)

G_END_DECLS

#endif /* LF_TEXT_ENCODER_H */
