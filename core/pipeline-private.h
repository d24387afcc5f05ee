/* pipeline-private.h: one generation's state, shared by pipeline.c (the
 * stages) and pipeline-adapters.c (ControlNet and IP-Adapter). */
#ifndef LF_PIPELINE_PRIVATE_H
#define LF_PIPELINE_PRIVATE_H

#include "arena.h"
#include "engine-private.h"
#include "request-private.h"

typedef struct
{
  LfEngine        *e;
  const LfRequest *r;
  LfProgressFunc   progress;
  gpointer         user_data;
  GCancellable    *cancel;
  GTimer          *timer;

  int64_t  h, w, c;     /* latent height, width, channels */
  int64_t  n;           /* c · h · w                       */
  int      batch;       /* 2 with guidance, else 1         */
  float   *context;     /* (batch, L, D): [uncond, cond]   */
  int64_t  context_len; /* L                               */
  LfArena *arena;

  /* ControlNet: the embedded control image (1, C0, h, w), or NULL. */
  float  *cond_emb;
  int64_t cond_emb_shape[4];
  /* IP-Adapter: image tokens (batch, T, D) matching the context, or NULL. */
  float  *ip_tokens;
  int64_t ip_tokens_shape[3];
} Generation;

void pipeline_report (Generation *g, LfStage stage, int step, int n_steps);

/* What the engine's ControlNet and IP-Adapter need from the request. */
gboolean pipeline_validate_adapters (const LfEngine  *e,
                                     const LfRequest *r,
                                     GError         **error);

/* Once per generation, before sampling: the control image through its
 * preprocessor and the ControlNet's conditioning embedding; the reference
 * image through CLIPImageProcessor, the image encoder and the projection. */
gboolean pipeline_prepare_adapters (Generation *g, GError **error);
void     pipeline_clear_adapters (Generation *g);

/* Arena bytes of one guided UNet evaluation with its ControlNet. */
size_t pipeline_denoise_plan (const Generation *g);

/**
 * pipeline_unet:
 * @step, @n_steps: the sampler step, for control_guidance_start/end
 *
 * The UNet on @x (batch, C, h, w) at timesteps @t with the generation's
 * context, ControlNet residuals (when the step is controlled) and
 * IP-Adapter tokens, into @out.
 */
gboolean pipeline_unet (Generation     *g,
                        int             step,
                        int             n_steps,
                        const LfTensor *x,
                        const float    *t,
                        LfTensor       *out,
                        GError        **error);

#endif /* LF_PIPELINE_PRIVATE_H */
