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

  guint8             *control_image; /* (control_height, control_width, 3) */
  int64_t             control_width, control_height;
  LfControlPreprocess control_preprocess;
  double              canny_low, canny_high, tile_rate;
  double              control_scale, control_start, control_end;
  gboolean            guess_mode;
  guint8             *ip_image; /* (ip_height, ip_width, 3), or NULL */
  int64_t             ip_width, ip_height;
  double              ip_scale;
};

/* A packed copy of an RGB8 image with rows of @stride bytes, or NULL. */
guint8 *request_copy_rgb (const guint8 *rgb,
                          int64_t       width,
                          int64_t       height,
                          size_t        stride);

/* The ControlNet and IP-Adapter settings (request-control.c). */
gboolean request_validate_control (const LfRequest *r, GError **error);

#endif /* LF_REQUEST_PRIVATE_H */
