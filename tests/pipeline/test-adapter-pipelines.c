/* test-adapter-pipelines.c: ControlNet and IP-Adapter generations through
 * the public engine API against upstream diffusers runs: the shared set's
 * controlnet_linfusion_ddim and ip_adapter_linfusion_ddim, and our own
 * ControlNet fixtures for control_guidance_start/end and guess mode with
 * a control image the pipeline must resize (tests/tools/
 * make-controlnet-fixture.py). Tolerances as test-pipelines.c. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test-sink.h"
#include "lf-test.h"
#include "pipeline-common.h"

#define SET "sd15-tiny-seed0"

static void
set_control_image (LfRequest *r, const LfStTensor *u8)
{
  lf_request_set_control_image (r, u8->shape[1], u8->shape[0], u8->data,
                                (size_t)u8->shape[1] * 3);
}

static void
load_controlnet (LfEngine *engine, const char *dir)
{
  g_autofree char *path = g_build_filename (dir, "controlnet", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (lf_engine_load_controlnet (engine, path, &error));
  g_assert_no_error (error);
}

static LfSafetensors *
open_ref (const char *dir, const char *name)
{
  g_autofree char *path = g_strdup_printf ("%s/ref/%s.safetensors", dir, name);
  g_autoptr (GError) error = NULL;
  LfSafetensors *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

static void
generate (LfEngine *engine, const LfRequest *request, LfTestSink *sink)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (lf_engine_generate (engine, request, &sink->sink, NULL, NULL,
                                     NULL, &error));
  g_assert_no_error (error);
}

static void
test_controlnet_linfusion_ddim (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *lin = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();

  if (dir == NULL)
    return;
  st = open_ref (dir, "controlnet_linfusion_ddim");
  lin = g_build_filename (dir, "linfusion", NULL);
  engine = engine_new (dir, NULL, lin);
  load_controlnet (engine, dir);
  request = fixture_request (dir, "ddim", 0, -1, st);
  set_control_image (request, ref_tensor (st, "control_image_u8"));
  generate (engine, request, sink);
  assert_latents (engine, ref_tensor (st, "final_latents"), 1e-3);
  assert_pixels (sink, ref_tensor (st, "image"));
}

static void
test_ip_adapter_linfusion_ddim (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *lin = NULL, *adapter = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();
  const LfStTensor *image, *scale;

  if (dir == NULL)
    return;
  st = open_ref (dir, "ip_adapter_linfusion_ddim");
  lin = g_build_filename (dir, "linfusion", NULL);
  adapter = g_build_filename (dir, "ip_adapter", "models",
                              "ip-adapter_sd15.safetensors", NULL);
  engine = engine_new (dir, NULL, lin);
  /* the image encoder is found beside the file, as h94/IP-Adapter lays
   * them out */
  g_assert_true (lf_engine_load_ip_adapter (engine, adapter, NULL, &error));
  g_assert_no_error (error);
  request = fixture_request (dir, "ddim", 0, -1, st);
  image = ref_tensor (st, "ip_image_u8");
  scale = ref_tensor (st, "ip_adapter_scale");
  lf_request_set_ip_adapter_image (request, image->shape[1], image->shape[0],
                                   image->data, (size_t)image->shape[1] * 3);
  lf_request_set_ip_adapter_scale (request, *(const float *)scale->data);
  generate (engine, request, sink);
  assert_latents (engine, ref_tensor (st, "final_latents"), 1e-3);
  assert_pixels (sink, ref_tensor (st, "image"));
}

/* Our fixture: original attention, a 40 × 80 control image resized by the
 * pipeline, one run with start/end and scale, one in guess mode. */
static void
test_controlnet_range_and_guess (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *path
      = lf_test_data_path ("controlnet-pipelines.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  const LfStTensor  *u8, *f;
  g_autofree guint8 *prepared = NULL;
  int64_t            W, H, worst = 0;

  if (dir == NULL)
    return;
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  engine = engine_new (dir, NULL, NULL);
  load_controlnet (engine, dir);
  u8 = ref_tensor (st, "control_image_u8");
  f = ref_tensor (st, "control_image_f");
  H = f->shape[2], W = f->shape[3];
  /* what the pipeline fed the ControlNet: the same bytes / 255 */
  prepared = lf_control_image_prepare (
      u8->data, u8->shape[1], u8->shape[0], (size_t)u8->shape[1] * 3,
      LF_CONTROL_PREPROCESS_NONE, 100, 200, 2, W, H, &error);
  g_assert_no_error (error);
  for (int64_t c = 0; c < 3; c++)
    for (int64_t i = 0; i < H * W; i++)
      {
        const float want = ((const float *)f->data)[c * H * W + i];
        const float got = (float)prepared[i * 3 + c] / 255.0f;

        worst = MAX (worst, (int64_t)(got != want));
      }
  g_assert_cmpint (worst, ==, 0);

  for (int run = 0; run < 2; run++)
    {
      const char      *name = run == 0 ? "range" : "guess";
      g_autofree char *lat = g_strdup_printf ("%s_final_latents", name);
      g_autofree char *img = g_strdup_printf ("%s_image", name);
      g_autoptr (LfRequest) request = fixture_request (dir, "ddim", 0, -1, st);
      g_autoptr (LfTestSink) sink = lf_test_sink_new ();

      set_control_image (request, u8);
      if (run == 0)
        {
          lf_request_set_control_range (request, 0.2, 0.8);
          lf_request_set_control_scale (request, 0.7);
        }
      else
        {
          lf_request_set_control_guess_mode (request, TRUE);
          lf_request_set_control_scale (request, 0.9);
        }
      g_test_message ("run %s", name);
      generate (engine, request, sink);
      assert_latents (engine, ref_tensor (st, lat), 1e-3);
      assert_pixels (sink, ref_tensor (st, img));
    }
}

/* A range that controls no step gives exactly the plain generation. */
static void
test_controlnet_empty_range_is_plain (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfTestSink) plain = lf_test_sink_new ();
  g_autoptr (LfTestSink) ranged = lf_test_sink_new ();
  g_autoptr (LfRequest) request = NULL;
  g_autofree float *first = NULL;
  const float      *second;
  int64_t           shape[4];

  if (dir == NULL)
    return;
  st = open_ref (dir, "controlnet_linfusion_ddim");
  engine = engine_new (dir, NULL, NULL);
  load_controlnet (engine, dir);
  request = fixture_request (dir, "ddim", 0, -1, st);
  generate (engine, request, plain);
  first = g_memdup2 (lf_engine_get_final_latents (engine, shape),
                     4 * 16 * 8 * sizeof (float));
  set_control_image (request, ref_tensor (st, "control_image_u8"));
  /* 5 steps: step 0 needs end ≥ 0.2 */
  lf_request_set_control_range (request, 0.0, 0.19);
  generate (engine, request, ranged);
  second = lf_engine_get_final_latents (engine, shape);
  g_assert_cmpmem (first, 4 * 16 * 8 * sizeof (float), second,
                   4 * 16 * 8 * sizeof (float));
}

static void
assert_generate_fails (LfEngine        *engine,
                       const LfRequest *request,
                       const char      *needle)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();

  g_assert_false (lf_engine_generate (engine, request, &sink->sink, NULL, NULL,
                                      NULL, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_true (sink->aborted);
}

static void
test_bad_requests (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *tmp = NULL, *lonely = NULL, *src = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) request = lf_request_new ();
  const guint8 px[3 * 4] = { 0 };
  gsize        len;

  if (dir == NULL)
    return;
  engine = engine_new (dir, NULL, NULL);
  lf_request_set_size (request, 64, 128);
  lf_request_set_steps (request, 1);
  lf_request_set_control_image (request, 2, 2, px, 6);
  assert_generate_fails (engine, request, "ControlNet");
  lf_request_set_control_image (request, 0, 0, NULL, 0);
  lf_request_set_ip_adapter_image (request, 2, 2, px, 6);
  assert_generate_fails (engine, request, "IP-Adapter");
  lf_request_set_ip_adapter_image (request, 2, 2, px, 6);
  lf_request_set_control_range (request, 0.5, 0.5);
  assert_generate_fails (engine, request, "start");

  /* an adapter file alone in a folder: no image encoder to be found */
  tmp = g_dir_make_tmp ("lf-ip-XXXXXX", &error);
  g_assert_no_error (error);
  src = g_build_filename (dir, "ip_adapter", "models",
                          "ip-adapter_sd15.safetensors", NULL);
  lonely = g_build_filename (tmp, "ip-adapter_sd15.safetensors", NULL);
  g_assert_true (g_file_get_contents (src, &data, &len, &error));
  g_assert_true (g_file_set_contents (lonely, data, (gssize)len, &error));
  g_assert_false (lf_engine_load_ip_adapter (engine, lonely, NULL, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "image encoder"));
  g_clear_error (&error);
  g_assert_false (lf_engine_load_ip_adapter (engine, lonely, tmp, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  lf_test_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pipeline/controlnet-linfusion-ddim",
                   test_controlnet_linfusion_ddim);
  g_test_add_func ("/pipeline/ip-adapter-linfusion-ddim",
                   test_ip_adapter_linfusion_ddim);
  g_test_add_func ("/pipeline/controlnet-range-and-guess",
                   test_controlnet_range_and_guess);
  g_test_add_func ("/pipeline/controlnet-empty-range-is-plain",
                   test_controlnet_empty_range_is_plain);
  g_test_add_func ("/pipeline/adapter-bad-requests", test_bad_requests);
  return g_test_run ();
}
