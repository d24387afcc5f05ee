/* estimate-private.h: the formulas behind lf_estimate, exposed for the unit
 * test, which checks them against the real activation plans (lf_unet_plan,
 * lf_vae_plan_decode) on the tiny fixture and against bench/RESULTS.md for
 * SD-1.5's published configs. */
#ifndef LF_ESTIMATE_PRIVATE_H
#define LF_ESTIMATE_PRIVATE_H

#include <glib.h>

#include "json-config.h"

G_BEGIN_DECLS

/* Measured on the 2-core machine of bench/RESULTS.md (2026-11-21). */
#define LF_ESTIMATE_BENCH_THREADS    2
#define LF_ESTIMATE_SD15_UNET_PARAMS 859520964.0
#define LF_ESTIMATE_SD15_VAE_PARAMS  83653863.0

/* Arena bytes of one UNet call on @batch latents of @width × @height
 * pixels, from unet/config.json (block_out_channels, layers_per_block),
 * the latents the sampler keeps included. */
guint64 lf_estimate_unet_bytes (const LfConfig *unet,
                                int             batch,
                                int64_t         width,
                                int64_t         height,
                                GError        **error);

/* Arena bytes of the VAE decode of @width × @height pixels (batch 1), from
 * vae/config.json (block_out_channels, latent_channels), the decoded image
 * included. */
guint64 lf_estimate_vae_decode_bytes (const LfConfig *vae,
                                      int64_t         width,
                                      int64_t         height,
                                      GError        **error);

/* Seconds for text + @steps CFG UNet calls + decode on @n_threads (≥ 1),
 * scaled from SD-1.5's measured rates by the models' parameter counts. */
double lf_estimate_seconds (double   unet_params,
                            double   vae_params,
                            gboolean linfusion,
                            int64_t  width,
                            int64_t  height,
                            int      steps,
                            int      n_threads);

G_END_DECLS

#endif /* LF_ESTIMATE_PRIVATE_H */
