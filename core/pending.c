/* pending.c: TEMPORARY — removed when the ControlNet, IP-Adapter and image
 * preprocessing branches land. Every function fails cleanly. */
#include "config.h"

#include <gio/gio.h>

#include "linfusion.h"

#include "controlnet.h"
#include "image-ops.h"
#include "ip-adapter.h"

static gboolean
pending (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "pending");
  return FALSE;
}

LfClipVision *
lf_clip_vision_open (const char *folder, LfOps *ops, GError **error)
{
  (void)folder, (void)ops;
  pending (error);
  return NULL;
}
void
lf_clip_vision_free (LfClipVision *enc)
{
  (void)enc;
}
int64_t
lf_clip_vision_get_image_size (const LfClipVision *enc)
{
  (void)enc;
  return 224;
}
LfIpAdapter *
lf_ip_adapter_open (const char *path, LfOps *ops, GError **error)
{
  (void)path, (void)ops;
  pending (error);
  return NULL;
}
void
lf_ip_adapter_free (LfIpAdapter *ip)
{
  (void)ip;
}
gboolean
lf_ip_adapter_check_encoder (const LfIpAdapter  *ip,
                             const LfClipVision *enc,
                             GError            **error)
{
  (void)ip, (void)enc;
  return pending (error);
}
gboolean
lf_ip_adapter_mount (const LfIpAdapter *ip, LfUnet *unet, GError **error)
{
  (void)ip, (void)unet;
  return pending (error);
}
void
lf_ip_adapter_unmount (LfUnet *unet)
{
  (void)unet;
}
int64_t
lf_ip_adapter_get_n_tokens (const LfIpAdapter *ip)
{
  (void)ip;
  return 4;
}
int64_t
lf_ip_adapter_get_token_dim (const LfIpAdapter *ip)
{
  (void)ip;
  return 768;
}
gboolean
lf_ip_adapter_encode (LfIpAdapter    *ip,
                      LfClipVision   *enc,
                      const LfTensor *pixels,
                      LfTensor       *tokens,
                      GError        **error)
{
  (void)ip, (void)enc, (void)pixels, (void)tokens;
  return pending (error);
}

gboolean
lf_image_clip_preprocess (const guint8 *rgb,
                          int64_t       width,
                          int64_t       height,
                          size_t        stride,
                          int64_t       size,
                          float        *out,
                          GError      **error)
{
  (void)rgb, (void)width, (void)height, (void)stride, (void)size, (void)out;
  return pending (error);
}

guint8 *
lf_control_image_prepare (const guint8       *rgb,
                          int64_t             width,
                          int64_t             height,
                          size_t              stride,
                          LfControlPreprocess kind,
                          double              canny_low,
                          double              canny_high,
                          double              tile_rate,
                          int64_t             out_width,
                          int64_t             out_height,
                          GError            **error)
{
  (void)rgb, (void)width, (void)height, (void)stride, (void)kind,
      (void)canny_low, (void)canny_high, (void)tile_rate, (void)out_width,
      (void)out_height;
  pending (error);
  return NULL;
}
