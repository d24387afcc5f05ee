/* cmd-common.c: error reporting shared by the subcommands. */
#include "config.h"

#include <stdio.h>

#include "commands.h"

int
lf_cmd_fail (const char *command, const GError *error)
{
  g_autofree char *line = g_strdup (error->message);

  /* One line, so scripts and GIMP's error console show it whole. */
  g_strdelimit (line, "\r\n", ' ');
  fprintf (stderr, "linfusion %s: %s\n", command, line);
  return 1;
}
