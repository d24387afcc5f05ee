/* test-attention.c: the CPU blockwise softmax attention against the double
 * reference (ref-attention.c): Nq ≠ Nk, cross-attention to 77 tokens, the
 * causal mask, several heads, D ≠ Dv, q/k/v sliced out of one fused
 * projection, sizes that are not multiples of the blocks, sharp scores
 * that exercise the online max, a scratch that forces tiny blocks, 1 to 3
 * threads, and bad shapes.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

typedef struct
{
  int64_t B, Nq, Nk, heads, D, Dv;
  int     causal;
  double  range;   /* inputs uniform in [−range, range]; 0: 1 */
  float   scale;   /* 0: 1/√D */
  int     fused;   /* q, k, v slices of one (B, N, 3·H·D) buffer */
  size_t  scratch; /* 0: the backend's hint */
} AttnCase;

static LfTensor
rows (float *store, int64_t B, int64_t N, int64_t C)
{
  return lf_tensor_3d (store, LF_DTYPE_F32, B, N, C);
}

/* q, k, v over fresh storage: separate tensors, or channel slices of one
 * fused buffer (then Nq = Nk and Dv = D). */
static float *
make_inputs (const AttnCase *ac, LfTensor *q, LfTensor *k, LfTensor *v)
{
  const int64_t C = ac->heads * ac->D, Cv = ac->heads * ac->Dv;
  const double  r = ac->range > 0 ? ac->range : 1.0;
  int64_t       n;
  float        *s;

  if (ac->fused)
    {
      LfTensor all;

      n = ac->B * ac->Nq * 3 * C;
      s = lf_test_alloc_f32 (n);
      all = rows (s, ac->B, ac->Nq, 3 * C);
      g_assert_true (lf_tensor_narrow (&all, 2, 0, C, q));
      g_assert_true (lf_tensor_narrow (&all, 2, C, C, k));
      g_assert_true (lf_tensor_narrow (&all, 2, 2 * C, C, v));
    }
  else
    {
      n = ac->B * (ac->Nq * C + ac->Nk * C + ac->Nk * Cv);
      s = lf_test_alloc_f32 (n);
      *q = rows (s, ac->B, ac->Nq, C);
      *k = rows (s + ac->B * ac->Nq * C, ac->B, ac->Nk, C);
      *v = rows (s + ac->B * (ac->Nq + ac->Nk) * C, ac->B, ac->Nk, Cv);
    }
  lf_test_fill_uniform (s, n, -r, r);
  return s;
}

static void
run_case (const AttnCase *ac)
{
  const int64_t n = ac->B * ac->Nq * ac->heads * ac->Dv;
  const float   scale = ac->scale != 0.0f ? ac->scale : 1.0f / sqrtf (ac->D);
  LfTensor      q, k, v;
  float        *in = make_inputs (ac, &q, &k, &v);
  float        *ys = lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfTensor      y = rows (ys, ac->B, ac->Nq, ac->heads * ac->Dv);

  lf_ref_attention (&q, &k, &v, ac->heads, scale, ac->causal, ref);
  for (int threads = 1; threads <= 3; threads++)
    {
      LfOps *ops = lf_test_cpu_ops_new (threads, ac->scratch * threads);
      char   what[64];

      lf_test_poison (ys, n);
      ops->attention (ops, &q, &k, &v, ac->heads, scale, ac->causal, &y);
      lf_test_assert_ops_ok (ops);
      g_snprintf (what, sizeof what, "attention, %d threads", threads);
      lf_test_assert_close_scaled (what, ys, ref, n, 1e-4);
      lf_test_cpu_ops_free (ops);
    }
  g_free (in), g_free (ys), g_free (ref);
}

static void
test_self (void)
{
  const AttnCase ac
      = { .B = 2, .Nq = 37, .Nk = 53, .heads = 3, .D = 8, .Dv = 8 };
  run_case (&ac);
}

static void
test_cross77 (void)
{
  const AttnCase ac
      = { .B = 2, .Nq = 100, .Nk = 77, .heads = 2, .D = 40, .Dv = 40 };
  run_case (&ac);
}

static void
test_causal (void)
{
  /* CLIP: 77 tokens, causal; then Nq ≠ Nk across several key blocks. */
  const AttnCase clip = {
    .B = 2, .Nq = 77, .Nk = 77, .heads = 4, .D = 16, .Dv = 16, .causal = 1
  };
  const AttnCase wide = {
    .B = 1, .Nq = 300, .Nk = 530, .heads = 2, .D = 8, .Dv = 12, .causal = 1
  };
  const AttnCase tall = {
    .B = 1, .Nq = 90, .Nk = 40, .heads = 1, .D = 8, .Dv = 8, .causal = 1
  };
  run_case (&clip);
  run_case (&wide);
  run_case (&tall);
}

static void
test_head_dims (void)
{
  const AttnCase dv
      = { .B = 1, .Nq = 29, .Nk = 31, .heads = 2, .D = 12, .Dv = 20 };
  const AttnCase d80
      = { .B = 1, .Nq = 70, .Nk = 77, .heads = 2, .D = 80, .Dv = 80 };
  const AttnCase d160
      = { .B = 2, .Nq = 65, .Nk = 77, .heads = 1, .D = 160, .Dv = 160 };
  const AttnCase vae
      = { .B = 1, .Nq = 130, .Nk = 130, .heads = 1, .D = 512, .Dv = 512 };
  run_case (&dv);
  run_case (&d80);
  run_case (&d160);
  run_case (&vae);
}

static void
test_fused (void)
{
  const AttnCase ac = {
    .B = 2, .Nq = 150, .Nk = 150, .heads = 8, .D = 5, .Dv = 5, .fused = 1
  };
  run_case (&ac);
}

static void
test_many_blocks (void)
{
  /* Sharp scores: the running max moves between key blocks. */
  const AttnCase ac = { .B = 2,
                        .Nq = 300,
                        .Nk = 600,
                        .heads = 2,
                        .D = 40,
                        .Dv = 40,
                        .range = 2.0,
                        .scale = 1.0f };
  run_case (&ac);
}

static void
test_small_scratch (void)
{
  /* 4 KiB per thread: blocks of a few queries by 16 keys. */
  const AttnCase ac = { .B = 1,
                        .Nq = 45,
                        .Nk = 100,
                        .heads = 2,
                        .D = 24,
                        .Dv = 24,
                        .causal = 1,
                        .range = 2.0,
                        .scratch = 4096 };
  run_case (&ac);
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

  ops->attention (ops, q, k, v, heads, 1.0f, 0, y);
  g_assert_cmpint (ops->status, ==, want);
  g_assert_nonnull (strstr (ops->message, "attention"));
  g_test_message ("%s", ops->message);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float   *buf = lf_test_alloc_f32 (8192);
  LfTensor q = rows (buf, 2, 10, 12), k = rows (buf, 2, 7, 12);
  LfTensor v = rows (buf, 2, 7, 8), y = rows (buf + 4096, 2, 10, 8);
  LfTensor k_bad = rows (buf, 2, 7, 10), v_bad = rows (buf, 2, 6, 8);
  LfTensor y_bad = rows (buf + 4096, 1, 10, 8);

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
  g_test_add_func ("/ops/attention/self", test_self);
  g_test_add_func ("/ops/attention/cross77", test_cross77);
  g_test_add_func ("/ops/attention/causal", test_causal);
  g_test_add_func ("/ops/attention/head-dims", test_head_dims);
  g_test_add_func ("/ops/attention/fused", test_fused);
  g_test_add_func ("/ops/attention/many-blocks", test_many_blocks);
  g_test_add_func ("/ops/attention/small-scratch", test_small_scratch);
  g_test_add_func ("/ops/attention/bad-shape", test_bad_shape);
  return g_test_run ();
}
