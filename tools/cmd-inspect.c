/* cmd-inspect.c: `linfusion inspect PATH`: what a model path holds (kind,
 * architecture, one line per component with its tensor and parameter
 * counts and dtypes), after validating every weight file. The counterpart
 * of looking at a diffusers folder's model_index.json and configs by hand.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "linfusion.h"

#include "commands.h"

static void
print_tensors (const LfModelInfo *info, guint component)
{
  const LfComponentInfo *c = lf_model_info_get_component (info, component);

  for (guint i = 0; i < (guint)c->n_tensors; i++)
    {
      g_autoptr (GString) shape = g_string_new ("[");
      LfTensorInfo t;

      lf_model_info_get_tensor (info, component, i, &t);
      for (int k = 0; k < t.ndim; k++)
        g_string_append_printf (shape, "%s%" G_GINT64_FORMAT, k ? ", " : "",
                                t.shape[k]);
      g_string_append_c (shape, ']');
      printf ("    %-60s %-5s %s", t.name, t.dtype, shape->str);
      if (g_strcmp0 (t.name, t.stored_name) != 0)
        printf ("  (stored as %s)", t.stored_name);
      printf ("\n");
    }
}

static void
print_info (const char *path, const LfModelInfo *info, gboolean tensors)
{
  guint n_unknown = lf_model_info_get_n_unknown_keys (info);

  printf ("path: %s\n", path);
  printf ("kind: %s\n", lf_model_info_get_kind_name (info));
  printf ("architecture: %s\n", lf_model_info_get_architecture (info));
  printf ("components: %u\n", lf_model_info_get_n_components (info));
  for (guint i = 0; i < lf_model_info_get_n_components (info); i++)
    {
      const LfComponentInfo *c = lf_model_info_get_component (info, i);

      printf ("  %-16s %-28s %6" G_GINT64_FORMAT " tensors %12" G_GINT64_FORMAT
              " params  %s  %s\n",
              c->name, c->class_name ? c->class_name : "-", c->n_tensors,
              c->n_params, c->dtypes, c->path ? c->path : "-");
      if (tensors)
        print_tensors (info, i);
    }
  if (n_unknown > 0)
    {
      printf ("unknown keys: %u\n", n_unknown);
      for (guint i = 0; i < n_unknown; i++)
        printf ("  %s\n", lf_model_info_get_unknown_key (info, i));
    }
}

int
lf_cmd_inspect (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("PATH"));
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelInfo) info = NULL;
  gboolean     tensors = FALSE;
  GOptionEntry entries[]
      = { { "tensors", 't', 0, G_OPTION_ARG_NONE, &tensors,
            N_ ("List every tensor: diffusers name, dtype, shape"), NULL },
          G_OPTION_ENTRY_NULL };

  g_option_context_set_summary (
      context, _ ("Validate a model and show its components: a diffusers "
                  "folder, a component or LinFusion folder, or a "
                  ".safetensors file (single-file checkpoint or other)."));
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return lf_cmd_fail ("inspect", error);
  if (argc != 2)
    {
      g_set_error_literal (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           _ ("expected one PATH (see --help)"));
      return lf_cmd_fail ("inspect", error);
    }
  info = lf_model_info_new (argv[1], &error);
  if (info == NULL)
    return lf_cmd_fail ("inspect", error);
  print_info (argv[1], info, tensors);
  return 0;
}
