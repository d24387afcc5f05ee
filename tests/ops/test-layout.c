/* test-layout.c: upsample_nearest and concat_channels against the double
 * references (tests/ref/ref-layout.c): odd shapes, batches, tensors over
 * several work chunks, 1–3 threads, and rejected shapes. Both ops only move
 * values, so the comparison is exact.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

static const int64_t up_shapes[][4] = {
  { 2, 3, 5, 7 },
  { 1, 4, 33, 65 }, /* 34 320 output elements: several chunks */
  { 1, 1, 1, 1 },
};

/* x of shape @s to H2 × W2 (0: twice x's). */
static void
run_upsample (const int64_t *s, int64_t H2, int64_t W2, int n_threads)
{
  const int64_t n = s[0] * s[1] * s[2] * s[3];
  int64_t       ny;
  float        *xd = lf_test_alloc_f32 (n), *yd;
  double       *ref;
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      x = lf_tensor_make (xd, LF_DTYPE_F32, 4, s), y;

  H2 = H2 > 0 ? H2 : 2 * s[2];
  W2 = W2 > 0 ? W2 : 2 * s[3];
  ny = s[0] * s[1] * H2 * W2;
  yd = lf_test_alloc_f32 (ny);
  ref = lf_test_alloc_f64 (ny);
  y = lf_tensor_4d (yd, LF_DTYPE_F32, s[0], s[1], H2, W2);
  lf_test_fill_uniform (xd, n, -1.0, 1.0);
  lf_test_poison (yd, ny);
  lf_ref_upsample_nearest (&x, H2, W2, ref);

  ops->upsample_nearest (ops, &x, &y);
  lf_test_assert_ops_ok (ops);
  lf_test_assert_close ("upsample_nearest", yd, ref, ny, 0.0, 0.0);

  lf_test_cpu_ops_free (ops);
  g_free (ref);
  g_free (yd);
  g_free (xd);
}

static void
test_upsample (void)
{
  /* ×2, and the odd targets of a UNet whose latent is not a multiple of
   * 8 (2 → 3, 3 → 6, 13 → 25), a shrink and a non-integer ratio. */
  static const int64_t odd[][6] = {
    { 2, 3, 2, 2, 3, 3 }, { 1, 4, 3, 5, 6, 10 }, { 1, 2, 13, 7, 25, 13 },
    { 1, 1, 9, 9, 4, 5 }, { 2, 2, 5, 3, 7, 11 },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (up_shapes); i++)
    for (int threads = 1; threads <= 3; threads++)
      run_upsample (up_shapes[i], 0, 0, threads);
  for (size_t i = 0; i < G_N_ELEMENTS (odd); i++)
    for (int threads = 1; threads <= 3; threads++)
      run_upsample (odd[i], odd[i][4], odd[i][5], threads);
}

typedef struct
{
  int64_t B, Ca, Cb, H, W;
} CatCase;

static const CatCase cat_cases[] = {
  { 2, 3, 4, 5, 7 },
  { 2, 40, 24, 17, 19 }, /* 41 344 elements: chunks straddle a and b */
  { 3, 1, 1, 1, 1 },
};

static void
run_concat (const CatCase *c, int n_threads)
{
  const int64_t S = c->H * c->W, na = c->B * c->Ca * S, nb = c->B * c->Cb * S;
  float        *ad = lf_test_alloc_f32 (na), *bd = lf_test_alloc_f32 (nb);
  float        *yd = lf_test_alloc_f32 (na + nb);
  double       *ref = lf_test_alloc_f64 (na + nb);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      a = lf_tensor_4d (ad, LF_DTYPE_F32, c->B, c->Ca, c->H, c->W);
  LfTensor      b = lf_tensor_4d (bd, LF_DTYPE_F32, c->B, c->Cb, c->H, c->W);
  LfTensor y = lf_tensor_4d (yd, LF_DTYPE_F32, c->B, c->Ca + c->Cb, c->H, c->W);

  lf_test_fill_uniform (ad, na, -1.0, 0.0);
  lf_test_fill_uniform (bd, nb, 0.0, 1.0);
  lf_test_poison (yd, na + nb);
  lf_ref_concat_channels (&a, &b, ref);

  ops->concat_channels (ops, &a, &b, &y);
  lf_test_assert_ops_ok (ops);
  lf_test_assert_close ("concat_channels", yd, ref, na + nb, 0.0, 0.0);

  lf_test_cpu_ops_free (ops);
  g_free (ref);
  g_free (yd);
  g_free (bd);
  g_free (ad);
}

static void
test_concat (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (cat_cases); i++)
    for (int threads = 1; threads <= 3; threads++)
      run_concat (&cat_cases[i], threads);
}

static void
expect_invalid (LfOps *ops, const char *op, const char *needle)
{
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, op));
  g_assert_nonnull (strstr (ops->message, needle));
  lf_ops_clear (ops);
}

static void
test_bad_shape (void)
{
  float     xd[2 * 3 * 4 * 10], yd[2 * 7 * 4 * 10];
  LfTensor  x = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 3, 2, 5);
  LfTensor  y_up = lf_tensor_4d (yd, LF_DTYPE_F32, 2, 4, 4, 9);
  LfTensor  x3 = lf_tensor_3d (xd, LF_DTYPE_F32, 2, 3, 10);
  LfTensor  a = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 3, 4, 10);
  LfTensor  b = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 4, 4, 9);
  LfTensor  b4 = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 4, 4, 10);
  LfTensor  y = lf_tensor_4d (yd, LF_DTYPE_F32, 2, 7, 4, 10);
  LfTensor  y8 = lf_tensor_4d (yd, LF_DTYPE_F32, 2, 8, 4, 10);
  LfTensor  yt, ah = a;
  LfOps    *ops = lf_test_cpu_ops_new (1, 0);
  const int perm[4] = { 0, 1, 3, 2 };

  g_assert_true (lf_tensor_permute (&y, perm, &yt));
  ah.dtype = LF_DTYPE_BF16;
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  ops->upsample_nearest (ops, &x, &y_up);
  expect_invalid (ops, "upsample_nearest:", "(2, 4, 4, 9)");
  ops->upsample_nearest (ops, &x3, &y_up);
  expect_invalid (ops, "upsample_nearest:", "(2, 3, 10)");
  ops->concat_channels (ops, &a, &b, &y);
  expect_invalid (ops, "concat_channels:", "(2, 4, 4, 9)");
  ops->concat_channels (ops, &a, &b4, &y8);
  expect_invalid (ops, "concat_channels:", "(2, 8, 4, 10)");
  ops->concat_channels (ops, &a, &b4, &yt);
  expect_invalid (ops, "concat_channels:", "not contiguous");
  ops->concat_channels (ops, &ah, &b4, &y);
  expect_invalid (ops, "concat_channels:", "bf16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
  lf_test_cpu_ops_free (ops);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/upsample_nearest/shapes", test_upsample);
  g_test_add_func ("/ops/concat_channels/shapes", test_concat);
  g_test_add_func ("/ops/layout/bad-shape", test_bad_shape);
  return g_test_run ();
}
