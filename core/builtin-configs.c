/* builtin-configs.c: SD-1.5's published configs (runwayml/stable-diffusion-
 * v1-5: unet/, vae/, text_encoder/, scheduler/config.json), the values
 * diffusers' from_single_file uses for an SD-1.x checkpoint. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "linfusion.h"

#include "builtin-configs.h"

/* clang-format off */
static const char sd15_unet[] =
  "{\"_class_name\": \"UNet2DConditionModel\", \"act_fn\": \"silu\","
  " \"attention_head_dim\": 8, \"block_out_channels\": [320, 640, 1280, 1280],"
  " \"center_input_sample\": false, \"cross_attention_dim\": 768,"
  " \"down_block_types\": [\"CrossAttnDownBlock2D\", \"CrossAttnDownBlock2D\","
  " \"CrossAttnDownBlock2D\", \"DownBlock2D\"], \"downsample_padding\": 1,"
  " \"flip_sin_to_cos\": true, \"freq_shift\": 0, \"in_channels\": 4,"
  " \"layers_per_block\": 2, \"mid_block_scale_factor\": 1, \"norm_eps\": 1e-05,"
  " \"norm_num_groups\": 32, \"out_channels\": 4, \"sample_size\": 64,"
  " \"up_block_types\": [\"UpBlock2D\", \"CrossAttnUpBlock2D\","
  " \"CrossAttnUpBlock2D\", \"CrossAttnUpBlock2D\"]}";

static const char sd15_vae[] =
  "{\"_class_name\": \"AutoencoderKL\", \"act_fn\": \"silu\","
  " \"block_out_channels\": [128, 256, 512, 512],"
  " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\","
  " \"DownEncoderBlock2D\", \"DownEncoderBlock2D\"], \"in_channels\": 3,"
  " \"latent_channels\": 4, \"layers_per_block\": 2, \"norm_num_groups\": 32,"
  " \"out_channels\": 3, \"sample_size\": 512, \"scaling_factor\": 0.18215,"
  " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\","
  " \"UpDecoderBlock2D\", \"UpDecoderBlock2D\"]}";

static const char sd15_text_encoder[] =
  "{\"architectures\": [\"CLIPTextModel\"], \"hidden_act\": \"quick_gelu\","
  " \"hidden_size\": 768, \"intermediate_size\": 3072,"
  " \"layer_norm_eps\": 1e-05, \"max_position_embeddings\": 77,"
  " \"model_type\": \"clip_text_model\", \"num_attention_heads\": 12,"
  " \"num_hidden_layers\": 12, \"projection_dim\": 768,"
  " \"vocab_size\": 49408}";

static const char sd15_scheduler[] =
  "{\"_class_name\": \"PNDMScheduler\", \"beta_end\": 0.012,"
  " \"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085,"
  " \"clip_sample\": false, \"num_train_timesteps\": 1000,"
  " \"set_alpha_to_one\": false, \"skip_prk_steps\": true,"
  " \"steps_offset\": 1, \"trained_betas\": null}";
/* clang-format on */

static const struct
{
  LfArch      arch;
  const char *component;
  const char *json;
} builtin[] = {
  { LF_ARCH_SD15, "unet", sd15_unet },
  { LF_ARCH_SD15, "vae", sd15_vae },
  { LF_ARCH_SD15, "text_encoder", sd15_text_encoder },
  { LF_ARCH_SD15, "scheduler", sd15_scheduler },
};

LfConfig *
lf_builtin_config (LfArch arch, const char *component, GError **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (builtin); i++)
    if (builtin[i].arch == arch
        && g_str_equal (builtin[i].component, component))
      {
        g_autofree char *name = g_strdup_printf (
            "built-in %s %s config", lf_arch_name (arch), component);

        return lf_config_new_from_data (builtin[i].json, -1, name, error);
      }
  g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
               _ ("No built-in %s config for %s models: pass a diffusers "
                  "folder with its configs (--config)"),
               component, lf_arch_name (arch));
  return NULL;
}
