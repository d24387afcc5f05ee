/* test-pipelines.c: whole generations through the public engine API against
 * upstream diffusers + LinFusion runs: the five pipeline files of the shared
 * conformance set (given init noise), our own seeded fixtures (Euler
 * ancestral txt2img, DDIM img2img: every random draw from the seed), a
 * single-file checkpoint converted from the folder, cancellation and sink
 * failures. Tolerances: latents ≤ 1e-3·max|ref|; 8-bit pixels within 1 of
 * round (ref · 255). */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test-model.h"
#include "lf-test-sink.h"
#include "lf-test.h"
#include "pipeline-common.h"
#include "safetensors.h"

#define SET "sd15-tiny-seed0"

typedef struct
{
  const char *file;      /* ref/<file>.safetensors                      */
  const char *scheduler; /* schedulers/<scheduler>/scheduler_config.json */
  gboolean    linfusion;
  int         prompt, negative; /* prompt indices, -1 for ""            */
} Case;

static const Case cases[] = {
  { "t2i_linfusion_ddim", "ddim", TRUE, 0, -1 },
  { "t2i_linfusion_euler", "euler", TRUE, 0, -1 },
  { "t2i_linfusion_dpmpp_2m", "dpmpp_2m", TRUE, 0, -1 },
  { "t2i_orig_ddim", "ddim", FALSE, 0, -1 },
  { "t2i_linfusion_dpmpp_2m_negprompt", "dpmpp_2m", TRUE, 2, 5 },
};

static void
test_fixture_pipeline (gconstpointer data)
{
  const Case      *c = data;
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *path = NULL, *lin = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();

  if (dir == NULL)
    return;
  path = g_strdup_printf ("%s/ref/%s.safetensors", dir, c->file);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  lin = c->linfusion ? g_build_filename (dir, "linfusion", NULL) : NULL;
  engine = engine_new (dir, NULL, lin);
  request = fixture_request (dir, c->scheduler, c->prompt, c->negative, st);
  g_assert_true (lf_engine_generate (engine, request, &sink->sink, NULL, NULL,
                                     NULL, &error));
  g_assert_no_error (error);
  assert_latents (engine, ref_tensor (st, "final_latents"), 1e-3);
  assert_pixels (sink, ref_tensor (st, "image"));
}

/* The same run from a single-file checkpoint written from the folder, with
 * the folder as --config, gives the same latents. */
static void
test_single_file_matches_folder (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *tmp = NULL, *ckpt = NULL, *path = NULL, *lin = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) folder = NULL, single = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autoptr (LfTestSink) a = lf_test_sink_new (), b = lf_test_sink_new ();
  g_autofree double *want = NULL;
  const float       *fa, *fb;
  int64_t            shape[4], n;

  if (dir == NULL)
    return;
  tmp = g_dir_make_tmp ("lf-pipeline-XXXXXX", NULL);
  ckpt = g_build_filename (tmp, "tiny-sd15.safetensors", NULL);
  lf_test_write_ldm_checkpoint (dir, ckpt);
  path = g_build_filename (dir, "ref", "t2i_linfusion_ddim.safetensors", NULL);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  lin = g_build_filename (dir, "linfusion", NULL);
  folder = engine_new (dir, NULL, lin);
  single = engine_new (ckpt, dir, lin);
  request = fixture_request (dir, cases[0].scheduler, cases[0].prompt,
                             cases[0].negative, st);
  g_assert_true (
      lf_engine_generate (folder, request, &a->sink, NULL, NULL, NULL, &error));
  g_assert_true (
      lf_engine_generate (single, request, &b->sink, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  fa = lf_engine_get_final_latents (folder, shape);
  fb = lf_engine_get_final_latents (single, shape);
  n = shape[0] * shape[1] * shape[2] * shape[3];
  want = lf_test_alloc_f64 (n);
  for (int64_t i = 0; i < n; i++)
    want[i] = fa[i];
  lf_test_assert_close_scaled ("checkpoint vs folder", fb, want, n, 1e-6);
  g_assert_cmpmem (a->rgb, 64 * 128 * 3, b->rgb, 64 * 128 * 3);
  g_remove (ckpt);
  g_rmdir (tmp);
}

static LfSafetensors *
seeded_fixture (void)
{
  g_autofree char *path = lf_test_data_path ("pipelines-seeded.safetensors");
  g_autoptr (GError) error = NULL;
  LfSafetensors *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

/* Euler ancestral from a seed: the initial noise and every step's noise
 * come from one torch generator. */
static void
test_seeded_euler_ancestral (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) r = lf_request_new ();
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();

  if (dir == NULL)
    return;
  st = seeded_fixture ();
  engine = engine_new (dir, NULL, NULL);
  lf_request_set_prompt (r, "a photograph of an astronaut riding a horse");
  lf_request_set_negative_prompt (r, "blurry, low quality");
  lf_request_set_size (r, 64, 128);
  lf_request_set_steps (r, 6);
  lf_request_set_guidance (r, 6.0);
  lf_request_set_seed (r, 1234);
  lf_request_set_sampler (r, LF_SAMPLER_EULER_A);
  g_assert_true (
      lf_engine_generate (engine, r, &sink->sink, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_latents (engine, ref_tensor (st, "t2i_euler_a_seed_latents"), 1e-3);
  assert_pixels (sink, ref_tensor (st, "t2i_euler_a_seed_image"));
}

/* img2img from a seed: posterior sample, then noise, as diffusers draws. */
static void
test_seeded_img2img (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *sched = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) r = lf_request_new ();
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();
  const LfStTensor *init;

  if (dir == NULL)
    return;
  st = seeded_fixture ();
  init = ref_tensor (st, "img2img_init_u8");
  engine = engine_new (dir, NULL, NULL);
  sched = g_build_filename (dir, "schedulers", "ddim", "scheduler_config.json",
                            NULL);
  lf_request_set_prompt (r, "a photograph of an astronaut riding a horse");
  lf_request_set_size (r, 64, 128);
  lf_request_set_steps (r, 10);
  lf_request_set_guidance (r, 7.5);
  lf_request_set_seed (r, 42);
  lf_request_set_strength (r, 0.6);
  lf_request_set_init_image (r, 64, 128, init->data, 64 * 3);
  lf_request_set_scheduler_config (r, sched, &error);
  g_assert_no_error (error);
  g_assert_true (
      lf_engine_generate (engine, r, &sink->sink, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_latents (engine, ref_tensor (st, "img2img_ddim_seed_latents"), 1e-3);
  assert_pixels (sink, ref_tensor (st, "img2img_ddim_seed_image"));
}

static void
cancel_at_step_2 (const LfProgress *p, gpointer user_data)
{
  /* every sampling step reports its latents for previews */
  if (p->stage == LF_STAGE_SAMPLING && p->step > 0)
    {
      g_assert_nonnull (p->latents);
      g_assert_cmpint (p->latent_shape[1], ==, 4);
      g_assert_cmpint (p->latent_shape[2], ==, 8);
      g_assert_cmpint (p->latent_shape[3], ==, 8);
      g_assert_true (isfinite (p->latents[0]));
    }
  if (p->stage == LF_STAGE_SAMPLING && p->step == 2)
    g_cancellable_cancel (user_data);
}

/* Cancelling between steps stops the run and aborts the sink; a sink that
 * fails a write stops it with the sink's error. */
static void
test_cancel_and_sink_failure (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfRequest) r = lf_request_new ();
  g_autoptr (LfTestSink) sink = lf_test_sink_new ();
  g_autoptr (LfTestSink) failing = lf_test_sink_new ();
  g_autoptr (GCancellable) cancel = g_cancellable_new ();

  if (dir == NULL)
    return;
  engine = engine_new (dir, NULL, NULL);
  lf_request_set_prompt (r, "a horse");
  lf_request_set_size (r, 64, 64);
  lf_request_set_steps (r, 5);
  g_assert_false (lf_engine_generate (engine, r, &sink->sink, cancel_at_step_2,
                                      cancel, cancel, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (sink->aborted && !sink->begun);
  g_clear_error (&error);

  failing->fail_at_write = 3;
  g_assert_false (
      lf_engine_generate (engine, r, &failing->sink, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_true (failing->aborted && !failing->finished);
  g_assert_cmpint (failing->n_writes, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name
          = g_strdup_printf ("/pipeline/fixture/%s", cases[i].file);

      g_test_add_data_func (name, &cases[i], test_fixture_pipeline);
    }
  g_test_add_func ("/pipeline/single-file-matches-folder",
                   test_single_file_matches_folder);
  g_test_add_func ("/pipeline/seeded/euler-ancestral",
                   test_seeded_euler_ancestral);
  g_test_add_func ("/pipeline/seeded/img2img", test_seeded_img2img);
  g_test_add_func ("/pipeline/cancel-and-sink-failure",
                   test_cancel_and_sink_failure);
  return g_test_run ();
}
