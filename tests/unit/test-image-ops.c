/* test-image-ops.c: the image preprocessing against PIL, OpenCV,
 * transformers and diffusers, byte for byte (floats to 1e-6), from
 * tests/data/image-ops.safetensors (tests/tools/make-image-ops-fixture.py:
 * each case <op>_<n> with its parameters in <op>_<n>_args). Also padded
 * row strides and lf_control_image_prepare's argument checks.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "image-ops.h"
#include "lf-test.h"
#include "safetensors.h"

typedef struct
{
  const guint8 *rgb;
  int64_t       width, height;
} Image;

static LfSafetensors *
open_fixture (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = lf_test_data_path ("image-ops.safetensors");
  LfSafetensors   *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

static const LfStTensor *
lookup (const LfSafetensors *st, const char *name, LfStDtype dtype)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, dtype);
  return t;
}

static Image
fixture_image (const LfSafetensors *st, double index)
{
  g_autofree char  *name = g_strdup_printf ("img_%d", (int)index);
  const LfStTensor *t = lookup (st, name, LF_ST_U8);

  g_assert_cmpint (t->ndim, ==, 3);
  g_assert_cmpint (t->shape[2], ==, 3);
  return (Image){ t->data, t->shape[1], t->shape[0] };
}

/* The parameters of case <op>_<n>, or NULL past the last case. */
static const double *
case_args (const LfSafetensors *st, const char *op, int n, int64_t n_args)
{
  g_autofree char  *name = g_strdup_printf ("%s_%d_args", op, n);
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  if (t == NULL)
    return NULL;
  g_assert_cmpint (t->dtype, ==, LF_ST_F64);
  g_assert_cmpint (lf_st_tensor_numel (t), ==, n_args);
  return t->data;
}

static const LfStTensor *
case_expected (const LfSafetensors *st, const char *op, int n)
{
  g_autofree char *name = g_strdup_printf ("%s_%d", op, n);

  return lf_safetensors_lookup (st, name);
}

/* Counts differing bytes; @channels 1 compares one reference byte against
 * all three of each output pixel. */
static void
assert_bytes_equal (const char       *what,
                    const guint8     *got,
                    const LfStTensor *want,
                    int64_t           n_pixels,
                    int               channels)
{
  const guint8 *w = want->data;
  int64_t       n_diff = 0, first = -1;

  g_assert_cmpint (want->dtype, ==, LF_ST_U8);
  g_assert_cmpint (lf_st_tensor_numel (want), ==, n_pixels * channels);
  for (int64_t i = 0; i < n_pixels * 3; i++)
    if (got[i] != w[channels == 3 ? i : i / 3])
      {
        if (first < 0)
          first = i;
        n_diff++;
      }
  if (n_diff > 0)
    g_test_fail_printf ("%s: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT
                        " bytes differ, the first at %" G_GINT64_FORMAT
                        " (got %u, want %u)",
                        what, n_diff, n_pixels * 3, first, got[first],
                        w[channels == 3 ? first : first / 3]);
}

static void
test_resize (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const double *a;
  int           n = 0;

  for (; (a = case_args (st, "resize", n, 4)) != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char   *what = NULL;
      g_autofree guint8 *got = NULL;
      Image              im = fixture_image (st, a[0]);
      int64_t            ow = (int64_t)a[2], oh = (int64_t)a[3];

      what = g_strdup_printf (
          "resize_%d (%s %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
          " -> %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ")",
          n, a[1] == 0 ? "bicubic" : "lanczos", im.width, im.height, ow, oh);
      got = lf_image_resize (
          im.rgb, im.width, im.height, im.width * 3, ow, oh,
          a[1] == 0 ? LF_RESAMPLE_BICUBIC : LF_RESAMPLE_LANCZOS, &error);
      g_assert_no_error (error);
      assert_bytes_equal (what, got, case_expected (st, "resize", n), ow * oh,
                          3);
    }
  g_assert_cmpint (n, >=, 30);
}

static void
test_resize_area (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const double *a;
  int           n = 0;

  for (; (a = case_args (st, "area", n, 3)) != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char   *what = NULL;
      g_autofree guint8 *got = NULL;
      Image              im = fixture_image (st, a[0]);
      int64_t            ow = (int64_t)a[1], oh = (int64_t)a[2];

      what = g_strdup_printf ("area_%d (%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                              " -> %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT ")",
                              n, im.width, im.height, ow, oh);
      got = lf_image_resize_area (im.rgb, im.width, im.height, im.width * 3, ow,
                                  oh, &error);
      g_assert_no_error (error);
      assert_bytes_equal (what, got, case_expected (st, "area", n), ow * oh, 3);
    }
  g_assert_cmpint (n, >=, 20);
}

static void
test_canny (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const double *a;
  int           n = 0;

  for (; (a = case_args (st, "canny", n, 3)) != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char   *what = NULL;
      g_autofree guint8 *got = NULL;
      Image              im = fixture_image (st, a[0]);
      const size_t       bytes = (size_t)(im.width * im.height * 3);

      what = g_strdup_printf ("canny_%d (%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                              ", %g, %g)",
                              n, im.width, im.height, a[1], a[2]);
      got = g_malloc (bytes);
      memset (got, 0x5a, bytes);
      g_assert_true (lf_image_canny (im.rgb, im.width, im.height, im.width * 3,
                                     a[1], a[2], got, &error));
      g_assert_no_error (error);
      assert_bytes_equal (what, got, case_expected (st, "canny", n),
                          im.width * im.height, 1);
    }
  g_assert_cmpint (n, >=, 15);
}

/* clip_<n> is pixel_values[:, ::step, ::step]. */
static void
test_clip_preprocess (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const double *a;
  int           n = 0;

  for (; (a = case_args (st, "clip", n, 3)) != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char   *what = NULL;
      g_autofree float  *got = NULL;
      g_autofree float  *picked = NULL;
      g_autofree double *want = NULL;
      Image              im = fixture_image (st, a[0]);
      const LfStTensor  *ref = case_expected (st, "clip", n);
      const int64_t      size = (int64_t)a[1], step = (int64_t)a[2];
      const int64_t      m = (size + step - 1) / step;
      const float       *r = ref->data;
      double             max_diff = 0.0;

      g_assert_cmpint (ref->dtype, ==, LF_ST_F32);
      g_assert_cmpint (lf_st_tensor_numel (ref), ==, 3 * m * m);
      got = lf_test_alloc_f32 (3 * size * size);
      lf_test_poison (got, 3 * size * size);
      g_assert_true (lf_image_clip_preprocess (
          im.rgb, im.width, im.height, im.width * 3, size, got, &error));
      g_assert_no_error (error);
      picked = lf_test_alloc_f32 (3 * m * m);
      want = lf_test_alloc_f64 (3 * m * m);
      for (int64_t c = 0; c < 3; c++)
        for (int64_t y = 0; y < m; y++)
          for (int64_t x = 0; x < m; x++)
            {
              int64_t i = (c * m + y) * m + x;

              picked[i] = got[(c * size + y * step) * size + x * step];
              want[i] = r[i];
            }
      what = g_strdup_printf ("clip_%d (%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                              ", size %" G_GINT64_FORMAT ")",
                              n, im.width, im.height, size);
      for (int64_t i = 0; i < 3 * m * m; i++)
        max_diff = MAX (max_diff, fabs ((double)picked[i] - want[i]));
      /* The margin, shown with --verbose. */
      g_test_message ("%s: max |diff| %.3g", what, max_diff);
      lf_test_assert_close (what, picked, want, 3 * m * m, 0.0, 1e-6);
      for (int64_t i = 0; i < 3 * size * size; i++)
        g_assert_false (isnan (got[i]));
    }
  g_assert_cmpint (n, >=, 4);
}

/* The conformance set's IP-Adapter pixel values: what diffusers' own
 * feature extractor made of the reference image. */
static void
test_clip_preprocess_conformance (void)
{
  g_autofree char *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char *path = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float  *got = NULL;
  g_autofree double *want = NULL;
  const LfStTensor  *image, *pixels;
  const float       *p;
  int64_t            n;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, "ref", "ip_adapter_parts.safetensors", NULL);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  image = lookup (st, "ip_image_u8", LF_ST_U8);
  pixels = lookup (st, "pixel_values", LF_ST_F32);
  g_assert_cmpint (pixels->ndim, ==, 4);
  n = lf_st_tensor_numel (pixels);
  got = lf_test_alloc_f32 (n);
  want = lf_test_alloc_f64 (n);
  lf_test_poison (got, n);
  g_assert_true (lf_image_clip_preprocess (
      image->data, image->shape[1], image->shape[0],
      (size_t)image->shape[1] * 3, pixels->shape[3], got, &error));
  g_assert_no_error (error);
  p = pixels->data;
  for (int64_t i = 0; i < n; i++)
    want[i] = p[i];
  lf_test_assert_close ("ip_adapter_parts pixel_values", got, want, n, 0.0,
                        1e-6);
}

static void
test_control_prepare (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const double *a;
  int           n = 0;

  for (; (a = case_args (st, "prep", n, 7)) != NULL; n++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char    *what = NULL;
      g_autofree guint8  *got = NULL;
      Image               im = fixture_image (st, a[0]);
      LfControlPreprocess kind = (LfControlPreprocess)(int)a[1];
      int64_t             ow = (int64_t)a[5], oh = (int64_t)a[6];

      what = g_strdup_printf ("prep_%d (%s, %g, %g, rate %g, %" G_GINT64_FORMAT
                              "x%" G_GINT64_FORMAT ")",
                              n, lf_control_preprocess_to_string (kind), a[2],
                              a[3], a[4], ow, oh);
      got = lf_control_image_prepare (im.rgb, im.width, im.height, im.width * 3,
                                      kind, a[2], a[3], a[4], ow, oh, &error);
      g_assert_no_error (error);
      assert_bytes_equal (what, got, case_expected (st, "prep", n), ow * oh, 3);
    }
  g_assert_cmpint (n, >=, 12);
}

/* Rows with 5 bytes of padding must give what packed rows give. */
static void
test_padded_stride (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  g_autoptr (GError) error = NULL;
  Image              im = fixture_image (st, 2);
  const size_t       stride = (size_t)im.width * 3 + 5;
  g_autofree guint8 *padded = g_malloc ((size_t)im.height * stride);
  g_autofree guint8 *copy = NULL;
  g_autofree guint8 *want = NULL;
  g_autofree guint8 *got = NULL;
  const size_t       bytes = (size_t)(im.width * im.height * 3);

  memset (padded, 0xa5, (size_t)im.height * stride);
  for (int64_t y = 0; y < im.height; y++)
    memcpy (padded + (size_t)y * stride, im.rgb + y * im.width * 3,
            (size_t)im.width * 3);

  /* Same size: a packed copy. */
  copy = lf_image_resize (padded, im.width, im.height, stride, im.width,
                          im.height, LF_RESAMPLE_LANCZOS, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (copy, bytes, im.rgb, bytes);

  for (int kind = 0; kind < 3; kind++)
    {
      g_free (want);
      g_free (got);
      want
          = lf_control_image_prepare (im.rgb, im.width, im.height, im.width * 3,
                                      kind, 40, 90, 2.5, 45, 31, &error);
      g_assert_no_error (error);
      got = lf_control_image_prepare (padded, im.width, im.height, stride, kind,
                                      40, 90, 2.5, 45, 31, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (got, 45 * 31 * 3, want, 45 * 31 * 3);
    }

  g_free (want);
  g_free (got);
  want = g_malloc (bytes);
  got = g_malloc (bytes);
  g_assert_true (lf_image_canny (im.rgb, im.width, im.height, im.width * 3, 30,
                                 60, want, &error));
  g_assert_true (lf_image_canny (padded, im.width, im.height, stride, 30, 60,
                                 got, &error));
  g_assert_cmpmem (got, bytes, want, bytes);
}

static void
assert_refused (const guint8       *rgb,
                int64_t             w,
                int64_t             h,
                size_t              stride,
                LfControlPreprocess kind,
                double              low,
                double              high,
                double              rate,
                int64_t             ow,
                int64_t             oh,
                const char         *needle)
{
  g_autoptr (GError) error = NULL;
  guint8 *out = lf_control_image_prepare (rgb, w, h, stride, kind, low, high,
                                          rate, ow, oh, &error);

  g_assert_null (out);
  g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
  if (strstr (error->message, needle) == NULL)
    g_test_fail_printf ("“%s” does not name “%s”", error->message, needle);
}

static void
test_control_prepare_bad_arguments (void)
{
  const guint8              rgb[4 * 2 * 3] = { 0 };
  const LfControlPreprocess canny = LF_CONTROL_PREPROCESS_CANNY;
  const LfControlPreprocess tile = LF_CONTROL_PREPROCESS_TILE;

  assert_refused (NULL, 4, 2, 12, canny, 1, 2, 2, 8, 8, "missing");
  assert_refused (rgb, 0, 2, 12, canny, 1, 2, 2, 8, 8, "0 × 2");
  assert_refused (rgb, 4, -3, 12, canny, 1, 2, 2, 8, 8, "4 × -3");
  assert_refused (rgb, 4, 2, 12, canny, 1, 2, 2, 0, 8, "0 × 8");
  assert_refused (rgb, 4, 2, 12, canny, 1, 2, 2, 8, ((int64_t)1 << 20) + 1,
                  "1048577");
  assert_refused (rgb, 4, 2, 11, canny, 1, 2, 2, 8, 8, "11");
  assert_refused (rgb, 4, 2, 12, (LfControlPreprocess)7, 1, 2, 2, 8, 8, "7");
  assert_refused (rgb, 4, 2, 12, canny, NAN, 2, 2, 8, 8, "nan");
  assert_refused (rgb, 4, 2, 12, canny, 1, -0.5, 2, 8, 8, "-0.5");
  assert_refused (rgb, 4, 2, 12, canny, 1, INFINITY, 2, 8, 8, "inf");
  assert_refused (rgb, 4, 2, 12, tile, 1, 2, 0.5, 8, 8, "0.5");
  assert_refused (rgb, 4, 2, 12, tile, 1, 2, 65, 8, 8, "65");
  assert_refused (rgb, 4, 2, 12, tile, 1, 2, NAN, 8, 8, "nan");
}

/* A tile rate that reduces a side below one pixel keeps one pixel (OpenCV
 * would refuse the 0-pixel target): 32 / 64 → 1 column, scaled back, so
 * each row is one colour. */
static void
test_control_prepare_tile_floor (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *out = NULL;
  guint8             rgb[16 * 16 * 3];

  for (guint i = 0; i < sizeof rgb; i++)
    rgb[i] = (guint8)(i * 37 % 251);
  out = lf_control_image_prepare (rgb, 16, 16, 48, LF_CONTROL_PREPROCESS_TILE,
                                  0, 0, 64, 32, 128, &error);
  g_assert_no_error (error);
  for (int64_t y = 0; y < 128; y++)
    for (int64_t x = 1; x < 32; x++)
      g_assert_cmpmem (out + (y * 32 + x) * 3, 3, out + y * 32 * 3, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image-ops/resize", test_resize);
  g_test_add_func ("/image-ops/resize-area", test_resize_area);
  g_test_add_func ("/image-ops/canny", test_canny);
  g_test_add_func ("/image-ops/clip-preprocess", test_clip_preprocess);
  g_test_add_func ("/image-ops/clip-preprocess/conformance",
                   test_clip_preprocess_conformance);
  g_test_add_func ("/image-ops/control-prepare", test_control_prepare);
  g_test_add_func ("/image-ops/padded-stride", test_padded_stride);
  g_test_add_func ("/image-ops/control-prepare/bad-arguments",
                   test_control_prepare_bad_arguments);
  g_test_add_func ("/image-ops/control-prepare/tile-floor",
                   test_control_prepare_tile_floor);
  return g_test_run ();
}
