/* half.h: f16 (IEEE binary16) and bf16 bit conversions to and from f32,
 * rounding to nearest even with torch's results (c10/util/Half.h,
 * BFloat16.h): f16 overflow gives ±inf, subnormals are kept, NaN stays NaN.
 * Written from the IEEE 754 encodings; tests/ops/test-copy.c checks every
 * 16-bit pattern.
 */
#ifndef LF_HALF_H
#define LF_HALF_H

#include <stdint.h>
#include <string.h>

static inline uint32_t
lf_f32_bits (float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof u);
  return u;
}

static inline float
lf_f32_from_bits (uint32_t u)
{
  float f;

  memcpy (&f, &u, sizeof f);
  return f;
}

static inline float
lf_f16_to_f32 (uint16_t h)
{
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t man = h & 0x3ffu;
  float          sub;

  if (exp == 0x1fu) /* inf, or NaN with its payload */
    return lf_f32_from_bits (sign | 0x7f800000u | (man << 13));
  if (exp != 0) /* rebias 15 → 127 */
    return lf_f32_from_bits (sign | ((exp + 112u) << 23) | (man << 13));
  /* zero or subnormal: man · 2^−24, exact in f32 */
  sub = (float)man * 0x1p-24f;
  return sign ? -sub : sub;
}

/* Below 2^−14 the f16 result is a multiple of 2^−24: shift the 24-bit
 * significand down and round the dropped bits to nearest even. */
static inline uint16_t
lf_f32_to_f16_small (uint32_t ax)
{
  const uint32_t e = ax >> 23;
  uint32_t       m, shift, q, rem, half;

  if (e < 102) /* below 2^−25, half the smallest subnormal */
    return 0;
  m = (ax & 0x7fffffu) | 0x800000u;
  shift = 126u - e; /* 14 .. 24 */
  q = m >> shift;
  rem = m & ((1u << shift) - 1u);
  half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u)))
    q++; /* may carry into the smallest normal, 0x0400: still right */
  return (uint16_t)q;
}

static inline uint16_t
lf_f32_to_f16 (float f)
{
  const uint32_t x = lf_f32_bits (f);
  const uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t       ax = x & 0x7fffffffu;

  if (ax > 0x7f800000u) /* NaN: quiet, top payload bits kept */
    return sign | 0x7e00u | ((ax >> 13) & 0x3ffu);
  if (ax >= 0x477ff000u) /* ≥ 65520 rounds past 65504: inf */
    return sign | 0x7c00u;
  if (ax < 0x38800000u) /* below 2^−14 */
    return sign | lf_f32_to_f16_small (ax);
  /* Normal: add just under half an f16 ulp, plus one when the kept lsb is
   * odd (ties to even); a carry runs into the exponent as it should. */
  ax += 0xfffu + ((ax >> 13) & 1u);
  return sign | (uint16_t)((ax - 0x38000000u) >> 13);
}

static inline float
lf_bf16_to_f32 (uint16_t h)
{
  return lf_f32_from_bits ((uint32_t)h << 16);
}

static inline uint16_t
lf_f32_to_bf16 (float f)
{
  const uint32_t x = lf_f32_bits (f);

  if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: quiet, sign and payload kept */
    return (uint16_t)((x >> 16) | 0x40u);
  /* Same rounding as above; near FLT_MAX the carry gives inf, as torch. */
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

#endif /* LF_HALF_H */
