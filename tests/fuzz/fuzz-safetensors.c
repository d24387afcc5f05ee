/* fuzz-safetensors.c: libFuzzer target for the safetensors header parser
 * (lf_safetensors_new_from_bytes). Every accepted tensor's first and last
 * byte is read and a view made, so an out-of-bounds span shows up under
 * ASan; tests/fuzz/corpus/safetensors/ is replayed by `meson test`.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, size);
  g_autoptr (LfSafetensors) st = NULL;
  volatile guint8 sink = 0;

  st = lf_safetensors_new_from_bytes (bytes, "fuzz.safetensors", NULL);
  if (st == NULL)
    return 0;
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      LfTensor          view;

      g_assert (lf_safetensors_lookup (st, t->name) == t);
      if (t->nbytes > 0)
        sink ^= ((const guint8 *)t->data)[0]
                ^ ((const guint8 *)t->data)[t->nbytes - 1];
      lf_st_tensor_view (st, t, &view, NULL);
    }
  lf_safetensors_get_metadata (st, "format");
  (void)sink;
  return 0;
}
