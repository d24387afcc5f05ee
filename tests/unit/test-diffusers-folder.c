/* test-diffusers-folder.c: finding configs and weights: the fixture's
 * pipeline, component and LinFusion folders, the -Infinity scheduler
 * config, fp16 and sharded weight files, and folders with a missing config
 * or missing weights (errors naming the path).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"

static void
test_fixture_pipeline (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) model = NULL;
  const int64_t   conv_in[4] = { 16, 4, 3, 3 }, wrong[4] = { 16, 4, 1, 1 };
  LfComponent    *unet;
  const LfWeight *w;
  LfTensor        t;

  if (dir == NULL)
    return;
  model = lf_model_files_open (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_model_files_get_kind (model), ==,
                   LF_MODEL_KIND_DIFFUSERS);
  g_assert_cmpint (lf_model_files_get_arch (model), ==, LF_ARCH_SD15);
  g_assert_cmpuint (lf_model_files_get_n_components (model), ==, 3);
  g_assert_cmpstr (
      lf_component_get_name (lf_model_files_get_component (model, 0)), ==,
      "text_encoder");
  g_assert_cmpstr (
      lf_component_get_class_name (lf_model_files_lookup (model, "vae")), ==,
      "AutoencoderKL");
  g_assert_cmpstr (lf_component_get_class_name (
                       lf_model_files_lookup (model, "text_encoder")),
                   ==, "CLIPTextModel");
  g_assert_null (lf_model_files_lookup (model, "scheduler"));
  g_assert_null (lf_model_files_lookup (model, "controlnet"));

  unet = lf_model_files_lookup (model, "unet");
  g_assert_cmpuint (lf_component_get_n_weights (unet), ==, 684);
  g_assert_true (g_str_has_suffix (lf_component_get_weight_path (unet),
                                   "unet/diffusion_pytorch_model.safetensors"));
  g_assert_cmpint (lf_config_get_int (lf_component_get_config (unet),
                                      "layers_per_block", 0, &error),
                   ==, 2);
  w = lf_component_require (unet, "conv_in.weight", 4, conv_in, &error);
  g_assert_no_error (error);
  g_assert_true (lf_weight_view (w, &t, &error));
  g_assert_cmpint (t.shape[0], ==, 16);

  g_assert_null (
      lf_component_require (unet, "conv_in.weight", 4, wrong, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "conv_in.weight"));
  g_assert_nonnull (strstr (error->message, "[16, 4, 3, 3]"));
  g_assert_nonnull (strstr (error->message, "[16, 4, 1, 1]"));
  g_clear_error (&error);
  g_assert_null (lf_component_require (unet, "nope.weight", 1, wrong, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "nope.weight"));
}

static void
test_fixture_scheduler_config (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfConfig) cfg = NULL;
  double v;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, "schedulers", "dpmpp_2m",
                           "scheduler_config.json", NULL);
  cfg = lf_config_load (path, &error);
  g_assert_no_error (error);
  v = lf_config_get_double (cfg, "lambda_min_clipped", 0, &error);
  g_assert_no_error (error);
  g_assert_true (isinf (v) && v < 0);
  g_assert_cmpstr (lf_config_get_string (cfg, "algorithm_type", NULL, &error),
                   ==, "dpmsolver++");
  g_assert_cmpint (lf_config_get_int (cfg, "solver_order", 0, &error), ==, 2);
  g_assert_cmpfloat (lf_config_get_double (cfg, "beta_end", 0, &error), ==,
                     0.012);
}

static void
test_fixture_linfusion_and_component (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char *lin = NULL, *vae = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) model = NULL;
  g_autoptr (LfModelFiles) comp = NULL;
  LfComponent *c;
  JsonArray   *modules;

  if (dir == NULL)
    return;
  lin = g_build_filename (dir, "linfusion", NULL);
  model = lf_model_files_open (lin, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_model_files_get_kind (model), ==,
                   LF_MODEL_KIND_LINFUSION);
  c = lf_model_files_lookup (model, "linfusion");
  g_assert_nonnull (c);
  g_assert_cmpuint (lf_component_get_n_weights (c), ==, 272);
  modules = json_object_get_array_member (
      lf_config_get_root (lf_component_get_config (c)), "modules_list");
  g_assert_cmpuint (json_array_get_length (modules), ==, 16);
  g_assert_nonnull (lf_component_lookup (c, "0.to_q_.0.weight"));

  vae = g_build_filename (dir, "vae", NULL);
  comp = lf_model_files_open (vae, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_model_files_get_kind (comp), ==, LF_MODEL_KIND_COMPONENT);
  g_assert_cmpstr (
      lf_component_get_name (lf_model_files_get_component (comp, 0)), ==,
      "vae");
  g_assert_cmpuint (
      lf_component_get_n_weights (lf_model_files_get_component (comp, 0)), ==,
      244);
}

static char *tmp;

static char *
write_text (const char *rel, const char *text)
{
  char            *path = g_build_filename (tmp, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_mkdir_with_parents (parent, 0700);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static char *
write_weights (const char *rel, const char *name, float value)
{
  const int64_t shape[1] = { 1 };
  LfTestSt     *w = lf_test_st_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *path = g_build_filename (tmp, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);

  lf_test_st_add (w, name, "F32", 1, shape, &value, 4);
  bytes = lf_test_st_finish (w);
  g_mkdir_with_parents (parent, 0700);
  return lf_test_write_file (parent, base, bytes);
}

static void
assert_open_fails (const char *rel, int code, const char *mention)
{
  g_autofree char *path = g_build_filename (tmp, rel, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) model = lf_model_files_open (path, &error);

  g_assert_null (model);
  g_test_message ("%s", error->message);
  g_assert_error (error, LF_ERROR, code);
  g_assert_nonnull (strstr (error->message, mention));
}

static void
test_missing_config (void)
{
  g_free (write_text ("pipe/model_index.json",
                      "{\"_class_name\": \"StableDiffusionPipeline\", "
                      "\"scheduler\": [\"diffusers\", \"DDIMScheduler\"], "
                      "\"safety_checker\": [null, null], "
                      "\"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}"));
  g_free (write_weights ("pipe/unet/diffusion_pytorch_model.safetensors",
                         "conv_in.bias", 1));
  assert_open_fails ("pipe", LF_ERROR_IO, "pipe/unet/config.json");

  g_free (write_text ("noweights/config.json", "{\"_class_name\": \"X\"}"));
  assert_open_fails ("noweights", LF_ERROR_IO, "noweights");
  g_free (write_text ("badconfig/config.json", "{\"a\": "));
  assert_open_fails ("badconfig", LF_ERROR_FORMAT, "badconfig/config.json");
  {
    g_autofree char *empty = g_build_filename (tmp, "empty", NULL);
    g_mkdir_with_parents (empty, 0700);
  }
  assert_open_fails ("empty", LF_ERROR_IO, "empty");
  assert_open_fails ("does-not-exist", LF_ERROR_IO, "does-not-exist");
}

static void
test_fp16_and_shards (void)
{
  g_autofree char *fp16 = g_build_filename (tmp, "fp16", NULL);
  g_autofree char *shards = g_build_filename (tmp, "shards", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) a = NULL;
  g_autoptr (LfModelFiles) b = NULL;
  LfComponent *c;

  g_free (
      write_text ("fp16/config.json", "{\"_class_name\": \"AutoencoderKL\"}"));
  g_free (write_weights ("fp16/diffusion_pytorch_model.fp16.safetensors",
                         "quant_conv.bias", 1));
  a = lf_model_files_open (fp16, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (
      lf_component_get_weight_path (lf_model_files_get_component (a, 0)),
      ".fp16.safetensors"));

  g_free (write_text ("shards/config.json",
                      "{\"architectures\": [\"CLIPTextModel\"]}"));
  g_free (write_text ("shards/model.safetensors.index.json",
                      "{\"metadata\": {}, \"weight_map\": {"
                      "\"a.weight\": \"model-00001-of-00002.safetensors\", "
                      "\"b.weight\": \"model-00002-of-00002.safetensors\"}}"));
  g_free (
      write_weights ("shards/model-00001-of-00002.safetensors", "a.weight", 1));
  g_free (
      write_weights ("shards/model-00002-of-00002.safetensors", "b.weight", 2));
  b = lf_model_files_open (shards, &error);
  g_assert_no_error (error);
  c = lf_model_files_get_component (b, 0);
  g_assert_cmpstr (lf_component_get_class_name (c), ==, "CLIPTextModel");
  g_assert_cmpuint (lf_component_get_n_weights (c), ==, 2);
  g_assert_cmpfloat (
      *(const float *)lf_component_lookup (c, "b.weight")->tensor->data, ==,
      2.0f);

  /* The same name in two shards is ambiguous. */
  g_free (
      write_weights ("shards/model-00002-of-00002.safetensors", "a.weight", 2));
  assert_open_fails ("shards", LF_ERROR_FORMAT, "a.weight");
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("lf-folder-XXXXXX", NULL);
  g_test_add_func ("/diffusers-folder/fixture-pipeline", test_fixture_pipeline);
  g_test_add_func ("/diffusers-folder/fixture-scheduler-config",
                   test_fixture_scheduler_config);
  g_test_add_func ("/diffusers-folder/fixture-linfusion-and-component",
                   test_fixture_linfusion_and_component);
  g_test_add_func ("/diffusers-folder/missing-config", test_missing_config);
  g_test_add_func ("/diffusers-folder/fp16-and-shards", test_fp16_and_shards);
  rc = g_test_run ();
  lf_test_remove_tree (tmp);
  g_free (tmp);
  return rc;
}
