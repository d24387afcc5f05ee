/* test-ldm-names.c: LDM → diffusers renaming rule by rule (components.md
 * §1.6), architecture and layout detection from keys, the view ops, and a
 * round trip: the fixture's diffusers folder renamed to an SD-1 checkpoint
 * by the independent inverse in lf-test-model.c, then mapped back.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "diffusers-folder.h"
#include "ldm-names.h"
#include "lf-test-model.h"
#include "lf-test.h"

static const LfLdmLayout sd15 = { LF_ARCH_SD15, 4, 2, 4, 0, FALSE, 0 };
static const LfLdmLayout sd21 = { LF_ARCH_SD21, 4, 2, 4, 24, FALSE, 0 };
static const LfLdmLayout sdxl = { LF_ARCH_SDXL, 3, 2, 4, 32, FALSE, 0 };

typedef struct
{
  const LfLdmLayout *layout;
  const char        *key;
  int                ndim;
  const char        *component, *name;
  LfLdmOp            op;
} Rule;

#define U "model.diffusion_model."
#define V "first_stage_model."
/* clang-format off */
static const Rule rules[] = {
  { &sd15, U "time_embed.0.weight", 2, "unet", "time_embedding.linear_1.weight", 0 },
  { &sd15, U "time_embed.2.bias", 1, "unet", "time_embedding.linear_2.bias", 0 },
  { &sdxl, U "label_emb.0.0.weight", 2, "unet", "add_embedding.linear_1.weight", 0 },
  { &sdxl, U "label_emb.0.2.bias", 1, "unet", "add_embedding.linear_2.bias", 0 },
  { &sd15, U "input_blocks.0.0.weight", 4, "unet", "conv_in.weight", 0 },
  { &sd15, U "input_blocks.1.0.in_layers.0.weight", 1, "unet", "down_blocks.0.resnets.0.norm1.weight", 0 },
  { &sd15, U "input_blocks.2.0.in_layers.2.bias", 1, "unet", "down_blocks.0.resnets.1.conv1.bias", 0 },
  { &sd15, U "input_blocks.4.0.emb_layers.1.weight", 2, "unet", "down_blocks.1.resnets.0.time_emb_proj.weight", 0 },
  { &sd15, U "input_blocks.4.0.out_layers.0.bias", 1, "unet", "down_blocks.1.resnets.0.norm2.bias", 0 },
  { &sd15, U "input_blocks.4.0.out_layers.3.weight", 4, "unet", "down_blocks.1.resnets.0.conv2.weight", 0 },
  { &sd15, U "input_blocks.4.0.skip_connection.weight", 4, "unet", "down_blocks.1.resnets.0.conv_shortcut.weight", 0 },
  { &sd15, U "input_blocks.3.0.op.weight", 4, "unet", "down_blocks.0.downsamplers.0.conv.weight", 0 },
  { &sd15, U "input_blocks.9.0.op.bias", 1, "unet", "down_blocks.2.downsamplers.0.conv.bias", 0 },
  { &sd15, U "input_blocks.11.0.in_layers.0.weight", 1, "unet", "down_blocks.3.resnets.1.norm1.weight", 0 },
  { &sd15, U "input_blocks.8.1.transformer_blocks.0.attn2.to_k.weight", 2, "unet", "down_blocks.2.attentions.1.transformer_blocks.0.attn2.to_k.weight", 0 },
  { &sd15, U "input_blocks.1.1.proj_in.weight", 4, "unet", "down_blocks.0.attentions.0.proj_in.weight", 0 },
  { &sd15, U "middle_block.0.in_layers.0.weight", 1, "unet", "mid_block.resnets.0.norm1.weight", 0 },
  { &sd15, U "middle_block.1.norm.bias", 1, "unet", "mid_block.attentions.0.norm.bias", 0 },
  { &sd15, U "middle_block.2.out_layers.3.weight", 4, "unet", "mid_block.resnets.1.conv2.weight", 0 },
  { &sd15, U "output_blocks.0.0.skip_connection.bias", 1, "unet", "up_blocks.0.resnets.0.conv_shortcut.bias", 0 },
  { &sd15, U "output_blocks.2.1.conv.weight", 4, "unet", "up_blocks.0.upsamplers.0.conv.weight", 0 },
  { &sd15, U "output_blocks.5.1.proj_out.weight", 4, "unet", "up_blocks.1.attentions.2.proj_out.weight", 0 },
  { &sd15, U "output_blocks.5.2.conv.bias", 1, "unet", "up_blocks.1.upsamplers.0.conv.bias", 0 },
  { &sd15, U "output_blocks.11.1.transformer_blocks.0.ff.net.0.proj.weight", 2, "unet", "up_blocks.3.attentions.2.transformer_blocks.0.ff.net.0.proj.weight", 0 },
  { &sd15, U "out.0.weight", 1, "unet", "conv_norm_out.weight", 0 },
  { &sd15, U "out.2.bias", 1, "unet", "conv_out.bias", 0 },
  { &sdxl, U "input_blocks.8.1.transformer_blocks.9.attn1.to_q.weight", 2, "unet", "down_blocks.2.attentions.1.transformer_blocks.9.attn1.to_q.weight", 0 },
  { &sdxl, U "output_blocks.8.0.out_layers.3.weight", 4, "unet", "up_blocks.2.resnets.2.conv2.weight", 0 },
  { &sd15, V "encoder.conv_in.weight", 4, "vae", "encoder.conv_in.weight", 0 },
  { &sd15, V "encoder.norm_out.bias", 1, "vae", "encoder.conv_norm_out.bias", 0 },
  { &sd15, V "decoder.norm_out.weight", 1, "vae", "decoder.conv_norm_out.weight", 0 },
  { &sd15, V "encoder.down.1.block.0.nin_shortcut.weight", 4, "vae", "encoder.down_blocks.1.resnets.0.conv_shortcut.weight", 0 },
  { &sd15, V "encoder.down.2.block.1.norm2.bias", 1, "vae", "encoder.down_blocks.2.resnets.1.norm2.bias", 0 },
  { &sd15, V "encoder.down.0.downsample.conv.weight", 4, "vae", "encoder.down_blocks.0.downsamplers.0.conv.weight", 0 },
  { &sd15, V "decoder.up.3.block.0.conv1.weight", 4, "vae", "decoder.up_blocks.0.resnets.0.conv1.weight", 0 },
  { &sd15, V "decoder.up.0.block.2.conv2.bias", 1, "vae", "decoder.up_blocks.3.resnets.2.conv2.bias", 0 },
  { &sd15, V "decoder.up.1.upsample.conv.weight", 4, "vae", "decoder.up_blocks.2.upsamplers.0.conv.weight", 0 },
  { &sd15, V "encoder.mid.block_1.norm1.weight", 1, "vae", "encoder.mid_block.resnets.0.norm1.weight", 0 },
  { &sd15, V "decoder.mid.block_2.conv2.weight", 4, "vae", "decoder.mid_block.resnets.1.conv2.weight", 0 },
  { &sd15, V "decoder.mid.attn_1.norm.weight", 1, "vae", "decoder.mid_block.attentions.0.group_norm.weight", 0 },
  { &sd15, V "decoder.mid.attn_1.q.weight", 4, "vae", "decoder.mid_block.attentions.0.to_q.weight", LF_LDM_OP_SQUEEZE },
  { &sd15, V "encoder.mid.attn_1.k.bias", 1, "vae", "encoder.mid_block.attentions.0.to_k.bias", 0 },
  { &sd15, V "encoder.mid.attn_1.v.weight", 2, "vae", "encoder.mid_block.attentions.0.to_v.weight", 0 },
  { &sd15, V "encoder.mid.attn_1.proj_out.weight", 4, "vae", "encoder.mid_block.attentions.0.to_out.0.weight", LF_LDM_OP_SQUEEZE },
  { &sd15, V "quant_conv.weight", 4, "vae", "quant_conv.weight", 0 },
  { &sd15, "vae.post_quant_conv.bias", 1, "vae", "post_quant_conv.bias", 0 },
  { &sd15, "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight", 2, "text_encoder", "text_model.encoder.layers.0.mlp.fc1.weight", 0 },
  { &sd15, "cond_stage_model.transformer.embeddings.token_embedding.weight", 2, "text_encoder", "text_model.embeddings.token_embedding.weight", 0 },
  { &sdxl, "conditioner.embedders.0.transformer.text_model.final_layer_norm.bias", 1, "text_encoder", "text_model.final_layer_norm.bias", 0 },
  { &sd21, "cond_stage_model.model.positional_embedding", 2, "text_encoder", "text_model.embeddings.position_embedding.weight", 0 },
  { &sd21, "cond_stage_model.model.token_embedding.weight", 2, "text_encoder", "text_model.embeddings.token_embedding.weight", 0 },
  { &sd21, "cond_stage_model.model.ln_final.weight", 1, "text_encoder", "text_model.final_layer_norm.weight", 0 },
  { &sd21, "cond_stage_model.model.transformer.resblocks.22.ln_1.bias", 1, "text_encoder", "text_model.encoder.layers.22.layer_norm1.bias", 0 },
  { &sd21, "cond_stage_model.model.transformer.resblocks.0.ln_2.weight", 1, "text_encoder", "text_model.encoder.layers.0.layer_norm2.weight", 0 },
  { &sd21, "cond_stage_model.model.transformer.resblocks.3.mlp.c_fc.weight", 2, "text_encoder", "text_model.encoder.layers.3.mlp.fc1.weight", 0 },
  { &sd21, "cond_stage_model.model.transformer.resblocks.3.mlp.c_proj.bias", 1, "text_encoder", "text_model.encoder.layers.3.mlp.fc2.bias", 0 },
  { &sd21, "cond_stage_model.model.transformer.resblocks.3.attn.out_proj.weight", 2, "text_encoder", "text_model.encoder.layers.3.self_attn.out_proj.weight", 0 },
  { &sdxl, "conditioner.embedders.1.model.transformer.resblocks.31.ln_1.weight", 1, "text_encoder_2", "text_model.encoder.layers.31.layer_norm1.weight", 0 },
  { &sdxl, "conditioner.embedders.1.model.text_projection", 2, "text_encoder_2", "text_projection.weight", LF_LDM_OP_TRANSPOSE },
};
/* clang-format on */

static void
test_rules (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (LfLdmName));
      const Rule *r = &rules[i];
      LfLdmName  *m;

      g_array_set_clear_func (out, (GDestroyNotify)lf_ldm_name_clear);
      g_test_message ("%s", r->key);
      g_assert_cmpint (lf_ldm_map_name (r->layout, r->key, r->ndim, out), ==,
                       LF_LDM_MAPPED);
      g_assert_cmpuint (out->len, ==, 1);
      m = &g_array_index (out, LfLdmName, 0);
      g_assert_cmpstr (m->component, ==, r->component);
      g_assert_cmpstr (m->name, ==, r->name);
      g_assert_cmpint (m->op, ==, r->op);
    }
}

static void
test_in_proj_split (void)
{
  static const char *const qkv[] = { "q", "k", "v" };
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (LfLdmName));

  g_array_set_clear_func (out, (GDestroyNotify)lf_ldm_name_clear);
  g_assert_cmpint (
      lf_ldm_map_name (&sdxl,
                       "conditioner.embedders.1.model.transformer.resblocks.4."
                       "attn.in_proj_bias",
                       1, out),
      ==, LF_LDM_MAPPED);
  g_assert_cmpuint (out->len, ==, 3);
  for (int p = 0; p < 3; p++)
    {
      LfLdmName       *m = &g_array_index (out, LfLdmName, p);
      g_autofree char *want = g_strdup_printf (
          "text_model.encoder.layers.4.self_attn.%s_proj.bias", qkv[p]);

      g_assert_cmpstr (m->component, ==, "text_encoder_2");
      g_assert_cmpstr (m->name, ==, want);
      g_assert_cmpint (m->op, ==, LF_LDM_OP_ROWS);
      g_assert_cmpint (m->part, ==, p);
    }
}

static void
test_ignored_and_unknown (void)
{
  static const struct
  {
    const LfLdmLayout *layout;
    const char        *key;
    LfLdmStatus        status;
  } cases[] = {
    { &sd15, "model_ema.diffusion_modelinput_blocks00weight", LF_LDM_IGNORED },
    { &sd15, "model_ema.decay", LF_LDM_IGNORED },
    { &sd15, "cond_stage_model.transformer.text_model.embeddings.position_ids",
      LF_LDM_IGNORED },
    { &sd21, "cond_stage_model.model.transformer.resblocks.23.ln_1.weight",
      LF_LDM_IGNORED },
    { &sd21, "cond_stage_model.model.text_projection", LF_LDM_IGNORED },
    { &sd21, "cond_stage_model.model.logit_scale", LF_LDM_IGNORED },
    { &sd15, "lora_unet_down.alpha", LF_LDM_UNKNOWN },
    { &sd15, U "input_blocks.13.0.in_layers.0.weight", LF_LDM_UNKNOWN },
    { &sd15, U "input_blocks.1.0.weird.weight", LF_LDM_UNKNOWN },
    { &sd15, U "input_blocks.x.0.in_layers.0.weight", LF_LDM_UNKNOWN },
    { &sd15, U "input_blocks.99999999999.0.op.weight", LF_LDM_UNKNOWN },
    { &sd15, U "middle_block.3.in_layers.0.weight", LF_LDM_UNKNOWN },
    { &sd15, V "decoder.up.4.block.0.conv1.weight", LF_LDM_UNKNOWN },
    { &sd15, V "encoder.mid.attn_1.qkv.weight", LF_LDM_UNKNOWN },
    { &sd21, "cond_stage_model.model.transformer.resblocks.2.attn.foo",
      LF_LDM_UNKNOWN },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (LfLdmName));

      g_array_set_clear_func (out, (GDestroyNotify)lf_ldm_name_clear);
      g_test_message ("%s", cases[i].key);
      g_assert_cmpint (lf_ldm_map_name (cases[i].layout, cases[i].key, 2, out),
                       ==, cases[i].status);
      g_assert_cmpuint (out->len, ==, 0);
    }
}

/* A file of U8 tensors with these names and shapes (data all zero). */
static LfSafetensors *
keys_file (const char *const *names, const int64_t (*shapes)[2])
{
  LfTestSt *w = lf_test_st_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  LfSafetensors *st;

  for (int i = 0; names[i] != NULL; i++)
    {
      g_autofree guint8 *zeros = g_malloc0 (shapes[i][0] * shapes[i][1] + 1);
      lf_test_st_add (w, names[i], "U8", 2, shapes[i], zeros,
                      shapes[i][0] * shapes[i][1]);
    }
  bytes = lf_test_st_finish (w);
  st = lf_safetensors_new_from_bytes (bytes, "keys.safetensors", &error);
  g_assert_no_error (error);
  return st;
}

static LfArch
detect (const char *key, int64_t cols)
{
  const char *const names[] = { key, U "input_blocks.0.0.weight",
                                U "input_blocks.3.0.op.weight", NULL };
  const int64_t     shapes[][2] = { { 1, cols }, { 1, 1 }, { 1, 1 } };
  g_autoptr (LfSafetensors) st = keys_file (names, shapes);
  g_autoptr (GError) error = NULL;
  LfLdmLayout layout;

  g_assert_true (lf_ldm_is_checkpoint (st));
  g_assert_true (lf_ldm_layout_detect (st, &layout, &error));
  g_assert_no_error (error);
  return layout.arch;
}

static void
test_detect_arch (void)
{
  const char *to_k
      = U "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";

  g_assert_cmpint (detect (to_k, 768), ==, LF_ARCH_SD15);
  g_assert_cmpint (detect (to_k, 1024), ==, LF_ARCH_SD21);
  g_assert_cmpint (detect (to_k, 2048), ==, LF_ARCH_SDXL);
  g_assert_cmpint (detect (to_k, 32), ==, LF_ARCH_UNKNOWN);
  g_assert_cmpint (
      detect ("cond_stage_model.transformer.text_model.final_layer_norm.bias",
              1),
      ==, LF_ARCH_SD15);
  g_assert_cmpint (detect ("cond_stage_model.model.ln_final.bias", 1), ==,
                   LF_ARCH_SD21);
  g_assert_cmpint (
      detect ("conditioner.embedders.1.model.transformer.resblocks.9.mlp."
              "c_proj.bias",
              1),
      ==, LF_ARCH_SDXL);
  g_assert_cmpint (detect (U "label_emb.0.0.weight", 1), ==, LF_ARCH_SDXL);
  g_assert_cmpstr (lf_arch_name (LF_ARCH_SD21), ==, "sd21");
}

static void
test_layout (void)
{
  const char *const names[] = { U "input_blocks.0.0.weight",
                                U "input_blocks.3.0.op.weight",
                                U "input_blocks.6.0.op.weight",
                                U "input_blocks.8.1.norm.weight",
                                V "decoder.up.3.block.0.conv1.weight",
                                "conditioner.embedders.1.model.transformer."
                                "resblocks.31.ln_1.weight",
                                NULL };
  const char *const bad[]
      = { U "input_blocks.0.0.weight", U "input_blocks.3.0.op.weight",
          U "input_blocks.6.0.in_layers.0.weight", NULL };
  const int64_t shapes[][2]
      = { { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 }, { 1, 1 } };
  g_autoptr (LfSafetensors) st = keys_file (names, shapes);
  g_autoptr (LfSafetensors) st_bad = keys_file (bad, shapes);
  g_autoptr (GError) error = NULL;
  LfLdmLayout layout;

  g_assert_true (lf_ldm_layout_detect (st, &layout, &error));
  g_assert_cmpint (layout.unet_levels, ==, 3);
  g_assert_cmpint (layout.unet_layers_per_block, ==, 2);
  g_assert_cmpint (layout.vae_levels, ==, 4);
  g_assert_cmpint (layout.openclip_layers, ==, 32);
  g_assert_cmpint (layout.arch, ==, LF_ARCH_SDXL);
  /* 7 input blocks cannot be 2 whole levels. */
  g_assert_false (lf_ldm_layout_detect (st_bad, &layout, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "keys.safetensors"));
}

/* OpenCLIP ops as views: rows of in_proj, transposed text_projection. */
static void
test_openclip_views (void)
{
  LfTestSt     *w = lf_test_st_new ();
  float         in_proj[12 * 4], proj[4 * 6];
  const int64_t s_in[2] = { 12, 4 }, s_proj[2] = { 4, 6 },
                s_sq[4] = { 2, 2, 1, 1 };
  g_autofree char *dir = g_dir_make_tmp ("lf-ldm-XXXXXX", NULL);
  g_autofree char *path = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) model = NULL;
  const LfWeight *k, *p, *sq;
  LfTensor        t;

  for (int i = 0; i < 48; i++)
    in_proj[i] = (float)i;
  for (int i = 0; i < 24; i++)
    proj[i] = (float)(100 + i);
  lf_test_st_add (w,
                  "conditioner.embedders.1.model.transformer.resblocks.0."
                  "attn.in_proj_weight",
                  "F32", 2, s_in, in_proj, sizeof in_proj);
  lf_test_st_add (w, "conditioner.embedders.1.model.text_projection", "F32", 2,
                  s_proj, proj, sizeof proj);
  lf_test_st_add (w, V "decoder.mid.attn_1.q.weight", "F32", 4, s_sq, proj, 16);
  bytes = lf_test_st_finish (w);
  path = lf_test_write_file (dir, "xl.safetensors", bytes);
  model = lf_model_files_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_model_files_get_kind (model), ==,
                   LF_MODEL_KIND_CHECKPOINT);
  g_assert_cmpint (lf_model_files_get_arch (model), ==, LF_ARCH_SDXL);

  k = lf_component_lookup (
      lf_model_files_lookup (model, "text_encoder_2"),
      "text_model.encoder.layers.0.self_attn.k_proj.weight");
  g_assert_nonnull (k);
  g_assert_cmpint (k->shape[0], ==, 4);
  g_assert_true (lf_weight_view (k, &t, &error));
  g_assert_cmpfloat (((float *)t.data)[0], ==, 16.0f); /* row 4 */
  g_assert_cmpint (t.shape[0], ==, 4);

  p = lf_component_lookup (lf_model_files_lookup (model, "text_encoder_2"),
                           "text_projection.weight");
  g_assert_cmpint (p->shape[0], ==, 6);
  g_assert_cmpint (p->shape[1], ==, 4);
  g_assert_true (lf_weight_view (p, &t, &error));
  /* t[i][j] = stored[j][i]: t[5][1] = stored[1][5] = 100 + 11. */
  g_assert_cmpfloat (((float *)t.data)[5 * t.stride[0] + 1 * t.stride[1]], ==,
                     111.0f);

  sq = lf_component_lookup (lf_model_files_lookup (model, "vae"),
                            "decoder.mid_block.attentions.0.to_q.weight");
  g_assert_cmpint (sq->op, ==, LF_LDM_OP_SQUEEZE);
  g_assert_cmpint (sq->ndim, ==, 2);
  g_assert_true (lf_weight_view (sq, &t, &error));
  g_assert_cmpint (t.ndim, ==, 2);
  g_assert_no_error (error);
  g_remove (path);
  g_rmdir (dir);
}

static void
test_target_shape_errors (void)
{
  const char *const names[] = { V "decoder.mid.attn_1.q.weight", NULL };
  const int64_t     shapes[][2] = { { 2, 3 } };
  g_autoptr (LfSafetensors) st = keys_file (names, shapes);
  g_autoptr (GError) error = NULL;
  LfLdmName rows = { "text_encoder", (char *)"x", LF_LDM_OP_ROWS, 0 };
  LfLdmName sq = { "vae", (char *)"y", LF_LDM_OP_SQUEEZE, 0 };
  int64_t   shape[LF_ST_MAX_DIMS];
  int       ndim;

  g_assert_false (lf_ldm_target_shape (st, lf_safetensors_get_tensor (st, 0),
                                       &rows, &ndim, shape, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_clear_error (&error);
  g_assert_false (lf_ldm_target_shape (st, lf_safetensors_get_tensor (st, 0),
                                       &sq, &ndim, shape, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "attn_1.q.weight"));
}

static void
assert_round_trip (LfModelFiles *ckpt,
                   const char   *folder,
                   const char   *comp,
                   const char   *file)
{
  g_autofree char *path = g_build_filename (folder, comp, file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);
  LfComponent *c = lf_model_files_lookup (ckpt, comp);

  g_assert_no_error (error);
  g_assert_nonnull (c);
  g_assert_cmpuint (lf_component_get_n_weights (c), ==,
                    lf_safetensors_get_n_tensors (st));
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      const LfWeight   *w
          = lf_component_require (c, t->name, t->ndim, t->shape, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (w->tensor->nbytes, ==, t->nbytes);
      g_assert_cmpmem (w->tensor->data, t->nbytes, t->data, t->nbytes);
    }
}

static void
test_fixture_round_trip (void)
{
  g_autofree char *folder = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) ckpt = NULL;
  const GPtrArray *unknown;
  const LfWeight  *sq;

  if (folder == NULL)
    return;
  dir = g_dir_make_tmp ("lf-ldm-XXXXXX", NULL);
  path = g_build_filename (dir, "sd15-tiny.safetensors", NULL);
  lf_test_write_ldm_checkpoint (folder, path);
  ckpt = lf_model_files_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf_model_files_get_kind (ckpt), ==,
                   LF_MODEL_KIND_CHECKPOINT);
  g_assert_cmpint (lf_model_files_get_arch (ckpt), ==, LF_ARCH_SD15);
  g_assert_cmpuint (lf_model_files_get_n_components (ckpt), ==, 3);
  assert_round_trip (ckpt, folder, "unet",
                     "diffusion_pytorch_model.safetensors");
  assert_round_trip (ckpt, folder, "vae",
                     "diffusion_pytorch_model.safetensors");
  assert_round_trip (ckpt, folder, "text_encoder", "model.safetensors");
  sq = lf_component_lookup (lf_model_files_lookup (ckpt, "vae"),
                            "encoder.mid_block.attentions.0.to_v.weight");
  g_assert_cmpint (sq->op, ==, LF_LDM_OP_SQUEEZE);
  g_assert_cmpint (sq->tensor->ndim, ==, 4);
  g_assert_cmpstr (sq->tensor->name, ==,
                   "first_stage_model.encoder.mid.attn_1.v.weight");
  unknown = lf_model_files_get_unknown_keys (ckpt);
  g_assert_cmpuint (unknown->len, ==, 1);
  g_assert_cmpstr (unknown->pdata[0], ==, "some_extension.scale");
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ldm-names/rules", test_rules);
  g_test_add_func ("/ldm-names/in-proj-split", test_in_proj_split);
  g_test_add_func ("/ldm-names/ignored-and-unknown", test_ignored_and_unknown);
  g_test_add_func ("/ldm-names/detect-arch", test_detect_arch);
  g_test_add_func ("/ldm-names/layout", test_layout);
  g_test_add_func ("/ldm-names/openclip-views", test_openclip_views);
  g_test_add_func ("/ldm-names/target-shape-errors", test_target_shape_errors);
  g_test_add_func ("/ldm-names/fixture-round-trip", test_fixture_round_trip);
  return g_test_run ();
}
