/* plugin.h: names shared by the plug-in's files: the PDB procedures (the
 * Script-Fu interface), the binary (= install folder) and the declarations
 * of procedures.c. */
#ifndef LF_PLUGIN_H
#define LF_PLUGIN_H

#include <libgimp/gimp.h>

G_BEGIN_DECLS

#define PLUG_IN_BINARY "linfusion"
#define PLUG_IN_ROLE   "gimp-linfusion"

#define LF_PROC_GENERATE "plug-in-linfusion-generate"
#define LF_PROC_IMG2IMG  "plug-in-linfusion-img2img"
#define LF_PROC_CREATE   "plug-in-linfusion-create"

/* Declares @name's arguments, menu entry and return value; @run_image
 * serves generate and img2img (run_data TRUE for img2img), @run_create
 * serves create. Returns: (transfer full) (nullable): NULL for an unknown
 * name. */
GimpProcedure *lf_procedure_new (GimpPlugIn      *plug_in,
                                 const gchar     *name,
                                 GimpRunImageFunc run_image,
                                 GimpRunFunc      run_create);

G_END_DECLS

#endif /* LF_PLUGIN_H */
