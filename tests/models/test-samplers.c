/* test-samplers.c: the samplers against diffusers 0.30.3: the recorded
 * steps of the shared pipeline fixtures (conformance sd15-tiny-seed0, the
 * UNet outputs replayed), tests/data/sampler-steps.safetensors (diffusers'
 * schedulers run on a fake model by tests/tools/make-sampler-fixture.py),
 * and the scheduler_config.json reader.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "json-config.h"
#include "lf-test.h"
#include "rng.h"
#include "safetensors.h"
#include "samplers.h"

#define SET "sd15-tiny-seed0"

static const LfStTensor *
need (const LfSafetensors *st, const char *name)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  if (t == NULL)
    g_error ("%s: no tensor %s", lf_safetensors_get_path (st), name);
  return t;
}

/* A tensor (F32 or F64) as doubles. Returns: (transfer full). */
static double *
read_f64 (const LfSafetensors *st, const char *name, int64_t *n)
{
  const LfStTensor *t = need (st, name);
  int64_t           count = lf_st_tensor_numel (t);
  double           *out = lf_test_alloc_f64 (count);

  for (int64_t i = 0; i < count; i++)
    out[i] = t->dtype == LF_ST_F64 ? ((const double *)t->data)[i]
                                   : ((const float *)t->data)[i];
  if (n != NULL)
    *n = count;
  return out;
}

static const float *
f32_at (const LfSafetensors *st, const char *name, int64_t offset)
{
  const LfStTensor *t = need (st, name);

  g_assert_cmpint (t->dtype, ==, LF_ST_F32);
  return (const float *)t->data + offset;
}

static double
max_abs_diff (const float *got, const double *ref, int64_t n)
{
  double m = 0;

  for (int64_t i = 0; i < n; i++)
    m = MAX (m, fabs (got[i] - ref[i]));
  return m;
}

/* Checks @got against @ref at rtol · max|ref|, and keeps the worst error
 * relative to max|ref| in @worst for the report. */
static void
check (const char  *what,
       const float *got,
       const float *ref_f,
       int64_t      n,
       double       rtol,
       double      *worst)
{
  g_autofree double *ref = lf_test_alloc_f64 (n);
  double             scale;

  for (int64_t i = 0; i < n; i++)
    ref[i] = ref_f[i];
  scale = MAX (lf_test_max_abs (ref, n), 1e-30);
  *worst = MAX (*worst, max_abs_diff (got, ref, n) / scale);
  lf_test_assert_close_scaled (what, got, ref, n, rtol);
}

static void
check_schedule (const LfSampler *s, const LfSafetensors *st, const char *prefix)
{
  g_autofree char   *ts_name = g_strconcat (prefix, "timesteps", NULL);
  g_autofree char   *sig_name = g_strconcat (prefix, "sigmas", NULL);
  int64_t            n_t, n_s;
  g_autofree double *ts = read_f64 (st, ts_name, &n_t);

  g_assert_cmpint (lf_sampler_get_n_steps (s), ==, n_t);
  for (int i = 0; i < n_t; i++)
    g_assert_cmpfloat (lf_sampler_get_timestep (s, i), ==, ts[i]);
  if (lf_safetensors_lookup (st, sig_name) == NULL)
    {
      g_assert_null (lf_sampler_get_sigmas (s));
      return;
    }
  {
    g_autofree double *sig = read_f64 (st, sig_name, &n_s);
    const double      *got = lf_sampler_get_sigmas (s);

    g_assert_nonnull (got);
    g_assert_cmpint (n_s, ==, n_t + 1);
    for (int i = 0; i < n_s; i++)
      g_assert_cmpfloat_with_epsilon (got[i], sig[i], 1e-6 * sig[0]);
  }
}

/* ------------------------------------------------------------------ */
/* Shared pipeline fixtures: the UNet outputs replayed                 */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char *ref;       /* ref/<ref>.safetensors */
  const char *scheduler; /* schedulers/<scheduler>/scheduler_config.json */
} PipelineCase;

static const PipelineCase pipeline_cases[] = {
  { "t2i_linfusion_ddim", "ddim" },
  { "t2i_orig_ddim", "ddim" },
  { "t2i_linfusion_euler", "euler" },
  { "t2i_linfusion_dpmpp_2m", "dpmpp_2m" },
  { "t2i_linfusion_dpmpp_2m_negprompt", "dpmpp_2m" },
};

static LfSampler *
pipeline_sampler (const char *dir, const PipelineCase *c, int steps)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "schedulers", c->scheduler,
                                            "scheduler_config.json", NULL);
  g_autoptr (LfConfig) json = lf_config_load (path, &error);
  LfSchedulerConfig cfg;
  LfSampler        *s;

  g_assert_no_error (error);
  g_assert_true (lf_scheduler_config_load (json, &cfg, &error));
  g_assert_no_error (error);
  s = lf_sampler_new (&cfg, steps, 1.0, &error);
  g_assert_no_error (error);
  return s;
}

/* eps = out0 + 7.5 · (out1 − out0), batch order [uncond, cond] */
static void
guide (const float *out, int64_t n, float *eps)
{
  for (int64_t j = 0; j < n; j++)
    eps[j] = out[j] + 7.5f * (out[n + j] - out[j]);
}

static void
test_pipeline (gconstpointer data)
{
  const PipelineCase *c = data;
  g_autofree char    *dir = lf_test_conformance_dir (SET);
  g_autofree char    *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfSampler) chain = NULL;
  g_autoptr (LfSampler) single = NULL;
  g_autofree float *x = NULL, *y = NULL, *eps = NULL, *in = NULL;
  double            e_in = 0, e_step = 0, e_final = 0;
  int64_t           n, steps;
  const float      *noise;

  if (dir == NULL)
    return;
  path = g_strdup_printf ("%s/ref/%s.safetensors", dir, c->ref);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  steps = need (st, "timesteps")->shape[0];
  n = lf_st_tensor_numel (need (st, "init_noise"));
  chain = pipeline_sampler (dir, c, steps);
  single = pipeline_sampler (dir, c, steps);
  check_schedule (chain, st, "");
  g_assert_cmpfloat (lf_sampler_get_init_noise_sigma (chain), ==,
                     *f32_at (st, "init_noise_sigma", 0));

  x = lf_test_alloc_f32 (n);
  y = lf_test_alloc_f32 (n);
  eps = lf_test_alloc_f32 (n);
  in = lf_test_alloc_f32 (2 * n);
  noise = f32_at (st, "init_noise", 0);
  for (int64_t j = 0; j < n; j++)
    x[j] = noise[j] * (float)lf_sampler_get_init_noise_sigma (chain);
  for (int i = 0; i < steps; i++)
    {
      const float scale = lf_sampler_get_input_scale (chain, i);

      for (int64_t j = 0; j < 2 * n; j++)
        in[j] = x[j % n] * scale;
      check ("unet_in", in, f32_at (st, "unet_in", i * 2 * n), 2 * n, 1e-6,
             &e_in);
      g_assert_cmpfloat (lf_sampler_get_timestep (chain, i), ==,
                         *f32_at (st, "unet_t", i));
      guide (f32_at (st, "unet_out", i * 2 * n), n, eps);
      /* one step from diffusers' own previous latents */
      memcpy (y, i == 0 ? x : f32_at (st, "step_latents", (i - 1) * n),
              n * sizeof (float));
      lf_sampler_step (single, i, eps, y, n, NULL);
      check ("step", y, f32_at (st, "step_latents", i * n), n, 1e-5, &e_step);
      lf_sampler_step (chain, i, eps, x, n, NULL);
    }
  check ("final_latents", x, f32_at (st, "final_latents", 0), n, 1e-3,
         &e_final);
  g_test_message ("%s: max |err|/max|ref|: unet_in %.2g, step %.2g, "
                  "final %.2g",
                  c->ref, e_in, e_step, e_final);
}

/* ------------------------------------------------------------------ */
/* Own fixture: diffusers' schedulers on a fake model                  */
/* ------------------------------------------------------------------ */

static LfSafetensors *
open_steps_fixture (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = lf_test_data_path ("sampler-steps.safetensors");
  LfSafetensors   *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

/* The fixture's model: 0.3 · (x / (1 + |x|)) + float32 (1e-3 · t). */
static void
fake_model (const float *x, double t, int64_t n, float *m)
{
  const float bias = (float)(1e-3 * t);

  for (int64_t j = 0; j < n; j++)
    m[j] = 0.3f * (x[j] / (1.0f + fabsf (x[j]))) + bias;
}

static LfSampler *
case_sampler (const LfSafetensors *st, const char *name, guint64 *seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = g_strconcat (name, ".config", NULL);
  g_autofree char *run_key = g_strconcat (name, ".run", NULL);
  const char      *text = lf_safetensors_get_metadata (st, key);
  const char      *run = lf_safetensors_get_metadata (st, run_key);
  g_auto (GStrv) parts = g_strsplit (run, " ", 3);
  g_autoptr (LfConfig) json = lf_config_new_from_data (text, -1, key, &error);
  LfSchedulerConfig cfg;
  LfSampler        *s;

  g_assert_no_error (error);
  g_assert_true (lf_scheduler_config_load (json, &cfg, &error));
  g_assert_no_error (error);
  s = lf_sampler_new (&cfg, atoi (parts[0]), g_ascii_strtod (parts[1], NULL),
                      &error);
  g_assert_no_error (error);
  *seed = g_ascii_strtoull (parts[2], NULL, 10);
  return s;
}

/* The initial latents: noise · init_noise_sigma, or add_noise (x0, noise). */
static void
initial_latents (const LfSampler     *s,
                 const LfSafetensors *st,
                 const char          *name,
                 const float         *noise,
                 int64_t              n,
                 float               *x,
                 double              *worst)
{
  g_autofree char *x0_name = g_strconcat (name, ".x0", NULL);
  g_autofree char *ins_name = g_strconcat (name, ".init_noise_sigma", NULL);
  g_autofree char *l0_name = g_strconcat (name, ".latents0", NULL);

  if (lf_safetensors_lookup (st, x0_name) == NULL)
    {
      g_autofree double *ins = read_f64 (st, ins_name, NULL);

      g_assert_cmpfloat (lf_sampler_get_init_noise_sigma (s), ==, ins[0]);
      for (int64_t j = 0; j < n; j++)
        x[j] = noise[j] * (float)lf_sampler_get_init_noise_sigma (s);
      return;
    }
  lf_sampler_add_noise (s, f32_at (st, x0_name, 0), noise, n, x);
  check ("add_noise", x, f32_at (st, l0_name, 0), n, 1e-6, worst);
}

static void
test_fixture_case (gconstpointer data)
{
  const char *name = data;
  g_autoptr (LfSafetensors) st = open_steps_fixture ();
  g_autoptr (LfSampler) s = NULL;
  g_autofree char   *noise_name = g_strconcat (name, ".noise", NULL);
  g_autofree char   *steps_name = g_strconcat (name, ".step_latents", NULL);
  g_autofree char   *div_name = g_strconcat (name, ".divisor", NULL);
  g_autofree char   *prefix = g_strconcat (name, ".", NULL);
  g_autofree double *divisor = read_f64 (st, div_name, NULL);
  int64_t            n = lf_st_tensor_numel (need (st, noise_name));
  g_autofree float  *noise = lf_test_alloc_f32 (n);
  g_autofree float  *x = lf_test_alloc_f32 (n);
  g_autofree float  *in = lf_test_alloc_f32 (n);
  g_autofree float  *m = lf_test_alloc_f32 (n);
  double             e_noise = 0, e_init = 0, e_step = 0;
  guint64            seed;
  LfTorchRng         rng;

  s = case_sampler (st, name, &seed);
  check_schedule (s, st, prefix);
  lf_torch_rng_init (&rng, seed, LF_TORCH_RANDN_AVX2);
  lf_torch_rng_randn (&rng, noise, n);
  check ("noise", noise, f32_at (st, noise_name, 0), n, 0, &e_noise);
  initial_latents (s, st, name, noise, n, x, &e_init);
  g_assert_true (lf_sampler_reserve (s, n, NULL));
  for (int i = 0; i < lf_sampler_get_n_steps (s); i++)
    {
      const float scale = lf_sampler_get_input_scale (s, i);
      char        what[64];

      g_assert_cmpfloat_with_epsilon (1.0 / scale, divisor[i],
                                      1e-6 * divisor[i]);
      for (int64_t j = 0; j < n; j++)
        in[j] = x[j] * scale;
      fake_model (in, lf_sampler_get_timestep (s, i), n, m);
      lf_sampler_step (s, i, m, x, n, &rng);
      g_snprintf (what, sizeof what, "%s step %d", name, i);
      check (what, x, f32_at (st, steps_name, i * n), n, 1e-5, &e_step);
    }
  g_test_message ("%s: max |err|/max|ref|: add_noise %.2g, steps %.2g", name,
                  e_init, e_step);
}

/* ᾱ bit for bit: torch.linspace's fused AVX2 kernel and cumprod in double
 * are what make the schedules agree to the last bit. */
static void
test_alphas_cumprod (void)
{
  static const struct
  {
    LfBetaSchedule schedule;
    const char    *name;
    double         start, end;
  } cases[] = {
    { LF_BETAS_SCALED_LINEAR, "scaled_linear", 0.00085, 0.012 },
    { LF_BETAS_LINEAR, "linear", 0.0001, 0.02 },
    { LF_BETAS_SQUAREDCOS_CAP_V2, "squaredcos_cap_v2", 0.0001, 0.02 },
  };
  g_autoptr (LfSafetensors) st = open_steps_fixture ();

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *name
          = g_strconcat ("alphas_cumprod.", cases[c].name, NULL);
      const float      *want = f32_at (st, name, 0);
      LfSchedulerConfig cfg;
      g_autofree float *got = NULL;

      lf_scheduler_config_init (&cfg, LF_SAMPLER_DDIM);
      cfg.beta_schedule = cases[c].schedule;
      cfg.beta_start = cases[c].start;
      cfg.beta_end = cases[c].end;
      got = lf_scheduler_config_alphas_cumprod (&cfg);
      g_assert_cmpint (lf_st_tensor_numel (need (st, name)), ==, 1000);
      for (int t = 0; t < 1000; t++)
        if (memcmp (&got[t], &want[t], sizeof (float)) != 0)
          {
            g_test_fail_printf ("%s[%d]: got %.9g, diffusers %.9g", name, t,
                                (double)got[t], (double)want[t]);
            return;
          }
    }
}

/* ------------------------------------------------------------------ */
/* Config                                                              */
/* ------------------------------------------------------------------ */

static gboolean
load_text (const char *text, LfSchedulerConfig *cfg, GError **error)
{
  g_autoptr (LfConfig) json
      = lf_config_new_from_data (text, -1, "scheduler_config.json", error);

  return json != NULL && lf_scheduler_config_load (json, cfg, error);
}

static void
load_shared (const char *dir, const char *sub, LfSchedulerConfig *cfg)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path
      = g_build_filename (dir, sub, "scheduler_config.json", NULL);
  g_autoptr (LfConfig) json = lf_config_load (path, &error);

  g_assert_no_error (error);
  g_assert_true (lf_scheduler_config_load (json, cfg, &error));
  g_assert_no_error (error);
}

static void
assert_sd_schedule (const LfSchedulerConfig *cfg)
{
  g_assert_cmpint (cfg->num_train_timesteps, ==, 1000);
  g_assert_cmpfloat (cfg->beta_start, ==, 0.00085);
  g_assert_cmpfloat (cfg->beta_end, ==, 0.012);
  g_assert_cmpint (cfg->beta_schedule, ==, LF_BETAS_SCALED_LINEAR);
  g_assert_cmpint (cfg->steps_offset, ==, 1);
  g_assert_false (cfg->set_alpha_to_one);
  g_assert_cmpint (cfg->prediction, ==, LF_PREDICTION_EPSILON);
}

static void
test_config_shared (void)
{
  g_autofree char  *dir = lf_test_conformance_dir (SET);
  LfSchedulerConfig cfg;

  if (dir == NULL)
    return;
  load_shared (dir, "schedulers/ddim", &cfg);
  assert_sd_schedule (&cfg);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_DDIM);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_LEADING);
  load_shared (dir, "scheduler", &cfg);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_DDIM);
  load_shared (dir, "schedulers/euler", &cfg);
  assert_sd_schedule (&cfg);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_EULER);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_LINSPACE);
  g_assert_true (cfg.final_sigma_zero);
  /* "lambda_min_clipped": -Infinity */
  load_shared (dir, "schedulers/dpmpp_2m", &cfg);
  assert_sd_schedule (&cfg);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_DPMPP_2M);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_LINSPACE);
  g_assert_true (cfg.lower_order_final);
  g_assert_false (cfg.use_karras_sigmas);
}

static void
test_config_classes (void)
{
  g_autoptr (GError) error = NULL;
  LfSchedulerConfig cfg;

  /* SD-1.5's published scheduler_config.json */
  g_assert_true (load_text (
      "{\"_class_name\": \"PNDMScheduler\", \"beta_end\": 0.012, "
      "\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, "
      "\"num_train_timesteps\": 1000, \"set_alpha_to_one\": false, "
      "\"skip_prk_steps\": true, \"steps_offset\": 1, "
      "\"trained_betas\": null, \"clip_sample\": false}",
      &cfg, &error));
  g_assert_no_error (error);
  assert_sd_schedule (&cfg);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_DDIM);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_LEADING);

  g_assert_true (load_text ("{\"_class_name\": "
                            "\"DPMSolverMultistepScheduler\", "
                            "\"use_karras_sigmas\": true, "
                            "\"prediction_type\": \"v_prediction\", "
                            "\"final_sigmas_type\": \"sigma_min\"}",
                            &cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_DPMPP_2M_KARRAS);
  g_assert_true (cfg.use_karras_sigmas);
  g_assert_cmpint (cfg.prediction, ==, LF_PREDICTION_V);
  g_assert_false (cfg.final_sigma_zero);
  /* diffusers' defaults for what the file leaves out */
  g_assert_cmpfloat (cfg.beta_start, ==, 0.0001);
  g_assert_cmpint (cfg.beta_schedule, ==, LF_BETAS_LINEAR);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_LINSPACE);
  g_assert_cmpint (cfg.steps_offset, ==, 0);

  g_assert_true (load_text ("{\"_class_name\": "
                            "\"EulerAncestralDiscreteScheduler\", "
                            "\"timestep_spacing\": \"trailing\"}",
                            &cfg, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cfg.kind, ==, LF_SAMPLER_EULER_A);
  g_assert_cmpint (cfg.spacing, ==, LF_SPACING_TRAILING);

  /* DDIM clips x0 to [-1, 1] unless told otherwise, as diffusers */
  g_assert_true (
      load_text ("{\"_class_name\": \"DDIMScheduler\"}", &cfg, &error));
  g_assert_no_error (error);
  g_assert_true (cfg.clip_sample);
  g_assert_cmpfloat (cfg.clip_sample_range, ==, 1.0);
  g_assert_true (
      load_text ("{\"_class_name\": \"PNDMScheduler\"}", &cfg, &error));
  g_assert_false (cfg.clip_sample);
}

/* EulerDiscreteScheduler.from_config (ddim.config) keeps DDIM's leading
 * spacing and steps_offset: 5 steps give 801 … 1, not linspace's 999 … 0. */
static void
test_config_with_kind (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSampler) s = NULL;
  LfSchedulerConfig ddim, euler, karras, back;
  const double      want[] = { 801, 601, 401, 201, 1 };

  lf_scheduler_config_init (&ddim, LF_SAMPLER_DDIM);
  ddim.prediction = LF_PREDICTION_V;
  lf_scheduler_config_with_kind (&ddim, LF_SAMPLER_EULER, &euler);
  g_assert_cmpint (euler.kind, ==, LF_SAMPLER_EULER);
  g_assert_cmpint (euler.spacing, ==, LF_SPACING_LEADING);
  g_assert_cmpint (euler.prediction, ==, LF_PREDICTION_V);
  g_assert_cmpfloat (euler.beta_end, ==, 0.012);
  g_assert_true (euler.final_sigma_zero);
  lf_scheduler_config_with_kind (&euler, LF_SAMPLER_DPMPP_2M_KARRAS, &karras);
  g_assert_true (karras.use_karras_sigmas);
  g_assert_true (karras.lower_order_final);
  lf_scheduler_config_with_kind (&karras, LF_SAMPLER_DPMPP_2M, &back);
  g_assert_false (back.use_karras_sigmas);

  s = lf_sampler_new (&euler, 5, 1.0, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 5; i++)
    g_assert_cmpfloat (lf_sampler_get_timestep (s, i), ==, want[i]);
  g_assert_nonnull (lf_sampler_get_sigmas (s));
  /* leading: init_noise_sigma = (σ_max² + 1) ** 0.5 */
  g_assert_cmpfloat (lf_sampler_get_init_noise_sigma (s), >,
                     lf_sampler_get_sigmas (s)[0]);
}

static void
assert_unsupported (const char *text, const char *key)
{
  g_autoptr (GError) error = NULL;
  LfSchedulerConfig cfg;

  g_assert_false (load_text (text, &cfg, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, key));
  g_assert_nonnull (strstr (error->message, "scheduler_config.json"));
}

static void
test_config_unsupported (void)
{
  g_autoptr (GError) error = NULL;
  LfSchedulerConfig cfg;

  assert_unsupported ("{\"_class_name\": \"LMSDiscreteScheduler\"}",
                      "_class_name");
  assert_unsupported ("{\"_class_name\": \"EulerDiscreteScheduler\", "
                      "\"prediction_type\": \"sample\"}",
                      "prediction_type");
  assert_unsupported ("{\"_class_name\": \"DDIMScheduler\", "
                      "\"clip_sample\": false, \"thresholding\": true}",
                      "thresholding");
  assert_unsupported ("{\"_class_name\": \"DDIMScheduler\", "
                      "\"clip_sample_range\": -1}",
                      "clip_sample_range");
  assert_unsupported ("{\"_class_name\": \"EulerDiscreteScheduler\", "
                      "\"trained_betas\": [0.1, 0.2]}",
                      "trained_betas");
  assert_unsupported ("{\"_class_name\": \"EulerDiscreteScheduler\", "
                      "\"beta_schedule\": \"sigmoid\"}",
                      "beta_schedule");
  assert_unsupported ("{\"_class_name\": \"EulerDiscreteScheduler\", "
                      "\"use_karras_sigmas\": true}",
                      "use_karras_sigmas");
  assert_unsupported ("{\"_class_name\": \"DPMSolverMultistepScheduler\", "
                      "\"solver_order\": 3}",
                      "solver_order");
  assert_unsupported ("{\"_class_name\": \"DPMSolverMultistepScheduler\", "
                      "\"algorithm_type\": \"sde-dpmsolver++\"}",
                      "algorithm_type");
  assert_unsupported ("{\"_class_name\": \"DPMSolverMultistepScheduler\", "
                      "\"lambda_min_clipped\": -5.1}",
                      "lambda_min_clipped");
  assert_unsupported ("{\"_class_name\": \"DPMSolverMultistepScheduler\", "
                      "\"timestep_spacing\": \"karras\"}",
                      "timestep_spacing");

  g_assert_false (load_text ("{\"_class_name\": \"DDIMScheduler\", "
                             "\"clip_sample\": false, "
                             "\"steps_offset\": \"one\"}",
                             &cfg, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "steps_offset"));
  g_clear_error (&error);
  g_assert_false (load_text ("{\"beta_start\": 0.1}", &cfg, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "_class_name"));
}

static void
assert_invalid (LfSamplerKind kind, int steps, double strength)
{
  g_autoptr (GError) error = NULL;
  LfSchedulerConfig cfg;

  lf_scheduler_config_init (&cfg, kind);
  g_assert_null (lf_sampler_new (&cfg, steps, strength, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
}

static void
test_invalid_requests (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSampler) s = NULL;
  LfSchedulerConfig cfg;

  assert_invalid (LF_SAMPLER_EULER, 0, 1.0);
  assert_invalid (LF_SAMPLER_DDIM, -3, 1.0);
  assert_invalid (LF_SAMPLER_DPMPP_2M, 1001, 1.0);
  assert_invalid (LF_SAMPLER_EULER_A, 20, -0.1);
  assert_invalid (LF_SAMPLER_DDIM, 20, 1.5);
  assert_invalid (LF_SAMPLER_DDIM, 20, NAN);
  /* int (10 · 0.05) = 0 steps left: diffusers refuses it too */
  assert_invalid (LF_SAMPLER_EULER, 10, 0.05);
  /* leading 1000 steps + steps_offset 1 reaches timestep 1000 */
  assert_invalid (LF_SAMPLER_DDIM, 1000, 1.0);

  lf_scheduler_config_init (&cfg, LF_SAMPLER_DPMPP_2M_KARRAS);
  s = lf_sampler_new (&cfg, 1, 1.0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_sampler_get_n_steps (s), ==, 1);
}

static void
test_names (void)
{
  const char *names[]
      = { "ddim", "euler", "euler-a", "dpmpp-2m", "dpmpp-2m-karras" };
  LfSamplerKind kind;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_assert_true (lf_sampler_kind_from_string (names[i], &kind));
      g_assert_cmpint (kind, ==, i);
      g_assert_cmpstr (lf_sampler_kind_to_string (kind), ==, names[i]);
    }
  g_assert_false (lf_sampler_kind_from_string ("plms", &kind));
  g_assert_false (lf_sampler_kind_from_string ("DDIM", &kind));
  g_assert_false (lf_sampler_kind_from_string (NULL, &kind));
}

static void
add_fixture_cases (void)
{
  g_autoptr (LfSafetensors) st = open_steps_fixture ();
  const char *cases = lf_safetensors_get_metadata (st, "cases");
  g_auto (GStrv) names = g_strsplit (cases, ",", -1);

  for (int i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path
          = g_strconcat ("/samplers/diffusers/", names[i], NULL);

      /* the names live until exit: the test data pointers stay valid */
      g_test_add_data_func (path, g_strdup (names[i]), test_fixture_case);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/samplers/names", test_names);
  g_test_add_func ("/samplers/config/shared", test_config_shared);
  g_test_add_func ("/samplers/config/classes", test_config_classes);
  g_test_add_func ("/samplers/config/with-kind", test_config_with_kind);
  g_test_add_func ("/samplers/config/unsupported", test_config_unsupported);
  g_test_add_func ("/samplers/invalid-requests", test_invalid_requests);
  g_test_add_func ("/samplers/alphas-cumprod", test_alphas_cumprod);
  for (guint i = 0; i < G_N_ELEMENTS (pipeline_cases); i++)
    {
      g_autofree char *path
          = g_strconcat ("/samplers/pipeline/", pipeline_cases[i].ref, NULL);

      g_test_add_data_func (path, &pipeline_cases[i], test_pipeline);
    }
  add_fixture_cases ();
  return g_test_run ();
}
