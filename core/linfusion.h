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
  LF_SAMPLER_DDIM,            /* diffusers DDIMScheduler, eta 0            */
  LF_SAMPLER_EULER,           /* EulerDiscreteScheduler                    */
  LF_SAMPLER_EULER_A,         /* EulerAncestralDiscreteScheduler           */
  LF_SAMPLER_DPMPP_2M,        /* DPMSolverMultistep, dpmsolver++, order 2  */
  LF_SAMPLER_DPMPP_2M_KARRAS, /* … with use_karras_sigmas                  */
} LfSamplerKind;

/* "ddim", "euler", "euler-a", "dpmpp-2m", "dpmpp-2m-karras" */
const char *lf_sampler_kind_to_string (LfSamplerKind kind);
gboolean    lf_sampler_kind_from_string (const char *name, LfSamplerKind *out);

/* ------------------------------------------------------------------ */
/* Output: a sink receives the image in full-width strips              */
/* ------------------------------------------------------------------ */

typedef enum
{
  LF_PIXEL_RGB8, /* 3 bytes per pixel, round (clamp (x/2 + 0.5) · 255) */
} LfPixelFormat;

typedef struct _LfSink LfSink;

/* Front ends implement a sink by embedding LfSink as their first member
 * (libvips sink_disc contract): begin once, then strips top to bottom with
 * no gaps and no overlap, one call at a time, then finish; after any
 * failure or cancellation abort instead, which must undo partial output. */
struct _LfSink
{
  /* @strip_height: in: the engine's suggestion; out: the sink's choice. */
  gboolean (*begin) (LfSink       *sink,
                     int64_t       width,
                     int64_t       height,
                     LfPixelFormat format,
                     int64_t      *strip_height,
                     GError      **error);
  gboolean (*write) (LfSink       *sink,
                     int64_t       y,
                     int64_t       rows,
                     const guint8 *pixels,
                     size_t        stride,
                     GError      **error);
  gboolean (*finish) (LfSink *sink, GError **error);
  void (*abort) (LfSink *sink);
};

/* ------------------------------------------------------------------ */
/* Requests: everything one generation needs                           */
/* ------------------------------------------------------------------ */

typedef struct _LfRequest LfRequest;

/* Defaults: empty prompts, 512 × 512, 25 steps, guidance 7.5, seed 0,
 * the model's own scheduler, strength 0.75 (used only with an init
 * image), no prompt flags, clip skip 0. */
LfRequest *lf_request_new (void);
void       lf_request_free (LfRequest *request);

void lf_request_set_prompt (LfRequest *request, const char *prompt);
void lf_request_set_negative_prompt (LfRequest *request, const char *prompt);
void lf_request_set_size (LfRequest *request, int64_t width, int64_t height);
void lf_request_set_steps (LfRequest *request, int steps);
void lf_request_set_guidance (LfRequest *request, double guidance);
void lf_request_set_seed (LfRequest *request, guint64 seed);
/* The algorithm, applied to the model's scheduler config (diffusers
 * `XScheduler.from_config (pipe.scheduler.config)`). */
void lf_request_set_sampler (LfRequest *request, LfSamplerKind kind);
/* A diffusers scheduler_config.json: `_class_name` picks the algorithm, its
 * fields the settings; overrides set_sampler. */
gboolean lf_request_set_scheduler_config (LfRequest  *request,
                                          const char *path,
                                          GError    **error);
/* A1111 emphasis syntax and prompts over 75 tokens (see the CLI). */
void lf_request_set_prompt_weights (LfRequest *request, gboolean enable);
void lf_request_set_long_prompts (LfRequest *request, gboolean enable);
/* diffusers clip_skip: 0 uses the last layer. */
void lf_request_set_clip_skip (LfRequest *request, int clip_skip);
/* img2img: an RGB8 image of exactly the request's size (copied). */
void lf_request_set_init_image (LfRequest    *request,
                                int64_t       width,
                                int64_t       height,
                                const guint8 *rgb,
                                size_t        stride);
void lf_request_set_strength (LfRequest *request, double strength);
/* The unscaled initial noise (1, C, H/8, W/8) instead of one drawn from
 * the seed (copied). */
void lf_request_set_init_noise (LfRequest     *request,
                                const float   *noise,
                                int            ndim,
                                const int64_t *shape);

/* ControlNet: the control image is resized to the request's size (PIL
 * Lanczos, as diffusers' VaeImageProcessor), preprocessed, and fed to the
 * ControlNet as RGB / 255 on both halves of the guidance batch. */
typedef enum
{
  LF_CONTROL_PREPROCESS_NONE,  /* the image as it is                       */
  LF_CONTROL_PREPROCESS_CANNY, /* OpenCV's Canny (L1), white edges on black */
  LF_CONTROL_PREPROCESS_TILE,  /* the image reduced by the tile rate (area)
                                * and scaled back: the tile model's input  */
} LfControlPreprocess;

const char *lf_control_preprocess_to_string (LfControlPreprocess kind);
gboolean    lf_control_preprocess_from_string (const char          *name,
                                               LfControlPreprocess *out);

/* An RGB8 image of any size (copied); a ControlNet must be loaded. */
void lf_request_set_control_image (LfRequest    *request,
                                   int64_t       width,
                                   int64_t       height,
                                   const guint8 *rgb,
                                   size_t        stride);
/* Defaults: none; canny thresholds 100 and 200 (lllyasviel's demo); tile
 * rate 2. */
void lf_request_set_control_preprocess (LfRequest          *request,
                                        LfControlPreprocess kind);
void
lf_request_set_canny_thresholds (LfRequest *request, double low, double high);
void lf_request_set_tile_rate (LfRequest *request, double rate);
/* diffusers controlnet_conditioning_scale (default 1). */
void lf_request_set_control_scale (LfRequest *request, double scale);
/* control_guidance_start / _end as fractions of the steps (default 0, 1):
 * step i of n is controlled when start ≤ i/n and (i + 1)/n ≤ end. */
void
lf_request_set_control_range (LfRequest *request, double start, double end);
/* diffusers guess_mode: the ControlNet sees the conditional half only, its
 * residuals scaled by logspace (-1, 0, n + 1). */
void lf_request_set_control_guess_mode (LfRequest *request, gboolean enable);

/* IP-Adapter: the reference image, RGB8 of any size (copied); an adapter
 * must be loaded. Scale default 1. */
void lf_request_set_ip_adapter_image (LfRequest    *request,
                                      int64_t       width,
                                      int64_t       height,
                                      const guint8 *rgb,
                                      size_t        stride);
void lf_request_set_ip_adapter_scale (LfRequest *request, double scale);

/**
 * lf_control_image_prepare:
 * @rgb: (width, height) RGB8 rows of @stride bytes
 * @out_width, @out_height: the generation size
 *
 * What the engine feeds the ControlNet (and a dialog previews): @rgb
 * resized to @out_width × @out_height as diffusers does, then
 * preprocessed. Returns: (transfer full) (nullable): out_height ·
 *   out_width · 3 bytes (g_free), or NULL with LF_ERROR_INVALID_REQUEST
 *   naming the bad value.
 */
guint8 *lf_control_image_prepare (const guint8       *rgb,
                                  int64_t             width,
                                  int64_t             height,
                                  size_t              stride,
                                  LfControlPreprocess kind,
                                  double              canny_low,
                                  double              canny_high,
                                  double              tile_rate,
                                  int64_t             out_width,
                                  int64_t             out_height,
                                  GError            **error);

/* Checks what does not depend on the model: width and height multiples of
 * 8 and in range, steps 1…1000, a finite guidance, strength in [0, 1],
 * clip skip ≥ 0. Returns: %FALSE with LF_ERROR_INVALID_REQUEST naming the
 * value. lf_engine_generate checks this and the model's own limits. */
gboolean lf_request_validate (const LfRequest *request, GError **error);

/* ------------------------------------------------------------------ */
/* Engine: loaded models on one backend                                */
/* ------------------------------------------------------------------ */

typedef struct _LfEngine LfEngine;

typedef enum
{
  LF_STAGE_TEXT,     /* encoding the prompts             */
  LF_STAGE_ENCODE,   /* encoding the init image (img2img) */
  LF_STAGE_SAMPLING, /* denoising: step of n_steps       */
  LF_STAGE_DECODE,   /* decoding and writing the image   */
} LfStage;

typedef struct
{
  LfStage stage;
  int     step;    /* steps done in this stage */
  int     n_steps; /* steps in this stage      */
  double  seconds; /* since generation began   */
  /* LF_STAGE_SAMPLING: the current latents (1, C, h, w), valid during the
   * callback only, for previews (lf_latents_preview_rgb8); else NULL. */
  const float *latents;
  int64_t      latent_shape[4];
} LfProgress;

/* A cheap RGB8 preview of SD-1.x latents (1, 4, h, w) without the VAE: a
 * per-pixel linear map (A1111's "Approx cheap" coefficients), h × w pixels
 * into @rgb (h · w · 3 bytes). */
void lf_latents_preview_rgb8 (const float  *latents,
                              const int64_t shape[4],
                              guint8       *rgb);

typedef void (*LfProgressFunc) (const LfProgress *progress, gpointer user_data);

/**
 * lf_engine_new:
 * @device: "cpu" (other backends come later)
 * @n_threads: 0 for every core
 *
 * Returns: (transfer full) (nullable): an engine with no model yet.
 */
LfEngine *lf_engine_new (const char *device, int n_threads, GError **error);
void      lf_engine_free (LfEngine *engine);

/**
 * lf_engine_load_model:
 * @path: a diffusers folder or a single-file checkpoint (.safetensors)
 * @config_path: (nullable): a diffusers folder whose configs and tokenizer
 *   describe a single-file checkpoint (as diffusers' from_single_file
 *   config=); without it, SD-1.x checkpoints use the published SD-1.5
 *   configs and need a tokenizer from @config_path.
 */
gboolean lf_engine_load_model (LfEngine   *engine,
                               const char *path,
                               const char *config_path,
                               GError    **error);
/* Mounts a LinFusion folder on the loaded UNet's self-attention. */
gboolean
lf_engine_load_linfusion (LfEngine *engine, const char *path, GError **error);

/**
 * lf_engine_load_controlnet:
 * @path: a diffusers ControlNetModel folder, or a single-file ControlNet
 *   (.safetensors, ControlNet v1.1 layout; the config then comes from the
 *   loaded UNet's)
 *
 * Replaces any ControlNet loaded before. A ControlNet whose channels do not
 * fit the loaded UNet gives LF_ERROR_FORMAT naming both.
 */
gboolean
lf_engine_load_controlnet (LfEngine *engine, const char *path, GError **error);
void lf_engine_unload_controlnet (LfEngine *engine);
/* Mounts the LinFusion folder's modules (lf_engine_load_linfusion) on the
 * ControlNet's self-attention too. Off by default, as upstream: LinFusion
 * was distilled against the base UNet, not the ControlNet's copy, but
 * without it the ControlNet's attention grows as the square of the pixels
 * (see README). */
gboolean lf_engine_set_controlnet_linfusion (LfEngine *engine,
                                             gboolean  enable,
                                             GError  **error);

/**
 * lf_engine_load_ip_adapter:
 * @path: an IP-Adapter file (ip-adapter_sd15 or -plus layout, .safetensors)
 * @image_encoder: a CLIPVisionModelWithProjection folder; NULL looks for
 *   `image_encoder/` beside @path and in @path's parent folder
 */
gboolean lf_engine_load_ip_adapter (LfEngine   *engine,
                                    const char *path,
                                    const char *image_encoder,
                                    GError    **error);
void     lf_engine_unload_ip_adapter (LfEngine *engine);

/**
 * lf_engine_generate:
 * @sink: (transfer none): receives the image, top to bottom
 * @progress: (nullable) (scope call): called after each stage step
 * @cancellable: (nullable): checked between steps and strips
 *
 * Text-to-image, or image-to-image when the request has an init image.
 * Returns: %TRUE on success; on failure or cancellation (G_IO_ERROR_CANCELLED)
 *   @sink has been aborted.
 */
gboolean lf_engine_generate (LfEngine        *engine,
                             const LfRequest *request,
                             LfSink          *sink,
                             LfProgressFunc   progress,
                             gpointer         user_data,
                             GCancellable    *cancellable,
                             GError         **error);

/* After a successful generate: the unscaled initial noise and the final
 * latents, (1, C, h, w) f32 in @shape. Returns: (transfer none) (nullable). */
const float *lf_engine_get_initial_noise (const LfEngine *engine,
                                          int64_t         shape[4]);
const float *lf_engine_get_final_latents (const LfEngine *engine,
                                          int64_t         shape[4]);

/* What a generation will cost, for dialogs: working memory from the model
 * files' sizes and the activation plan per pixel, time from this machine's
 * measured rate (bench/RESULTS.md) scaled by the thread count. */
typedef struct
{
  guint64 weight_bytes;     /* models in memory as the CPU backend holds them */
  guint64 activation_bytes; /* the largest stage's working memory            */
  double  seconds;          /* text + sampling + decode, rough               */
} LfEstimate;

/**
 * lf_estimate:
 * @model_path: a diffusers folder or checkpoint (only its files' headers are
 *   read; nothing is loaded)
 * @linfusion: whether LinFusion is mounted (softmax attention grows as the
 *   square of the pixel count without it)
 *
 * Returns: %FALSE with an error naming the path when it is not a model.
 */
gboolean lf_estimate (const char *model_path,
                      gboolean    linfusion,
                      int64_t     width,
                      int64_t     height,
                      int         steps,
                      int         n_threads,
                      LfEstimate *out,
                      GError    **error);

/* ------------------------------------------------------------------ */
/* Tensor files (noise in, latents out)                                */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char  *name;
  const float *data; /* contiguous f32 */
  int          ndim; /* ≤ 4 */
  int64_t      shape[4];
} LfNamedTensor;

/**
 * lf_tensor_file_read:
 * @path: a .safetensors file
 * @name: the tensor (F32, F16 or BF16)
 * @shape: (out caller-allocates): up to 4 dimensions, in @ndim
 *
 * Returns: (transfer full) (nullable): the tensor as f32 (g_free), or NULL
 *   with an error naming the file and the tensor.
 */
float *lf_tensor_file_read (const char *path,
                            const char *name,
                            int        *ndim,
                            int64_t     shape[4],
                            GError    **error);

/* Writes @tensors as F32 into a new safetensors file at @path (replaced
 * atomically: a failed write leaves an existing file as it was). */
gboolean lf_tensor_file_write (const char          *path,
                               const LfNamedTensor *tensors,
                               guint                n_tensors,
                               GError             **error);

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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfRequest, lf_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfEngine, lf_engine_free)

G_END_DECLS

#endif /* LINFUSION_H */
