/* bench-adapters.c: what a ControlNet and an IP-Adapter add to a full-size
 * SD-1.5 + LinFusion generation on the CPU, through the public engine API:
 * seconds per guided sampling step without and with each, the one-off
 * encode stage (the control image's preprocessing and conditioning
 * embedding; the ViT-H/14 image encoder and projection), and the control
 * preprocessors alone at a large size. Sampling stops before the VAE
 * (cancelled at the last step), which bench-sd15 times on its own.
 * The model is bench/make-sd15-random.py's folder (random weights, with
 * controlnet/ and ip_adapter/models/); it validates first: the shared tiny
 * set's controlnet_linfusion_ddim run through the same API.
 *
 *   bench-adapters MODEL_DIR [THREADS [SIZE [STEPS]]]
 */
#include "config.h"

#include <gio/gio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linfusion.h"

#include "safetensors.h"

typedef struct
{
  LfSink        sink;
  GCancellable *cancel;
  gint64        last;      /* µs of the previous report */
  GArray       *steps;     /* seconds per sampling step */
  double        encode;    /* seconds of the encode stage */
  gint64        encode_t0; /* µs when it began, 0 before */
} Timing;

static void
die_on (GError *error)
{
  if (error == NULL)
    return;
  fprintf (stderr, "bench-adapters: %s\n", error->message);
  exit (1);
}

static gboolean
sink_begin (
    LfSink *s, int64_t w, int64_t h, LfPixelFormat f, int64_t *rows, GError **e)
{
  (void)s, (void)w, (void)h, (void)f, (void)rows, (void)e;
  return TRUE;
}

static gboolean
sink_write (
    LfSink *s, int64_t y, int64_t rows, const guint8 *px, size_t st, GError **e)
{
  (void)s, (void)y, (void)rows, (void)px, (void)st, (void)e;
  return TRUE;
}

static gboolean
sink_finish (LfSink *s, GError **e)
{
  (void)s, (void)e;
  return TRUE;
}

static void
sink_abort (LfSink *s)
{
  (void)s;
}

static void
on_progress (const LfProgress *p, gpointer data)
{
  Timing      *tm = data;
  const gint64 now = g_get_monotonic_time ();

  if (p->stage == LF_STAGE_ENCODE && p->step == 0)
    tm->encode_t0 = now;
  else if (p->stage == LF_STAGE_ENCODE && p->step == p->n_steps)
    tm->encode += (now - tm->encode_t0) / 1e6;
  if (p->stage == LF_STAGE_SAMPLING)
    {
      const double s = (now - tm->last) / 1e6;

      g_array_append_val (tm->steps, s);
      if (p->step == p->n_steps)
        g_cancellable_cancel (tm->cancel);
    }
  tm->last = g_get_monotonic_time ();
}

static int
cmp_double (const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* Runs @r until the last sampling step; the median step seconds. */
static double
run (LfEngine *e, const LfRequest *r, double *encode)
{
  GError *error = NULL;
  Timing  tm = { { sink_begin, sink_write, sink_finish, sink_abort },
                 g_cancellable_new (),
                 g_get_monotonic_time (),
                 g_array_new (FALSE, FALSE, sizeof (double)),
                 0.0,
                 0 };
  double  median;

  lf_engine_generate (e, r, &tm.sink, on_progress, &tm, tm.cancel, &error);
  if (error != NULL
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    die_on (error);
  g_clear_error (&error);
  qsort (tm.steps->data, tm.steps->len, sizeof (double), cmp_double);
  median = g_array_index (tm.steps, double, tm.steps->len / 2);
  *encode = tm.encode;
  g_array_unref (tm.steps);
  g_object_unref (tm.cancel);
  return median;
}

/* A colourful pattern with hard edges for the preprocessors. */
static guint8 *
pattern (int64_t w, int64_t h)
{
  guint8 *px = g_malloc ((size_t)(w * h * 3));

  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      {
        guint8 *p = px + (y * w + x) * 3;

        p[0] = (guint8)(((x / 37 + y / 53) % 2) * 200 + (x % 31));
        p[1] = (guint8)(128 + 100 * sin ((double)x * 0.01 + (double)y * 0.02));
        p[2] = (guint8)((x * 255) / w);
      }
  return px;
}

static void
validate (int threads)
{
  const char      *root = g_getenv ("LF_CONFORMANCE_DIR");
  g_autofree char *dir = g_build_filename (root ? root : LF_BENCH_CONFORMANCE,
                                           "sd15-tiny-seed0", NULL);
  g_autofree char *ref_path = g_build_filename (
      dir, "ref", "controlnet_linfusion_ddim.safetensors", NULL);
  g_autofree char *lin = g_build_filename (dir, "linfusion", NULL);
  g_autofree char *cn = g_build_filename (dir, "controlnet", NULL);
  g_autofree char *sched = g_build_filename (dir, "schedulers", "ddim",
                                             "scheduler_config.json", NULL);
  GError          *error = NULL;
  g_autoptr (LfSafetensors) ref = NULL;
  g_autoptr (LfEngine) e = NULL;
  g_autoptr (LfRequest) r = lf_request_new ();
  const LfStTensor *noise, *img, *want;
  Timing            tm = {
               { sink_begin, sink_write, sink_finish, sink_abort }, NULL, 0, NULL, 0.0, 0
  };
  const float *got;
  int64_t      shape[4];
  double       max_ref = 0.0, max_diff = 0.0;

  if (!g_file_test (ref_path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "bench-adapters: %s absent, not validating\n", ref_path);
      return;
    }
  ref = lf_safetensors_open (ref_path, &error);
  die_on (error);
  noise = lf_safetensors_lookup (ref, "init_noise");
  img = lf_safetensors_lookup (ref, "control_image_u8");
  want = lf_safetensors_lookup (ref, "final_latents");
  e = lf_engine_new ("cpu", threads, &error);
  die_on (error);
  lf_engine_load_model (e, dir, NULL, &error);
  die_on (error);
  lf_engine_load_linfusion (e, lin, &error);
  die_on (error);
  lf_engine_load_controlnet (e, cn, &error);
  die_on (error);
  lf_request_set_prompt (r, "a photograph of an astronaut riding a horse");
  lf_request_set_size (r, 64, 128);
  lf_request_set_steps (r, 5);
  lf_request_set_scheduler_config (r, sched, &error);
  die_on (error);
  lf_request_set_init_noise (r, noise->data, noise->ndim, noise->shape);
  lf_request_set_control_image (r, img->shape[1], img->shape[0], img->data,
                                (size_t)img->shape[1] * 3);
  lf_engine_generate (e, r, &tm.sink, NULL, NULL, NULL, &error);
  die_on (error);
  got = lf_engine_get_final_latents (e, shape);
  for (int64_t i = 0; i < lf_st_tensor_numel (want); i++)
    {
      const double w = ((const float *)want->data)[i];

      max_ref = MAX (max_ref, fabs (w));
      max_diff = MAX (max_diff, fabs (w - got[i]));
    }
  printf ("validation (controlnet_linfusion_ddim): max |diff| %.3g of max "
          "|ref| %.3g\n",
          max_diff, max_ref);
  if (!(max_diff <= 1e-3 * max_ref))
    exit (1);
}

static void
time_preprocessors (int64_t size)
{
  g_autofree guint8 *src = pattern (size, size);
  GError            *error = NULL;

  for (int k = 0; k < 3; k++)
    {
      const gint64       t0 = g_get_monotonic_time ();
      g_autofree guint8 *out = lf_control_image_prepare (
          src, size, size, (size_t)size * 3, (LfControlPreprocess)k, 100, 200,
          2, size, size, &error);

      die_on (error);
      g_assert (out != NULL);
      printf ("preprocess %-5s %lld²: %.2f s\n",
              lf_control_preprocess_to_string ((LfControlPreprocess)k),
              (long long)size, (g_get_monotonic_time () - t0) / 1e6);
    }
}

int
main (int argc, char **argv)
{
  const char        *dir = argc > 1 ? argv[1] : g_getenv ("LF_BENCH_SD15");
  const int          threads = argc > 2 ? atoi (argv[2]) : 2;
  const int          size = argc > 3 ? atoi (argv[3]) : 512;
  const int          steps = argc > 4 ? atoi (argv[4]) : 3;
  GError            *error = NULL;
  g_autofree char   *lin = NULL, *cn = NULL, *ip = NULL;
  g_autofree guint8 *control = NULL, *ref = NULL;
  g_autoptr (LfEngine) e = NULL;
  g_autoptr (LfRequest) r = lf_request_new ();
  double plain, with_cn, with_ip, enc_cn, enc_ip, unused;

  if (dir == NULL)
    {
      fprintf (stderr, "bench-adapters: no model (argument or "
                       "LF_BENCH_SD15); skipped\n");
      return 77;
    }
  validate (threads);
  time_preprocessors (4096);
  lin = g_build_filename (dir, "linfusion", NULL);
  cn = g_build_filename (dir, "controlnet", NULL);
  ip = g_build_filename (dir, "ip_adapter", "models",
                         "ip-adapter_sd15.safetensors", NULL);
  e = lf_engine_new ("cpu", threads, &error);
  die_on (error);
  lf_engine_load_model (e, dir, NULL, &error);
  die_on (error);
  lf_engine_load_linfusion (e, lin, &error);
  die_on (error);
  lf_request_set_size (r, size, size);
  lf_request_set_steps (r, steps);
  lf_request_set_prompt (r, "a lighthouse at dusk");
  plain = run (e, r, &unused);

  lf_engine_load_controlnet (e, cn, &error);
  die_on (error);
  control = pattern (size, size);
  lf_request_set_control_image (r, size, size, control, (size_t)size * 3);
  lf_request_set_control_preprocess (r, LF_CONTROL_PREPROCESS_CANNY);
  with_cn = run (e, r, &enc_cn);
  lf_request_set_control_image (r, 0, 0, NULL, 0);
  lf_engine_unload_controlnet (e);

  lf_engine_load_ip_adapter (e, ip, NULL, &error);
  die_on (error);
  ref = pattern (300, 240);
  lf_request_set_ip_adapter_image (r, 300, 240, ref, 300 * 3);
  with_ip = run (e, r, &enc_ip);

  printf ("SD-1.5 + LinFusion, %d², %d threads, CFG (batch 2), median of %d "
          "steps:\n",
          size, threads, steps);
  printf ("  plain        %.2f s/step\n", plain);
  printf ("  + ControlNet %.2f s/step (+%.0f%%), encode stage %.2f s\n",
          with_cn, 100.0 * (with_cn / plain - 1.0), enc_cn);
  printf ("  + IP-Adapter %.2f s/step (+%.0f%%), encode stage %.2f s "
          "(ViT-H/14)\n",
          with_ip, 100.0 * (with_ip / plain - 1.0), enc_ip);
  return 0;
}
