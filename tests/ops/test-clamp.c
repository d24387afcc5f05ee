/* test-clamp.c: the clamp op against its double reference: fresh random
 * inputs around the bounds, odd sizes, 1–3 threads, in place, ±inf and NaN,
 * and bad shapes recorded as LF_STATUS_INVALID. */
#include "config.h"

#include <math.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

static void
run_clamp (int64_t n, int n_threads, gboolean in_place)
{
  float   *xd = lf_test_alloc_f32 (n);
  float   *yd = in_place ? xd : lf_test_alloc_f32 (n);
  double  *ref = lf_test_alloc_f64 (n);
  LfOps   *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor x = lf_tensor_1d (xd, LF_DTYPE_F32, n);
  LfTensor y = lf_tensor_1d (yd, LF_DTYPE_F32, n);

  lf_test_fill_uniform (xd, n, -50.0, 50.0);
  if (n > 3)
    {
      xd[0] = -INFINITY;
      xd[1] = INFINITY;
      xd[2] = -30.0f;
    }
  for (int64_t i = 0; i < n; i++)
    ref[i] = lf_ref_clamp1 (xd[i], -30.0, 20.0);
  if (!in_place)
    lf_test_poison (yd, n);
  ops->clamp (ops, &x, -30.0f, 20.0f, &y);
  lf_test_assert_ops_ok (ops);
  lf_test_assert_close ("clamp", yd, ref, n, 0.0, 0.0);
  lf_test_cpu_ops_free (ops);
  if (!in_place)
    g_free (yd);
  g_free (xd);
  g_free (ref);
}

static void
test_random (void)
{
  const int64_t sizes[] = { 1, 5, 1001, 100003 };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int t = 1; t <= 3; t++)
      {
        run_clamp (sizes[s], t, FALSE);
        run_clamp (sizes[s], t, TRUE);
      }
}

static void
test_nan_stays_nan (void)
{
  float    d[3] = { NAN, -100.0f, 100.0f };
  LfOps   *ops = lf_test_cpu_ops_new (1, 0);
  LfTensor x = lf_tensor_1d (d, LF_DTYPE_F32, 3);

  ops->clamp (ops, &x, -1.0f, 1.0f, &x);
  lf_test_assert_ops_ok (ops);
  g_assert_true (isnan (d[0]));
  g_assert_cmpfloat (d[1], ==, -1.0f);
  g_assert_cmpfloat (d[2], ==, 1.0f);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float    a[6], b[5];
  LfOps   *ops = lf_test_cpu_ops_new (1, 0);
  LfTensor x = lf_tensor_1d (a, LF_DTYPE_F32, 6);
  LfTensor y = lf_tensor_1d (b, LF_DTYPE_F32, 5);

  ops->clamp (ops, &x, 0.0f, 1.0f, &y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "clamp"));
  lf_ops_clear (ops);
  ops->clamp (ops, &x, 2.0f, 1.0f, &x);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  lf_test_cpu_ops_free (ops);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/clamp/random", test_random);
  g_test_add_func ("/ops/clamp/nan", test_nan_stays_nan);
  g_test_add_func ("/ops/clamp/bad-shape", test_bad_shape);
  return g_test_run ();
}
