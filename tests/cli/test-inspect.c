/* test-inspect.c: `linfusion inspect` on the conformance set: the diffusers
 * folder, the LinFusion folder and a single-file SD-1 checkpoint built here
 * from the folder, each reporting the manifest's tensor and parameter
 * counts per component.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "lf-test-model.h"
#include "lf-test.h"

/* stdout of `linfusion inspect [OPT] ARG`, which must exit with @status. */
static char *
inspect_with (const char *opt, const char *arg, int expect_status)
{
  g_auto (LfTestRun) run = { 0 };

  g_assert_true (lf_test_run_cli (&run, "inspect", opt, arg, NULL));
  g_assert_cmpint (run.status, ==, expect_status);
  return g_steal_pointer (&run.out);
}

static char *
inspect (const char *arg, int expect_status)
{
  return inspect_with (arg, NULL, expect_status);
}

/* The counts on the "  <name> <class> N tensors P params" line. */
static void
assert_component (const char *out, const char *name, JsonObject *want)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  gboolean found = FALSE;

  for (int i = 0; lines[i] != NULL; i++)
    {
      char   got_name[64], class[64];
      gint64 tensors, params;

      if (sscanf (lines[i],
                  " %63s %63s %" G_GINT64_FORMAT " tensors %" G_GINT64_FORMAT
                  " params",
                  got_name, class, &tensors, &params)
              != 4
          || strcmp (got_name, name) != 0)
        continue;
      found = TRUE;
      g_assert_cmpint (tensors, ==,
                       json_object_get_int_member (want, "tensors"));
      g_assert_cmpint (params, ==, json_object_get_int_member (want, "params"));
    }
  g_assert_true (found);
}

static JsonObject *
weight_counts (JsonParser *parser, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_object_get_object_member (
      json_node_get_object (json_parser_get_root (parser)),
      "weights_roundtrip_exact");
}

static void
assert_sd15_components (const char *out, JsonObject *counts)
{
  assert_component (out, "unet",
                    json_object_get_object_member (counts, "unet"));
  assert_component (out, "vae", json_object_get_object_member (counts, "vae"));
  assert_component (out, "text_encoder",
                    json_object_get_object_member (counts, "text_encoder"));
  g_assert_nonnull (strstr (out, "architecture: sd15\n"));
  g_assert_nonnull (strstr (out, "components: 3\n"));
}

static void
test_folder (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *out = NULL;

  if (dir == NULL)
    return;
  out = inspect (dir, 0);
  g_assert_nonnull (strstr (out, "kind: diffusers\n"));
  assert_sd15_components (out, weight_counts (parser, dir));
  g_assert_nonnull (strstr (out, "UNet2DConditionModel"));
}

static void
test_linfusion (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *lin = NULL, *out = NULL;

  if (dir == NULL)
    return;
  lin = g_build_filename (dir, "linfusion", NULL);
  out = inspect (lin, 0);
  g_assert_nonnull (strstr (out, "kind: linfusion\n"));
  assert_component (
      out, "linfusion",
      json_object_get_object_member (weight_counts (parser, dir), "linfusion"));
}

static void
test_checkpoint (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *tmp = NULL, *path = NULL, *out = NULL;

  if (dir == NULL)
    return;
  tmp = g_dir_make_tmp ("lf-inspect-XXXXXX", NULL);
  path = g_build_filename (tmp, "tiny-sd15.safetensors", NULL);
  lf_test_write_ldm_checkpoint (dir, path);
  out = inspect (path, 0);
  g_assert_nonnull (strstr (out, "kind: checkpoint\n"));
  assert_sd15_components (out, weight_counts (parser, dir));
  /* The EMA key is skipped silently; the foreign one is reported. */
  g_assert_nonnull (strstr (out, "unknown keys: 1\n  some_extension.scale\n"));
  g_assert_null (strstr (out, "model_ema"));
  g_remove (path);
  g_rmdir (tmp);
}

/* --tensors lists diffusers names and shapes, and for a checkpoint the key
 * each was stored under (VAE attention stored as a 1×1 conv, squeezed). */
static void
test_tensors (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char *tmp = NULL, *path = NULL, *out = NULL, *ckpt = NULL;

  if (dir == NULL)
    return;
  out = inspect_with ("--tensors", dir, 0);
  g_assert_true (g_regex_match_simple (
      "\\n +conv_in\\.weight +f32 +\\[16, 4, 3, 3\\]\\n", out, 0, 0));
  g_assert_true (g_regex_match_simple (
      "\\n +text_model\\.embeddings\\.token_embedding\\.weight +f32 +"
      "\\[49408, 32\\]\\n",
      out, 0, 0));
  tmp = g_dir_make_tmp ("lf-inspect-XXXXXX", NULL);
  path = g_build_filename (tmp, "tiny-sd15.safetensors", NULL);
  lf_test_write_ldm_checkpoint (dir, path);
  ckpt = inspect_with ("--tensors", path, 0);
  g_assert_true (g_regex_match_simple (
      "\\n +conv_in\\.weight +f32 +\\[16, 4, 3, 3\\]  \\(stored as "
      "model\\.diffusion_model\\.input_blocks\\.0\\.0\\.weight\\)\\n",
      ckpt, 0, 0));
  g_assert_true (g_regex_match_simple (
      "decoder\\.mid_block\\.attentions\\.0\\.to_q\\.weight +f32 +"
      "\\[16, 16\\]  \\(stored as first_stage_model\\.decoder\\.mid\\."
      "attn_1\\.q\\.weight\\)",
      ckpt, 0, 0));
  g_remove (path);
  g_rmdir (tmp);
}

static void
test_usage (void)
{
  g_autofree char *help = NULL;
  g_autofree char *none = inspect ("--no-such-option", 1);

  help = inspect ("--help", 0);
  g_assert_nonnull (strstr (help, "PATH"));
  g_assert_cmpstr (none, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/inspect/folder", test_folder);
  g_test_add_func ("/cli/inspect/linfusion", test_linfusion);
  g_test_add_func ("/cli/inspect/checkpoint", test_checkpoint);
  g_test_add_func ("/cli/inspect/tensors", test_tensors);
  g_test_add_func ("/cli/inspect/usage", test_usage);
  return g_test_run ();
}
