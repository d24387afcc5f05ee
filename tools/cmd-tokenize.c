/* PLACEHOLDER */
#include "commands.h"
int lf_cmd_tokenize (int argc, char **argv) { (void) argc; (void) argv; return 1; }
