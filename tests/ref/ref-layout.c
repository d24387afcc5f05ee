/* ref-layout.c: naive references of upsample_nearest (torch interpolate,
 * nearest, ×2), concat_channels (torch.cat dim 1) and copy, plus strided
 * element access and f16/bf16 decoding and rounding done in double from the
 * IEEE 754 encodings.
 */
#include "config.h"

#include <math.h>

#include "ref-pointwise-ops.h"

double
lf_ref_get (const LfTensor *t, int64_t flat)
{
  int64_t off = 0;

  for (int d = t->ndim - 1; d >= 0; d--)
    {
      off += (flat % t->shape[d]) * t->stride[d];
      flat /= t->shape[d];
    }
  switch (t->dtype)
    {
    case LF_DTYPE_F32:
      return ((const float *)t->data)[off];
    case LF_DTYPE_F16:
      return lf_ref_f16_value (((const uint16_t *)t->data)[off]);
    case LF_DTYPE_BF16:
      return lf_ref_bf16_value (((const uint16_t *)t->data)[off]);
    }
  return NAN;
}

/* A binary float with @man_bits stored significand bits and exponent bias
 * @bias: its value, and the nearest pattern to v (ties to even). */
static double
float_value (uint16_t h, int exp_bits, int man_bits, int bias)
{
  const int    e = (h >> man_bits) & ((1 << exp_bits) - 1);
  const int    m = h & ((1 << man_bits) - 1);
  const double s = (h >> 15) ? -1.0 : 1.0;

  if (e == (1 << exp_bits) - 1)
    return m ? NAN : s * INFINITY;
  if (e == 0)
    return s * ldexp (m, 1 - bias - man_bits);
  return s * ldexp (m + (1 << man_bits), e - bias - man_bits);
}

static uint16_t
float_bits (double v, int exp_bits, int man_bits, int bias)
{
  const uint16_t sign = signbit (v) ? 0x8000 : 0;
  const uint16_t inf = (uint16_t)(((1 << exp_bits) - 1) << man_bits);
  const int      e_min = 1 - bias, e_max = bias;
  const double   a = fabs (v);
  double         q;
  int            e;

  if (isnan (v))
    return sign | inf | (uint16_t)(1 << (man_bits - 1));
  /* halfway between the largest finite value and 2^(e_max + 1) */
  if (a >= ldexp (2.0 - ldexp (1.0, -man_bits - 1), e_max))
    return sign | inf;
  if (a < ldexp (1.0, e_min)) /* subnormal: a multiple of 2^(e_min − m) */
    return sign | (uint16_t)nearbyint (ldexp (a, man_bits - e_min));
  frexp (a, &e);
  e -= 1; /* a = f · 2^e with f in [1, 2) */
  q = nearbyint (ldexp (a, man_bits - e));
  if (q == ldexp (1.0, man_bits + 1))
    {
      q /= 2.0;
      e += 1;
    }
  return sign | (uint16_t)((e + bias) << man_bits)
         | (uint16_t)(q - ldexp (1.0, man_bits));
}

double
lf_ref_f16_value (uint16_t h)
{
  return float_value (h, 5, 10, 15);
}

double
lf_ref_bf16_value (uint16_t h)
{
  return float_value (h, 8, 7, 127);
}

uint16_t
lf_ref_f16_bits (double v)
{
  return float_bits (v, 5, 10, 15);
}

uint16_t
lf_ref_bf16_bits (double v)
{
  return float_bits (v, 8, 7, 127);
}

/* torch's nearest_idx: the scale is a float, n / m; ×1 and ×2 are exact. */
static int64_t
ref_nearest (int64_t o, int64_t n, int64_t m)
{
  const float   scale = (float)n / (float)m;
  const int64_t i = (int64_t)floor ((double)((float)o * scale));

  if (m == n)
    return o;
  if (m == 2 * n)
    return o / 2;
  return i < n - 1 ? i : n - 1;
}

void
lf_ref_upsample_nearest (const LfTensor *x, int64_t H2, int64_t W2, double *y)
{
  const int64_t P = x->shape[0] * x->shape[1];
  const int64_t H = x->shape[2], W = x->shape[3];

  for (int64_t p = 0; p < P; p++)
    for (int64_t i = 0; i < H2; i++)
      for (int64_t j = 0; j < W2; j++)
        y[(p * H2 + i) * W2 + j] = lf_ref_get (
            x, (p * H + ref_nearest (i, H, H2)) * W + ref_nearest (j, W, W2));
}

void
lf_ref_concat_channels (const LfTensor *a, const LfTensor *b, double *y)
{
  const int64_t B = a->shape[0];
  const int64_t Ca = a->shape[1], Cb = b->shape[1];
  const int64_t S = a->shape[2] * a->shape[3];

  for (int64_t n = 0; n < B; n++)
    for (int64_t c = 0; c < Ca + Cb; c++)
      for (int64_t s = 0; s < S; s++)
        y[(n * (Ca + Cb) + c) * S + s]
            = c < Ca ? lf_ref_get (a, (n * Ca + c) * S + s)
                     : lf_ref_get (b, (n * Cb + c - Ca) * S + s);
}

void
lf_ref_copy (const LfTensor *x, double *y)
{
  for (int64_t i = 0; i < lf_tensor_numel (x); i++)
    y[i] = lf_ref_get (x, i);
}
