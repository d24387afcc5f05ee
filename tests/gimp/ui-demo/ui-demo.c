/* ui-demo.c: a stand-in for the plug-in, to see ui/ work inside GIMP 3: the
 * three procedures with the plug-in's arguments, the dialog, then the run
 * window fed by a worker thread that imitates the engine (smooth random
 * latents, one step every 150 ms, stopping when cancelled). Not installed;
 * run.sh builds it inside the GIMP 3 root and drives it under Xvfb. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "lf-ui.h"

#define PLUG_IN_BINARY "linfusion-ui-demo"

typedef struct
{
  GimpPlugIn parent_instance;
} Demo;
typedef struct
{
  GimpPlugInClass parent_class;
} DemoClass;

GType demo_get_type (void);
G_DEFINE_TYPE (Demo, demo, GIMP_TYPE_PLUG_IN)

typedef struct
{
  GCancellable  *cancellable;
  LfUiRunWindow *window;
  GMainLoop     *loop;
  int            n_steps;
} Run;

typedef struct
{
  Run       *run;
  LfProgress progress;
  float     *latents; /* (1, 4, 64, 64) */
} Report;

static gboolean
report_main (gpointer data)
{
  Report *r = data;

  r->progress.latents = r->latents;
  lf_ui_run_window_update (r->run->window, &r->progress);
  g_free (r->latents);
  g_free (r);
  return G_SOURCE_REMOVE;
}

static gboolean
quit_main (gpointer data)
{
  g_main_loop_quit (((Run *)data)->loop);
  return G_SOURCE_REMOVE;
}

static gpointer
worker (gpointer data)
{
  Run    *run = data;
  GTimer *timer = g_timer_new ();

  for (int step = 1; step <= run->n_steps; step++)
    {
      Report *r = g_new0 (Report, 1);

      g_usleep (150000);
      if (g_cancellable_is_cancelled (run->cancellable))
        {
          g_free (r);
          break;
        }
      r->run = run;
      r->progress.stage = LF_STAGE_SAMPLING;
      r->progress.step = step;
      r->progress.n_steps = run->n_steps;
      r->progress.seconds = g_timer_elapsed (timer, NULL);
      r->progress.latent_shape[0] = 1;
      r->progress.latent_shape[1] = 4;
      r->progress.latent_shape[2] = 64;
      r->progress.latent_shape[3] = 64;
      r->latents = g_new (float, 4 * 64 * 64);
      for (int c = 0; c < 4; c++)
        for (int p = 0; p < 64 * 64; p++)
          r->latents[c * 4096 + p]
              = 2.0f * sinf ((p % 64) * 0.1f * (c + 1) + step * 0.3f)
                * cosf ((p / 64) * 0.07f * (4 - c));
      g_main_context_invoke (NULL, report_main, r);
    }
  g_timer_destroy (timer);
  g_main_context_invoke (NULL, quit_main, run);
  return NULL;
}

static GimpValueArray *
demo_run (GimpProcedure       *procedure,
          GimpRunMode          run_mode,
          GimpImage           *image,
          GimpDrawable       **drawables,
          GimpProcedureConfig *config,
          gpointer data        G_GNUC_UNUSED)
{
  g_autofree char *prompt = NULL, *negative = NULL, *sampler = NULL;
  g_autoptr (GFile) model = NULL;
  g_autoptr (GFile) linfusion = NULL;
  const char *env = g_getenv ("LF_DEMO_MODEL");
  int         width, height, steps, seed;
  double      guidance;
  Run         run = { 0 };
  GThread    *thread;

  g_object_get (config, "model", &model, NULL);
  if (model == NULL && env != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (env);
      g_autofree char *lin = g_build_filename (env, "linfusion", NULL);
      g_autoptr (GFile) lin_file = g_file_new_for_path (lin);

      /* first run in a fresh profile: a model and its LinFusion folder */
      g_object_set (config, "model", file, "linfusion", lin_file, NULL);
    }
  if (run_mode == GIMP_RUN_INTERACTIVE
      && !lf_ui_dialog_run (procedure, config, image,
                            drawables != NULL ? drawables[0] : NULL))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
  g_clear_object (&model);
  g_object_get (config, "prompt", &prompt, "negative-prompt", &negative,
                "model", &model, "linfusion", &linfusion, "width", &width,
                "height", &height, "steps", &steps, "guidance", &guidance,
                "seed", &seed, "sampler", &sampler, NULL);
  g_printerr ("ui-demo: prompt=“%s” negative=“%s” model=%s linfusion=%s "
              "size=%dx%d steps=%d guidance=%g seed=%d sampler=%s\n",
              prompt, negative, model ? g_file_peek_path (model) : "(none)",
              linfusion ? g_file_peek_path (linfusion) : "(none)", width,
              height, steps, guidance, seed, sampler);
  if (run_mode != GIMP_RUN_INTERACTIVE)
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);

  run.cancellable = g_cancellable_new ();
  run.window = lf_ui_run_window_new (_ ("Generating"), run.cancellable);
  run.loop = g_main_loop_new (NULL, FALSE);
  run.n_steps = steps;
  thread = g_thread_new ("engine", worker, &run);
  g_main_loop_run (run.loop);
  g_thread_join (thread);
  lf_ui_run_window_destroy (run.window);
  g_main_loop_unref (run.loop);
  g_printerr ("ui-demo: %s\n", g_cancellable_is_cancelled (run.cancellable)
                                   ? "cancelled"
                                   : "done");
  if (g_cancellable_is_cancelled (run.cancellable))
    {
      g_object_unref (run.cancellable);
      return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL,
                                               NULL);
    }
  g_object_unref (run.cancellable);
  return gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
}

static GList *
demo_query_procedures (GimpPlugIn *plug_in G_GNUC_UNUSED)
{
  GList *list = NULL;

  list = g_list_append (list, g_strdup ("plug-in-linfusion-generate"));
  list = g_list_append (list, g_strdup ("plug-in-linfusion-img2img"));
  list = g_list_append (list, g_strdup ("plug-in-linfusion-create"));
  return list;
}

static void
add_arguments (GimpProcedure *p, gboolean img2img)
{
  GimpChoice *samplers = gimp_choice_new_with_values (
      "ddim", 0, _ ("DDIM"), NULL, "euler", 1, _ ("Euler"), NULL, "euler-a", 2,
      _ ("Euler ancestral"), NULL, "dpmpp-2m", 3, _ ("DPM++ 2M"), NULL,
      "dpmpp-2m-karras", 4, _ ("DPM++ 2M Karras"), NULL, NULL);

  gimp_procedure_add_string_argument (
      p, "prompt", _ ("_Prompt"), _ ("What to draw"), "", G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (
      p, "negative-prompt", _ ("_Negative prompt"), _ ("What to avoid"), "",
      G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      p, "model", _ ("_Model"), _ ("A diffusers folder"),
      GIMP_FILE_CHOOSER_ACTION_SELECT_FOLDER, FALSE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      p, "linfusion", _ ("_LinFusion"), _ ("A LinFusion folder, or none"),
      GIMP_FILE_CHOOSER_ACTION_SELECT_FOLDER, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "width", _ ("_Width"),
                                   _ ("Width in pixels"), 64, 8192, 512,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "height", _ ("_Height"),
                                   _ ("Height in pixels"), 64, 8192, 512,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "steps", _ ("_Steps"),
                                   _ ("Sampling steps"), 1, 150, 25,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (p, "guidance", _ ("_Guidance"),
                                      _ ("Classifier-free guidance scale"), 0.0,
                                      30.0, 7.5, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "seed", _ ("S_eed"),
                                   _ ("Random seed, -1 for a new one"), -1,
                                   G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (p, "sampler", _ ("Sa_mpler"),
                                      _ ("The sampling algorithm"), samplers,
                                      "dpmpp-2m", G_PARAM_READWRITE);
  if (img2img)
    gimp_procedure_add_double_argument (p, "strength", _ ("S_trength"),
                                        _ ("How much to change the image"), 0.0,
                                        1.0, 0.75, G_PARAM_READWRITE);
}

static GimpProcedure *
demo_create_procedure (GimpPlugIn *plug_in, const char *name)
{
  GimpProcedure *p;

  p = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                demo_run, NULL, NULL);
  gimp_procedure_set_image_types (p, "*");
  gimp_procedure_set_sensitivity_mask (
      p, GIMP_PROCEDURE_SENSITIVE_DRAWABLE
             | GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
  gimp_procedure_set_menu_label (p, strstr (name, "img2img")
                                        ? _ ("LinFusion _Image to Image…")
                                        : _ ("LinFusion _Generate…"));
  gimp_procedure_add_menu_path (p, "<Image>/Filters/Development");
  gimp_procedure_set_documentation (p, "ui/ demo", NULL, name);
  gimp_procedure_set_attribution (p, "gimp-linfusion", "gimp-linfusion",
                                  "2026");
  add_arguments (p, strstr (name, "img2img") != NULL);
  return p;
}

static gboolean
demo_set_i18n (GimpPlugIn *plug_in        G_GNUC_UNUSED,
               const char *procedure_name G_GNUC_UNUSED,
               char                     **gettext_domain,
               char                     **catalog_dir)
{
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  *catalog_dir = g_strdup ("locale");
  return TRUE;
}

static void
demo_class_init (DemoClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = demo_query_procedures;
  plug_in_class->create_procedure = demo_create_procedure;
  plug_in_class->set_i18n = demo_set_i18n;
}

static void
demo_init (Demo *demo G_GNUC_UNUSED)
{
}

GIMP_MAIN (demo_get_type ())
