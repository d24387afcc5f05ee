/* test-group-norm.c: group_norm and group_norm_silu against the double
 * reference (tests/ref/ref-norm.c): odd shapes, batches, 1–3 threads, groups
 * larger than one work chunk, scratch too small for the chunk statistics,
 * mean-heavy data, in-place runs and rejected shapes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

typedef struct
{
  const char *name;
  int64_t     shape[4];
  int         ndim;
  int         groups;
  double      lo, hi;  /* input range */
  size_t      scratch; /* 0: the backend's hint */
} GnCase;

static const GnCase cases[] = {
  { "odd", { 2, 24, 7, 13 }, 4, 8, -2.0, 3.0, 0 },
  { "c6-g3", { 1, 6, 5, 3 }, 4, 3, -1.0, 1.0, 0 },
  { "tokens-3d", { 3, 6, 11, 0 }, 3, 3, -1.0, 2.0, 0 },
  /* 64 800 elements per group: several chunks merged per group */
  { "large-group", { 1, 64, 45, 45 }, 4, 2, -2.0, 2.0, 0 },
  /* 560 groups with no scratch: batches of groups in the local buffer */
  { "no-scratch", { 70, 16, 3, 5 }, 4, 8, -2.0, 2.0, 64 },
  { "no-scratch-large", { 1, 32, 130, 129 }, 4, 1, -2.0, 2.0, 64 },
  /* |mean| ≫ std: a one-pass E[x²] − E[x]² would lose the variance */
  { "offset", { 2, 32, 19, 23 }, 4, 4, 300.0, 301.0, 0 },
};

static void
run_case (const GnCase *c, int silu, int n_threads, int in_place)
{
  const char *op = silu ? "group_norm_silu" : "group_norm";
  LfTensor    x, gamma, beta, y;
  int64_t     n = 1;
  float      *xd, *gd, *bd, *yd;
  double     *ref;
  LfOps      *ops = lf_test_cpu_ops_new (n_threads, c->scratch);
  char       *what;

  for (int d = 0; d < c->ndim; d++)
    n *= c->shape[d];
  xd = lf_test_alloc_f32 (n);
  yd = in_place ? xd : lf_test_alloc_f32 (n);
  gd = lf_test_alloc_f32 (c->shape[1]);
  bd = lf_test_alloc_f32 (c->shape[1]);
  ref = lf_test_alloc_f64 (n);
  lf_test_fill_uniform (xd, n, c->lo, c->hi);
  lf_test_fill_uniform (gd, c->shape[1], 0.5, 1.5);
  lf_test_fill_uniform (bd, c->shape[1], -0.5, 0.5);
  x = lf_tensor_make (xd, LF_DTYPE_F32, c->ndim, c->shape);
  y = lf_tensor_make (yd, LF_DTYPE_F32, c->ndim, c->shape);
  gamma = lf_tensor_1d (gd, LF_DTYPE_F32, c->shape[1]);
  beta = lf_tensor_1d (bd, LF_DTYPE_F32, c->shape[1]);
  lf_ref_group_norm (&x, &gamma, &beta, c->groups, 1e-5, silu, ref);
  if (!in_place)
    lf_test_poison (yd, n);

  (silu ? ops->group_norm_silu : ops->group_norm) (ops, &x, &gamma, &beta,
                                                   c->groups, 1e-5f, &y);
  lf_test_assert_ops_ok (ops);
  what = g_strdup_printf ("%s %s, %d threads%s", op, c->name, n_threads,
                          in_place ? ", in place" : "");
  lf_test_assert_close_scaled (what, yd, ref, n, 1e-5);

  g_free (what);
  g_free (ref);
  g_free (bd);
  g_free (gd);
  if (!in_place)
    g_free (yd);
  g_free (xd);
  lf_test_cpu_ops_free (ops);
}

static void
test_case (gconstpointer data)
{
  const GnCase *c = data;
  const int     silu = strstr (g_test_get_path (), "_silu/") != NULL;

  for (int threads = 1; threads <= 3; threads++)
    run_case (c, silu, threads, 0);
}

static void
test_in_place (gconstpointer data)
{
  const int silu = GPOINTER_TO_INT (data);

  run_case (&cases[0], silu, 3, 1);
  run_case (&cases[3], silu, 2, 1);
}

/* One call on a fresh table; asserts LF_STATUS_INVALID naming the op and
 * @needle (a shape or a word of the reason). */
static void
expect_invalid (int             silu,
                const LfTensor *x,
                const LfTensor *g,
                const LfTensor *b,
                int             groups,
                LfTensor       *y,
                const char     *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (1, 0);

  (silu ? ops->group_norm_silu : ops->group_norm) (ops, x, g, b, groups, 1e-5f,
                                                   y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (
      strstr (ops->message, silu ? "group_norm_silu:" : "group_norm:"));
  g_assert_nonnull (strstr (ops->message, needle));
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (gconstpointer data)
{
  const int silu = GPOINTER_TO_INT (data);
  float     xd[2 * 24 * 7 * 13], yd[2 * 24 * 7 * 13], gd[24], bd[24];
  LfTensor  x = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 24, 7, 13);
  LfTensor  y = lf_tensor_4d (yd, LF_DTYPE_F32, 2, 24, 7, 13);
  LfTensor  g = lf_tensor_1d (gd, LF_DTYPE_F32, 24);
  LfTensor  b = lf_tensor_1d (bd, LF_DTYPE_F32, 24);
  LfTensor  g5 = lf_tensor_1d (gd, LF_DTYPE_F32, 20);
  LfTensor  yt, y3 = lf_tensor_4d (yd, LF_DTYPE_F32, 2, 24, 7, 12);
  LfTensor  xh = x;
  const int perm[4] = { 0, 1, 3, 2 };

  xh.dtype = LF_DTYPE_F16;
  g_assert_true (lf_tensor_permute (&y, perm, &yt));
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  expect_invalid (silu, &x, &g, &b, 5, &y, "(2, 24, 7, 13)");
  expect_invalid (silu, &x, &g, &b, 0, &y, "0 groups");
  expect_invalid (silu, &x, &g5, &b, 8, &y, "(20)");
  expect_invalid (silu, &x, &g, &b, 8, &y3, "(2, 24, 7, 12)");
  expect_invalid (silu, &x, &g, &b, 8, &yt, "not contiguous");
  expect_invalid (silu, &xh, &g, &b, 8, &y, "f16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i])); /* nothing written */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int silu = 0; silu <= 1; silu++)
    {
      const char *op = silu ? "group_norm_silu" : "group_norm";
      char       *path;

      for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          path = g_strdup_printf ("/ops/%s/%s", op, cases[i].name);
          g_test_add_data_func (path, &cases[i], test_case);
          g_free (path);
        }
      path = g_strdup_printf ("/ops/%s/in-place", op);
      g_test_add_data_func (path, GINT_TO_POINTER (silu), test_in_place);
      g_free (path);
      path = g_strdup_printf ("/ops/%s/bad-shape", op);
      g_test_add_data_func (path, GINT_TO_POINTER (silu), test_bad_shape);
      g_free (path);
    }
  return g_test_run ();
}
