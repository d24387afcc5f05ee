/* conv2d.c: torch.nn.functional.conv2d (groups 1, zero padding) on the CPU as
 * an implicit GEMM: im2col of a bounded chunk of output rows into scratch,
 * then y_rows (C_out, rows·W_out) = w (C_out, C_in·KH·KW) · col with
 * cblas_sgemm split over the threads. A 1×1 stride-1 unpadded conv is a GEMM on
 * x directly.
 */
#include "cpu-ops.h"

#include <stdio.h>
#include <string.h>

#include "cpu-blas.h"

typedef struct
{
  int64_t        B, C_in, H, W;
  int64_t        C_out, KH, KW;
  int64_t        H_out, W_out;
  int64_t        K; /* C_in · KH · KW: the GEMM's inner dimension */
  LfConv2dParams p;
} ConvGeom;

static int64_t
conv_out_size (int64_t in, int pad0, int pad1, int dil, int64_t k, int stride)
{
  const int64_t span = in + pad0 + pad1 - (int64_t)dil * (k - 1) - 1;

  return span < 0 ? -1 : span / stride + 1;
}

static int
conv_check (LfOps                *ops,
            const LfTensor       *x,
            const LfTensor       *w,
            const LfTensor       *b,
            const LfConv2dParams *p,
            const LfTensor       *y,
            ConvGeom             *g)
{
  if (!lf_cpu_check_contiguous (ops, "conv2d", "x", x, 4)
      || !lf_cpu_check_contiguous (ops, "conv2d", "w", w, 4)
      || !lf_cpu_check_contiguous (ops, "conv2d", "y", y, 4)
      || (b != NULL && !lf_cpu_check_contiguous (ops, "conv2d", "b", b, 1)))
    return 0;
  if (p == NULL || p->stride < 1 || p->dilation < 1 || p->pad_top < 0
      || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
    return lf_cpu_invalid (ops, "conv2d",
                           "stride and dilation must be >= 1 and padding >= 0 "
                           "for w",
                           w);
  *g = (ConvGeom){ .B = x->shape[0],
                   .C_in = x->shape[1],
                   .H = x->shape[2],
                   .W = x->shape[3],
                   .C_out = w->shape[0],
                   .KH = w->shape[2],
                   .KW = w->shape[3],
                   .p = *p };
  g->K = g->C_in * g->KH * g->KW;
  g->H_out = conv_out_size (g->H, p->pad_top, p->pad_bottom, p->dilation, g->KH,
                            p->stride);
  g->W_out = conv_out_size (g->W, p->pad_left, p->pad_right, p->dilation, g->KW,
                            p->stride);
  if (w->shape[1] != g->C_in || g->K < 1 || g->H_out < 1 || g->W_out < 1)
    return lf_cpu_invalid (ops, "conv2d",
                           "w does not fit x (C_in, or a kernel larger than "
                           "the padded input); w is",
                           w);
  if (y->shape[0] != g->B || y->shape[1] != g->C_out || y->shape[2] != g->H_out
      || y->shape[3] != g->W_out)
    return lf_cpu_invalid (ops, "conv2d",
                           "y must be (B, C_out, H_out, W_out), got", y);
  if (b != NULL && b->shape[0] != g->C_out)
    return lf_cpu_invalid (ops, "conv2d", "b must be (C_out), got", b);
  /* One output plane is the row stride of every GEMM into y. */
  if (!lf_cpu_blas_int_ok (g->K) || !lf_cpu_blas_int_ok (g->C_out)
      || !lf_cpu_blas_int_ok (g->H_out * g->W_out))
    return lf_cpu_invalid (ops, "conv2d", "too large for BLAS: w is", w);
  return 1;
}

/* Output columns ow whose input column ow·s − pad + kw·d lies in [0, W). */
static void
conv_valid_cols (const ConvGeom *g, int64_t kw, int64_t *lo, int64_t *hi)
{
  const int64_t s = g->p.stride;
  const int64_t off = kw * g->p.dilation - g->p.pad_left; /* iw = ow·s + off */
  int64_t       a = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t       z = g->W - off <= 0 ? 0 : (g->W - off - 1) / s + 1;

  *lo = a < g->W_out ? a : g->W_out;
  *hi = z < g->W_out ? z : g->W_out;
  if (*hi < *lo)
    *hi = *lo;
}

/* col (K, n_rows·W_out) for output rows [oh0, oh0 + n_rows) of image x. */
static void
conv_im2col (LfOps          *ops,
             const ConvGeom *g,
             const float    *x,
             int64_t         oh0,
             int64_t         n_rows,
             float          *col)
{
  const int64_t n_cols = n_rows * g->W_out;

#pragma omp parallel for num_threads(ops->n_threads)
  for (int64_t r = 0; r < g->K; r++)
    {
      const int64_t ci = r / (g->KH * g->KW);
      const int64_t kh = (r / g->KW) % g->KH, kw = r % g->KW;
      const int64_t off = kw * g->p.dilation - g->p.pad_left;
      int64_t       lo, hi;
      float        *dst = col + r * n_cols;

      conv_valid_cols (g, kw, &lo, &hi);
      for (int64_t i = 0; i < n_rows; i++, dst += g->W_out)
        {
          const int64_t ih
              = (oh0 + i) * g->p.stride - g->p.pad_top + kh * g->p.dilation;
          const int64_t base = (ci * g->H + ih) * g->W + off;

          if (ih < 0 || ih >= g->H)
            {
              memset (dst, 0, (size_t)g->W_out * sizeof (float));
              continue;
            }
          memset (dst, 0, (size_t)lo * sizeof (float));
          for (int64_t ow = lo; ow < hi; ow++)
            dst[ow] = x[base + ow * g->p.stride];
          memset (dst + hi, 0, (size_t)(g->W_out - hi) * sizeof (float));
        }
    }
}

static void
conv_fill_bias (LfOps *ops, const ConvGeom *g, const float *bias, float *y)
{
  const int64_t plane = g->H_out * g->W_out;

#pragma omp parallel for num_threads(ops->n_threads)
  for (int64_t r = 0; r < g->B * g->C_out; r++)
    {
      float      *dst = y + r * plane;
      const float v = bias[r % g->C_out];

      for (int64_t i = 0; i < plane; i++)
        dst[i] = v;
    }
}

/* The largest chunk of output rows whose col buffer fits in scratch. */
static int64_t
conv_chunk_rows (LfOps *ops, const ConvGeom *g)
{
  const int64_t avail = lf_cpu_scratch_slice_floats (ops, 1);
  const int64_t per_row = g->K * g->W_out;
  int64_t       rows = per_row > 0 ? avail / per_row : g->H_out;

  /* Keep each GEMM's column count a BLAS int. */
  while (rows > 1 && !lf_cpu_blas_int_ok (rows * g->W_out))
    rows /= 2;
  if (rows < 1)
    {
      lf_ops_fail (ops, LF_STATUS_NO_SCRATCH,
                   "conv2d: one output row needs %lld bytes of scratch "
                   "(C_in*KH*KW = %lld, W_out = %lld), %zu given",
                   (long long)(per_row * (int64_t)sizeof (float)),
                   (long long)g->K, (long long)g->W_out, ops->scratch_bytes);
      return 0;
    }
  return rows < g->H_out ? rows : g->H_out;
}

static void
conv_im2col_gemm (LfOps          *ops,
                  const ConvGeom *g,
                  const float    *x,
                  const float    *w,
                  float          *y,
                  float           beta)
{
  const int64_t chunk = conv_chunk_rows (ops, g);
  const int64_t plane = g->H_out * g->W_out;
  float        *col = ops->scratch;

  if (chunk == 0)
    return;
  for (int64_t bi = 0; bi < g->B; bi++)
    for (int64_t oh0 = 0; oh0 < g->H_out; oh0 += chunk)
      {
        const int64_t rows = oh0 + chunk <= g->H_out ? chunk : g->H_out - oh0;
        const int64_t n = rows * g->W_out;

        conv_im2col (ops, g, x + bi * g->C_in * g->H * g->W, oh0, rows, col);
        lf_cpu_sgemm (ops, 0, 0, g->C_out, n, g->K, 1.0f, w, g->K, col, n, beta,
                      y + bi * g->C_out * plane + oh0 * g->W_out, plane);
      }
}

void
lf_cpu_conv2d (LfOps                *ops,
               const LfTensor       *x,
               const LfTensor       *w,
               const LfTensor       *b,
               const LfConv2dParams *p,
               LfTensor             *y)
{
  ConvGeom    g;
  const float beta = b != NULL ? 1.0f : 0.0f;
  int64_t     plane;

  if (!conv_check (ops, x, w, b, p, y, &g))
    return;
  plane = g.H_out * g.W_out;
  if (g.B == 0 || g.C_out == 0)
    return;
  if (b != NULL)
    conv_fill_bias (ops, &g, b->data, y->data);

  if (g.KH == 1 && g.KW == 1 && p->stride == 1 && p->pad_top == 0
      && p->pad_bottom == 0 && p->pad_left == 0 && p->pad_right == 0)
    {
      for (int64_t bi = 0; bi < g.B; bi++)
        lf_cpu_sgemm (ops, 0, 0, g.C_out, plane, g.C_in, 1.0f, w->data, g.C_in,
                      (float *)x->data + bi * g.C_in * plane, plane, beta,
                      (float *)y->data + bi * g.C_out * plane, plane);
      return;
    }
  conv_im2col_gemm (ops, &g, x->data, w->data, y->data, beta);
}
