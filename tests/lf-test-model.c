/* lf-test-model.c: see lf-test-model.h. The inverse renaming below goes
 * diffusers → LDM (diffusers' DIFFUSERS_TO_LDM_MAPPING direction); core
 * goes the other way, so the two are independent spellings of §1.6.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lf-test-model.h"
#include "safetensors.h"

typedef struct
{
  char   *name, *dtype;
  int     ndim;
  int64_t shape[8];
  gsize   begin, end;
} Entry;

struct _LfTestSt
{
  GArray     *entries;
  GByteArray *data;
  GString    *metadata;
};

LfTestSt *
lf_test_st_new (void)
{
  LfTestSt *w = g_new0 (LfTestSt, 1);

  w->entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  w->data = g_byte_array_new ();
  w->metadata = g_string_new (NULL);
  return w;
}

void
lf_test_st_add (LfTestSt      *w,
                const char    *name,
                const char    *dtype,
                int            ndim,
                const int64_t *shape,
                const void    *data,
                gsize          nbytes)
{
  Entry e = { g_strdup (name), g_strdup (dtype), ndim, { 0 }, 0, 0 };

  g_assert_cmpint (ndim, <=, 8);
  if (ndim > 0)
    memcpy (e.shape, shape, sizeof (int64_t) * ndim);
  e.begin = w->data->len;
  if (nbytes > 0)
    g_byte_array_append (w->data, data, nbytes);
  e.end = w->data->len;
  g_array_append_val (w->entries, e);
}

void
lf_test_st_set_metadata (LfTestSt *w, const char *key, const char *value)
{
  g_string_append_printf (w->metadata, "%s\"%s\":\"%s\"",
                          w->metadata->len ? "," : "", key, value);
}

static GBytes *
assemble (const char *header,
          gsize       header_len,
          const void *data,
          gsize       data_len)
{
  GByteArray *out = g_byte_array_new ();
  guint8      len[8];

  for (int i = 0; i < 8; i++)
    len[i] = (guint8)((guint64)header_len >> (8 * i));
  g_byte_array_append (out, len, 8);
  g_byte_array_append (out, (const guint8 *)header, header_len);
  if (data_len > 0)
    g_byte_array_append (out, data, data_len);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
lf_test_st_finish (LfTestSt *w)
{
  GString *h = g_string_new ("{");
  GBytes  *bytes;

  if (w->metadata->len > 0)
    g_string_append_printf (h, "\"__metadata__\":{%s}", w->metadata->str);
  for (guint i = 0; i < w->entries->len; i++)
    {
      Entry *e = &g_array_index (w->entries, Entry, i);

      if (h->len > 1)
        g_string_append_c (h, ',');
      g_string_append_printf (h, "\"%s\":{\"dtype\":\"%s\",\"shape\":[",
                              e->name, e->dtype);
      for (int k = 0; k < e->ndim; k++)
        g_string_append_printf (h, "%s%" G_GINT64_FORMAT, k ? "," : "",
                                e->shape[k]);
      g_string_append_printf (
          h, "],\"data_offsets\":[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]}",
          e->begin, e->end);
      g_free (e->name);
      g_free (e->dtype);
    }
  g_string_append_c (h, '}');
  while (h->len % 8 != 0)
    g_string_append_c (h, ' ');
  bytes = assemble (h->str, h->len, w->data->data, w->data->len);
  g_string_free (h, TRUE);
  g_array_unref (w->entries);
  g_byte_array_unref (w->data);
  g_string_free (w->metadata, TRUE);
  g_free (w);
  return bytes;
}

GBytes *
lf_test_st_raw (const char *header, gsize data_len)
{
  g_autofree guint8 *zeros = g_malloc0 (data_len + 1);

  return assemble (header, strlen (header), zeros, data_len);
}

char *
lf_test_write_file (const char *dir, const char *name, GBytes *bytes)
{
  char         *path = g_build_filename (dir, name, NULL);
  gsize         size;
  gconstpointer data = g_bytes_get_data (bytes, &size);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
  return path;
}

/* Pairs of (diffusers head, LDM head); the tail after the head is kept. */
typedef struct
{
  const char *diffusers, *ldm;
} Pair;

static const Pair unet_resnet[] = {
  { "norm1.", "in_layers.0." },
  { "conv1.", "in_layers.2." },
  { "time_emb_proj.", "emb_layers.1." },
  { "norm2.", "out_layers.0." },
  { "conv2.", "out_layers.3." },
  { "conv_shortcut.", "skip_connection." },
};

static const Pair vae_attention[] = {
  { "group_norm.", "norm." },
  { "to_q.", "q." },
  { "to_k.", "k." },
  { "to_v.", "v." },
  { "to_out.0.", "proj_out." },
};

static const char *
swap_head (const Pair *pairs, gsize n, const char *s, const char **tail)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_has_prefix (s, pairs[i].diffusers))
      {
        *tail = s + strlen (pairs[i].diffusers);
        return pairs[i].ldm;
      }
  return NULL;
}

static char *
unet_resnet_key (const char *head, const char *rest)
{
  const char *tail;
  const char *ldm
      = swap_head (unet_resnet, G_N_ELEMENTS (unet_resnet), rest, &tail);

  return ldm ? g_strconcat (head, ldm, tail, NULL) : NULL;
}

static char *
unet_key (const char *name, int lpb, guint up_attn)
{
  const int per = lpb + 1;
  int       b, l, n = 0;
  char      kind[16];

  if (g_str_has_prefix (name, "time_embedding.linear_"))
    return g_strdup_printf ("time_embed.%d%s", name[22] == '1' ? 0 : 2,
                            name + 23);
  if (g_str_has_prefix (name, "conv_in."))
    return g_strconcat ("input_blocks.0.0.", name + 8, NULL);
  if (g_str_has_prefix (name, "conv_norm_out."))
    return g_strconcat ("out.0.", name + 14, NULL);
  if (g_str_has_prefix (name, "conv_out."))
    return g_strconcat ("out.2.", name + 9, NULL);
  if (sscanf (name, "mid_block.resnets.%d.%n", &b, &n) == 1 && n > 0)
    return unet_resnet_key (b == 0 ? "middle_block.0." : "middle_block.2.",
                            name + n);
  if (g_str_has_prefix (name, "mid_block.attentions.0."))
    return g_strconcat ("middle_block.1.", name + 23, NULL);
  if (sscanf (name, "%15[a-z_].%d.%n", kind, &b, &n) != 2 || n == 0)
    return NULL;
  name += n;
  if (strcmp (kind, "down_blocks") == 0)
    {
      g_autofree char *head = NULL;

      if (g_str_has_prefix (name, "downsamplers.0.conv."))
        return g_strdup_printf ("input_blocks.%d.0.op.%s", 1 + b * per + lpb,
                                name + 20);
      if ((n = 0, sscanf (name, "resnets.%d.%n", &l, &n)) == 1 && n > 0)
        return unet_resnet_key (
            head = g_strdup_printf ("input_blocks.%d.0.", 1 + b * per + l),
            name + n);
      if ((n = 0, sscanf (name, "attentions.%d.%n", &l, &n)) == 1 && n > 0)
        return g_strdup_printf ("input_blocks.%d.1.%s", 1 + b * per + l,
                                name + n);
    }
  if (strcmp (kind, "up_blocks") == 0)
    {
      g_autofree char *head = NULL;

      if (g_str_has_prefix (name, "upsamplers.0.conv."))
        return g_strdup_printf ("output_blocks.%d.%d.conv.%s", b * per + lpb,
                                (up_attn >> b) & 1 ? 2 : 1, name + 18);
      if ((n = 0, sscanf (name, "resnets.%d.%n", &l, &n)) == 1 && n > 0)
        return unet_resnet_key (
            head = g_strdup_printf ("output_blocks.%d.0.", b * per + l),
            name + n);
      if ((n = 0, sscanf (name, "attentions.%d.%n", &l, &n)) == 1 && n > 0)
        return g_strdup_printf ("output_blocks.%d.1.%s", b * per + l, name + n);
    }
  return NULL;
}

static char *
vae_resnet_tail (const char *rest)
{
  if (g_str_has_prefix (rest, "conv_shortcut."))
    return g_strconcat ("nin_shortcut.", rest + 14, NULL);
  return g_strdup (rest);
}

static char *
vae_key (const char *name, int levels)
{
  const char      *tail, *ldm;
  char             coder[8];
  int              i, j, n = 0;
  g_autofree char *rest = NULL;

  if (g_str_has_prefix (name, "quant_conv.")
      || g_str_has_prefix (name, "post_quant_conv."))
    return g_strdup (name);
  if (sscanf (name, "%7[a-z].%n", coder, &n) != 1 || n == 0)
    return NULL;
  name += n;
  if (g_str_has_prefix (name, "conv_norm_out."))
    return g_strdup_printf ("%s.norm_out.%s", coder, name + 14);
  if (g_str_has_prefix (name, "conv_in.")
      || g_str_has_prefix (name, "conv_out."))
    return g_strdup_printf ("%s.%s", coder, name);
  if ((n = 0, sscanf (name, "mid_block.resnets.%d.%n", &i, &n)) == 1 && n > 0)
    return g_strdup_printf ("%s.mid.block_%d.%s", coder, i + 1,
                            rest = vae_resnet_tail (name + n));
  if (g_str_has_prefix (name, "mid_block.attentions.0.")
      && (ldm = swap_head (vae_attention, G_N_ELEMENTS (vae_attention),
                           name + 23, &tail)))
    return g_strdup_printf ("%s.mid.attn_1.%s%s", coder, ldm, tail);
  if ((n = 0, sscanf (name, "down_blocks.%d.downsamplers.0.conv.%n", &i, &n))
          == 1
      && n > 0)
    return g_strdup_printf ("%s.down.%d.downsample.conv.%s", coder, i,
                            name + n);
  if ((n = 0, sscanf (name, "up_blocks.%d.upsamplers.0.conv.%n", &i, &n)) == 1
      && n > 0)
    return g_strdup_printf ("%s.up.%d.upsample.conv.%s", coder, levels - 1 - i,
                            name + n);
  if ((n = 0, sscanf (name, "down_blocks.%d.resnets.%d.%n", &i, &j, &n)) == 2
      && n > 0)
    return g_strdup_printf ("%s.down.%d.block.%d.%s", coder, i, j,
                            rest = vae_resnet_tail (name + n));
  if ((n = 0, sscanf (name, "up_blocks.%d.resnets.%d.%n", &i, &j, &n)) == 2
      && n > 0)
    return g_strdup_printf ("%s.up.%d.block.%d.%s", coder, levels - 1 - i, j,
                            rest = vae_resnet_tail (name + n));
  return NULL;
}

char *
lf_test_ldm_key (const char *component,
                 const char *name,
                 int         layers_per_block,
                 int         vae_levels,
                 guint       up_attn)
{
  g_autofree char *key = NULL;

  if (strcmp (component, "unet") == 0)
    key = unet_key (name, layers_per_block, up_attn);
  else if (strcmp (component, "vae") == 0)
    key = vae_key (name, vae_levels);
  else if (strcmp (component, "text_encoder") == 0)
    key = g_strdup (name);
  if (key == NULL)
    return NULL;
  return g_strconcat (strcmp (component, "unet") == 0 ? "model.diffusion_model."
                      : strcmp (component, "vae") == 0
                          ? "first_stage_model."
                          : "cond_stage_model.transformer.",
                      key, NULL);
}

static void
add_component (LfTestSt   *w,
               const char *folder,
               const char *component,
               const char *file)
{
  g_autofree char *path = g_build_filename (folder, component, file, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);
  guint up_attn = 0;

  g_assert_no_error (error);
  for (guint b = 0; b < 8; b++)
    {
      g_autofree char *probe
          = g_strdup_printf ("up_blocks.%u.attentions.0.norm.weight", b);

      if (lf_safetensors_lookup (st, probe))
        up_attn |= 1u << b;
    }
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      g_autofree char  *key
          = lf_test_ldm_key (component, t->name, 2, 4, up_attn);
      int64_t  shape[4] = { t->shape[0], t->ndim > 1 ? t->shape[1] : 0, 1, 1 };
      gboolean conv = strstr (t->name, "mid_block.attentions.0.to_")
                      && g_str_has_suffix (t->name, ".weight");

      g_assert_nonnull (key);
      /* LDM stores the VAE attention projections as 1×1 convolutions. */
      if (conv)
        lf_test_st_add (w, key, lf_st_dtype_name (t->dtype), 4, shape, t->data,
                        t->nbytes);
      else
        lf_test_st_add (w, key, lf_st_dtype_name (t->dtype), t->ndim, t->shape,
                        t->data, t->nbytes);
    }
}

void
lf_test_write_ldm_checkpoint (const char *folder, const char *out_path)
{
  LfTestSt     *w = lf_test_st_new ();
  const float   one = 1.0f;
  const int64_t shape[1] = { 1 };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  gsize         size;
  gconstpointer data;

  add_component (w, folder, "unet", "diffusion_pytorch_model.safetensors");
  add_component (w, folder, "vae", "diffusion_pytorch_model.safetensors");
  add_component (w, folder, "text_encoder", "model.safetensors");
  lf_test_st_add (w, "model_ema.decay", "F32", 1, shape, &one, 4);
  lf_test_st_add (w, "some_extension.scale", "F32", 1, shape, &one, 4);
  bytes = lf_test_st_finish (w);
  data = g_bytes_get_data (bytes, &size);
  g_file_set_contents (out_path, data, size, &error);
  g_assert_no_error (error);
}

const LfStTensor *
lf_test_ref_f32 (LfSafetensors *st, const char *name)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  if (t == NULL)
    g_error ("no tensor %s", name);
  g_assert_cmpint (t->dtype, ==, LF_ST_F32);
  return t;
}

double *
lf_test_ref_f64 (LfSafetensors *st, const char *name, int64_t *n)
{
  const LfStTensor *t = lf_test_ref_f32 (st, name);
  double           *out;

  *n = lf_st_tensor_numel (t);
  out = g_new (double, *n);
  for (int64_t i = 0; i < *n; i++)
    out[i] = ((const float *)t->data)[i];
  return out;
}
