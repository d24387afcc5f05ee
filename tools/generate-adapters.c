/* generate-adapters.c: ControlNet and IP-Adapter for `linfusion generate`
 * (see generate-adapters.h). Defaults follow diffusers'
 * StableDiffusionControlNetPipeline and load_ip_adapter; the ranges are the
 * engine's (lf_request_validate), which the caller runs on the request. */
#include "config.h"

#include <glib/gi18n.h>

#include "generate-adapters.h"
#include "png-io.h"

/* What no one types: "nan" and "inf" must reach the engine's checks. */
#define UNSET (-G_MAXDOUBLE)

void
lf_adapter_options_init (LfAdapterOptions *a)
{
  *a = (LfAdapterOptions){ .control_scale = UNSET,
                           .control_start = UNSET,
                           .control_end = UNSET,
                           .canny_low = UNSET,
                           .canny_high = UNSET,
                           .tile_rate = UNSET,
                           .ip_scale = UNSET };
}

void
lf_adapter_options_clear (LfAdapterOptions *a)
{
  g_clear_pointer (&a->controlnet, g_free);
  g_clear_pointer (&a->control_image, g_free);
  g_clear_pointer (&a->control_preprocess, g_free);
  g_clear_pointer (&a->ip_adapter, g_free);
  g_clear_pointer (&a->image_encoder, g_free);
  g_clear_pointer (&a->ip_image, g_free);
}

void
lf_adapter_options_add_entries (LfAdapterOptions *a, GOptionContext *context)
{
  /* clang-format off */
  const GOptionEntry entries[] = {
    { "controlnet", 0, 0, G_OPTION_ARG_FILENAME, &a->controlnet, N_ ("ControlNet: a diffusers folder or a single .safetensors file"), N_ ("PATH") },
    { "control-image", 0, 0, G_OPTION_ARG_FILENAME, &a->control_image, N_ ("PNG that guides the ControlNet (resized to the output size)"), N_ ("FILE") },
    { "control-scale", 0, 0, G_OPTION_ARG_DOUBLE, &a->control_scale, N_ ("Weight of the ControlNet's residuals (default 1)"), N_ ("S") },
    { "control-start", 0, 0, G_OPTION_ARG_DOUBLE, &a->control_start, N_ ("Fraction of the steps after which the ControlNet starts (default 0)"), N_ ("F") },
    { "control-end", 0, 0, G_OPTION_ARG_DOUBLE, &a->control_end, N_ ("Fraction of the steps after which it stops (default 1)"), N_ ("F") },
    { "control-preprocess", 0, 0, G_OPTION_ARG_STRING, &a->control_preprocess, N_ ("none (default), canny or tile"), N_ ("NAME") },
    { "canny-low", 0, 0, G_OPTION_ARG_DOUBLE, &a->canny_low, N_ ("Canny's lower threshold (default 100)"), N_ ("L") },
    { "canny-high", 0, 0, G_OPTION_ARG_DOUBLE, &a->canny_high, N_ ("Canny's upper threshold (default 200)"), N_ ("H") },
    { "tile-rate", 0, 0, G_OPTION_ARG_DOUBLE, &a->tile_rate, N_ ("Reduction of the tile preprocessor, 1 to 64 (default 2)"), N_ ("R") },
    { "control-guess-mode", 0, 0, G_OPTION_ARG_NONE, &a->guess_mode, N_ ("diffusers' guess mode: the ControlNet sees no prompt"), NULL },
    { "control-linfusion", 0, 0, G_OPTION_ARG_NONE, &a->control_linfusion, N_ ("Mount LinFusion on the ControlNet too (an approximation; needs --linfusion)"), NULL },
    { "ip-adapter", 0, 0, G_OPTION_ARG_FILENAME, &a->ip_adapter, N_ ("IP-Adapter file (.safetensors)"), N_ ("FILE") },
    { "image-encoder", 0, 0, G_OPTION_ARG_FILENAME, &a->image_encoder, N_ ("The IP-Adapter's image encoder folder (default: image_encoder/ beside the adapter or in its parent folder)"), N_ ("DIR") },
    { "ip-adapter-image", 0, 0, G_OPTION_ARG_FILENAME, &a->ip_image, N_ ("PNG the IP-Adapter takes as reference"), N_ ("FILE") },
    { "ip-adapter-scale", 0, 0, G_OPTION_ARG_DOUBLE, &a->ip_scale, N_ ("Weight of the reference image (default 1)"), N_ ("S") },
    G_OPTION_ENTRY_NULL
  };
  /* clang-format on */

  /* GLib copies the entries. */
  g_option_context_add_main_entries (context, entries, NULL);
}

static gboolean
fail (GError **error, const char *message)
{
  g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST, message);
  return FALSE;
}

/* The option name of the first of @values that was given (is not UNSET),
 * or NULL. */
static const char *
first_given (const double *values, const char *const *names, int n)
{
  for (int i = 0; i < n; i++)
    if (values[i] != UNSET)
      return names[i];
  return NULL;
}

static gboolean
check_control (LfAdapterOptions *a, const char *linfusion, GError **error)
{
  const double values[] = { a->control_scale, a->control_start, a->control_end,
                            a->canny_low,     a->canny_high,    a->tile_rate };
  const char *const names[]
      = { "--control-scale", "--control-start", "--control-end",
          "--canny-low",     "--canny-high",    "--tile-rate" };
  const char         *given = first_given (values, names, 6);
  LfControlPreprocess kind = LF_CONTROL_PREPROCESS_NONE;
  g_autofree char    *message = NULL;

  if (a->control_image != NULL && a->controlnet == NULL)
    return fail (error, _ ("--control-image needs --controlnet"));
  if (a->controlnet != NULL && a->control_image == NULL)
    return fail (error, _ ("--controlnet needs --control-image"));
  if (a->controlnet == NULL)
    {
      if (given == NULL && a->control_preprocess != NULL)
        given = "--control-preprocess";
      if (given == NULL && a->guess_mode)
        given = "--control-guess-mode";
      if (given == NULL && a->control_linfusion)
        given = "--control-linfusion";
    }
  if (a->controlnet == NULL && given != NULL)
    {
      message = g_strdup_printf (_ ("%s needs --controlnet"), given);
      return fail (error, message);
    }
  if (a->control_linfusion && linfusion == NULL)
    return fail (error, _ ("--control-linfusion needs --linfusion"));
  if (a->control_preprocess != NULL
      && !lf_control_preprocess_from_string (a->control_preprocess, &kind))
    {
      message = g_strdup_printf (
          _ ("Unknown control preprocessor “%s” (none, canny, tile)"),
          a->control_preprocess);
      return fail (error, message);
    }
  if (kind != LF_CONTROL_PREPROCESS_CANNY
      && (a->canny_low != UNSET || a->canny_high != UNSET))
    return fail (error, _ ("--canny-low and --canny-high need "
                           "--control-preprocess canny"));
  if (kind != LF_CONTROL_PREPROCESS_TILE && a->tile_rate != UNSET)
    return fail (error, _ ("--tile-rate needs --control-preprocess tile"));
  return TRUE;
}

static gboolean
check_ip_adapter (const LfAdapterOptions *a, GError **error)
{
  if (a->ip_adapter != NULL && a->ip_image == NULL)
    return fail (error, _ ("--ip-adapter needs --ip-adapter-image"));
  if (a->ip_image != NULL && a->ip_adapter == NULL)
    return fail (error, _ ("--ip-adapter-image needs --ip-adapter"));
  if (a->ip_adapter == NULL && a->image_encoder != NULL)
    return fail (error, _ ("--image-encoder needs --ip-adapter"));
  if (a->ip_adapter == NULL && a->ip_scale != UNSET)
    return fail (error, _ ("--ip-adapter-scale needs --ip-adapter"));
  return TRUE;
}

static void
default_to (double *value, double fallback)
{
  if (*value == UNSET)
    *value = fallback;
}

gboolean
lf_adapter_options_check (LfAdapterOptions *a,
                          const char       *linfusion,
                          GError          **error)
{
  if (!check_control (a, linfusion, error) || !check_ip_adapter (a, error))
    return FALSE;
  /* lf_request_new's defaults, spelled out for the parameters text */
  default_to (&a->control_scale, 1.0);
  default_to (&a->control_start, 0.0);
  default_to (&a->control_end, 1.0);
  default_to (&a->canny_low, 100.0);
  default_to (&a->canny_high, 200.0);
  default_to (&a->tile_rate, 2.0);
  default_to (&a->ip_scale, 1.0);
  /* The canonical name, for the parameters text: "Canny" is "canny". */
  {
    LfControlPreprocess kind = LF_CONTROL_PREPROCESS_NONE;

    if (a->control_preprocess != NULL)
      lf_control_preprocess_from_string (a->control_preprocess, &kind);
    g_free (a->control_preprocess);
    a->control_preprocess = g_strdup (lf_control_preprocess_to_string (kind));
  }
  return TRUE;
}

static gboolean
set_control (const LfAdapterOptions *a,
             LfRequest              *r,
             gint64                 *width,
             gint64                 *height,
             GError                **error)
{
  g_autofree guint8  *rgb = NULL;
  int64_t             w, h;
  LfControlPreprocess kind = LF_CONTROL_PREPROCESS_NONE;

  rgb = lf_png_read_rgb8 (a->control_image, &w, &h, error);
  if (rgb == NULL)
    return FALSE;
  if (*width < 0)
    *width = w / 8 * 8;
  if (*height < 0)
    *height = h / 8 * 8;
  lf_control_preprocess_from_string (a->control_preprocess, &kind);
  lf_request_set_control_image (r, w, h, rgb, (size_t)(w * 3));
  lf_request_set_control_preprocess (r, kind);
  lf_request_set_canny_thresholds (r, a->canny_low, a->canny_high);
  lf_request_set_tile_rate (r, a->tile_rate);
  lf_request_set_control_scale (r, a->control_scale);
  lf_request_set_control_range (r, a->control_start, a->control_end);
  lf_request_set_control_guess_mode (r, a->guess_mode);
  return TRUE;
}

gboolean
lf_adapter_options_set_request (const LfAdapterOptions *a,
                                LfRequest              *r,
                                gint64                 *width,
                                gint64                 *height,
                                GError                **error)
{
  if (a->control_image != NULL && !set_control (a, r, width, height, error))
    return FALSE;
  if (a->ip_image != NULL)
    {
      g_autofree guint8 *rgb = NULL;
      int64_t            w, h;

      rgb = lf_png_read_rgb8 (a->ip_image, &w, &h, error);
      if (rgb == NULL)
        return FALSE;
      lf_request_set_ip_adapter_image (r, w, h, rgb, (size_t)(w * 3));
      lf_request_set_ip_adapter_scale (r, a->ip_scale);
    }
  return TRUE;
}

gboolean
lf_adapter_options_load (const LfAdapterOptions *a,
                         LfEngine               *engine,
                         GError                **error)
{
  /* Before the ControlNet, so that loading it mounts LinFusion at once. */
  if (a->control_linfusion
      && !lf_engine_set_controlnet_linfusion (engine, TRUE, error))
    return FALSE;
  if (a->controlnet != NULL
      && !lf_engine_load_controlnet (engine, a->controlnet, error))
    return FALSE;
  if (a->ip_adapter != NULL
      && !lf_engine_load_ip_adapter (engine, a->ip_adapter, a->image_encoder,
                                     error))
    return FALSE;
  return TRUE;
}

static void
append_number (GString *text, const char *key, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (text, ", %s: %s", key,
                          g_ascii_formatd (buf, sizeof buf, "%g", value));
}

static void
append_name (GString *text, const char *key, const char *path)
{
  g_autofree char *name = g_path_get_basename (path);

  g_string_append_printf (text, ", %s: %s", key, name);
}

void
lf_adapter_options_append_parameters (const LfAdapterOptions *a, GString *text)
{
  if (a->controlnet != NULL)
    {
      append_name (text, "ControlNet", a->controlnet);
      append_number (text, "Control scale", a->control_scale);
      append_number (text, "Control start", a->control_start);
      append_number (text, "Control end", a->control_end);
      g_string_append_printf (text, ", Control preprocess: %s",
                              a->control_preprocess);
      if (g_str_equal (a->control_preprocess, "canny"))
        {
          append_number (text, "Canny low", a->canny_low);
          append_number (text, "Canny high", a->canny_high);
        }
      if (g_str_equal (a->control_preprocess, "tile"))
        append_number (text, "Tile rate", a->tile_rate);
      if (a->guess_mode)
        g_string_append (text, ", Guess mode: on");
      if (a->control_linfusion)
        g_string_append (text, ", ControlNet LinFusion: on");
    }
  if (a->ip_adapter != NULL)
    {
      append_name (text, "IP-Adapter", a->ip_adapter);
      append_number (text, "IP-Adapter scale", a->ip_scale);
    }
}
