/* preview.c: latents to RGB without the VAE, for progress previews. The
 * coefficients are SD-1.x's latent → RGB least-squares fit that A1111 calls
 * "Approx cheap" (sd_samplers_common.py); the result is blurry and 8×
 * smaller but costs a multiply-add per pixel. */
#include "config.h"

#include <math.h>

#include "linfusion.h"

/* clang-format off */
static const float coef[4][3] = {
  {  0.298f,  0.207f,  0.208f },
  {  0.187f,  0.286f,  0.173f },
  { -0.158f,  0.189f,  0.264f },
  { -0.184f, -0.271f, -0.473f },
};
/* clang-format on */

void
lf_latents_preview_rgb8 (const float  *latents,
                         const int64_t shape[4],
                         guint8       *rgb)
{
  const int64_t C = MIN (shape[1], 4), hw = shape[2] * shape[3];

  for (int64_t p = 0; p < hw; p++)
    for (int r = 0; r < 3; r++)
      {
        float v = 0.0f;

        for (int64_t c = 0; c < C; c++)
          v += latents[c * hw + p] * coef[c][r];
        v = (v + 1.0f) / 2.0f;
        rgb[p * 3 + r] = (guint8)lrintf (CLAMP (v, 0.0f, 1.0f) * 255.0f);
      }
}
