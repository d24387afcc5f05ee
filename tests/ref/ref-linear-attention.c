/* ref-linear-attention.c: naive double reference of linear_attention
 * (lf-ops.h), LinFusion's normalised linear attention:
 * S = KᵀV / N, k̄ = mean k, y_i = (q_i · S) / (q_i · k̄ + eps) per head.
 */
#include "config.h"

#include <glib.h>

#include "ref-gemm-ops.h"

#define ROWS(t) ((t)->shape[(t)->ndim - 2])
#define COLS(t) ((t)->shape[(t)->ndim - 1])

/* S (D, Dv) and k̄ (D) of one (batch, head). */
static void
state_one (const LfTensor *k,
           const LfTensor *v,
           int             heads,
           int64_t         b,
           int64_t         h,
           double         *S,
           double         *kbar)
{
  const int64_t N = ROWS (k), D = COLS (k) / heads, Dv = COLS (v) / heads;

  for (int64_t d = 0; d < D; d++)
    {
      kbar[d] = 0.0;
      for (int64_t j = 0; j < N; j++)
        kbar[d] += lf_ref_at3 (k, b, j, h * D + d);
      kbar[d] /= N;
      for (int64_t c = 0; c < Dv; c++)
        {
          double acc = 0.0;

          for (int64_t j = 0; j < N; j++)
            acc += lf_ref_at3 (k, b, j, h * D + d)
                   * lf_ref_at3 (v, b, j, h * Dv + c);
          S[d * Dv + c] = acc / N;
        }
    }
}

void
lf_ref_linear_attention (const LfTensor *q,
                         const LfTensor *k,
                         const LfTensor *v,
                         int             heads,
                         float           eps,
                         double         *y)
{
  const int64_t B = q->ndim == 3 ? q->shape[0] : 1, N = ROWS (q);
  const int64_t D = COLS (q) / heads, Dv = COLS (v) / heads;
  double       *S = g_new (double, D *Dv), *kbar = g_new (double, D);

  for (int64_t b = 0; b < B; b++)
    for (int64_t h = 0; h < heads; h++)
      {
        state_one (k, v, heads, b, h, S, kbar);
        for (int64_t i = 0; i < N; i++)
          {
            double den = eps;

            for (int64_t d = 0; d < D; d++)
              den += lf_ref_at3 (q, b, i, h * D + d) * kbar[d];
            for (int64_t c = 0; c < Dv; c++)
              {
                double num = 0.0;

                for (int64_t d = 0; d < D; d++)
                  num += lf_ref_at3 (q, b, i, h * D + d) * S[d * Dv + c];
                y[(b * N + i) * COLS (v) + h * Dv + c] = num / den;
              }
          }
      }
  g_free (S);
  g_free (kbar);
}
