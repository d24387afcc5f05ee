/* linfusion.c: the linfusion command, a dispatcher over subcommands, one
 * file each (tools/cmd-<name>.c). Errors are one line on stderr, exit 1.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "linfusion.h"

#include "commands.h"

typedef struct
{
  const char *name;
  const char *summary;
  int (*run) (int argc, char **argv);
} LfCommand;

static const LfCommand commands[] = {
  { "generate", "Generate an image (text-to-image or image-to-image)",
    lf_cmd_generate },
  { "inspect", "Show the components, dtypes and sizes of a model",
    lf_cmd_inspect },
  { "tokenize", "Print the CLIP token ids of a text", lf_cmd_tokenize },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "Usage: linfusion COMMAND [OPTION…]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun “linfusion COMMAND --help” for a command's options.\n");
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  /* the catalogs of po/: the plug-in's, linked from localedir */
  bindtextdomain (GETTEXT_PACKAGE, LF_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    {
      print_usage (stderr);
      return 1;
    }
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      print_usage (stdout);
      return 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("linfusion %s\n", LF_VERSION_STRING);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].run (argc - 1, argv + 1);

  fprintf (stderr, "linfusion: unknown command “%s”\n", argv[1]);
  print_usage (stderr);
  return 1;
}
