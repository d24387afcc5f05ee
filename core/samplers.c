/* samplers.c: timesteps, sigmas and steps of the DDIM, Euler, Euler a and
 * DPM++ 2M samplers of diffusers 0.30.3 (scheduling_ddim.py,
 * scheduling_euler_discrete.py, scheduling_euler_ancestral_discrete.py,
 * scheduling_dpmsolver_multistep.py), computing in float where diffusers
 * uses torch float32 and in double where it uses numpy float64.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "samplers.h"

/* torch's float32 arithmetic is reproduced operation by operation; a fused
 * multiply-add where torch rounds twice would change the last bits. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

struct _LfSampler
{
  LfSchedulerConfig cfg;
  int               n_train;
  float            *alphas_cumprod; /* (n_train) torch float32 */
  int               n_all;          /* len (scheduler.timesteps) */
  int               begin;          /* img2img: get_timesteps' t_start */
  double           *timesteps;      /* (n_all) */
  double           *sigmas;         /* (n_all + 1) float32 values; NULL: DDIM */
  float             init_noise_sigma;
  float            *scratch; /* (scratch_n) DPM++ last x0, Euler a noise */
  int64_t           scratch_n;
  int               lower_order_nums; /* DPM++: steps taken, up to 2 */
  int               next_step;
};

/* ᾱ itself comes from lf_scheduler_config_alphas_cumprod.
 * σ_t = ((1 − ᾱ_t) / ᾱ_t) ** 0.5 in float32, as all three σ samplers do. */
static float
sigma_of (const LfSampler *s, int t)
{
  const float a = s->alphas_cumprod[t];

  return sqrtf ((1.0f - a) / a);
}

/* ------------------------------------------------------------------ */
/* Timesteps (numpy float64)                                           */
/* ------------------------------------------------------------------ */

/* np.linspace (start, stop, num): i·step + start, the last exactly stop. */
static void
np_linspace (double start, double stop, int num, double *out)
{
  double step;

  if (num == 1)
    {
      out[0] = start;
      return;
    }
  step = (stop - start) / (num - 1);
  for (int i = 0; i < num; i++)
    out[i] = i * step + start;
  out[num - 1] = stop;
}

/* np.arange (start, 0, −ratio).round () − 1, the trailing spacing. numpy
 * fills start + i·((start − ratio) − start). Where ceil (start / ratio)
 * exceeds @num (61 steps of 1000, …) diffusers gets an extra timestep −1,
 * which DDIM then looks up as alphas_cumprod[-1]; we keep the @num real
 * ones. */
static void
np_trailing (double start, int num, double ratio, double *out)
{
  const double delta = (start - ratio) - start;

  for (int i = 0; i < num; i++)
    out[i] = nearbyint (i == 0   ? start
                        : i == 1 ? start - ratio
                                 : start + i * delta)
             - 1;
}

/* leading: (arange (top + 1) · ratio) reversed, the first @num, +
 * steps_offset (top is N − 1, or N for DPM++, which drops the 0). */
static void
leading (int num, int top, int ratio, int offset, double *out)
{
  for (int i = 0; i < num; i++)
    out[i] = (double)(top - i) * ratio + offset;
}

static gboolean
is_dpm (LfSamplerKind kind)
{
  return kind == LF_SAMPLER_DPMPP_2M || kind == LF_SAMPLER_DPMPP_2M_KARRAS;
}

static gboolean
is_euler (LfSamplerKind kind)
{
  return kind == LF_SAMPLER_EULER || kind == LF_SAMPLER_EULER_A;
}

/* DPM++ keeps the last x0, Euler a draws its noise: n floats each. */
static gboolean
needs_scratch (LfSamplerKind kind)
{
  return is_dpm (kind) || kind == LF_SAMPLER_EULER_A;
}

static void
make_timesteps (const LfSampler *s, int num, double *out)
{
  const int T = s->n_train;
  const int n_lin = is_dpm (s->cfg.kind) ? num + 1 : num;
  double   *lin;

  switch (s->cfg.spacing)
    {
    case LF_SPACING_LEADING:
      if (is_dpm (s->cfg.kind))
        leading (num, num, T / (num + 1), s->cfg.steps_offset, out);
      else
        leading (num, num - 1, T / num, s->cfg.steps_offset, out);
      return;
    case LF_SPACING_TRAILING:
      np_trailing (T, num, (double)T / num, out);
      return;
    case LF_SPACING_LINSPACE:
      break;
    }
  /* DDIM rounds linspace (0, T−1, N); DPM++ rounds linspace (0, T−1, N+1)
   * and drops the 0; Euler keeps linspace (…, dtype=float32) unrounded. */
  lin = g_new (double, n_lin);
  np_linspace (0, T - 1, n_lin, lin);
  for (int i = 0; i < num; i++)
    {
      const double t = lin[n_lin - 1 - i];

      if (is_euler (s->cfg.kind))
        out[i] = (float)t;
      else
        out[i] = nearbyint (t);
    }
  g_free (lin);
}

/* ------------------------------------------------------------------ */
/* Sigmas                                                              */
/* ------------------------------------------------------------------ */

/* np.interp (t, arange (T), σ): the σ table read at fractional t. */
static double
np_interp_sigma (const LfSampler *s, double t)
{
  const int T = s->n_train;
  int       j;
  double    slope;

  if (t <= 0)
    return sigma_of (s, 0);
  if (t >= T - 1)
    return sigma_of (s, T - 1);
  j = (int)floor (t);
  if (t == j)
    return sigma_of (s, j);
  slope = ((double)sigma_of (s, j + 1) - sigma_of (s, j)) / 1.0;
  return slope * (t - j) + sigma_of (s, j);
}

/* _sigma_to_t: linear interpolation in log σ over the float32 log σ table;
 * low_idx is the argmax of the cumulative count of log σ_t ≤ log σ. */
static double
sigma_to_t (const float *log_sigmas, int T, double sigma)
{
  const double log_sigma = log (MAX (sigma, 1e-10));
  int          count = 0, total = 0, low = 0;
  double       w;

  for (int j = 0; j < T; j++)
    total += log_sigma - log_sigmas[j] >= 0;
  for (int j = 0; j < T && total > 0; j++)
    if ((count += log_sigma - log_sigmas[j] >= 0) == total)
      {
        low = j;
        break;
      }
  low = MIN (low, T - 2);
  w = ((double)log_sigmas[low] - log_sigma)
      / ((double)log_sigmas[low] - log_sigmas[low + 1]);
  w = CLAMP (w, 0.0, 1.0);
  return (1 - w) * low + w * (low + 1);
}

/* _convert_to_karras over the full σ table (DPM++: σ_min = σ(0), σ_max =
 * σ(T−1)), ρ = 7, and the timesteps diffusers rounds for the UNet. */
static void
karras_sigmas (LfSampler *s, int num)
{
  const int T = s->n_train;
  float    *log_sigmas = g_new (float, T);
  double   *ramp = g_new (double, num);
  double    min_inv = pow ((double)sigma_of (s, 0), 1 / 7.0);
  double    max_inv = pow ((double)sigma_of (s, T - 1), 1 / 7.0);

  /* np.log of a float32 array is float32 */
  for (int t = 0; t < T; t++)
    log_sigmas[t] = (float)log ((double)sigma_of (s, t));
  np_linspace (0, 1, num, ramp);
  for (int i = 0; i < num; i++)
    {
      const double sigma = pow (max_inv + ramp[i] * (min_inv - max_inv), 7.0);

      s->sigmas[i] = (float)sigma;
      s->timesteps[i] = nearbyint (sigma_to_t (log_sigmas, T, sigma));
    }
  g_free (ramp);
  g_free (log_sigmas);
}

static void
make_sigmas (LfSampler *s)
{
  const int n = s->n_all;
  float     max = 0;

  s->sigmas = g_new (double, n + 1);
  if (s->cfg.kind == LF_SAMPLER_DPMPP_2M_KARRAS)
    karras_sigmas (s, n);
  else
    for (int i = 0; i < n; i++)
      s->sigmas[i] = (float)np_interp_sigma (s, s->timesteps[i]);
  /* Euler ancestral has no final_sigmas_type: always 0 */
  s->sigmas[n] = s->cfg.final_sigma_zero || s->cfg.kind == LF_SAMPLER_EULER_A
                     ? 0.0
                     : sigma_of (s, 0);

  for (int i = 0; i <= n; i++)
    max = MAX (max, (float)s->sigmas[i]);
  s->init_noise_sigma = 1.0f;
  if (is_euler (s->cfg.kind))
    s->init_noise_sigma
        = s->cfg.spacing == LF_SPACING_LEADING ? sqrtf (max * max + 1.0f) : max;
}

/* ------------------------------------------------------------------ */
/* Sampler                                                             */
/* ------------------------------------------------------------------ */

static gboolean
check_request (const LfSchedulerConfig *cfg,
               int                      steps,
               double                   strength,
               GError                 **error)
{
  if (steps < 1 || steps > cfg->num_train_timesteps)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("%d steps: expected 1 to %d"), steps,
                   cfg->num_train_timesteps);
      return FALSE;
    }
  if (!(strength >= 0 && strength <= 1))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("strength %g: expected 0 to 1"), strength);
      return FALSE;
    }
  if ((int)(steps * strength) < 1)
    {
      /* diffusers' img2img refuses this too */
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("strength %g leaves none of the %d steps to run"),
                   strength, steps);
      return FALSE;
    }
  return TRUE;
}

/* DDIM looks ᾱ up at every timestep: leading spacing with a large
 * steps_offset can run past the table, where diffusers raises. */
static gboolean
check_ddim_timesteps (const LfSampler *s, GError **error)
{
  for (int i = 0; i < s->n_all; i++)
    if (s->timesteps[i] < 0 || s->timesteps[i] >= s->n_train)
      {
        g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                     _ ("%d steps with steps_offset %d give timestep %g, "
                        "outside the %d of the schedule"),
                     s->n_all, s->cfg.steps_offset, s->timesteps[i],
                     s->n_train);
        return FALSE;
      }
  return TRUE;
}

LfSampler *
lf_sampler_new (const LfSchedulerConfig *cfg,
                int                      steps,
                double                   strength,
                GError                 **error)
{
  g_autoptr (LfSampler) s = NULL;

  g_return_val_if_fail (cfg != NULL, NULL);
  g_return_val_if_fail (cfg->num_train_timesteps >= 2, NULL);
  if (!check_request (cfg, steps, strength, error))
    return NULL;

  s = g_new0 (LfSampler, 1);
  s->cfg = *cfg;
  s->cfg.use_karras_sigmas = cfg->kind == LF_SAMPLER_DPMPP_2M_KARRAS;
  s->n_train = cfg->num_train_timesteps;
  s->alphas_cumprod = lf_scheduler_config_alphas_cumprod (cfg);
  s->n_all = steps;
  s->begin = steps - MIN ((int)(steps * strength), steps);
  s->timesteps = g_new (double, steps);
  make_timesteps (s, steps, s->timesteps);
  if (cfg->kind == LF_SAMPLER_DDIM)
    {
      s->init_noise_sigma = 1.0f;
      if (!check_ddim_timesteps (s, error))
        return NULL;
    }
  else
    make_sigmas (s);
  return g_steal_pointer (&s);
}

void
lf_sampler_free (LfSampler *sampler)
{
  if (sampler == NULL)
    return;
  g_free (sampler->alphas_cumprod);
  g_free (sampler->timesteps);
  g_free (sampler->sigmas);
  g_free (sampler->scratch);
  g_free (sampler);
}

int
lf_sampler_get_n_steps (const LfSampler *sampler)
{
  return sampler->n_all - sampler->begin;
}

double
lf_sampler_get_init_noise_sigma (const LfSampler *sampler)
{
  return sampler->init_noise_sigma;
}

double
lf_sampler_get_timestep (const LfSampler *sampler, int i)
{
  g_return_val_if_fail (i >= 0 && i < lf_sampler_get_n_steps (sampler), 0);
  return sampler->timesteps[sampler->begin + i];
}

/* Euler's scale_model_input divides by (σ² + 1) ** 0.5 in float32; the
 * reciprocal here may differ from that division in the last bit. */
float
lf_sampler_get_input_scale (const LfSampler *sampler, int i)
{
  float sigma;

  g_return_val_if_fail (i >= 0 && i < lf_sampler_get_n_steps (sampler), 1);
  if (!is_euler (sampler->cfg.kind))
    return 1.0f;
  sigma = (float)sampler->sigmas[sampler->begin + i];
  return 1.0f / sqrtf (sigma * sigma + 1.0f);
}

const double *
lf_sampler_get_sigmas (const LfSampler *sampler)
{
  return sampler->sigmas ? sampler->sigmas + sampler->begin : NULL;
}

gboolean
lf_sampler_reserve (LfSampler *sampler, int64_t n, GError **error)
{
  if (!needs_scratch (sampler->cfg.kind) || sampler->scratch_n >= n)
    return TRUE;
  g_free (sampler->scratch);
  sampler->scratch_n = 0;
  sampler->scratch = g_try_malloc_n (n, sizeof (float));
  if (sampler->scratch == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY,
                   _ ("the sampler's %.1f MiB of scratch latents do not fit "
                      "in memory"),
                   (double)n * sizeof (float) / (1 << 20));
      return FALSE;
    }
  sampler->scratch_n = n;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* add_noise                                                           */
/* ------------------------------------------------------------------ */

/* DDIM: y = ᾱ_t ** 0.5 · x0 + (1 − ᾱ_t) ** 0.5 · z
 * Euler, Euler a: y = x0 + z · σ
 * DPM++: α = 1 / (σ² + 1) ** 0.5, y = α · x0 + (σ · α) · z */
void
lf_sampler_add_noise (const LfSampler *sampler,
                      const float     *x0,
                      const float     *noise,
                      int64_t          n,
                      float           *y)
{
  const int k = sampler->begin;
  float     a, b, sigma;

  switch (sampler->cfg.kind)
    {
    case LF_SAMPLER_DDIM:
      a = sampler->alphas_cumprod[(int)sampler->timesteps[k]];
      b = sqrtf (1.0f - a);
      a = sqrtf (a);
      break;
    case LF_SAMPLER_EULER:
    case LF_SAMPLER_EULER_A:
      sigma = (float)sampler->sigmas[k];
      for (int64_t i = 0; i < n; i++)
        y[i] = x0[i] + noise[i] * sigma;
      return;
    default:
      sigma = (float)sampler->sigmas[k];
      a = 1.0f / sqrtf (sigma * sigma + 1.0f);
      b = sigma * a;
      break;
    }
  for (int64_t i = 0; i < n; i++)
    y[i] = a * x0[i] + b * noise[i];
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

/* DDIM, η = 0 (scheduling_ddim.py::step), t' = t − T // N:
 *   ε: x0 = (x − (1 − ᾱ_t) ** 0.5 · ε) / ᾱ_t ** 0.5
 *   v: x0 = ᾱ_t ** 0.5 · x − (1 − ᾱ_t) ** 0.5 · v,
 *      ε  = ᾱ_t ** 0.5 · v + (1 − ᾱ_t) ** 0.5 · x
 *   x' = ᾱ_t' ** 0.5 · x0 + (1 − ᾱ_t') ** 0.5 · ε
 * with ᾱ_t' = ᾱ_0 (or 1 with set_alpha_to_one) past the start. */
static void
step_ddim (LfSampler *s, int k, const float *m, float *x, int64_t n)
{
  const int   t = (int)s->timesteps[k];
  const int   t_prev = t - s->n_train / s->n_all;
  const float a_t = s->alphas_cumprod[t];
  const float a_prev = t_prev >= 0               ? s->alphas_cumprod[t_prev]
                       : s->cfg.set_alpha_to_one ? 1.0f
                                                 : s->alphas_cumprod[0];
  const float sa = sqrtf (a_t), sb = sqrtf (1.0f - a_t);
  const float sa_prev = sqrtf (a_prev), dir = sqrtf (1.0f - a_prev);
  const float r = (float)s->cfg.clip_sample_range;

  if (s->cfg.prediction == LF_PREDICTION_EPSILON && !s->cfg.clip_sample)
    for (int64_t i = 0; i < n; i++)
      x[i] = sa_prev * ((x[i] - sb * m[i]) / sa) + dir * m[i];
  else
    for (int64_t i = 0; i < n; i++)
      {
        const gboolean eps_pred = s->cfg.prediction == LF_PREDICTION_EPSILON;
        float x0 = eps_pred ? (x[i] - sb * m[i]) / sa : sa * x[i] - sb * m[i];
        const float eps = eps_pred ? m[i] : sa * m[i] + sb * x[i];

        /* clip_sample clamps x0 only; ε stays the model's (diffusers'
         * use_clipped_model_output is false in its pipelines). */
        if (s->cfg.clip_sample)
          x0 = x0 < -r ? -r : (x0 > r ? r : x0);
        x[i] = sa_prev * x0 + dir * eps;
      }
}

/* Euler's and Euler a's x0 (scheduling_euler_discrete.py::step):
 *   ε: x0 = x − σ · ε
 *   v: x0 = v · (−σ / (σ² + 1) ** 0.5) + x / (σ² + 1) */
static inline float
sigma_x0 (
    gboolean v, float sigma, float c_out, float c_skip_den, float x, float m)
{
  return v ? m * c_out + x / c_skip_den : x - sigma * m;
}

/* Euler (s_churn 0): d = (x − x0) / σ, x' = x + d · (σ' − σ).
 * diffusers also draws (and ignores) randn noise each step; nothing after
 * the loop reads the generator, so it is not drawn here. */
static void
step_euler (LfSampler *s, int k, const float *m, float *x, int64_t n)
{
  const gboolean v = s->cfg.prediction == LF_PREDICTION_V;
  const float    sigma = (float)s->sigmas[k];
  const float    dt = (float)s->sigmas[k + 1] - sigma;
  const float    c_skip_den = sigma * sigma + 1.0f;
  const float    c_out = -sigma / sqrtf (c_skip_den);

  for (int64_t i = 0; i < n; i++)
    {
      const float x0 = sigma_x0 (v, sigma, c_out, c_skip_den, x[i], m[i]);

      x[i] = x[i] + (x[i] - x0) / sigma * dt;
    }
}

/* Euler ancestral (scheduling_euler_ancestral_discrete.py::step), η = 1:
 *   σ_up = (σ'² · (σ² − σ'²) / σ²) ** 0.5, σ_down = (σ'² − σ_up²) ** 0.5
 *   x' = x + (x − x0) / σ · (σ_down − σ) + z · σ_up, z = randn from @rng
 * (drawn at every step, the last one too, as diffusers does). */
static void
step_euler_a (
    LfSampler *s, int k, const float *m, float *x, int64_t n, LfTorchRng *rng)
{
  const gboolean v = s->cfg.prediction == LF_PREDICTION_V;
  const float    sigma = (float)s->sigmas[k], to = (float)s->sigmas[k + 1];
  const float    up
      = sqrtf (to * to * (sigma * sigma - to * to) / (sigma * sigma));
  const float dt = sqrtf (to * to - up * up) - sigma;
  const float c_skip_den = sigma * sigma + 1.0f;
  const float c_out = -sigma / sqrtf (c_skip_den);
  float      *z = s->scratch;

  lf_torch_rng_randn (rng, z, n);
  for (int64_t i = 0; i < n; i++)
    {
      const float x0 = sigma_x0 (v, sigma, c_out, c_skip_den, x[i], m[i]);
      const float y = x[i] + (x[i] - x0) / sigma * dt;

      x[i] = y + z[i] * up;
    }
}

/* _sigma_to_alpha_sigma_t: α = 1 / (σ² + 1) ** 0.5, σ_t = σ · α; and
 * λ = log α − log σ_t (float32 torch scalars, +∞ at σ = 0). */
static float
dpm_lambda (double sigma_d, float *alpha, float *sigma_t)
{
  const float sigma = (float)sigma_d;

  *alpha = 1.0f / sqrtf (sigma * sigma + 1.0f);
  *sigma_t = sigma * *alpha;
  return logf (*alpha) - logf (*sigma_t);
}

/* DPM-Solver++ (2M), midpoint (scheduling_dpmsolver_multistep.py), in the
 * VP parametrisation: x0 = (x − σ_s·ε) / α_s (ε) or α_s·x − σ_s·v (v);
 * h = λ_t − λ_s;
 *   1st order: x' = (σ_t/σ_s)·x − α_t·(e^−h − 1)·x0
 *   2nd order: r = h_prev / h, D1 = (1/r)·(x0 − x0_prev),
 *              x' = (σ_t/σ_s)·x − α_t·(e^−h − 1)·x0 − ½·α_t·(e^−h − 1)·D1
 * First order at the first step and, with lower_order_final and fewer than
 * 15 steps or a final σ of 0, at the last. */
static void
step_dpmpp (LfSampler *s, int k, const float *m, float *x, int64_t n)
{
  const gboolean last = k == s->n_all - 1;
  const gboolean first_order
      = s->lower_order_nums < 1
        || (last
            && ((s->cfg.lower_order_final && s->n_all < 15)
                || s->cfg.final_sigma_zero));
  float       alpha_t, sigma_t, alpha_s, sigma_s, alpha_p, sigma_p;
  const float lambda_t = dpm_lambda (s->sigmas[k + 1], &alpha_t, &sigma_t);
  const float lambda_s = dpm_lambda (s->sigmas[k], &alpha_s, &sigma_s);
  const float h = lambda_t - lambda_s;
  const float c_x = sigma_t / sigma_s;
  const float c_d0 = alpha_t * (expf (-h) - 1.0f);
  const float c_d1 = 0.5f * c_d0;
  float       inv_r = 0;
  float      *prev = s->scratch;

  if (!first_order)
    {
      const float lambda_p = dpm_lambda (s->sigmas[k - 1], &alpha_p, &sigma_p);

      inv_r = 1.0f / ((lambda_s - lambda_p) / h);
    }
  for (int64_t i = 0; i < n; i++)
    {
      const float x0 = s->cfg.prediction == LF_PREDICTION_V
                           ? alpha_s * x[i] - sigma_s * m[i]
                           : (x[i] - sigma_s * m[i]) / alpha_s;
      float       y = c_x * x[i] - c_d0 * x0;

      if (!first_order)
        y = y - c_d1 * (inv_r * (x0 - prev[i]));
      prev[i] = x0;
      x[i] = y;
    }
  s->lower_order_nums = MIN (s->lower_order_nums + 1, 2);
}

void
lf_sampler_step (LfSampler   *sampler,
                 int          i,
                 const float *model_output,
                 float       *latents,
                 int64_t      n,
                 LfTorchRng  *rng)
{
  const int k = sampler->begin + i;

  g_return_if_fail (i == sampler->next_step);
  g_return_if_fail (i < lf_sampler_get_n_steps (sampler));
  g_return_if_fail (rng != NULL || sampler->cfg.kind != LF_SAMPLER_EULER_A);
  if (needs_scratch (sampler->cfg.kind) && sampler->scratch_n < n)
    {
      /* lf_sampler_reserve was not called: a failure aborts here */
      g_free (sampler->scratch);
      sampler->scratch = g_new (float, n);
      sampler->scratch_n = n;
    }
  sampler->next_step++;
  switch (sampler->cfg.kind)
    {
    case LF_SAMPLER_DDIM:
      step_ddim (sampler, k, model_output, latents, n);
      break;
    case LF_SAMPLER_EULER:
      step_euler (sampler, k, model_output, latents, n);
      break;
    case LF_SAMPLER_EULER_A:
      step_euler_a (sampler, k, model_output, latents, n, rng);
      break;
    case LF_SAMPLER_DPMPP_2M:
    case LF_SAMPLER_DPMPP_2M_KARRAS:
      step_dpmpp (sampler, k, model_output, latents, n);
      break;
    }
}
