/* linfusion.h: the public API of liblinfusion, the engine behind the
 * gimp-linfusion plug-in and the linfusion CLI. The only engine header that
 * plugin/, ui/ and tools/ include; it names no GIMP, GTK, CUDA or BLAS type.
 * Every function that can fail on files, user input, memory or a device
 * takes a GError last and returns FALSE/NULL exactly when it sets it.
 */
#ifndef LINFUSION_H
#define LINFUSION_H

#include <gio/gio.h>
#include <stdint.h>

G_BEGIN_DECLS

#define LF_VERSION_MAJOR 0
#define LF_VERSION_MINOR 1
#define LF_VERSION_MICRO 0

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

#define LF_ERROR (lf_error_quark ())
GQuark lf_error_quark (void);

typedef enum
{
  LF_ERROR_IO,              /* a file could not be read or written        */
  LF_ERROR_FORMAT,          /* a bad or mismatched model or config file   */
  LF_ERROR_INVALID_REQUEST, /* a parameter or prompt the engine refuses   */
  LF_ERROR_UNSUPPORTED,     /* a valid file or request we cannot run      */
  LF_ERROR_OUT_OF_MEMORY,   /* an allocation failed; the message has size */
  LF_ERROR_BACKEND,         /* a compute backend failed                   */
} LfError;

/* ------------------------------------------------------------------ */
/* Tokenizer (CLIP BPE, as transformers' CLIPTokenizer without ftfy)   */
/* ------------------------------------------------------------------ */

#define LF_TOKEN_BOS        49406 /* <|startoftext|>                  */
#define LF_TOKEN_EOS        49407 /* <|endoftext|>, also SD-1.x's pad */
#define LF_TOKENS_PER_CHUNK 77    /* BOS + 75 tokens + EOS            */

typedef struct _LfTokenizer LfTokenizer;

/**
 * lf_tokenizer_new:
 * @path: a tokenizer folder (vocab.json, merges.txt) or a diffusers
 *   pipeline folder that has a tokenizer/ subfolder
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the tokenizer, or %NULL with @error
 *   set (LF_ERROR_IO for a missing file, LF_ERROR_FORMAT for bad content).
 */
LfTokenizer *lf_tokenizer_new (const char *path, GError **error);
void         lf_tokenizer_free (LfTokenizer *tokenizer);

/**
 * lf_tokenizer_encode:
 * @text: UTF-8 text, taken literally (no emphasis syntax)
 *
 * Returns: (transfer full) (nullable): a #GArray of gint32 ids, BOS … EOS,
 *   untruncated; %NULL with LF_ERROR_INVALID_REQUEST when @text is not
 *   valid UTF-8.
 */
GArray *
lf_tokenizer_encode (LfTokenizer *tokenizer, const char *text, GError **error);

/**
 * lf_tokenizer_encode_padded:
 *
 * What the SD pipelines feed the text encoder: BOS, at most 75 tokens, EOS,
 * padded with the pad id (EOS for SD-1.x) to LF_TOKENS_PER_CHUNK.
 *
 * Returns: (transfer full) (nullable): a #GArray of 77 gint32 ids.
 */
GArray *lf_tokenizer_encode_padded (LfTokenizer *tokenizer,
                                    const char  *text,
                                    GError     **error);

/* A prompt with A1111 emphasis parsed: `(word:1.2)`, `(word)` ×1.1,
 * `[word]` ÷1.1, nesting multiplies, `\(` escapes, BREAK starts a chunk. */
typedef struct
{
  GArray *ids;     /* gint32, no BOS/EOS                              */
  GArray *weights; /* gfloat, one per id                              */
  GArray *breaks;  /* gint64, indices into ids where BREAK stood      */
} LfPromptTokens;

/**
 * lf_tokenizer_encode_weighted:
 *
 * Returns: (transfer full) (nullable): tokens with per-token weights, or
 *   %NULL with LF_ERROR_INVALID_REQUEST for text that is not UTF-8 or a
 *   weight that is not a number (`(word:1.2.3)`).
 */
LfPromptTokens *lf_tokenizer_encode_weighted (LfTokenizer *tokenizer,
                                              const char  *prompt,
                                              GError     **error);
void            lf_prompt_tokens_free (LfPromptTokens *tokens);

/* ------------------------------------------------------------------ */
/* Samplers                                                            */
/* ------------------------------------------------------------------ */

typedef enum
{
  LF_SAMPLER_DDIM,             /* diffusers DDIMScheduler, eta 0            */
  LF_SAMPLER_EULER,            /* EulerDiscreteScheduler                    */
  LF_SAMPLER_EULER_A,          /* EulerAncestralDiscreteScheduler           */
  LF_SAMPLER_DPMPP_2M,         /* DPMSolverMultistep, dpmsolver++, order 2  */
  LF_SAMPLER_DPMPP_2M_KARRAS,  /* … with use_karras_sigmas                  */
} LfSamplerKind;

/* "ddim", "euler", "euler-a", "dpmpp-2m", "dpmpp-2m-karras" */
const char *lf_sampler_kind_to_string (LfSamplerKind kind);
gboolean    lf_sampler_kind_from_string (const char    *name,
                                         LfSamplerKind *out);

/* ------------------------------------------------------------------ */
/* Model files                                                         */
/* ------------------------------------------------------------------ */

typedef enum
{
  LF_MODEL_KIND_SAFETENSORS, /* a lone .safetensors of unknown layout     */
  LF_MODEL_KIND_DIFFUSERS,   /* a diffusers pipeline folder               */
  LF_MODEL_KIND_CHECKPOINT,  /* a single-file LDM checkpoint              */
  LF_MODEL_KIND_LINFUSION,   /* a LinFusion folder (config + weights)     */
  LF_MODEL_KIND_COMPONENT,   /* one diffusers/transformers component dir  */
} LfModelKind;

typedef struct
{
  const char *name;       /* "unet", "vae", "text_encoder", "linfusion" …  */
  const char *class_name; /* "UNet2DConditionModel" …, or NULL if unknown  */
  const char *path;       /* the weight file                               */
  gint64      n_tensors;
  gint64      n_params;
  const char *dtypes; /* e.g. "f16" or "f32 ×12, f16 ×674"             */
} LfComponentInfo;

typedef struct _LfModelInfo LfModelInfo;

/**
 * lf_model_info_new:
 * @path: a diffusers folder, a component folder, a LinFusion folder, or a
 *   .safetensors file (single-file checkpoint or any other)
 *
 * Opens and validates every weight file the path holds (headers only; data
 * stays memory-mapped and untouched).
 *
 * Returns: (transfer full) (nullable): what was found, or %NULL with @error
 *   naming the file and the problem.
 */
LfModelInfo *lf_model_info_new (const char *path, GError **error);
void         lf_model_info_free (LfModelInfo *info);

LfModelKind lf_model_info_get_kind (const LfModelInfo *info);
const char *lf_model_info_get_kind_name (const LfModelInfo *info);
/* "sd15", "sd21", "sdxl", or "unknown" */
const char *lf_model_info_get_architecture (const LfModelInfo *info);
guint       lf_model_info_get_n_components (const LfModelInfo *info);
/* Returns: (transfer none): valid while @info lives. */
const LfComponentInfo *lf_model_info_get_component (const LfModelInfo *info,
                                                    guint              index);
/* Keys of a single-file checkpoint that no LDM → diffusers rule maps (EMA
 * copies and known buffers excluded); 0 for other kinds.
 * Returns: (transfer none): valid while @info lives. */
guint       lf_model_info_get_n_unknown_keys (const LfModelInfo *info);
const char *lf_model_info_get_unknown_key (const LfModelInfo *info,
                                           guint              index);

/* One tensor of a component, under its diffusers name and shape. */
typedef struct
{
  const char *name;        /* diffusers key                               */
  const char *stored_name; /* key in the file (differs in checkpoints)    */
  const char *dtype;       /* "f32", "f16", "bf16", "i64", …              */
  int         ndim;
  gint64      shape[8];
} LfTensorInfo;

/**
 * lf_model_info_get_tensor:
 * @component: index below lf_model_info_get_n_components()
 * @index: index below that component's n_tensors
 * @out: (out caller-allocates): filled; its strings live as long as @info
 */
void lf_model_info_get_tensor (const LfModelInfo *info,
                               guint              component,
                               guint              index,
                               LfTensorInfo      *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfTokenizer, lf_tokenizer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfPromptTokens, lf_prompt_tokens_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfModelInfo, lf_model_info_free)

G_END_DECLS

#endif /* LINFUSION_H */
