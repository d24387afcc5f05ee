/* test-gemm.c: the CPU gemm op against the double reference (ref-gemm.c):
 * odd sizes, batches, transposes, alpha/beta, padded row strides, stride-0
 * batch broadcasting, 1 to 3 threads, and bad shapes.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

typedef struct
{
  int64_t batch, M, N, K;
  int     trans_a, trans_b;
  int     bcast_a, bcast_b; /* stride-0 batch */
  int     flat_b;           /* b 2-D beside 3-D a and c */
  int64_t pad;              /* row stride = row length + pad */
  float   alpha, beta;
} GemmCase;

/* A (batch, rows, cols) view with row stride cols + pad over fresh random
 * storage; with @bcast one matrix expanded over the batch (stride 0). */
static LfTensor
make_mat (float **store,
          int64_t batch,
          int64_t rows,
          int64_t cols,
          int64_t pad,
          int     bcast,
          int     flat)
{
  const int64_t stored = bcast || flat ? 1 : batch;
  LfTensor      full, view;

  *store = lf_test_alloc_f32 (stored * rows * (cols + pad));
  lf_test_fill_uniform (*store, stored * rows * (cols + pad), -1.0, 1.0);
  if (flat)
    full = lf_tensor_2d (*store, LF_DTYPE_F32, rows, cols + pad);
  else
    full = lf_tensor_3d (*store, LF_DTYPE_F32, stored, rows, cols + pad);
  g_assert_true (lf_tensor_narrow (&full, full.ndim - 1, 0, cols, &view));
  if (bcast)
    g_assert_true (lf_tensor_expand (&view, 0, batch, &view));
  return view;
}

static void
run_case (const GemmCase *gc)
{
  float        *as, *bs, *cs;
  LfTensor      a = make_mat (&as, gc->batch, gc->trans_a ? gc->K : gc->M,
                         gc->trans_a ? gc->M : gc->K, gc->pad, gc->bcast_a, 0);
  LfTensor      b = make_mat (&bs, gc->batch, gc->trans_b ? gc->N : gc->K,
                         gc->trans_b ? gc->K : gc->N, gc->pad, gc->bcast_b,
                              gc->flat_b);
  LfTensor      c = make_mat (&cs, gc->batch, gc->M, gc->N, gc->pad, 0, 0);
  const int64_t n = gc->batch * gc->M * gc->N;
  const int64_t n_store = gc->batch * gc->M * (gc->N + gc->pad);
  float        *c0 = g_memdup2 (cs, n_store * sizeof (float));
  float        *got = lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);

  lf_ref_gemm (&a, gc->trans_a, &b, gc->trans_b, gc->alpha, gc->beta, &c, ref);
  for (int threads = 1; threads <= 3; threads++)
    {
      LfOps *ops = lf_test_cpu_ops_new (threads, 0);
      char   what[64];

      /* beta 0 must not read c: NaN there would leak into the result. */
      if (gc->beta == 0.0f)
        lf_test_poison (cs, n_store);
      else
        memcpy (cs, c0, n_store * sizeof (float));
      ops->gemm (ops, &a, gc->trans_a, &b, gc->trans_b, gc->alpha, gc->beta,
                 &c);
      lf_test_assert_ops_ok (ops);
      lf_ref_gather3 (&c, got);
      g_snprintf (what, sizeof what, "gemm, %d threads", threads);
      lf_test_assert_close_scaled (what, got, ref, n, 1e-4);
      lf_test_cpu_ops_free (ops);
    }
  g_free (as), g_free (bs), g_free (cs), g_free (c0), g_free (got),
      g_free (ref);
}

static void
test_odd (void)
{
  const GemmCase gc = { .batch = 1, .M = 37, .N = 13, .K = 29, .alpha = 1.0f };
  run_case (&gc);
}

static void
test_trans (void)
{
  const GemmCase a
      = { .batch = 3, .M = 37, .N = 13, .K = 29, .trans_a = 1, .alpha = 0.5f };
  const GemmCase b
      = { .batch = 3, .M = 19, .N = 31, .K = 7, .trans_b = 1, .alpha = 1.0f };
  const GemmCase ab = { .batch = 2,
                        .M = 5,
                        .N = 23,
                        .K = 41,
                        .trans_a = 1,
                        .trans_b = 1,
                        .alpha = -2.0f };
  run_case (&a);
  run_case (&b);
  run_case (&ab);
}

static void
test_beta_strided (void)
{
  const GemmCase gc = { .batch = 2,
                        .M = 37,
                        .N = 13,
                        .K = 29,
                        .trans_b = 1,
                        .pad = 5,
                        .alpha = 1.5f,
                        .beta = -0.75f };
  run_case (&gc);
}

static void
test_broadcast (void)
{
  const GemmCase a = { .batch = 4,
                       .M = 11,
                       .N = 17,
                       .K = 9,
                       .bcast_a = 1,
                       .alpha = 1.0f,
                       .beta = 1.0f };
  const GemmCase b = { .batch = 5,
                       .M = 11,
                       .N = 17,
                       .K = 9,
                       .bcast_b = 1,
                       .trans_b = 1,
                       .pad = 3,
                       .alpha = 1.0f };
  const GemmCase flat
      = { .batch = 3, .M = 7, .N = 6, .K = 33, .flat_b = 1, .alpha = 1.0f };
  run_case (&a);
  run_case (&b);
  run_case (&flat);
}

static void
test_large (void)
{
  /* Above the small-matrix threshold: OpenBLAS threads, not OpenMP. */
  const GemmCase gc = { .batch = 2,
                        .M = 130,
                        .N = 97,
                        .K = 200,
                        .trans_a = 1,
                        .pad = 1,
                        .alpha = 1.0f,
                        .beta = 0.5f };
  run_case (&gc);
}

static void
expect_invalid (const LfTensor *a, const LfTensor *b, LfTensor *c)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);

  ops->gemm (ops, a, 0, b, 0, 1.0f, 0.0f, c);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "gemm"));
  g_test_message ("%s", ops->message);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float   *buf = lf_test_alloc_f32 (4096);
  LfTensor a = lf_tensor_2d (buf, LF_DTYPE_F32, 8, 5);
  LfTensor b = lf_tensor_2d (buf, LF_DTYPE_F32, 6, 7); /* K 5 ≠ 6 */
  LfTensor c = lf_tensor_2d (buf + 1024, LF_DTYPE_F32, 8, 7);
  LfTensor b3 = lf_tensor_3d (buf, LF_DTYPE_F32, 2, 5, 7);
  LfTensor c3 = lf_tensor_3d (buf + 1024, LF_DTYPE_F32, 3, 8, 7);
  LfTensor a4 = lf_tensor_4d (buf, LF_DTYPE_F32, 1, 1, 8, 5);
  LfTensor b_ok = lf_tensor_2d (buf, LF_DTYPE_F32, 5, 7), a16 = a, a_col;

  expect_invalid (&a, &b, &c);
  expect_invalid (&a, &b3, &c3); /* batch 2 against 3 */
  expect_invalid (&a4, &b_ok, &c);
  a16.dtype = LF_DTYPE_F16;
  expect_invalid (&a16, &b_ok, &c);
  g_assert_true (lf_tensor_narrow (&a, 1, 0, 5, &a_col));
  a_col.stride[1] = 2; /* last dimension not contiguous */
  expect_invalid (&a_col, &b_ok, &c);
  g_free (buf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/gemm/odd", test_odd);
  g_test_add_func ("/ops/gemm/trans", test_trans);
  g_test_add_func ("/ops/gemm/beta-strided", test_beta_strided);
  g_test_add_func ("/ops/gemm/broadcast", test_broadcast);
  g_test_add_func ("/ops/gemm/large", test_large);
  g_test_add_func ("/ops/gemm/bad-shape", test_bad_shape);
  return g_test_run ();
}
