/* A stand-in for the real plug-in, used only to test the test harness
 * (tests/gimp/run with LF_GIMP_STANDIN=1) while plugin/ is being written.
 *
 * It registers plug-in-linfusion-generate, -img2img and -create with the
 * real plug-in's argument names and computes nothing itself: it runs the
 * `linfusion generate` CLI ($LF_CLI) and loads the PNG it writes, so its
 * pixels equal the CLI's by construction.  Interactive runs show a plain
 * GimpProcedureDialog with the keyboard focus in the prompt field. */

#include <string.h>

#include <glib/gstdio.h>

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#define PROC_GENERATE "plug-in-linfusion-generate"
#define PROC_IMG2IMG  "plug-in-linfusion-img2img"
#define PROC_CREATE   "plug-in-linfusion-create"

typedef struct
{
  GimpPlugIn parent_instance;
} Standin;
typedef struct
{
  GimpPlugInClass parent_class;
} StandinClass;

GType standin_get_type (void) G_GNUC_CONST;
G_DEFINE_TYPE (Standin, standin, GIMP_TYPE_PLUG_IN)

static GList *
standin_query (GimpPlugIn *plug_in G_GNUC_UNUSED)
{
  GList *l = NULL;

  l = g_list_append (l, g_strdup (PROC_GENERATE));
  l = g_list_append (l, g_strdup (PROC_IMG2IMG));
  return g_list_append (l, g_strdup (PROC_CREATE));
}

static gboolean
standin_set_i18n (GimpPlugIn *plug_in G_GNUC_UNUSED,
                  const gchar *name   G_GNUC_UNUSED,
                  gchar **domain      G_GNUC_UNUSED,
                  gchar **dir         G_GNUC_UNUSED)
{
  return FALSE; /* no catalogue of its own; GIMP's widgets are still translated
                 */
}

static GimpValueArray *
fail (GimpProcedure *procedure, GError *error)
{
  return gimp_procedure_new_return_values (procedure, GIMP_PDB_EXECUTION_ERROR,
                                           error);
}

/* Exports @drawable alone to @file (PNG): img2img's input for the CLI. */
static gboolean
export_drawable (GimpDrawable *drawable, GFile *file)
{
  GimpImage *tmp
      = gimp_image_new (gimp_drawable_get_width (drawable),
                        gimp_drawable_get_height (drawable), GIMP_RGB);
  GimpLayer *copy = gimp_layer_new_from_drawable (drawable, tmp);
  gboolean   ok;

  gimp_image_insert_layer (tmp, copy, NULL, 0);
  gimp_layer_set_offsets (copy, 0, 0);
  ok = gimp_file_save (GIMP_RUN_NONINTERACTIVE, tmp, file, NULL);
  gimp_image_delete (tmp);
  return ok;
}

static gchar *
file_path (GimpProcedureConfig *config, const gchar *name)
{
  GFile *file = NULL;
  gchar *path = NULL;

  g_object_get (config, name, &file, NULL);
  if (file)
    path = g_file_get_path (file);
  g_clear_object (&file);
  return path;
}

/* Runs the CLI with the config's settings; the result is written to @out. */
static gboolean
run_cli (GimpProcedureConfig *config,
         const gchar         *init,
         gboolean             img2img,
         const gchar         *out,
         GError             **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *prompt = NULL, *negative = NULL, *model = NULL, *lin = NULL;
  g_autofree gchar *sampler = NULL, *errout = NULL;
  const gchar      *cli = g_getenv ("LF_CLI");
  gint              width, height, steps, seed, status = 0;
  gdouble           guidance, strength = 0.75;

  g_object_get (config, "prompt", &prompt, "negative-prompt", &negative,
                "width", &width, "height", &height, "steps", &steps, "guidance",
                &guidance, "seed", &seed, "sampler", &sampler, NULL);
  if (img2img)
    g_object_get (config, "strength", &strength, NULL);
  model = file_path (config, "model");
  lin = file_path (config, "linfusion");
  if (!model)
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0, "no model given");
      return FALSE;
    }

  g_ptr_array_add (argv, g_strdup (cli ? cli : "linfusion"));
  g_ptr_array_add (argv, g_strdup ("generate"));
#define ARG(k, v)                                                              \
  (g_ptr_array_add (argv, g_strdup (k)), g_ptr_array_add (argv, (v)))
  ARG ("--model", g_strdup (model));
  if (lin)
    ARG ("--linfusion", g_strdup (lin));
  ARG ("--prompt", g_strdup (prompt ? prompt : ""));
  ARG ("--negative-prompt", g_strdup (negative ? negative : ""));
  ARG ("--width", g_strdup_printf ("%d", width));
  ARG ("--height", g_strdup_printf ("%d", height));
  ARG ("--steps", g_strdup_printf ("%d", steps));
  ARG ("--guidance", g_strdup_printf ("%.17g", guidance));
  if (seed >= 0)
    ARG ("--seed", g_strdup_printf ("%d", seed));
  ARG ("--sampler", g_strdup (sampler));
  if (init)
    {
      ARG ("--init-image", g_strdup (init));
      ARG ("--strength", g_strdup_printf ("%.17g", strength));
    }
  ARG ("--output", g_strdup (out));
#undef ARG
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (NULL, (gchar **)argv->pdata, NULL, G_SPAWN_SEARCH_PATH,
                     NULL, NULL, NULL, &errout, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, GIMP_PLUG_IN_ERROR, 0, "%s", g_strstrip (errout));
      return FALSE;
    }
  return TRUE;
}

/* After GtkDialog's own map handler, which focuses a button. */
static gboolean
focus_prompt (GtkWidget *dialog G_GNUC_UNUSED,
              GdkEvent *event   G_GNUC_UNUSED,
              GtkWidget        *prompt)
{
  gtk_widget_grab_focus (prompt);
  return FALSE;
}

static gboolean
show_dialog (GimpProcedure *procedure, GimpProcedureConfig *config)
{
  GtkWidget *dialog, *prompt;
  gboolean   ok;

  gimp_ui_init ("linfusion");
  dialog
      = gimp_procedure_dialog_new (procedure, config, "LinFusion (stand-in)");
  gimp_procedure_dialog_fill (GIMP_PROCEDURE_DIALOG (dialog), NULL);
  prompt = gimp_procedure_dialog_get_widget (GIMP_PROCEDURE_DIALOG (dialog),
                                             "prompt", G_TYPE_NONE);
  /* The GUI test types into whatever has the focus: the prompt. */
  if (GIMP_IS_LABEL_ENTRY (prompt))
    prompt = gimp_label_entry_get_entry (GIMP_LABEL_ENTRY (prompt));
  if (prompt)
    g_signal_connect_after (dialog, "map-event", G_CALLBACK (focus_prompt),
                            prompt);
  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));
  gtk_widget_destroy (dialog);
  return ok;
}

static GimpValueArray *
run_common (GimpProcedure       *procedure,
            GimpRunMode          run_mode,
            GimpImage           *image,
            GimpDrawable        *drawable,
            GimpProcedureConfig *config)
{
  const gchar      *name = gimp_procedure_get_name (procedure);
  gboolean          img2img = !strcmp (name, PROC_IMG2IMG);
  g_autofree gchar *dir = g_dir_make_tmp ("lf-standin-XXXXXX", NULL);
  g_autofree gchar *out = g_build_filename (dir, "out.png", NULL);
  g_autofree gchar *init = NULL, *prompt = NULL;
  g_autoptr (GFile) out_file = g_file_new_for_path (out);
  g_autoptr (GError) error = NULL;
  GimpValueArray *ret;

  if (run_mode == GIMP_RUN_INTERACTIVE && !show_dialog (procedure, config))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);
  if (img2img)
    {
      g_autoptr (GFile) init_file = NULL;

      if (!drawable)
        return fail (procedure, g_error_new (GIMP_PLUG_IN_ERROR, 0,
                                             "img2img needs a drawable"));
      init = g_build_filename (dir, "init.png", NULL);
      init_file = g_file_new_for_path (init);
      if (!export_drawable (drawable, init_file))
        return fail (procedure, g_error_new (GIMP_PLUG_IN_ERROR, 0,
                                             "cannot export the input"));
    }
  if (!run_cli (config, init, img2img, out, &error))
    return fail (procedure, g_steal_pointer (&error));

  g_object_get (config, "prompt", &prompt, NULL);
  if (!image) /* -create */
    {
      GimpImage *result = gimp_file_load (GIMP_RUN_NONINTERACTIVE, out_file);

      if (!result)
        return fail (procedure, g_error_new (GIMP_PLUG_IN_ERROR, 0,
                                             "cannot load %s", out));
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_display_new (result);
      ret = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS,
                                              NULL);
      GIMP_VALUES_SET_IMAGE (ret, 1, result);
    }
  else
    {
      GimpLayer *layer
          = gimp_file_load_layer (GIMP_RUN_NONINTERACTIVE, image, out_file);
      GimpItem *parent = NULL;
      gint      position = 0;

      if (!layer)
        return fail (procedure, g_error_new (GIMP_PLUG_IN_ERROR, 0,
                                             "cannot load %s", out));
      if (img2img)
        {
          parent = gimp_item_get_parent (GIMP_ITEM (drawable));
          position = gimp_image_get_item_position (image, GIMP_ITEM (drawable));
        }
      gimp_image_undo_group_start (image);
      gimp_item_set_name (GIMP_ITEM (layer),
                          prompt && *prompt ? prompt : "LinFusion");
      gimp_image_insert_layer (image, layer, GIMP_LAYER (parent), position);
      gimp_image_undo_group_end (image);
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();
      ret = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS,
                                              NULL);
      GIMP_VALUES_SET_LAYER (ret, 1, layer);
    }
  g_remove (out);
  if (init)
    g_remove (init);
  g_rmdir (dir);
  return ret;
}

static GimpValueArray *
run_image (GimpProcedure       *procedure,
           GimpRunMode          run_mode,
           GimpImage           *image,
           GimpDrawable       **drawables,
           GimpProcedureConfig *config,
           gpointer data        G_GNUC_UNUSED)
{
  return run_common (procedure, run_mode, image,
                     drawables ? drawables[0] : NULL, config);
}

static GimpValueArray *
run_plain (GimpProcedure       *procedure,
           GimpProcedureConfig *config,
           gpointer data        G_GNUC_UNUSED)
{
  GimpRunMode run_mode;

  g_object_get (config, "run-mode", &run_mode, NULL);
  return run_common (procedure, run_mode, NULL, NULL, config);
}

static GimpProcedure *
standin_create (GimpPlugIn *plug_in, const gchar *name)
{
  GimpProcedure *p;
  const gchar   *what = "layer";

  if (!strcmp (name, PROC_CREATE))
    {
      p = gimp_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                              run_plain, NULL, NULL);
      gimp_procedure_add_enum_argument (
          p, "run-mode", "Run mode", "The run mode", GIMP_TYPE_RUN_MODE,
          GIMP_RUN_NONINTERACTIVE, G_PARAM_READWRITE);
      what = "image";
    }
  else if (!strcmp (name, PROC_GENERATE) || !strcmp (name, PROC_IMG2IMG))
    {
      p = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                    run_image, NULL, NULL);
      gimp_procedure_set_image_types (p, "*");
      gimp_procedure_set_sensitivity_mask (
          p, GIMP_PROCEDURE_SENSITIVE_DRAWABLE
                 | GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
    }
  else
    return NULL;

  gimp_procedure_set_menu_label (p, name);
  gimp_procedure_set_documentation (p, "LinFusion stand-in",
                                    "Runs the linfusion CLI.", name);
  gimp_procedure_set_attribution (p, "gimp-linfusion tests", "GPL-3.0-or-later",
                                  "2025");
  gimp_procedure_add_string_argument (p, "prompt", "_Prompt", "Prompt", "",
                                      G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (p, "negative-prompt", "_Negative prompt",
                                      "Negative prompt", "", G_PARAM_READWRITE);
  /* ANY: GIMP 3.0.4 rejects a path that does not exist (OPEN, SELECT_FOLDER) or
   * a folder (OPEN) itself, with a message that does not name the path; ANY
   * lets the plug-in report it (but gets no widget in a generated dialog). */
  gimp_procedure_add_file_argument (
      p, "model", "_Model", "Model file or folder",
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      p, "linfusion", "_LinFusion", "LinFusion folder",
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "width", "_Width", "Width", 8, 16384, 512,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "height", "_Height", "Height", 8, 16384,
                                   512, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "steps", "S_teps", "Steps", 1, 500, 25,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (p, "guidance", "_Guidance", "Guidance", 0,
                                      50, 7.5, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (p, "seed", "S_eed", "Seed, -1 random", -1,
                                   G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (
      p, "sampler", "S_ampler", "Sampler",
      gimp_choice_new_with_values (
          "ddim", 0, "DDIM", NULL, "euler", 1, "Euler", NULL, "euler-a", 2,
          "Euler a", NULL, "dpmpp-2m", 3, "DPM++ 2M", NULL, "dpmpp-2m-karras",
          4, "DPM++ 2M Karras", NULL, NULL),
      "euler", G_PARAM_READWRITE);
  if (!strcmp (name, PROC_IMG2IMG))
    gimp_procedure_add_double_argument (p, "strength", "Stre_ngth", "Strength",
                                        0, 1, 0.75, G_PARAM_READWRITE);
  if (!strcmp (what, "image"))
    gimp_procedure_add_image_return_value (p, "image", "Image", "The new image",
                                           FALSE, G_PARAM_READWRITE);
  else
    gimp_procedure_add_layer_return_value (p, "layer", "Layer", "The new layer",
                                           FALSE, G_PARAM_READWRITE);
  return p;
}

static void
standin_class_init (StandinClass *klass)
{
  GimpPlugInClass *c = GIMP_PLUG_IN_CLASS (klass);

  c->query_procedures = standin_query;
  c->create_procedure = standin_create;
  c->set_i18n = standin_set_i18n;
}

static void
standin_init (Standin *self G_GNUC_UNUSED)
{
}

GIMP_MAIN (standin_get_type ())
