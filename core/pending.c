/* pending.c: TEMPORARY — removed when the ControlNet, IP-Adapter and image
 * preprocessing branches land. Every function fails cleanly. */
#include "config.h"

#include <gio/gio.h>

#include "linfusion.h"

#include "controlnet.h"
#include "image-ops.h"

static gboolean
pending (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "pending");
  return FALSE;
}

LfControlNet *
lf_controlnet_open (const char     *path,
                    const LfConfig *unet_cfg,
                    LfOps          *ops,
                    GError        **error)
{
  (void)path, (void)unet_cfg, (void)ops;
  pending (error);
  return NULL;
}
void
lf_controlnet_free (LfControlNet *cn)
{
  (void)cn;
}
gboolean
lf_controlnet_check_fits (const LfControlNet *cn,
                          const LfUnet       *unet,
                          GError            **error)
{
  (void)cn, (void)unet;
  return pending (error);
}
gboolean
lf_controlnet_mount_linfusion (LfControlNet      *cn,
                               const LfComponent *linfusion,
                               const LfConfig    *cfg,
                               GError           **error)
{
  (void)cn, (void)linfusion, (void)cfg;
  return pending (error);
}
void
lf_controlnet_unmount_linfusion (LfControlNet *cn)
{
  (void)cn;
}
gboolean
lf_controlnet_get_global_pool (const LfControlNet *cn)
{
  (void)cn;
  return FALSE;
}
int
lf_controlnet_get_n_residuals (const LfControlNet *cn)
{
  (void)cn;
  return 0;
}
size_t
lf_controlnet_plan (const LfControlNet *cn,
                    int64_t             batch,
                    int64_t             h,
                    int64_t             w,
                    int64_t             context_len)
{
  (void)cn, (void)batch, (void)h, (void)w, (void)context_len;
  return 0;
}
gboolean
lf_controlnet_embed_condition (LfControlNet   *cn,
                               const LfTensor *cond,
                               LfTensor       *out,
                               GError        **error)
{
  (void)cn, (void)cond, (void)out;
  return pending (error);
}
gboolean
lf_controlnet_forward (LfControlNet   *cn,
                       const LfTensor *x,
                       const float    *t,
                       const LfTensor *context,
                       const LfTensor *cond_emb,
                       const float    *scales,
                       LfArena        *scratch,
                       LfTensor       *down,
                       LfTensor       *mid,
                       GError        **error)
{
  (void)cn, (void)x, (void)t, (void)context, (void)cond_emb, (void)scales,
      (void)scratch, (void)down, (void)mid;
  return pending (error);
}

