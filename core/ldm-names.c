/* ldm-names.c: LDM single-file checkpoint keys → diffusers keys.
 * Mirrors diffusers loaders/single_file_utils.py (convert_ldm_unet_
 * checkpoint, update_unet_resnet_ldm_to_diffusers, convert_ldm_vae_
 * checkpoint, conv_attn_to_linear, convert_open_clip_checkpoint); the rules
 * are written out in docs/reference/components.md §1.6.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <stdarg.h>
#include <string.h>

#include "linfusion.h"

#include "ldm-names.h"

#define MAX_INDEX 100000

#define UNET_PREFIX       "model.diffusion_model."
#define CONTROLNET_PREFIX "control_model."

typedef struct
{
  const char *from, *to;
} Rename;

static const Rename unet_resnet[] = {
  { "in_layers.0.", "norm1." },
  { "in_layers.2.", "conv1." },
  { "emb_layers.1.", "time_emb_proj." },
  { "out_layers.0.", "norm2." },
  { "out_layers.3.", "conv2." },
  { "skip_connection.", "conv_shortcut." },
};

static const Rename vae_resnet[] = {
  { "norm1.", "norm1." },
  { "conv1.", "conv1." },
  { "norm2.", "norm2." },
  { "conv2.", "conv2." },
  { "nin_shortcut.", "conv_shortcut." },
};

static const Rename vae_attention[] = {
  { "norm.", "group_norm." },
  { "q.", "to_q." },
  { "k.", "to_k." },
  { "v.", "to_v." },
  { "proj_out.", "to_out.0." },
};

static const Rename openclip_layer[] = {
  { "ln_1.", "layer_norm1." },
  { "ln_2.", "layer_norm2." },
  { "mlp.c_fc.", "mlp.fc1." },
  { "mlp.c_proj.", "mlp.fc2." },
  { "attn.out_proj.", "self_attn.out_proj." },
};

/* Keys whose tail is copied after a fixed rename of the head. */
static const Rename unet_plain[] = {
  { "time_embed.0.", "time_embedding.linear_1." },
  { "time_embed.2.", "time_embedding.linear_2." },
  { "label_emb.0.0.", "add_embedding.linear_1." },
  { "label_emb.0.2.", "add_embedding.linear_2." },
  { "input_blocks.0.0.", "conv_in." },
  { "out.0.", "conv_norm_out." },
  { "out.2.", "conv_out." },
};

static const Rename vae_plain[] = {
  { "encoder.conv_in.", "encoder.conv_in." },
  { "encoder.conv_out.", "encoder.conv_out." },
  { "encoder.norm_out.", "encoder.conv_norm_out." },
  { "decoder.conv_in.", "decoder.conv_in." },
  { "decoder.conv_out.", "decoder.conv_out." },
  { "decoder.norm_out.", "decoder.conv_norm_out." },
  { "quant_conv.", "quant_conv." },
  { "post_quant_conv.", "post_quant_conv." },
};

const char *
lf_arch_name (LfArch arch)
{
  switch (arch)
    {
    case LF_ARCH_SD15:
      return "sd15";
    case LF_ARCH_SD21:
      return "sd21";
    case LF_ARCH_SDXL:
      return "sdxl";
    case LF_ARCH_UNKNOWN:
      break;
    }
  return "unknown";
}

static gboolean
take (const char **p, const char *prefix)
{
  gsize n = strlen (prefix);

  if (strncmp (*p, prefix, n) != 0)
    return FALSE;
  *p += n;
  return TRUE;
}

/* Consumes "<decimal>." and stores the number. */
static gboolean
take_index (const char **p, int *out)
{
  const char *s = *p;
  int         v = 0;

  if (!g_ascii_isdigit (*s))
    return FALSE;
  for (; g_ascii_isdigit (*s); s++)
    {
      v = v * 10 + (*s - '0');
      if (v > MAX_INDEX)
        return FALSE;
    }
  if (*s != '.')
    return FALSE;
  *out = v;
  *p = s + 1;
  return TRUE;
}

static const Rename *
find_rename (const Rename *table, gsize n, const char **p)
{
  for (gsize i = 0; i < n; i++)
    if (take (p, table[i].from))
      return &table[i];
  return NULL;
}

static LfLdmStatus emit (GArray     *out,
                         const char *component,
                         LfLdmOp     op,
                         int         part,
                         const char *fmt,
                         ...) G_GNUC_PRINTF (5, 6);

static LfLdmStatus
emit (GArray     *out,
      const char *component,
      LfLdmOp     op,
      int         part,
      const char *fmt,
      ...)
{
  LfLdmName name = { component, NULL, op, part };
  va_list   args;

  va_start (args, fmt);
  name.name = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_array_append_val (out, name);
  return LF_LDM_MAPPED;
}

static LfLdmStatus
unet_resnet_key (GArray *out, const char *comp, const char *head, const char *p)
{
  const Rename *r = find_rename (unet_resnet, G_N_ELEMENTS (unet_resnet), &p);

  if (r == NULL)
    return LF_LDM_UNKNOWN;
  return emit (out, comp, LF_LDM_OP_NONE, 0, "%s%s%s", head, r->to, p);
}

/* @comp: "unet", or "controlnet" for its copy of the encoder. */
static LfLdmStatus
map_unet_block (const LfLdmLayout *layout,
                GArray            *out,
                const char        *comp,
                gboolean           up,
                int                i,
                int                j,
                const char        *p)
{
  const int        per = layout->unet_layers_per_block + 1;
  const char      *kind = up ? "up_blocks" : "down_blocks";
  int              b, l;
  g_autofree char *head = NULL;

  if (!up)
    i -= 1; /* input_blocks.0 is conv_in */
  if (layout->unet_levels == 0 || i < 0 || i / per >= layout->unet_levels)
    return LF_LDM_UNKNOWN;
  b = i / per;
  l = i % per;
  if (!up && j == 0 && take (&p, "op."))
    return emit (out, comp, LF_LDM_OP_NONE, 0,
                 "down_blocks.%d.downsamplers.0.conv.%s", b, p);
  if (up && (j == 1 || j == 2) && take (&p, "conv."))
    return emit (out, comp, LF_LDM_OP_NONE, 0,
                 "up_blocks.%d.upsamplers.0.conv.%s", b, p);
  if (j == 0)
    {
      head = g_strdup_printf ("%s.%d.resnets.%d.", kind, b, l);
      return unet_resnet_key (out, comp, head, p);
    }
  if (j == 1)
    return emit (out, comp, LF_LDM_OP_NONE, 0, "%s.%d.attentions.%d.%s", kind,
                 b, l, p);
  return LF_LDM_UNKNOWN;
}

static LfLdmStatus
map_unet (const LfLdmLayout *layout,
          const char        *comp,
          const char        *p,
          GArray            *out)
{
  const Rename *r = find_rename (unet_plain, G_N_ELEMENTS (unet_plain), &p);
  int           i, j;

  if (r != NULL)
    return emit (out, comp, LF_LDM_OP_NONE, 0, "%s%s", r->to, p);
  if (take (&p, "input_blocks.") && take_index (&p, &i) && take_index (&p, &j))
    return map_unet_block (layout, out, comp, FALSE, i, j, p);
  if (take (&p, "output_blocks.") && take_index (&p, &i) && take_index (&p, &j))
    return map_unet_block (layout, out, comp, TRUE, i, j, p);
  if (take (&p, "middle_block.") && take_index (&p, &j))
    {
      if (j == 1)
        return emit (out, comp, LF_LDM_OP_NONE, 0, "mid_block.attentions.0.%s",
                     p);
      if (j == 0 || j == 2)
        return unet_resnet_key (
            out, comp, j == 0 ? "mid_block.resnets.0." : "mid_block.resnets.1.",
            p);
    }
  return LF_LDM_UNKNOWN;
}

/* ControlNet v1.1 (lllyasviel cldm.py), as diffusers'
 * convert_controlnet_checkpoint: input_hint_block is a Sequential of
 * (conv, SiLU) pairs, so its convs sit at even indices: 0 is conv_in, the
 * last (14) conv_out, the ones between blocks.0…; zero_convs.i.0 and
 * middle_block_out.0 are 1×1 convs; the encoder copy has the UNet's names
 * (its output_blocks and out do not exist). */
static LfLdmStatus
map_controlnet (const LfLdmLayout *layout, const char *p, GArray *out)
{
  const char *comp = "controlnet";
  int         i;

  if (take (&p, "input_hint_block.") && take_index (&p, &i))
    {
      if (i % 2 != 0 || i > layout->controlnet_hint_last)
        return LF_LDM_UNKNOWN;
      if (i == 0)
        return emit (out, comp, LF_LDM_OP_NONE, 0,
                     "controlnet_cond_embedding.conv_in.%s", p);
      if (i == layout->controlnet_hint_last)
        return emit (out, comp, LF_LDM_OP_NONE, 0,
                     "controlnet_cond_embedding.conv_out.%s", p);
      return emit (out, comp, LF_LDM_OP_NONE, 0,
                   "controlnet_cond_embedding.blocks.%d.%s", i / 2 - 1, p);
    }
  if (take (&p, "zero_convs.") && take_index (&p, &i) && take (&p, "0."))
    return emit (out, comp, LF_LDM_OP_NONE, 0, "controlnet_down_blocks.%d.%s",
                 i, p);
  if (take (&p, "middle_block_out.0."))
    return emit (out, comp, LF_LDM_OP_NONE, 0, "controlnet_mid_block.%s", p);
  if (g_str_has_prefix (p, "time_embed.")
      || g_str_has_prefix (p, "input_blocks.")
      || g_str_has_prefix (p, "middle_block."))
    return map_unet (layout, comp, p, out);
  return LF_LDM_UNKNOWN;
}

static LfLdmStatus
vae_resnet_key (GArray *out, const char *head, const char *p)
{
  const Rename *r = find_rename (vae_resnet, G_N_ELEMENTS (vae_resnet), &p);

  if (r == NULL)
    return LF_LDM_UNKNOWN;
  return emit (out, "vae", LF_LDM_OP_NONE, 0, "%s%s%s", head, r->to, p);
}

/* encoder.mid / decoder.mid: two resnets and the 1×1-conv attention. */
static LfLdmStatus
map_vae_mid (const char *coder, const char *p, int ndim, GArray *out)
{
  g_autofree char *head = NULL;
  const Rename    *r;

  if (take (&p, "block_1.") || take (&p, "block_2."))
    {
      /* p[-2] is the digit of block_N. */
      head = g_strdup_printf ("%s.mid_block.resnets.%d.", coder, p[-2] - '1');
      return vae_resnet_key (out, head, p);
    }
  if (!take (&p, "attn_1.")
      || (r = find_rename (vae_attention, G_N_ELEMENTS (vae_attention), &p))
             == NULL)
    return LF_LDM_UNKNOWN;
  /* LDM's AttnBlock uses 1×1 convs where diffusers uses Linear layers. */
  return emit (out, "vae",
               strcmp (p, "weight") == 0 && ndim == 4 ? LF_LDM_OP_SQUEEZE
                                                      : LF_LDM_OP_NONE,
               0, "%s.mid_block.attentions.0.%s%s", coder, r->to, p);
}

static LfLdmStatus
map_vae_level (const LfLdmLayout *layout,
               gboolean           up,
               const char        *p,
               GArray            *out)
{
  const char      *coder = up ? "decoder" : "encoder";
  const char      *kind = up ? "up_blocks" : "down_blocks";
  g_autofree char *head = NULL;
  int              i, j;

  if (!take_index (&p, &i))
    return LF_LDM_UNKNOWN;
  /* LDM's decoder.up is numbered from the lowest resolution upwards, the
   * reverse of diffusers' up_blocks. */
  if (up)
    {
      if (i >= layout->vae_levels)
        return LF_LDM_UNKNOWN;
      i = layout->vae_levels - 1 - i;
    }
  if (take (&p, up ? "upsample.conv." : "downsample.conv."))
    return emit (out, "vae", LF_LDM_OP_NONE, 0, "%s.%s.%d.%s.0.conv.%s", coder,
                 kind, i, up ? "upsamplers" : "downsamplers", p);
  if (!take (&p, "block.") || !take_index (&p, &j))
    return LF_LDM_UNKNOWN;
  head = g_strdup_printf ("%s.%s.%d.resnets.%d.", coder, kind, i, j);
  return vae_resnet_key (out, head, p);
}

static LfLdmStatus
map_vae (const LfLdmLayout *layout, const char *p, int ndim, GArray *out)
{
  const Rename *r = find_rename (vae_plain, G_N_ELEMENTS (vae_plain), &p);

  if (r != NULL)
    return emit (out, "vae", LF_LDM_OP_NONE, 0, "%s%s", r->to, p);
  if (take (&p, "encoder.down."))
    return map_vae_level (layout, FALSE, p, out);
  if (take (&p, "decoder.up."))
    return map_vae_level (layout, TRUE, p, out);
  if (take (&p, "encoder.mid."))
    return map_vae_mid ("encoder", p, ndim, out);
  if (take (&p, "decoder.mid."))
    return map_vae_mid ("decoder", p, ndim, out);
  return LF_LDM_UNKNOWN;
}

/* OpenAI CLIP as saved by transformers: only the prefix differs. */
static LfLdmStatus
map_clip (const char *component, const char *p, GArray *out)
{
  if (g_str_has_suffix (p, "position_ids"))
    return LF_LDM_IGNORED; /* a buffer, not a weight */
  return emit (out, component, LF_LDM_OP_NONE, 0, "%s%s",
               g_str_has_prefix (p, "text_model.") ? "" : "text_model.", p);
}

static LfLdmStatus
map_openclip_layer (const char *component, int n, const char *p, GArray *out)
{
  const Rename *r;
  const char   *kind;

  if ((r = find_rename (openclip_layer, G_N_ELEMENTS (openclip_layer), &p)))
    return emit (out, component, LF_LDM_OP_NONE, 0,
                 "text_model.encoder.layers.%d.%s%s", n, r->to, p);
  if (strcmp (p, "attn.in_proj_weight") == 0)
    kind = "weight";
  else if (strcmp (p, "attn.in_proj_bias") == 0)
    kind = "bias";
  else
    return LF_LDM_UNKNOWN;
  /* One (3D, …) projection in OpenCLIP, three (D, …) ones in CLIP. */
  for (int part = 0; part < 3; part++)
    emit (out, component, LF_LDM_OP_ROWS, part,
          "text_model.encoder.layers.%d.self_attn.%s_proj.%s", n,
          (const char *[]){ "q", "k", "v" }[part], kind);
  return LF_LDM_MAPPED;
}

static LfLdmStatus
map_openclip (const LfLdmLayout *layout,
              const char        *component,
              const char        *p,
              GArray            *out)
{
  const gboolean sd2 = strcmp (component, "text_encoder") == 0;
  int            n;

  if (strcmp (p, "positional_embedding") == 0)
    return emit (out, component, LF_LDM_OP_NONE, 0,
                 "text_model.embeddings.position_embedding.weight");
  if (strcmp (p, "token_embedding.weight") == 0)
    return emit (out, component, LF_LDM_OP_NONE, 0,
                 "text_model.embeddings.token_embedding.weight");
  if (take (&p, "ln_final."))
    return emit (out, component, LF_LDM_OP_NONE, 0,
                 "text_model.final_layer_norm.%s", p);
  /* SD-2 uses the penultimate layer without projection: diffusers drops
   * the last layer and text_projection (SD_2_TEXT_ENCODER_KEYS_TO_IGNORE). */
  if (strcmp (p, "text_projection") == 0)
    return sd2 ? LF_LDM_IGNORED
               : emit (out, component, LF_LDM_OP_TRANSPOSE, 0,
                       "text_projection.weight");
  if (strcmp (p, "logit_scale") == 0 || strcmp (p, "attn_mask") == 0)
    return LF_LDM_IGNORED;
  if (!take (&p, "transformer.resblocks.") || !take_index (&p, &n))
    return LF_LDM_UNKNOWN;
  if (sd2 && n == layout->openclip_layers - 1)
    return LF_LDM_IGNORED;
  return map_openclip_layer (component, n, p, out);
}

LfLdmStatus
lf_ldm_map_name (const LfLdmLayout *layout,
                 const char        *key,
                 int                ndim,
                 GArray            *out)
{
  const char *p = key;

  g_return_val_if_fail (layout != NULL && key != NULL, LF_LDM_UNKNOWN);

  if (take (&p, "model_ema."))
    return LF_LDM_IGNORED;
  if (take (&p, UNET_PREFIX))
    return map_unet (layout, "unet", p, out);
  if (take (&p, CONTROLNET_PREFIX))
    return map_controlnet (layout, p, out);
  if (take (&p, "first_stage_model.") || take (&p, "vae."))
    return map_vae (layout, p, ndim, out);
  if (take (&p, "cond_stage_model.transformer.")
      || take (&p, "conditioner.embedders.0.transformer."))
    return map_clip ("text_encoder", p, out);
  if (take (&p, "cond_stage_model.model."))
    return map_openclip (layout, "text_encoder", p, out);
  if (take (&p, "conditioner.embedders.1.model."))
    return map_openclip (layout, "text_encoder_2", p, out);
  if (layout->controlnet_bare)
    return map_controlnet (layout, p, out);
  return LF_LDM_UNKNOWN;
}

void
lf_ldm_name_clear (LfLdmName *name)
{
  g_clear_pointer (&name->name, g_free);
}

gboolean
lf_ldm_is_checkpoint (const LfSafetensors *st)
{
  /* A ControlNet's own keys mark it even without a prefix. */
  static const char *const prefixes[]
      = { UNET_PREFIX,         "first_stage_model.",
          "cond_stage_model.", "conditioner.embedders.",
          CONTROLNET_PREFIX,   "input_hint_block." };

  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const char *name = lf_safetensors_get_tensor (st, i)->name;

      for (gsize k = 0; k < G_N_ELEMENTS (prefixes); k++)
        if (g_str_has_prefix (name, prefixes[k]))
          return TRUE;
    }
  return FALSE;
}

/* What one pass over the keys finds. */
typedef struct
{
  int         n_input_blocks, vae_levels, openclip_layers, hint_last;
  gboolean    controlnet_bare; /* ControlNet keys without a prefix */
  GHashTable *downsamplers;    /* input block index + 1 */
  gboolean    sdxl_keys, openclip_sd2, clip_sd1;
  int64_t     context_dim;
} KeyScan;

/* A ControlNet's key, its prefix stripped: control_model.…, or any key of
 * a file whose ControlNet keys have no prefix. */
static gboolean
take_controlnet (const KeyScan *s, const char **p)
{
  return take (p, CONTROLNET_PREFIX)
         || (s->controlnet_bare
             && (g_str_has_prefix (*p, "input_hint_block.")
                 || g_str_has_prefix (*p, "input_blocks.")
                 || g_str_has_prefix (*p, "middle_block.")));
}

static void
scan_key (KeyScan *s, const LfStTensor *t)
{
  const char *p = t->name;
  int         i, j;

  if (take (&p, UNET_PREFIX) || take_controlnet (s, &p))
    {
      if (g_str_has_prefix (p, "label_emb."))
        s->sdxl_keys = TRUE;
      if (g_str_has_suffix (p, "attn2.to_k.weight") && t->ndim == 2)
        s->context_dim = t->shape[1];
      if (take (&p, "input_hint_block.") && take_index (&p, &i))
        s->hint_last = MAX (s->hint_last, i);
      if (take (&p, "input_blocks.") && take_index (&p, &i))
        {
          s->n_input_blocks = MAX (s->n_input_blocks, i + 1);
          if (take_index (&p, &j) && j == 0 && take (&p, "op."))
            g_hash_table_add (s->downsamplers, GINT_TO_POINTER (i + 1));
        }
    }
  else if ((take (&p, "first_stage_model.") || take (&p, "vae."))
           && take (&p, "decoder.up.") && take_index (&p, &i))
    s->vae_levels = MAX (s->vae_levels, i + 1);
  else if (take (&p, "cond_stage_model.model.")
           || take (&p, "conditioner.embedders.1.model."))
    {
      s->openclip_sd2 |= g_str_has_prefix (t->name, "cond_stage_model.");
      s->sdxl_keys |= g_str_has_prefix (t->name, "conditioner.");
      if (take (&p, "transformer.resblocks.") && take_index (&p, &i))
        s->openclip_layers = MAX (s->openclip_layers, i + 1);
    }
  else if (g_str_has_prefix (p, "cond_stage_model.transformer."))
    s->clip_sd1 = TRUE;
  else if (g_str_has_prefix (p, "conditioner.embedders."))
    s->sdxl_keys = TRUE;
}

static LfArch
arch_from_scan (const KeyScan *s)
{
  if (s->sdxl_keys)
    return LF_ARCH_SDXL;
  if (s->openclip_sd2)
    return LF_ARCH_SD21;
  if (s->clip_sd1)
    return LF_ARCH_SD15;
  switch (s->context_dim)
    {
    case 768:
      return LF_ARCH_SD15;
    case 1024:
      return LF_ARCH_SD21;
    case 2048:
      return LF_ARCH_SDXL;
    }
  return LF_ARCH_UNKNOWN;
}

gboolean
lf_ldm_layout_detect (const LfSafetensors *st,
                      LfLdmLayout         *layout,
                      GError             **error)
{
  g_autoptr (GHashTable) downsamplers = g_hash_table_new (NULL, NULL);
  KeyScan s = { 0 };
  int     levels;

  s.downsamplers = downsamplers;
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    s.controlnet_bare |= g_str_has_prefix (
        lf_safetensors_get_tensor (st, i)->name, "input_hint_block.");
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    scan_key (&s, lf_safetensors_get_tensor (st, i));
  memset (layout, 0, sizeof *layout);
  layout->arch = arch_from_scan (&s);
  layout->controlnet_bare = s.controlnet_bare;
  layout->controlnet_hint_last = s.hint_last;
  layout->vae_levels = s.vae_levels;
  layout->openclip_layers = s.openclip_layers;
  if (s.n_input_blocks == 0)
    return TRUE;
  /* input_blocks = conv_in + levels × (layers_per_block + 1) − the last
   * level's missing downsampler, i.e. levels × (layers_per_block + 1). */
  levels = g_hash_table_size (downsamplers) + 1;
  if (s.n_input_blocks % levels != 0 || s.n_input_blocks / levels < 2)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: %d UNet input blocks do not make %d whole levels"),
                   lf_safetensors_get_path (st), s.n_input_blocks, levels);
      return FALSE;
    }
  layout->unet_levels = levels;
  layout->unet_layers_per_block = s.n_input_blocks / levels - 1;
  return TRUE;
}

static gboolean
shape_error (const LfSafetensors *st,
             const LfStTensor    *t,
             const char          *need,
             GError             **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("“%s”: tensor “%s”: expected %s"),
               lf_safetensors_get_path (st), t->name, need);
  return FALSE;
}

gboolean
lf_ldm_target_shape (const LfSafetensors *st,
                     const LfStTensor    *t,
                     const LfLdmName     *name,
                     int                 *ndim,
                     int64_t             *shape,
                     GError             **error)
{
  *ndim = t->ndim;
  memcpy (shape, t->shape, sizeof (int64_t) * t->ndim);
  switch (name->op)
    {
    case LF_LDM_OP_NONE:
      break;
    case LF_LDM_OP_SQUEEZE:
      if (t->ndim != 4 || t->shape[2] != 1 || t->shape[3] != 1)
        return shape_error (st, t, _ ("a 1×1 convolution (C, C, 1, 1)"), error);
      *ndim = 2;
      break;
    case LF_LDM_OP_ROWS:
      if (t->ndim < 1 || t->ndim > 2 || t->shape[0] % 3 != 0)
        return shape_error (st, t, _ ("rows divisible by 3 (q, k, v)"), error);
      shape[0] = t->shape[0] / 3;
      break;
    case LF_LDM_OP_TRANSPOSE:
      if (t->ndim != 2)
        return shape_error (st, t, _ ("a matrix"), error);
      shape[0] = t->shape[1];
      shape[1] = t->shape[0];
      break;
    }
  return TRUE;
}
