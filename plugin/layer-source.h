/* layer-source.h: img2img's input: a drawable of any type and precision
 * read as R'G'B' u8 at the request's size. */
#ifndef LF_LAYER_SOURCE_H
#define LF_LAYER_SOURCE_H

#include <libgimp/gimp.h>

#include "linfusion.h"

G_BEGIN_DECLS

/**
 * lf_layer_source_set_init_image:
 * @drawable: any drawable; its alpha is ignored
 * @width, @height: the request's size; the drawable is resampled (cubic)
 *   to it when its own size differs
 *
 * Reads @drawable and hands it to @request as the init image.
 * Returns: %FALSE with LF_ERROR_OUT_OF_MEMORY when the buffer cannot be
 *   allocated.
 */
gboolean lf_layer_source_set_init_image (LfRequest    *request,
                                         GimpDrawable *drawable,
                                         gint          width,
                                         gint          height,
                                         GError      **error);

G_END_DECLS

#endif /* LF_LAYER_SOURCE_H */
