/* lf-test-model.h: helpers for the model-file tests: a safetensors writer
 * (valid files and raw, deliberately broken ones) and the inverse of the
 * LDM → diffusers renaming, written independently from core/ldm-names.c
 * from the same rules (docs/reference/components.md §1.6), so a round trip
 * checks one against the other.
 */
#ifndef LF_TEST_MODEL_H
#define LF_TEST_MODEL_H

#include <glib.h>
#include <stdint.h>

#include "safetensors.h"

G_BEGIN_DECLS

typedef struct _LfTestSt LfTestSt;

LfTestSt *lf_test_st_new (void);
/* Appends a tensor; @data has @nbytes bytes (may differ from shape × dtype
 * on purpose). */
void lf_test_st_add (LfTestSt      *w,
                     const char    *name,
                     const char    *dtype,
                     int            ndim,
                     const int64_t *shape,
                     const void    *data,
                     gsize          nbytes);
void lf_test_st_set_metadata (LfTestSt *w, const char *key, const char *value);
/* The file: 8-byte length, header padded to 8 with spaces, data. Frees @w. */
GBytes *lf_test_st_finish (LfTestSt *w);

/* A file with this exact header text and @data_len zero bytes of data. */
GBytes *lf_test_st_raw (const char *header, gsize data_len);

/* Writes @bytes to @dir/@name and returns the path (g_free). */
char *lf_test_write_file (const char *dir, const char *name, GBytes *bytes);

/* The LDM key for a diffusers key of an SD-1 style @component ("unet",
 * "vae", "text_encoder"); @up_attn has bit b set when up_blocks.b has
 * attentions. NULL when no rule covers the key. */
char *lf_test_ldm_key (const char *component,
                       const char *name,
                       int         layers_per_block,
                       int         vae_levels,
                       guint       up_attn);

/* Builds an SD-1 single-file checkpoint from a diffusers folder's unet,
 * vae and text_encoder (VAE attention weights stored as 1×1 convs, plus
 * one EMA key and one unknown key) and writes it to @out_path. */
void lf_test_write_ldm_checkpoint (const char *folder, const char *out_path);

/* Fixture tensor @name of @st, which must exist and be f32 (else the test
 * fails). */
const LfStTensor *lf_test_ref_f32 (LfSafetensors *st, const char *name);
/* The same converted to double (g_free), its element count in @n. */
double *lf_test_ref_f64 (LfSafetensors *st, const char *name, int64_t *n);

G_END_DECLS

#endif /* LF_TEST_MODEL_H */
