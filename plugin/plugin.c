/* plugin.c: the LinFusion GIMP 3 plug-in: GimpPlugIn skeleton (as GIMP's
 * plug-ins/common/tile.c) and the run dispatchers: dialog → settings and
 * request (request.c) → engine on a worker (worker.c) writing into a layer
 * sink (layer-sink.c) → return values. */
#include "config.h"

#include <glib/gi18n.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "linfusion.h"

#include "layer-sink.h"
#include "layer-source.h"
#include "lf-ui.h"
#include "plugin.h"
#include "request.h"
#include "worker.h"

typedef struct
{
  GimpPlugIn parent_instance;
} LinFusion;

typedef struct
{
  GimpPlugInClass parent_class;
} LinFusionClass;

#define LINFUSION_TYPE (linfusion_get_type ())
GType linfusion_get_type (void) G_GNUC_CONST;

G_DEFINE_TYPE (LinFusion, linfusion, GIMP_TYPE_PLUG_IN)

GIMP_MAIN (LINFUSION_TYPE)

static GList *
linfusion_query_procedures (GimpPlugIn *plug_in)
{
  GList *names = NULL;

  (void)plug_in;
  names = g_list_append (names, g_strdup (LF_PROC_GENERATE));
  names = g_list_append (names, g_strdup (LF_PROC_IMG2IMG));
  names = g_list_append (names, g_strdup (LF_PROC_CREATE));
  return names;
}

/* The gettext domain is the project's, with catalogs in the plug-in
 * folder's locale/ (po/); without them, no translation and no warning. */
static gboolean
linfusion_set_i18n (GimpPlugIn  *plug_in,
                    const gchar *procedure_name,
                    gchar      **gettext_domain,
                    gchar      **catalog_dir)
{
  g_autofree char *dir = g_path_get_dirname (gimp_get_progname ());
  g_autofree char *locale = g_build_filename (dir, "locale", NULL);

  (void)plug_in;
  (void)procedure_name;
  if (!g_file_test (locale, G_FILE_TEST_IS_DIR))
    return FALSE;
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  *catalog_dir = g_strdup ("locale");
  return TRUE;
}

static GimpValueArray *
failed (GimpProcedure *procedure, GimpPDBStatusType status, GError *error)
{
  return gimp_procedure_new_return_values (procedure, status, error);
}

/* Runs the engine into @sink; maps the result to a PDB status, keeping
 * the engine's error as it is (docs/style.md §7). */
static GimpPDBStatusType
generate (gboolean          ui,
          const LfSettings *settings,
          const LfRequest  *request,
          LfSink           *sink,
          GError          **error)
{
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  const LfJob job = { settings->model,
                      settings->linfusion,
                      settings->controlnet,
                      settings->control_linfusion,
                      settings->ip_adapter,
                      settings->image_encoder,
                      request,
                      _ ("LinFusion"),
                      ui };

  if (lf_worker_run (&job, sink, cancel, error))
    return GIMP_PDB_SUCCESS;
  if (!g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return GIMP_PDB_EXECUTION_ERROR;
  g_clear_error (error);
  return GIMP_PDB_CANCEL;
}

/* generate works with or without selected drawables, img2img with one. */
static gboolean
check_target (GimpImage     *image,
              GimpDrawable **drawables,
              gboolean       img2img,
              GimpDrawable **drawable,
              GError       **error)
{
  const gsize n
      = drawables != NULL
            ? gimp_core_object_array_get_length ((GObject **)drawables)
            : 0;

  *drawable = n > 0 ? drawables[0] : NULL;
  if (image == NULL || gimp_image_get_base_type (image) == GIMP_INDEXED)
    g_set_error_literal (error, GIMP_PLUG_IN_ERROR, 0,
                         image == NULL ? _ ("LinFusion needs an image; File → "
                                            "Create → LinFusion makes one")
                                       : _ ("LinFusion works on RGB and "
                                            "grayscale images, not indexed"));
  else if (img2img && n != 1)
    g_set_error (error, GIMP_PLUG_IN_ERROR, 0,
                 _ ("Procedure '%s' works with one drawable."),
                 LF_PROC_IMG2IMG);
  return error == NULL || *error == NULL;
}

static gboolean
procedure_is_img2img (GimpProcedure *procedure)
{
  return g_strcmp0 (gimp_procedure_get_name (procedure), LF_PROC_IMG2IMG) == 0;
}

/* In the dialog, the size starts as the image's (img2img: the input's),
 * rounded to a multiple of 8. */
static void
set_default_size (GimpProcedureConfig *config, gint width, gint height)
{
  g_object_set (config, "width", MAX (8, (width + 4) / 8 * 8), "height",
                MAX (8, (height + 4) / 8 * 8), NULL);
}

/* gimp_ui_init () exits the process when there is no display (a script
 * asking for RUN-INTERACTIVE or RUN-WITH-LAST-VALS in gimp-console): check
 * first, on the display GIMP names, as gimp_ui_init () picks it. */
static gboolean
ui_init (void)
{
  const char *display = gimp_display_name ();

  g_set_prgname (PLUG_IN_BINARY);
  if (display != NULL)
    g_setenv ("DISPLAY", display, TRUE);
  if (!gtk_init_check (NULL, NULL))
    return FALSE;
  gimp_ui_init (PLUG_IN_BINARY);
  return TRUE;
}

/* The dialog in interactive runs. Returns: the PDB status to go on with
 * (SUCCESS) or to return; @ui: whether GTK may be used (run window). */
static GimpPDBStatusType
ask (GimpProcedure       *procedure,
     GimpRunMode          run_mode,
     GimpProcedureConfig *config,
     GimpImage           *image,
     GimpDrawable        *drawable,
     gboolean            *ui,
     GError             **error)
{
  *ui = run_mode != GIMP_RUN_NONINTERACTIVE && ui_init ();
  if (run_mode != GIMP_RUN_INTERACTIVE)
    return GIMP_PDB_SUCCESS;
  if (!*ui)
    {
      g_set_error_literal (error, GIMP_PLUG_IN_ERROR, 0,
                           _ ("No display to show the LinFusion dialog on; "
                              "call it with RUN-NONINTERACTIVE"));
      return GIMP_PDB_CALLING_ERROR;
    }
  if (drawable != NULL && procedure_is_img2img (procedure))
    set_default_size (config, gimp_drawable_get_width (drawable),
                      gimp_drawable_get_height (drawable));
  else if (image != NULL)
    set_default_size (config, gimp_image_get_width (image),
                      gimp_image_get_height (image));
  return lf_ui_dialog_run (procedure, config, image, drawable)
             ? GIMP_PDB_SUCCESS
             : GIMP_PDB_CANCEL;
}

/* The control layer and the IP-Adapter's reference, read here on the main
 * thread (libgimp) before the worker starts. */
static gboolean
set_adapter_images (LfRequest *request, const LfSettings *s, GError **error)
{
  if (s->control_layer != NULL
      && !lf_layer_source_set_control_image (request, s->control_layer, error))
    return FALSE;
  if (s->ip_layer != NULL
      && !lf_layer_source_set_ip_adapter_image (request, s->ip_layer, error))
    return FALSE;
  if (s->ip_file != NULL
      && !lf_layer_source_set_ip_adapter_file (request, s->ip_file, error))
    return FALSE;
  return TRUE;
}

/* plug-in-linfusion-generate and -img2img (run_data TRUE). */
static GimpValueArray *
run_image (GimpProcedure       *procedure,
           GimpRunMode          run_mode,
           GimpImage           *image,
           GimpDrawable       **drawables,
           GimpProcedureConfig *config,
           gpointer             run_data)
{
  const gboolean img2img = GPOINTER_TO_INT (run_data);
  g_autoptr (LfSettings) settings = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autofree char  *name = NULL, *parameters = NULL;
  GimpDrawable     *drawable;
  GError           *error = NULL;
  gboolean          ui;
  LfSink           *sink;
  GimpPDBStatusType status;
  GimpValueArray   *values;

  if (!check_target (image, drawables, img2img, &drawable, &error))
    return failed (procedure, GIMP_PDB_CALLING_ERROR, error);
  status = ask (procedure, run_mode, config, image, drawable, &ui, &error);
  if (status != GIMP_PDB_SUCCESS)
    return failed (procedure, status, error);
  if ((settings = lf_settings_from_config (config, &error)) == NULL
      || (request = lf_settings_to_request (settings, &error)) == NULL)
    return failed (procedure, GIMP_PDB_CALLING_ERROR, error);
  if ((img2img
       && !lf_layer_source_set_init_image (request, drawable, settings->width,
                                           settings->height, &error))
      || !set_adapter_images (request, settings, &error))
    return failed (procedure, GIMP_PDB_EXECUTION_ERROR, error);

  name = lf_settings_get_layer_name (settings);
  parameters = lf_settings_to_parameters (settings);
  sink = lf_layer_sink_new (image, img2img ? drawable : NULL, name, parameters,
                            ui);
  status = generate (ui, settings, request, sink, &error);
  values = failed (procedure, status, error);
  if (status == GIMP_PDB_SUCCESS)
    GIMP_VALUES_SET_LAYER (values, 1, lf_layer_sink_get_layer (sink));
  if (ui)
    gimp_displays_flush ();
  lf_layer_sink_free (sink);
  return values;
}

/* plug-in-linfusion-create: a new image of the requested size. */
static GimpValueArray *
run_create (GimpProcedure       *procedure,
            GimpProcedureConfig *config,
            gpointer             run_data)
{
  g_autoptr (LfSettings) settings = NULL;
  g_autoptr (LfRequest) request = NULL;
  g_autofree char  *name = NULL, *parameters = NULL;
  GimpRunMode       run_mode;
  GError           *error = NULL;
  gboolean          ui;
  LfSink           *sink;
  GimpPDBStatusType status;
  GimpValueArray   *values;

  (void)run_data;
  g_object_get (config, "run-mode", &run_mode, NULL);
  status = ask (procedure, run_mode, config, NULL, NULL, &ui, &error);
  if (status != GIMP_PDB_SUCCESS)
    return failed (procedure, status, error);
  if ((settings = lf_settings_from_config (config, &error)) == NULL
      || (request = lf_settings_to_request (settings, &error)) == NULL)
    return failed (procedure, GIMP_PDB_CALLING_ERROR, error);

  name = lf_settings_get_layer_name (settings);
  parameters = lf_settings_to_parameters (settings);
  sink = lf_image_sink_new (name, parameters);
  status = generate (ui, settings, request, sink, &error);
  values = failed (procedure, status, error);
  if (status == GIMP_PDB_SUCCESS)
    {
      GimpImage *image = lf_layer_sink_get_image (sink);

      GIMP_VALUES_SET_IMAGE (values, 1, image);
      if (ui)
        gimp_display_new (image);
    }
  lf_layer_sink_free (sink);
  return values;
}

static GimpProcedure *
linfusion_create_procedure (GimpPlugIn *plug_in, const gchar *name)
{
  return lf_procedure_new (plug_in, name, run_image, run_create);
}

static void
linfusion_class_init (LinFusionClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = linfusion_query_procedures;
  plug_in_class->create_procedure = linfusion_create_procedure;
  plug_in_class->set_i18n = linfusion_set_i18n;
}

static void
linfusion_init (LinFusion *linfusion)
{
  (void)linfusion;
}
