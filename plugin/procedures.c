/* procedures.c: the three PDB procedures' declarations (names, menus,
 * arguments, return values), as GIMP's plug-ins/common/tile.c declares
 * plug-in-tile. Argument names are the Script-Fu interface: keep them. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "linfusion.h"

#include "plugin.h"

static void
add_common_arguments (GimpProcedure *procedure)
{
  GimpChoice *samplers = gimp_choice_new_with_values (
      "ddim", LF_SAMPLER_DDIM, _ ("DDIM"), NULL, "euler", LF_SAMPLER_EULER,
      _ ("Euler"), NULL, "euler-a", LF_SAMPLER_EULER_A, _ ("Euler ancestral"),
      NULL, "dpmpp-2m", LF_SAMPLER_DPMPP_2M, _ ("DPM++ 2M"), NULL,
      "dpmpp-2m-karras", LF_SAMPLER_DPMPP_2M_KARRAS, _ ("DPM++ 2M Karras"),
      NULL, NULL);

  gimp_procedure_add_string_argument (procedure, "prompt", _ ("_Prompt"),
                                      _ ("What to draw"), "",
                                      G_PARAM_READWRITE);
  gimp_procedure_add_string_argument (
      procedure, "negative-prompt", _ ("_Negative prompt"), _ ("What to avoid"),
      "", G_PARAM_READWRITE);
  /* ANY: a diffusers folder or a .safetensors file; also the only action
   * under which GIMP passes a missing path through, so the engine's error
   * names it instead of the path being silently dropped. */
  gimp_procedure_add_file_argument (
      procedure, "model", _ ("_Model"),
      _ ("Stable Diffusion model: a diffusers folder or a .safetensors "
         "checkpoint"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      procedure, "linfusion", _ ("Lin_Fusion"),
      _ ("LinFusion folder to mount on the UNet (optional)"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "width", _ ("_Width"),
                                   _ ("Width in pixels, a multiple of 8"), 8,
                                   GIMP_MAX_IMAGE_SIZE, 512, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "height", _ ("He_ight"),
                                   _ ("Height in pixels, a multiple of 8"), 8,
                                   GIMP_MAX_IMAGE_SIZE, 512, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "steps", _ ("S_teps"),
                                   _ ("Sampling steps"), 1, 1000, 25,
                                   G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "guidance", _ ("_Guidance"),
                                      _ ("Classifier-free guidance scale"), 0.0,
                                      100.0, 7.5, G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (
      procedure, "seed", _ ("S_eed"),
      _ ("Seed of the initial noise; -1 for a random one (recorded in the "
         "layer's linfusion-parameters parasite)"),
      -1, G_MAXINT, -1, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "sampler", _ ("S_ampler"),
                                      _ ("Sampling algorithm"), samplers,
                                      "dpmpp-2m-karras", G_PARAM_READWRITE);
}

/* ControlNet and IP-Adapter, for generate and img2img. Paths are ANY, as
 * "model", so that a missing one reaches the engine's error; the layers
 * are read at their own size, alpha ignored (layer-source.c). */
static void
add_adapter_arguments (GimpProcedure *procedure)
{
  GimpChoice *preprocess = gimp_choice_new_with_values (
      "none", LF_CONTROL_PREPROCESS_NONE, _ ("None"), NULL, "canny",
      LF_CONTROL_PREPROCESS_CANNY, _ ("Canny edges"), NULL, "tile",
      LF_CONTROL_PREPROCESS_TILE, _ ("Tile (blurred copy)"), NULL, NULL);

  gimp_procedure_add_drawable_argument (
      procedure, "control-layer", _ ("Control la_yer"),
      _ ("The image that guides the ControlNet (any size: it is resized to "
         "width × height); needs control-model"),
      TRUE, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      procedure, "control-model", _ ("Control mo_del"),
      _ ("ControlNet: a diffusers folder or a .safetensors file; needs "
         "control-layer"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "control-scale",
                                      _ ("Control scale"),
                                      _ ("Weight of the ControlNet's guidance"),
                                      0.0, 5.0, 1.0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (
      procedure, "control-start", _ ("Control start"),
      _ ("Fraction of the steps after which the ControlNet starts"), 0.0, 1.0,
      0.0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (
      procedure, "control-end", _ ("Control end"),
      _ ("Fraction of the steps after which the ControlNet stops"), 0.0, 1.0,
      1.0, G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (
      procedure, "control-preprocess", _ ("Preprocess"),
      _ ("What the ControlNet is given: the layer as it is, its Canny edges, "
         "or a reduced copy (for tile models)"),
      preprocess, "none", G_PARAM_READWRITE);
  /* Canny's L1 gradient of 8-bit pixels stays below 2 · 4 · 255 = 2040:
   * higher thresholds find no edge. */
  gimp_procedure_add_double_argument (procedure, "canny-low", _ ("Canny low"),
                                      _ ("Canny's lower threshold"), 0.0,
                                      2040.0, 100.0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (procedure, "canny-high", _ ("Canny high"),
                                      _ ("Canny's upper threshold"), 0.0,
                                      2040.0, 200.0, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (
      procedure, "tile-rate", _ ("Tile rate"),
      _ ("How much the tile preprocessor reduces the layer (below 1.1: not "
         "at all)"),
      1.0, 64.0, 2.0, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (
      procedure, "control-guess-mode", _ ("Guess mode"),
      _ ("The ControlNet guides the prompt's half of the guidance only, "
         "weakest in the shallow layers (diffusers guess_mode)"),
      FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_boolean_argument (
      procedure, "control-linfusion", _ ("LinFusion on the ControlNet"),
      _ ("Mount the LinFusion modules on the ControlNet's self-attention too: "
         "an approximation, for canvases whose ControlNet attention would "
         "not fit; needs linfusion"),
      FALSE, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      procedure, "ip-adapter", _ ("IP-Adapter mode_l"),
      _ ("IP-Adapter file (.safetensors); needs ip-adapter-image or "
         "ip-adapter-file"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_drawable_argument (
      procedure, "ip-adapter-image", _ ("Reference layer"),
      _ ("The IP-Adapter's reference image, as a layer"), TRUE,
      G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      procedure, "ip-adapter-file", _ ("Reference file"),
      _ ("The IP-Adapter's reference image, as a file (instead of "
         "ip-adapter-image)"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
  gimp_procedure_add_double_argument (
      procedure, "ip-adapter-scale", _ ("IP-Adapter scale"),
      _ ("Weight of the reference image"), 0.0, 5.0, 1.0, G_PARAM_READWRITE);
  gimp_procedure_add_file_argument (
      procedure, "image-encoder", _ ("Image encoder"),
      _ ("The IP-Adapter's image encoder folder (optional: image_encoder/ "
         "beside the adapter or in its parent folder)"),
      GIMP_FILE_CHOOSER_ACTION_ANY, TRUE, NULL, G_PARAM_READWRITE);
}

static void
set_attribution (GimpProcedure *procedure)
{
  gimp_procedure_set_attribution (procedure, "gimp-linfusion authors",
                                  "gimp-linfusion authors", "2026");
}

static GimpProcedure *
new_generate (GimpPlugIn *plug_in, const gchar *name, GimpRunImageFunc run)
{
  GimpProcedure *p
      = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run,
                                  GINT_TO_POINTER (FALSE), NULL);

  gimp_procedure_set_image_types (p, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (
      p, GIMP_PROCEDURE_SENSITIVE_DRAWABLE | GIMP_PROCEDURE_SENSITIVE_DRAWABLES
             | GIMP_PROCEDURE_SENSITIVE_NO_DRAWABLES);
  gimp_procedure_set_menu_label (p, _ ("_LinFusion..."));
  gimp_procedure_add_menu_path (p, "<Image>/Filters/Render");
  gimp_procedure_set_documentation (
      p, _ ("Render an image from a prompt with Stable Diffusion"),
      _ ("Generates an image from a text prompt with Stable Diffusion "
         "(optionally with LinFusion) and adds it as a new layer on top of "
         "the image, named after the prompt. The settings and the seed used "
         "are kept in the layer's linfusion-parameters parasite."),
      name);
  set_attribution (p);
  add_common_arguments (p);
  add_adapter_arguments (p);
  gimp_procedure_add_layer_return_value (
      p, "layer", _ ("Layer"), _ ("The new layer"), FALSE, G_PARAM_READWRITE);
  return p;
}

static GimpProcedure *
new_img2img (GimpPlugIn *plug_in, const gchar *name, GimpRunImageFunc run)
{
  GimpProcedure *p
      = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run,
                                  GINT_TO_POINTER (TRUE), NULL);

  gimp_procedure_set_image_types (p, "RGB*, GRAY*");
  gimp_procedure_set_sensitivity_mask (p, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (p, _ ("LinFusion _Image to Image..."));
  gimp_procedure_add_menu_path (p, "<Image>/Filters/Render");
  gimp_procedure_set_documentation (
      p, _ ("Redraw the selected layer with Stable Diffusion"),
      _ ("Image to image: starts from the selected drawable (resampled to "
         "width × height; alpha ignored), redraws it from the prompt with "
         "Stable Diffusion and adds the result as a new layer above it."),
      name);
  set_attribution (p);
  add_common_arguments (p);
  /* "_Strength": S_teps has the t */
  gimp_procedure_add_double_argument (
      p, "strength", _ ("_Strength"),
      _ ("How much of the input to replace, 0 (none) to 1 (all)"), 0.0, 1.0,
      0.75, G_PARAM_READWRITE);
  add_adapter_arguments (p);
  gimp_procedure_add_layer_return_value (
      p, "layer", _ ("Layer"), _ ("The new layer"), FALSE, G_PARAM_READWRITE);
  return p;
}

static GimpProcedure *
new_create (GimpPlugIn *plug_in, const gchar *name, GimpRunFunc run)
{
  GimpProcedure *p = gimp_procedure_new (
      plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN, run, NULL, NULL);

  gimp_procedure_set_sensitivity_mask (p, GIMP_PROCEDURE_SENSITIVE_ALWAYS);
  gimp_procedure_set_menu_label (p, _ ("_LinFusion..."));
  gimp_procedure_add_menu_path (p, "<Image>/File/Create");
  gimp_procedure_set_documentation (
      p, _ ("Create a new image from a prompt with Stable Diffusion"),
      _ ("Generates an image from a text prompt with Stable Diffusion "
         "(optionally with LinFusion) into a new image of the requested "
         "size. The settings and the seed used are kept in its layer's "
         "linfusion-parameters parasite."),
      name);
  set_attribution (p);
  gimp_procedure_add_enum_argument (p, "run-mode", _ ("Run mode"),
                                    _ ("The run mode"), GIMP_TYPE_RUN_MODE,
                                    GIMP_RUN_NONINTERACTIVE, G_PARAM_READWRITE);
  add_common_arguments (p);
  gimp_procedure_add_image_return_value (
      p, "image", _ ("Image"), _ ("The new image"), FALSE, G_PARAM_READWRITE);
  return p;
}

GimpProcedure *
lf_procedure_new (GimpPlugIn      *plug_in,
                  const gchar     *name,
                  GimpRunImageFunc run_image,
                  GimpRunFunc      run_create)
{
  if (strcmp (name, LF_PROC_GENERATE) == 0)
    return new_generate (plug_in, name, run_image);
  if (strcmp (name, LF_PROC_IMG2IMG) == 0)
    return new_img2img (plug_in, name, run_image);
  if (strcmp (name, LF_PROC_CREATE) == 0)
    return new_create (plug_in, name, run_create);
  return NULL;
}
