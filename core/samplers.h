/* samplers.h: noise schedules and samplers configured like diffusers from a
 * scheduler_config.json, as plain functions over latents in host memory
 * (the latents are small next to the UNet's activations, even for a
 * gigapixel canvas, so one implementation serves every backend).
 */
#ifndef LF_SAMPLERS_H
#define LF_SAMPLERS_H

#include <glib.h>

#include "json-config.h"
#include "linfusion.h"
#include "rng.h"

G_BEGIN_DECLS

typedef enum
{
  LF_PREDICTION_EPSILON,
  LF_PREDICTION_V,
} LfPrediction;

typedef enum
{
  LF_SPACING_LEADING,
  LF_SPACING_LINSPACE,
  LF_SPACING_TRAILING,
} LfSpacing;

typedef enum
{
  LF_BETAS_LINEAR,
  LF_BETAS_SCALED_LINEAR,
  LF_BETAS_SQUAREDCOS_CAP_V2,
} LfBetaSchedule;

/* The fields of a diffusers scheduler_config.json that change results. */
typedef struct
{
  LfSamplerKind  kind;
  int            num_train_timesteps; /* 1000 */
  double         beta_start, beta_end;
  LfBetaSchedule beta_schedule;
  LfSpacing      spacing;
  int            steps_offset;
  gboolean       set_alpha_to_one; /* DDIM */
  gboolean       clip_sample;      /* DDIM: x0 clamped to ±range     */
  double         clip_sample_range;
  LfPrediction   prediction;
  gboolean       use_karras_sigmas; /* DPM++ 2M Karras */
  gboolean       lower_order_final; /* DPM++: first order last step < 15 */
  gboolean       final_sigma_zero;  /* final_sigmas_type "zero" */
} LfSchedulerConfig;

/* SD-1.5's published scheduler (scaled_linear 0.00085–0.012, leading,
 * steps_offset 1, epsilon) with @kind's algorithm. */
void lf_scheduler_config_init (LfSchedulerConfig *cfg, LfSamplerKind kind);

/* Reads @json: `_class_name` picks the algorithm (DDIMScheduler,
 * EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
 * DPMSolverMultistepScheduler, with use_karras_sigmas), the other fields the
 * settings; absent keys take that class's diffusers defaults. PNDMScheduler
 * (SD-1.5's published default, what diffusers users get without choosing)
 * has no PLMS steps here and loads as DDIM with the same betas, spacing and
 * steps_offset: PNDM's PLMS steps are built on DDIM's transfer function, so
 * DDIM is its closest first-order sibling. Unknown classes or values give
 * LF_ERROR_UNSUPPORTED, a value of the wrong type LF_ERROR_FORMAT, both
 * naming the file and key. */
gboolean lf_scheduler_config_load (const LfConfig    *json,
                                   LfSchedulerConfig *cfg,
                                   GError           **error);

/* `XScheduler.from_config (model_scheduler.config)`: @cfg keeps @base's
 * schedule and prediction type and takes @kind's algorithm (and its
 * diffusers defaults: Euler and DPM++ keep the base's spacing). */
void lf_scheduler_config_with_kind (const LfSchedulerConfig *base,
                                    LfSamplerKind            kind,
                                    LfSchedulerConfig       *cfg);

/* ᾱ_t = Π (1 − β_i) for t < num_train_timesteps, bit for bit as diffusers
 * computes it on the CPU (torch.linspace in float32, cumprod accumulated in
 * double). Returns: (transfer full): g_free. */
float *lf_scheduler_config_alphas_cumprod (const LfSchedulerConfig *cfg);

typedef struct _LfSampler LfSampler;

/**
 * lf_sampler_new:
 * @steps: inference steps (≥ 1)
 * @strength: 1 for text-to-image; img2img runs the last
 *   min (int (steps · strength), steps) of them, as diffusers get_timesteps
 *
 * Returns: (transfer full) (nullable): the sampler, or NULL with
 *   LF_ERROR_INVALID_REQUEST.
 */
LfSampler *lf_sampler_new (const LfSchedulerConfig *cfg,
                           int                      steps,
                           double                   strength,
                           GError                 **error);
void       lf_sampler_free (LfSampler *sampler);

/* Steps this sampler will run (after strength). */
int lf_sampler_get_n_steps (const LfSampler *sampler);
/* Multiplier of the initial noise for text-to-image. */
double lf_sampler_get_init_noise_sigma (const LfSampler *sampler);
/* The timestep the UNet gets at step @i (fractional for Euler). */
double lf_sampler_get_timestep (const LfSampler *sampler, int i);
/* scale_model_input: the factor the latents are multiplied by before the
 * UNet at step @i (1, or 1/sqrt (σ² + 1)). */
float lf_sampler_get_input_scale (const LfSampler *sampler, int i);
/* The sigmas of σ-space samplers (n_steps + 1 values, the last usually 0);
 * NULL for DDIM. For tests and progress previews. */
const double *lf_sampler_get_sigmas (const LfSampler *sampler);

/**
 * lf_sampler_reserve:
 * @n: elements of the latents that will be stepped
 *
 * Allocates the n floats DPM++ 2M (the last step's x0) and Euler ancestral
 * (the step's noise) need, so that a failure is an error here rather than
 * an abort in lf_sampler_step (which allocates them itself otherwise).
 * Nothing for the other samplers.
 *
 * Returns: %FALSE with LF_ERROR_OUT_OF_MEMORY.
 */
gboolean lf_sampler_reserve (LfSampler *sampler, int64_t n, GError **error);

/* img2img: y = scheduler.add_noise (x0, noise, timestep of step 0). */
void lf_sampler_add_noise (const LfSampler *sampler,
                           const float     *x0,
                           const float     *noise,
                           int64_t          n,
                           float           *y);

/**
 * lf_sampler_step:
 * @model_output: (n) the guided UNet output at step @i (ε or v)
 * @latents: (n) updated in place: scheduler.step (…).prev_sample
 * @rng: the generator the initial noise came from; ancestral samplers draw
 *   their per-step noise from it as diffusers does (randn of the latent
 *   shape). May be NULL for deterministic samplers.
 *
 * Steps must be taken in order 0, 1, … (multistep samplers keep history).
 */
void lf_sampler_step (LfSampler   *sampler,
                      int          i,
                      const float *model_output,
                      float       *latents,
                      int64_t      n,
                      LfTorchRng  *rng);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSampler, lf_sampler_free)

G_END_DECLS

#endif /* LF_SAMPLERS_H */
