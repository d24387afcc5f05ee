/* png-io.h: PNG files for the CLI: reading an init image as RGB8 and a
 * sink that writes the result strip by strip. */
#ifndef LF_PNG_IO_H
#define LF_PNG_IO_H

#include "linfusion.h"

/* Any PNG as RGB8 (palette and gray expanded, 16 bits scaled, alpha
 * dropped as PIL's convert ("RGB") does). Returns: (transfer full)
 * (nullable): rows of width · 3 bytes (g_free), or NULL with an error
 * naming the file. */
guint8 *lf_png_read_rgb8 (const char *path,
                          int64_t    *width,
                          int64_t    *height,
                          GError    **error);

/* A sink writing an 8-bit RGB PNG to @path with @parameters in a tEXt
 * chunk "parameters" (A1111's convention). Rows go to a temporary file in
 * the same folder, renamed over @path by finish and deleted by abort, so an
 * existing file survives a failed or cancelled run. */
LfSink *lf_png_sink_new (const char *path, const char *parameters);
void    lf_png_sink_free (LfSink *sink);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSink, lf_png_sink_free)

#endif /* LF_PNG_IO_H */
