/* test-elementwise.c: add, mul and scale against the double references
 * (tests/ref/ref-pointwise.c): contiguous operands, broadcast (stride 0)
 * views made with lf_tensor_expand, permuted and sliced views, rows longer
 * than a work chunk, 1–3 threads, in place, and rejected shapes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

#define RTOL 1e-5
#define ATOL 1e-7

/* How an operand of y's shape (B, C, H, W) is laid out. */
typedef enum
{
  FULL,     /* contiguous */
  BCAST_HW, /* (B, C, 1, 1) expanded over H and W: a time embedding */
  BCAST_B,  /* (1, C, H, W) expanded over B */
  SCALAR,   /* (1, 1, 1, 1) expanded everywhere */
  NHWC,     /* a (B, H, W, C) tensor permuted to (B, C, H, W) */
  SLICE,    /* columns [3, 3 + W) of a (B, C, H, W + 5) tensor */
} Layout;

typedef struct
{
  const char *name;
  int64_t     shape[4];
  Layout      a, b;
} BinCase;

static const BinCase cases[] = {
  { "contiguous", { 2, 5, 7, 11 }, FULL, FULL },
  { "bcast-hw", { 2, 5, 7, 11 }, FULL, BCAST_HW },
  { "bcast-b", { 3, 4, 5, 6 }, BCAST_B, FULL },
  { "bcast-both", { 2, 5, 7, 11 }, BCAST_HW, BCAST_B },
  { "permuted", { 2, 5, 7, 11 }, NHWC, BCAST_HW },
  { "slice-scalar", { 2, 3, 9, 13 }, SLICE, SCALAR },
  { "scalar-permuted", { 1, 6, 5, 7 }, SCALAR, NHWC },
  { "long-rows", { 2, 3, 4, 20000 }, FULL, BCAST_B },
};

/* Fills fresh storage and returns the view; *storage is to be g_free'd. */
static LfTensor
make_operand (Layout l, const int64_t *s, float **storage)
{
  const int64_t perm_shape[4] = { s[0], s[2], s[3], s[1] };
  const int     to_nchw[4] = { 0, 3, 1, 2 };
  int64_t       st[4] = { s[0], s[1], s[2], s[3] };
  LfTensor      t, v;

  if (l == BCAST_HW)
    st[2] = st[3] = 1;
  else if (l == BCAST_B)
    st[0] = 1;
  else if (l == SCALAR)
    st[0] = st[1] = st[2] = st[3] = 1;
  else if (l == SLICE)
    st[3] += 5;
  *storage = lf_test_alloc_f32 (st[0] * st[1] * st[2] * st[3]);
  lf_test_fill_uniform (*storage, st[0] * st[1] * st[2] * st[3], -4.0, 4.0);
  t = lf_tensor_make (*storage, LF_DTYPE_F32, 4, l == NHWC ? perm_shape : st);
  v = t;
  for (int d = 0; d < 4; d++)
    if (l != NHWC && l != SLICE && st[d] == 1 && s[d] != 1)
      g_assert_true (lf_tensor_expand (&t, d, s[d], &t));
  if (l == NHWC)
    g_assert_true (lf_tensor_permute (&v, to_nchw, &t));
  if (l == SLICE)
    g_assert_true (lf_tensor_narrow (&v, 3, 3, s[3], &t));
  return t;
}

static void
run_binary (const char *op, const BinCase *c, int n_threads, int in_place)
{
  const int64_t n = c->shape[0] * c->shape[1] * c->shape[2] * c->shape[3];
  float        *ad, *bd, *yd;
  double       *ref = lf_test_alloc_f64 (n);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      a = make_operand (c->a, c->shape, &ad);
  LfTensor      b = make_operand (c->b, c->shape, &bd);
  LfTensor      y;
  const int     is_add = strcmp (op, "add") == 0;
  char         *what;

  (is_add ? lf_ref_add : lf_ref_mul) (&a, &b, ref);
  /* in place: y is a (1) or b (2), which must then be contiguous */
  yd = in_place == 1 ? ad : in_place == 2 ? bd : lf_test_alloc_f32 (n);
  y = lf_tensor_make (yd, LF_DTYPE_F32, 4, c->shape);
  if (!in_place)
    lf_test_poison (yd, n);

  (is_add ? ops->add : ops->mul) (ops, &a, &b, &y);
  lf_test_assert_ops_ok (ops);
  what = g_strdup_printf ("%s %s, %d threads%s", op, c->name, n_threads,
                          in_place ? ", in place" : "");
  lf_test_assert_close (what, yd, ref, n, RTOL, ATOL);

  g_free (what);
  if (!in_place)
    g_free (yd);
  g_free (bd);
  g_free (ad);
  g_free (ref);
  lf_test_cpu_ops_free (ops);
}

static void
test_binary (gconstpointer data)
{
  const char *op = strstr (g_test_get_path (), "/add/") ? "add" : "mul";

  for (int threads = 1; threads <= 3; threads++)
    run_binary (op, data, threads, 0);
}

static void
test_binary_in_place (gconstpointer data)
{
  run_binary (data, &cases[1], 2, 1); /* y = a, b broadcast */
  run_binary (data, &cases[2], 3, 2); /* y = b, a broadcast */
  run_binary (data, &cases[7], 3, 1);
}

static void
run_scale (const int64_t *shape, int n_threads, int in_place)
{
  const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  float        *xd = lf_test_alloc_f32 (n);
  float        *yd = in_place ? xd : lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      x = lf_tensor_make (xd, LF_DTYPE_F32, 4, shape);
  LfTensor      y = lf_tensor_make (yd, LF_DTYPE_F32, 4, shape);
  const float   s = (float)g_test_rand_double_range (-3.0, 3.0);

  lf_test_fill_uniform (xd, n, -10.0, 10.0);
  lf_ref_scale (&x, s, ref);
  if (!in_place)
    lf_test_poison (yd, n);

  ops->scale (ops, &x, s, &y);
  lf_test_assert_ops_ok (ops);
  lf_test_assert_close ("scale", yd, ref, n, RTOL, ATOL);

  if (!in_place)
    g_free (yd);
  g_free (xd);
  g_free (ref);
  lf_test_cpu_ops_free (ops);
}

static void
test_scale (void)
{
  static const int64_t small[4] = { 2, 5, 7, 11 };
  static const int64_t large[4] = { 1, 1, 1, 100003 };

  for (int threads = 1; threads <= 3; threads++)
    {
      run_scale (small, threads, 0);
      run_scale (large, threads, 0);
    }
  run_scale (large, 3, 1);
}

static void
expect_invalid (const char     *op,
                const LfTensor *a,
                const LfTensor *b,
                LfTensor       *y,
                const char     *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);
  char  *prefix = g_strdup_printf ("%s:", op);

  if (strcmp (op, "add") == 0)
    ops->add (ops, a, b, y);
  else if (strcmp (op, "mul") == 0)
    ops->mul (ops, a, b, y);
  else
    ops->scale (ops, a, 2.0f, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, prefix));
  g_assert_nonnull (strstr (ops->message, needle));
  g_free (prefix);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float       ad[2 * 5 * 7], bd[2 * 5 * 7], yd[2 * 5 * 7];
  LfTensor    a = lf_tensor_3d (ad, LF_DTYPE_F32, 2, 5, 7);
  LfTensor    b = lf_tensor_3d (bd, LF_DTYPE_F32, 2, 5, 7);
  LfTensor    y = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 5, 7);
  LfTensor    b6 = lf_tensor_3d (bd, LF_DTYPE_F32, 2, 5, 6);
  LfTensor    b1 = lf_tensor_3d (bd, LF_DTYPE_F32, 2, 1, 7); /* not expanded */
  LfTensor    yt, ah = a;
  const int   perm[3] = { 0, 2, 1 };
  const char *binary[2] = { "add", "mul" };

  g_assert_true (lf_tensor_permute (&y, perm, &yt));
  ah.dtype = LF_DTYPE_F16;
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  for (int i = 0; i < 2; i++)
    {
      expect_invalid (binary[i], &a, &b6, &y, "(2, 5, 6)");
      expect_invalid (binary[i], &a, &b1, &y, "(2, 1, 7)");
      expect_invalid (binary[i], &a, &b, &yt, "not contiguous");
      expect_invalid (binary[i], &ah, &b, &y, "f16");
    }
  expect_invalid ("scale", &a, NULL, &b6, "(2, 5, 6)");
  expect_invalid ("scale", &ah, NULL, &y, "f16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
}

int
main (int argc, char **argv)
{
  const char *binary[2] = { "add", "mul" };

  g_test_init (&argc, &argv, NULL);
  for (int o = 0; o < 2; o++)
    {
      char *path;

      for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          path = g_strdup_printf ("/ops/%s/%s", binary[o], cases[i].name);
          g_test_add_data_func (path, &cases[i], test_binary);
          g_free (path);
        }
      path = g_strdup_printf ("/ops/%s/in-place", binary[o]);
      g_test_add_data_func (path, binary[o], test_binary_in_place);
      g_free (path);
    }
  g_test_add_func ("/ops/scale/sizes", test_scale);
  g_test_add_func ("/ops/elementwise/bad-shape", test_bad_shape);
  return g_test_run ();
}
