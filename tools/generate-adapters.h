/* generate-adapters.h: the ControlNet and IP-Adapter options of `linfusion
 * generate`: their command-line entries, the checks that need no model,
 * the images read into the request, the engine loading and the A1111
 * "parameters" entries. */
#ifndef LF_GENERATE_ADAPTERS_H
#define LF_GENERATE_ADAPTERS_H

#include "linfusion.h"

typedef struct
{
  char *controlnet;    /* a diffusers folder or a .safetensors, or NULL */
  char *control_image; /* a PNG, or NULL                                */
  char *control_preprocess;
  /* -G_MAXDOUBLE until given: an option without its model is caught */
  double   control_scale, control_start, control_end;
  double   canny_low, canny_high, tile_rate;
  gboolean guess_mode, control_linfusion;
  char    *ip_adapter; /* a .safetensors, or NULL                 */
  char    *image_encoder;
  char    *ip_image; /* a PNG, or NULL                          */
  double   ip_scale; /* -G_MAXDOUBLE until given                */
} LfAdapterOptions;

/* Every value unset (NULL, -G_MAXDOUBLE, FALSE). */
void lf_adapter_options_init (LfAdapterOptions *a);
void lf_adapter_options_clear (LfAdapterOptions *a);

/* Adds the options to @context's main group, which points into @a. */
void lf_adapter_options_add_entries (LfAdapterOptions *a,
                                     GOptionContext   *context);

/* The combinations that make no sense, before anything is read or loaded:
 * a control image without a ControlNet and the reverse, a setting of a
 * model that is not given, an unknown preprocessor, --control-linfusion
 * without --linfusion (@linfusion NULL). Fills in the defaults of the
 * values not given. Returns: %FALSE with LF_ERROR_INVALID_REQUEST. */
gboolean lf_adapter_options_check (LfAdapterOptions *a,
                                   const char       *linfusion,
                                   GError          **error);

/* Reads the control and reference PNGs into @request. Without a size yet
 * (*@width or *@height < 0), the control image's own, rounded down to a
 * multiple of 8 as diffusers' VaeImageProcessor.get_default_height_width.
 * Returns: %FALSE with the PNG reader's error naming the file. */
gboolean lf_adapter_options_set_request (const LfAdapterOptions *a,
                                         LfRequest              *request,
                                         gint64                 *width,
                                         gint64                 *height,
                                         GError                **error);

/* Loads the ControlNet (with LinFusion on it when asked) and the
 * IP-Adapter into @engine, which has its model and LinFusion loaded. */
gboolean lf_adapter_options_load (const LfAdapterOptions *a,
                                  LfEngine               *engine,
                                  GError                **error);

/* ", ControlNet: NAME, Control scale: S, …, IP-Adapter: NAME, IP-Adapter
 * scale: S" for what is used; numbers in the C locale. */
void lf_adapter_options_append_parameters (const LfAdapterOptions *a,
                                           GString                *text);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LfAdapterOptions, lf_adapter_options_clear)

#endif /* LF_GENERATE_ADAPTERS_H */
