/* scheduler-config.c: LfSchedulerConfig from a diffusers
 * scheduler_config.json, its noise schedule ᾱ, and the sampler names.
 * Mirrors the __init__ of diffusers 0.30.3's DDIMScheduler, PNDMScheduler,
 * EulerDiscreteScheduler, EulerAncestralDiscreteScheduler and
 * DPMSolverMultistepScheduler (defaults, betas), and ConfigMixin.from_config.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "linfusion.h"

#include "samplers.h"

/* torch's float32 arithmetic is reproduced operation by operation; a fused
 * multiply-add where torch rounds twice would change the last bits. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static const char *const kind_names[] = {
  [LF_SAMPLER_DDIM] = "ddim",
  [LF_SAMPLER_EULER] = "euler",
  [LF_SAMPLER_EULER_A] = "euler-a",
  [LF_SAMPLER_DPMPP_2M] = "dpmpp-2m",
  [LF_SAMPLER_DPMPP_2M_KARRAS] = "dpmpp-2m-karras",
};

const char *
lf_sampler_kind_to_string (LfSamplerKind kind)
{
  g_return_val_if_fail ((guint)kind < G_N_ELEMENTS (kind_names), NULL);
  return kind_names[kind];
}

gboolean
lf_sampler_kind_from_string (const char *name, LfSamplerKind *out)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (kind_names); i++)
    if (g_str_equal (name, kind_names[i]))
      {
        *out = (LfSamplerKind)i;
        return TRUE;
      }
  return FALSE;
}

void
lf_scheduler_config_init (LfSchedulerConfig *cfg, LfSamplerKind kind)
{
  *cfg = (LfSchedulerConfig){
    .kind = kind,
    .num_train_timesteps = 1000,
    .beta_start = 0.00085,
    .beta_end = 0.012,
    .beta_schedule = LF_BETAS_SCALED_LINEAR,
    .spacing = LF_SPACING_LEADING,
    .steps_offset = 1,
    .set_alpha_to_one = FALSE,
    .clip_sample = FALSE,
    .clip_sample_range = 1.0,
    .prediction = LF_PREDICTION_EPSILON,
    .use_karras_sigmas = kind == LF_SAMPLER_DPMPP_2M_KARRAS,
    .lower_order_final = TRUE,
    .final_sigma_zero = TRUE,
  };
}

/* ConfigMixin.from_config passes every key of the model's scheduler config,
 * those the source class did not know too, so all fields carry over and
 * the fields no class has set keep the defaults the loader gave them. */
void
lf_scheduler_config_with_kind (const LfSchedulerConfig *base,
                               LfSamplerKind            kind,
                               LfSchedulerConfig       *cfg)
{
  *cfg = *base;
  cfg->kind = kind;
  cfg->use_karras_sigmas = kind == LF_SAMPLER_DPMPP_2M_KARRAS;
}

/* ------------------------------------------------------------------ */
/* Noise schedule                                                      */
/* ------------------------------------------------------------------ */

static float
linspace_at (float start, float end, float step, int n, int64_t i)
{
  /* torch builds its AVX2 kernels with FMA contraction */
  if (i < n / 2)
    return fmaf (step, (float)i, start);
  return fmaf (-step, (float)(n - i - 1), end);
}

/* torch.linspace (start, end, n, dtype=float32) as torch 1.13's AVX2 CPU
 * kernel computes it (aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp):
 * pairs of 8-wide vectors, each a fused base plus k·step (unfused), then a
 * scalar tail. Checked bit for bit against torch. */
static void
torch_linspace_f32 (double start_d, double end_d, int n, float *out)
{
  const float start = (float)start_d, end = (float)end_d;
  const float step = (end - start) / (float)(n - 1);
  int64_t     i = 0;

  for (; i + 16 <= n; i += 16)
    for (int64_t j = i; j < i + 16; j += 8)
      {
        const float base = linspace_at (start, end, step, n, j);

        out[j] = base;
        for (int k = 1; k < 8; k++)
          out[j + k] = base + (float)k * step;
      }
  for (; i < n; i++)
    out[i] = linspace_at (start, end, step, n, i);
}

static double
alpha_bar_cosine (double t)
{
  const double c = cos ((t + 0.008) / 1.008 * G_PI / 2);

  return c * c;
}

/* betas as diffusers builds them, then alphas_cumprod = cumprod (1 − β):
 * torch's CPU cumprod accumulates in double and stores float32. */
float *
lf_scheduler_config_alphas_cumprod (const LfSchedulerConfig *cfg)
{
  const int n = cfg->num_train_timesteps;
  float    *ac = g_new (float, n);
  double    acc = 1.0;

  if (cfg->beta_schedule == LF_BETAS_LINEAR)
    torch_linspace_f32 (cfg->beta_start, cfg->beta_end, n, ac);
  else if (cfg->beta_schedule == LF_BETAS_SCALED_LINEAR)
    {
      torch_linspace_f32 (pow (cfg->beta_start, 0.5), pow (cfg->beta_end, 0.5),
                          n, ac);
      for (int i = 0; i < n; i++)
        ac[i] = ac[i] * ac[i];
    }
  else /* betas_for_alpha_bar: Python floats, max_beta 0.999 */
    for (int i = 0; i < n; i++)
      ac[i] = (float)MIN (1
                              - alpha_bar_cosine ((double)(i + 1) / n)
                                    / alpha_bar_cosine ((double)i / n),
                          0.999);
  for (int i = 0; i < n; i++)
    {
      acc *= (double)(1.0f - ac[i]);
      ac[i] = (float)acc;
    }
  return ac;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char   *name;
  LfSamplerKind kind;
  LfSpacing     spacing;      /* the class's timestep_spacing default */
  gboolean      alpha_to_one; /* set_alpha_to_one default (DDIM's true) */
} SchedulerClass;

static const SchedulerClass classes[] = {
  { "DDIMScheduler", LF_SAMPLER_DDIM, LF_SPACING_LEADING, TRUE },
  /* PLMS runs as DDIM: see lf_scheduler_config_load in samplers.h */
  { "PNDMScheduler", LF_SAMPLER_DDIM, LF_SPACING_LEADING, FALSE },
  { "EulerDiscreteScheduler", LF_SAMPLER_EULER, LF_SPACING_LINSPACE, TRUE },
  { "EulerAncestralDiscreteScheduler", LF_SAMPLER_EULER_A, LF_SPACING_LINSPACE,
    TRUE },
  { "DPMSolverMultistepScheduler", LF_SAMPLER_DPMPP_2M, LF_SPACING_LINSPACE,
    TRUE },
};

static gboolean
unsupported (const LfConfig *json,
             const char     *key,
             const char     *value,
             GError        **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
               _ ("“%s”: key “%s”: %s is not supported"),
               lf_config_get_name (json), key, value);
  return FALSE;
}

/* A string among @names (NULL-terminated); its index in @out. */
static gboolean
get_choice (const LfConfig    *json,
            const char        *key,
            const char        *def,
            const char *const *names,
            int               *out,
            GError           **error)
{
  GError     *local = NULL;
  const char *value = lf_config_get_string (json, key, def, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  for (int i = 0; names[i] != NULL; i++)
    if (g_str_equal (value, names[i]))
      {
        *out = i;
        return TRUE;
      }
  {
    g_autofree char *quoted = g_strdup_printf ("“%s”", value);

    return unsupported (json, key, quoted, error);
  }
}

static gboolean
get_int (const LfConfig *json,
         const char     *key,
         gint64          def,
         gint64          lo,
         gint64          hi,
         int            *out,
         GError        **error)
{
  GError *local = NULL;
  gint64  value = lf_config_get_int (json, key, def, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (value < lo || value > hi)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

      return unsupported (json, key, text, error);
    }
  *out = (int)value;
  return TRUE;
}

static gboolean
get_bool (const LfConfig *json,
          const char     *key,
          gboolean        def,
          gboolean       *out,
          GError        **error)
{
  GError *local = NULL;

  *out = lf_config_get_bool (json, key, def, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  return TRUE;
}

/* DDIM's clip_sample_range (default 1), a positive number. */
static gboolean
get_range (const LfConfig *json, double *out, GError **error)
{
  GError *local = NULL;

  *out = lf_config_get_double (json, "clip_sample_range", 1.0, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (!(*out > 0.0))
    {
      g_autofree char *text = g_strdup_printf ("%g", *out);

      return unsupported (json, "clip_sample_range", text, error);
    }
  return TRUE;
}

/* A switch we only implement in one position (thresholding false, …). */
static gboolean
require_bool (const LfConfig *json,
              const char     *key,
              gboolean        def,
              gboolean        want,
              GError        **error)
{
  gboolean value;

  if (!get_bool (json, key, def, &value, error))
    return FALSE;
  if (value != want)
    return unsupported (json, key, value ? "true" : "false", error);
  return TRUE;
}

/* A key that must be absent or null (trained_betas, sigma_min, …). */
static gboolean
require_null (const LfConfig *json, const char *key, GError **error)
{
  if (lf_config_has (json, key))
    return unsupported (json, key, _ ("a value other than null"), error);
  return TRUE;
}

static gboolean
get_beta (const LfConfig *json,
          const char     *key,
          double          def,
          double         *out,
          GError        **error)
{
  GError *local = NULL;

  *out = lf_config_get_double (json, key, def, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (!(*out >= 0 && *out < 1))
    {
      g_autofree char *text = g_strdup_printf ("%g", *out);

      return unsupported (json, key, text, error);
    }
  return TRUE;
}

/* The keys every class reads: the betas, timesteps and prediction. */
static gboolean
load_schedule (const LfConfig       *json,
               const SchedulerClass *klass,
               LfSchedulerConfig    *cfg,
               GError              **error)
{
  static const char *const schedules[]
      = { "linear", "scaled_linear", "squaredcos_cap_v2", NULL };
  static const char *const spacings[]
      = { "leading", "linspace", "trailing", NULL };
  static const char *const predictions[] = { "epsilon", "v_prediction", NULL };
  static const char *const finals[] = { "zero", "sigma_min", NULL };
  int                      schedule, spacing, prediction, final;

  if (!get_int (json, "num_train_timesteps", 1000, 2, 100000,
                &cfg->num_train_timesteps, error)
      || !get_beta (json, "beta_start", 0.0001, &cfg->beta_start, error)
      || !get_beta (json, "beta_end", 0.02, &cfg->beta_end, error)
      || !get_choice (json, "beta_schedule", "linear", schedules, &schedule,
                      error)
      || !require_null (json, "trained_betas", error)
      || !require_bool (json, "rescale_betas_zero_snr", FALSE, FALSE, error)
      || !get_choice (json, "timestep_spacing", spacings[klass->spacing],
                      spacings, &spacing, error)
      || !get_int (json, "steps_offset", 0, 0, cfg->num_train_timesteps - 1,
                   &cfg->steps_offset, error)
      || !get_choice (json, "prediction_type", "epsilon", predictions,
                      &prediction, error)
      || !get_bool (json, "set_alpha_to_one", klass->alpha_to_one,
                    &cfg->set_alpha_to_one, error)
      || !get_bool (json, "lower_order_final", TRUE, &cfg->lower_order_final,
                    error)
      || !get_choice (json, "final_sigmas_type", "zero", finals, &final, error))
    return FALSE;
  cfg->beta_schedule = (LfBetaSchedule)schedule;
  cfg->spacing = (LfSpacing)spacing;
  cfg->prediction = (LfPrediction)prediction;
  cfg->final_sigma_zero = final == 0;
  return TRUE;
}

static gboolean
load_euler (const LfConfig *json, GError **error)
{
  static const char *const interpolations[] = { "linear", NULL };
  static const char *const types[] = { "discrete", NULL };
  int                      unused;

  /* Euler Karras has no LfSamplerKind (its σ range differs from DPM's) */
  return require_bool (json, "use_karras_sigmas", FALSE, FALSE, error)
         && get_choice (json, "interpolation_type", "linear", interpolations,
                        &unused, error)
         && get_choice (json, "timestep_type", "discrete", types, &unused,
                        error)
         && require_null (json, "sigma_min", error)
         && require_null (json, "sigma_max", error);
}

/* dpmsolver++ order 2 midpoint; diffusers itself maps deis and the UniPC
 * solver types onto these. */
static gboolean
load_dpm (const LfConfig *json, LfSchedulerConfig *cfg, GError **error)
{
  static const char *const algorithms[] = { "dpmsolver++", "deis", NULL };
  static const char *const solvers[]
      = { "midpoint", "logrho", "bh1", "bh2", NULL };
  int      unused, order;
  double   lambda_min;
  gboolean karras;
  GError  *local = NULL;

  if (!get_choice (json, "algorithm_type", "dpmsolver++", algorithms, &unused,
                   error)
      || !get_int (json, "solver_order", 2, 2, 2, &order, error)
      || !get_choice (json, "solver_type", "midpoint", solvers, &unused, error)
      || !require_bool (json, "thresholding", FALSE, FALSE, error)
      || !require_bool (json, "euler_at_final", FALSE, FALSE, error)
      || !require_bool (json, "use_lu_lambdas", FALSE, FALSE, error)
      || !require_null (json, "variance_type", error)
      || !require_null (json, "sigma_min", error)
      || !require_null (json, "sigma_max", error)
      || !get_bool (json, "use_karras_sigmas", FALSE, &karras, error))
    return FALSE;
  lambda_min
      = lf_config_get_double (json, "lambda_min_clipped", -INFINITY, &local);
  if (local != NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (lambda_min != -INFINITY)
    {
      g_autofree char *text = g_strdup_printf ("%g", lambda_min);

      return unsupported (json, "lambda_min_clipped", text, error);
    }
  cfg->kind = karras ? LF_SAMPLER_DPMPP_2M_KARRAS : LF_SAMPLER_DPMPP_2M;
  return TRUE;
}

static const SchedulerClass *
load_class (const LfConfig *json, GError **error)
{
  GError     *local = NULL;
  const char *name = lf_config_get_string (json, "_class_name", NULL, &local);

  if (local != NULL)
    {
      g_propagate_error (error, local);
      return NULL;
    }
  if (name == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: key “_class_name” is missing"),
                   lf_config_get_name (json));
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    if (g_str_equal (name, classes[i].name))
      return &classes[i];
  {
    g_autofree char *quoted = g_strdup_printf ("“%s”", name);

    unsupported (json, "_class_name", quoted, error);
  }
  return NULL;
}

gboolean
lf_scheduler_config_load (const LfConfig    *json,
                          LfSchedulerConfig *cfg,
                          GError           **error)
{
  const SchedulerClass *klass = load_class (json, error);
  LfSchedulerConfig     out;

  if (klass == NULL)
    return FALSE;
  lf_scheduler_config_init (&out, klass->kind);
  if (!load_schedule (json, klass, &out, error))
    return FALSE;
  switch (klass->kind)
    {
    case LF_SAMPLER_DDIM:
      /* PNDM has no clip_sample; DDIM's default clips x0 to [-1, 1] */
      if (g_str_equal (klass->name, "DDIMScheduler")
          && (!get_bool (json, "clip_sample", TRUE, &out.clip_sample, error)
              || !get_range (json, &out.clip_sample_range, error)
              || !require_bool (json, "thresholding", FALSE, FALSE, error)))
        return FALSE;
      break;
    case LF_SAMPLER_EULER:
      if (!load_euler (json, error))
        return FALSE;
      break;
    case LF_SAMPLER_EULER_A:
      break;
    case LF_SAMPLER_DPMPP_2M:
    case LF_SAMPLER_DPMPP_2M_KARRAS:
      if (!load_dpm (json, &out, error))
        return FALSE;
      break;
    }
  out.use_karras_sigmas = out.kind == LF_SAMPLER_DPMPP_2M_KARRAS;
  *cfg = out;
  return TRUE;
}
