/* dialog.c: lf_ui_dialog_run, the generation dialog of the three
 * procedures. Generated from the GimpProcedureConfig by GimpProcedureDialog
 * (GNOME/gimp plug-ins/common/checkerboard.c's pattern); the prompts, the
 * path choosers, the seed's Random button, the ControlNet and IP-Adapter
 * sections and the estimate are the hand-written parts (widgets.h). Every
 * value lives in the config. */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lf-ui.h"

#include "widgets.h"

#define PLUG_IN_BINARY "linfusion"

static GParamSpecInt *
int_pspec (GimpProcedureConfig *config, const char *name)
{
  return G_PARAM_SPEC_INT (
      g_object_class_find_property (G_OBJECT_GET_CLASS (config), name));
}

/* generate and img2img start at the image's size, rounded down to 8, while
 * width and height are still at their defaults. */
static void
init_size (GimpProcedureConfig *config, GimpImage *image)
{
  GParamSpecInt *pw = int_pspec (config, "width");
  GParamSpecInt *ph = int_pspec (config, "height");
  int            width, height;

  if (image == NULL)
    return;
  g_object_get (config, "width", &width, "height", &height, NULL);
  if (width != pw->default_value || height != ph->default_value)
    return;
  width
      = CLAMP (gimp_image_get_width (image) / 8 * 8, pw->minimum, pw->maximum);
  height
      = CLAMP (gimp_image_get_height (image) / 8 * 8, ph->minimum, ph->maximum);
  g_object_set (config, "width", width, "height", height, NULL);
}

/* A frame with a bold title, holding the already generated widgets of
 * @first_id …, as the dialog's own container "@name-frame". Returns: its
 * box, for hand-made widgets to join. */
static GtkWidget *
add_frame (GimpProcedureDialog *dialog,
           const char          *name,
           const char          *title,
           const char          *first_id,
           ...)
{
  g_autofree char *frame_id = g_strconcat (name, "-frame", NULL);
  g_autofree char *box_id = g_strconcat (name, "-box", NULL);
  g_autofree char *title_id = g_strconcat (name, "-title", NULL);
  GList           *ids = NULL;
  GtkWidget       *box;
  va_list          args;

  va_start (args, first_id);
  for (const char *id = first_id; id != NULL; id = va_arg (args, const char *))
    ids = g_list_append (ids, (gpointer)id);
  va_end (args);
  box = gimp_procedure_dialog_fill_box_list (dialog, box_id, ids);
  gtk_box_set_spacing (GTK_BOX (box), 6);
  g_list_free (ids);
  gimp_procedure_dialog_get_label (dialog, title_id, title, FALSE, FALSE);
  gimp_procedure_dialog_fill_frame (dialog, frame_id, title_id, FALSE, box_id);
  return box;
}

/* The left column: the prompts, for generate and img2img the ControlNet
 * and IP-Adapter sections (collapsed unless their model is set), and the
 * estimate. */
static GtkWidget *
prompts_box (GimpProcedureDialog *dialog,
             GimpProcedureConfig *config,
             GimpDrawable        *drawable)
{
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_box_pack_start (GTK_BOX (vbox),
                      lf_prompt_view_new (dialog, "prompt", _ ("_Prompt"), 6),
                      TRUE, TRUE, 0);
  gtk_box_pack_start (
      GTK_BOX (vbox),
      lf_prompt_view_new (dialog, "negative-prompt", _ ("_Negative prompt"), 3),
      TRUE, TRUE, 0);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (config),
                                    "control-model"))
    {
      gtk_box_pack_start (GTK_BOX (vbox),
                          lf_controlnet_section_new (dialog, drawable), FALSE,
                          FALSE, 0);
      gtk_box_pack_start (GTK_BOX (vbox),
                          lf_ip_adapter_section_new (dialog, drawable), FALSE,
                          FALSE, 0);
    }
  gtk_box_pack_end (GTK_BOX (vbox), lf_estimate_label_new (config), FALSE,
                    FALSE, 0);
  return vbox;
}

/* The Model frame holds only hand-built rows (the file arguments have no
 * generated widget), so it is built here rather than through
 * gimp_procedure_dialog_fill_box_list, which fills an empty id list with
 * every argument. */
static GtkWidget *
model_frame (GimpProcedureDialog *dialog)
{
  GtkWidget *frame = gimp_frame_new (_ ("Model"));
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);

  gtk_box_pack_start (GTK_BOX (vbox),
                      lf_model_chooser_new (
                          dialog, "model", LF_CHOOSER_FOLDER | LF_CHOOSER_FILE,
                          _ ("a diffusers folder or .safetensors")),
                      FALSE, FALSE, 0);
  gtk_box_pack_start (
      GTK_BOX (vbox),
      lf_model_chooser_new (dialog, "linfusion",
                            LF_CHOOSER_FOLDER | LF_CHOOSER_CLEAR,
                            _ ("none: the model's own attention")),
      FALSE, FALSE, 0);
  gtk_container_add (GTK_CONTAINER (frame), vbox);
  gtk_widget_show_all (frame);
  return frame;
}

/* The right column: the model frame, then the generated sampling and size
 * frames. */
static GtkWidget *
settings_box (GimpProcedureDialog *dialog, gboolean img2img)
{
  GtkWidget *box, *frame;

  gimp_procedure_dialog_get_spin_scale (dialog, "steps", 1.0);
  gimp_procedure_dialog_get_spin_scale (dialog, "guidance", 1.0);
  lf_seed_entry_new (dialog);
  add_frame (dialog, "sampling", _ ("Sampling"), "sampler", "steps", "guidance",
             "seed", NULL);

  lf_size_entry_new (dialog, "width");
  lf_size_entry_new (dialog, "height");
  if (img2img)
    gimp_procedure_dialog_get_spin_scale (dialog, "strength", 1.0);
  add_frame (dialog, "size", img2img ? _ ("Size and strength") : _ ("Size"),
             "width", "height", img2img ? "strength" : NULL, NULL);

  box = gimp_procedure_dialog_fill_box (dialog, "settings-box",
                                        "sampling-frame", "size-frame", NULL);
  frame = model_frame (dialog);
  gtk_box_pack_start (GTK_BOX (box), frame, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (box), frame, 0);
  return box;
}

gboolean
lf_ui_dialog_run (GimpProcedure       *procedure,
                  GimpProcedureConfig *config,
                  GimpImage           *image,
                  GimpDrawable        *drawable)
{
  GimpProcedureDialog *dialog;
  GtkWidget           *hbox, *settings;
  gboolean             img2img, run;

  g_return_val_if_fail (GIMP_IS_PROCEDURE (procedure), FALSE);
  g_return_val_if_fail (GIMP_IS_PROCEDURE_CONFIG (config), FALSE);

  gimp_ui_init (PLUG_IN_BINARY);
  img2img = strcmp (gimp_procedure_get_name (procedure),
                    "plug-in-linfusion-img2img")
            == 0;
  init_size (config, image);

  dialog = GIMP_PROCEDURE_DIALOG (
      gimp_procedure_dialog_new (procedure, config, NULL));
  hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  gtk_box_pack_start (GTK_BOX (hbox), prompts_box (dialog, config, drawable),
                      TRUE, TRUE, 0);
  settings = settings_box (dialog, img2img);
  /* the dialog's widget table keeps a reference of its own */
  gtk_box_pack_start (GTK_BOX (hbox), g_object_ref (settings), FALSE, FALSE, 0);
  gtk_box_pack_start (
      GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))), hbox, TRUE,
      TRUE, 0);
  gtk_widget_show_all (hbox);
  /* Typing goes to the prompt first, not to a button. */
  gtk_widget_grab_focus (
      gimp_procedure_dialog_get_widget (dialog, "prompt", GTK_TYPE_TEXT_VIEW));

  run = gimp_procedure_dialog_run (dialog);
  if (run)
    lf_adapter_sections_commit (dialog);
  gtk_widget_destroy (GTK_WIDGET (dialog));
  return run;
}
