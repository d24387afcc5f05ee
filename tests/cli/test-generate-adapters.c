/* test-generate-adapters.c: `linfusion generate` with a ControlNet or an
 * IP-Adapter. /cli/adapters/args: every option combination or value the
 * CLI refuses, refused before any model is read (the model path does not
 * exist), with one line and exit status 1. /cli/adapters/run: the
 * conformance ControlNet and IP-Adapter end to end: the settings in the
 * PNG's parameters text, the same seed twice giving the same file, and
 * pixels that differ from the run without the adapter. Control and
 * reference PNGs are written through the CLI's own PNG writer. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "png-io.h"

#define SET      "sd15-tiny-seed0"
#define PROMPT   "a photograph of an astronaut riding a horse"
#define MAX_ARGS 40

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* A @w × @h PNG: a checkerboard of @cell-pixel squares, grey levels varying
 * along x, so that Canny finds edges and the tile preprocessor has detail. */
static void
write_pattern (const char *path, int64_t w, int64_t h, int64_t cell)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgb = g_malloc ((gsize)(w * h * 3));
  LfSink            *sink = lf_png_sink_new (path, "test pattern");
  int64_t            strip = h;

  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        rgb[(y * w + x) * 3 + c] = ((x / cell + y / cell) % 2 != 0)
                                       ? (guint8)(64 + (x * 3 + c * 50) % 190)
                                       : (guint8)(c * 20);
  g_assert_true (sink->begin (sink, w, h, LF_PIXEL_RGB8, &strip, &error));
  g_assert_true (sink->write (sink, 0, h, rgb, (size_t)(w * 3), &error));
  g_assert_true (sink->finish (sink, &error));
  g_assert_no_error (error);
  lf_png_sink_free (sink);
}

/* `linfusion generate ARGS…`, @args NULL-terminated (at most MAX_ARGS). */
static void
run_generate (LfTestRun *run, const char *const *args)
{
  const char *a[MAX_ARGS + 1] = { NULL };

  for (int i = 0; i < MAX_ARGS && args[i] != NULL; i++)
    a[i] = args[i];
  /* The first NULL ends the list, however many follow. */
  g_assert_true (lf_test_run_cli (
      run, "generate", a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8],
      a[9], a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18],
      a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28],
      a[29], a[30], a[31], a[32], a[33], a[34], a[35], a[36], a[37], a[38],
      a[39], NULL));
}

/* ---- refused arguments --------------------------------------------- */

typedef struct
{
  const char *name;
  const char *args[10]; /* after --model --prompt -o; "CTRL", "REF" and
                           "BAD" stand for files of the test */
  const char *needle;
} BadCase;

static void
run_bad (const BadCase *c, const char *ctrl, const char *bad)
{
  g_autofree char *model = tmp_path ("no-such-model");
  g_autofree char *out = tmp_path ("bad.png");
  const char      *args[MAX_ARGS]
      = { "--model", model, "--prompt", PROMPT, "-o", out };
  int n = 6;
  g_auto (LfTestRun) run = { 0 };

  for (int i = 0; c->args[i] != NULL; i++)
    args[n++] = g_str_equal (c->args[i], "CTRL")  ? ctrl
                : g_str_equal (c->args[i], "BAD") ? bad
                                                  : c->args[i];
  args[n] = NULL;
  run_generate (&run, args);
  g_test_message ("%s: %s", c->name, run.err);
  lf_test_assert_cli_error (&run, "generate", c->needle);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_bad_arguments (void)
{
  g_autofree char *ctrl = tmp_path ("ctrl.png"), *bad = tmp_path ("fake.png");
  /* clang-format off */
  const BadCase cases[] = {
    { "image without model", { "--control-image", "CTRL", NULL }, "--control-image needs --controlnet" },
    { "model without image", { "--controlnet", "/cn", NULL }, "--controlnet needs --control-image" },
    { "scale without model", { "--control-scale", "0.5", NULL }, "--control-scale needs --controlnet" },
    { "end without model", { "--control-end", "0.5", NULL }, "--control-end needs --controlnet" },
    { "preprocess without model", { "--control-preprocess", "canny", NULL }, "--control-preprocess needs --controlnet" },
    { "guess mode without model", { "--control-guess-mode", NULL }, "--control-guess-mode needs --controlnet" },
    { "linfusion on no model", { "--control-linfusion", NULL }, "--control-linfusion needs --controlnet" },
    { "control linfusion without linfusion", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-linfusion", NULL }, "--control-linfusion needs --linfusion" },
    { "unknown preprocessor", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-preprocess", "sobel", NULL }, "“sobel” (none, canny, tile)" },
    { "canny thresholds without canny", { "--controlnet", "/cn", "--control-image", "CTRL", "--canny-high", "90", NULL }, "--control-preprocess canny" },
    { "tile rate without tile", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-preprocess", "canny", "--tile-rate", "4", NULL }, "--control-preprocess tile" },
    { "missing control image", { "--controlnet", "/cn", "--control-image", "/no/such/control.png", NULL }, "/no/such/control.png" },
    { "unreadable control image", { "--controlnet", "/cn", "--control-image", "BAD", NULL }, "fake.png" },
    { "end above 1", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-end", "1.5", NULL }, "1.5" },
    { "start after end", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-start", "0.7", "--control-end", "0.3", NULL }, "0.7 and 0.3" },
    { "scale not finite", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-scale", "inf", NULL }, "Control scale" },
    { "negative canny", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-preprocess", "canny", "--canny-low", "-5", NULL }, "-5" },
    { "tile rate below 1", { "--controlnet", "/cn", "--control-image", "CTRL", "--control-preprocess", "tile", "--tile-rate", "0.5", NULL }, "0.5" },
    { "adapter without image", { "--ip-adapter", "/ip.safetensors", NULL }, "--ip-adapter needs --ip-adapter-image" },
    { "image without adapter", { "--ip-adapter-image", "CTRL", NULL }, "--ip-adapter-image needs --ip-adapter" },
    { "encoder without adapter", { "--image-encoder", "/enc", NULL }, "--image-encoder needs --ip-adapter" },
    { "adapter scale without adapter", { "--ip-adapter-scale", "0.5", NULL }, "--ip-adapter-scale needs --ip-adapter" },
    { "adapter scale not finite", { "--ip-adapter", "/ip.safetensors", "--ip-adapter-image", "CTRL", "--ip-adapter-scale", "nan", NULL }, "IP-Adapter scale" },
    { "unreadable reference", { "--ip-adapter", "/ip.safetensors", "--ip-adapter-image", "BAD", NULL }, "fake.png" },
    { "no control image size", { "--controlnet", "/cn", "--control-image", "CTRL", "--width", "44", NULL }, "44" },
  };
  /* clang-format on */

  write_pattern (ctrl, 40, 80, 8);
  g_assert_true (g_file_set_contents (bad, "not a png", -1, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    run_bad (&cases[i], ctrl, bad);
}

/* ---- end to end ---------------------------------------------------- */

/* @needle among @n bytes that may hold NULs (a PNG file). */
static gboolean
contains (const char *data, gsize n, const char *needle)
{
  const gsize k = strlen (needle);

  for (gsize i = 0; i + k <= n; i++)
    if (memcmp (data + i, needle, k) == 0)
      return TRUE;
  return FALSE;
}

/* Runs generate on the set with the common settings plus @extra (NULL-
 * terminated) into @out; asserts success. */
static void
generate_ok (const char *dir, const char *out, const char *const *extra)
{
  g_autofree char *lin = g_build_filename (dir, "linfusion", NULL);
  const char      *args[MAX_ARGS]
      = { "--model",   dir,       "--linfusion", lin,      "--prompt",
          PROMPT,      "--steps", "3",           "--seed", "5",
          "--sampler", "ddim",    "-o",          out };
  int n = 14;
  g_auto (LfTestRun) run = { 0 };

  for (int i = 0; extra[i] != NULL; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  run_generate (&run, args);
  if (run.status != 0)
    g_test_message ("%s", run.err);
  g_assert_cmpint (run.status, ==, 0);
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL, *db = NULL;
  gsize            na, nb;

  g_assert_true (g_file_get_contents (a, &da, &na, NULL));
  g_assert_true (g_file_get_contents (b, &db, &nb, NULL));
  g_assert_cmpmem (da, na, db, nb);
}

static void
assert_parameters (const char *path, const char *needle)
{
  g_autofree char *data = NULL;
  gsize            n;

  g_assert_true (g_file_get_contents (path, &data, &n, NULL));
  if (!contains (data, n, needle))
    g_test_message ("%s lacks “%s”", path, needle);
  g_assert_true (contains (data, n, needle));
}

/* The pixels of @a and @b differ in at least one byte; same size. */
static void
assert_pixels_differ (const char *a, const char *b)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *pa = NULL, *pb = NULL;
  int64_t            wa, ha, wb, hb;
  int64_t            n_diff = 0;

  pa = lf_png_read_rgb8 (a, &wa, &ha, &error);
  pb = lf_png_read_rgb8 (b, &wb, &hb, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wa, ==, wb);
  g_assert_cmpint (ha, ==, hb);
  for (int64_t i = 0; i < wa * ha * 3; i++)
    n_diff += pa[i] != pb[i];
  g_test_message ("%s vs %s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                  " bytes differ",
                  a, b, n_diff, wa * ha * 3);
  g_assert_cmpint (n_diff, >, 0);
}

static void
assert_size (const char *path, int64_t w, int64_t h)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *p = NULL;
  int64_t            pw, ph;

  p = lf_png_read_rgb8 (path, &pw, &ph, &error);
  g_assert_no_error (error);
  g_assert_cmpint (pw, ==, w);
  g_assert_cmpint (ph, ==, h);
}

static void
test_controlnet (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *cn = NULL, *ctrl = tmp_path ("control.png");
  g_autofree char *plain = tmp_path ("plain.png"), *a = tmp_path ("cn-a.png");
  g_autofree char *b = tmp_path ("cn-b.png"), *c = tmp_path ("cn-canny.png");
  g_autofree char *l = tmp_path ("cn-lin.png");

  if (dir == NULL)
    return;
  cn = g_build_filename (dir, "controlnet", NULL);
  write_pattern (ctrl, 40, 80, 8);
  {
    const char *const none[] = { "--width", "40", "--height", "80", NULL };
    /* no size: the control image's */
    const char *const with[]
        = { "--controlnet", cn, "--control-image", ctrl, NULL };
    const char *const canny[] = { "--controlnet",
                                  cn,
                                  "--control-image",
                                  ctrl,
                                  "--control-scale",
                                  "0.7",
                                  "--control-start",
                                  "0.2",
                                  "--control-end",
                                  "0.8",
                                  "--control-preprocess",
                                  "canny",
                                  "--canny-low",
                                  "50",
                                  "--canny-high",
                                  "150",
                                  NULL };
    const char *const lin[]
        = { "--controlnet",        cn,  "--control-image", ctrl,
            "--control-linfusion", NULL };

    generate_ok (dir, plain, none);
    generate_ok (dir, a, with);
    generate_ok (dir, b, with);
    generate_ok (dir, c, canny);
    generate_ok (dir, l, lin);
  }
  assert_same_file (a, b);
  assert_size (a, 40, 80);
  assert_pixels_differ (plain, a);
  assert_pixels_differ (a, c);
  assert_pixels_differ (a, l);
  assert_parameters (a, "Size: 40x80, Model: " SET);
  assert_parameters (a, ", ControlNet: controlnet, Control scale: 1, Control "
                        "start: 0, Control end: 1, Control preprocess: none");
  assert_parameters (c, ", ControlNet: controlnet, Control scale: 0.7, "
                        "Control start: 0.2, Control end: 0.8, Control "
                        "preprocess: canny, Canny low: 50, Canny high: 150");
  assert_parameters (l, "Control preprocess: none, ControlNet LinFusion: on");
}

static void
test_ip_adapter (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *ip = NULL, *enc = NULL, *ref = tmp_path ("reference.png");
  g_autofree char *plain = tmp_path ("ip-plain.png"),
                  *a = tmp_path ("ip-a.png");
  g_autofree char *b = tmp_path ("ip-b.png"), *e = tmp_path ("ip-enc.png");

  if (dir == NULL)
    return;
  ip = g_build_filename (dir, "ip_adapter", "models",
                         "ip-adapter_sd15.safetensors", NULL);
  enc = g_build_filename (dir, "ip_adapter", "models", "image_encoder", NULL);
  write_pattern (ref, 48, 40, 6);
  {
    const char *const size[] = { "--width", "64", "--height", "48", NULL };
    const char *const with[] = { "--width",
                                 "64",
                                 "--height",
                                 "48",
                                 "--ip-adapter",
                                 ip,
                                 "--ip-adapter-image",
                                 ref,
                                 "--ip-adapter-scale",
                                 "0.6",
                                 NULL };
    const char *const named[] = { "--width",
                                  "64",
                                  "--height",
                                  "48",
                                  "--ip-adapter",
                                  ip,
                                  "--image-encoder",
                                  enc,
                                  "--ip-adapter-image",
                                  ref,
                                  "--ip-adapter-scale",
                                  "0.6",
                                  NULL };

    generate_ok (dir, plain, size);
    generate_ok (dir, a, with);
    generate_ok (dir, b, with);
    generate_ok (dir, e, named);
  }
  assert_same_file (a, b);
  /* image_encoder/ beside the adapter is the one named */
  assert_same_file (a, e);
  assert_pixels_differ (plain, a);
  assert_parameters (
      a, ", IP-Adapter: ip-adapter_sd15.safetensors, IP-Adapter scale: 0.6");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("lf-adapters-XXXXXX", NULL);
  g_test_add_func ("/cli/adapters/args/refused", test_bad_arguments);
  g_test_add_func ("/cli/adapters/run/controlnet", test_controlnet);
  g_test_add_func ("/cli/adapters/run/ip-adapter", test_ip_adapter);
  status = g_test_run ();
  lf_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
