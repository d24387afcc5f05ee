/* tensor-file.c: small f32 tensors to and from safetensors files, for the
 * CLI's --init-noise and --save-latents (the format diffusers users pass
 * around with safetensors.torch.save_file). */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "linfusion.h"

#include "backend.h"
#include "cpu-ops.h"
#include "safetensors.h"

float *
lf_tensor_file_read (const char *path,
                     const char *name,
                     int        *ndim,
                     int64_t     shape[4],
                     GError    **error)
{
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, error);
  const LfStTensor *t;
  LfTensor          src, dst;
  LfOps             ops;
  float            *out;

  if (st == NULL)
    return NULL;
  t = lf_safetensors_lookup (st, name);
  if (t == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” has no tensor “%s”"), path, name);
      return NULL;
    }
  if (t->ndim < 1 || t->ndim > 4)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s”: tensor “%s” has %d dimensions, at most 4 are "
                      "supported"),
                   path, name, t->ndim);
      return NULL;
    }
  if (!lf_st_tensor_view (st, t, &src, error))
    return NULL;
  out = g_new (float, MAX (lf_tensor_numel (&src), 1));
  dst = lf_tensor_make (out, LF_DTYPE_F32, src.ndim, src.shape);
  /* Host memory and host dtypes: the CPU copy op converts. */
  lf_cpu_ops_init (&ops, 1);
  ops.copy (&ops, &src, &dst);
  if (!lf_ops_take_error (&ops, path, error))
    {
      g_free (out);
      return NULL;
    }
  *ndim = t->ndim;
  for (int i = 0; i < t->ndim; i++)
    shape[i] = t->shape[i];
  return out;
}

gboolean
lf_tensor_file_write (const char          *path,
                      const LfNamedTensor *tensors,
                      guint                n_tensors,
                      GError             **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GByteArray) file = g_byte_array_new ();
  g_autofree char *header = NULL;
  guint64          offset = 0, len;
  gsize            hlen;

  json_builder_begin_object (b);
  for (guint i = 0; i < n_tensors; i++)
    {
      guint64 bytes = sizeof (float);

      json_builder_set_member_name (b, tensors[i].name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "dtype");
      json_builder_add_string_value (b, "F32");
      json_builder_set_member_name (b, "shape");
      json_builder_begin_array (b);
      for (int k = 0; k < tensors[i].ndim; k++)
        {
          json_builder_add_int_value (b, tensors[i].shape[k]);
          bytes *= (guint64)tensors[i].shape[k];
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "data_offsets");
      json_builder_begin_array (b);
      json_builder_add_int_value (b, (gint64)offset);
      json_builder_add_int_value (b, (gint64)(offset + bytes));
      json_builder_end_array (b);
      json_builder_end_object (b);
      offset += bytes;
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  header = json_generator_to_data (gen, &hlen);
  /* Pad the header with spaces so the data starts 8-byte aligned. */
  len = GUINT64_TO_LE ((guint64)((hlen + 7) / 8 * 8));
  g_byte_array_append (file, (const guint8 *)&len, 8);
  g_byte_array_append (file, (const guint8 *)header, (guint)hlen);
  for (gsize k = hlen; k % 8 != 0; k++)
    g_byte_array_append (file, (const guint8 *)" ", 1);
  for (guint i = 0; i < n_tensors; i++)
    {
      gsize n = sizeof (float);

      for (int k = 0; k < tensors[i].ndim; k++)
        n *= (gsize)tensors[i].shape[k];
      /* safetensors is little-endian, as the hosts we build for. */
      g_byte_array_append (file, (const guint8 *)tensors[i].data, (guint)n);
    }
  if (!g_file_set_contents (path, (const char *)file->data, file->len, error))
    {
      g_prefix_error (error, _ ("Writing “%s”: "), path);
      return FALSE;
    }
  return TRUE;
}
