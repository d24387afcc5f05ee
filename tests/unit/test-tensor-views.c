/* test-tensor-views.c: views share memory and address it with 64-bit
 * arithmetic, including shapes past 2^31 elements. */
#include "config.h"

#include <glib.h>

#include "lf-tensor.h"

static void
test_make_and_reshape (void)
{
  float         data[24];
  LfTensor      t = lf_tensor_3d (data, LF_DTYPE_F32, 2, 3, 4), r;
  const int64_t shape[2] = { 6, 4 }, bad[2] = { 5, 5 };

  g_assert_cmpint (lf_tensor_numel (&t), ==, 24);
  g_assert_cmpint (t.stride[0], ==, 12);
  g_assert_cmpint (t.stride[2], ==, 1);
  g_assert_true (lf_tensor_is_contiguous (&t));
  g_assert_true (lf_tensor_reshape (&t, 2, shape, &r));
  g_assert_true (r.data == data);
  g_assert_cmpint (r.stride[0], ==, 4);
  g_assert_false (lf_tensor_reshape (&t, 2, bad, &r));
}

static void
test_narrow_permute_expand (void)
{
  float         data[2 * 3 * 4];
  LfTensor      t = lf_tensor_3d (data, LF_DTYPE_F32, 2, 3, 4), v, p, e, one;
  const int     perm[3] = { 0, 2, 1 };
  const int64_t shape1[4] = { 2, 3, 1, 1 };

  for (int i = 0; i < 24; i++)
    data[i] = (float)i;

  g_assert_true (lf_tensor_narrow (&t, 2, 1, 2, &v));
  g_assert_cmpint (v.shape[2], ==, 2);
  g_assert_true (v.data == data + 1);
  g_assert_false (lf_tensor_is_contiguous (&v));
  g_assert_false (lf_tensor_narrow (&t, 2, 3, 2, &v));
  g_assert_false (lf_tensor_narrow (&t, 3, 0, 1, &v));

  g_assert_true (lf_tensor_permute (&t, perm, &p));
  g_assert_cmpint (p.shape[1], ==, 4);
  g_assert_cmpint (p.stride[1], ==, 1);
  g_assert_cmpint (p.stride[2], ==, 4);
  /* element (1, 3, 2) of the permuted view is (1, 2, 3) of t */
  g_assert_cmpfloat (
      ((float *)p.data)[1 * p.stride[0] + 3 * p.stride[1] + 2 * p.stride[2]],
      ==, data[1 * 12 + 2 * 4 + 3 * 1]);

  one = lf_tensor_make (data, LF_DTYPE_F32, 4, shape1);
  g_assert_true (lf_tensor_expand (&one, 3, 7, &e));
  g_assert_cmpint (e.shape[3], ==, 7);
  g_assert_cmpint (e.stride[3], ==, 0);
  g_assert_false (lf_tensor_expand (&t, 1, 7, &e));
}

static void
test_huge_shapes_do_not_overflow (void)
{
  /* A 32768² RGB f32 image, never touched: only index arithmetic. */
  LfTensor t = lf_tensor_4d (NULL, LF_DTYPE_F32, 1, 3, 32768, 32768), v;

  g_assert_cmpint (lf_tensor_numel (&t), ==, G_GINT64_CONSTANT (3221225472));
  g_assert_cmpuint (lf_tensor_nbytes (&t), ==,
                    G_GUINT64_CONSTANT (12884901888));
  g_assert_true (lf_tensor_narrow (&t, 2, 30000, 16, &v));
  g_assert_cmpuint ((guintptr)v.data, ==, (guintptr)30000 * 32768 * 4);
  g_assert_cmpint (v.stride[1], ==, G_GINT64_CONSTANT (1073741824));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tensor/make-reshape", test_make_and_reshape);
  g_test_add_func ("/tensor/narrow-permute-expand", test_narrow_permute_expand);
  g_test_add_func ("/tensor/huge-shapes", test_huge_shapes_do_not_overflow);
  return g_test_run ();
}
