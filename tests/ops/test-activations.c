/* test-activations.c: gelu, quick_gelu, silu, leaky_relu, elu_plus_one and
 * geglu against the double references (tests/ref/ref-pointwise.c): odd
 * sizes over several work chunks, 1–3 threads, in place, geglu on strided
 * token rows, and rejected shapes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

#define RTOL 1e-5
#define ATOL 1e-7 /* for outputs within a few ulp of zero */

typedef struct
{
  const char *name;
  double      lo, hi; /* input range */
  float       param;  /* leaky_relu's slope */
} ActCase;

static const ActCase acts[] = {
  { "gelu", -6.0, 6.0, 0.0f },         { "quick_gelu", -8.0, 8.0, 0.0f },
  { "silu", -10.0, 10.0, 0.0f },       { "leaky_relu", -5.0, 5.0, 0.01f },
  { "elu_plus_one", -9.0, 4.0, 0.0f },
};

static const int64_t sizes[][4] = {
  { 1, 1, 1, 100003 }, /* seven work chunks, the last one short */
  { 3, 7, 11, 13 },
  { 1, 1, 1, 5 },
};

static void
call_act (LfOps *ops, const char *name, const LfTensor *x, float p, LfTensor *y)
{
  if (strcmp (name, "gelu") == 0)
    ops->gelu (ops, x, y);
  else if (strcmp (name, "quick_gelu") == 0)
    ops->quick_gelu (ops, x, y);
  else if (strcmp (name, "silu") == 0)
    ops->silu (ops, x, y);
  else if (strcmp (name, "leaky_relu") == 0)
    ops->leaky_relu (ops, x, p, y);
  else
    ops->elu_plus_one (ops, x, y);
}

static double
ref_act (const char *name, double x, double p)
{
  if (strcmp (name, "gelu") == 0)
    return lf_ref_gelu1 (x);
  if (strcmp (name, "quick_gelu") == 0)
    return lf_ref_quick_gelu1 (x);
  if (strcmp (name, "silu") == 0)
    return lf_ref_silu1 (x);
  if (strcmp (name, "leaky_relu") == 0)
    return lf_ref_leaky_relu1 (x, p);
  return lf_ref_elu_plus_one1 (x);
}

static void
run_act (const ActCase *a, const int64_t *shape, int n_threads, int in_place)
{
  const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  float        *xd = lf_test_alloc_f32 (n);
  float        *yd = in_place ? xd : lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      x = lf_tensor_make (xd, LF_DTYPE_F32, 4, shape);
  LfTensor      y = lf_tensor_make (yd, LF_DTYPE_F32, 4, shape);
  char         *what;

  lf_test_fill_uniform (xd, n, a->lo, a->hi);
  xd[0] = 0.0f; /* the branch points */
  if (n > 2)
    xd[1] = -0.0f;
  for (int64_t i = 0; i < n; i++)
    ref[i] = ref_act (a->name, xd[i], a->param);
  if (!in_place)
    lf_test_poison (yd, n);

  call_act (ops, a->name, &x, a->param, &y);
  lf_test_assert_ops_ok (ops);
  what = g_strdup_printf ("%s (%" G_GINT64_FORMAT " elements), %d threads%s",
                          a->name, n, n_threads, in_place ? ", in place" : "");
  lf_test_assert_close (what, yd, ref, n, RTOL, ATOL);

  g_free (what);
  lf_test_cpu_ops_free (ops);
  g_free (ref);
  if (!in_place)
    g_free (yd);
  g_free (xd);
}

static void
test_act (gconstpointer data)
{
  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int threads = 1; threads <= 3; threads++)
      run_act (data, sizes[s], threads, 0);
  run_act (data, sizes[0], 3, 1);
  run_act (data, sizes[1], 2, 1);
}

/* geglu: x columns [x_off, x_off + 2F) of rows x_width long, y columns
 * [y_off, y_off + F) of rows y_width long. */
typedef struct
{
  const char *name;
  int64_t     B, N, F;
  int64_t     x_width, x_off, y_width, y_off;
} GegluCase;

static const GegluCase gegl[] = {
  { "odd", 2, 9, 77, 154, 0, 77, 0 },
  { "strided-rows", 2, 5, 40, 250, 90, 45, 5 },
  { "large", 1, 128, 640, 1280, 0, 640, 0 },
};

static void
run_geglu (const GegluCase *c, int n_threads)
{
  const int64_t nx = c->B * c->N * c->x_width, ny = c->B * c->N * c->y_width;
  const int64_t n = c->B * c->N * c->F;
  float        *xd = lf_test_alloc_f32 (nx), *yd = lf_test_alloc_f32 (ny);
  float        *got = lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      xf = lf_tensor_3d (xd, LF_DTYPE_F32, c->B, c->N, c->x_width);
  LfTensor      yf = lf_tensor_3d (yd, LF_DTYPE_F32, c->B, c->N, c->y_width);
  LfTensor      x, y;
  char         *what;

  g_assert_true (lf_tensor_narrow (&xf, 2, c->x_off, 2 * c->F, &x));
  g_assert_true (lf_tensor_narrow (&yf, 2, c->y_off, c->F, &y));
  lf_test_fill_uniform (xd, nx, -5.0, 5.0);
  lf_test_poison (yd, ny);
  lf_ref_geglu (&x, ref);

  ops->geglu (ops, &x, &y);
  lf_test_assert_ops_ok (ops);
  for (int64_t i = 0; i < n; i++)
    got[i] = (float)lf_ref_get (&y, i);
  what = g_strdup_printf ("geglu %s, %d threads", c->name, n_threads);
  lf_test_assert_close (what, got, ref, n, RTOL, ATOL);
  for (int64_t i = 0; i < ny; i++) /* gaps between y's rows untouched */
    if (i % c->y_width < c->y_off || i % c->y_width >= c->y_off + c->F)
      g_assert_true (isnan (yd[i]));

  g_free (what);
  lf_test_cpu_ops_free (ops);
  g_free (ref);
  g_free (got);
  g_free (yd);
  g_free (xd);
}

static void
test_geglu (gconstpointer data)
{
  for (int threads = 1; threads <= 3; threads++)
    run_geglu (data, threads);
}

static void
expect_invalid (const char     *op,
                const LfTensor *x,
                LfTensor       *y,
                const char     *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);
  char  *prefix = g_strdup_printf ("%s:", op);

  if (strcmp (op, "geglu") == 0)
    ops->geglu (ops, x, y);
  else
    call_act (ops, op, x, 0.01f, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, prefix));
  g_assert_nonnull (strstr (ops->message, needle));
  g_free (prefix);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float     xd[2 * 6 * 20], yd[2 * 6 * 20];
  LfTensor  x = lf_tensor_3d (xd, LF_DTYPE_F32, 2, 6, 20);
  LfTensor  y = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 6, 20);
  LfTensor  y19 = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 6, 19);
  LfTensor  y10 = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 6, 10);
  LfTensor  y9 = lf_tensor_3d (yd, LF_DTYPE_F32, 2, 6, 9);
  LfTensor  xt, xh = x;
  const int perm[3] = { 0, 2, 1 };

  g_assert_true (lf_tensor_permute (&x, perm, &xt));
  xh.dtype = LF_DTYPE_F16;
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  for (size_t i = 0; i < G_N_ELEMENTS (acts); i++)
    {
      LfTensor yt;

      g_assert_true (lf_tensor_permute (&y, perm, &yt));
      expect_invalid (acts[i].name, &x, &y19, "(2, 6, 19)");
      expect_invalid (acts[i].name, &xt, &yt, "not contiguous");
      expect_invalid (acts[i].name, &xh, &y, "f16");
    }
  expect_invalid ("geglu", &x, &y9, "(2, 6, 9)");
  expect_invalid ("geglu", &xt, &y10, "(2, 20, 6)");
  expect_invalid ("geglu", &xh, &y10, "f16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (acts); i++)
    {
      char *path = g_strdup_printf ("/ops/%s/odd-sizes", acts[i].name);

      g_test_add_data_func (path, &acts[i], test_act);
      g_free (path);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (gegl); i++)
    {
      char *path = g_strdup_printf ("/ops/geglu/%s", gegl[i].name);

      g_test_add_data_func (path, &gegl[i], test_geglu);
      g_free (path);
    }
  g_test_add_func ("/ops/activations/bad-shape", test_bad_shape);
  return g_test_run ();
}
