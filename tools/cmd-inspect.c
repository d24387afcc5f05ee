/* PLACEHOLDER */
#include "commands.h"
int lf_cmd_inspect (int argc, char **argv) { (void) argc; (void) argv; return 1; }
