/* ref-attention.c: naive double reference of attention (lf-ops.h): the
 * whole score row of each query, max-subtracted softmax, weighted sum of v.
 * Heads split channels as diffusers head_to_batch_dim does.
 */
#include "config.h"

#include <glib.h>
#include <math.h>

#include "ref-gemm-ops.h"

/* Channel count and row count of a token-row view (B, N, C) or (N, C). */
#define ROWS(t) ((t)->shape[(t)->ndim - 2])
#define COLS(t) ((t)->shape[(t)->ndim - 1])

static void
attend_one (const LfTensor *q,
            const LfTensor *k,
            const LfTensor *v,
            int             heads,
            double          scale,
            int             causal,
            int64_t         b,
            int64_t         h,
            int64_t         i,
            double         *s,
            double         *y_row)
{
  const int64_t D = COLS (q) / heads, Dv = COLS (v) / heads;
  int64_t       n_keys = ROWS (k);
  double        mx = -INFINITY, sum = 0.0;

  if (causal && i + 1 < n_keys)
    n_keys = i + 1; /* query i sees keys j ≤ i */
  for (int64_t j = 0; j < n_keys; j++)
    {
      double dot = 0.0;

      for (int64_t d = 0; d < D; d++)
        dot += lf_ref_at3 (q, b, i, h * D + d)
               * lf_ref_at3 (k, b, j, h * D + d);
      s[j] = scale * dot;
      mx = MAX (mx, s[j]);
    }
  for (int64_t j = 0; j < n_keys; j++)
    {
      s[j] = exp (s[j] - mx);
      sum += s[j];
    }
  for (int64_t c = 0; c < Dv; c++)
    {
      double acc = 0.0;

      for (int64_t j = 0; j < n_keys; j++)
        acc += s[j] * lf_ref_at3 (v, b, j, h * Dv + c);
      y_row[h * Dv + c] = acc / sum;
    }
}

void
lf_ref_attention (const LfTensor *q,
                  const LfTensor *k,
                  const LfTensor *v,
                  int             heads,
                  float           scale,
                  int             causal,
                  double         *y)
{
  const int64_t B = q->ndim == 3 ? q->shape[0] : 1;
  const int64_t Nq = ROWS (q), C_out = COLS (v);
  double       *s = g_new (double, MAX (ROWS (k), 1));

  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < Nq; i++)
      for (int64_t h = 0; h < heads; h++)
        attend_one (q, k, v, heads, scale, causal, b, h, i, s,
                    y + (b * Nq + i) * C_out);
  g_free (s);
}
