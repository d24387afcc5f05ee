/* attention.c: softmax attention on the CPU, flash-style: for each (batch,
 * head, block of queries) the keys are visited in blocks with an online
 * softmax (running max and sum per query, earlier partial outputs rescaled),
 * so no (Nq, Nk) score matrix exists. Mirrors diffusers Attention with
 * head_to_batch_dim and CLIP's causal mask; the blocks' GEMMs are
 * single-threaded cblas_sgemm calls inside one OpenMP region.
 */
#include "cpu-ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "cpu-blas.h"

#define ATTN_BLOCK_Q 64
#define ATTN_BLOCK_K 256

typedef struct
{
  LfCpuMat q, k, v, y;
  int64_t  heads, D, Dv;
  int64_t  bq, bk; /* block sizes */
  int64_t  n_qblocks;
  float    scale;
  int      causal;
} AttnGeom;

/* One thread's buffers, carved out of its slice of ops->scratch. */
typedef struct
{
  float *s;     /* (bq, bk) scores, then probabilities */
  float *o;     /* (bq, Dv) unnormalised output */
  float *m, *l; /* (bq) running max and sum */
} AttnBuf;

static int
attn_check (LfOps          *ops,
            const LfTensor *q,
            const LfTensor *k,
            const LfTensor *v,
            int             heads,
            LfTensor       *y,
            AttnGeom       *g)
{
  if (!lf_cpu_mat (ops, "attention", "q", q, &g->q)
      || !lf_cpu_mat (ops, "attention", "k", k, &g->k)
      || !lf_cpu_mat (ops, "attention", "v", v, &g->v)
      || !lf_cpu_mat (ops, "attention", "y", y, &g->y))
    return 0;
  if (heads < 1 || g->q.cols % heads != 0 || g->v.cols % heads != 0
      || g->q.cols == 0 || g->v.cols == 0)
    return lf_cpu_invalid (
        ops, "attention", "heads must divide the channels of q and v, q is", q);
  if (g->k.cols != g->q.cols || g->k.batch != g->q.batch || g->k.rows < 1)
    return lf_cpu_invalid (ops, "attention",
                           "k must be (B, Nk >= 1, H*D) like q, got", k);
  if (g->v.batch != g->q.batch || g->v.rows != g->k.rows)
    return lf_cpu_invalid (ops, "attention", "v must be (B, Nk, H*Dv), got", v);
  if (g->y.batch != g->q.batch || g->y.rows != g->q.rows
      || g->y.cols != g->v.cols || (g->y.batch > 1 && g->y.batch_stride == 0))
    return lf_cpu_invalid (ops, "attention", "y must be (B, Nq, H*Dv), got", y);
  g->heads = heads;
  g->D = g->q.cols / heads;
  g->Dv = g->v.cols / heads;
  return 1;
}

static int64_t
attn_buf_floats (int64_t bq, int64_t bk, int64_t Dv)
{
  return bq * bk + bq * Dv + 2 * bq;
}

/* Largest blocks (up to the defaults) whose buffers fit one thread's slice
 * of scratch. */
static int
attn_plan (LfOps *ops, AttnGeom *g)
{
  const int64_t slice = lf_cpu_scratch_slice_floats (ops, ops->n_threads);

  g->bq = ATTN_BLOCK_Q;
  g->bk = ATTN_BLOCK_K;
  while (attn_buf_floats (g->bq, g->bk, g->Dv) > slice)
    {
      if (g->bk > 16)
        g->bk /= 2;
      else if (g->bq > 1)
        g->bq /= 2;
      else if (g->bk > 1)
        g->bk /= 2;
      else
        {
          lf_ops_fail (ops, LF_STATUS_NO_SCRATCH,
                       "attention: %d threads need %lld bytes of scratch "
                       "each (Dv = %lld), %zu given in all",
                       ops->n_threads,
                       (long long)(attn_buf_floats (1, 1, g->Dv) * 4 + 64),
                       (long long)g->Dv, ops->scratch_bytes);
          return 0;
        }
    }
  g->n_qblocks = (g->q.rows + g->bq - 1) / g->bq;
  return 1;
}

/* Σ x with 8 interleaved partial sums, which the compiler keeps in vector
 * registers (one running sum would be a chain of dependent adds). */
static float
attn_sum (const float *x, int64_t n)
{
  float   part[8] = { 0 }, sum = 0.0f;
  int64_t j = 0;

  for (; j + 8 <= n; j += 8)
    for (int t = 0; t < 8; t++)
      part[t] += x[j + t];
  for (; j < n; j++)
    sum += x[j];
  for (int t = 0; t < 8; t++)
    sum += part[t];
  return sum;
}

/* Online softmax over one block of scores: rows of s become probabilities
 * against the updated running max, o and l are rescaled to it. */
static void
attn_softmax_block (const AttnGeom *g,
                    AttnBuf        *buf,
                    int64_t         nq,
                    int64_t         nk,
                    int64_t         i0,
                    int64_t         j0)
{
  for (int64_t i = 0; i < nq; i++)
    {
      float  *row = buf->s + i * g->bk;
      int64_t lim = nk;
      float   mx = -INFINITY, sum = 0.0f, corr;

      /* Causal: query i0 + i sees keys up to itself. */
      if (g->causal && i0 + i - j0 + 1 < lim)
        lim = i0 + i - j0 + 1 > 0 ? i0 + i - j0 + 1 : 0;
      for (int64_t j = 0; j < lim; j++)
        mx = row[j] > mx ? row[j] : mx;
      mx = mx > buf->m[i] ? mx : buf->m[i];
      corr = buf->m[i] == -INFINITY ? 0.0f : expf (buf->m[i] - mx);
      for (int64_t j = 0; j < lim; j++)
        row[j] = expf (row[j] - mx);
      sum = attn_sum (row, lim);
      for (int64_t j = lim; j < nk; j++)
        row[j] = 0.0f;
      if (corr != 1.0f)
        for (int64_t c = 0; c < g->Dv; c++)
          buf->o[i * g->Dv + c] *= corr;
      buf->l[i] = buf->l[i] * corr + sum;
      buf->m[i] = mx;
    }
}

static void
attn_qblock (const AttnGeom *g, AttnBuf *buf, int64_t task)
{
  const int64_t b = task / (g->heads * g->n_qblocks);
  const int64_t h = task / g->n_qblocks % g->heads;
  const int64_t i0 = task % g->n_qblocks * g->bq;
  const int64_t nq = i0 + g->bq <= g->q.rows ? g->bq : g->q.rows - i0;
  const float *qp = g->q.data + b * g->q.batch_stride + i0 * g->q.ld + h * g->D;
  const float *kp = g->k.data + b * g->k.batch_stride + h * g->D;
  const float *vp = g->v.data + b * g->v.batch_stride + h * g->Dv;
  float  *yp = g->y.data + b * g->y.batch_stride + i0 * g->y.ld + h * g->Dv;
  int64_t kend = g->k.rows;

  if (g->causal && i0 + nq < kend)
    kend = i0 + nq;
  for (int64_t i = 0; i < nq; i++)
    buf->m[i] = -INFINITY, buf->l[i] = 0.0f;
  memset (buf->o, 0, (size_t)(nq * g->Dv) * sizeof (float));
  for (int64_t j0 = 0; j0 < kend; j0 += g->bk)
    {
      const int64_t nk = j0 + g->bk <= kend ? g->bk : kend - j0;

      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nk,
                   (int)g->D, g->scale, qp, (int)g->q.ld, kp + j0 * g->k.ld,
                   (int)g->k.ld, 0.0f, buf->s, (int)g->bk);
      attn_softmax_block (g, buf, nq, nk, i0, j0);
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nq,
                   (int)g->Dv, (int)nk, 1.0f, buf->s, (int)g->bk,
                   vp + j0 * g->v.ld, (int)g->v.ld, 1.0f, buf->o, (int)g->Dv);
    }
  for (int64_t i = 0; i < nq; i++)
    {
      const float inv = 1.0f / buf->l[i];

      for (int64_t c = 0; c < g->Dv; c++)
        yp[i * g->y.ld + c] = buf->o[i * g->Dv + c] * inv;
    }
}

void
lf_cpu_attention (LfOps          *ops,
                  const LfTensor *q,
                  const LfTensor *k,
                  const LfTensor *v,
                  int             heads,
                  float           scale,
                  int             causal,
                  LfTensor       *y)
{
  AttnGeom g = { .scale = scale, .causal = causal };
  int64_t  n_tasks, slice;

  if (!attn_check (ops, q, k, v, heads, y, &g) || !attn_plan (ops, &g))
    return;
  n_tasks = g.q.batch * g.heads * g.n_qblocks;
  slice = lf_cpu_scratch_slice_floats (ops, ops->n_threads);
#pragma omp parallel num_threads(ops->n_threads)
  {
    float  *base = (float *)ops->scratch + omp_get_thread_num () * slice;
    AttnBuf buf = { .s = base,
                    .o = base + g.bq * g.bk,
                    .m = base + g.bq * g.bk + g.bq * g.Dv,
                    .l = base + g.bq * g.bk + g.bq * g.Dv + g.bq };

#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n_tasks; t++)
      attn_qblock (&g, &buf, t);
  }
}
