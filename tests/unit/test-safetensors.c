/* test-safetensors.c: the safetensors reader on valid files (metadata, a
 * zero-length tensor, offset order, views) and on every malformed header
 * the reader must refuse with LF_ERROR_FORMAT naming the file.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"

static char *tmpdir;

static void
test_valid (void)
{
  const float   a[6] = { 1, 2, 3, 4, 5, 6 };
  const guint16 h[4] = { 0x3c00, 0x4000, 0x4200, 0x4400 }; /* 1, 2, 3, 4 */
  const gint64  ids[2] = { 49406, 49407 };
  const int64_t sa[2] = { 2, 3 }, sh[1] = { 4 }, sz[2] = { 0, 5 },
                si[1] = { 2 };
  LfTestSt *w = lf_test_st_new ();
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autofree char  *path = NULL;
  const LfStTensor *t;
  LfTensor          view;

  lf_test_st_set_metadata (w, "format", "pt");
  lf_test_st_add (w, "b.half", "F16", 1, sh, h, sizeof h);
  lf_test_st_add (w, "empty", "F32", 2, sz, NULL, 0);
  lf_test_st_add (w, "a.weight", "F32", 2, sa, a, sizeof a);
  lf_test_st_add (w, "ids", "I64", 1, si, ids, sizeof ids);
  bytes = lf_test_st_finish (w);
  path = lf_test_write_file (tmpdir, "valid.safetensors", bytes);

  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (lf_safetensors_get_path (st), ==, path);
  g_assert_cmpuint (lf_safetensors_get_n_tensors (st), ==, 4);
  g_assert_cmpstr (lf_safetensors_get_metadata (st, "format"), ==, "pt");
  g_assert_null (lf_safetensors_get_metadata (st, "nope"));
  /* Offset order: b.half [0,8), empty [8,8), a.weight [8,32), ids. */
  g_assert_cmpstr (lf_safetensors_get_tensor (st, 0)->name, ==, "b.half");
  g_assert_cmpstr (lf_safetensors_get_tensor (st, 3)->name, ==, "ids");

  t = lf_safetensors_lookup (st, "a.weight");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, LF_ST_F32);
  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpuint (t->nbytes, ==, 24);
  g_assert_cmpint (lf_st_tensor_numel (t), ==, 6);
  g_assert_true (lf_st_tensor_view (st, t, &view, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (((const float *)view.data)[5], ==, 6.0f);
  g_assert_cmpint (view.stride[0], ==, 3);

  t = lf_safetensors_lookup (st, "empty");
  g_assert_cmpint (lf_st_tensor_numel (t), ==, 0);
  g_assert_cmpuint (t->nbytes, ==, 0);
  t = lf_safetensors_lookup (st, "b.half");
  g_assert_cmpint (((const guint16 *)t->data)[3], ==, 0x4400);
  g_assert_true (lf_st_tensor_view (st, t, &view, &error));
  g_assert_cmpint (view.dtype, ==, LF_DTYPE_F16);

  t = lf_safetensors_lookup (st, "ids");
  g_assert_cmpint (((const gint64 *)t->data)[1], ==, 49407);
  g_assert_false (lf_st_tensor_view (st, t, &view, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "“ids”"));
  g_assert_nonnull (strstr (error->message, "I64"));
  g_assert_null (lf_safetensors_lookup (st, "missing"));
}

static void
test_dtypes (void)
{
  g_assert_cmpstr (lf_st_dtype_name (LF_ST_BF16), ==, "BF16");
  g_assert_cmpstr (lf_st_dtype_name (LF_ST_F8_E4M3), ==, "F8_E4M3");
  g_assert_cmpuint (lf_st_dtype_size (LF_ST_F64), ==, 8);
  g_assert_cmpuint (lf_st_dtype_size (LF_ST_BOOL), ==, 1);
  g_assert_cmpuint (lf_st_dtype_size (LF_ST_U16), ==, 2);
}

typedef struct
{
  const char *name;
  const char *header; /* NULL: use @raw */
  gsize       data_len;
  const char *expect; /* a word the message must contain */
} BadCase;

/* clang-format off */
static const BadCase bad_cases[] = {
  { "invalid-json", "{\"a\": ", 0, "JSON" },
  { "not-object", "[1, 2, 3]", 0, "object" },
  { "entry-not-object", "{\"a\": 3}", 0, "not an object" },
  { "unknown-dtype", "{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16, "F128" },
  { "missing-dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype" },
  { "negative-shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape" },
  { "float-shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "shape" },
  { "missing-shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "shape" },
  { "too-many-dims", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, "dimensions" },
  { "size-mismatch", "{\"a.weight\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,20]}}", 24, "24 bytes but data_offsets span 20" },
  { "offsets-out-of-range", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "past" },
  { "begin-after-end", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "begin after end" },
  { "offsets-not-pair", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8, "data_offsets" },
  { "negative-offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[-4,-4]}}", 8, "data_offsets" },
  { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap" },
  { "duplicate", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "twice" },
  { "overflow", "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,0]}}", 0, "overflow" },
  { "overflow-wrap", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0, "overflow" },
  { "metadata-not-strings", "{\"__metadata__\":{\"format\":1}}", 0, "__metadata__" },
  { "header-too-short", "{", 0, "header length" },
};
/* clang-format on */

static void
assert_bad (const char *name, GBytes *bytes, const char *expect)
{
  g_autofree char *file = g_strdup_printf ("bad-%s.safetensors", name);
  g_autofree char *path = lf_test_write_file (tmpdir, file, bytes);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);
  g_autoptr (LfSafetensors) mem = NULL;
  g_autoptr (GError) mem_error = NULL;

  g_test_message ("%s: %s", name, error ? error->message : "(accepted)");
  g_assert_null (st);
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, file));
  g_assert_nonnull (strstr (error->message, expect));
  mem = lf_safetensors_new_from_bytes (bytes, "mem", &mem_error);
  g_assert_null (mem);
  g_assert_error (mem_error, LF_ERROR, LF_ERROR_FORMAT);
}

static void
test_bad_headers (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autoptr (GBytes) bytes
          = lf_test_st_raw (bad_cases[i].header, bad_cases[i].data_len);

      assert_bad (bad_cases[i].name, bytes, bad_cases[i].expect);
    }
}

/* A header length (the first 8 bytes) that lies. */
static GBytes *
with_length (guint64 len, const char *rest)
{
  GByteArray *b = g_byte_array_new ();

  for (int i = 0; i < 8; i++)
    {
      guint8 c = (guint8)(len >> (8 * i));
      g_byte_array_append (b, &c, 1);
    }
  g_byte_array_append (b, (const guint8 *)rest, strlen (rest));
  return g_byte_array_free_to_bytes (b);
}

static void
test_bad_lengths (void)
{
  const float   x[4] = { 0 };
  const int64_t shape[1] = { 4 };
  LfTestSt     *w = lf_test_st_new ();
  g_autoptr (GBytes) valid = NULL;
  g_autoptr (GBytes) cut = NULL;
  g_autoptr (GBytes) tiny = g_bytes_new_static ("abc", 3);
  g_autoptr (GBytes) past = with_length (1000, "{}");
  g_autoptr (GBytes) absurd = with_length (G_GUINT64_CONSTANT (1) << 62, "{}");
  g_autoptr (GBytes) huge = with_length (G_MAXUINT64, "{}");

  lf_test_st_add (w, "x", "F32", 1, shape, x, sizeof x);
  valid = lf_test_st_finish (w);
  cut = g_bytes_new_from_bytes (valid, 0, g_bytes_get_size (valid) - 5);
  assert_bad ("truncated", cut, "past");
  assert_bad ("shorter-than-8", tiny, "too short");
  assert_bad ("length-past-end", past, "past the end");
  assert_bad ("length-absurd", absurd, "header length");
  assert_bad ("length-max", huge, "header length");
}

static void
test_not_utf8 (void)
{
  g_autoptr (GBytes) bytes = lf_test_st_raw (
      "{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
      1);
  g_autofree char *path
      = lf_test_write_file (tmpdir, "bad-utf8.safetensors", bytes);
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);

  g_assert_null (st);
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "bad-utf8.safetensors"));
}

static void
test_unreadable (void)
{
  g_autofree char *missing
      = g_build_filename (tmpdir, "nope.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (missing, &error);
  g_autoptr (LfSafetensors) dir = lf_safetensors_open (tmpdir, &dir_error);

  g_assert_null (st);
  g_assert_error (error, LF_ERROR, LF_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "nope.safetensors"));
  g_assert_null (dir);
  g_assert_error (dir_error, LF_ERROR, LF_ERROR_IO);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("lf-st-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  g_test_add_func ("/safetensors/valid", test_valid);
  g_test_add_func ("/safetensors/dtypes", test_dtypes);
  g_test_add_func ("/safetensors/bad-headers", test_bad_headers);
  g_test_add_func ("/safetensors/bad-lengths", test_bad_lengths);
  g_test_add_func ("/safetensors/not-utf8", test_not_utf8);
  g_test_add_func ("/safetensors/unreadable", test_unreadable);
  rc = g_test_run ();
  lf_test_remove_tree (tmpdir);
  g_free (tmpdir);
  return rc;
}
