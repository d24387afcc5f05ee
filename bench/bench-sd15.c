/* bench-sd15.c: full-size SD-1.5 on the CPU: the text encoder, one UNet
 * step with classifier-free guidance (batch 2) at several sizes with
 * LinFusion and with the original softmax self-attention, and a VAE decode;
 * peak RSS. The model is a diffusers folder with random weights made by
 * bench/make-sd15-random.py (published configs; never committed).
 * Validates first: the same UNet code on the shared tiny fixture against
 * upstream diffusers + LinFusion.
 *
 *   bench-sd15 MODEL_DIR [THREADS [LINFUSION_SIZES [ORIGINAL_SIZES]]]
 *   e.g. bench-sd15 /work/bench-sd15 2 512,768,1024 512,768,1024
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "linfusion.h"

#include "arena.h"
#include "backend.h"
#include "diffusers-folder.h"
#include "safetensors.h"
#include "text-encoder.h"
#include "unet.h"
#include "vae.h"

typedef struct
{
  LfBackend     *backend;
  LfModelFiles  *model, *linfusion;
  LfTextEncoder *te;
  LfUnet        *unet;
  LfVae         *vae;
} Bench;

static void
die_on (GError *error)
{
  if (error == NULL)
    return;
  fprintf (stderr, "bench-sd15: %s\n", error->message);
  exit (1);
}

static double
peak_rss_mib (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

static const LfComponent *
component (LfModelFiles *files, const char *name)
{
  const LfComponent *c = lf_model_files_lookup (files, name);

  if (c == NULL)
    {
      fprintf (stderr, "bench-sd15: no %s in %s\n", name,
               lf_model_files_get_path (files));
      exit (1);
    }
  return c;
}

static void
mount_linfusion (Bench *b, const char *dir)
{
  GError            *error = NULL;
  g_autofree char   *lin = g_build_filename (dir, "linfusion", NULL);
  const LfComponent *c;

  b->linfusion = lf_model_files_open (lin, &error);
  die_on (error);
  c = component (b->linfusion, "linfusion");
  lf_unet_mount_linfusion (b->unet, c, lf_component_get_config (c), &error);
  die_on (error);
}

static void
load (Bench *b, const char *dir, int threads, gboolean models)
{
  GError            *error = NULL;
  const LfComponent *c;
  LfOps             *ops;

  b->backend = lf_backend_new_cpu (threads, &error);
  die_on (error);
  ops = lf_backend_get_ops (b->backend);
  b->model = lf_model_files_open (dir, &error);
  die_on (error);
  c = component (b->model, "unet");
  b->unet = lf_unet_load (c, lf_component_get_config (c), ops, &error);
  die_on (error);
  if (!models)
    return;
  c = component (b->model, "text_encoder");
  b->te = lf_text_encoder_load (c, lf_component_get_config (c), ops, &error);
  die_on (error);
  c = component (b->model, "vae");
  b->vae = lf_vae_load (c, lf_component_get_config (c), ops, &error);
  die_on (error);
}

static void
unload (Bench *b)
{
  lf_text_encoder_free (b->te);
  lf_unet_free (b->unet);
  lf_vae_free (b->vae);
  lf_model_files_free (b->linfusion);
  lf_model_files_free (b->model);
  lf_backend_free (b->backend);
  memset (b, 0, sizeof *b);
}

static void
fill (float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = (float)g_random_double_range (-1.0, 1.0);
}

static int
cmp_double (const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

static void
check_finite (const char *what, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    if (!isfinite (x[i]))
      {
        fprintf (stderr, "bench-sd15: %s: non-finite output\n", what);
        exit (1);
      }
}

/* Median seconds of one UNet call with batch 2 at @size² pixels; a single
 * timed run (after none) when @repeats is 1, for the slow large sizes. */
static double
time_unet (Bench *b, int64_t size, int repeats)
{
  GError            *error = NULL;
  const int64_t      h = size / 8, w = size / 8, L = 77, n = 2 * 4 * h * w;
  const int64_t      xs[4] = { 2, 4, h, w }, cs[3] = { 2, L, 768 };
  g_autofree float  *x = g_new (float, n);
  g_autofree float  *ctx = g_new (float, 2 * L * 768);
  g_autofree float  *out = g_new (float, n);
  g_autofree double *t = g_new (double, repeats);
  LfTensor           tx = lf_tensor_make (x, LF_DTYPE_F32, 4, xs);
  LfTensor           tc = lf_tensor_make (ctx, LF_DTYPE_F32, 3, cs);
  LfTensor           to = lf_tensor_make (out, LF_DTYPE_F32, 4, xs);
  const float        ts[2] = { 500.0f, 500.0f };
  g_autoptr (LfArena) arena
      = lf_arena_new (lf_unet_plan (b->unet, 2, h, w, L), &error);

  die_on (error);
  fill (x, n);
  fill (ctx, 2 * L * 768);
  for (int r = repeats > 1 ? -1 : 0; r < repeats; r++)
    {
      const gint64 t0 = g_get_monotonic_time ();

      lf_unet_forward (b->unet, &tx, ts, &tc, arena, &to, &error);
      die_on (error);
      if (r >= 0)
        t[r] = (g_get_monotonic_time () - t0) / 1e6;
    }
  check_finite ("unet", out, n);
  qsort (t, (size_t)repeats, sizeof (double), cmp_double);
  return t[repeats / 2];
}

static double
time_text_encoder (Bench *b, int repeats)
{
  GError            *error = NULL;
  int32_t            ids[77];
  const int64_t      os[3] = { 1, 77, 768 };
  g_autofree float  *out = g_new (float, 77 * 768);
  g_autofree double *t = g_new (double, repeats);
  LfTensor           to = lf_tensor_make (out, LF_DTYPE_F32, 3, os);
  g_autoptr (LfArena) arena
      = lf_arena_new (lf_text_encoder_plan (b->te, 1), &error);

  die_on (error);
  for (int i = 0; i < 77; i++)
    ids[i] = i == 0 ? LF_TOKEN_BOS : (i > 20 ? LF_TOKEN_EOS : 320 + i);
  for (int r = -1; r < repeats; r++)
    {
      const gint64 t0 = g_get_monotonic_time ();

      lf_text_encoder_forward (b->te, ids, 1, 0, arena, NULL, &to, &error);
      die_on (error);
      if (r >= 0)
        t[r] = (g_get_monotonic_time () - t0) / 1e6;
    }
  check_finite ("text encoder", out, 77 * 768);
  qsort (t, (size_t)repeats, sizeof (double), cmp_double);
  return t[repeats / 2];
}

static double
time_vae_decode (Bench *b, int64_t size)
{
  GError           *error = NULL;
  const int64_t     h = size / 8, zs[4] = { 1, 4, h, h };
  const int64_t     is[4] = { 1, 3, size, size };
  g_autofree float *z = g_new (float, 4 * h * h);
  g_autofree float *img = g_new (float, 3 * size * size);
  LfTensor          tz = lf_tensor_make (z, LF_DTYPE_F32, 4, zs);
  LfTensor          ti = lf_tensor_make (img, LF_DTYPE_F32, 4, is);
  g_autoptr (LfArena) arena
      = lf_arena_new (lf_vae_plan_decode (b->vae, 1, h, h), &error);
  gint64 t0;

  die_on (error);
  fill (z, 4 * h * h);
  t0 = g_get_monotonic_time ();
  lf_vae_decode (b->vae, &tz, arena, &ti, &error);
  die_on (error);
  check_finite ("vae", img, 3 * size * size);
  return (g_get_monotonic_time () - t0) / 1e6;
}

/* The UNet code path on the tiny upstream fixture, LinFusion mounted. */
static void
validate (int threads)
{
  const char      *root = g_getenv ("LF_CONFORMANCE_DIR");
  g_autofree char *dir = g_build_filename (root ? root : LF_BENCH_CONFORMANCE,
                                           "sd15-tiny-seed0", NULL);
  g_autofree char *ref_path
      = g_build_filename (dir, "ref", "unet.safetensors", NULL);
  GError *error = NULL;
  g_autoptr (LfSafetensors) ref = NULL;
  const LfStTensor *x, *t, *ctx, *want;
  Bench             b = { 0 };
  LfTensor          tx, tc, to;
  g_autofree float *out = NULL;
  double            max_ref = 0.0, max_diff = 0.0;
  float             ts[8];

  if (!g_file_test (ref_path, G_FILE_TEST_EXISTS))
    {
      fprintf (stderr, "bench-sd15: %s absent, not validating\n", ref_path);
      return;
    }
  ref = lf_safetensors_open (ref_path, &error);
  die_on (error);
  x = lf_safetensors_lookup (ref, "sample");
  t = lf_safetensors_lookup (ref, "timestep");
  ctx = lf_safetensors_lookup (ref, "encoder_hidden_states");
  want = lf_safetensors_lookup (ref, "noise_pred_linfusion");
  if (x == NULL || t == NULL || ctx == NULL || want == NULL)
    {
      fprintf (stderr, "bench-sd15: unexpected names in %s\n", ref_path);
      exit (1);
    }
  load (&b, dir, threads, FALSE);
  mount_linfusion (&b, dir);
  lf_st_tensor_view (ref, x, &tx, &error);
  lf_st_tensor_view (ref, ctx, &tc, &error);
  die_on (error);
  out = g_new (float, lf_tensor_numel (&tx));
  to = lf_tensor_make (out, LF_DTYPE_F32, 4, tx.shape);
  for (int i = 0; i < tx.shape[0]; i++)
    ts[i] = lf_st_tensor_numel (t) > 1 ? ((const float *)t->data)[i]
                                       : ((const float *)t->data)[0];
  {
    g_autoptr (LfArena) arena
        = lf_arena_new (lf_unet_plan (b.unet, tx.shape[0], tx.shape[2],
                                      tx.shape[3], tc.shape[1]),
                        &error);

    die_on (error);
    lf_unet_forward (b.unet, &tx, ts, &tc, arena, &to, &error);
    die_on (error);
  }
  for (int64_t i = 0; i < lf_tensor_numel (&tx); i++)
    {
      const float r = ((const float *)want->data)[i];

      max_ref = MAX (max_ref, fabs (r));
      max_diff = MAX (max_diff, fabs (out[i] - r));
    }
  unload (&b);
  fprintf (stderr,
           "validated: UNet + LinFusion on the tiny fixture, max "
           "|diff| %.3g of max |ref| %.3g\n",
           max_diff, max_ref);
  if (max_diff > 1e-4 * max_ref)
    exit (1);
}

static void
unet_rows (const char *dir, int threads, const char *sizes, gboolean lin)
{
  g_auto (GStrv) list = g_strsplit (sizes, ",", -1);
  Bench b = { 0 };

  load (&b, dir, threads, FALSE);
  if (lin)
    mount_linfusion (&b, dir);
  for (int i = 0; list[i] != NULL && *list[i] != '\0'; i++)
    {
      const int64_t s = g_ascii_strtoll (list[i], NULL, 10);
      const int     repeats = s <= 512 ? 3 : 1;
      const double  sec = time_unet (&b, s, repeats);

      printf ("unet_step_cfg\t%" G_GINT64_FORMAT "\t%s\t%d\t%.2f\t%.3f\t%.0f\n",
              s, lin ? "linfusion" : "original", threads, sec,
              sec / (double)(s * s) * 1e6, peak_rss_mib ());
      fflush (stdout);
    }
  unload (&b);
}

int
main (int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : g_getenv ("LF_BENCH_SD15");
  const int   threads = argc > 2 ? atoi (argv[2]) : 2;
  const char *lin = argc > 3 ? argv[3] : "512,768,1024";
  const char *orig = argc > 4 ? argv[4] : "512,768,1024";
  Bench       b = { 0 };

  if (dir == NULL)
    {
      fprintf (stderr, "bench-sd15: no model (argument or LF_BENCH_SD15); "
                       "make one with bench/make-sd15-random.py\n");
      return 77;
    }
  validate (threads);
  printf ("stage\tsize\tattention\tthreads\tseconds\tus_per_pixel\t"
          "peak_rss_mib\n");
  load (&b, dir, threads, TRUE);
  printf ("text_encoder\t77\t-\t%d\t%.3f\t-\t%.0f\n", threads,
          time_text_encoder (&b, 3), peak_rss_mib ());
  printf ("vae_decode\t512\t-\t%d\t%.2f\t-\t%.0f\n", threads,
          time_vae_decode (&b, 512), peak_rss_mib ());
  fflush (stdout);
  unload (&b);
  unet_rows (dir, threads, lin, TRUE);
  unet_rows (dir, threads, orig, FALSE);
  return 0;
}
