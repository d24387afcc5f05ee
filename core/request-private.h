/* request-private.h: LfRequest's fields, read by the pipeline. */
#ifndef LF_REQUEST_PRIVATE_H
#define LF_REQUEST_PRIVATE_H

#include "linfusion.h"
#include "samplers.h"

struct _LfRequest
{
  char             *prompt;
  char             *negative_prompt;
  int64_t           width, height;
  int               steps;
  double            guidance;
  guint64           seed;
  LfSamplerKind     sampler;
  gboolean          has_sampler;          /* else the model's scheduler      */
  gboolean          has_scheduler_config; /* overrides sampler             */
  LfSchedulerConfig scheduler;
  gboolean          prompt_weights, long_prompts;
  int               clip_skip;
  guint8           *init_image; /* (init_height, init_width, 3) RGB8, or NULL */
  int64_t           init_width, init_height;
  double            strength;
  float            *init_noise; /* (init_noise_shape), or NULL */
  int               init_noise_ndim;
  int64_t           init_noise_shape[4];
};

#endif /* LF_REQUEST_PRIVATE_H */
