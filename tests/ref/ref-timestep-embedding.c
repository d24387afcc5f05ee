/* ref-timestep-embedding.c: naive reference of diffusers
 * get_timestep_embedding (embeddings.py, scale 1). The values torch keeps in
 * f32 (the exponent, its quotient, freq and the argument t · freq) are
 * rounded to f32 here at the same points; exp, sin and cos are exact double.
 */
#include "config.h"

#include <math.h>

#include "ref-pointwise-ops.h"

void
lf_ref_timestep_embedding (const LfTensor *t,
                           int             flip_sin_to_cos,
                           double          freq_shift,
                           double          max_period,
                           int64_t         dim,
                           double         *y)
{
  const int64_t half = dim / 2;

  for (int64_t b = 0; b < t->shape[0]; b++)
    {
      double *row = y + b * dim;

      for (int64_t i = 0; i < half; i++)
        {
          /* exponent = −ln (max_period) · arange (half), f32 */
          const float exponent
              = (float)((double)(float)-log (max_period) * (double)(float)i);
          /* exponent / (half − freq_shift), f32 */
          const float q
              = (float)((double)exponent / (double)(float)(half - freq_shift));
          const float freq = (float)exp ((double)q);
          const float arg = (float)(lf_ref_get (t, b) * (double)freq);

          row[i] = flip_sin_to_cos ? cos (arg) : sin (arg);
          row[half + i] = flip_sin_to_cos ? sin (arg) : cos (arg);
        }
      if (dim % 2 == 1)
        row[dim - 1] = 0.0;
    }
}
