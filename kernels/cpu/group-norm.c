/* group-norm.c: torch.nn.GroupNorm (biased variance, per-channel affine) and
 * its fusion with SiLU, the norm → act pair of diffusers ResnetBlock2D and of
 * the VAE. Statistics accumulate in double over chunks of each group and are
 * combined with Chan's pairwise formula, so one group of a gigapixel tensor
 * still spreads over every thread and keeps a well-conditioned variance.
 */
#include "cpu-pointwise.h"

#include <string.h>

/* Statistics of a run of elements: its mean and centred sum of squares. */
typedef struct
{
  double n, mean, m2;
} NormStats;

/* Chunk statistics are kept in scratch when it is large enough, else here. */
#define STATS_LOCAL 512
#define BLOCK       4096 /* two passes over a block stay in L1 */

/* Chan, Golub and LeVeque: merges the statistics of two disjoint runs. */
static void
stats_merge (NormStats *a, const NormStats *b)
{
  const double n = a->n + b->n, d = b->mean - a->mean;

  if (b->n == 0.0)
    return;
  a->mean += d * b->n / n;
  a->m2 += b->m2 + d * d * a->n * b->n / n;
  a->n = n;
}

/* Sums with eight independent accumulators: a single double accumulator
 * is bound by the add latency, several times slower than memory. */
static double
block_sum (const float *x, int64_t m)
{
  double  s[8] = { 0.0 };
  int64_t i = 0;

  for (; i + 8 <= m; i += 8)
    for (int k = 0; k < 8; k++)
      s[k] += x[i + k];
  for (; i < m; i++)
    s[0] += x[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static double
block_m2 (const float *x, int64_t m, double mean)
{
  double  s[8] = { 0.0 };
  int64_t i = 0;

  for (; i + 8 <= m; i += 8)
    for (int k = 0; k < 8; k++)
      s[k] += (x[i + k] - mean) * (x[i + k] - mean);
  for (; i < m; i++)
    s[0] += (x[i] - mean) * (x[i] - mean);
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static NormStats
chunk_stats (const float *x, int64_t len)
{
  NormStats s = { 0.0, 0.0, 0.0 };

  for (int64_t o = 0; o < len; o += BLOCK)
    {
      const int64_t m = len - o < BLOCK ? len - o : BLOCK;
      NormStats     b;

      b.n = (double)m;
      b.mean = block_sum (x + o, m) / b.n;
      b.m2 = block_m2 (x + o, m, b.mean);
      stats_merge (&s, &b);
    }
  return s;
}

typedef struct
{
  const float *x, *gamma, *beta;
  float       *y;
  int64_t      S;      /* positions per channel */
  int64_t      cpg;    /* channels per group */
  int64_t      groups; /* per batch item */
  float        eps;
  int          silu;
} GroupNorm;

/* Normalises elements [o, end) of flat group @gg, whose mean and 1/std are
 * given; one affine pair per channel segment. The mean is split into two
 * floats so x − mean keeps double accuracy when |mean| ≫ std (x − hi is
 * exact for x near the mean). */
static void
normalise_chunk (const GroupNorm *p,
                 int64_t          gg,
                 int64_t          o,
                 int64_t          end,
                 double           mean,
                 float            rstd)
{
  const float   hi = (float)mean, lo = (float)(mean - (double)hi);
  const int64_t base = (gg % p->groups) * p->cpg;
  const float  *x = p->x + gg * p->cpg * p->S;
  float        *y = p->y + gg * p->cpg * p->S;

  while (o < end)
    {
      const int64_t c = o / p->S;
      const int64_t seg = (c + 1) * p->S < end ? (c + 1) * p->S : end;
      const float   scale = rstd * p->gamma[base + c];
      const float   shift = p->beta[base + c];

      if (p->silu)
        for (int64_t i = o; i < seg; i++)
          {
            const float v = ((x[i] - hi) - lo) * scale + shift;

            y[i] = v / (1.0f + expf (-v));
          }
      else
        for (int64_t i = o; i < seg; i++)
          y[i] = ((x[i] - hi) - lo) * scale + shift;
      o = seg;
    }
}

/* Groups [g0, g0 + gb), each cut into n_ch chunks of cs elements, with
 * stats[gi·n_ch + k] for chunk k of group g0 + gi. */
static void
group_norm_batch (LfOps           *ops,
                  const GroupNorm *p,
                  int64_t          g0,
                  int64_t          gb,
                  int64_t          n_ch,
                  int64_t          cs,
                  NormStats       *stats)
{
  const int64_t n = p->cpg * p->S;
  const int64_t items = gb * n_ch;

#pragma omp parallel num_threads(ops->n_threads) if (gb * n > LF_CPU_CHUNK)
  {
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; i++)
      {
        const int64_t o = (i % n_ch) * cs, len = n - o < cs ? n - o : cs;

        stats[i] = chunk_stats (p->x + (g0 + i / n_ch) * n + o, len);
      }
#pragma omp for schedule(static)
    for (int64_t gi = 0; gi < gb; gi++)
      {
        NormStats *s = stats + gi * n_ch;

        for (int64_t k = 1; k < n_ch; k++)
          stats_merge (s, s + k);
        s->m2 = 1.0 / sqrt (s->m2 / s->n + (double)p->eps);
      }
#pragma omp for schedule(static)
    for (int64_t i = 0; i < items; i++)
      {
        const NormStats *s = stats + (i / n_ch) * n_ch;
        const int64_t    o = (i % n_ch) * cs;

        normalise_chunk (p, g0 + i / n_ch, o, o + cs < n ? o + cs : n, s->mean,
                         (float)s->m2);
      }
  }
}

static void
group_norm_run (LfOps *ops, const GroupNorm *p, int64_t n_groups)
{
  NormStats     local[STATS_LOCAL];
  NormStats    *stats = local;
  int64_t       cap = STATS_LOCAL;
  const int64_t n = p->cpg * p->S;
  const int64_t want = (n + LF_CPU_CHUNK - 1) / LF_CPU_CHUNK;

  if (n == 0)
    return;
  if (ops->scratch != NULL
      && ops->scratch_bytes / sizeof (NormStats) > (size_t)cap)
    {
      stats = ops->scratch;
      cap = (int64_t)(ops->scratch_bytes / sizeof (NormStats));
    }
  for (int64_t g0 = 0; g0 < n_groups;)
    {
      const int64_t gb = n_groups - g0 < cap ? n_groups - g0 : cap;
      int64_t       n_ch = want < cap / gb ? want : cap / gb;
      int64_t       cs;

      cs = (n + n_ch - 1) / n_ch;
      n_ch = (n + cs - 1) / cs;
      group_norm_batch (ops, p, g0, gb, n_ch, cs, stats);
      g0 += gb;
    }
}

static int
check_group_norm (LfOps          *ops,
                  const char     *op,
                  const LfTensor *x,
                  const LfTensor *gamma,
                  const LfTensor *beta,
                  int             groups,
                  const LfTensor *y)
{
  char s[LF_CPU_SHAPE_SIZE], sg[LF_CPU_SHAPE_SIZE];

  if (!lf_cpu_check_f32_contiguous (ops, op, "x", x)
      || !lf_cpu_check_f32_contiguous (ops, op, "y", y)
      || !lf_cpu_check_same_shape (ops, op, "x", x, "y", y)
      || !lf_cpu_check_f32_contiguous (ops, op, "gamma", gamma)
      || !lf_cpu_check_f32_contiguous (ops, op, "beta", beta))
    return 0;
  if (x->ndim < 2 || groups < 1 || x->shape[1] % groups != 0)
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "%s: x %s must be (B, C, ...) with C divisible by %d "
                   "groups",
                   op, lf_cpu_shape_str (x, s), groups);
      return 0;
    }
  if (gamma->ndim != 1 || gamma->shape[0] != x->shape[1]
      || !lf_tensor_same_shape (gamma, beta))
    {
      lf_ops_fail (ops, LF_STATUS_INVALID,
                   "%s: gamma %s and beta %s must be (%lld), x's channels", op,
                   lf_cpu_shape_str (gamma, s), lf_cpu_shape_str (beta, sg),
                   (long long)x->shape[1]);
      return 0;
    }
  return 1;
}

static void
group_norm (LfOps          *ops,
            const char     *op,
            const LfTensor *x,
            const LfTensor *gamma,
            const LfTensor *beta,
            int             groups,
            float           eps,
            int             silu,
            LfTensor       *y)
{
  GroupNorm p;

  if (!check_group_norm (ops, op, x, gamma, beta, groups, y))
    return;
  memset (&p, 0, sizeof p);
  p.x = x->data;
  p.gamma = gamma->data;
  p.beta = beta->data;
  p.y = y->data;
  p.cpg = x->shape[1] / groups;
  p.groups = groups;
  p.eps = eps;
  p.silu = silu;
  p.S = 1;
  for (int i = 2; i < x->ndim; i++)
    p.S *= x->shape[i];
  group_norm_run (ops, &p, x->shape[0] * groups);
}

void
lf_cpu_group_norm (LfOps          *ops,
                   const LfTensor *x,
                   const LfTensor *gamma,
                   const LfTensor *beta,
                   int             groups,
                   float           eps,
                   LfTensor       *y)
{
  group_norm (ops, "group_norm", x, gamma, beta, groups, eps, 0, y);
}

void
lf_cpu_group_norm_silu (LfOps          *ops,
                        const LfTensor *x,
                        const LfTensor *gamma,
                        const LfTensor *beta,
                        int             groups,
                        float           eps,
                        LfTensor       *y)
{
  group_norm (ops, "group_norm_silu", x, gamma, beta, groups, eps, 1, y);
}
