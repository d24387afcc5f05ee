/* test-preview.c: the cheap latent → RGB preview against its formula in
 * double, on fresh random latents of an odd size. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"

static void
test_formula (void)
{
  static const double coef[4][3] = { { 0.298, 0.207, 0.208 },
                                     { 0.187, 0.286, 0.173 },
                                     { -0.158, 0.189, 0.264 },
                                     { -0.184, -0.271, -0.473 } };
  const int64_t       shape[4] = { 1, 4, 7, 5 }, hw = 35;
  g_autofree float   *z = lf_test_alloc_f32 (4 * hw);
  g_autofree guint8  *rgb = g_malloc (hw * 3);

  lf_test_fill_uniform (z, 4 * hw, -3.0, 3.0);
  memset (rgb, 0xAA, hw * 3);
  lf_latents_preview_rgb8 (z, shape, rgb);
  for (int64_t p = 0; p < hw; p++)
    for (int r = 0; r < 3; r++)
      {
        double v = 0.0;

        for (int c = 0; c < 4; c++)
          v += z[c * hw + p] * coef[c][r];
        v = CLAMP ((v + 1.0) / 2.0, 0.0, 1.0) * 255.0;
        g_assert_cmpfloat (fabs (rgb[p * 3 + r] - v), <=, 0.51);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/preview/formula", test_formula);
  return g_test_run ();
}
