/* request.c: GimpProcedureConfig → LfSettings → LfRequest, with the same
 * semantics as the CLI's `linfusion generate` (tools/cmd-generate.c): its
 * request building and its A1111 "parameters" text. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "request.h"

#define LAYER_NAME_CHARS 64

static char *
file_path (GimpProcedureConfig *config, const char *property)
{
  g_autoptr (GFile) file = NULL;

  g_object_get (config, property, &file, NULL);
  return file != NULL ? g_file_get_path (file) : NULL;
}

static gboolean
has_property (GimpProcedureConfig *config, const char *property)
{
  return g_object_class_find_property (G_OBJECT_GET_CLASS (config), property)
         != NULL;
}

static gboolean
invalid (GError **error, const char *message)
{
  g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST, message);
  return FALSE;
}

/* The arguments of add_adapter_arguments (procedures.c), and the pairs
 * that only make sense together. */
static gboolean
read_adapters (GimpProcedureConfig *config, LfSettings *s, GError **error)
{
  g_object_get (config, "control-layer", &s->control_layer,
                "control-preprocess", &s->control_preprocess, "control-scale",
                &s->control_scale, "control-start", &s->control_start,
                "control-end", &s->control_end, "canny-low", &s->canny_low,
                "canny-high", &s->canny_high, "tile-rate", &s->tile_rate,
                "control-guess-mode", &s->guess_mode, "control-linfusion",
                &s->control_linfusion, "ip-adapter-image", &s->ip_layer,
                "ip-adapter-scale", &s->ip_scale, NULL);
  s->controlnet = file_path (config, "control-model");
  s->ip_adapter = file_path (config, "ip-adapter");
  s->ip_file = file_path (config, "ip-adapter-file");
  s->image_encoder = file_path (config, "image-encoder");
  if (s->control_layer != NULL && s->controlnet == NULL)
    return invalid (error, _ ("A control layer needs a ControlNet (argument "
                              "“control-model”)"));
  if (s->controlnet != NULL && s->control_layer == NULL)
    return invalid (error, _ ("A ControlNet needs a control layer (argument "
                              "“control-layer”)"));
  if (s->control_linfusion && s->linfusion == NULL)
    return invalid (error, _ ("LinFusion on the ControlNet needs a LinFusion "
                              "folder (argument “linfusion”)"));
  if (s->ip_layer != NULL && s->ip_file != NULL)
    return invalid (error, _ ("Give the IP-Adapter's reference as a layer "
                              "(“ip-adapter-image”) or as a file "
                              "(“ip-adapter-file”), not both"));
  if (s->ip_adapter != NULL && s->ip_layer == NULL && s->ip_file == NULL)
    return invalid (error, _ ("An IP-Adapter needs a reference image "
                              "(argument “ip-adapter-image” or "
                              "“ip-adapter-file”)"));
  if (s->ip_adapter == NULL && (s->ip_layer != NULL || s->ip_file != NULL))
    return invalid (error, _ ("A reference image needs an IP-Adapter "
                              "(argument “ip-adapter”)"));
  if (s->ip_adapter == NULL && s->image_encoder != NULL)
    return invalid (error, _ ("An image encoder needs an IP-Adapter "
                              "(argument “ip-adapter”)"));
  return TRUE;
}

LfSettings *
lf_settings_from_config (GimpProcedureConfig *config, GError **error)
{
  g_autoptr (LfSettings) s = g_new0 (LfSettings, 1);
  LfSamplerKind kind;
  gint          seed;

  g_object_get (config, "prompt", &s->prompt, "negative-prompt",
                &s->negative_prompt, "sampler", &s->sampler, "width", &s->width,
                "height", &s->height, "steps", &s->steps, "guidance",
                &s->guidance, "seed", &seed, NULL);
  s->model = file_path (config, "model");
  s->linfusion = file_path (config, "linfusion");
  s->img2img = has_property (config, "strength");
  if (s->img2img)
    g_object_get (config, "strength", &s->strength, NULL);
  if (s->prompt == NULL)
    s->prompt = g_strdup ("");
  if (s->negative_prompt == NULL)
    s->negative_prompt = g_strdup ("");
  s->seed
      = seed >= 0 ? (guint32)seed : (guint32)g_random_int_range (0, G_MAXINT);
  if (s->model == NULL)
    {
      g_set_error_literal (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                           _ ("No model given: choose a diffusers folder or a "
                              ".safetensors checkpoint (argument “model”)"));
      return NULL;
    }
  if (s->sampler == NULL || !lf_sampler_kind_from_string (s->sampler, &kind))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("Unknown sampler “%s” (ddim, euler, euler-a, dpmpp-2m, "
                      "dpmpp-2m-karras)"),
                   s->sampler != NULL ? s->sampler : "");
      return NULL;
    }
  if (has_property (config, "control-model")
      && !read_adapters (config, s, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
lf_settings_free (LfSettings *s)
{
  if (s == NULL)
    return;
  g_free (s->prompt);
  g_free (s->negative_prompt);
  g_free (s->model);
  g_free (s->linfusion);
  g_free (s->sampler);
  g_free (s->controlnet);
  g_clear_object (&s->control_layer);
  g_free (s->control_preprocess);
  g_free (s->ip_adapter);
  g_free (s->image_encoder);
  g_clear_object (&s->ip_layer);
  g_free (s->ip_file);
  g_free (s);
}

LfRequest *
lf_settings_to_request (const LfSettings *s, GError **error)
{
  g_autoptr (LfRequest) r = lf_request_new ();
  LfSamplerKind kind = LF_SAMPLER_DDIM;

  lf_sampler_kind_from_string (s->sampler, &kind);
  lf_request_set_prompt (r, s->prompt);
  lf_request_set_negative_prompt (r, s->negative_prompt);
  lf_request_set_size (r, s->width, s->height);
  lf_request_set_steps (r, s->steps);
  lf_request_set_guidance (r, s->guidance);
  lf_request_set_seed (r, s->seed);
  lf_request_set_sampler (r, kind);
  if (s->img2img)
    lf_request_set_strength (r, s->strength);
  if (s->controlnet != NULL)
    {
      LfControlPreprocess pre = LF_CONTROL_PREPROCESS_NONE;

      lf_control_preprocess_from_string (s->control_preprocess, &pre);
      lf_request_set_control_preprocess (r, pre);
      lf_request_set_canny_thresholds (r, s->canny_low, s->canny_high);
      lf_request_set_tile_rate (r, s->tile_rate);
      lf_request_set_control_guess_mode (r, s->guess_mode);
      lf_request_set_control_scale (r, s->control_scale);
      lf_request_set_control_range (r, s->control_start, s->control_end);
    }
  if (s->ip_adapter != NULL)
    lf_request_set_ip_adapter_scale (r, s->ip_scale);
  if (!lf_request_validate (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

static const char *
a1111_sampler_name (const char *sampler)
{
  static const struct
  {
    const char *ours, *a1111;
  } names[] = { { "ddim", "DDIM" },
                { "euler", "Euler" },
                { "euler-a", "Euler a" },
                { "dpmpp-2m", "DPM++ 2M" },
                { "dpmpp-2m-karras", "DPM++ 2M Karras" } };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (sampler, names[i].ours) == 0)
      return names[i].a1111;
  return sampler;
}

/* A1111's quote (): values with a comma, colon or newline as a JSON
 * string. */
static void
append_quoted (GString *s, const char *value)
{
  if (strpbrk (value, ",:\n\"") == NULL)
    {
      g_string_append (s, value);
      return;
    }
  g_string_append_c (s, '"');
  for (const char *c = value; *c != '\0'; c++)
    if (*c == '"' || *c == '\\')
      g_string_append_printf (s, "\\%c", *c);
    else if (*c == '\n')
      g_string_append (s, "\\n");
    else
      g_string_append_c (s, *c);
  g_string_append_c (s, '"');
}

static void
append_number (GString *s, const char *key, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* Locale-independent: the plug-in runs in the user's locale. */
  g_string_append_printf (s, ", %s: %s", key,
                          g_ascii_formatd (buf, sizeof buf, "%g", value));
}

/* The CLI's entries (tools/generate-adapters.c), in its order. */
static void
append_adapters (GString *t, const LfSettings *s)
{
  if (s->controlnet != NULL)
    {
      g_autofree char *name = g_path_get_basename (s->controlnet);

      g_string_append (t, ", ControlNet: ");
      append_quoted (t, name);
      append_number (t, "Control scale", s->control_scale);
      append_number (t, "Control start", s->control_start);
      append_number (t, "Control end", s->control_end);
      g_string_append_printf (t, ", Control preprocess: %s",
                              s->control_preprocess);
      if (g_strcmp0 (s->control_preprocess, "canny") == 0)
        {
          append_number (t, "Canny low", s->canny_low);
          append_number (t, "Canny high", s->canny_high);
        }
      if (g_strcmp0 (s->control_preprocess, "tile") == 0)
        append_number (t, "Tile rate", s->tile_rate);
      if (s->guess_mode)
        g_string_append (t, ", Guess mode: on");
      if (s->control_linfusion)
        g_string_append (t, ", ControlNet LinFusion: on");
    }
  if (s->ip_adapter != NULL)
    {
      g_autofree char *name = g_path_get_basename (s->ip_adapter);

      g_string_append (t, ", IP-Adapter: ");
      append_quoted (t, name);
      append_number (t, "IP-Adapter scale", s->ip_scale);
    }
}

static void
append_path (GString *t, const char *key, const char *path)
{
  if (path == NULL)
    return;
  g_string_append_printf (t, ", %s: ", key);
  append_quoted (t, path);
}

char *
lf_settings_to_parameters (const LfSettings *s)
{
  g_autofree char *model = g_path_get_basename (s->model);
  GString         *t = g_string_new (s->prompt);

  g_string_append_printf (t, "\nNegative prompt: %s\n", s->negative_prompt);
  g_string_append_printf (t, "Steps: %d, Sampler: %s", s->steps,
                          a1111_sampler_name (s->sampler));
  append_number (t, "CFG scale", s->guidance);
  g_string_append_printf (t, ", Seed: %u, Size: %dx%d, Model: ", s->seed,
                          s->width, s->height);
  append_quoted (t, model);
  if (s->linfusion != NULL)
    {
      g_autofree char *lin = g_path_get_basename (s->linfusion);

      g_string_append (t, ", LinFusion: ");
      append_quoted (t, lin);
    }
  if (s->img2img)
    append_number (t, "Denoising strength", s->strength);
  append_adapters (t, s);
  g_string_append_printf (t, ", Version: linfusion %s", LF_VERSION_STRING);
  append_path (t, "Model path", s->model);
  append_path (t, "LinFusion path", s->linfusion);
  append_path (t, "ControlNet path", s->controlnet);
  append_path (t, "IP-Adapter path", s->ip_adapter);
  append_path (t, "Image encoder path", s->image_encoder);
  append_path (t, "IP-Adapter image file", s->ip_file);
  return g_string_free (t, FALSE);
}

char *
lf_settings_get_layer_name (const LfSettings *s)
{
  g_autofree char *line = g_strndup (s->prompt, strcspn (s->prompt, "\r\n"));
  g_autofree char *head = NULL;

  g_strstrip (line);
  if (line[0] == '\0' || !g_utf8_validate (line, -1, NULL))
    return g_strdup (_ ("LinFusion"));
  if (g_utf8_strlen (line, -1) <= LAYER_NAME_CHARS)
    return g_steal_pointer (&line);
  head = g_utf8_substring (line, 0, LAYER_NAME_CHARS - 1);
  return g_strconcat (head, "…", NULL);
}
