/* rng.h: torch's CPU generator reproduced bit for bit, so `--seed N` gives
 * torch.randn (shape, generator=torch.Generator ().manual_seed (N)).
 * Mirrors pytorch aten/src/ATen/core/MT19937RNGEngine.h (mt19937),
 * TransformationHelper.h (uniforms) and native/cpu/DistributionTemplates.h
 * (normal_fill for ≥ 16 contiguous floats, normal_distribution<double>
 * below that). See shared docs/reference/components.md §8.
 */
#ifndef LF_RNG_H
#define LF_RNG_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Which build of torch's normal_fill to reproduce: the AVX2 kernel that
 * torch dispatches on x86-64 machines with AVX2 or AVX-512 (the common
 * case, and the default), or the scalar libm one (other CPUs, or
 * ATEN_CPU_CAPABILITY=default). They differ in the last bits. */
typedef enum
{
  LF_TORCH_RANDN_AVX2 = 0,
  LF_TORCH_RANDN_SCALAR,
} LfTorchRandn;

typedef struct
{
  uint32_t     state[624];
  LfTorchRandn variant;
  int          left;
  int          next;
  gboolean have_next_normal; /* torch caches the second Box–Muller value */
  double   next_normal;      /* of the double path for the next call     */
} LfTorchRng;

/* torch.Generator ().manual_seed (seed): only the low 32 bits seed mt19937. */
void lf_torch_rng_init (LfTorchRng *rng, uint64_t seed, LfTorchRandn variant);

uint32_t lf_torch_rng_random (LfTorchRng *rng);   /* one 32-bit draw      */
uint64_t lf_torch_rng_random64 (LfTorchRng *rng); /* (first << 32) | next */

/* torch.randn (n) into @out (n floats, contiguous, float32), consuming the
 * generator exactly as torch does, so successive calls continue the same
 * stream (ancestral samplers, img2img posterior sampling). */
void lf_torch_rng_randn (LfTorchRng *rng, float *out, int64_t n);

G_END_DECLS

#endif /* LF_RNG_H */
