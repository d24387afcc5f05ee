/* estimate.c: lf_estimate, what a generation will cost, for dialogs. Reads
 * only the model's headers and configs: weights are every tensor as f32 (the
 * CPU backend converts f16), working memory condenses the UNet and VAE plans
 * (models/unet.c lf_unet_plan, models/vae.c decode_slot_floats) into
 * per-pixel sums, time scales the rates measured in bench/RESULTS.md.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "builtin-configs.h"
#include "diffusers-folder.h"
#include "estimate-private.h"

/* The engine's constants the formulas repeat (unet-private.h,
 * cpu-backend.c, text-encoder.c). */
#define CHUNK_TOKENS   4096 /* LF_UNET_CHUNK_TOKENS */
#define CONTEXT_TOKENS 77
#define SCRATCH_THREAD ((guint64)16 << 20)
#define VAE_DOWNSCALE  8
#define MAX_LEVELS     8

/* bench/RESULTS.md, 2 threads: one UNet call on the CFG batch of 2 costs
 * 36.7 µs per pixel with LinFusion at any size; with softmax attention a
 * least-squares line over 512², 768² and 1024² (50.0, 70.0, 112.0 µs)
 * gives 26.9 µs + 79.7 µs per megapixel. A 512² VAE decode takes 19.36 s,
 * the two prompts 0.1 s each. */
#define US_PER_PIXEL_LINFUSION  36.7
#define US_PER_PIXEL_ORIGINAL   26.9
#define US_PER_PIXEL_PER_MPIXEL 79.7
#define US_PER_PIXEL_VAE_DECODE (19.36e6 / (512.0 * 512.0))
#define SECONDS_TEXT_ENCODER    0.1

typedef struct
{
  int      n;                /* levels                     */
  int64_t  c[MAX_LEVELS];    /* block_out_channels         */
  gboolean attn[MAX_LEVELS]; /* transformers at level i  */
  int64_t  layers;           /* layers_per_block           */
} Levels;

static gboolean
read_levels (const LfConfig *cfg, Levels *lv, GError **error)
{
  g_autoptr (GArray) ch = NULL;
  JsonArray  *types = NULL;
  JsonObject *root = lf_config_get_root (cfg);

  memset (lv, 0, sizeof *lv);
  if (!lf_config_get_int_array (cfg, "block_out_channels", &ch, error))
    return FALSE;
  if (ch == NULL || ch->len < 1 || ch->len > MAX_LEVELS)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: block_out_channels must list 1 to %d numbers"),
                   lf_config_get_name (cfg), MAX_LEVELS);
      return FALSE;
    }
  lv->n = (int)ch->len;
  for (int i = 0; i < lv->n; i++)
    lv->c[i] = MAX (g_array_index (ch, gint64, i), 1);
  lv->layers = MAX (lf_config_get_int (cfg, "layers_per_block", 2, NULL), 1);
  if (json_object_has_member (root, "down_block_types")
      && JSON_NODE_HOLDS_ARRAY (
          json_object_get_member (root, "down_block_types")))
    types = json_object_get_array_member (root, "down_block_types");
  for (int i = 0; i < lv->n; i++)
    {
      const char *t = types != NULL && i < (int)json_array_get_length (types)
                          ? json_array_get_string_element (types, i)
                          : NULL;

      lv->attn[i] = t != NULL && strstr (t, "CrossAttn") != NULL;
    }
  return TRUE;
}

static inline int64_t
side (int64_t n, int level)
{
  return (n + ((int64_t)1 << level) - 1) >> level;
}

/* Per level l, what lf_unet_plan keeps (every block output until the up
 * blocks consume it, the shared up slot) and the largest temporary on top
 * (a ResNet's concat input and its buffer, a transformer's five full-size
 * tensors and one chunk of its feed-forward, an upsample), in floats. */
guint64
lf_estimate_unet_bytes (const LfConfig *unet,
                        int             batch,
                        int64_t         width,
                        int64_t         height,
                        GError        **error)
{
  const int64_t B = batch, h = side (height, 3), w = side (width, 3);
  int64_t       hw[MAX_LEVELS] = { 0 }, keep, slot, temp = 0;
  Levels        lv;

  if (!read_levels (unet, &lv, error))
    return 0;
  for (int l = 0; l < lv.n; l++)
    hw[l] = side (h, l) * side (w, l);
  keep = B * lv.c[0] * hw[0];
  slot = B * lv.c[lv.n - 1] * hw[lv.n - 1];
  for (int l = 0; l < lv.n; l++)
    {
      const int64_t rows = B * hw[l], c = lv.c[l];
      const int64_t c_up = lv.c[MIN (l + 1, lv.n - 1)];
      int64_t       t = 2 * (c_up + c) * rows;

      keep += lv.layers * c * rows;
      if (l < lv.n - 1)
        keep += B * c * hw[l + 1];
      if (l > 0)
        {
          slot = MAX (slot, B * c * hw[l - 1]);
          t = MAX (t, B * c * hw[l - 1]);
        }
      if (lv.attn[l])
        t = MAX (t, 5 * c * rows + 2 * B * CONTEXT_TOKENS * c
                        + MIN (rows, CHUNK_TOKENS) * 12 * c);
      temp = MAX (temp, t);
    }
  keep += B * lv.c[lv.n - 1] * hw[lv.n - 1] + slot;
  /* the sampler's latents and noise prediction, (B, 4, h, w) each */
  return (guint64)(keep + temp + 2 * B * 4 * hw[0]) * sizeof (float);
}

/* decode_slot_floats: three slots of the largest activation, walking the
 * up blocks from the latent size; plus the latents and the RGB image. */
guint64
lf_estimate_vae_decode_bytes (const LfConfig *vae,
                              int64_t         width,
                              int64_t         height,
                              GError        **error)
{
  const int64_t h0 = side (height, 3), w0 = side (width, 3);
  const int64_t Z = lf_config_get_int (vae, "latent_channels", 4, NULL);
  int64_t       hw = h0 * w0, c_prev, m;
  Levels        lv;

  if (!read_levels (vae, &lv, error))
    return 0;
  c_prev = lv.c[lv.n - 1];
  m = MAX (Z, c_prev) * hw;
  if (lf_config_get_bool (vae, "mid_block_add_attention", TRUE, NULL))
    m = MAX (m, 2 * c_prev * hw);
  for (int i = 0; i < lv.n; i++)
    {
      const int64_t ch = lv.c[lv.n - 1 - i];

      m = MAX (m, MAX (c_prev, ch) * hw);
      if (i < lv.n - 1)
        {
          hw *= 4;
          m = MAX (m, ch * hw);
        }
      c_prev = ch;
    }
  return (guint64)(3 * m + 3 * width * height + Z * h0 * w0) * sizeof (float);
}

double
lf_estimate_seconds (double   unet_params,
                     double   vae_params,
                     gboolean linfusion,
                     int64_t  width,
                     int64_t  height,
                     int      steps,
                     int      n_threads)
{
  const double pixels = (double)width * (double)height;
  const double unet_scale = unet_params / LF_ESTIMATE_SD15_UNET_PARAMS;
  const double vae_scale = vae_params / LF_ESTIMATE_SD15_VAE_PARAMS;
  double       us_step, seconds;

  us_step = linfusion ? US_PER_PIXEL_LINFUSION
                      : US_PER_PIXEL_ORIGINAL
                            + US_PER_PIXEL_PER_MPIXEL * pixels / 1e6;
  seconds = 2 * SECONDS_TEXT_ENCODER
            + steps * us_step * pixels * 1e-6 * unet_scale
            + US_PER_PIXEL_VAE_DECODE * pixels * 1e-6 * vae_scale;
  return seconds * LF_ESTIMATE_BENCH_THREADS / MAX (n_threads, 1);
}

static gint64
weight_params (const LfComponent *comp, const char *only)
{
  gint64 total = 0;

  for (guint i = 0; comp != NULL && i < lf_component_get_n_weights (comp); i++)
    {
      const LfWeight *wt = lf_component_get_weight (comp, i);
      gint64          n = 1;

      if (only != NULL && strstr (wt->name, only) == NULL)
        continue;
      for (int k = 0; k < wt->ndim; k++)
        n *= wt->shape[k];
      total += n;
    }
  return total;
}

/* The component's config.json, or the published one for a checkpoint
 * (then owned by *@owned). */
static const LfConfig *
component_config (const LfModelFiles *files,
                  const LfComponent  *comp,
                  const char         *name,
                  LfConfig          **owned,
                  GError            **error)
{
  const LfConfig *cfg = lf_component_get_config (comp);

  if (cfg != NULL)
    return cfg;
  *owned = lf_builtin_config (lf_model_files_get_arch (files), name, error);
  return *owned;
}

static gboolean
model_error (const char *path, GError *local, GError **error)
{
  if (strstr (local->message, path) != NULL)
    g_propagate_error (error, local);
  else
    g_propagate_prefixed_error (error, local, _ ("“%s”: "), path);
  return FALSE;
}

gboolean
lf_estimate (const char *model_path,
             gboolean    linfusion,
             int64_t     width,
             int64_t     height,
             int         steps,
             int         n_threads,
             LfEstimate *out,
             GError    **error)
{
  static const char *const loaded[]
      = { "unet", "vae", "text_encoder", "text_encoder_2" };
  g_autoptr (LfModelFiles) files = NULL;
  g_autoptr (LfConfig) unet_owned = NULL;
  g_autoptr (LfConfig) vae_owned = NULL;
  const LfConfig    *unet_cfg, *vae_cfg = NULL;
  const LfComponent *unet, *vae;
  GError            *local = NULL;
  guint64            unet_bytes, vae_bytes;

  g_return_val_if_fail (model_path != NULL && out != NULL, FALSE);
  g_return_val_if_fail (width > 0 && height > 0 && steps >= 0, FALSE);

  memset (out, 0, sizeof *out);
  if (n_threads <= 0)
    n_threads = (int)g_get_num_processors ();
  files = lf_model_files_open (model_path, &local);
  if (files == NULL)
    return model_error (model_path, local, error);
  unet = lf_model_files_lookup (files, "unet");
  vae = lf_model_files_lookup (files, "vae");
  if (unet == NULL || vae == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a Stable Diffusion model: it has no %s"),
                   model_path, unet == NULL ? "UNet" : "VAE");
      return FALSE;
    }
  unet_cfg = component_config (files, unet, "unet", &unet_owned, &local);
  if (unet_cfg != NULL)
    vae_cfg = component_config (files, vae, "vae", &vae_owned, &local);
  if (vae_cfg == NULL)
    return model_error (model_path, local, error);

  for (gsize i = 0; i < G_N_ELEMENTS (loaded); i++)
    out->weight_bytes += (guint64)weight_params (
                             lf_model_files_lookup (files, loaded[i]), NULL)
                         * sizeof (float);
  /* A LinFusion module replaces one attn1: its to_q/k/v/out are attn1's
   * size and its two MLPs about as large again (99.2 M parameters for
   * SD-1.5's 49.5 M of attn1); the UNet keeps its own attn1 loaded. */
  if (linfusion)
    out->weight_bytes
        += 2 * (guint64)weight_params (unet, ".attn1.") * sizeof (float);

  /* Classifier-free guidance: the UNet runs on a batch of 2. */
  unet_bytes = lf_estimate_unet_bytes (unet_cfg, 2, width, height, &local);
  vae_bytes = local == NULL ? lf_estimate_vae_decode_bytes (vae_cfg, width,
                                                            height, &local)
                            : 0;
  if (local != NULL)
    return model_error (model_path, local, error);
  out->activation_bytes
      = MAX (unet_bytes, vae_bytes) + (guint64)n_threads * SCRATCH_THREAD;
  out->seconds = lf_estimate_seconds (
      (double)weight_params (unet, NULL), (double)weight_params (vae, NULL),
      linfusion, width, height, steps, n_threads);
  return TRUE;
}
