/* test-controlnet.c: the ControlNet against upstream diffusers
 * ControlNetModel: ref/controlnet_forward.safetensors (conditioning
 * embedding, the 13 residuals, and the conformance UNet with them), the same
 * weights from v1.1 single files, misfits and missing keys, the strip-wise
 * conditioning embedding against the one-piece one, bgr order and global
 * pooling, and LinFusion on its self-attention
 * (tests/data/controlnet-linfusion.safetensors).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "linfusion.h"

#include "controlnet-private.h"
#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"

#define RTOL 1e-4

typedef struct
{
  char           *dir;
  LfModelFiles   *files;
  LfSafetensors  *unet_ref, *ref;
  LfOps          *ops;
  LfUnet         *unet;
  const LfConfig *unet_cfg;
  LfTensor        x, ctx, image; /* sample, context, control_image_f */
} Fixture;

/* The residuals of one forward, shaped as the UNet's skips. */
typedef struct
{
  int      n;
  LfTensor down[LF_UNET_MAX_SKIPS];
  LfTensor mid;
} Residuals;

static LfTensor
ref_view (LfSafetensors *st, const char *name)
{
  g_autoptr (GError) error = NULL;
  LfTensor t;

  g_assert_true (
      lf_st_tensor_view (st, lf_test_ref_f32 (st, name), &t, &error));
  return t;
}

static void
assert_matches (LfSafetensors *st, const char *name, const LfTensor *got)
{
  const LfStTensor  *t = lf_test_ref_f32 (st, name);
  const int64_t      n = lf_st_tensor_numel (t);
  g_autofree double *want = lf_test_alloc_f64 (n);

  g_assert_cmpint (n, ==, lf_tensor_numel (got));
  for (int d = 0; d < t->ndim; d++)
    g_assert_cmpint (t->shape[d], ==, got->shape[d]);
  for (int64_t i = 0; i < n; i++)
    want[i] = ((const float *)t->data)[i];
  lf_test_assert_close_scaled (name, got->data, want, n, RTOL);
}

static gboolean
fixture_open (Fixture *f)
{
  g_autofree char *unet_ref = NULL, *ref = NULL;
  g_autoptr (GError) error = NULL;
  const LfComponent *comp;

  f->dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  if (f->dir == NULL)
    return FALSE;
  unet_ref = g_build_filename (f->dir, "ref", "unet.safetensors", NULL);
  ref = g_build_filename (f->dir, "ref", "controlnet_forward.safetensors",
                          NULL);
  f->unet_ref = lf_safetensors_open (unet_ref, &error);
  g_assert_no_error (error);
  f->ref = lf_safetensors_open (ref, &error);
  g_assert_no_error (error);
  f->files = lf_model_files_open (f->dir, &error);
  g_assert_no_error (error);
  f->ops = lf_test_cpu_ops_new (2, 0);
  comp = lf_model_files_lookup (f->files, "unet");
  f->unet_cfg = lf_component_get_config (comp);
  f->unet = lf_unet_load (comp, f->unet_cfg, f->ops, &error);
  g_assert_no_error (error);
  f->x = ref_view (f->unet_ref, "sample");
  f->ctx = ref_view (f->unet_ref, "encoder_hidden_states");
  f->image = ref_view (f->ref, "control_image_f");
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  lf_unet_free (f->unet);
  lf_test_cpu_ops_free (f->ops);
  lf_model_files_free (f->files);
  lf_safetensors_free (f->unet_ref);
  lf_safetensors_free (f->ref);
  g_free (f->dir);
}

static LfControlNet *
open_controlnet (const Fixture *f, const char *path)
{
  g_autoptr (GError) error = NULL;
  LfControlNet *cn = lf_controlnet_open (path, f->unet_cfg, f->ops, &error);

  g_assert_no_error (error);
  g_assert_nonnull (cn);
  return cn;
}

static LfControlNet *
open_conformance (const Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "controlnet", NULL);

  return open_controlnet (f, path);
}

/* (1, C, H, W) float buffer, poisoned. */
static LfTensor
new_tensor (const int64_t shape[4])
{
  const int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
  float        *d = lf_test_alloc_f32 (n);

  lf_test_poison (d, n);
  return lf_tensor_make (d, LF_DTYPE_F32, 4, shape);
}

static LfTensor
embed (LfControlNet *cn, const LfTensor *image)
{
  g_autoptr (GError) error = NULL;
  const int64_t shape[4]
      = { 1, 16, (image->shape[2] + 7) / 8, (image->shape[3] + 7) / 8 };
  LfTensor out = new_tensor (shape);

  g_assert_true (lf_controlnet_embed_condition (cn, image, &out, &error));
  g_assert_no_error (error);
  return out;
}

static void
residuals_clear (Residuals *r)
{
  for (int i = 0; i < r->n; i++)
    g_free (r->down[i].data);
  g_free (r->mid.data);
}

/* One forward on the fixture's inputs at t = 500 in an arena of exactly
 * the plan, which must also be what it used. */
static void
forward (Fixture *f, LfControlNet *cn, const float *scales, Residuals *r)
{
  g_autoptr (GError) error = NULL;
  const float   t[2] = { 500.0f, 500.0f };
  const int64_t B = f->x.shape[0], h = f->x.shape[2], w = f->x.shape[3];
  const size_t  plan = lf_controlnet_plan (cn, B, h, w, f->ctx.shape[1]);
  g_autoptr (LfArena) arena = lf_arena_new (plan, &error);
  LfTensor cond = embed (cn, &f->image);
  int64_t  shape[4];

  r->n = lf_controlnet_get_n_residuals (cn);
  g_assert_cmpint (r->n, ==, lf_unet_get_n_skips (f->unet));
  for (int i = 0; i <= r->n; i++)
    {
      lf_unet_skip_shape (f->unet, i, B, h, w, shape);
      *(i < r->n ? &r->down[i] : &r->mid) = new_tensor (shape);
    }
  g_assert_true (lf_controlnet_forward (cn, &f->x, t, &f->ctx, &cond, scales,
                                        arena, r->down, &r->mid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lf_arena_peak (arena), ==, plan);
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  g_free (cond.data);
}

/* Every scale 1 (conditioning_scale 1.0); set in main. */
static float ones[LF_UNET_MAX_SKIPS + 1];

static void
assert_residuals (LfSafetensors *st, const Residuals *r)
{
  for (int i = 0; i < r->n; i++)
    {
      g_autofree char *name = g_strdup_printf ("down_res_%d", i);

      assert_matches (st, name, &r->down[i]);
    }
  assert_matches (st, "mid_res", &r->mid);
}

static void
assert_same (const Residuals *a, const Residuals *b)
{
  g_assert_cmpint (a->n, ==, b->n);
  for (int i = 0; i <= a->n; i++)
    {
      const LfTensor *x = i < a->n ? &a->down[i] : &a->mid;
      const LfTensor *y = i < a->n ? &b->down[i] : &b->mid;

      g_assert_cmpint (lf_tensor_numel (x), ==, lf_tensor_numel (y));
      g_assert_cmpmem (x->data, lf_tensor_numel (x) * 4, y->data,
                       lf_tensor_numel (y) * 4);
    }
}

/* ---- a. upstream forward ---------------------------------------------- */

static void
test_forward (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfControlNet) cn = NULL;
  Residuals    r = { 0 };
  LfTensor     cond, out;
  LfUnetExtras extras = { 0 };
  const float  t[2] = { 500.0f, 500.0f };
  g_autoptr (LfArena) arena = NULL;

  if (!fixture_open (&f))
    return;
  cn = open_conformance (&f);
  g_assert_true (lf_controlnet_check_fits (cn, f.unet, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lf_controlnet_get_n_residuals (cn), ==, 12);

  cond = embed (cn, &f.image);
  assert_matches (f.ref, "cond_embedding", &cond);
  forward (&f, cn, ones, &r);
  assert_residuals (f.ref, &r);

  /* The conformance UNet with these residuals. */
  extras.down_residuals = r.down;
  extras.n_down_residuals = r.n;
  extras.mid_residual = &r.mid;
  out = new_tensor (f.x.shape);
  arena = lf_arena_new (lf_unet_plan (f.unet, 2, 16, 8, 77), &error);
  g_assert_true (lf_unet_forward_with (f.unet, &f.x, t, &f.ctx, &extras, arena,
                                       &out, &error));
  g_assert_no_error (error);
  assert_matches (f.ref, "noise_pred_orig_with_residuals", &out);
  g_free (out.data);
  g_free (cond.data);
  residuals_clear (&r);
  fixture_close (&f);
}

/* Per-residual scales multiply exactly (diffusers multiplies after the
 * zero convolution). */
static void
test_scales (void)
{
  Fixture f = { 0 };
  g_autoptr (LfControlNet) cn = NULL;
  Residuals a = { 0 }, b = { 0 };
  float     scales[LF_UNET_MAX_SKIPS + 1];

  if (!fixture_open (&f))
    return;
  cn = open_conformance (&f);
  for (int i = 0; i <= 12; i++)
    scales[i] = 0.1f * (float)pow (10.0, i / 12.0);
  forward (&f, cn, ones, &a);
  forward (&f, cn, scales, &b);
  for (int i = 0; i <= a.n; i++)
    {
      const LfTensor    *x = i < a.n ? &a.down[i] : &a.mid;
      const LfTensor    *y = i < a.n ? &b.down[i] : &b.mid;
      const int64_t      n = lf_tensor_numel (x);
      g_autofree double *want = lf_test_alloc_f64 (n);

      for (int64_t k = 0; k < n; k++)
        want[k] = (double)((const float *)x->data)[k] * scales[i];
      lf_test_assert_close_scaled ("scaled residual", y->data, want, n, 1e-6);
    }
  residuals_clear (&a);
  residuals_clear (&b);
  fixture_close (&f);
}

/* ---- b. single files with v1.1 names ---------------------------------- */

/* The v1.1 (cldm.py) key of a diffusers ControlNetModel key, the inverse of
 * diffusers' convert_controlnet_checkpoint; the encoder copy through the
 * independent UNet inverse of lf-test-model.c. */
static char *
v11_key (const char *name, const char *prefix)
{
  const char      *unet_prefix = "model.diffusion_model.";
  g_autofree char *unet = NULL;
  int              i;
  char             tail[16];

  if (sscanf (name, "controlnet_cond_embedding.blocks.%d.%15s", &i, tail) == 2)
    return g_strdup_printf ("%sinput_hint_block.%d.%s", prefix, 2 * i + 2,
                            tail);
  if (sscanf (name, "controlnet_down_blocks.%d.%15s", &i, tail) == 2)
    return g_strdup_printf ("%szero_convs.%d.0.%s", prefix, i, tail);
  if (sscanf (name, "controlnet_mid_block.%15s", tail) == 1)
    return g_strdup_printf ("%smiddle_block_out.0.%s", prefix, tail);
  if (sscanf (name, "controlnet_cond_embedding.conv_in.%15s", tail) == 1)
    return g_strdup_printf ("%sinput_hint_block.0.%s", prefix, tail);
  if (sscanf (name, "controlnet_cond_embedding.conv_out.%15s", tail) == 1)
    return g_strdup_printf ("%sinput_hint_block.14.%s", prefix, tail);
  unet = lf_test_ldm_key ("unet", name, 2, 4, 0);
  g_assert_nonnull (unet);
  g_assert_true (g_str_has_prefix (unet, unet_prefix));
  return g_strconcat (prefix, unet + strlen (unet_prefix), NULL);
}

/* The conformance ControlNet's weights under v1.1 names, without @skip. */
static char *
write_v11 (const Fixture *f,
           const char    *tmp,
           const char    *prefix,
           const char    *skip)
{
  g_autofree char *path = g_build_filename (
      f->dir, "controlnet", "diffusion_pytorch_model.safetensors", NULL);
  g_autofree char *file
      = g_strdup_printf ("cn-%s.safetensors", *prefix ? "prefixed" : "bare");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = lf_safetensors_open (path, &error);
  g_autoptr (GBytes) bytes = NULL;
  LfTestSt *w = lf_test_st_new ();

  g_assert_no_error (error);
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      g_autofree char  *key = v11_key (t->name, prefix);

      if (skip == NULL || strcmp (key, skip) != 0)
        lf_test_st_add (w, key, lf_st_dtype_name (t->dtype), t->ndim, t->shape,
                        t->data, t->nbytes);
    }
  bytes = lf_test_st_finish (w);
  return lf_test_write_file (tmp, file, bytes);
}

static void
test_single_file (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfControlNet) folder = NULL;
  g_autofree char *tmp = NULL;
  Residuals        want = { 0 };
  const char      *prefixes[] = { "control_model.", "" };

  if (!fixture_open (&f))
    return;
  tmp = g_dir_make_tmp ("lf-controlnet-XXXXXX", &error);
  g_assert_no_error (error);
  folder = open_conformance (&f);
  forward (&f, folder, ones, &want);
  for (gsize k = 0; k < G_N_ELEMENTS (prefixes); k++)
    {
      g_autofree char *path = write_v11 (&f, tmp, prefixes[k], NULL);
      g_autoptr (LfControlNet) cn = open_controlnet (&f, path);
      Residuals got = { 0 };

      g_test_message ("single file with prefix “%s”", prefixes[k]);
      g_assert_true (lf_controlnet_check_fits (cn, f.unet, &error));
      forward (&f, cn, ones, &got);
      assert_same (&want, &got);
      residuals_clear (&got);
    }
  residuals_clear (&want);
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

/* ---- c. bad input ------------------------------------------------------ */

static void
expect_open_error (const Fixture *f, const char *path, const char *needle)
{
  g_autoptr (GError) error = NULL;
  LfControlNet *cn = lf_controlnet_open (path, f->unet_cfg, f->ops, &error);

  g_assert_null (cn);
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_bad_files (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL, *missing = NULL, *unet = NULL;

  if (!fixture_open (&f))
    return;
  tmp = g_dir_make_tmp ("lf-controlnet-XXXXXX", &error);
  g_assert_no_error (error);
  /* A single file lacking one zero convolution: named by its key. */
  missing = write_v11 (&f, tmp, "control_model.",
                       "control_model.zero_convs.3.0.weight");
  expect_open_error (&f, missing, "controlnet_down_blocks.3.weight");
  /* A UNet is not a ControlNet. */
  unet = g_build_filename (f.dir, "unet", "diffusion_pytorch_model.safetensors",
                           NULL);
  expect_open_error (&f, unet, "not a ControlNet");
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

/* A tiny random ControlNet (f16 weights) with 8-channel skips. */
static void
test_misfit (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = lf_test_data_path ("controlnet-misfit");
  g_autoptr (LfControlNet) cn = NULL;

  if (!fixture_open (&f))
    return;
  cn = open_controlnet (&f, path);
  g_assert_cmpint (lf_controlnet_get_n_residuals (cn), ==, 12);
  g_assert_false (lf_controlnet_check_fits (cn, f.unet, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "residual 0"));
  g_assert_nonnull (strstr (error->message, "is 8 in the ControlNet and 16 in "
                                            "the UNet"));
  fixture_close (&f);
}

/* ---- d. strips, bgr, pooling ------------------------------------------ */

static void
assert_tensors_close (const char     *what,
                      const LfTensor *got,
                      const LfTensor *ref,
                      double          rtol)
{
  const int64_t      n = lf_tensor_numel (ref);
  g_autofree double *want = lf_test_alloc_f64 (n);

  g_assert_cmpint (n, ==, lf_tensor_numel (got));
  for (int64_t i = 0; i < n; i++)
    want[i] = ((const float *)ref->data)[i];
  lf_test_assert_close_scaled (what, got->data, want, n, rtol);
}

/* Odd sizes (H, W not multiples of 8) and strips of 1, 2 and 3 output rows
 * against the one-piece evaluation; the 128×64 control image in strips of
 * 3 rows against upstream. */
static void
test_strips (void)
{
  Fixture f = { 0 };
  g_autoptr (LfControlNet) cn = NULL;
  const int64_t sizes[][2] = { { 37, 21 }, { 61, 50 }, { 8, 8 } };

  if (!fixture_open (&f))
    return;
  cn = open_conformance (&f);
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const int64_t     shape[4] = { 1, 3, sizes[s][0], sizes[s][1] };
      g_autofree float *img = lf_test_alloc_f32 (3 * shape[2] * shape[3]);
      LfTensor image = lf_tensor_make (img, LF_DTYPE_F32, 4, shape), whole;

      lf_test_fill_uniform (img, 3 * shape[2] * shape[3], 0.0, 1.0);
      lf_controlnet_set_strip_rows (cn, 1 << 20);
      whole = embed (cn, &image);
      for (int rows = 1; rows <= 3; rows++)
        {
          LfTensor strips;

          lf_controlnet_set_strip_rows (cn, rows);
          strips = embed (cn, &image);
          g_test_message ("%lld×%lld in strips of %d rows", (long long)shape[3],
                          (long long)shape[2], rows);
          assert_tensors_close ("strips", &strips, &whole, 1e-5);
          g_free (strips.data);
        }
      g_free (whole.data);
    }
  lf_controlnet_set_strip_rows (cn, 3);
  {
    LfTensor cond = embed (cn, &f.image);

    assert_matches (f.ref, "cond_embedding", &cond);
    g_free (cond.data);
  }
  fixture_close (&f);
}

/* A copy of the conformance folder @sub (controlnet, linfusion) with
 * config.json edited: @from replaced by @to, @n times (0: everywhere). */
static char *
edited_copy (const Fixture *f,
             const char    *sub,
             const char    *from,
             const char    *to,
             guint          n)
{
  g_autofree char *cfg_path
      = g_build_filename (f->dir, sub, "config.json", NULL);
  g_autofree char *w_path = g_build_filename (
      f->dir, sub, "diffusion_pytorch_model.safetensors", NULL);
  g_autofree char *text = NULL, *weights = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) edited = NULL;
  g_autoptr (GBytes) cfg_bytes = NULL, w_bytes = NULL;
  char *tmp = g_dir_make_tmp ("lf-controlnet-XXXXXX", &error);
  gsize len;

  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (cfg_path, &text, NULL, &error));
  g_assert_true (g_file_get_contents (w_path, &weights, &len, &error));
  edited = g_string_new (text);
  g_assert_cmpuint (g_string_replace (edited, from, to, n), >=, 1);
  cfg_bytes = g_bytes_new (edited->str, edited->len);
  w_bytes = g_bytes_new_take (g_steal_pointer (&weights), len);
  g_free (lf_test_write_file (tmp, "config.json", cfg_bytes));
  g_free (
      lf_test_write_file (tmp, "diffusion_pytorch_model.safetensors", w_bytes));
  return tmp;
}

/* "bgr": the embedding of an image equals the "rgb" embedding of the image
 * with its channels reversed (diffusers: torch.flip (cond, dims=[1])). */
static void
test_bgr (void)
{
  Fixture f = { 0 };
  g_autoptr (LfControlNet) rgb = NULL, bgr = NULL;
  g_autofree char  *tmp = NULL;
  g_autofree float *flipped = NULL;
  int64_t           plane;
  LfTensor          a, b, image;

  if (!fixture_open (&f))
    return;
  tmp = edited_copy (&f, "controlnet", "\"rgb\"", "\"bgr\"", 1);
  rgb = open_conformance (&f);
  bgr = open_controlnet (&f, tmp);
  lf_controlnet_set_strip_rows (bgr, 5);
  plane = f.image.shape[2] * f.image.shape[3];
  flipped = lf_test_alloc_f32 (3 * plane);
  for (int c = 0; c < 3; c++)
    memcpy (flipped + c * plane, (const float *)f.image.data + (2 - c) * plane,
            sizeof (float) * plane);
  image = lf_tensor_make (flipped, LF_DTYPE_F32, 4, f.image.shape);
  a = embed (rgb, &image);
  b = embed (bgr, &f.image);
  assert_tensors_close ("bgr", &b, &a, 1e-6);
  g_free (a.data);
  g_free (b.data);
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

/* global_pool_conditions: each residual is its own mean over H and W,
 * broadcast (diffusers: torch.mean (dim=(2, 3), keepdim=True)), after the
 * scale. */
static void
test_global_pool (void)
{
  Fixture f = { 0 };
  g_autoptr (LfControlNet) plain = NULL, pooled = NULL;
  g_autofree char *tmp = NULL;
  Residuals        a = { 0 }, b = { 0 };
  float            scales[LF_UNET_MAX_SKIPS + 1];

  if (!fixture_open (&f))
    return;
  tmp = edited_copy (&f, "controlnet", "\"global_pool_conditions\": false",
                     "\"global_pool_conditions\": true", 1);
  plain = open_conformance (&f);
  pooled = open_controlnet (&f, tmp);
  g_assert_cmpuint (lf_controlnet_plan (pooled, 2, 16, 8, 77), >,
                    lf_controlnet_plan (plain, 2, 16, 8, 77));
  for (int i = 0; i <= 12; i++)
    scales[i] = 0.5f + 0.05f * i;
  forward (&f, plain, scales, &a);
  forward (&f, pooled, scales, &b);
  for (int i = 0; i <= a.n; i++)
    {
      const LfTensor    *x = i < a.n ? &a.down[i] : &a.mid;
      const LfTensor    *y = i < a.n ? &b.down[i] : &b.mid;
      const int64_t      n = lf_tensor_numel (x);
      const int64_t      hw = x->shape[2] * x->shape[3];
      g_autofree double *want = lf_test_alloc_f64 (n);

      for (int64_t p = 0; p < n / hw; p++)
        {
          double sum = 0.0;

          for (int64_t k = 0; k < hw; k++)
            sum += ((const float *)x->data)[p * hw + k];
          for (int64_t k = 0; k < hw; k++)
            want[p * hw + k] = sum / hw;
        }
      lf_test_assert_close_scaled ("pooled residual", y->data, want, n, 1e-5);
    }
  residuals_clear (&a);
  residuals_clear (&b);
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

/* ---- e. LinFusion ------------------------------------------------------ */

static void
test_linfusion (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfControlNet) cn = NULL;
  g_autoptr (LfModelFiles) lin = NULL;
  g_autoptr (LfSafetensors) ref = NULL;
  g_autofree char   *lin_path = NULL, *ref_path = NULL;
  const LfComponent *comp;
  Residuals          r = { 0 };

  if (!fixture_open (&f))
    return;
  lin_path = g_build_filename (f.dir, "linfusion", NULL);
  ref_path = lf_test_data_path ("controlnet-linfusion.safetensors");
  lin = lf_model_files_open (lin_path, &error);
  g_assert_no_error (error);
  ref = lf_safetensors_open (ref_path, &error);
  g_assert_no_error (error);
  comp = lf_model_files_get_component (lin, 0);
  cn = open_conformance (&f);
  /* The UNet's up-block modules have no place here; twice replaces. */
  for (int k = 0; k < 2; k++)
    {
      g_assert_true (lf_controlnet_mount_linfusion (
          cn, comp, lf_component_get_config (comp), &error));
      g_assert_no_error (error);
      forward (&f, cn, ones, &r);
      assert_residuals (ref, &r);
      residuals_clear (&r);
    }
  g_assert_true (lf_unet_has_linfusion (lf_controlnet_get_body (cn)));
  /* A LinFusion folder for none of its layers is refused; the mounted
   * modules stay. */
  {
    g_autofree char *tmp = edited_copy (&f, "linfusion", "\"module_name\": \"",
                                        "\"module_name\": \"up_blocks.9.", 0);
    g_autoptr (LfModelFiles) other = lf_model_files_open (tmp, &error);
    const LfComponent *oc;

    g_assert_no_error (error);
    oc = lf_model_files_get_component (other, 0);
    g_assert_false (lf_controlnet_mount_linfusion (
        cn, oc, lf_component_get_config (oc), &error));
    g_assert_error (error, LF_ERROR, LF_ERROR_FORMAT);
    g_test_message ("%s", error->message);
    g_assert_nonnull (strstr (error->message, "no LinFusion module"));
    g_clear_error (&error);
    lf_test_remove_tree (tmp);
    forward (&f, cn, ones, &r);
    assert_residuals (ref, &r);
    residuals_clear (&r);
  }
  lf_controlnet_unmount_linfusion (cn);
  g_assert_false (lf_unet_has_linfusion (lf_controlnet_get_body (cn)));
  forward (&f, cn, ones, &r);
  assert_residuals (f.ref, &r);
  residuals_clear (&r);
  fixture_close (&f);
}

/* ---- plan ------------------------------------------------------------- */

static void
test_plan (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfControlNet) cn = NULL;
  const float t[2] = { 1.0f, 1.0f };
  size_t      plan;
  Residuals   r = { 0 };
  LfTensor    cond;

  if (!fixture_open (&f))
    return;
  cn = open_conformance (&f);
  plan = lf_controlnet_plan (cn, 2, 16, 8, 77);
  g_assert_cmpfloat ((double)lf_controlnet_plan (cn, 2, 128, 128, 77) / plan,
                     <=, 128.0 * 128 / (16 * 8));
  forward (&f, cn, ones, &r);
  cond = embed (cn, &f.image);
  {
    g_autoptr (LfArena) arena = lf_arena_new (plan - 64, &error);

    g_assert_false (lf_controlnet_forward (cn, &f.x, t, &f.ctx, &cond, ones,
                                           arena, r.down, &r.mid, &error));
    g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
  }
  g_free (cond.data);
  residuals_clear (&r);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (ones); i++)
    ones[i] = 1.0f;
  g_test_add_func ("/controlnet/forward", test_forward);
  g_test_add_func ("/controlnet/scales", test_scales);
  g_test_add_func ("/controlnet/single-file", test_single_file);
  g_test_add_func ("/controlnet/bad-files", test_bad_files);
  g_test_add_func ("/controlnet/misfit", test_misfit);
  g_test_add_func ("/controlnet/strips", test_strips);
  g_test_add_func ("/controlnet/bgr", test_bgr);
  g_test_add_func ("/controlnet/global-pool", test_global_pool);
  g_test_add_func ("/controlnet/linfusion", test_linfusion);
  g_test_add_func ("/controlnet/plan", test_plan);
  return g_test_run ();
}
