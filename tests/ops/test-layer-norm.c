/* test-layer-norm.c: layer_norm against the double reference
 * (tests/ref/ref-norm.c): 2-D and 3-D token rows, rows strided on both
 * sides (slices of a fused projection), 1–3 threads, in place, and rejected
 * shapes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

typedef struct
{
  const char *name;
  int         ndim; /* 2: (N, C), 3: (B, N, C) */
  int64_t     B, N, C;
  int64_t     x_width, x_offset; /* x = columns [offset, offset + C) */
  int64_t     y_width, y_offset; /* of rows x_width (y_width) long */
} LnCase;

static const LnCase cases[] = {
  { "odd", 3, 2, 7, 37, 37, 0, 37, 0 },
  { "2d", 2, 1, 13, 64, 64, 0, 64, 0 },
  { "strided-rows", 3, 2, 5, 40, 123, 40, 47, 3 },
  { "strided-2d", 2, 1, 9, 33, 99, 66, 35, 1 },
  { "large", 3, 2, 300, 320, 320, 0, 320, 0 },
};

/* A (B, N, C) or (N, C) view of columns [offset, offset + C) of rows
 * @width long. */
static LfTensor
rows_view (float *data, const LnCase *c, int64_t width, int64_t offset)
{
  LfTensor full, v;

  if (c->ndim == 3)
    full = lf_tensor_3d (data, LF_DTYPE_F32, c->B, c->N, width);
  else
    full = lf_tensor_2d (data, LF_DTYPE_F32, c->N, width);
  g_assert_true (lf_tensor_narrow (&full, c->ndim - 1, offset, c->C, &v));
  return v;
}

static void
gather (const LfTensor *t, float *out)
{
  for (int64_t i = 0; i < lf_tensor_numel (t); i++)
    out[i] = (float)lf_ref_get (t, i);
}

static void
run_case (const LnCase *c, int n_threads, int in_place)
{
  const int64_t n = c->B * c->N * c->C;
  const int64_t nx = c->B * c->N * c->x_width;
  const int64_t ny = c->B * c->N * c->y_width;
  float        *xd = lf_test_alloc_f32 (nx), *yd = lf_test_alloc_f32 (ny);
  float        *gd = lf_test_alloc_f32 (c->C), *bd = lf_test_alloc_f32 (c->C);
  float        *got = lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      x, y, gamma, beta;
  char         *what;

  lf_test_fill_uniform (xd, nx, -3.0, 4.0);
  lf_test_fill_uniform (gd, c->C, 0.5, 1.5);
  lf_test_fill_uniform (bd, c->C, -0.5, 0.5);
  lf_test_poison (yd, ny);
  x = rows_view (xd, c, c->x_width, c->x_offset);
  y = in_place ? x : rows_view (yd, c, c->y_width, c->y_offset);
  gamma = lf_tensor_1d (gd, LF_DTYPE_F32, c->C);
  beta = lf_tensor_1d (bd, LF_DTYPE_F32, c->C);
  lf_ref_layer_norm (&x, &gamma, &beta, 1e-5, ref);

  ops->layer_norm (ops, &x, &gamma, &beta, 1e-5f, &y);
  lf_test_assert_ops_ok (ops);
  gather (&y, got);
  what = g_strdup_printf ("layer_norm %s, %d threads%s", c->name, n_threads,
                          in_place ? ", in place" : "");
  lf_test_assert_close_scaled (what, got, ref, n, 1e-5);
  /* the gaps between y's rows are not written */
  if (!in_place)
    for (int64_t i = 0; i < ny; i++)
      if ((i % c->y_width) < c->y_offset
          || (i % c->y_width) >= c->y_offset + c->C)
        g_assert_true (isnan (yd[i]));

  g_free (what);
  g_free (ref);
  g_free (got);
  g_free (bd);
  g_free (gd);
  g_free (yd);
  g_free (xd);
  lf_test_cpu_ops_free (ops);
}

static void
test_case (gconstpointer data)
{
  for (int threads = 1; threads <= 3; threads++)
    run_case (data, threads, 0);
}

static void
test_in_place (void)
{
  run_case (&cases[0], 2, 1);
  run_case (&cases[2], 3, 1);
}

static void
expect_invalid (const LfTensor *x,
                const LfTensor *g,
                const LfTensor *b,
                LfTensor       *y,
                const char     *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (1, 0);

  ops->layer_norm (ops, x, g, b, 1e-5f, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "layer_norm:"));
  g_assert_nonnull (strstr (ops->message, needle));
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float     xd[2 * 7 * 37], yd[2 * 7 * 37], gd[37], bd[37];
  LfTensor  x = lf_tensor_3d (xd, LF_DTYPE_F32, 2, 7, 37);
  LfTensor  y = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 7, 37);
  LfTensor  g = lf_tensor_1d (gd, LF_DTYPE_F32, 37);
  LfTensor  b = lf_tensor_1d (bd, LF_DTYPE_F32, 37);
  LfTensor  g36 = lf_tensor_1d (gd, LF_DTYPE_F32, 36);
  LfTensor  x4 = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 7, 1, 37);
  LfTensor  y6 = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 6, 37);
  LfTensor  xt, yo = y, xh = x;
  const int perm[3] = { 0, 2, 1 };

  g_assert_true (lf_tensor_permute (&x, perm, &xt));
  yo.stride[1] = 30; /* rows overlap */
  xh.dtype = LF_DTYPE_BF16;
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  expect_invalid (&x, &g36, &b, &y, "(36)");
  expect_invalid (&x4, &g, &b, &y, "(2, 7, 1, 37)");
  expect_invalid (&x, &g, &b, &y6, "(2, 6, 37)");
  expect_invalid (&xt, &g, &b, &y, "(2, 37, 7)");
  expect_invalid (&x, &g, &b, &yo, "rows apart");
  expect_invalid (&xh, &g, &b, &y, "bf16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path = g_strdup_printf ("/ops/layer_norm/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
      g_free (path);
    }
  g_test_add_func ("/ops/layer_norm/in-place", test_in_place);
  g_test_add_func ("/ops/layer_norm/bad-shape", test_bad_shape);
  return g_test_run ();
}
