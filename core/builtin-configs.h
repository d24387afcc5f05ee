/* builtin-configs.h: the published diffusers configs of the models we know,
 * for single-file checkpoints that carry none (as diffusers' from_single_file
 * fetches them) and for benchmarks that build full-size models. */
#ifndef LF_BUILTIN_CONFIGS_H
#define LF_BUILTIN_CONFIGS_H

#include <glib.h>

#include "json-config.h"
#include "ldm-names.h"

G_BEGIN_DECLS

/* Returns: (transfer full) (nullable): the config of @component ("unet",
 * "vae", "text_encoder", "scheduler") of @arch, or NULL with
 * LF_ERROR_UNSUPPORTED when we have none. */
LfConfig *
lf_builtin_config (LfArch arch, const char *component, GError **error);

G_END_DECLS

#endif /* LF_BUILTIN_CONFIGS_H */
