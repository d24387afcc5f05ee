/* layer-source.h: the images a request takes from GIMP: img2img's input,
 * the control layer and the IP-Adapter's reference, drawables of any type
 * and precision read as R'G'B' u8 (alpha ignored). Main thread only. */
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

/* @drawable at its own size as the request's control image (the engine
 * resizes it). Returns: %FALSE with LF_ERROR_OUT_OF_MEMORY. */
gboolean lf_layer_source_set_control_image (LfRequest    *request,
                                            GimpDrawable *drawable,
                                            GError      **error);

/* @drawable at its own size as the IP-Adapter's reference image. */
gboolean lf_layer_source_set_ip_adapter_image (LfRequest    *request,
                                               GimpDrawable *drawable,
                                               GError      **error);

/* The image file at @path, loaded by GIMP (any format it reads), its
 * visible layers merged, as the IP-Adapter's reference image.
 * Returns: %FALSE with LF_ERROR_IO naming @path when it cannot be loaded. */
gboolean lf_layer_source_set_ip_adapter_file (LfRequest  *request,
                                              const char *path,
                                              GError    **error);

G_END_DECLS

#endif /* LF_LAYER_SOURCE_H */
