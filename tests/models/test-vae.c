/* test-vae.c: the AutoencoderKL decode and encode (core/models/vae.c)
 * against diffusers 0.30.3 on the sd15-tiny-seed0 conformance set
 * (ref/vae.safetensors), the arena plan, batching, and the loader's errors
 * on modified copies of the tiny VAE.
 */
#include "config.h"

#include <math.h>
#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "arena.h"
#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"
#include "vae.h"

#define SET  "sd15-tiny-seed0"
#define RTOL 1e-4

typedef struct
{
  char          *dir; /* the conformance set */
  LfModelFiles  *files;
  LfComponent   *comp;
  LfSafetensors *ref;
  LfOps         *ops;
  LfVae         *vae;
} Fixture;

static void
fixture_clear (Fixture *fx)
{
  lf_vae_free (fx->vae);
  lf_test_cpu_ops_free (fx->ops);
  lf_safetensors_free (fx->ref);
  lf_model_files_free (fx->files);
  g_free (fx->dir);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fixture, fixture_clear)

static LfVae *
load_vae (const char *folder, LfOps *ops, LfModelFiles **files, GError **error)
{
  LfComponent *comp;

  *files = lf_model_files_open (folder, error);
  if (*files == NULL)
    return NULL;
  comp = lf_model_files_get_component (*files, 0);
  return lf_vae_load (comp, lf_component_get_config (comp), ops, error);
}

/* FALSE after g_test_skip () when the conformance set is absent. */
static gboolean
fixture_init (Fixture *fx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *vae_dir = NULL, *ref = NULL;

  memset (fx, 0, sizeof *fx);
  if ((fx->dir = lf_test_conformance_dir (SET)) == NULL)
    return FALSE;
  vae_dir = g_build_filename (fx->dir, "vae", NULL);
  ref = g_build_filename (fx->dir, "ref", "vae.safetensors", NULL);
  fx->ops = lf_test_cpu_ops_new (2, 0);
  fx->vae = load_vae (vae_dir, fx->ops, &fx->files, &error);
  g_assert_no_error (error);
  fx->comp = lf_model_files_get_component (fx->files, 0);
  fx->ref = lf_safetensors_open (ref, &error);
  g_assert_no_error (error);
  return TRUE;
}

static LfTensor
ref_tensor (const Fixture *fx, const char *name)
{
  g_autoptr (GError) error = NULL;
  const LfStTensor *t = lf_safetensors_lookup (fx->ref, name);
  LfTensor          view;

  g_assert_nonnull (t);
  g_assert_true (lf_st_tensor_view (fx->ref, t, &view, &error));
  g_assert_no_error (error);
  return view;
}

/* Asserts max |got − ref| ≤ RTOL · max |ref| and reports both. */
static void
assert_matches (const char *what, const float *got, const LfTensor *ref)
{
  const int64_t      n = lf_tensor_numel (ref);
  const float       *r = ref->data;
  g_autofree double *rd = lf_test_alloc_f64 (n);
  double             err = 0.0, max;

  for (int64_t i = 0; i < n; i++)
    {
      rd[i] = r[i];
      err = MAX (err, fabs ((double)got[i] - rd[i]));
    }
  max = lf_test_max_abs (rd, n);
  g_test_message ("%s: max |diff| %.3g, max |ref| %.3g, ratio %.3g", what, err,
                  max, err / max);
  lf_test_assert_close (what, got, rd, n, 0.0, RTOL * max);
}

/* Decodes @z with an arena of exactly the planned size. */
static float *
decode (LfVae *vae, const LfTensor *z)
{
  g_autoptr (GError) error = NULL;
  const int64_t f = lf_vae_get_downscale (vae);
  const size_t  plan
      = lf_vae_plan_decode (vae, z->shape[0], z->shape[2], z->shape[3]);
  g_autoptr (LfArena) arena = lf_arena_new (plan, &error);
  const int64_t n = z->shape[0] * 3 * f * z->shape[2] * f * z->shape[3];
  float        *out = lf_test_alloc_f32 (n);
  LfTensor      image = lf_tensor_4d (out, LF_DTYPE_F32, z->shape[0], 3,
                                      f * z->shape[2], f * z->shape[3]);

  g_assert_no_error (error);
  g_assert_cmpuint (lf_arena_capacity (arena), ==, plan);
  lf_test_poison (out, n);
  g_assert_true (lf_vae_decode (vae, z, arena, &image, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  g_assert_cmpuint (lf_arena_peak (arena), <=, plan);
  return out;
}

static void
test_decode (void)
{
  g_auto (Fixture) fx;
  g_autofree float *out = NULL;
  LfTensor          z, want;

  if (!fixture_init (&fx))
    return;
  g_assert_cmpint (lf_vae_get_downscale (fx.vae), ==, 8);
  g_assert_cmpint (lf_vae_get_latent_channels (fx.vae), ==, 4);
  g_assert_cmpfloat (lf_vae_get_shift_factor (fx.vae), ==, 0.0f);
  g_assert_cmpfloat (lf_vae_get_scaling_factor (fx.vae), ==,
                     *(const float *)ref_tensor (&fx, "scaling_factor").data);
  /* The fixture's z is what vae.decode received (not pre-divided by the
   * scaling factor): exactly lf_vae_decode's input. */
  z = ref_tensor (&fx, "decode_in_z");
  want = ref_tensor (&fx, "decode_out");
  out = decode (fx.vae, &z);
  assert_matches ("decode_out", out, &want);
}

static void
test_encode (void)
{
  g_auto (Fixture) fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  LfTensor          x, ref_mean, ref_logvar, ref_std, ref_moments;
  int64_t           n;
  size_t            plan;
  g_autofree float *mean = NULL, *logvar = NULL, *std = NULL, *mom = NULL;
  LfTensor          t_mean, t_logvar;

  if (!fixture_init (&fx))
    return;
  x = ref_tensor (&fx, "encode_in_x");
  ref_mean = ref_tensor (&fx, "encode_mean");
  ref_logvar = ref_tensor (&fx, "encode_logvar");
  ref_std = ref_tensor (&fx, "encode_std");
  ref_moments = ref_tensor (&fx, "encode_moments");
  n = lf_tensor_numel (&ref_mean);
  mean = lf_test_alloc_f32 (n);
  logvar = lf_test_alloc_f32 (n);
  lf_test_poison (mean, n);
  lf_test_poison (logvar, n);
  t_mean = lf_tensor_make (mean, LF_DTYPE_F32, 4, ref_mean.shape);
  t_logvar = lf_tensor_make (logvar, LF_DTYPE_F32, 4, ref_mean.shape);
  plan = lf_vae_plan_encode (fx.vae, 1, x.shape[2], x.shape[3]);
  arena = lf_arena_new (plan, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lf_arena_capacity (arena), ==, plan);
  g_assert_true (lf_vae_encode (fx.vae, &x, arena, &t_mean, &t_logvar, &error));
  g_assert_no_error (error);
  assert_matches ("encode_mean", mean, &ref_mean);
  assert_matches ("encode_logvar", logvar, &ref_logvar);

  /* std = exp (0.5 · logvar); moments = [mean, logvar] before the clamp,
   * which these values do not reach. */
  std = lf_test_alloc_f32 (n);
  mom = lf_test_alloc_f32 (2 * n);
  for (int64_t i = 0; i < n; i++)
    {
      std[i] = expf (0.5f * logvar[i]);
      g_assert_cmpfloat (((float *)ref_moments.data)[n + i], >, -30.0f);
      g_assert_cmpfloat (((float *)ref_moments.data)[n + i], <, 20.0f);
    }
  memcpy (mom, mean, n * sizeof (float));
  memcpy (mom + n, logvar, n * sizeof (float));
  assert_matches ("encode_std", std, &ref_std);
  assert_matches ("encode_moments", mom, &ref_moments);
}

/* How write_copy changes the tiny VAE. */
typedef struct
{
  const char *config;        /* config.json text, or NULL for the original */
  const char *drop;          /* a key left out, or NULL */
  gboolean    old_attention; /* query/key/value/proj_attn names */
  float       logvar_shift;  /* added to quant_conv.bias's logvar half */
} Edit;

static char *
old_attention_name (const char *name)
{
  static const char *const names[][2] = { { ".to_q.", ".query." },
                                          { ".to_k.", ".key." },
                                          { ".to_v.", ".value." },
                                          { ".to_out.0.", ".proj_attn." } };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *at = strstr (name, names[i][0]);

      if (at != NULL)
        return g_strdup_printf ("%.*s%s%s", (int)(at - name), name, names[i][1],
                                at + strlen (names[i][0]));
    }
  return g_strdup (name);
}

/* A component folder @tmp/@sub holding the tiny VAE changed by @edit. */
static char *
write_copy (const Fixture *fx,
            const char    *tmp,
            const char    *sub,
            const Edit    *edit)
{
  g_autofree char *folder = g_build_filename (tmp, sub, NULL);
  g_autofree char *config = NULL, *src = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) text = NULL, bytes = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  LfTestSt *w = lf_test_st_new ();

  src = g_build_filename (fx->dir, "vae", "config.json", NULL);
  g_assert_true (g_file_get_contents (src, &config, NULL, NULL));
  if (edit->config != NULL)
    g_free (g_steal_pointer (&config)), config = g_strdup (edit->config);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  text = g_bytes_new (config, strlen (config));
  g_free (lf_test_write_file (folder, "config.json", text));
  st = lf_safetensors_open (lf_component_get_weight_path (fx->comp), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      g_autofree char *name = edit->old_attention ? old_attention_name (t->name)
                                                  : g_strdup (t->name);
      g_autofree float *data = g_memdup2 (t->data, t->nbytes);

      if (g_strcmp0 (t->name, edit->drop) == 0)
        continue;
      if (strcmp (t->name, "quant_conv.bias") == 0)
        for (int c = 4; c < 8; c++)
          data[c] += edit->logvar_shift;
      lf_test_st_add (w, name, lf_st_dtype_name (t->dtype), t->ndim, t->shape,
                      data, t->nbytes);
    }
  bytes = lf_test_st_finish (w);
  g_free (lf_test_write_file (folder, "diffusion_pytorch_model.safetensors",
                              bytes));
  return g_steal_pointer (&folder);
}

static void
remove_copy (const char *folder)
{
  g_autofree char *a = g_build_filename (folder, "config.json", NULL);
  g_autofree char *b
      = g_build_filename (folder, "diffusion_pytorch_model.safetensors", NULL);

  g_remove (a);
  g_remove (b);
  g_rmdir (folder);
}

static LfVae *
load_copy (const Fixture *fx,
           const char    *tmp,
           const Edit    *edit,
           LfModelFiles **files,
           GError       **error)
{
  g_autofree char *folder = write_copy (fx, tmp, "vae", edit);
  LfVae           *vae = load_vae (folder, fx->ops, files, error);

  remove_copy (folder);
  return vae;
}

/* The posterior clamp: with the quant_conv bias of the logvar channels
 * moved far down (then up), logvar comes back at −30 (20) within an ulp,
 * and the mean is untouched. */
static void
test_encode_clamp (void)
{
  g_auto (Fixture) fx;
  g_autofree char *tmp = NULL;
  float            mean[512], logvar[512];

  if (!fixture_init (&fx))
    return;
  tmp = g_dir_make_tmp ("test-vae-XXXXXX", NULL);
  for (int sign = -1; sign <= 1; sign += 2)
    {
      const Edit  edit = { .logvar_shift = sign * 1000.0f };
      const float bound = sign < 0 ? -30.0f : 20.0f;
      g_autoptr (GError) error = NULL;
      g_autoptr (LfModelFiles) files = NULL;
      g_autoptr (LfVae) vae = load_copy (&fx, tmp, &edit, &files, &error);
      g_autoptr (LfArena) arena = NULL;
      LfTensor x = ref_tensor (&fx, "encode_in_x");
      LfTensor ref_mean = ref_tensor (&fx, "encode_mean");
      LfTensor t_mean = lf_tensor_make (mean, LF_DTYPE_F32, 4, ref_mean.shape);
      LfTensor t_logvar
          = lf_tensor_make (logvar, LF_DTYPE_F32, 4, ref_mean.shape);

      g_assert_no_error (error);
      g_assert_cmpint (lf_tensor_numel (&ref_mean), ==, 512);
      arena = lf_arena_new (lf_vae_plan_encode (vae, 1, 128, 64), &error);
      g_assert_true (
          lf_vae_encode (vae, &x, arena, &t_mean, &t_logvar, &error));
      g_assert_no_error (error);
      assert_matches ("clamped encode_mean", mean, &ref_mean);
      for (int i = 0; i < 512; i++)
        g_assert_cmpfloat_with_epsilon (logvar[i], bound, 4e-6);
    }
  g_rmdir (tmp);
}

static void
test_batch (void)
{
  g_auto (Fixture) fx;
  LfTensor           z = { 0 }, z2, one;
  g_autofree float  *zb = NULL, *out2 = NULL, *out_a = NULL, *out_b = NULL;
  int64_t            nz, nimg;
  g_autofree double *ref = NULL;

  if (!fixture_init (&fx))
    return;
  z = ref_tensor (&fx, "decode_in_z");
  nz = lf_tensor_numel (&z);
  zb = lf_test_alloc_f32 (2 * nz);
  memcpy (zb, z.data, nz * sizeof (float));
  lf_test_fill_uniform (zb + nz, nz, -2.0, 2.0);
  z2 = lf_tensor_4d (zb, LF_DTYPE_F32, 2, z.shape[1], z.shape[2], z.shape[3]);
  out2 = decode (fx.vae, &z2);
  one = lf_tensor_4d (zb, LF_DTYPE_F32, 1, z.shape[1], z.shape[2], z.shape[3]);
  out_a = decode (fx.vae, &one);
  one.data = zb + nz;
  out_b = decode (fx.vae, &one);
  nimg = 3 * 64 * z.shape[2] * z.shape[3];
  ref = lf_test_alloc_f64 (nimg);
  for (int64_t i = 0; i < nimg; i++)
    ref[i] = out_a[i];
  lf_test_assert_close ("batch item 0", out2, ref, nimg, 0.0, 1e-6);
  for (int64_t i = 0; i < nimg; i++)
    ref[i] = out_b[i];
  lf_test_assert_close ("batch item 1", out2 + nimg, ref, nimg, 0.0, 1e-6);
}

/* The plan is linear in the pixel count, and one byte less fails cleanly. */
static void
test_plan (void)
{
  g_auto (Fixture) fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  LfTensor          z, image;
  g_autofree float *out = NULL;
  size_t            p1, p4, p16;

  if (!fixture_init (&fx))
    return;
  p1 = lf_vae_plan_decode (fx.vae, 1, 16, 8);
  p4 = lf_vae_plan_decode (fx.vae, 1, 32, 16);
  p16 = lf_vae_plan_decode (fx.vae, 1, 64, 32);
  g_test_message ("decode plan: %zu, %zu, %zu bytes", p1, p4, p16);
  g_assert_cmpuint (p4, ==, 4 * p1);
  g_assert_cmpuint (p16, ==, 4 * p4);
  g_assert_cmpuint (lf_vae_plan_decode (fx.vae, 2, 16, 8), ==, 2 * p1);
  /* three slots of the largest activation: 16 channels at 128 × 64 */
  g_assert_cmpuint (p1, ==, 3 * 16 * 128 * 64 * sizeof (float));
  g_assert_cmpuint (lf_vae_plan_encode (fx.vae, 1, 256, 128), ==,
                    4 * lf_vae_plan_encode (fx.vae, 1, 128, 64));

  z = ref_tensor (&fx, "decode_in_z");
  out = lf_test_alloc_f32 (3 * 128 * 64);
  image = lf_tensor_4d (out, LF_DTYPE_F32, 1, 3, 128, 64);
  arena = lf_arena_new (p1 - 64, &error);
  g_assert_false (lf_vae_decode (fx.vae, &z, arena, &image, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  g_clear_error (&error);

  /* an image tensor of the wrong size is refused before any work */
  image = lf_tensor_4d (out, LF_DTYPE_F32, 1, 3, 64, 128);
  g_assert_false (lf_vae_decode (fx.vae, &z, arena, &image, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_clear_error (&error);
  g_assert_false (lf_vae_encode (fx.vae, &image, arena, &z, &z, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
}

/* Diffusers folders saved before the Attention rewrite name the mid
 * block's projections query/key/value/proj_attn: same results. */
static void
test_old_attention_names (void)
{
  g_auto (Fixture) fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) files = NULL;
  g_autoptr (LfVae) vae = NULL;
  g_autofree char  *tmp = NULL;
  g_autofree float *out = NULL;
  const Edit        edit = { .old_attention = TRUE };
  LfTensor          z, want;

  if (!fixture_init (&fx))
    return;
  tmp = g_dir_make_tmp ("test-vae-XXXXXX", NULL);
  vae = load_copy (&fx, tmp, &edit, &files, &error);
  g_rmdir (tmp);
  g_assert_no_error (error);
  z = ref_tensor (&fx, "decode_in_z");
  want = ref_tensor (&fx, "decode_out");
  out = decode (vae, &z);
  assert_matches ("decode_out (old attention names)", out, &want);
}

static void
assert_load_fails (const Fixture *fx,
                   const Edit    *edit,
                   int            code,
                   const char    *mention)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) files = NULL;
  g_autoptr (LfVae) vae = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("test-vae-XXXXXX", NULL);

  vae = load_copy (fx, tmp, edit, &files, &error);
  g_rmdir (tmp);
  g_assert_null (vae);
  g_assert_error (error, LF_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, mention));
}

static void
test_errors (void)
{
  g_auto (Fixture) fx;
  const char      *base = "{\"_class_name\": \"AutoencoderKL\", "
                          "\"block_out_channels\": [8, 16, 16, 16], "
                          "\"layers_per_block\": 2, "
                          "\"latent_channels\": 4, ";
  g_autofree char *attn_down
      = g_strconcat (base,
                     "\"down_block_types\": [\"DownEncoderBlock2D\", "
                     "\"AttnDownEncoderBlock2D\", \"DownEncoderBlock2D\", "
                     "\"DownEncoderBlock2D\"], \"norm_num_groups\": 4}",
                     NULL);
  g_autofree char *gelu = g_strconcat (
      base, "\"norm_num_groups\": 4, \"act_fn\": \"gelu\"}", NULL);
  g_autofree char *groups = g_strconcat (base, "\"norm_num_groups\": 3}", NULL);
  g_autofree char *latent = g_strconcat (
      "{\"block_out_channels\": [8, 16, 16, 16], \"layers_per_block\": 2, "
      "\"norm_num_groups\": 4, \"latent_channels\": 8, "
      "\"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\", "
      "\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"], "
      "\"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\", "
      "\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"]}",
      NULL);
  Edit edit = { .config = attn_down };

  if (!fixture_init (&fx))
    return;
  assert_load_fails (&fx, &edit, LF_ERROR_UNSUPPORTED, "down_block_types");
  edit.config = gelu;
  assert_load_fails (&fx, &edit, LF_ERROR_UNSUPPORTED, "act_fn");
  edit.config = groups;
  assert_load_fails (&fx, &edit, LF_ERROR_UNSUPPORTED, "block_out_channels");
  edit.config = latent;
  assert_load_fails (&fx, &edit, LF_ERROR_FORMAT, "encoder.conv_out.weight");
  edit = (Edit){ .drop = "decoder.up_blocks.1.resnets.2.conv2.bias" };
  assert_load_fails (&fx, &edit, LF_ERROR_FORMAT,
                     "decoder.up_blocks.1.resnets.2.conv2.bias");
  edit.drop = "encoder.mid_block.attentions.0.to_v.weight";
  assert_load_fails (&fx, &edit, LF_ERROR_FORMAT,
                     "encoder.mid_block.attentions.0.to_v.weight");
  edit.drop = "encoder.down_blocks.1.resnets.0.conv_shortcut.weight";
  assert_load_fails (&fx, &edit, LF_ERROR_FORMAT,
                     "encoder.down_blocks.1.resnets.0.conv_shortcut.weight");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/vae/decode", test_decode);
  g_test_add_func ("/models/vae/encode", test_encode);
  g_test_add_func ("/models/vae/encode-clamp", test_encode_clamp);
  g_test_add_func ("/models/vae/batch", test_batch);
  g_test_add_func ("/models/vae/plan", test_plan);
  g_test_add_func ("/models/vae/old-attention-names", test_old_attention_names);
  g_test_add_func ("/models/vae/errors", test_errors);
  return g_test_run ();
}
