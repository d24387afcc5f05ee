/* gemm.c: batched c = alpha · op(a) · op(b) + beta · c on the CPU, one
 * cblas_sgemm per batch (torch.matmul / torch.baddbmm semantics), with
 * stride-0 batch broadcasting; threads split the batch or each matrix.
 */
#include "cpu-ops.h"

#include <cblas.h>

#include "cpu-blas.h"

/* Below this many multiply-adds per matrix the batch is spread over the
 * threads (one whole sgemm each) rather than each matrix. */
#define GEMM_SMALL_MACS (96 * 96 * 96)

typedef struct
{
  LfCpuMat a, b, c;
  int      trans_a, trans_b;
  int64_t  m, n, k;
  float    alpha, beta;
} GemmCall;

static int
gemm_check (
    LfOps *ops, GemmCall *g, const LfTensor *a, const LfTensor *b, LfTensor *c)
{
  const int64_t a_rows = g->trans_a ? g->a.cols : g->a.rows;
  const int64_t a_cols = g->trans_a ? g->a.rows : g->a.cols;
  const int64_t b_rows = g->trans_b ? g->b.cols : g->b.rows;
  const int64_t b_cols = g->trans_b ? g->b.rows : g->b.cols;

  if (a_rows != g->c.rows || b_cols != g->c.cols || a_cols != b_rows)
    return lf_cpu_invalid (ops, "gemm",
                           "op(a), op(b) and c do not chain as (M, K)*(K, N) "
                           "-> (M, N); c is",
                           c);
  /* A batch of 1 (2-D, or 3-D of one matrix) broadcasts over c's batch. */
  if (g->a.batch != g->c.batch && g->a.batch != 1)
    return lf_cpu_invalid (ops, "gemm", "a's batch does not match c's:", a);
  if (g->b.batch != g->c.batch && g->b.batch != 1)
    return lf_cpu_invalid (ops, "gemm", "b's batch does not match c's:", b);
  if (g->c.batch > 1 && g->c.batch_stride == 0)
    return lf_cpu_invalid (ops, "gemm", "c may not broadcast its batch:", c);
  g->m = g->c.rows;
  g->n = g->c.cols;
  g->k = a_cols;
  return lf_cpu_blas_int_ok (g->k)
         || lf_cpu_invalid (ops, "gemm", "K too large for BLAS, a is", a);
}

/* Batch @i; with @ops the GEMM is split over its threads, without it runs
 * on the calling thread. */
static void
gemm_one (const LfOps *ops, const GemmCall *g, int64_t i)
{
  /* A 2-D operand, or a batch stride of 0, reuses matrix 0 for every i. */
  const float *a = g->a.data + (g->a.batch > 1 ? i * g->a.batch_stride : 0);
  const float *b = g->b.data + (g->b.batch > 1 ? i * g->b.batch_stride : 0);
  float       *c = g->c.data + i * g->c.batch_stride;

  if (ops != NULL)
    lf_cpu_sgemm (ops, g->trans_a, g->trans_b, g->m, g->n, g->k, g->alpha, a,
                  g->a.ld, b, g->b.ld, g->beta, c, g->c.ld);
  else
    cblas_sgemm (CblasRowMajor, g->trans_a ? CblasTrans : CblasNoTrans,
                 g->trans_b ? CblasTrans : CblasNoTrans, (int)g->m, (int)g->n,
                 (int)g->k, g->alpha, a, (int)g->a.ld, b, (int)g->b.ld, g->beta,
                 c, (int)g->c.ld);
}

void
lf_cpu_gemm (LfOps          *ops,
             const LfTensor *a,
             int             trans_a,
             const LfTensor *b,
             int             trans_b,
             float           alpha,
             float           beta,
             LfTensor       *c)
{
  GemmCall g = {
    .trans_a = trans_a, .trans_b = trans_b, .alpha = alpha, .beta = beta
  };

  if (!lf_cpu_mat (ops, "gemm", "a", a, &g.a)
      || !lf_cpu_mat (ops, "gemm", "b", b, &g.b)
      || !lf_cpu_mat (ops, "gemm", "c", c, &g.c)
      || !gemm_check (ops, &g, a, b, c))
    return;
  if (g.m == 0 || g.n == 0 || g.c.batch == 0)
    return;

  if (g.c.batch > 1 && g.m * g.n * g.k < GEMM_SMALL_MACS && ops->n_threads > 1)
    {
#pragma omp parallel for schedule(dynamic) num_threads(ops->n_threads)
      for (int64_t i = 0; i < g.c.batch; i++)
        gemm_one (NULL, &g, i);
      return;
    }
  for (int64_t i = 0; i < g.c.batch; i++)
    gemm_one (ops, &g, i);
}
