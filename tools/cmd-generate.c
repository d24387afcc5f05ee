/* cmd-generate.c: `linfusion generate`: text-to-image or image-to-image into
 * a PNG, with diffusers' defaults and seeds (torch's CPU generator), the
 * settings in A1111's "parameters" text chunk, progress on stderr and
 * Ctrl-C stopping between steps. ControlNet and IP-Adapter options live in
 * generate-adapters.c. */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linfusion.h"

#include "commands.h"
#include "generate-adapters.h"
#include "png-io.h"

typedef struct
{
  char            *model, *config, *linfusion;
  char            *prompt, *negative, *sampler, *scheduler_config;
  gint64           width, height, seed;
  gint             steps, threads, clip_skip;
  gdouble          guidance, strength;
  char            *init_image, *init_noise, *save_latents, *output, *device;
  gboolean         prompt_weights, long_prompts;
  LfAdapterOptions adapters; /* ControlNet and IP-Adapter */
} Options;

static void
options_clear (Options *o)
{
  char **strings[] = {
    &o->model,      &o->config,       &o->linfusion,        &o->prompt,
    &o->negative,   &o->sampler,      &o->scheduler_config, &o->init_image,
    &o->init_noise, &o->save_latents, &o->output,           &o->device
  };

  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    g_clear_pointer (strings[i], g_free);
  lf_adapter_options_clear (&o->adapters);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

static volatile sig_atomic_t interrupted;

static void
on_sigint (int sig)
{
  interrupted = 1;
  /* A second Ctrl-C ends the process at once. */
  signal (sig, SIG_DFL);
}

typedef struct
{
  GCancellable *cancel;
  gboolean      tty;
  double        step_start;
} Progress;

static const char *const stage_names[]
    = { "text", "encode", "sampling", "decode" };

static void
on_progress (const LfProgress *p, gpointer user_data)
{
  Progress *pr = user_data;

  if (interrupted)
    g_cancellable_cancel (pr->cancel);
  if (p->stage == LF_STAGE_SAMPLING && p->step > 0)
    {
      const double per_step = (p->seconds - pr->step_start) / p->step;
      const double eta = per_step * (p->n_steps - p->step);
      char         bar[31];
      int          fill = (int)(30.0 * p->step / p->n_steps);

      memset (bar, '#', (size_t)fill);
      memset (bar + fill, '.', (size_t)(30 - fill));
      bar[30] = '\0';
      if (pr->tty)
        fprintf (stderr, "\r[%s] step %d/%d  %.2f s/step  ETA %.0f s  ", bar,
                 p->step, p->n_steps, per_step, eta);
      else
        fprintf (stderr, "step %d/%d, %.2f s/step, ETA %.0f s\n", p->step,
                 p->n_steps, per_step, eta);
      if (pr->tty && p->step == p->n_steps)
        fputc ('\n', stderr);
    }
  else if (p->stage == LF_STAGE_SAMPLING)
    pr->step_start = p->seconds;
  else if (p->step == 0)
    fprintf (stderr, "%s…%s", stage_names[p->stage], pr->tty ? "\r" : "\n");
}

static const char *
a1111_sampler_name (const Options *o)
{
  static const struct
  {
    const char *ours, *a1111;
  } names[] = { { "ddim", "DDIM" },
                { "euler", "Euler" },
                { "euler-a", "Euler a" },
                { "dpmpp-2m", "DPM++ 2M" },
                { "dpmpp-2m-karras", "DPM++ 2M Karras" } };

  for (gsize i = 0; o->sampler != NULL && i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (o->sampler, names[i].ours))
      return names[i].a1111;
  return "model default";
}

static void
append_number (GString *s, const char *key, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  /* The C locale's decimal point, whatever LANG says: A1111's readers
   * parse these. */
  g_string_append_printf (s, ", %s: %s", key,
                          g_ascii_formatd (buf, sizeof buf, "%g", value));
}

/* A1111's "parameters" text, so other tools read our settings. */
static char *
parameters_text (const Options *o, guint64 seed)
{
  g_autofree char *model = g_path_get_basename (o->model);
  GString         *s = g_string_new (o->prompt);

  g_string_append_printf (s, "\nNegative prompt: %s\n", o->negative);
  g_string_append_printf (s, "Steps: %d, Sampler: %s", o->steps,
                          a1111_sampler_name (o));
  append_number (s, "CFG scale", o->guidance);
  g_string_append_printf (s,
                          ", Seed: %" G_GUINT64_FORMAT
                          ", Size: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                          ", Model: %s",
                          seed, o->width, o->height, model);
  if (o->scheduler_config != NULL)
    g_string_append_printf (s, ", Scheduler config: %s", o->scheduler_config);
  if (o->linfusion != NULL)
    {
      g_autofree char *lin = g_path_get_basename (o->linfusion);

      g_string_append_printf (s, ", LinFusion: %s", lin);
    }
  if (o->init_image != NULL)
    append_number (s, "Denoising strength", o->strength);
  if (o->clip_skip > 0)
    g_string_append_printf (s, ", Clip skip: %d", o->clip_skip + 1);
  if (o->prompt_weights)
    g_string_append (s, ", Emphasis: Original");
  if (o->long_prompts)
    g_string_append (s, ", Long prompts: on");
  lf_adapter_options_append_parameters (&o->adapters, s);
  g_string_append_printf (s, ", Version: linfusion %s", LF_VERSION_STRING);
  return g_string_free (s, FALSE);
}

/* FILE.safetensors:TENSOR into the request. */
static gboolean
set_init_noise (LfRequest *request, const char *spec, GError **error)
{
  const char       *colon = strrchr (spec, ':');
  g_autofree char  *file = NULL;
  g_autofree float *noise = NULL;
  int64_t           shape[4];
  int               ndim;

  if (colon == NULL || colon == spec || colon[1] == '\0')
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("--init-noise wants FILE.safetensors:TENSOR, not “%s”"),
                   spec);
      return FALSE;
    }
  file = g_strndup (spec, (gsize)(colon - spec));
  noise = lf_tensor_file_read (file, colon + 1, &ndim, shape, error);
  if (noise == NULL)
    return FALSE;
  lf_request_set_init_noise (request, noise, ndim, shape);
  return TRUE;
}

static gboolean
set_init_image (LfRequest *request, Options *o, GError **error)
{
  g_autofree guint8 *rgb = NULL;
  int64_t            w, h;

  rgb = lf_png_read_rgb8 (o->init_image, &w, &h, error);
  if (rgb == NULL)
    return FALSE;
  /* Without --width/--height the image's own size, as diffusers. */
  if (o->width < 0)
    o->width = w;
  if (o->height < 0)
    o->height = h;
  lf_request_set_init_image (request, w, h, rgb, (size_t)(w * 3));
  lf_request_set_strength (request, o->strength);
  return TRUE;
}

static LfRequest *
build_request (Options *o, GError **error)
{
  g_autoptr (LfRequest) r = lf_request_new ();
  LfSamplerKind kind;

  if (o->init_image != NULL && !set_init_image (r, o, error))
    return NULL;
  if (!lf_adapter_options_set_request (&o->adapters, r, &o->width, &o->height,
                                       error))
    return NULL;
  if (o->width < 0)
    o->width = 512;
  if (o->height < 0)
    o->height = 512;
  lf_request_set_prompt (r, o->prompt);
  lf_request_set_negative_prompt (r, o->negative);
  lf_request_set_size (r, o->width, o->height);
  lf_request_set_steps (r, o->steps);
  lf_request_set_guidance (r, o->guidance);
  lf_request_set_seed (r, (guint64)o->seed);
  lf_request_set_clip_skip (r, o->clip_skip);
  lf_request_set_prompt_weights (r, o->prompt_weights);
  lf_request_set_long_prompts (r, o->long_prompts);
  lf_request_set_strength (r, o->strength);
  if (o->sampler != NULL)
    {
      if (!lf_sampler_kind_from_string (o->sampler, &kind))
        {
          g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                       _ ("Unknown sampler “%s” (ddim, euler, euler-a, "
                          "dpmpp-2m, dpmpp-2m-karras)"),
                       o->sampler);
          return NULL;
        }
      lf_request_set_sampler (r, kind);
    }
  if (o->scheduler_config != NULL
      && !lf_request_set_scheduler_config (r, o->scheduler_config, error))
    return NULL;
  if (o->init_noise != NULL && !set_init_noise (r, o->init_noise, error))
    return NULL;
  if (!lf_request_validate (r, error))
    return NULL;
  return g_steal_pointer (&r);
}

static gboolean
save_latents (LfEngine *engine, const char *path, GError **error)
{
  LfNamedTensor t[2]
      = { { "initial_noise", NULL, 4, { 0 } }, { "latents", NULL, 4, { 0 } } };

  t[0].data = lf_engine_get_initial_noise (engine, t[0].shape);
  t[1].data = lf_engine_get_final_latents (engine, t[1].shape);
  return lf_tensor_file_write (path, t, 2, error);
}

static int
run (Options *o, GError **error)
{
  g_autoptr (LfRequest) request = NULL;
  g_autoptr (LfEngine) engine = NULL;
  g_autoptr (LfSink) sink = NULL;
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_autofree char *params = NULL;
  Progress         progress = { cancel, isatty (2), 0.0 };
  gboolean         random_seed = o->seed < 0;

  if (random_seed)
    o->seed = g_random_int ();
  if ((request = build_request (o, error)) == NULL
      || (engine = lf_engine_new (o->device, o->threads, error)) == NULL
      || !lf_engine_load_model (engine, o->model, o->config, error)
      || (o->linfusion != NULL
          && !lf_engine_load_linfusion (engine, o->linfusion, error))
      || !lf_adapter_options_load (&o->adapters, engine, error))
    return 1;
  /* Announced once the run can start, so errors stay one line. */
  if (random_seed)
    fprintf (stderr, "seed: %" G_GINT64_FORMAT "\n", o->seed);
  params = parameters_text (o, (guint64)o->seed);
  sink = lf_png_sink_new (o->output, params);
  signal (SIGINT, on_sigint);
  if (!lf_engine_generate (engine, request, sink, on_progress, &progress,
                           cancel, error))
    return g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? 130 : 1;
  signal (SIGINT, SIG_DFL);
  if (o->save_latents != NULL && !save_latents (engine, o->save_latents, error))
    return 1;
  fprintf (stderr, "wrote %s\n", o->output);
  return 0;
}

int
lf_cmd_generate (int argc, char **argv)
{
  g_auto (Options) o = { .width = -1,
                         .height = -1,
                         .steps = 25,
                         .guidance = 7.5,
                         .seed = -1,
                         .strength = 0.75 };
  /* clang-format off */
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &o.model, N_ ("Diffusers folder or single-file checkpoint"), N_ ("PATH") },
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &o.config, N_ ("Diffusers folder with the configs and tokenizer of a single-file checkpoint"), N_ ("DIR") },
    { "linfusion", 'l', 0, G_OPTION_ARG_FILENAME, &o.linfusion, N_ ("LinFusion folder to mount on the UNet"), N_ ("DIR") },
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &o.prompt, N_ ("What to draw"), N_ ("TEXT") },
    { "negative-prompt", 'n', 0, G_OPTION_ARG_STRING, &o.negative, N_ ("What to avoid"), N_ ("TEXT") },
    { "width", 'W', 0, G_OPTION_ARG_INT64, &o.width, N_ ("Width, a multiple of 8 (default 512, or the init or control image's)"), N_ ("W") },
    { "height", 'H', 0, G_OPTION_ARG_INT64, &o.height, N_ ("Height, a multiple of 8 (default 512, or the init or control image's)"), N_ ("H") },
    { "steps", 's', 0, G_OPTION_ARG_INT, &o.steps, N_ ("Sampling steps (default 25)"), N_ ("N") },
    { "guidance", 'g', 0, G_OPTION_ARG_DOUBLE, &o.guidance, N_ ("Classifier-free guidance scale (default 7.5)"), N_ ("G") },
    { "seed", 'S', 0, G_OPTION_ARG_INT64, &o.seed, N_ ("Seed of torch's CPU generator (default: random, printed)"), N_ ("S") },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &o.sampler, N_ ("ddim, euler, euler-a, dpmpp-2m or dpmpp-2m-karras"), N_ ("NAME") },
    { "scheduler-config", 0, 0, G_OPTION_ARG_FILENAME, &o.scheduler_config, N_ ("A diffusers scheduler_config.json (overrides --sampler)"), N_ ("FILE") },
    { "prompt-weights", 0, 0, G_OPTION_ARG_NONE, &o.prompt_weights, N_ ("A1111 emphasis: (word:1.2), (word), [word]"), NULL },
    { "long-prompts", 0, 0, G_OPTION_ARG_NONE, &o.long_prompts, N_ ("Encode prompts over 75 tokens in chunks (A1111)"), NULL },
    { "clip-skip", 0, 0, G_OPTION_ARG_INT, &o.clip_skip, N_ ("Skip the last N text encoder layers (diffusers clip_skip)"), N_ ("N") },
    { "init-image", 'i', 0, G_OPTION_ARG_FILENAME, &o.init_image, N_ ("PNG to start from (image-to-image)"), N_ ("FILE") },
    { "strength", 0, 0, G_OPTION_ARG_DOUBLE, &o.strength, N_ ("How much of the init image to replace, 0 to 1 (default 0.75)"), N_ ("S") },
    { "init-noise", 0, 0, G_OPTION_ARG_STRING, &o.init_noise, N_ ("Initial noise instead of the seed's"), N_ ("FILE.safetensors:TENSOR") },
    { "save-latents", 0, 0, G_OPTION_ARG_FILENAME, &o.save_latents, N_ ("Write initial_noise and latents to a safetensors file"), N_ ("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, N_ ("PNG to write (default output.png)"), N_ ("FILE") },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, N_ ("CPU threads (default: all cores)"), N_ ("N") },
    { "device", 0, 0, G_OPTION_ARG_STRING, &o.device, N_ ("cpu (default) or auto"), N_ ("DEVICE") },
    G_OPTION_ENTRY_NULL
  };
  /* clang-format on */
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  int status;

  lf_adapter_options_init (&o.adapters);
  g_option_context_add_main_entries (context, entries, NULL);
  lf_adapter_options_add_entries (&o.adapters, context);
  g_option_context_set_summary (
      context, _ ("Generate an image with Stable Diffusion (+ LinFusion)."));
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return lf_cmd_fail ("generate", error);
  if (argc > 1 || o.model == NULL || o.prompt == NULL)
    {
      g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           argc > 1 ? _ ("unexpected argument (see --help)")
                                    : _ ("--model and --prompt are required"));
      return lf_cmd_fail ("generate", error);
    }
  if (!lf_adapter_options_check (&o.adapters, o.linfusion, &error))
    return lf_cmd_fail ("generate", error);
  if (o.negative == NULL)
    o.negative = g_strdup ("");
  if (o.output == NULL)
    o.output = g_strdup ("output.png");
  if (o.device == NULL)
    o.device = g_strdup ("cpu");
  status = run (&o, &error);
  if (status != 0)
    {
      if (status == 130)
        fputc ('\n', stderr);
      lf_cmd_fail ("generate", error);
    }
  return status;
}
