/* bench-ops.c: validate, then time the GEMM-shaped CPU ops on SD-1.5 shapes
 * at 512² (karpathy/llm.c dev/cuda/layernorm_forward.cu style): each op is
 * first checked against its double reference on a small case, then timed
 * (median of repeats after warm-up). Tab-separated output; LF_THREADS sets
 * threads.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "lf-test.h"
#include "ref-gemm-ops.h"

typedef enum
{
  OP_GEMM,
  OP_LINEAR,
  OP_CONV2D,
  OP_ATTENTION,
  OP_LINEAR_ATTENTION,
} BenchOp;

static const char *const op_names[]
    = { "gemm", "linear", "conv2d", "attention", "linear_attention" };

/* One case: the op and its sizes. gemm: (M, N, K); linear: (B·N, N_out, K);
 * conv2d: B, C_in → C_out, H×W, KH×KW; attention: B, Nq, Nk, heads, D. */
typedef struct
{
  BenchOp     op;
  const char *shape_name;
  int64_t     B, M, N, K, C_in, C_out, H, W, KH, heads, D;
} BenchCase;

/* Tensors of one case over one allocation. */
typedef struct
{
  float         *store;
  LfTensor       a, b, c, w, bias, y;
  LfConv2dParams p;
  int64_t        n_out;
} BenchData;

static GRand *rng;

static float *
alloc_random (int64_t n)
{
  float *x = lf_test_alloc_f32 (n);

  for (int64_t i = 0; i < n; i++)
    x[i] = (float)g_rand_double_range (rng, 0.05, 1.0);
  return x;
}

static void
setup (const BenchCase *bc, BenchData *d)
{
  const int64_t B = bc->B, C = bc->heads * bc->D;
  int64_t       na, nb, nc;
  float        *s;

  switch (bc->op)
    {
    case OP_GEMM:
    case OP_LINEAR:
      na = bc->M * bc->K, nb = bc->N * bc->K, nc = bc->M * bc->N;
      break;
    case OP_CONV2D:
      na = B * bc->C_in * bc->H * bc->W;
      nb = bc->C_out * bc->C_in * bc->KH * bc->KH;
      nc = B * bc->C_out * bc->H * bc->W;
      break;
    default:
      na = B * bc->M * C, nb = B * bc->N * C, nc = B * bc->M * C;
      break;
    }
  s = d->store = alloc_random (na + 2 * nb + nc + bc->N + bc->C_out);
  d->n_out = nc;
  d->p = (LfConv2dParams){
    1, 1, bc->KH / 2, bc->KH / 2, bc->KH / 2, bc->KH / 2
  };
  switch (bc->op)
    {
    case OP_GEMM:
    case OP_LINEAR:
      d->a = lf_tensor_2d (s, LF_DTYPE_F32, bc->M, bc->K);
      d->w = lf_tensor_2d (s + na, LF_DTYPE_F32, bc->N, bc->K);
      d->b = lf_tensor_2d (s + na, LF_DTYPE_F32, bc->K, bc->N);
      d->bias = lf_tensor_1d (s + na + 2 * nb + nc, LF_DTYPE_F32, bc->N);
      d->y = lf_tensor_2d (s + na + 2 * nb, LF_DTYPE_F32, bc->M, bc->N);
      break;
    case OP_CONV2D:
      d->a = lf_tensor_4d (s, LF_DTYPE_F32, B, bc->C_in, bc->H, bc->W);
      d->w = lf_tensor_4d (s + na, LF_DTYPE_F32, bc->C_out, bc->C_in, bc->KH,
                           bc->KH);
      d->bias = lf_tensor_1d (s + na + 2 * nb + nc, LF_DTYPE_F32, bc->C_out);
      d->y = lf_tensor_4d (s + na + 2 * nb, LF_DTYPE_F32, B, bc->C_out, bc->H,
                           bc->W);
      break;
    default:
      d->a = lf_tensor_3d (s, LF_DTYPE_F32, B, bc->M, C);
      d->b = lf_tensor_3d (s + na, LF_DTYPE_F32, B, bc->N, C);
      d->c = lf_tensor_3d (s + na + nb, LF_DTYPE_F32, B, bc->N, C);
      d->y = lf_tensor_3d (s + na + 2 * nb, LF_DTYPE_F32, B, bc->M, C);
      break;
    }
}

static void
run (LfOps *ops, const BenchCase *bc, BenchData *d)
{
  switch (bc->op)
    {
    case OP_GEMM:
      ops->gemm (ops, &d->a, 0, &d->b, 0, 1.0f, 0.0f, &d->y);
      break;
    case OP_LINEAR:
      ops->linear (ops, &d->a, &d->w, &d->bias, &d->y);
      break;
    case OP_CONV2D:
      ops->conv2d (ops, &d->a, &d->w, &d->bias, &d->p, &d->y);
      break;
    case OP_ATTENTION:
      ops->attention (ops, &d->a, &d->b, &d->c, (int)bc->heads,
                      1.0f / sqrtf ((float)bc->D), 0, &d->y);
      break;
    case OP_LINEAR_ATTENTION:
      ops->linear_attention (ops, &d->a, &d->b, &d->c, (int)bc->heads, 1e-4f,
                             &d->y);
      break;
    }
}

static void
reference (const BenchCase *bc, BenchData *d, double *ref)
{
  switch (bc->op)
    {
    case OP_GEMM:
      lf_ref_gemm (&d->a, 0, &d->b, 0, 1.0f, 0.0f, &d->y, ref);
      break;
    case OP_LINEAR:
      lf_ref_linear (&d->a, &d->w, &d->bias, ref);
      break;
    case OP_CONV2D:
      lf_ref_conv2d (&d->a, &d->w, &d->bias, &d->p, bc->H, bc->W, ref);
      break;
    case OP_ATTENTION:
      lf_ref_attention (&d->a, &d->b, &d->c, (int)bc->heads,
                        1.0f / sqrtf ((float)bc->D), 0, ref);
      break;
    case OP_LINEAR_ATTENTION:
      lf_ref_linear_attention (&d->a, &d->b, &d->c, (int)bc->heads, 1e-4f, ref);
      break;
    }
}

static double
flops (const BenchCase *bc)
{
  const double BH = (double)bc->B * bc->heads;

  switch (bc->op)
    {
    case OP_GEMM:
    case OP_LINEAR:
      return 2.0 * bc->M * bc->N * bc->K;
    case OP_CONV2D:
      return 2.0 * bc->B * bc->C_out * bc->H * bc->W * bc->C_in * bc->KH
             * bc->KH;
    case OP_ATTENTION:
      return 4.0 * BH * bc->M * bc->N * bc->D;
    case OP_LINEAR_ATTENTION:
      return 4.0 * BH * bc->M * bc->D * bc->D;
    }
  return 0.0;
}

/* Exits non-zero when the op disagrees with its reference. */
static void
validate (LfOps *ops, const BenchCase *bc)
{
  BenchData d;
  double   *ref;
  double    scale, err = 0.0;

  setup (bc, &d);
  ref = lf_test_alloc_f64 (d.n_out);
  reference (bc, &d, ref);
  run (ops, bc, &d);
  scale = lf_test_max_abs (ref, d.n_out);
  for (int64_t i = 0; i < d.n_out; i++)
    err = MAX (err, fabs (((float *)d.y.data)[i] - ref[i]));
  if (ops->status != LF_STATUS_OK || !(err <= 1e-4 * scale))
    {
      fprintf (stderr, "%s (%s): max abs error %.3g of max |ref| %.3g; %s\n",
               op_names[bc->op], bc->shape_name, err, scale, ops->message);
      exit (1);
    }
  g_free (ref), g_free (d.store);
}

static int
cmp_double (const void *a, const void *b)
{
  const double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* Median of repeats after one warm-up: at least 3 runs, more while under a
 * second in all, at most 15. */
static void
time_case (LfOps *ops, const BenchCase *bc, int threads)
{
  BenchData d;
  double    ms[15], total = 0.0, median;
  int       n = 0;

  setup (bc, &d);
  run (ops, bc, &d);
  while (n < 15 && (n < 3 || total < 1000.0))
    {
      const gint64 t0 = g_get_monotonic_time ();

      run (ops, bc, &d);
      ms[n] = (g_get_monotonic_time () - t0) / 1000.0;
      total += ms[n++];
    }
  if (ops->status != LF_STATUS_OK)
    {
      fprintf (stderr, "%s (%s): %s\n", op_names[bc->op], bc->shape_name,
               ops->message);
      exit (1);
    }
  qsort (ms, n, sizeof *ms, cmp_double);
  median = n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  printf ("%s\t%s\t%d\t%.3f\t%.1f\n", op_names[bc->op], bc->shape_name, threads,
          median, flops (bc) / (median * 1e6));
  fflush (stdout);
  g_free (d.store);
}

/* clang-format off */
static const BenchCase checks[] = {
  { OP_GEMM,   "check", .M = 37, .N = 13, .K = 29 },
  { OP_LINEAR, "check", .M = 70, .N = 24, .K = 33 },
  { OP_CONV2D, "check", .B = 2, .C_in = 5, .C_out = 7, .H = 11, .W = 9, .KH = 3 },
  { OP_ATTENTION, "check", .B = 2, .M = 100, .N = 100, .heads = 2, .D = 40 },
  { OP_LINEAR_ATTENTION, "check", .B = 2, .M = 300, .N = 300, .heads = 8,
    .D = 40 },
};

/* SD-1.5 at 512²: 64×64 latent, 4096 tokens at the first level. */
static const BenchCase cases[] = {
  { OP_GEMM, "openblas.square2048", .M = 2048, .N = 2048, .K = 2048 },
  { OP_GEMM, "openblas.4096x1280x320", .M = 4096, .N = 1280, .K = 320 },
  { OP_LINEAR, "unet.down0.to_q@512", .M = 2 * 4096, .N = 320, .K = 320 },
  { OP_CONV2D, "unet.down0.conv3x3@512", .B = 1, .C_in = 320, .C_out = 320,
    .H = 64, .W = 64, .KH = 3 },
  { OP_CONV2D, "unet.mid.conv3x3@512", .B = 1, .C_in = 1280, .C_out = 1280,
    .H = 8, .W = 8, .KH = 3 },
  { OP_CONV2D, "unet.down0.conv1x1@512", .B = 1, .C_in = 320, .C_out = 320,
    .H = 64, .W = 64, .KH = 1 },
  { OP_LINEAR_ATTENTION, "unet.down0.attn1@512", .B = 2, .M = 4096,
    .N = 4096, .heads = 8, .D = 40 },
  { OP_ATTENTION, "unet.down0.attn1@512", .B = 2, .M = 4096, .N = 4096,
    .heads = 8, .D = 40 },
  { OP_ATTENTION, "unet.down0.attn2@512", .B = 2, .M = 4096, .N = 77,
    .heads = 8, .D = 40 },
  { OP_ATTENTION, "vae.mid.attn@512", .B = 1, .M = 4096, .N = 4096,
    .heads = 1, .D = 512 },
};
/* clang-format on */

int
main (void)
{
  const char *env = g_getenv ("LF_THREADS");
  const int   threads = env != NULL && atoi (env) > 0 ? atoi (env) : 2;
  LfOps      *ops = lf_test_cpu_ops_new (threads, 0);

  rng = g_rand_new_with_seed (20240917);
  for (size_t i = 0; i < G_N_ELEMENTS (checks); i++)
    validate (ops, &checks[i]);
  printf ("op\tshape_name\tthreads\tmedian_ms\tGFLOP/s\n");
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    time_case (ops, &cases[i], threads);
  lf_test_cpu_ops_free (ops);
  g_rand_free (rng);
  return 0;
}
