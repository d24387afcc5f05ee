/* test-manifest-files.c: every .safetensors file of the conformance set
 * opens, and agrees with manifest.json (written by the upstream fixture
 * generator): refs[*].tensors dtypes and shapes, weights_roundtrip_exact
 * tensor and parameter counts, checks.safetensors_files_strictly_valid.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "diffusers-folder.h"
#include "lf-test.h"

static char       *set_dir;
static JsonParser *parser;
static JsonObject *manifest;

/* Inside a test: finds the set (or skips) and reads manifest.json once. */
static gboolean
have_set (void)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (manifest != NULL)
    return TRUE;
  if ((set_dir = lf_test_conformance_dir ("sd15-tiny-seed0")) == NULL)
    return FALSE;
  path = g_build_filename (set_dir, "manifest.json", NULL);
  parser = json_parser_new ();
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  manifest = json_node_get_object (json_parser_get_root (parser));
  return TRUE;
}

static void
collect (const char *dir, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          collect (path, out);
          g_free (path);
        }
      else if (g_str_has_suffix (name, ".safetensors"))
        g_ptr_array_add (out, path);
      else
        g_free (path);
    }
}

static LfSafetensors *
open_rel (const char *rel)
{
  g_autofree char *path = g_build_filename (set_dir, rel, NULL);
  g_autoptr (GError) error = NULL;
  LfSafetensors *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

static void
test_all_files_open (void)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  JsonObject *strict;

  if (!have_set ())
    return;
  strict = json_object_get_object_member (
      json_object_get_object_member (manifest, "checks"),
      "safetensors_files_strictly_valid");

  collect (set_dir, files);
  g_assert_cmpuint (files->len, >=, json_object_get_size (strict));
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = files->pdata[i];
      const char *rel = path + strlen (set_dir) + 1;
      g_autoptr (GError) error = NULL;
      g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);

      g_assert_no_error (error);
      if (json_object_has_member (strict, rel))
        g_assert_cmpint (lf_safetensors_get_n_tensors (st), ==,
                         json_object_get_int_member (strict, rel));
    }
}

static const char *
st_dtype_of (const char *torch)
{
  static const char *const map[][2] = {
    { "float32", "F32" }, { "float16", "F16" }, { "bfloat16", "BF16" },
    { "float64", "F64" }, { "int64", "I64" },   { "int32", "I32" },
    { "uint8", "U8" },    { "int8", "I8" },     { "bool", "BOOL" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (torch, map[i][0]) == 0)
      return map[i][1];
  return torch;
}

static void
check_ref (JsonObject *ref)
{
  g_autoptr (LfSafetensors) st
      = open_rel (json_object_get_string_member (ref, "path"));
  JsonObject    *tensors = json_object_get_object_member (ref, "tensors");
  JsonObjectIter iter;
  const char    *name;
  JsonNode      *node;

  g_assert_cmpuint (lf_safetensors_get_n_tensors (st), ==,
                    json_object_get_size (tensors));
  json_object_iter_init (&iter, tensors);
  while (json_object_iter_next (&iter, &name, &node))
    {
      JsonObject       *want = json_node_get_object (node);
      JsonArray        *shape = json_object_get_array_member (want, "shape");
      const LfStTensor *t = lf_safetensors_lookup (st, name);

      g_assert_nonnull (t);
      g_assert_cmpstr (
          lf_st_dtype_name (t->dtype), ==,
          st_dtype_of (json_object_get_string_member (want, "dtype")));
      g_assert_cmpint (t->ndim, ==, json_array_get_length (shape));
      for (int d = 0; d < t->ndim; d++)
        g_assert_cmpint (t->shape[d], ==,
                         json_array_get_int_element (shape, d));
    }
}

static void
test_refs (void)
{
  JsonArray *refs;

  if (!have_set ())
    return;
  refs = json_object_get_array_member (manifest, "refs");

  g_assert_cmpuint (json_array_get_length (refs), >, 0);
  for (guint i = 0; i < json_array_get_length (refs); i++)
    check_ref (json_array_get_object_element (refs, i));
}

/* weights_roundtrip_exact names components; these are their files. */
static const char *const weight_files[][2] = {
  { "text_encoder", "text_encoder/model.safetensors" },
  { "unet", "unet/diffusion_pytorch_model.safetensors" },
  { "vae", "vae/diffusion_pytorch_model.safetensors" },
  { "linfusion", "linfusion/diffusion_pytorch_model.safetensors" },
  { "controlnet", "controlnet/diffusion_pytorch_model.safetensors" },
  { "image_encoder", "ip_adapter/models/image_encoder/model.safetensors" },
  { "ip_adapter", "ip_adapter/models/ip-adapter_sd15.safetensors" },
};

static void
test_weight_counts (void)
{
  JsonObject *counts;

  if (!have_set ())
    return;
  counts = json_object_get_object_member (manifest, "weights_roundtrip_exact");

  g_assert_cmpuint (json_object_get_size (counts), ==,
                    G_N_ELEMENTS (weight_files));
  for (gsize i = 0; i < G_N_ELEMENTS (weight_files); i++)
    {
      JsonObject *want
          = json_object_get_object_member (counts, weight_files[i][0]);
      g_autoptr (LfSafetensors) st = open_rel (weight_files[i][1]);
      gint64 params = 0;

      for (guint k = 0; k < lf_safetensors_get_n_tensors (st); k++)
        params += lf_st_tensor_numel (lf_safetensors_get_tensor (st, k));
      g_assert_cmpint (lf_safetensors_get_n_tensors (st), ==,
                       json_object_get_int_member (want, "tensors"));
      g_assert_cmpint (params, ==, json_object_get_int_member (want, "params"));
    }
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/manifest-files/all-files-open", test_all_files_open);
  g_test_add_func ("/manifest-files/refs", test_refs);
  g_test_add_func ("/manifest-files/weight-counts", test_weight_counts);
  rc = g_test_run ();
  g_clear_object (&parser);
  g_free (set_dir);
  return rc;
}
