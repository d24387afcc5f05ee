/* layer-sink.h: LfSinks that write the engine's strips into GIMP: a new
 * layer in an existing image, or a new image. Main thread only (libgimp). */
#ifndef LF_LAYER_SINK_H
#define LF_LAYER_SINK_H

#include <libgimp/gimp.h>

#include "linfusion.h"

G_BEGIN_DECLS

/**
 * lf_layer_sink_new:
 * @image: the image that gets the layer
 * @above: (nullable): the layer goes above this drawable, at its offsets;
 *   %NULL: on top of the layer stack at (0, 0)
 * @name: the layer's name
 * @parameters: the text of the layer's linfusion-parameters parasite
 * @live: update the display after each strip (interactive runs)
 *
 * begin opens an undo group and inserts a layer in @image's base type
 * and precision; finish attaches the parasite and closes the group; abort
 * removes the layer, so the image is as it was.
 *
 * Returns: (transfer full): free with lf_layer_sink_free().
 */
LfSink *lf_layer_sink_new (GimpImage    *image,
                           GimpDrawable *above,
                           const char   *name,
                           const char   *parameters,
                           gboolean      live);

/* As lf_layer_sink_new, but begin makes a new RGB u8 image (undo disabled
 * while it is filled) and abort deletes it. */
LfSink *lf_image_sink_new (const char *name, const char *parameters);

/* After finish: the new layer and its image; else NULL.
 * Returns: (transfer none) (nullable). */
GimpLayer *lf_layer_sink_get_layer (LfSink *sink);
GimpImage *lf_layer_sink_get_image (LfSink *sink);

/* Aborts a sink that was begun but neither finished nor aborted. */
void lf_layer_sink_free (LfSink *sink);

G_END_DECLS

#endif /* LF_LAYER_SINK_H */
