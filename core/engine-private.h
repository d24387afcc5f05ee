/* engine-private.h: LfEngine's fields, shared by engine.c (loading) and
 * pipeline.c (generation). */
#ifndef LF_ENGINE_PRIVATE_H
#define LF_ENGINE_PRIVATE_H

#include "backend.h"
#include "controlnet.h"
#include "diffusers-folder.h"
#include "ip-adapter.h"
#include "linfusion.h"
#include "samplers.h"
#include "text-encoder.h"
#include "unet.h"
#include "vae.h"

struct _LfEngine
{
  LfBackend        *backend;
  LfOps            *ops;
  LfModelFiles     *model;     /* the diffusers folder or checkpoint      */
  LfModelFiles     *configs;   /* --config folder for checkpoints, or NULL */
  LfModelFiles     *linfusion; /* the mounted LinFusion folder, or NULL   */
  LfTokenizer      *tokenizer;
  LfTextEncoder    *text_encoder;
  LfUnet           *unet;
  LfVae            *vae;
  LfSchedulerConfig scheduler;   /* the model's own scheduler           */
  const LfConfig   *unet_config; /* the UNet's config (in model/configs) */
  LfConfig         *unet_config_owned; /* or the built-in one           */

  LfControlNet *controlnet; /* or NULL                               */
  gboolean      controlnet_linfusion; /* LinFusion on it too          */
  LfIpAdapter  *ip_adapter;           /* mounted on the UNet, or NULL         */
  LfClipVision *ip_encoder;           /* its image encoder                    */

  /* The last generation's noise and latents, (1, C, h, w). */
  float  *initial_noise;
  float  *final_latents;
  int64_t latent_shape[4];
};

#endif /* LF_ENGINE_PRIVATE_H */
