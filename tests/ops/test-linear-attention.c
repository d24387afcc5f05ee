/* test-linear-attention.c: the CPU linear_attention op (LinFusion's
 * normalised linear attention) against the double reference
 * (ref-linear-attention.c) and against upstream's quadratic form
 * Σ_j (q_i·k_j) v_j / (Σ_j q_i·k_j + N·eps): heads 1 and 8, D ≠ Dv, N not a
 * multiple of any chunk, fused q/k/v slices, little scratch, bad shapes.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

#define EPS 1e-4f /* LinFusion */

typedef struct
{
  int64_t B, N, heads, D, Dv;
  int     fused;   /* q, k, v slices of one (B, N, 3·H·D) buffer */
  size_t  scratch; /* 0: the backend's hint */
} LinAttCase;

typedef struct
{
  float   *store;
  LfTensor q, k, v;
} LinAttInputs;

static LfTensor
rows (float *store, int64_t B, int64_t N, int64_t C)
{
  return lf_tensor_3d (store, LF_DTYPE_F32, B, N, C);
}

/* q and k are φ = elu + 1 outputs, so positive; v any sign. */
static void
make_inputs (const LinAttCase *lc, LinAttInputs *in)
{
  const int64_t C = lc->heads * lc->D, Cv = lc->heads * lc->Dv;
  const int64_t nqk = lc->B * lc->N * C, nv = lc->B * lc->N * Cv;

  in->store = lf_test_alloc_f32 (2 * nqk + nv);
  if (lc->fused)
    {
      LfTensor all = rows (in->store, lc->B, lc->N, 3 * C);

      g_assert_true (lf_tensor_narrow (&all, 2, 0, C, &in->q));
      g_assert_true (lf_tensor_narrow (&all, 2, C, C, &in->k));
      g_assert_true (lf_tensor_narrow (&all, 2, 2 * C, C, &in->v));
      lf_test_fill_uniform (in->store, 3 * nqk, 0.05, 2.0);
      for (int64_t r = 0; r < lc->B * lc->N; r++)
        lf_test_fill_uniform (in->store + r * 3 * C + 2 * C, C, -1.0, 1.0);
      return;
    }
  in->q = rows (in->store, lc->B, lc->N, C);
  in->k = rows (in->store + nqk, lc->B, lc->N, C);
  in->v = rows (in->store + 2 * nqk, lc->B, lc->N, Cv);
  lf_test_fill_uniform (in->store, 2 * nqk, 0.05, 2.0);
  lf_test_fill_uniform (in->store + 2 * nqk, nv, -1.0, 1.0);
}

static void
run_with_ref (const LinAttCase *lc, const LinAttInputs *in, const double *ref)
{
  const int64_t n = lc->B * lc->N * lc->heads * lc->Dv;
  float        *ys = lf_test_alloc_f32 (n);
  LfTensor      y = rows (ys, lc->B, lc->N, lc->heads * lc->Dv);

  for (int threads = 1; threads <= 3; threads++)
    {
      LfOps *ops = lf_test_cpu_ops_new (threads, lc->scratch);
      char   what[64];

      lf_test_poison (ys, n);
      ops->linear_attention (ops, &in->q, &in->k, &in->v, lc->heads, EPS, &y);
      lf_test_assert_ops_ok (ops);
      g_snprintf (what, sizeof what, "linear_attention, %d threads", threads);
      lf_test_assert_close_scaled (what, ys, ref, n, 1e-4);
      lf_test_cpu_ops_free (ops);
    }
  g_free (ys);
}

static void
run_case (const LinAttCase *lc)
{
  const int64_t n = lc->B * lc->N * lc->heads * lc->Dv;
  double       *ref = lf_test_alloc_f64 (n);
  LinAttInputs  in;

  make_inputs (lc, &in);
  lf_ref_linear_attention (&in.q, &in.k, &in.v, lc->heads, EPS, ref);
  run_with_ref (lc, &in, ref);
  g_free (in.store), g_free (ref);
}

static void
test_heads1 (void)
{
  /* One head: pass 1 splits the tokens into parts, one per thread. */
  const LinAttCase lc = { .B = 1, .N = 1000, .heads = 1, .D = 16, .Dv = 16 };
  const LinAttCase big = { .B = 1, .N = 5003, .heads = 1, .D = 8, .Dv = 6 };
  run_case (&lc);
  run_case (&big);
}

static void
test_heads8 (void)
{
  const LinAttCase lc
      = { .B = 2, .N = 300, .heads = 8, .D = 5, .Dv = 5, .fused = 1 };
  run_case (&lc);
}

static void
test_dv (void)
{
  const LinAttCase lc = { .B = 3, .N = 257, .heads = 2, .D = 12, .Dv = 20 };
  run_case (&lc);
}

static void
test_small_scratch (void)
{
  /* Room for one head's state: the heads go one group at a time. */
  const LinAttCase lc
      = { .B = 2, .N = 700, .heads = 3, .D = 10, .Dv = 10, .scratch = 512 };
  run_case (&lc);
}

/* Upstream's form: y_i = Σ_j (q_i·k_j) v_j / (Σ_j q_i·k_j + N·eps). */
static void
quadratic_ref (const LinAttCase *lc, const LinAttInputs *in, double *y)
{
  const int64_t D = lc->D, Dv = lc->Dv, Cv = lc->heads * Dv;

  for (int64_t b = 0; b < lc->B; b++)
    for (int64_t h = 0; h < lc->heads; h++)
      for (int64_t i = 0; i < lc->N; i++)
        {
          double *row = y + (b * lc->N + i) * Cv + h * Dv, den = 0.0;

          memset (row, 0, Dv * sizeof (double));
          for (int64_t j = 0; j < lc->N; j++)
            {
              double a = 0.0;

              for (int64_t d = 0; d < D; d++)
                a += lf_ref_at3 (&in->q, b, i, h * D + d)
                     * lf_ref_at3 (&in->k, b, j, h * D + d);
              den += a;
              for (int64_t c = 0; c < Dv; c++)
                row[c] += a * lf_ref_at3 (&in->v, b, j, h * Dv + c);
            }
          for (int64_t c = 0; c < Dv; c++)
            row[c] /= den + lc->N * (double)EPS;
        }
}

static void
test_quadratic_form (void)
{
  const LinAttCase lc = { .B = 2, .N = 333, .heads = 2, .D = 8, .Dv = 8 };
  const int64_t    n = lc.B * lc.N * lc.heads * lc.Dv;
  double          *ref = lf_test_alloc_f64 (n);
  LinAttInputs     in;

  make_inputs (&lc, &in);
  quadratic_ref (&lc, &in, ref);
  run_with_ref (&lc, &in, ref);
  g_free (in.store), g_free (ref);
}

static void
expect_status (LfStatus        want,
               const LfTensor *q,
               const LfTensor *k,
               const LfTensor *v,
               int             heads,
               LfTensor       *y,
               size_t          scratch)
{
  LfOps *ops = lf_test_cpu_ops_new (2, scratch);

  ops->linear_attention (ops, q, k, v, heads, EPS, y);
  g_assert_cmpint (ops->status, ==, want);
  g_assert_nonnull (strstr (ops->message, "linear_attention"));
  g_test_message ("%s", ops->message);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float   *buf = lf_test_alloc_f32 (8192);
  LfTensor q = rows (buf, 2, 10, 12), k = rows (buf, 2, 10, 12);
  LfTensor v = rows (buf, 2, 10, 8), y = rows (buf + 4096, 2, 10, 8);
  LfTensor k_bad = rows (buf, 2, 9, 12), v_bad = rows (buf, 2, 10, 9);
  LfTensor y_bad = rows (buf + 4096, 2, 10, 4);

  expect_status (LF_STATUS_INVALID, &q, &k, &v, 5, &y, 0);
  expect_status (LF_STATUS_INVALID, &q, &k_bad, &v, 2, &y, 0);
  expect_status (LF_STATUS_INVALID, &q, &k, &v_bad, 2, &y, 0);
  expect_status (LF_STATUS_INVALID, &q, &k, &v, 2, &y_bad, 0);
  expect_status (LF_STATUS_NO_SCRATCH, &q, &k, &v, 2, &y, 64);
  g_free (buf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/linear_attention/heads1", test_heads1);
  g_test_add_func ("/ops/linear_attention/heads8", test_heads8);
  g_test_add_func ("/ops/linear_attention/d-ne-dv", test_dv);
  g_test_add_func ("/ops/linear_attention/small-scratch", test_small_scratch);
  g_test_add_func ("/ops/linear_attention/quadratic-form", test_quadratic_form);
  g_test_add_func ("/ops/linear_attention/bad-shape", test_bad_shape);
  return g_test_run ();
}
