/* linear-attention.c: LinFusion's normalised linear attention on the CPU
 * (LinFusion src/attention.py GeneralizedLinearAttention, φ already applied).
 * Pass 1: S = Kᵀ V / N and k̄ per (batch, head), token rows split into parts
 * summed afterwards, so every thread has work even with one head. Pass 2:
 * y = Q · S (one sgemm per block of rows) scaled per row by
 * 1 / (q · k̄ + eps). Scratch holds the states only, never anything of N.
 */
#include "cpu-ops.h"

#include <cblas.h>
#include <string.h>

#include "cpu-blas.h"

#define LINATT_MIN_PART_ROWS 512 /* rows per pass-1 part, at least */
#define LINATT_KSUM_ROWS     256 /* k̄ partial sums, to bound f32 rounding */
#define LINATT_Y_ROWS        256 /* rows per pass-2 task */

typedef struct
{
  LfCpuMat q, k, v, y;
  int64_t  heads, D, Dv, N, BH;
  int64_t  parts; /* pass-1 parts per (batch, head) */
  int64_t  group; /* (batch, head) pairs whose states fit scratch */
  float    eps;
} LinAttGeom;

static int
linatt_check (LfOps          *ops,
              const LfTensor *q,
              const LfTensor *k,
              const LfTensor *v,
              int             heads,
              LfTensor       *y,
              LinAttGeom     *g)
{
  const char *op = "linear_attention";

  if (!lf_cpu_mat (ops, op, "q", q, &g->q)
      || !lf_cpu_mat (ops, op, "k", k, &g->k)
      || !lf_cpu_mat (ops, op, "v", v, &g->v)
      || !lf_cpu_mat (ops, op, "y", y, &g->y))
    return 0;
  if (heads < 1 || g->q.cols % heads != 0 || g->v.cols % heads != 0
      || g->q.cols == 0 || g->v.cols == 0 || g->q.rows < 1)
    return lf_cpu_invalid (ops, op,
                           "heads must divide the channels of q and v, and "
                           "N >= 1; q is",
                           q);
  if (g->k.batch != g->q.batch || g->k.rows != g->q.rows
      || g->k.cols != g->q.cols)
    return lf_cpu_invalid (ops, op, "k must have q's shape, got", k);
  if (g->v.batch != g->q.batch || g->v.rows != g->q.rows)
    return lf_cpu_invalid (ops, op, "v must be (B, N, H*Dv), got", v);
  if (g->y.batch != g->q.batch || g->y.rows != g->q.rows
      || g->y.cols != g->v.cols || (g->y.batch > 1 && g->y.batch_stride == 0))
    return lf_cpu_invalid (ops, op, "y must be (B, N, H*Dv), got", y);
  g->heads = heads;
  g->D = g->q.cols / heads;
  g->Dv = g->v.cols / heads;
  g->N = g->q.rows;
  g->BH = g->q.batch * heads;
  return 1;
}

/* One part's state: S (D, Dv), then k̄ (D), then a k̄ block sum (D). */
static int64_t
linatt_state_floats (const LinAttGeom *g)
{
  return g->D * g->Dv + 2 * g->D;
}

static int
linatt_plan (LfOps *ops, LinAttGeom *g)
{
  const int64_t avail = lf_cpu_scratch_slice_floats (ops, 1);
  const int64_t state = linatt_state_floats (g);
  int64_t       parts = (ops->n_threads + g->BH - 1) / g->BH;
  const int64_t max_par
      = (g->N + LINATT_MIN_PART_ROWS - 1) / LINATT_MIN_PART_ROWS;

  parts = parts < max_par ? parts : max_par;
  while (parts > 1 && avail < parts * state)
    parts--;
  g->parts = parts;
  g->group = avail / (parts * state);
  if (g->group > g->BH)
    g->group = g->BH;
  if (g->group < 1)
    {
      lf_ops_fail (ops, LF_STATUS_NO_SCRATCH,
                   "linear_attention: the state of one head (D = %lld, "
                   "Dv = %lld) needs %lld bytes of scratch, %zu given",
                   (long long)g->D, (long long)g->Dv,
                   (long long)(state * (int64_t)sizeof (float)),
                   ops->scratch_bytes);
      return 0;
    }
  return 1;
}

/* Unnormalised KᵀV and Σ k over rows [r0, r1) of (batch, head) @bh. */
static void
linatt_part (
    const LinAttGeom *g, int64_t bh, int64_t r0, int64_t r1, float *state)
{
  const int64_t b = bh / g->heads, h = bh % g->heads;
  const float  *kp = g->k.data + b * g->k.batch_stride + h * g->D;
  const float  *vp = g->v.data + b * g->v.batch_stride + h * g->Dv;
  float        *ksum = state + g->D * g->Dv, *kblk = ksum + g->D;

  memset (ksum, 0, (size_t)g->D * sizeof (float));
  if (r1 <= r0)
    {
      memset (state, 0, (size_t)(g->D * g->Dv) * sizeof (float));
      return;
    }
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->D, (int)g->Dv,
               (int)(r1 - r0), 1.0f, kp + r0 * g->k.ld, (int)g->k.ld,
               vp + r0 * g->v.ld, (int)g->v.ld, 0.0f, state, (int)g->Dv);
  for (int64_t r = r0; r < r1; r += LINATT_KSUM_ROWS)
    {
      const int64_t e = r + LINATT_KSUM_ROWS < r1 ? r + LINATT_KSUM_ROWS : r1;

      memset (kblk, 0, (size_t)g->D * sizeof (float));
      for (int64_t j = r; j < e; j++)
        for (int64_t d = 0; d < g->D; d++)
          kblk[d] += kp[j * g->k.ld + d];
      for (int64_t d = 0; d < g->D; d++)
        ksum[d] += kblk[d];
    }
}

/* Sums the parts of one (batch, head) into part 0 and divides by N. */
static void
linatt_reduce (const LinAttGeom *g, float *states)
{
  const int64_t state = linatt_state_floats (g);
  const int64_t n = g->D * g->Dv + g->D;
  const float   inv_n = 1.0f / (float)g->N;

  for (int64_t p = 1; p < g->parts; p++)
    for (int64_t i = 0; i < n; i++)
      states[i] += states[p * state + i];
  for (int64_t i = 0; i < n; i++)
    states[i] *= inv_n;
}

/* y rows [r0, r1) of (batch, head) @bh from its reduced state. */
static void
linatt_rows (
    const LinAttGeom *g, int64_t bh, int64_t r0, int64_t r1, const float *state)
{
  const int64_t b = bh / g->heads, h = bh % g->heads;
  const float  *qp = g->q.data + b * g->q.batch_stride + h * g->D;
  float        *yp = g->y.data + b * g->y.batch_stride + h * g->Dv;
  const float  *kbar = state + g->D * g->Dv;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(r1 - r0),
               (int)g->Dv, (int)g->D, 1.0f, qp + r0 * g->q.ld, (int)g->q.ld,
               state, (int)g->Dv, 0.0f, yp + r0 * g->y.ld, (int)g->y.ld);
  for (int64_t i = r0; i < r1; i++)
    {
      float den = g->eps, inv;

      for (int64_t d = 0; d < g->D; d++)
        den += qp[i * g->q.ld + d] * kbar[d];
      inv = 1.0f / den;
      for (int64_t c = 0; c < g->Dv; c++)
        yp[i * g->y.ld + c] *= inv;
    }
}

static void
linatt_group (LfOps *ops, const LinAttGeom *g, int64_t bh0, int64_t n_bh)
{
  float        *states = ops->scratch;
  const int64_t state = linatt_state_floats (g);
  const int64_t part_n = (g->N + g->parts - 1) / g->parts;
  const int64_t n_rblk = (g->N + LINATT_Y_ROWS - 1) / LINATT_Y_ROWS;

#pragma omp parallel for schedule(dynamic, 1) num_threads(ops->n_threads)
  for (int64_t t = 0; t < n_bh * g->parts; t++)
    {
      const int64_t r0 = t % g->parts * part_n;
      const int64_t r1 = r0 + part_n < g->N ? r0 + part_n : g->N;

      linatt_part (g, bh0 + t / g->parts, r0, r1, states + t * state);
    }
#pragma omp parallel for num_threads(ops->n_threads)
  for (int64_t i = 0; i < n_bh; i++)
    linatt_reduce (g, states + i * g->parts * state);
#pragma omp parallel for schedule(dynamic, 1) num_threads(ops->n_threads)
  for (int64_t t = 0; t < n_bh * n_rblk; t++)
    {
      const int64_t i = t / n_rblk;
      const int64_t r0 = t % n_rblk * LINATT_Y_ROWS;
      const int64_t r1 = r0 + LINATT_Y_ROWS < g->N ? r0 + LINATT_Y_ROWS : g->N;

      linatt_rows (g, bh0 + i, r0, r1, states + i * g->parts * state);
    }
}

void
lf_cpu_linear_attention (LfOps          *ops,
                         const LfTensor *q,
                         const LfTensor *k,
                         const LfTensor *v,
                         int             heads,
                         float           eps,
                         LfTensor       *y)
{
  LinAttGeom g = { .eps = eps };

  if (!linatt_check (ops, q, k, v, heads, y, &g) || !linatt_plan (ops, &g))
    return;
  for (int64_t bh0 = 0; bh0 < g.BH; bh0 += g.group)
    linatt_group (ops, &g, bh0, bh0 + g.group <= g.BH ? g.group : g.BH - bh0);
}
