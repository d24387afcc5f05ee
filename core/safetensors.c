/* safetensors.c: memory-mapped safetensors reader (see safetensors.h).
 * Mirrors the validation of huggingface/safetensors (safetensors/src/
 * tensor.rs, Metadata::validate) with 64-bit arithmetic throughout: a file
 * that passes may be indexed anywhere inside its spans without a bounds
 * check.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "linfusion.h"

#include "json-config.h"
#include "safetensors.h"

#define HEADER_MAX ((guint64)100 << 20)

struct _LfSafetensors
{
  char         *path;
  GBytes       *bytes;
  const guint8 *data; /* the byte after the header */
  guint64       data_size;
  GArray       *tensors;  /* LfStTensor, in offset order */
  GStringChunk *names;    /* every name, metadata key and value */
  GHashTable   *by_name;  /* name → index + 1 */
  GHashTable   *metadata; /* key → value, both in @names */
};

/* A tensor while its header entry is checked. */
typedef struct
{
  LfStTensor t;
  guint64    begin, end;
} Entry;

/* clang-format off */
static const struct { const char *name, *lower; size_t size; } dtypes[] = {
  [LF_ST_F64]     = { "F64", "f64", 8 },   [LF_ST_F32]  = { "F32", "f32", 4 },
  [LF_ST_F16]     = { "F16", "f16", 2 },   [LF_ST_BF16] = { "BF16", "bf16", 2 },
  [LF_ST_F8_E4M3] = { "F8_E4M3", "f8_e4m3", 1 },
  [LF_ST_F8_E5M2] = { "F8_E5M2", "f8_e5m2", 1 },
  [LF_ST_I64]     = { "I64", "i64", 8 },   [LF_ST_I32]  = { "I32", "i32", 4 },
  [LF_ST_I16]     = { "I16", "i16", 2 },   [LF_ST_I8]   = { "I8", "i8", 1 },
  [LF_ST_U64]     = { "U64", "u64", 8 },   [LF_ST_U32]  = { "U32", "u32", 4 },
  [LF_ST_U16]     = { "U16", "u16", 2 },   [LF_ST_U8]   = { "U8", "u8", 1 },
  [LF_ST_BOOL]    = { "BOOL", "bool", 1 },
};
/* clang-format on */

const char *
lf_st_dtype_name (LfStDtype dtype)
{
  return (guint)dtype < G_N_ELEMENTS (dtypes) ? dtypes[dtype].name : "?";
}

const char *
lf_st_dtype_lower_name (LfStDtype dtype)
{
  return (guint)dtype < G_N_ELEMENTS (dtypes) ? dtypes[dtype].lower : "?";
}

size_t
lf_st_dtype_size (LfStDtype dtype)
{
  return (guint)dtype < G_N_ELEMENTS (dtypes) ? dtypes[dtype].size : 0;
}

int64_t
lf_st_tensor_numel (const LfStTensor *t)
{
  int64_t n = 1;

  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

static gboolean
parse_dtype (const char *s, LfStDtype *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (strcmp (s, dtypes[i].name) == 0)
      {
        *out = (LfStDtype)i;
        return TRUE;
      }
  return FALSE;
}

static char *
shape_string (const LfStTensor *t)
{
  GString *s = g_string_new ("[");

  for (int i = 0; i < t->ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "",
                            t->shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gboolean fail (GError    **error,
                      const char *file,
                      const char *tensor,
                      const char *fmt,
                      ...) G_GNUC_PRINTF (4, 5);

/* One LF_ERROR_FORMAT: “file”: tensor “name”: <what>. */
static gboolean
fail (
    GError **error, const char *file, const char *tensor, const char *fmt, ...)
{
  g_autofree char *what = NULL;
  va_list          args;

  va_start (args, fmt);
  what = g_strdup_vprintf (fmt, args);
  va_end (args);
  if (tensor != NULL)
    g_set_error (error, LF_ERROR, LF_ERROR_FORMAT, _ ("“%s”: tensor “%s”: %s"),
                 file, tensor, what);
  else
    g_set_error (error, LF_ERROR, LF_ERROR_FORMAT, _ ("“%s”: %s"), file, what);
  return FALSE;
}

/* A JSON integer ≥ 0; json-glib stores every integer as gint64. */
static gboolean
get_count (JsonNode *node, guint64 *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0)
    return FALSE;
  *out = (guint64)json_node_get_int (node);
  return TRUE;
}

static gboolean
parse_shape (LfSafetensors *st,
             const char    *name,
             JsonObject    *obj,
             Entry         *e,
             GError       **error)
{
  JsonNode  *node = json_object_get_member (obj, "shape");
  JsonArray *array;
  guint      n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return fail (error, st->path, name, _ ("“shape” missing or not an array"));
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > LF_ST_MAX_DIMS)
    return fail (error, st->path, name, _ ("%u dimensions, at most %d allowed"),
                 n, LF_ST_MAX_DIMS);
  e->t.ndim = (int)n;
  for (guint i = 0; i < n; i++)
    {
      guint64 d;

      if (!get_count (json_array_get_element (array, i), &d))
        return fail (error, st->path, name,
                     _ ("shape entry %u is not a non-negative integer"), i);
      e->t.shape[i] = (int64_t)d;
    }
  return TRUE;
}

static gboolean
parse_offsets (LfSafetensors *st,
               const char    *name,
               JsonObject    *obj,
               Entry         *e,
               GError       **error)
{
  JsonNode  *node = json_object_get_member (obj, "data_offsets");
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)
      || json_array_get_length (array = json_node_get_array (node)) != 2
      || !get_count (json_array_get_element (array, 0), &e->begin)
      || !get_count (json_array_get_element (array, 1), &e->end))
    return fail (error, st->path, name,
                 _ ("“data_offsets” is not [begin, end] of non-negative "
                    "integers"));
  if (e->begin > e->end)
    return fail (error, st->path, name,
                 _ ("data_offsets [%" PRIu64 ", %" PRIu64 "] begin after end"),
                 e->begin, e->end);
  if (e->end > st->data_size)
    return fail (error, st->path, name,
                 _ ("data_offsets [%" PRIu64 ", %" PRIu64
                    "] end past the %" PRIu64 " bytes of data"),
                 e->begin, e->end, st->data_size);
  return TRUE;
}

/* numel × dtype size must equal the span, with no overflow on the way. */
static gboolean
check_size (LfSafetensors *st, const char *name, Entry *e, GError **error)
{
  g_autofree char *shape = shape_string (&e->t);
  guint64          bytes = lf_st_dtype_size (e->t.dtype);

  for (int i = 0; i < e->t.ndim; i++)
    if (!g_uint64_checked_mul (&bytes, bytes, (guint64)e->t.shape[i])
        || bytes > G_MAXINT64)
      return fail (error, st->path, name, _ ("shape %s × %s overflows 64 bits"),
                   shape, lf_st_dtype_name (e->t.dtype));
  if (bytes != e->end - e->begin)
    return fail (
        error, st->path, name,
        _ ("shape %s × %s is %" PRIu64 " bytes but data_offsets span %" PRIu64),
        shape, lf_st_dtype_name (e->t.dtype), bytes, e->end - e->begin);
  e->t.nbytes = bytes;
  e->t.data = st->data + e->begin;
  return TRUE;
}

static gboolean
parse_entry (LfSafetensors *st,
             const char    *name,
             JsonNode      *node,
             Entry         *e,
             GError       **error)
{
  JsonObject *obj;
  const char *dtype;

  if (!g_utf8_validate (name, -1, NULL))
    return fail (error, st->path, NULL, _ ("a tensor name is not UTF-8"));
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, st->path, name, _ ("entry is not an object"));
  obj = json_node_get_object (node);
  dtype = json_object_get_string_member_with_default (obj, "dtype", NULL);
  if (dtype == NULL)
    return fail (error, st->path, name, _ ("“dtype” missing or not a string"));
  if (!parse_dtype (dtype, &e->t.dtype))
    return fail (error, st->path, name, _ ("unknown dtype “%s”"), dtype);
  e->t.name = g_string_chunk_insert (st->names, name);
  return parse_shape (st, name, obj, e, error)
         && parse_offsets (st, name, obj, e, error)
         && check_size (st, name, e, error);
}

static gboolean
parse_metadata (LfSafetensors *st, JsonNode *node, GError **error)
{
  JsonObjectIter iter;
  const char    *key;
  JsonNode      *value;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (error, st->path, NULL, _ ("“__metadata__” is not an object"));
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value)
          || json_node_get_value_type (value) != G_TYPE_STRING)
        return fail (error, st->path, NULL,
                     _ ("“__metadata__” value of “%s” is not a string"), key);
      g_hash_table_insert (
          st->metadata, g_string_chunk_insert (st->names, key),
          g_string_chunk_insert (st->names, json_node_get_string (value)));
    }
  return TRUE;
}

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return (x->end > y->end) - (x->end < y->end);
}

/* Sorts by offset and rejects overlaps between non-empty spans; an empty
 * span (a shape with a 0) occupies no bytes and overlaps nothing. */
static gboolean
check_overlaps (LfSafetensors *st, GArray *entries, GError **error)
{
  const Entry *last = NULL;

  g_array_sort (entries, compare_entries);
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);

      if (e->begin == e->end)
        continue;
      if (last != NULL && e->begin < last->end)
        return fail (error, st->path, e->t.name,
                     _ ("data_offsets [%" PRIu64 ", %" PRIu64
                        "] overlap those of “%s” [%" PRIu64 ", %" PRIu64 "]"),
                     e->begin, e->end, last->t.name, last->begin, last->end);
      last = e;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = &g_array_index (entries, Entry, i);

      g_array_append_val (st->tensors, e->t);
      g_hash_table_insert (st->by_name, (gpointer)e->t.name,
                           GUINT_TO_POINTER (i + 1));
    }
  return TRUE;
}

static gboolean
parse_header (LfSafetensors *st, const char *text, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  g_autoptr (GArray) entries = g_array_new (FALSE, TRUE, sizeof (Entry));
  g_autofree char *dup = NULL;
  JsonObjectIter   iter;
  const char      *name;
  JsonNode        *root, *node;

  if (!json_parser_load_from_data (parser, text, len, &local))
    return fail (error, st->path, NULL, _ ("header is not valid JSON: %s"),
                 local->message);
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail (error, st->path, NULL, _ ("header is not a JSON object"));
  if ((dup = lf_json_find_duplicate_key (text, len)) != NULL)
    return fail (error, st->path, dup, _ ("name appears twice in the header"));
  json_object_iter_init (&iter, json_node_get_object (root));
  while (json_object_iter_next (&iter, &name, &node))
    {
      Entry e = { 0 };

      if (strcmp (name, "__metadata__") == 0)
        {
          if (!parse_metadata (st, node, error))
            return FALSE;
          continue;
        }
      if (!parse_entry (st, name, node, &e, error))
        return FALSE;
      g_array_append_val (entries, e);
    }
  return check_overlaps (st, entries, error);
}

static gboolean
parse (LfSafetensors *st, GError **error)
{
  gsize         size;
  const guint8 *base = g_bytes_get_data (st->bytes, &size);
  guint64       header_len = 0;

  if (size < 8)
    return fail (error, st->path, NULL,
                 _ ("%zu bytes is too short for a safetensors "
                    "file (at least 8 needed)"),
                 size);
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | base[i];
  if (header_len < 2 || header_len > HEADER_MAX)
    return fail (error, st->path, NULL,
                 _ ("header length %" PRIu64 " is not between 2 and "
                    "%" PRIu64 " bytes"),
                 header_len, HEADER_MAX);
  if (header_len > size - 8)
    return fail (error, st->path, NULL,
                 _ ("header length %" PRIu64 " runs past the end of "
                    "the %zu-byte file (truncated?)"),
                 header_len, size);
  st->data = base + 8 + header_len;
  st->data_size = size - 8 - header_len;
  return parse_header (st, (const char *)base + 8, header_len, error);
}

LfSafetensors *
lf_safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (LfSafetensors) st = g_new0 (LfSafetensors, 1);

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  st->path = g_strdup (name);
  st->bytes = g_bytes_ref (bytes);
  st->tensors = g_array_new (FALSE, FALSE, sizeof (LfStTensor));
  st->names = g_string_chunk_new (4096);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new (g_str_hash, g_str_equal);
  if (!parse (st, error))
    return NULL;
  return g_steal_pointer (&st);
}

LfSafetensors *
lf_safetensors_open (const char *path, GError **error)
{
  g_autoptr (GMappedFile) map = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) local = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("“%s”: is a folder, not a safetensors file"), path);
      return NULL;
    }
  map = g_mapped_file_new (path, FALSE, &local);
  if (map == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, _ ("“%s”: cannot read: %s"),
                   path, local->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (map);
  return lf_safetensors_new_from_bytes (bytes, path, error);
}

void
lf_safetensors_free (LfSafetensors *st)
{
  if (st == NULL)
    return;
  g_clear_pointer (&st->metadata, g_hash_table_unref);
  g_clear_pointer (&st->by_name, g_hash_table_unref);
  g_clear_pointer (&st->tensors, g_array_unref);
  if (st->names != NULL)
    g_string_chunk_free (st->names);
  g_clear_pointer (&st->bytes, g_bytes_unref);
  g_free (st->path);
  g_free (st);
}

const char *
lf_safetensors_get_path (const LfSafetensors *st)
{
  return st->path;
}

guint
lf_safetensors_get_n_tensors (const LfSafetensors *st)
{
  return st->tensors->len;
}

const LfStTensor *
lf_safetensors_get_tensor (const LfSafetensors *st, guint index)
{
  g_return_val_if_fail (index < st->tensors->len, NULL);
  return &g_array_index (st->tensors, LfStTensor, index);
}

const LfStTensor *
lf_safetensors_lookup (const LfSafetensors *st, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (st->by_name, name));

  return i > 0 ? &g_array_index (st->tensors, LfStTensor, i - 1) : NULL;
}

const char *
lf_safetensors_get_metadata (const LfSafetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

gboolean
lf_st_tensor_view (const LfSafetensors *st,
                   const LfStTensor    *t,
                   LfTensor            *out,
                   GError             **error)
{
  LfDtype dtype;

  switch (t->dtype)
    {
    case LF_ST_F32:
      dtype = LF_DTYPE_F32;
      break;
    case LF_ST_F16:
      dtype = LF_DTYPE_F16;
      break;
    case LF_ST_BF16:
      dtype = LF_DTYPE_BF16;
      break;
    default:
      return fail (error, st->path, t->name,
                   _ ("dtype %s is not a float type (F32, F16 or BF16 "
                      "expected)"),
                   lf_st_dtype_name (t->dtype));
    }
  if (t->ndim > LF_TENSOR_MAX_DIMS)
    return fail (error, st->path, t->name,
                 _ ("%d dimensions, at most %d supported"), t->ndim,
                 LF_TENSOR_MAX_DIMS);
  /* Writers pad the header so data is aligned; a file that is not cannot
   * be read in place by kernels that load whole elements. */
  if ((guintptr)t->data % lf_dtype_size (dtype) != 0)
    return fail (error, st->path, t->name,
                 _ ("data is not aligned to its %zu-byte elements"),
                 lf_dtype_size (dtype));
  *out = lf_tensor_make ((void *)t->data, dtype, t->ndim, t->shape);
  return TRUE;
}
