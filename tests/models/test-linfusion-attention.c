/* test-linfusion-attention.c: one LinFusion GeneralizedLinearAttention
 * module (module 0 of the fixture's LinFusion folder) and the softmax attn1
 * it replaces, against ref/linfusion_attention.safetensors (official
 * LinFusion and diffusers on x (2, 37, 16)); also with the MLPs run in
 * small chunks, which must not change the result.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"
#include "unet-private.h"

#define RTOL 1e-4

typedef struct
{
  LfModelFiles  *files;
  LfSafetensors *ref;
  LfOps         *ops;
  float         *x;     /* (B, N, C) */
  double        *y_lin; /* (B, N, C) */
  double        *y_orig;
  int64_t        B, N, C;
} Fixture;

static gboolean
fixture_open (Fixture *f, const char *folder)
{
  g_autofree char  *dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  g_autofree char  *ref = NULL, *path = NULL;
  const LfStTensor *x;
  GError           *error = NULL;

  if (dir == NULL)
    return FALSE;
  ref = g_build_filename (dir, "ref", "linfusion_attention.safetensors", NULL);
  path = g_build_filename (dir, folder, NULL);
  f->ref = lf_safetensors_open (ref, &error);
  g_assert_no_error (error);
  f->files = lf_model_files_open (path, &error);
  g_assert_no_error (error);
  f->ops = lf_test_cpu_ops_new (2, 0);
  x = lf_safetensors_lookup (f->ref, "x");
  g_assert_nonnull (x);
  g_assert_cmpint (x->ndim, ==, 3);
  f->B = x->shape[0], f->N = x->shape[1], f->C = x->shape[2];
  f->x = lf_test_alloc_f32 (f->B * f->N * f->C);
  memcpy (f->x, x->data, x->nbytes);
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  lf_test_cpu_ops_free (f->ops);
  lf_model_files_free (f->files);
  lf_safetensors_free (f->ref);
  g_free (f->x);
  g_free (f->y_lin);
  g_free (f->y_orig);
}

/* Scratch for one attention call; the caller frees .q.data etc. */
static UnetAttnScratch
scratch_new (const Fixture *f, int64_t mlp_floats)
{
  const int64_t   n = f->B * f->N * f->C;
  UnetAttnScratch s = { 0 };

  s.q = lf_tensor_3d (lf_test_alloc_f32 (n), LF_DTYPE_F32, f->B, f->N, f->C);
  s.k = lf_tensor_3d (lf_test_alloc_f32 (n), LF_DTYPE_F32, f->B, f->N, f->C);
  s.v = lf_tensor_3d (lf_test_alloc_f32 (n), LF_DTYPE_F32, f->B, f->N, f->C);
  s.mlp = lf_test_alloc_f32 (mlp_floats);
  s.mlp_floats = mlp_floats;
  return s;
}

static void
scratch_free (UnetAttnScratch *s)
{
  g_free (s->q.data);
  g_free (s->k.data);
  g_free (s->v.data);
  g_free (s->mlp);
}

/* Module 0 on x with MLP chunks of @chunk rows. */
static void
check_linfusion (Fixture *f, const LinfusionModule *m, int64_t chunk)
{
  const int64_t   n = f->B * f->N * f->C;
  UnetAttnScratch s = scratch_new (f, chunk * (m->mid + m->dim));
  float          *xw = lf_test_alloc_f32 (n), *y = lf_test_alloc_f32 (n);
  LfTensor        x = lf_tensor_3d (xw, LF_DTYPE_F32, f->B, f->N, f->C);
  LfTensor        yt = lf_tensor_3d (y, LF_DTYPE_F32, f->B, f->N, f->C);
  double         *twice = lf_test_alloc_f64 (n);
  int64_t         n_ref;

  memcpy (xw, f->x, n * sizeof (float));
  lf_test_poison (y, n);
  lf_linfusion_forward (f->ops, m, &x, &s, &yt, FALSE);
  lf_test_assert_ops_ok (f->ops);
  if (f->y_lin == NULL)
    f->y_lin = lf_test_ref_f64 (f->ref, "y_linfusion", &n_ref);
  lf_test_assert_close_scaled ("y_linfusion", y, f->y_lin, n, RTOL);

  /* Accumulating (the block's residual) adds the output onto y; x was
   * overwritten and is restored first. */
  memcpy (xw, f->x, n * sizeof (float));
  lf_linfusion_forward (f->ops, m, &x, &s, &yt, TRUE);
  lf_test_assert_ops_ok (f->ops);
  for (int64_t i = 0; i < n; i++)
    twice[i] = 2.0 * f->y_lin[i];
  lf_test_assert_close_scaled ("2 y_linfusion", y, twice, n, RTOL);
  g_free (twice);
  scratch_free (&s);
  g_free (xw);
  g_free (y);
}

static void
test_linfusion_module (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (Linfusion) lf = NULL;
  const LfComponent *comp;

  if (!fixture_open (&f, "linfusion"))
    return;
  g_assert_cmpint (lf_model_files_get_kind (f.files), ==,
                   LF_MODEL_KIND_LINFUSION);
  comp = lf_model_files_get_component (f.files, 0);
  lf = lf_linfusion_load (comp, lf_component_get_config (comp), f.ops, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lf->n_modules, ==, 16);
  g_assert_cmpstr (lf->modules[0].module_name, ==,
                   "down_blocks.0.attentions.0.transformer_blocks.0.attn1");
  g_assert_cmpint (lf->modules[0].dim, ==, f.C);
  g_assert_cmpint (lf->modules[0].mid, ==, f.C); /* projection_mid_dim null */
  /* All rows in one chunk, then chunks of 10 and 1 rows (the last chunk
   * of 74 rows is partial). */
  check_linfusion (&f, &lf->modules[0], f.B * f.N);
  g_free (f.y_lin), f.y_lin = NULL;
  check_linfusion (&f, &lf->modules[0], 10);
  g_free (f.y_lin), f.y_lin = NULL;
  check_linfusion (&f, &lf->modules[0], 1);
  fixture_close (&f);
}

/* The UNet's own attn1 (softmax, 8 heads, scale 1/sqrt(2)) on the same x. */
static void
test_softmax_attn1 (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfUnet) unet = NULL;
  const LfComponent     *comp;
  const UnetTransformer *t;
  UnetAttnScratch        s;
  float                 *y;
  int64_t                n_ref;

  if (!fixture_open (&f, "unet"))
    return;
  comp = lf_model_files_get_component (f.files, 0);
  unet = lf_unet_load (comp, lf_component_get_config (comp), f.ops, &error);
  g_assert_no_error (error);
  t = lf_unet_lookup_transformer (unet, "down_blocks.0.attentions.0");
  g_assert_nonnull (t);
  g_assert_cmpint (t->heads, ==, 8);
  s = scratch_new (&f, 1);
  y = lf_test_alloc_f32 (f.B * f.N * f.C);
  lf_test_poison (y, f.B * f.N * f.C);
  {
    LfTensor x = lf_tensor_3d (f.x, LF_DTYPE_F32, f.B, f.N, f.C);
    LfTensor yt = lf_tensor_3d (y, LF_DTYPE_F32, f.B, f.N, f.C);

    unet_attention_forward (f.ops, &t->blocks[0].attn1, t->heads, &x, NULL, &s,
                            &yt, FALSE);
  }
  lf_test_assert_ops_ok (f.ops);
  f.y_orig = lf_test_ref_f64 (f.ref, "y_orig", &n_ref);
  g_assert_cmpint (n_ref, ==, f.B * f.N * f.C);
  lf_test_assert_close_scaled ("y_orig", y, f.y_orig, n_ref, RTOL);
  scratch_free (&s);
  g_free (y);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/linfusion-attention/module", test_linfusion_module);
  g_test_add_func ("/linfusion-attention/softmax-attn1", test_softmax_attn1);
  return g_test_run ();
}
