/* test-estimate.c: lf_estimate on the tiny fixture (API, monotonicity, bad
 * paths), its per-pixel formulas against the real activation plans of the
 * tiny UNet and VAE, and SD-1.5's published configs against the measured
 * numbers of bench/RESULTS.md (6.9 GB peak, 9.61 s per 512² step …). With
 * LF_SD15_DIR set (bench/make-sd15-random.py's folder) also the real files. */
#include "config.h"

#include <math.h>

#include "linfusion.h"

#include "builtin-configs.h"
#include "diffusers-folder.h"
#include "estimate-private.h"
#include "lf-test.h"
#include "unet.h"
#include "vae.h"

#define GB 1e9

static char *
tiny_dir (void)
{
  return lf_test_conformance_dir ("sd15-tiny-seed0");
}

static LfEstimate
estimate (const char *dir, gboolean lin, int64_t w, int64_t h, int steps)
{
  g_autoptr (GError) error = NULL;
  LfEstimate e;

  g_assert_true (lf_estimate (dir, lin, w, h, steps, 2, &e, &error));
  g_assert_no_error (error);
  return e;
}

static void
test_api (void)
{
  g_autofree char *dir = tiny_dir ();
  LfEstimate       e, lin;

  if (dir == NULL)
    return;
  e = estimate (dir, FALSE, 64, 64, 4);
  /* text_encoder + unet + vae parameters, as f32 (linfusion inspect) */
  g_assert_cmpuint (e.weight_bytes, ==,
                    4 * (guint64)(1621696 + 629732 + 111839));
  g_assert_cmpuint (e.activation_bytes, >, 2 * (16u << 20));
  g_assert_cmpfloat (e.seconds, >, 0.0);
  /* LinFusion adds its modules: about twice the attn1 weights (72 800
   * parameters in the fixture's linfusion folder). */
  lin = estimate (dir, TRUE, 64, 64, 4);
  g_assert_cmpfloat (
      fabs ((double)(lin.weight_bytes - e.weight_bytes) / 4 - 72800.0), <,
      0.1 * 72800.0);
}

static void
test_monotonic (void)
{
  static const int64_t sizes[][2]
      = { { 64, 64 },   { 128, 64 },    { 128, 128 },  { 512, 512 },
          { 768, 512 }, { 1024, 1024 }, { 2048, 2048 } };
  g_autofree char *dir = tiny_dir ();
  LfEstimate       prev = { 0 };

  if (dir == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    for (int lin = 0; lin <= 1; lin++)
      {
        LfEstimate e = estimate (dir, lin, sizes[i][0], sizes[i][1], 20);

        if (lin == 0 && i > 0)
          {
            g_assert_cmpuint (e.activation_bytes, >, prev.activation_bytes);
            g_assert_cmpfloat (e.seconds, >, prev.seconds);
          }
        if (lin == 0)
          prev = e;
      }
  prev = estimate (dir, TRUE, 512, 512, 1);
  for (int steps = 2; steps <= 50; steps += 8)
    {
      LfEstimate e = estimate (dir, TRUE, 512, 512, steps);

      g_assert_cmpfloat (e.seconds, >, prev.seconds);
      g_assert_cmpuint (e.activation_bytes, ==, prev.activation_bytes);
      prev = e;
    }
}

static void
test_linfusion_cheaper (void)
{
  g_autofree char *dir = tiny_dir ();
  LfEstimate       lin, orig;

  if (dir == NULL)
    return;
  lin = estimate (dir, TRUE, 1024, 1024, 25);
  orig = estimate (dir, FALSE, 1024, 1024, 25);
  g_assert_cmpfloat (lin.seconds, <, orig.seconds);
  /* … and more so at 2048², where softmax attention's cost has doubled
   * again per pixel */
  lin = estimate (dir, TRUE, 2048, 2048, 25);
  orig = estimate (dir, FALSE, 2048, 2048, 25);
  g_assert_cmpfloat (orig.seconds / lin.seconds, >, 2.0);
  /* fewer threads, more time */
  {
    g_autoptr (GError) error = NULL;
    LfEstimate one;

    g_assert_true (lf_estimate (dir, TRUE, 512, 512, 25, 1, &one, &error));
    lin = estimate (dir, TRUE, 512, 512, 25);
    g_assert_cmpfloat (fabs (one.seconds / lin.seconds - 2.0), <, 1e-9);
  }
}

static void
assert_bad_path (const char *path)
{
  g_autoptr (GError) error = NULL;
  LfEstimate e;

  g_assert_false (lf_estimate (path, FALSE, 512, 512, 25, 2, &e, &error));
  g_assert_error (error, LF_ERROR, error->code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_bad_path (void)
{
  g_autofree char *dir = tiny_dir ();
  g_autofree char *lin = NULL, *text = NULL;

  assert_bad_path ("/nonexistent/model-folder");
  if (dir == NULL)
    return;
  /* a LinFusion folder is a model, but not one to generate with */
  lin = g_build_filename (dir, "linfusion", NULL);
  assert_bad_path (lin);
  text = g_build_filename (dir, "model_index.json", NULL);
  assert_bad_path (text);
}

/* What plan_bytes in pipeline.c adds to each model's own plan. */
static double
pipeline_unet (const LfUnet *unet, int64_t w, int64_t h)
{
  return (double)lf_unet_plan (unet, 2, h / 8, w / 8, 77)
         + 2.0 * 2 * 4 * (h / 8) * (w / 8) * 4;
}

static double
pipeline_vae (const LfVae *vae, int64_t w, int64_t h)
{
  return (double)lf_vae_plan_decode (vae, 1, h / 8, w / 8)
         + (3.0 * w * h + 4.0 * (h / 8) * (w / 8)) * 4;
}

static void
test_formula_tiny (void)
{
  static const int64_t sizes[][2]
      = { { 512, 512 }, { 1024, 1024 }, { 776, 520 }, { 2048, 1024 } };
  g_autofree char *dir = tiny_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) files = NULL;
  const LfComponent *uc, *vc;
  LfOps             *ops;
  LfUnet            *unet;
  LfVae             *vae;

  if (dir == NULL)
    return;
  files = lf_model_files_open (dir, &error);
  g_assert_no_error (error);
  ops = lf_test_cpu_ops_new (2, 0);
  uc = lf_model_files_lookup (files, "unet");
  vc = lf_model_files_lookup (files, "vae");
  unet = lf_unet_load (uc, lf_component_get_config (uc), ops, &error);
  g_assert_no_error (error);
  vae = lf_vae_load (vc, lf_component_get_config (vc), ops, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      const int64_t w = sizes[i][0], h = sizes[i][1];
      const double  u = (double)lf_estimate_unet_bytes (
           lf_component_get_config (uc), 2, w, h, &error);
      const double v = (double)lf_estimate_vae_decode_bytes (
          lf_component_get_config (vc), w, h, &error);
      const double pu = pipeline_unet (unet, w, h);
      const double pv = pipeline_vae (vae, w, h);

      g_assert_no_error (error);
      g_test_message ("%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
                      ": unet %.0f vs plan %.0f (%.3f), vae %.0f vs %.0f "
                      "(%.3f)",
                      w, h, u, pu, u / pu, v, pv, v / pv);
      /* the formula skips only the arena's 64-byte padding and the
       * 2-float time-embedding temporaries */
      g_assert_cmpfloat (fabs (u / pu - 1.0), <, 0.01);
      g_assert_cmpfloat (fabs (v / pv - 1.0), <, 0.01);
    }
  lf_vae_free (vae);
  lf_unet_free (unet);
  lf_test_cpu_ops_free (ops);
}

/* SD-1.5's published configs against bench/RESULTS.md: 6.9 GB peak RSS
 * with every model in f32 and a 1024² CFG step; 9.61 s per 512² step with
 * LinFusion, 117.45 s per 1024² step without; a 19.36 s 512² decode. */
static void
test_sd15_bench (void)
{
  const double params = 859520964.0 + 83653863.0 + 123060480.0;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfConfig) unet = lf_builtin_config (LF_ARCH_SD15, "unet", &error);
  g_autoptr (LfConfig) vae = lf_builtin_config (LF_ARCH_SD15, "vae", &error);
  const double up = LF_ESTIMATE_SD15_UNET_PARAMS;
  const double vp = LF_ESTIMATE_SD15_VAE_PARAMS;
  double       act, step, total;

  g_assert_no_error (error);
  act = (double)MAX (lf_estimate_unet_bytes (unet, 2, 1024, 1024, NULL),
                     lf_estimate_vae_decode_bytes (vae, 1024, 1024, NULL));
  total = 4 * params + act;
  g_test_message ("SD-1.5 at 1024²: %.2f GB weights + %.2f GB working",
                  4 * params / GB, act / GB);
  g_assert_cmpfloat (total, >, 6.9 * GB / 2);
  g_assert_cmpfloat (total, <, 6.9 * GB * 2);
  step = lf_estimate_seconds (up, vp, TRUE, 512, 512, 2, 2)
         - lf_estimate_seconds (up, vp, TRUE, 512, 512, 1, 2);
  g_assert_cmpfloat (step, >, 9.61 / 2);
  g_assert_cmpfloat (step, <, 9.61 * 2);
  step = lf_estimate_seconds (up, vp, FALSE, 1024, 1024, 2, 2)
         - lf_estimate_seconds (up, vp, FALSE, 1024, 1024, 1, 2);
  g_assert_cmpfloat (step, >, 117.45 / 2);
  g_assert_cmpfloat (step, <, 117.45 * 2);
  step = lf_estimate_seconds (up, vp, TRUE, 512, 512, 0, 2);
  g_assert_cmpfloat (step, >, 19.36 / 2);
  g_assert_cmpfloat (step, <, 19.36 * 2);
}

static void
test_sd15_files (void)
{
  const char *dir = g_getenv ("LF_SD15_DIR");
  LfEstimate  e;

  if (dir == NULL)
    {
      g_test_skip ("LF_SD15_DIR is not set");
      return;
    }
  e = estimate (dir, TRUE, 1024, 1024, 25);
  g_test_message ("%s at 1024²: %.2f GB + %.2f GB, %.0f s", dir,
                  e.weight_bytes / GB, e.activation_bytes / GB, e.seconds);
  g_assert_cmpfloat (fabs (e.weight_bytes / GB - 4.265 - 0.397), <, 0.05);
  g_assert_cmpfloat ((e.weight_bytes + e.activation_bytes) / GB, <, 2 * 6.9);
  g_assert_cmpfloat ((e.weight_bytes + e.activation_bytes) / GB, >, 6.9 / 2);
  /* 25 steps at 37.29 s + a decode of 4 × 19.36 s */
  g_assert_cmpfloat (e.seconds, >, (25 * 37.29 + 4 * 19.36) / 2);
  g_assert_cmpfloat (e.seconds, <, (25 * 37.29 + 4 * 19.36) * 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/estimate/api", test_api);
  g_test_add_func ("/estimate/monotonic", test_monotonic);
  g_test_add_func ("/estimate/linfusion-cheaper", test_linfusion_cheaper);
  g_test_add_func ("/estimate/bad-path", test_bad_path);
  g_test_add_func ("/estimate/formula-tiny", test_formula_tiny);
  g_test_add_func ("/estimate/sd15-bench", test_sd15_bench);
  g_test_add_func ("/estimate/sd15-files", test_sd15_files);
  return g_test_run ();
}
