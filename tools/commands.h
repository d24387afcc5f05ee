/* commands.h: the subcommands of the linfusion CLI and their shared
 * helpers. Each lf_cmd_<name> gets argv with argv[0] = "<name>" and returns
 * the process exit status. */
#ifndef LF_COMMANDS_H
#define LF_COMMANDS_H

#include <glib.h>

int lf_cmd_generate (int argc, char **argv);
int lf_cmd_inspect (int argc, char **argv);
int lf_cmd_tokenize (int argc, char **argv);

/* Prints "linfusion <command>: <message>" as one line on stderr (newlines
 * in the message folded) and returns 1, the exit status for every error. */
int lf_cmd_fail (const char *command, const GError *error);

#endif /* LF_COMMANDS_H */
