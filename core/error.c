/* error.c: the engine's one error domain (docs/style.md §1.3). */
#include "config.h"

#include "linfusion.h"

G_DEFINE_QUARK (lf - error - quark, lf_error)
