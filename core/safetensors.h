/* safetensors.h: memory-mapped safetensors files, validated before use.
 * Format: 8-byte little-endian header length, a JSON header mapping each
 * name to {dtype, shape, data_offsets [begin, end)} relative to the byte
 * after the header, plus an optional "__metadata__" string map; then data.
 * Every check the reader makes is listed at lf_safetensors_open.
 */
#ifndef LF_SAFETENSORS_H
#define LF_SAFETENSORS_H

#include <glib.h>
#include <stdint.h>

#include "lf-tensor.h"

G_BEGIN_DECLS

#define LF_ST_MAX_DIMS 8

typedef enum
{
  LF_ST_F64,
  LF_ST_F32,
  LF_ST_F16,
  LF_ST_BF16,
  LF_ST_F8_E4M3,
  LF_ST_F8_E5M2,
  LF_ST_I64,
  LF_ST_I32,
  LF_ST_I16,
  LF_ST_I8,
  LF_ST_U64,
  LF_ST_U32,
  LF_ST_U16,
  LF_ST_U8,
  LF_ST_BOOL,
} LfStDtype;

typedef struct
{
  const char *name;
  LfStDtype   dtype;
  int         ndim;
  int64_t     shape[LF_ST_MAX_DIMS];
  const void *data;   /* inside the mapping; valid while the file is open */
  size_t      nbytes; /* = numel × dtype size, checked */
} LfStTensor;

typedef struct _LfSafetensors LfSafetensors;

/**
 * lf_safetensors_open:
 * @path: the file
 *
 * Maps the file and validates it: header length within the file and at most
 * 100 MiB; header valid JSON, an object of objects; each dtype known; shapes
 * non-negative integers; shape × dtype size equal to the byte span, without
 * overflow; offsets inside the data section, in order, not overlapping;
 * names unique and valid UTF-8. Nothing is read out of bounds.
 *
 * Returns: (transfer full) (nullable): the open file, or NULL with
 *   LF_ERROR_IO (unreadable) or LF_ERROR_FORMAT (malformed), the message
 *   naming @path and, where there is one, the tensor.
 */
LfSafetensors *lf_safetensors_open (const char *path, GError **error);

/* The same checks over bytes in memory (fuzzing, tests); @name is used in
 * messages. Keeps a reference to @bytes. */
LfSafetensors *
lf_safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error);
void lf_safetensors_free (LfSafetensors *st);

const char *lf_safetensors_get_path (const LfSafetensors *st);
guint       lf_safetensors_get_n_tensors (const LfSafetensors *st);
/* Tensors in data-offset order. Returns: (transfer none). */
const LfStTensor *lf_safetensors_get_tensor (const LfSafetensors *st,
                                             guint                index);
/* Returns: (transfer none) (nullable): the tensor called @name. */
const LfStTensor *lf_safetensors_lookup (const LfSafetensors *st,
                                         const char          *name);
/* Returns: (transfer none) (nullable): a "__metadata__" value. */
const char *lf_safetensors_get_metadata (const LfSafetensors *st,
                                         const char          *key);

const char *lf_st_dtype_name (LfStDtype dtype);       /* "F32", "BF16", … */
const char *lf_st_dtype_lower_name (LfStDtype dtype); /* "f32", "bf16", … */
size_t      lf_st_dtype_size (LfStDtype dtype);
int64_t     lf_st_tensor_numel (const LfStTensor *t);

/* A compute view of a float tensor (F32, F16 or BF16) without copying;
 * LF_ERROR_FORMAT naming the file and tensor for any other dtype or more
 * than LF_TENSOR_MAX_DIMS dimensions. */
gboolean lf_st_tensor_view (const LfSafetensors *st,
                            const LfStTensor    *t,
                            LfTensor            *out,
                            GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfSafetensors, lf_safetensors_free)

G_END_DECLS

#endif /* LF_SAFETENSORS_H */
