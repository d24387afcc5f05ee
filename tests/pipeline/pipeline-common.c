/* pipeline-common.c: what the pipeline tests share: fixture tensors and
 * prompts, engines, requests as the fixtures were made, and the checks of
 * latents and pixels. */
#include "config.h"

#include <math.h>

#include "lf-test-sink.h"
#include "lf-test.h"
#include "pipeline-common.h"

const LfStTensor *
ref_tensor (LfSafetensors *st, const char *name)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  g_assert_nonnull (t);
  return t;
}

/* Prompt @i of the set, byte for byte (ref/tokenizer.safetensors). */
char *
prompt_text (const char *dir, int i)
{
  g_autofree char *path = NULL, *name = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  const LfStTensor *t;

  if (i < 0)
    return g_strdup ("");
  path = g_build_filename (dir, "ref", "tokenizer.safetensors", NULL);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  name = g_strdup_printf ("prompt_utf8_%d", i);
  t = ref_tensor (st, name);
  return g_strndup (t->data, (gsize)t->shape[0]);
}

LfEngine *
engine_new (const char *model, const char *config, const char *linfusion)
{
  g_autoptr (GError) error = NULL;
  LfEngine *engine = lf_engine_new ("cpu", 2, &error);

  g_assert_no_error (error);
  lf_engine_load_model (engine, model, config, &error);
  g_assert_no_error (error);
  if (linfusion != NULL)
    {
      lf_engine_load_linfusion (engine, linfusion, &error);
      g_assert_no_error (error);
    }
  return engine;
}

void
assert_pixels (const LfTestSink *sink, const LfStTensor *image)
{
  const float  *ref = image->data;
  const int64_t H = image->shape[2], W = image->shape[3];
  int           worst = 0;

  g_assert_true (sink->finished && !sink->aborted);
  g_assert_cmpint (sink->width, ==, W);
  g_assert_cmpint (sink->height, ==, H);
  for (int64_t c = 0; c < 3; c++)
    for (int64_t y = 0; y < H; y++)
      for (int64_t x = 0; x < W; x++)
        {
          const float v = ref[(c * H + y) * W + x];
          const int   want = (int)rintf (CLAMP (v, 0.0f, 1.0f) * 255.0f);
          const int   got = sink->rgb[(y * W + x) * 3 + c];

          worst = MAX (worst, ABS (got - want));
        }
  g_test_message ("max 8-bit pixel difference: %d", worst);
  g_assert_cmpint (worst, <=, 1);
}

void
assert_latents (LfEngine *engine, const LfStTensor *ref, double rtol)
{
  g_autofree double *want = lf_test_alloc_f64 (lf_st_tensor_numel (ref));
  const float       *got;
  int64_t            shape[4];

  got = lf_engine_get_final_latents (engine, shape);
  g_assert_nonnull (got);
  for (int i = 0; i < 4; i++)
    g_assert_cmpint (shape[i], ==, ref->shape[i]);
  for (int64_t i = 0; i < lf_st_tensor_numel (ref); i++)
    want[i] = ((const float *)ref->data)[i];
  lf_test_assert_close_scaled ("final latents", got, want,
                               lf_st_tensor_numel (ref), rtol);
}

LfRequest *
fixture_request (const char    *dir,
                 const char    *scheduler,
                 int            prompt_index,
                 int            negative_index,
                 LfSafetensors *st)
{
  g_autofree char *prompt = prompt_text (dir, prompt_index);
  g_autofree char *neg = prompt_text (dir, negative_index);
  g_autofree char *sched = g_build_filename (dir, "schedulers", scheduler,
                                             "scheduler_config.json", NULL);
  g_autoptr (GError) error = NULL;
  const LfStTensor *noise = ref_tensor (st, "init_noise");
  LfRequest        *r = lf_request_new ();

  lf_request_set_prompt (r, prompt);
  lf_request_set_negative_prompt (r, neg);
  lf_request_set_size (r, 64, 128);
  lf_request_set_steps (r, 5);
  lf_request_set_guidance (r, 7.5);
  lf_request_set_scheduler_config (r, sched, &error);
  g_assert_no_error (error);
  lf_request_set_init_noise (r, noise->data, noise->ndim, noise->shape);
  return r;
}
