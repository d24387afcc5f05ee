/* test-conv2d.c: the CPU conv2d op (torch.nn.functional.conv2d, zero
 * padding) against the double reference (ref-conv2d.c): kernels 1, 3 and
 * rectangular, strides 1 and 2, dilation 2, the VAE encoder's asymmetric
 * (0, 1, 0, 1) padding, bias or none, a scratch small enough to force many
 * im2col chunks, too little scratch, and bad shapes.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

typedef struct
{
  int64_t        B, C_in, C_out, H, W, KH, KW;
  LfConv2dParams p;
  int            bias;
  int64_t        scratch_rows; /* > 0: scratch for this many output rows */
} ConvCase;

static int64_t
out_size (int64_t in, int pad0, int pad1, int dil, int64_t k, int stride)
{
  return (in + pad0 + pad1 - dil * (k - 1) - 1) / stride + 1;
}

static void
run_case (const ConvCase *cc)
{
  const LfConv2dParams *p = &cc->p;
  const int64_t Ho = out_size (cc->H, p->pad_top, p->pad_bottom, p->dilation,
                               cc->KH, p->stride);
  const int64_t Wo = out_size (cc->W, p->pad_left, p->pad_right, p->dilation,
                               cc->KW, p->stride);
  const int64_t nx = cc->B * cc->C_in * cc->H * cc->W;
  const int64_t nw = cc->C_out * cc->C_in * cc->KH * cc->KW;
  const int64_t n = cc->B * cc->C_out * Ho * Wo;
  float        *xs = lf_test_alloc_f32 (nx), *ws = lf_test_alloc_f32 (nw);
  float        *bs = lf_test_alloc_f32 (cc->C_out), *ys = lf_test_alloc_f32 (n);
  double       *ref = lf_test_alloc_f64 (n);
  LfTensor x = lf_tensor_4d (xs, LF_DTYPE_F32, cc->B, cc->C_in, cc->H, cc->W);
  LfTensor w
      = lf_tensor_4d (ws, LF_DTYPE_F32, cc->C_out, cc->C_in, cc->KH, cc->KW);
  LfTensor b = lf_tensor_1d (bs, LF_DTYPE_F32, cc->C_out);
  LfTensor y = lf_tensor_4d (ys, LF_DTYPE_F32, cc->B, cc->C_out, Ho, Wo);
  size_t   scratch = 0;

  if (cc->scratch_rows > 0)
    scratch = (size_t)(cc->scratch_rows * cc->C_in * cc->KH * cc->KW * Wo)
              * sizeof (float);
  lf_test_fill_uniform (xs, nx, -1.0, 1.0);
  lf_test_fill_uniform (ws, nw, -1.0, 1.0);
  lf_test_fill_uniform (bs, cc->C_out, -1.0, 1.0);
  lf_ref_conv2d (&x, &w, cc->bias ? &b : NULL, p, Ho, Wo, ref);
  for (int threads = 1; threads <= 3; threads++)
    {
      LfOps *ops = lf_test_cpu_ops_new (threads, scratch);
      char   what[64];

      lf_test_poison (ys, n);
      ops->conv2d (ops, &x, &w, cc->bias ? &b : NULL, p, &y);
      lf_test_assert_ops_ok (ops);
      g_snprintf (what, sizeof what, "conv2d, %d threads", threads);
      lf_test_assert_close_scaled (what, ys, ref, n, 1e-4);
      lf_test_cpu_ops_free (ops);
    }
  g_free (xs), g_free (ws), g_free (bs), g_free (ys), g_free (ref);
}

static void
test_k1_s1 (void)
{
  /* The direct GEMM path (no im2col). */
  const ConvCase cc = { .B = 2,
                        .C_in = 13,
                        .C_out = 7,
                        .H = 9,
                        .W = 11,
                        .KH = 1,
                        .KW = 1,
                        .p = { .stride = 1, .dilation = 1 },
                        .bias = 1 };
  const ConvCase nb = { .B = 1,
                        .C_in = 6,
                        .C_out = 5,
                        .H = 3,
                        .W = 17,
                        .KH = 1,
                        .KW = 1,
                        .p = { .stride = 1, .dilation = 1 } };
  run_case (&cc);
  run_case (&nb);
}

static void
test_k1_s2 (void)
{
  const ConvCase cc = { .B = 2,
                        .C_in = 5,
                        .C_out = 4,
                        .H = 9,
                        .W = 10,
                        .KH = 1,
                        .KW = 1,
                        .p = { .stride = 2, .dilation = 1 },
                        .bias = 1 };
  run_case (&cc);
}

static void
test_k3_s1 (void)
{
  const ConvCase cc = { .B = 2,
                        .C_in = 5,
                        .C_out = 6,
                        .H = 10,
                        .W = 13,
                        .KH = 3,
                        .KW = 3,
                        .p = { 1, 1, 1, 1, 1, 1 },
                        .bias = 1 };
  const ConvCase nb = { .B = 1,
                        .C_in = 3,
                        .C_out = 7,
                        .H = 7,
                        .W = 5,
                        .KH = 3,
                        .KW = 3,
                        .p = { 1, 1, 0, 0, 0, 0 } };
  run_case (&cc);
  run_case (&nb);
}

static void
test_k3_s2_odd (void)
{
  /* VAE encoder downsample: F.pad (0, 1, 0, 1), then a 3×3 stride-2 conv. */
  const ConvCase cc
      = { .B = 2,
          .C_in = 4,
          .C_out = 5,
          .H = 15,
          .W = 17,
          .KH = 3,
          .KW = 3,
          .p = { .stride = 2, .dilation = 1, .pad_bottom = 1, .pad_right = 1 },
          .bias = 1 };
  const ConvCase even
      = { .B = 1,
          .C_in = 3,
          .C_out = 4,
          .H = 16,
          .W = 12,
          .KH = 3,
          .KW = 3,
          .p
          = { .stride = 2, .dilation = 1, .pad_bottom = 1, .pad_right = 1 } };
  run_case (&cc);
  run_case (&even);
}

static void
test_dilation (void)
{
  const ConvCase cc = { .B = 1,
                        .C_in = 4,
                        .C_out = 3,
                        .H = 12,
                        .W = 11,
                        .KH = 3,
                        .KW = 3,
                        .p = { 1, 2, 2, 2, 2, 2 },
                        .bias = 1 };
  const ConvCase rect = { .B = 2,
                          .C_in = 3,
                          .C_out = 5,
                          .H = 9,
                          .W = 14,
                          .KH = 2,
                          .KW = 5,
                          .p = { 2, 2, 1, 0, 2, 1 } };
  run_case (&cc);
  run_case (&rect);
}

static void
test_small_scratch (void)
{
  /* Scratch for 2 output rows: 13 chunks, the last one shorter. */
  const ConvCase cc = { .B = 2,
                        .C_in = 6,
                        .C_out = 5,
                        .H = 25,
                        .W = 19,
                        .KH = 3,
                        .KW = 3,
                        .p = { 1, 1, 1, 1, 1, 1 },
                        .bias = 1,
                        .scratch_rows = 2 };
  run_case (&cc);
}

static void
test_no_scratch (void)
{
  float               *buf = lf_test_alloc_f32 (4 * 8 * 8 * 4);
  LfTensor             x = lf_tensor_4d (buf, LF_DTYPE_F32, 1, 4, 8, 8);
  LfTensor             w = lf_tensor_4d (buf, LF_DTYPE_F32, 4, 4, 3, 3);
  LfTensor             y = lf_tensor_4d (buf + 256, LF_DTYPE_F32, 1, 4, 8, 8);
  const LfConv2dParams p = { 1, 1, 1, 1, 1, 1 };
  /* One output row needs 4·9·8 floats; give it less. */
  LfOps *ops = lf_test_cpu_ops_new (1, 4 * 9 * 8 * sizeof (float) - 64);

  lf_test_fill_uniform (buf, 4 * 8 * 8 * 4, -1.0, 1.0);
  ops->conv2d (ops, &x, &w, NULL, &p, &y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_NO_SCRATCH);
  g_assert_nonnull (strstr (ops->message, "conv2d"));
  lf_test_cpu_ops_free (ops);
  g_free (buf);
}

static void
expect_invalid (const LfTensor       *x,
                const LfTensor       *w,
                const LfTensor       *b,
                const LfConv2dParams *p,
                LfTensor             *y)
{
  LfOps *ops = lf_test_cpu_ops_new (2, 0);

  ops->conv2d (ops, x, w, b, p, y);
  g_assert_cmpint (ops->status, ==, LF_STATUS_INVALID);
  g_assert_nonnull (strstr (ops->message, "conv2d"));
  g_test_message ("%s", ops->message);
  lf_test_cpu_ops_free (ops);
}

static void
test_bad_shape (void)
{
  float   *buf = lf_test_alloc_f32 (8192);
  LfTensor x = lf_tensor_4d (buf, LF_DTYPE_F32, 1, 4, 8, 8);
  LfTensor w = lf_tensor_4d (buf, LF_DTYPE_F32, 2, 4, 3, 3);
  LfTensor w_cin = lf_tensor_4d (buf, LF_DTYPE_F32, 2, 3, 3, 3);
  LfTensor w_big = lf_tensor_4d (buf, LF_DTYPE_F32, 2, 4, 11, 3);
  LfTensor y = lf_tensor_4d (buf + 4096, LF_DTYPE_F32, 1, 2, 8, 8);
  LfTensor y_bad = lf_tensor_4d (buf + 4096, LF_DTYPE_F32, 1, 2, 6, 6);
  LfTensor b_bad = lf_tensor_1d (buf, LF_DTYPE_F32, 3);
  LfTensor x3 = lf_tensor_3d (buf, LF_DTYPE_F32, 4, 8, 8);
  const LfConv2dParams p = { 1, 1, 1, 1, 1, 1 };
  const LfConv2dParams p0 = { 0, 1, 1, 1, 1, 1 };

  expect_invalid (&x, &w_cin, NULL, &p, &y);
  expect_invalid (&x, &w_big, NULL, &p, &y);
  expect_invalid (&x, &w, NULL, &p, &y_bad);
  expect_invalid (&x, &w, &b_bad, &p, &y);
  expect_invalid (&x3, &w, NULL, &p, &y);
  expect_invalid (&x, &w, NULL, &p0, &y);
  g_free (buf);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ops/conv2d/k1-s1", test_k1_s1);
  g_test_add_func ("/ops/conv2d/k1-s2", test_k1_s2);
  g_test_add_func ("/ops/conv2d/k3-s1", test_k3_s1);
  g_test_add_func ("/ops/conv2d/k3-s2-odd", test_k3_s2_odd);
  g_test_add_func ("/ops/conv2d/dilation", test_dilation);
  g_test_add_func ("/ops/conv2d/small-scratch", test_small_scratch);
  g_test_add_func ("/ops/conv2d/no-scratch", test_no_scratch);
  g_test_add_func ("/ops/conv2d/bad-shape", test_bad_shape);
  return g_test_run ();
}
