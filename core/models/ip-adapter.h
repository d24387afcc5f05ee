/* ip-adapter.h: IP-Adapter (tencent-ailab) for SD-1.x: the CLIP vision
 * encoder (transformers CLIPVisionModelWithProjection), the image
 * projection (ip-adapter_sd15: Linear + LayerNorm; -plus: the Perceiver
 * Resampler on the encoder's penultimate hidden states), and the to_k_ip /
 * to_v_ip weights of the decoupled cross-attention mounted on the UNet.
 */
#ifndef LF_IP_ADAPTER_H
#define LF_IP_ADAPTER_H

#include <glib.h>

#include "arena.h"
#include "diffusers-folder.h"
#include "json-config.h"
#include "lf-ops.h"
#include "unet.h"

G_BEGIN_DECLS

typedef struct _LfClipVision LfClipVision;
typedef struct _LfIpAdapter  LfIpAdapter;

/* A CLIPVisionModelWithProjection folder (config.json + model.safetensors):
 * patch embedding, class token, pre_layrnorm, encoder layers (no mask),
 * post_layernorm on the class token, visual_projection. */
LfClipVision      *
lf_clip_vision_open (const char *folder, LfOps *ops, GError **error);
void lf_clip_vision_free (LfClipVision *enc);
/* config image_size (224 for ViT-H/14): CLIPImageProcessor's size. */
int64_t lf_clip_vision_get_image_size (const LfClipVision *enc);

/* Arena bytes lf_clip_vision_forward needs for @batch images. */
size_t lf_clip_vision_plan (const LfClipVision *enc, int64_t batch);

/**
 * lf_clip_vision_forward:
 * @pixels: (B, 3, S, S) CLIPImageProcessor output
 * @image_embeds: (nullable): (B, projection_dim), written
 * @penultimate: (nullable): (B, 1 + patches, hidden), hidden_states[-2],
 *   written
 */
gboolean lf_clip_vision_forward (LfClipVision   *enc,
                                 const LfTensor *pixels,
                                 LfArena        *scratch,
                                 LfTensor       *image_embeds,
                                 LfTensor       *penultimate,
                                 GError        **error);

/* An IP-Adapter .safetensors file (`image_proj.*`, `ip_adapter.N.*`); the
 * kind (plain or Plus) comes from its keys. */
LfIpAdapter *lf_ip_adapter_open (const char *path, LfOps *ops, GError **error);
void         lf_ip_adapter_free (LfIpAdapter *ip);

/* FALSE with LF_ERROR_FORMAT naming the file and sizes when @enc's output
 * does not fit the projection's input. */
gboolean lf_ip_adapter_check_encoder (const LfIpAdapter  *ip,
                                      const LfClipVision *enc,
                                      GError            **error);

/* Binds ip_adapter.<2k+1>.to_{k,v}_ip to the k-th attn2 in diffusers'
 * attn_processors order: down_blocks, up_blocks, then mid_block (the UNet
 * assigns up_blocks before mid_block; ip_adapter.31 is the mid block's in
 * SD-1.5). The UNet's attn2 only hold views: @ip must outlive the mount.
 * A file for another cross-attention size or layer count gives
 * LF_ERROR_FORMAT naming the key and shapes and leaves @unet unchanged.
 * Unmount clears them again. */
gboolean
     lf_ip_adapter_mount (const LfIpAdapter *ip, LfUnet *unet, GError **error);
void lf_ip_adapter_unmount (LfUnet *unet);

/* Tokens per image (4 plain, 16 Plus) and their width (the UNet's
 * cross_attention_dim). */
int64_t lf_ip_adapter_get_n_tokens (const LfIpAdapter *ip);
int64_t lf_ip_adapter_get_token_dim (const LfIpAdapter *ip);

/**
 * lf_ip_adapter_encode:
 * @pixels: (1, 3, S, S) CLIPImageProcessor output of the reference image
 * @tokens: (2, T, D) written: [uncond, cond] as the pipelines concatenate
 *   them: uncond = proj (zeros) for the plain adapter, proj (encoder
 *   (zero pixels).hidden_states[-2]) for Plus.
 *
 * Allocates its own working memory.
 */
gboolean lf_ip_adapter_encode (LfIpAdapter    *ip,
                               LfClipVision   *enc,
                               const LfTensor *pixels,
                               LfTensor       *tokens,
                               GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfClipVision, lf_clip_vision_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfIpAdapter, lf_ip_adapter_free)

G_END_DECLS

#endif /* LF_IP_ADAPTER_H */
