/* test-copy.c: the f16/bf16 bit conversions of kernels/cpu/half.h checked
 * exhaustively (every 16-bit pattern round-trips; f32 → f16/bf16 rounding
 * against a double reference on all halfway cases, edges and random values)
 * and the copy op on every dtype pair with permuted and strided views on
 * both sides, 1–3 threads, and rejected shapes.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "half.h"
#include "lf-test.h"
#include "ref-pointwise-ops.h"

static int
is_nan16 (uint16_t h, int man_bits)
{
  const uint16_t exp = (uint16_t)(0x7fff & ~((1u << man_bits) - 1));

  return (h & exp) == exp && (h & ((1u << man_bits) - 1)) != 0;
}

/* Every pattern: the decoded value is exact and converts back to itself;
 * NaNs stay NaN. Then the same through the copy op, f16 → f32 → f16. */
static void
test_all_patterns (gconstpointer data)
{
  const int     bf16 = GPOINTER_TO_INT (data);
  const int     mb = bf16 ? 7 : 10;
  uint16_t     *h = g_new (uint16_t, 65536);
  uint16_t     *back = g_new (uint16_t, 65536);
  float        *f = lf_test_alloc_f32 (65536);
  LfOps        *ops = lf_test_cpu_ops_new (3, 0);
  const LfDtype dt = bf16 ? LF_DTYPE_BF16 : LF_DTYPE_F16;
  LfTensor      th = lf_tensor_2d (h, dt, 256, 256);
  LfTensor      tf = lf_tensor_2d (f, LF_DTYPE_F32, 256, 256);
  LfTensor      tb = lf_tensor_2d (back, dt, 256, 256);

  for (uint32_t i = 0; i < 65536; i++)
    {
      const uint16_t p = (uint16_t)i;
      const float    v = bf16 ? lf_bf16_to_f32 (p) : lf_f16_to_f32 (p);
      const double   ref = bf16 ? lf_ref_bf16_value (p) : lf_ref_f16_value (p);
      const uint16_t q = bf16 ? lf_f32_to_bf16 (v) : lf_f32_to_f16 (v);

      h[i] = p;
      if (isnan (ref))
        {
          g_assert_true (isnan (v));
          g_assert_true (is_nan16 (q, mb));
        }
      else
        {
          g_assert_cmpfloat ((double)v, ==, ref);
          g_assert_cmphex (q, ==, p);
        }
    }
  lf_test_poison (f, 65536);
  ops->copy (ops, &th, &tf);
  ops->copy (ops, &tf, &tb);
  lf_test_assert_ops_ok (ops);
  for (uint32_t i = 0; i < 65536; i++)
    if (is_nan16 ((uint16_t)i, mb))
      g_assert_true (isnan (f[i]) && is_nan16 (back[i], mb));
    else
      {
        g_assert_cmpfloat (f[i], ==,
                           bf16 ? lf_bf16_to_f32 ((uint16_t)i)
                                : lf_f16_to_f32 ((uint16_t)i));
        g_assert_cmphex (back[i], ==, i);
      }
  lf_test_cpu_ops_free (ops);
  g_free (f);
  g_free (back);
  g_free (h);
}

static float
f32_from (uint32_t bits)
{
  return lf_f32_from_bits (bits);
}

/* Rounding probes: every halfway point between neighbouring 16-bit values
 * and the f32 values on either side of it (both signs), edges, and random
 * values. Returns the count written to @v. */
static int64_t
rounding_probes (int bf16, float *v, int64_t cap)
{
  static const float edges[] = {
    0.0f,
    65504.0f,
    65519.996f,
    65520.0f,
    65536.0f,
    1e10f,
    FLT_MAX,
    INFINITY,
    0x1p-24f,
    0x1p-25f,
    0x1.000002p-25f,
    0x1.8p-24f,
    0x1.4p-23f,
    0x1p-14f,
    0x1.ffcp-15f,
    0x1.ffep-15f,
    FLT_TRUE_MIN,
    FLT_MIN,
    1e-30f,
    1.0f,
    0x1.fefffep127f,
    0x1.ff0000p127f,
    0x1.fe0000p127f,
    0x1p-133f,
    0x1p-134f,
    0x1.8p-133f,
    0x1.7ffffep-126f,
  };
  const uint32_t top = bf16 ? 0x7f7f : 0x7bff; /* largest finite */
  int64_t        n = 0;

  for (uint32_t h = 0; h < top; h++)
    {
      const double lo = bf16 ? lf_ref_bf16_value ((uint16_t)h)
                             : lf_ref_f16_value ((uint16_t)h);
      const double hi = bf16 ? lf_ref_bf16_value ((uint16_t)(h + 1))
                             : lf_ref_f16_value ((uint16_t)(h + 1));
      const float  mid = (float)((lo + hi) / 2.0);

      g_assert_cmpfloat ((double)mid, ==, (lo + hi) / 2.0);
      v[n++] = mid;
      v[n++] = nextafterf (mid, 0.0f);
      v[n++] = nextafterf (mid, INFINITY);
    }
  for (size_t i = 0; i < G_N_ELEMENTS (edges); i++)
    v[n++] = edges[i];
  while (n < cap / 2) /* random bit patterns: every exponent */
    v[n++] = f32_from (g_test_rand_int ());
  while (n < cap) /* random values around the 16-bit range */
    v[n++] = f32_from ((uint32_t)g_test_rand_int_range (
        bf16 ? 0 : 100 << 23, bf16 ? 0x7f800000 : 144 << 23));
  for (int64_t i = 0; i < n; i++) /* both signs */
    if (i % 2)
      v[i] = -v[i];
  return n;
}

static void
test_rounding (gconstpointer data)
{
  const int     bf16 = GPOINTER_TO_INT (data);
  const int64_t cap = 3 * 0x7f7f + 400000;
  float        *v = lf_test_alloc_f32 (cap);
  uint16_t     *got = g_new (uint16_t, cap);
  LfOps        *ops = lf_test_cpu_ops_new (3, 0);
  const int64_t n = rounding_probes (bf16, v, cap);
  LfTensor      tv = lf_tensor_1d (v, LF_DTYPE_F32, n);
  LfTensor      tg = lf_tensor_1d (got, bf16 ? LF_DTYPE_BF16 : LF_DTYPE_F16, n);

  /* NaNs whose payload lies only in the bits a 16-bit type drops */
  v[n - 1] = f32_from (0x7f800001u);
  v[n - 2] = f32_from (0xff801000u);
  v[n - 3] = f32_from (0x7fc00000u);
  v[n - 4] = -NAN;
  ops->copy (ops, &tv, &tg);
  lf_test_assert_ops_ok (ops);
  for (int64_t i = 0; i < n; i++)
    {
      const uint16_t q = bf16 ? lf_f32_to_bf16 (v[i]) : lf_f32_to_f16 (v[i]);
      const uint16_t r
          = bf16 ? lf_ref_bf16_bits (v[i]) : lf_ref_f16_bits (v[i]);

      if (isnan (v[i]))
        g_assert_true (is_nan16 (q, bf16 ? 7 : 10));
      else
        {
          if (q != r)
            g_test_message ("%s of %a: got 0x%04x, expected 0x%04x",
                            bf16 ? "bf16" : "f16", (double)v[i], q, r);
          g_assert_cmphex (q, ==, r);
        }
      g_assert_cmphex (got[i], ==, q); /* the op rounds the same way */
    }
  lf_test_cpu_ops_free (ops);
  g_free (got);
  g_free (v);
}

/* Random storage of dtype @dt: f32 values over many binades, or 16-bit
 * patterns rounded from them (so no NaN). */
static void *
random_storage (LfDtype dt, int64_t n)
{
  float    *f = lf_test_alloc_f32 (n);
  uint16_t *h;

  for (int64_t i = 0; i < n; i++)
    f[i] = (float)(ldexp (g_test_rand_double_range (1.0, 2.0),
                          g_test_rand_int_range (-30, 18))
                   * (g_test_rand_bit () ? 1.0 : -1.0));
  if (dt == LF_DTYPE_F32)
    return f;
  h = g_new (uint16_t, n);
  for (int64_t i = 0; i < n; i++)
    h[i]
        = dt == LF_DTYPE_F16 ? lf_ref_f16_bits (f[i]) : lf_ref_bf16_bits (f[i]);
  g_free (f);
  return h;
}

/* Element @i of y (row-major over its shape) equals x's, rounded by the
 * reference when y is narrower. */
static void
assert_copied (const LfTensor *x, const LfTensor *y, const char *what)
{
  for (int64_t i = 0; i < lf_tensor_numel (x); i++)
    {
      const double v = lf_ref_get (x, i), got = lf_ref_get (y, i);
      double       want = v;

      if (y->dtype == LF_DTYPE_F16)
        want = lf_ref_f16_value (lf_ref_f16_bits (v));
      else if (y->dtype == LF_DTYPE_BF16)
        want = lf_ref_bf16_value (lf_ref_bf16_bits (v));
      if (got != want)
        g_test_message ("%s: element %" G_GINT64_FORMAT " is %.9g, "
                        "expected %.9g",
                        what, i, got, want);
      g_assert_cmpfloat (got, ==, want);
    }
}

/* x: columns [2, 2 + 300) of a (5, 13, 303) tensor, permuted to
 * (13, 300, 5); y: a (300, 5, 13 + 2) tensor's first 13 columns, permuted to
 * (13, 300, 5). Both sides strided, neither contiguous. */
static void
run_pair (LfDtype xt, LfDtype yt, int n_threads)
{
  const int64_t nx = 5 * 13 * 303, ny = 300 * 5 * 15;
  const int     px[3] = { 1, 2, 0 }, py[3] = { 2, 0, 1 };
  void         *xd = random_storage (xt, nx);
  char         *yd = g_malloc (ny * lf_dtype_size (yt));
  LfOps        *ops = lf_test_cpu_ops_new (n_threads, 0);
  LfTensor      xs = lf_tensor_3d (xd, xt, 5, 13, 303);
  LfTensor      ys = lf_tensor_3d (yd, yt, 300, 5, 15);
  LfTensor      x, y, v;
  char *what = g_strdup_printf ("copy %s → %s, %d threads", lf_dtype_name (xt),
                                lf_dtype_name (yt), n_threads);

  memset (yd, 0xff, ny * lf_dtype_size (yt)); /* NaN in every dtype */
  g_assert_true (lf_tensor_narrow (&xs, 2, 2, 300, &v));
  g_assert_true (lf_tensor_permute (&v, px, &x));
  g_assert_true (lf_tensor_narrow (&ys, 2, 0, 13, &v));
  g_assert_true (lf_tensor_permute (&v, py, &y));
  g_assert_true (lf_tensor_same_shape (&x, &y));

  ops->copy (ops, &x, &y);
  lf_test_assert_ops_ok (ops);
  assert_copied (&x, &y, what);
  for (int64_t i = 0; i < ny; i++) /* the two spare columns untouched */
    if (i % 15 >= 13)
      g_assert_true (isnan (lf_ref_get (&ys, i)));

  g_free (what);
  lf_test_cpu_ops_free (ops);
  g_free (yd);
  g_free (xd);
}

static void
test_dtype_pairs (void)
{
  for (int xt = LF_DTYPE_F32; xt <= LF_DTYPE_BF16; xt++)
    for (int yt = LF_DTYPE_F32; yt <= LF_DTYPE_BF16; yt++)
      for (int threads = 1; threads <= 3; threads += 2)
        run_pair ((LfDtype)xt, (LfDtype)yt, threads);
}

/* The materialisation of permuted views: (B, N, C) ↔ (B, C, N) into
 * contiguous tensors, as the attention and conv layouts need. */
static void
test_permuted (void)
{
  static const int perms[][4]
      = { { 0, 2, 3, 1 }, { 0, 3, 1, 2 }, { 3, 2, 1, 0 } };

  for (size_t p = 0; p < G_N_ELEMENTS (perms); p++)
    for (int threads = 1; threads <= 3; threads++)
      {
        float   *xd = random_storage (LF_DTYPE_F32, 2 * 31 * 17 * 37);
        float   *yd = lf_test_alloc_f32 (2 * 31 * 17 * 37);
        LfOps   *ops = lf_test_cpu_ops_new (threads, 0);
        LfTensor xs = lf_tensor_4d (xd, LF_DTYPE_F32, 2, 31, 17, 37);
        LfTensor x, y;

        g_assert_true (lf_tensor_permute (&xs, perms[p], &x));
        y = lf_tensor_make (yd, LF_DTYPE_F32, 4, x.shape);
        lf_test_poison (yd, 2 * 31 * 17 * 37);
        ops->copy (ops, &x, &y);
        lf_test_assert_ops_ok (ops);
        assert_copied (&x, &y, "copy permuted");
        lf_test_cpu_ops_free (ops);
        g_free (yd);
        g_free (xd);
      }
}

static void
expect_invalid (const LfTensor *x, LfTensor *y, const char *needle)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);

  ops->copy (ops, x, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "copy:"));
  g_assert_nonnull (strstr (ops->message, needle));
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float    xd[6 * 7], yd[6 * 7];
  LfTensor x = lf_tensor_2d (xd, LF_DTYPE_F32, 6, 7);
  LfTensor y = lf_tensor_2d (yd, LF_DTYPE_F16, 6, 7);
  LfTensor y7 = lf_tensor_2d (yd, LF_DTYPE_F32, 7, 6);
  LfTensor y1 = lf_tensor_2d (yd, LF_DTYPE_F32, 1, 7);
  LfTensor yb, yq = y;

  g_assert_true (lf_tensor_expand (&y1, 0, 6, &yb));
  yq.dtype = (LfDtype)7;
  lf_test_poison (yd, G_N_ELEMENTS (yd));
  expect_invalid (&x, &y7, "(7, 6)");
  expect_invalid (&x, &yb, "broadcast");
  expect_invalid (&x, &yq, "dtype 7");
  for (size_t i = 0; i < G_N_ELEMENTS (yd); i++)
    g_assert_true (isnan (yd[i]));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/ops/copy/f16-all-patterns", GINT_TO_POINTER (0),
                        test_all_patterns);
  g_test_add_data_func ("/ops/copy/bf16-all-patterns", GINT_TO_POINTER (1),
                        test_all_patterns);
  g_test_add_data_func ("/ops/copy/f16-rounding", GINT_TO_POINTER (0),
                        test_rounding);
  g_test_add_data_func ("/ops/copy/bf16-rounding", GINT_TO_POINTER (1),
                        test_rounding);
  g_test_add_func ("/ops/copy/dtype-pairs", test_dtype_pairs);
  g_test_add_func ("/ops/copy/permuted", test_permuted);
  g_test_add_func ("/ops/copy/bad-shape", test_bad_shape);
  return g_test_run ();
}
