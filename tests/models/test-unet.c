/* test-unet.c: the UNet forward against ref/unet.safetensors (diffusers
 * UNet2DConditionModel, softmax attention and with LinFusion mounted, at
 * t = 500 and at per-sample timesteps [981, 1]), its intermediates against
 * ref/unet_debug.safetensors, LinFusion folders and UNet configs that do not
 * fit, and the activation plan (exact, and linear in the latent area).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"
#include "unet-private.h"

#define RTOL 1e-4

typedef struct
{
  char          *dir;
  LfModelFiles  *files, *lin_files;
  LfSafetensors *ref, *debug;
  LfOps         *ops;
  LfUnet        *unet;
} Fixture;

static gboolean
fixture_open (Fixture *f)
{
  g_autofree char *ref = NULL, *debug = NULL, *lin = NULL;
  g_autoptr (GError) error = NULL;
  const LfComponent *comp;

  f->dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  if (f->dir == NULL)
    return FALSE;
  ref = g_build_filename (f->dir, "ref", "unet.safetensors", NULL);
  debug = g_build_filename (f->dir, "ref", "unet_debug.safetensors", NULL);
  lin = g_build_filename (f->dir, "linfusion", NULL);
  f->ref = lf_safetensors_open (ref, &error);
  g_assert_no_error (error);
  f->debug = lf_safetensors_open (debug, &error);
  g_assert_no_error (error);
  f->files = lf_model_files_open (f->dir, &error);
  g_assert_no_error (error);
  f->lin_files = lf_model_files_open (lin, &error);
  g_assert_no_error (error);
  f->ops = lf_test_cpu_ops_new (2, 0);
  comp = lf_model_files_lookup (f->files, "unet");
  f->unet = lf_unet_load (comp, lf_component_get_config (comp), f->ops, &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  lf_unet_free (f->unet);
  lf_test_cpu_ops_free (f->ops);
  lf_model_files_free (f->files);
  lf_model_files_free (f->lin_files);
  lf_safetensors_free (f->ref);
  lf_safetensors_free (f->debug);
  g_free (f->dir);
}

static gboolean
mount (Fixture *f, GError **error)
{
  const LfComponent *lin = lf_model_files_get_component (f->lin_files, 0);

  return lf_unet_mount_linfusion (f->unet, lin, lf_component_get_config (lin),
                                  error);
}

/* The debug hook compares each intermediate the fixture has as it comes. */
typedef struct
{
  LfSafetensors *debug;
  const char    *prefix; /* "orig" or "linfusion" */
  int            n_checked;
} DebugCheck;

static void
debug_hook (const char *name, const LfTensor *t, gpointer user_data)
{
  DebugCheck        *dc = user_data;
  g_autofree char   *key = g_strdup_printf ("%s.%s", dc->prefix, name);
  g_autofree double *ref = NULL;
  int64_t            n;

  if (lf_safetensors_lookup (dc->debug, key) == NULL)
    return;
  ref = lf_test_ref_f64 (dc->debug, key, &n);
  g_assert_cmpint (n, ==, lf_tensor_numel (t));
  g_assert_true (lf_tensor_is_contiguous (t));
  lf_test_assert_close_scaled (key, t->data, ref, n, RTOL);
  dc->n_checked++;
}

/* One forward of the fixture's sample with timesteps @t, in an arena of
 * exactly the planned size, compared with @expected. */
static void
forward_and_check (Fixture     *f,
                   const float *t,
                   const char  *expected,
                   DebugCheck  *dc)
{
  const LfStTensor *s = lf_test_ref_f32 (f->ref, "sample");
  const LfStTensor *c = lf_test_ref_f32 (f->ref, "encoder_hidden_states");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  g_autofree float  *y = NULL;
  g_autofree double *ref = NULL;
  LfTensor           x, ctx, out;
  int64_t            n;
  size_t             plan;

  lf_st_tensor_view (f->ref, s, &x, &error);
  lf_st_tensor_view (f->ref, c, &ctx, &error);
  g_assert_no_error (error);
  plan = lf_unet_plan (f->unet, x.shape[0], x.shape[2], x.shape[3],
                       ctx.shape[1]);
  arena = lf_arena_new (plan, &error);
  g_assert_no_error (error);
  y = lf_test_alloc_f32 (lf_tensor_numel (&x));
  lf_test_poison (y, lf_tensor_numel (&x));
  out = lf_tensor_4d (y, LF_DTYPE_F32, x.shape[0], 4, x.shape[2], x.shape[3]);
  lf_unet_set_debug (f->unet, dc != NULL ? debug_hook : NULL, dc);
  g_assert_true (lf_unet_forward (f->unet, &x, t, &ctx, arena, &out, &error));
  g_assert_no_error (error);
  lf_unet_set_debug (f->unet, NULL, NULL);
  /* The plan is what the forward used, not a loose bound. */
  g_assert_cmpuint (lf_arena_peak (arena), ==, plan);
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  ref = lf_test_ref_f64 (f->ref, expected, &n);
  g_assert_cmpint (n, ==, lf_tensor_numel (&out));
  lf_test_assert_close_scaled (expected, y, ref, n, RTOL);
}

static void
test_orig (void)
{
  Fixture     f = { 0 };
  const float t[2] = { 500.0f, 500.0f };
  DebugCheck  dc = { .prefix = "orig" };

  if (!fixture_open (&f))
    return;
  dc.debug = f.debug;
  g_assert_false (lf_unet_has_linfusion (f.unet));
  g_assert_cmpint (lf_unet_get_in_channels (f.unet), ==, 4);
  g_assert_cmpint (lf_unet_get_cross_attention_dim (f.unet), ==, 32);
  forward_and_check (&f, t, "noise_pred_orig", &dc);
  /* time_proj, time_embedding, conv_in, 4 down blocks and their 11 res
   * samples, mid, 4 up blocks. */
  g_assert_cmpint (dc.n_checked, ==, 23);
  fixture_close (&f);
}

static void
test_linfusion (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  const float       t[2] = { 500.0f, 500.0f };
  DebugCheck        dc = { .prefix = "linfusion" };
  const LfStTensor *ts;

  if (!fixture_open (&f))
    return;
  dc.debug = f.debug;
  g_assert_true (mount (&f, &error));
  g_assert_no_error (error);
  g_assert_true (lf_unet_has_linfusion (f.unet));
  forward_and_check (&f, t, "noise_pred_linfusion", &dc);
  g_assert_cmpint (dc.n_checked, ==, 23);

  /* One timestep per batch element. */
  ts = lf_test_ref_f32 (f.ref, "timesteps_per_sample");
  g_assert_cmpint (ts->shape[0], ==, 2);
  forward_and_check (&f, ts->data, "noise_pred_linfusion_t", NULL);

  /* Mounting again replaces the modules, with the same result. */
  g_assert_true (mount (&f, &error));
  forward_and_check (&f, t, "noise_pred_linfusion", NULL);
  fixture_close (&f);
}

/* A copy of the fixture's LinFusion folder with config.json text edited:
 * @from replaced by @to (once). */
static char *
write_linfusion_copy (const Fixture *f, const char *from, const char *to)
{
  g_autofree char *cfg_path
      = g_build_filename (f->dir, "linfusion", "config.json", NULL);
  g_autofree char *w_path = g_build_filename (
      f->dir, "linfusion", "diffusion_pytorch_model.safetensors", NULL);
  g_autofree char *text = NULL, *weights = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) edited = NULL;
  char *tmp = g_dir_make_tmp ("lf-linfusion-XXXXXX", &error);
  gsize len;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (cfg_path, &text, NULL, &error));
  g_assert_true (g_file_get_contents (w_path, &weights, &len, &error));
  edited = g_string_new (text);
  g_assert_cmpuint (g_string_replace (edited, from, to, 1), ==, 1);
  g_free (lf_test_write_file (tmp, "config.json",
                              g_bytes_new (edited->str, edited->len)));
  g_free (
      lf_test_write_file (tmp, "diffusion_pytorch_model.safetensors",
                          g_bytes_new_take (g_steal_pointer (&weights), len)));
  return tmp;
}

/* A LinFusion folder that does not fit: LF_ERROR_FORMAT naming the module,
 * and the UNet keeps what it had. */
static void
expect_mount_error (Fixture    *f,
                    const char *from,
                    const char *to,
                    const char *module)
{
  g_autofree char *tmp = write_linfusion_copy (f, from, to);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) files = lf_model_files_open (tmp, &error);
  const LfComponent *lin;
  const gboolean     had = lf_unet_has_linfusion (f->unet);

  g_assert_no_error (error);
  lin = lf_model_files_get_component (files, 0);
  g_assert_false (lf_unet_mount_linfusion (
      f->unet, lin, lf_component_get_config (lin), &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, module));
  g_assert_cmpint (lf_unet_has_linfusion (f->unet), ==, had);
  lf_test_remove_tree (tmp);
}

static void
test_linfusion_mismatch (void)
{
  Fixture     f = { 0 };
  const float t[2] = { 500.0f, 500.0f };
  const char *m0 = "down_blocks.0.attentions.0.transformer_blocks.0.attn1";
  const char *m15 = "mid_block.attentions.0.transformer_blocks.0.attn1";

  if (!fixture_open (&f))
    return;
  /* Module 0 claims 32 channels: its weights are (16, 16). */
  expect_mount_error (&f, "\"dim_n\": 16", "\"dim_n\": 32", m0);
  /* Module 0 names an attn1 the UNet does not have. */
  expect_mount_error (&f, m0,
                      "down_blocks.0.attentions.7.transformer_blocks.0.attn1",
                      "down_blocks.0.attentions.7");
  /* Module 15 (the mid block, listed last) with 4 heads instead of 8. */
  expect_mount_error (&f, "\"heads\": 8,\n      \"module_name\": \"mid_block",
                      "\"heads\": 4,\n      \"module_name\": \"mid_block", m15);
  /* Nothing was mounted: the original attention still runs. */
  forward_and_check (&f, t, "noise_pred_orig", NULL);
  fixture_close (&f);
}

/* The fixture's unet/config.json with one edit, loaded over its weights. */
static void
expect_load_error (
    Fixture *f, const char *from, const char *to, int code, const char *needle)
{
  g_autofree char *path
      = g_build_filename (f->dir, "unet", "config.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) edited = NULL;
  g_autoptr (LfConfig) cfg = NULL;
  const LfComponent *comp = lf_model_files_lookup (f->files, "unet");

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  edited = g_string_new (text);
  g_assert_cmpuint (g_string_replace (edited, from, to, 1), ==, 1);
  cfg = lf_config_new_from_data (edited->str, -1, "config.json", &error);
  g_assert_no_error (error);
  g_assert_null (lf_unet_load (comp, cfg, f->ops, &error));
  g_assert_error (error, LF_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_unsupported_config (void)
{
  Fixture f = { 0 };

  if (!fixture_open (&f))
    return;
  expect_load_error (&f, "\"UpBlock2D\",", "\"AttnUpBlock2D\",",
                     LF_ERROR_UNSUPPORTED, "AttnUpBlock2D");
  expect_load_error (&f, "\"CrossAttnDownBlock2D\",",
                     "\"SimpleCrossAttnDownBlock2D\",", LF_ERROR_UNSUPPORTED,
                     "down_block_types");
  expect_load_error (&f, "\"addition_embed_type\": null",
                     "\"addition_embed_type\": \"text_time\"",
                     LF_ERROR_UNSUPPORTED, "addition_embed_type");
  expect_load_error (&f, "\"class_embed_type\": null",
                     "\"class_embed_type\": \"timestep\"", LF_ERROR_UNSUPPORTED,
                     "class_embed_type");
  expect_load_error (&f, "\"mid_block_type\": \"UNetMidBlock2DCrossAttn\"",
                     "\"mid_block_type\": null", LF_ERROR_UNSUPPORTED,
                     "mid_block_type");
  /* Config and weights disagree: the message names the key. */
  expect_load_error (&f, "\"cross_attention_dim\": 32",
                     "\"cross_attention_dim\": 64", LF_ERROR_FORMAT,
                     "attn2.to_k.weight");
  expect_load_error (&f, "\"attention_head_dim\": 8",
                     "\"attention_head_dim\": 3", LF_ERROR_FORMAT,
                     "attention_head_dim");
  fixture_close (&f);
}

/* Random inputs at another size, a long (2 × 77 token) context and an
 * arena of exactly the plan; then a latent size the UNet cannot take. */
static void
test_other_sizes (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  const int64_t B = 2, h = 24, w = 40, L = 154;
  const float   t[2] = { 999.0f, 0.5f };

  if (!fixture_open (&f))
    return;
  g_assert_true (mount (&f, &error));
  /* 28 rows is not a multiple of 8: the levels are 28, 14, 7, 4 */
  for (int odd = 0; odd < 2; odd++)
    {
      const int64_t hh = odd ? h + 4 : h;
      const size_t  plan = lf_unet_plan (f.unet, B, hh, w, L);
      g_autoptr (LfArena) arena = lf_arena_new (plan, &error);
      g_autofree float *xd = lf_test_alloc_f32 (B * 4 * hh * w);
      g_autofree float *cd = lf_test_alloc_f32 (B * L * 32);
      g_autofree float *yd = lf_test_alloc_f32 (B * 4 * hh * w);
      LfTensor          x = lf_tensor_4d (xd, LF_DTYPE_F32, B, 4, hh, w);
      LfTensor          c = lf_tensor_3d (cd, LF_DTYPE_F32, B, L, 32);
      LfTensor          y = lf_tensor_4d (yd, LF_DTYPE_F32, B, 4, hh, w);

      lf_test_fill_uniform (xd, B * 4 * hh * w, -2.0, 2.0);
      lf_test_fill_uniform (cd, B * L * 32, -2.0, 2.0);
      lf_test_poison (yd, B * 4 * hh * w);
      g_assert_true (lf_unet_forward (f.unet, &x, t, &c, arena, &y, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (lf_arena_peak (arena), ==, plan);
      for (int64_t i = 0; i < B * 4 * hh * w; i++)
        g_assert_true (isfinite (yd[i]));
    }
  fixture_close (&f);
}

/* Latents that are not multiples of 8 (12×9 and 5×7) against upstream:
 * diffusers' forward_upsample_size upsamples to each next skip's size. */
static void
test_odd_sizes_vs_upstream (void)
{
  Fixture          f = { 0 };
  g_autofree char *path = lf_test_data_path ("unet-odd-size.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  const char *sizes[] = { "12x9", "5x7" };
  const float t[2] = { 500.0f, 500.0f };

  if (!fixture_open (&f))
    return;
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  for (gsize k = 0; k < G_N_ELEMENTS (sizes); k++)
    {
      g_autofree char   *xn = g_strdup_printf ("sample_%s", sizes[k]);
      g_autofree char   *cn = g_strdup_printf ("context_%s", sizes[k]);
      g_autofree char   *yn = g_strdup_printf ("out_%s", sizes[k]);
      const LfStTensor  *xs = lf_safetensors_lookup (st, xn);
      const LfStTensor  *cs = lf_safetensors_lookup (st, cn);
      const LfStTensor  *ys = lf_safetensors_lookup (st, yn);
      LfTensor           x, c, y;
      g_autofree float  *yd = NULL;
      g_autofree double *want = NULL;
      g_autoptr (LfArena) arena = NULL;
      const int64_t n = lf_st_tensor_numel (ys);

      g_assert_true (xs && cs && ys);
      g_assert_true (lf_st_tensor_view (st, xs, &x, &error));
      g_assert_true (lf_st_tensor_view (st, cs, &c, &error));
      yd = lf_test_alloc_f32 (n);
      want = lf_test_alloc_f64 (n);
      y = lf_tensor_make (yd, LF_DTYPE_F32, 4, x.shape);
      arena = lf_arena_new (
          lf_unet_plan (f.unet, x.shape[0], x.shape[2], x.shape[3], c.shape[1]),
          &error);
      lf_test_poison (yd, n);
      g_assert_true (lf_unet_forward (f.unet, &x, t, &c, arena, &y, &error));
      g_assert_no_error (error);
      for (int64_t i = 0; i < n; i++)
        want[i] = ((const float *)ys->data)[i];
      lf_test_assert_close_scaled (yn, yd, want, n, RTOL);
    }
  fixture_close (&f);
}

/* The plan grows with the latent area, not its square (LinFusion keeps no
 * N × N matrix, chunks bound the feed-forward), and a smaller arena is
 * refused before anything runs. */
static void
test_plan (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  size_t small, large;

  if (!fixture_open (&f))
    return;
  g_assert_true (mount (&f, &error));
  small = lf_unet_plan (f.unet, 2, 16, 8, 77);
  large = lf_unet_plan (f.unet, 2, 64, 64, 77);
  g_test_message ("plan 16×8: %zu bytes, 64×64: %zu bytes (area ×32)", small,
                  large);
  g_assert_cmpfloat ((double)large / small, <=, 32.0);
  g_assert_cmpfloat ((double)large / small, >=, 8.0);
  /* Doubling a large canvas doubles the plan, within the fixed parts. */
  g_assert_cmpfloat ((double)lf_unet_plan (f.unet, 2, 256, 256, 77) / large, <=,
                     16.5);
  g_assert_cmpfloat ((double)lf_unet_plan (f.unet, 2, 512, 512, 77)
                         / lf_unet_plan (f.unet, 2, 256, 256, 77),
                     <=, 4.01);
  {
    const LfStTensor *s = lf_test_ref_f32 (f.ref, "sample");
    const LfStTensor *c = lf_test_ref_f32 (f.ref, "encoder_hidden_states");
    g_autoptr (LfArena) arena = lf_arena_new (small - 64, &error);
    const float t[2] = { 1.0f, 1.0f };
    float       y[2 * 4 * 16 * 8];
    LfTensor    x, ctx, out;

    lf_st_tensor_view (f.ref, s, &x, &error);
    lf_st_tensor_view (f.ref, c, &ctx, &error);
    out = lf_tensor_4d (y, LF_DTYPE_F32, 2, 4, 16, 8);
    g_assert_false (lf_unet_forward (f.unet, &x, t, &ctx, arena, &out, &error));
    g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
  }
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/unet/orig", test_orig);
  g_test_add_func ("/unet/linfusion", test_linfusion);
  g_test_add_func ("/unet/linfusion-mismatch", test_linfusion_mismatch);
  g_test_add_func ("/unet/unsupported-config", test_unsupported_config);
  g_test_add_func ("/unet/other-sizes", test_other_sizes);
  g_test_add_func ("/unet/odd-sizes-vs-upstream", test_odd_sizes_vs_upstream);
  g_test_add_func ("/unet/plan", test_plan);
  return g_test_run ();
}
