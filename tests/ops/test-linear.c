/* test-linear.c: the CPU linear op (torch.nn.Linear) against the double
 * reference (ref-gemm.c): 2-D and batched token rows, bias or none, rows
 * sliced out of a fused (B, N, 3C) projection, token slices whose batches
 * are not end to end, 1 to 3 threads, and bad shapes.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

typedef struct
{
  int     ndim; /* 2: (M, K); 3: (B, N, K) */
  int64_t B, N, K, N_out;
  int     bias;
  int64_t fuse;         /* x is slice 1 of a (B, N, fuse·K) buffer */
  int64_t extra_tokens; /* x is tokens [1, N + 1) of (B, N + extra, ·) */
  int64_t y_pad;        /* y row stride N_out + y_pad */
} LinearCase;

static LfTensor
token_view (float *store, const LinearCase *lc, int64_t n_tok, int64_t width)
{
  LfTensor t = lc->ndim == 2
                   ? lf_tensor_2d (store, LF_DTYPE_F32, n_tok, width)
                   : lf_tensor_3d (store, LF_DTYPE_F32, lc->B, n_tok, width);
  return t;
}

static void
run_case (const LinearCase *lc)
{
  const int64_t fuse = MAX (lc->fuse, 1), n_tok = lc->N + lc->extra_tokens;
  const int64_t B = lc->ndim == 2 ? 1 : lc->B;
  const int64_t nx = B * n_tok * fuse * lc->K;
  const int64_t ny = B * lc->N * (lc->N_out + lc->y_pad);
  const int64_t n = B * lc->N * lc->N_out;
  float        *xs = lf_test_alloc_f32 (nx),
        *ws = lf_test_alloc_f32 (lc->N_out * lc->K);
  float    *bs = lf_test_alloc_f32 (lc->N_out), *ys = lf_test_alloc_f32 (ny);
  float    *got = lf_test_alloc_f32 (n);
  double   *ref = lf_test_alloc_f64 (n);
  LfTensor  x = token_view (xs, lc, n_tok, fuse * lc->K);
  LfTensor  y = token_view (ys, lc, lc->N, lc->N_out + lc->y_pad);
  LfTensor  w = lf_tensor_2d (ws, LF_DTYPE_F32, lc->N_out, lc->K);
  LfTensor  b = lf_tensor_1d (bs, LF_DTYPE_F32, lc->N_out);
  const int tok_dim = x.ndim - 2;

  lf_test_fill_uniform (xs, nx, -1.0, 1.0);
  lf_test_fill_uniform (ws, lc->N_out * lc->K, -1.0, 1.0);
  lf_test_fill_uniform (bs, lc->N_out, -1.0, 1.0);
  g_assert_true (
      lf_tensor_narrow (&x, x.ndim - 1, fuse > 1 ? lc->K : 0, lc->K, &x));
  g_assert_true (
      lf_tensor_narrow (&x, tok_dim, lc->extra_tokens > 0 ? 1 : 0, lc->N, &x));
  g_assert_true (lf_tensor_narrow (&y, y.ndim - 1, 0, lc->N_out, &y));
  lf_ref_linear (&x, &w, lc->bias ? &b : NULL, ref);
  for (int threads = 1; threads <= 3; threads++)
    {
      LfOps *ops = lf_test_cpu_ops_new (threads, 0);
      char   what[64];

      lf_test_poison (ys, ny);
      ops->linear (ops, &x, &w, lc->bias ? &b : NULL, &y);
      lf_test_assert_ops_ok (ops);
      lf_ref_gather3 (&y, got);
      g_snprintf (what, sizeof what, "linear, %d threads", threads);
      lf_test_assert_close_scaled (what, got, ref, n, 1e-4);
      lf_test_cpu_ops_free (ops);
    }
  g_free (xs), g_free (ws), g_free (bs), g_free (ys), g_free (got),
      g_free (ref);
}

static void
test_odd (void)
{
  const LinearCase bias
      = { .ndim = 2, .N = 37, .K = 29, .N_out = 13, .bias = 1 };
  const LinearCase none = { .ndim = 2, .N = 37, .K = 29, .N_out = 13 };
  run_case (&bias);
  run_case (&none);
}

static void
test_batched (void)
{
  const LinearCase lc
      = { .ndim = 3, .B = 3, .N = 37, .K = 29, .N_out = 13, .bias = 1 };
  run_case (&lc);
}

static void
test_fused_rows (void)
{
  /* k of a fused qkv projection: row stride 3K, batches end to end. */
  const LinearCase lc = { .ndim = 3,
                          .B = 2,
                          .N = 41,
                          .K = 24,
                          .N_out = 19,
                          .bias = 1,
                          .fuse = 3,
                          .y_pad = 7 };
  run_case (&lc);
}

static void
test_token_slice (void)
{
  /* Batches not end to end: one GEMM per batch. */
  const LinearCase lc = { .ndim = 3,
                          .B = 3,
                          .N = 33,
                          .K = 20,
                          .N_out = 17,
                          .fuse = 2,
                          .extra_tokens = 4,
                          .y_pad = 1 };
  run_case (&lc);
}

static void
test_large (void)
{
  const LinearCase lc
      = { .ndim = 3, .B = 2, .N = 300, .K = 320, .N_out = 160, .bias = 1 };
  run_case (&lc);
}

static void
expect_invalid (const LfTensor *x,
                const LfTensor *w,
                const LfTensor *b,
                LfTensor       *y)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);

  ops->linear (ops, x, w, b, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "linear"));
  g_test_message ("%s", ops->message);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float   *buf = lf_test_alloc_f32 (4096);
  LfTensor x = lf_tensor_3d (buf, LF_DTYPE_F32, 2, 5, 8);
  LfTensor w_bad = lf_tensor_2d (buf, LF_DTYPE_F32, 6, 7);
  LfTensor w = lf_tensor_2d (buf, LF_DTYPE_F32, 6, 8);
  LfTensor b_bad = lf_tensor_1d (buf, LF_DTYPE_F32, 5);
  LfTensor y = lf_tensor_3d (buf + 2048, LF_DTYPE_F32, 2, 5, 6);
  LfTensor y_bad = lf_tensor_3d (buf + 2048, LF_DTYPE_F32, 2, 4, 6);

  expect_invalid (&x, &w_bad, NULL, &y);
  expect_invalid (&x, &w, &b_bad, &y);
  expect_invalid (&x, &w, NULL, &y_bad);
  g_free (buf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/linear/odd", test_odd);
  g_test_add_func ("/ops/linear/batched", test_batched);
  g_test_add_func ("/ops/linear/fused-rows", test_fused_rows);
  g_test_add_func ("/ops/linear/token-slice", test_token_slice);
  g_test_add_func ("/ops/linear/large", test_large);
  g_test_add_func ("/ops/linear/bad-shape", test_bad_shape);
  return g_test_run ();
}
