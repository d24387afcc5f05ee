/* rng.c: torch's CPU generator (see rng.h for the upstream files). Every
 * rounding step matters for bit-exact noise: the comments name where torch
 * computes in float and where in double.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "rng.h"

#define MT_N        624
#define MT_M        397
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UMASK    0x80000000u
#define MT_LMASK    0x7fffffffu

void
lf_torch_rng_init (LfTorchRng *rng, uint64_t seed, LfTorchRandn variant)
{
  rng->variant = variant;
  rng->state[0] = (uint32_t)(seed & 0xffffffffu);
  for (int j = 1; j < MT_N; j++)
    rng->state[j]
        = 1812433253u * (rng->state[j - 1] ^ (rng->state[j - 1] >> 30))
          + (uint32_t)j;
  /* torch regenerates the whole state on the first draw. */
  rng->left = 1;
  rng->next = 0;
  rng->have_next_normal = FALSE;
  rng->next_normal = 0.0;
}

static inline uint32_t
mix_bits (uint32_t u, uint32_t v)
{
  return (u & MT_UMASK) | (v & MT_LMASK);
}

static inline uint32_t
twist (uint32_t u, uint32_t v)
{
  return (mix_bits (u, v) >> 1) ^ ((v & 1u) ? MT_MATRIX_A : 0u);
}

static void
next_state (LfTorchRng *rng)
{
  uint32_t *p = rng->state;

  rng->left = MT_N;
  rng->next = 0;
  for (int j = MT_N - MT_M + 1; --j; p++)
    *p = p[MT_M] ^ twist (p[0], p[1]);
  for (int j = MT_M; --j; p++)
    *p = p[MT_M - MT_N] ^ twist (p[0], p[1]);
  *p = p[MT_M - MT_N] ^ twist (p[0], rng->state[0]);
}

uint32_t
lf_torch_rng_random (LfTorchRng *rng)
{
  uint32_t y;

  if (--rng->left <= 0)
    next_state (rng);
  y = rng->state[rng->next++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t
lf_torch_rng_random64 (LfTorchRng *rng)
{
  const uint64_t hi = lf_torch_rng_random (rng);
  const uint64_t lo = lf_torch_rng_random (rng);

  return (hi << 32) | lo;
}

/* uniform_real_distribution<float>(0, 1): the low 24 bits of one draw. */
static inline float
uniform_float (LfTorchRng *rng)
{
  const uint32_t v = lf_torch_rng_random (rng) & ((1u << 24) - 1);

  return (float)v * 0x1.0p-24f;
}

/* uniform_real_distribution<double>(0, 1): the low 53 bits of random64. */
static inline double
uniform_double (LfTorchRng *rng)
{
  const uint64_t v = lf_torch_rng_random64 (rng) & ((UINT64_C (1) << 53) - 1);

  return (double)v * 0x1.0p-53;
}

/* normal_fill_16: Box–Muller on pairs (j, j + 8) of a 16-block of uniforms.
 * r is float (std::log on float), θ = 2.0f · π (double) · u2 is evaluated in
 * double and rounded to float on assignment, as in torch's scalar path. */
static void
normal_fill_16 (float *d)
{
  for (int j = 0; j < 8; j++)
    {
      const float u1 = 1.0f - d[j];
      const float u2 = d[j + 8];
      const float radius = sqrtf (-2.0f * logf (u1));
      const float theta = (float)(2.0f * M_PI * u2);

      d[j] = radius * cosf (theta);
      d[j + 8] = radius * sinf (theta);
    }
}

/* normal_distribution<double>: u1, u2 53-bit, r = sqrt (−2 log (1 − u2)),
 * θ = 2π u1; returns r cos θ and caches r sin θ for the next call. */
static double
normal_double (LfTorchRng *rng)
{
  double u1, u2, r, theta;

  if (rng->have_next_normal)
    {
      rng->have_next_normal = FALSE;
      return rng->next_normal;
    }
  u1 = uniform_double (rng);
  u2 = uniform_double (rng);
  r = sqrt (-2.0 * log1p (-u2));
  theta = 2.0 * M_PI * u1;
  rng->have_next_normal = TRUE;
  rng->next_normal = r * sin (theta);
  return r * cos (theta);
}

/* torch's AVX2 build (what x86-64 machines with AVX2 or AVX-512 run)
 * replaces libm in normal_fill_16 with the Cephes polynomials of
 * ATen/native/cpu/avx_mathfun.h, compiled by GCC with FMA contraction
 * (-ffp-contract=fast). The lane functions below follow those polynomials
 * operation by operation; fmaf marks each multiply-add GCC fuses. */
static inline float
bits_to_float (uint32_t u)
{
  float f;

  memcpy (&f, &u, sizeof f);
  return f;
}

static inline uint32_t
float_to_bits (float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof u);
  return u;
}

static float
cephes_logf (float x)
{
  uint32_t bits;
  float    e, y, z, tmp;
  int      below;

  x = fmaxf (x, bits_to_float (0x00800000u)); /* no subnormals */
  bits = float_to_bits (x);
  x = bits_to_float ((bits & ~0x7f800000u) | float_to_bits (0.5f));
  e = (float)((int32_t)(bits >> 23) - 0x7f) + 1.0f;
  below = x < 0.707106781186547524f;
  tmp = below ? x : 0.0f;
  x = x - 1.0f;
  e = e - (below ? 1.0f : 0.0f);
  x = x + tmp;
  z = x * x;
  y = fmaf (7.0376836292E-2f, x, -1.1514610310E-1f);
  y = fmaf (y, x, 1.1676998740E-1f);
  y = fmaf (y, x, -1.2420140846E-1f);
  y = fmaf (y, x, 1.4249322787E-1f);
  y = fmaf (y, x, -1.6668057665E-1f);
  y = fmaf (y, x, 2.0000714765E-1f);
  y = fmaf (y, x, -2.4999993993E-1f);
  y = fmaf (y, x, 3.3333331174E-1f);
  y = y * x;
  /* GCC fuses y·z (not e·q1) into this add: checked bit for bit. */
  y = fmaf (y, z, e * -2.12194440e-4f);
  y = fmaf (-z, 0.5f, y);
  return fmaf (e, 0.693359375f, x + y);
}

static void
cephes_sincosf (float x, float *s, float *c)
{
  const uint32_t sign_in = float_to_bits (x) & 0x80000000u;
  uint32_t       sign_sin, sign_cos;
  int32_t        j;
  float          y, z, yc, ys;
  int            poly;

  x = fabsf (x);
  j = (int32_t)(x * 1.27323954473516f);
  j = (j + 1) & ~1;
  y = (float)j;
  sign_sin = sign_in ^ ((uint32_t)(j & 4) << 29);
  sign_cos = (uint32_t)(~(j - 2) & 4) << 29;
  poly = (j & 2) == 0;
  x = fmaf (y, -0.78515625f, x);
  x = fmaf (y, -2.4187564849853515625e-4f, x);
  x = fmaf (y, -3.77489497744594108e-8f, x);
  z = x * x;
  yc = fmaf (2.443315711809948E-005f, z, -1.388731625493765E-003f);
  yc = fmaf (yc, z, 4.166664568298827E-002f);
  yc = yc * z;
  yc = fmaf (yc, z, -(z * 0.5f));
  yc = yc + 1.0f;
  ys = fmaf (-1.9515295891E-4f, z, 8.3321608736E-3f);
  ys = fmaf (ys, z, -1.6666654611E-1f);
  ys = ys * z;
  ys = fmaf (ys, x, x);
  *s = bits_to_float (float_to_bits (poly ? ys : yc) ^ sign_sin);
  *c = bits_to_float (float_to_bits (poly ? yc : ys) ^ sign_cos);
}

static void
normal_fill_16_avx2 (float *d)
{
  /* _mm256_set1_ps (2.0f * pi<double>): rounded to float once. */
  const float two_pi = (float)(2.0 * M_PI);

  for (int j = 0; j < 8; j++)
    {
      const float u1 = 1.0f - d[j];
      const float radius = sqrtf (-2.0f * cephes_logf (u1));
      float       s, c;

      cephes_sincosf (two_pi * d[j + 8], &s, &c);
      d[j] = fmaf (radius * c, 1.0f, 0.0f);
      d[j + 8] = fmaf (radius * s, 1.0f, 0.0f);
    }
}

void
lf_torch_rng_randn (LfTorchRng *rng, float *out, int64_t n)
{
  if (n < 16)
    {
      for (int64_t i = 0; i < n; i++)
        out[i] = (float)normal_double (rng);
      return;
    }
  void (*fill16) (float *) = rng->variant == LF_TORCH_RANDN_SCALAR
                                 ? normal_fill_16
                                 : normal_fill_16_avx2;

  for (int64_t i = 0; i < n; i++)
    out[i] = uniform_float (rng);
  for (int64_t i = 0; i + 16 <= n; i += 16)
    fill16 (out + i);
  if (n % 16 != 0)
    {
      /* torch redraws the last 16 positions, overwriting finished values. */
      float *tail = out + n - 16;

      for (int i = 0; i < 16; i++)
        tail[i] = uniform_float (rng);
      fill16 (tail);
    }
}
