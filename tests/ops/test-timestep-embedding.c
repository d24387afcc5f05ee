/* test-timestep-embedding.c: timestep_embedding against the double
 * reference (tests/ref/ref-timestep-embedding.c), which rounds the exponent
 * and the argument to f32 as diffusers' torch code does: SD's settings, odd
 * dims, flip on and off, shift 0 and 1, fractional t up to 1000, 1–3
 * threads, and rejected shapes.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-pointwise-ops.h"

typedef struct
{
  const char *name;
  int64_t     B, dim;
  int         flip;
  float       shift, max_period;
} TeCase;

static const TeCase cases[] = {
  { "sd15", 4, 320, 1, 0.0f, 10000.0f },
  { "sdxl-time-ids", 12, 256, 1, 0.0f, 10000.0f },
  { "odd-dim-no-flip", 5, 33, 0, 1.0f, 10000.0f },
  { "odd-dim-flip", 3, 7, 1, 1.0f, 10000.0f },
  { "dim-1", 2, 1, 1, 0.0f, 10000.0f },
  { "many", 300, 320, 0, 0.0f, 1000.0f }, /* several work chunks */
};

static void
run_case (const TeCase *c, int n_threads)
{
  float *td = lf_test_alloc_f32 (c->B), *yd = lf_test_alloc_f32 (c->B * c->dim);
  double  *ref = lf_test_alloc_f64 (c->B * c->dim);
  LfOps   *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor t = lf_tensor_1d (td, LF_DTYPE_F32, c->B);
  LfTensor y = lf_tensor_2d (yd, LF_DTYPE_F32, c->B, c->dim);
  char    *what;

  lf_test_fill_uniform (td, c->B, 0.0, 1000.0); /* fractional t */
  td[0] = 999.0f;                               /* SD's first step */
  if (c->B > 1)
    td[1] = 0.0f;
  if (c->B > 2)
    td[2] = 1000.0f;
  lf_test_poison (yd, c->B * c->dim);
  lf_ref_timestep_embedding (&t, c->flip, c->shift, c->max_period, c->dim, ref);

  ops->timestep_embedding (ops, &t, c->flip, c->shift, c->max_period, &y);
  lf_test_assert_ops_ok (ops);
  what = g_strdup_printf ("timestep_embedding %s, %d threads", c->name,
                          n_threads);
  lf_test_assert_close (what, yd, ref, c->B * c->dim, 1e-5, 1e-7);
  if (c->dim % 2 == 1) /* the padding is an exact zero */
    for (int64_t b = 0; b < c->B; b++)
      g_assert_cmpfloat (yd[b * c->dim + c->dim - 1], ==, 0.0f);
  if (c->B > 1 && c->dim > 1) /* t = 0: sin 0 = 0, cos 0 = 1 */
    g_assert_cmpfloat (yd[c->dim], ==, c->flip ? 1.0f : 0.0f);

  g_free (what);
  lf_test_cpu_ops_free (ops);
  g_free (ref);
  g_free (yd);
  g_free (td);
}

static void
test_case (gconstpointer data)
{
  for (int threads = 1; threads <= 3; threads++)
    run_case (data, threads);
}

static void
expect_invalid (const LfTensor *t, float shift, LfTensor *y, const char *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (1, 0);

  ops->timestep_embedding (ops, t, 1, shift, 10000.0f, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "timestep_embedding:"));
  g_assert_nonnull (strstr (ops->message, needle));
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float    td[4], yd[4 * 8];
  LfTensor t = lf_tensor_1d (td, LF_DTYPE_F32, 4);
  LfTensor y3 = lf_tensor_2d (yd, LF_DTYPE_F32, 3, 8);
  LfTensor y2 = lf_tensor_2d (yd, LF_DTYPE_F32, 4, 2);
  LfTensor y = lf_tensor_2d (yd, LF_DTYPE_F32, 4, 8);
  LfTensor t2 = lf_tensor_2d (td, LF_DTYPE_F32, 2, 2);
  LfTensor th = t;

  th.dtype = LF_DTYPE_F16;
  lf_test_fill_uniform (td, 4, 0.0, 1000.0);
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  expect_invalid (&t, 0.0f, &y3, "(3, 8)");
  expect_invalid (&t2, 0.0f, &y, "(2, 2)");
  expect_invalid (&t, 1.0f, &y2, "dim 2"); /* half − shift = 0 */
  expect_invalid (&th, 0.0f, &y, "f16");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      char *path
          = g_strdup_printf ("/ops/timestep_embedding/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
      g_free (path);
    }
  g_test_add_func ("/ops/timestep_embedding/bad-shape", test_bad_shape);
  return g_test_run ();
}
