/* request.h: a procedure's GimpProcedureConfig read once into LfSettings,
 * then turned into an LfRequest, the A1111 "parameters" text of the
 * linfusion-parameters parasite and the new layer's name. */
#ifndef LF_PLUGIN_REQUEST_H
#define LF_PLUGIN_REQUEST_H

#include <libgimp/gimp.h>

#include "linfusion.h"

G_BEGIN_DECLS

typedef struct
{
  char    *prompt;
  char    *negative_prompt;
  char    *model;     /* a path                            */
  char    *linfusion; /* a path, or NULL                   */
  char    *sampler;   /* "ddim", "euler", … (choice nick)  */
  gint     width, height, steps;
  gdouble  guidance;
  gboolean img2img;  /* the config has "strength"         */
  gdouble  strength; /* img2img only                      */
  guint32  seed;     /* the one used: -1 already resolved */
  /* ControlNet and IP-Adapter (generate and img2img only) */
  char         *controlnet;         /* a path, or NULL                 */
  GimpDrawable *control_layer;      /* (owned) or NULL                 */
  char         *control_preprocess; /* "none", "canny", "tile"         */
  gdouble       control_scale, control_start, control_end;
  gdouble       canny_low, canny_high;
  gdouble       tile_rate;
  gboolean      guess_mode;
  gboolean      control_linfusion; /* LinFusion on the ControlNet too */
  char         *ip_adapter;        /* a path, or NULL                      */
  char         *image_encoder;     /* a path, or NULL: beside the adapter  */
  GimpDrawable *ip_layer;          /* (owned) the reference, or NULL       */
  char         *ip_file;           /* the reference as a path, or NULL     */
  gdouble       ip_scale;
} LfSettings;

/**
 * lf_settings_from_config:
 *
 * Reads every argument; a seed of -1 becomes a random one in
 * 0…G_MAXINT - 1, so it can be given back as the seed argument.
 *
 * Returns: (transfer full) (nullable): the settings, or %NULL with an
 *   LF_ERROR_INVALID_REQUEST error (no model, unknown sampler, a control
 *   layer without a control model or the reverse, an IP-Adapter without a
 *   reference or the reverse, a reference as both layer and file).
 */
LfSettings *lf_settings_from_config (GimpProcedureConfig *config,
                                     GError             **error);
void        lf_settings_free (LfSettings *settings);

/* Returns: (transfer full) (nullable): a validated request (without the
 * img2img init image and the control and reference images: layer-source.c
 * reads those), or %NULL with the engine's validation error. */
LfRequest *lf_settings_to_request (const LfSettings *settings, GError **error);

/* Returns: (transfer full): A1111's "parameters" text, as the CLI writes it
 * into PNGs, plus the full model, LinFusion, ControlNet and IP-Adapter
 * paths. */
char *lf_settings_to_parameters (const LfSettings *settings);

/* Returns: (transfer full): the prompt's first line, shortened. */
char *lf_settings_get_layer_name (const LfSettings *settings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSettings, lf_settings_free)

G_END_DECLS

#endif /* LF_PLUGIN_REQUEST_H */
