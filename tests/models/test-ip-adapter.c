/* test-ip-adapter.c: the IP-Adapter path against upstream: the CLIP vision
 * encoder, the image tokens and the UNet forward with LinFusion and the
 * adapter mounted (ref/ip_adapter_parts.safetensors), an IP-Adapter Plus
 * (tests/data/ip-adapter-plus*.safetensors, made by
 * tests/tools/make-ip-adapter-fixture.py), mounting and unmounting, and
 * files that do not fit or do not parse.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "linfusion.h"

#include "diffusers-folder.h"
#include "ip-adapter-private.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"
#include "unet-private.h"

#define RTOL 1e-4

typedef struct
{
  char          *dir;
  LfModelFiles  *files;
  LfSafetensors *parts, *unet_ref;
  LfOps         *ops;
  LfUnet        *unet;
  LfClipVision  *enc;
  LfTensor       sample, context, pixels;
} Fixture;

static void
check_close (LfSafetensors *st, const char *name, const float *got, int64_t n)
{
  g_autofree double *ref = NULL;
  int64_t            n_ref;

  ref = lf_test_ref_f64 (st, name, &n_ref);
  g_assert_cmpint (n, ==, n_ref);
  lf_test_assert_close_scaled (name, got, ref, n, RTOL);
}

static LfTensor
view (LfSafetensors *st, const char *name)
{
  g_autoptr (GError) error = NULL;
  LfTensor t;

  g_assert_true (
      lf_st_tensor_view (st, lf_test_ref_f32 (st, name), &t, &error));
  g_assert_no_error (error);
  return t;
}

static char *
conformance_path (const Fixture *f, const char *a, const char *b)
{
  return g_build_filename (f->dir, a, b, NULL);
}

static char *
adapter_path (const Fixture *f)
{
  return g_build_filename (f->dir, "ip_adapter", "models",
                           "ip-adapter_sd15.safetensors", NULL);
}

static gboolean
fixture_open (Fixture *f)
{
  g_autofree char *parts = NULL, *unet_ref = NULL, *enc = NULL;
  g_autoptr (GError) error = NULL;
  const LfComponent *comp;

  f->dir = lf_test_conformance_dir ("sd15-tiny-seed0");
  if (f->dir == NULL)
    return FALSE;
  parts = conformance_path (f, "ref", "ip_adapter_parts.safetensors");
  unet_ref = conformance_path (f, "ref", "unet.safetensors");
  enc = g_build_filename (f->dir, "ip_adapter", "models", "image_encoder",
                          NULL);
  f->parts = lf_safetensors_open (parts, &error);
  g_assert_no_error (error);
  f->unet_ref = lf_safetensors_open (unet_ref, &error);
  g_assert_no_error (error);
  f->files = lf_model_files_open (f->dir, &error);
  g_assert_no_error (error);
  f->ops = lf_test_cpu_ops_new (2, 0);
  comp = lf_model_files_lookup (f->files, "unet");
  f->unet = lf_unet_load (comp, lf_component_get_config (comp), f->ops, &error);
  g_assert_no_error (error);
  f->enc = lf_clip_vision_open (enc, f->ops, &error);
  g_assert_no_error (error);
  f->sample = view (f->unet_ref, "sample");
  f->context = view (f->unet_ref, "encoder_hidden_states");
  f->pixels = view (f->parts, "pixel_values");
  return TRUE;
}

static void
fixture_close (Fixture *f)
{
  lf_clip_vision_free (f->enc);
  lf_unet_free (f->unet);
  lf_test_cpu_ops_free (f->ops);
  lf_model_files_free (f->files);
  lf_safetensors_free (f->parts);
  lf_safetensors_free (f->unet_ref);
  g_free (f->dir);
}

static LfIpAdapter *
open_adapter (const Fixture *f, const char *path)
{
  g_autoptr (GError) error = NULL;
  LfIpAdapter *ip = lf_ip_adapter_open (path, f->ops, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ip);
  g_assert_true (lf_ip_adapter_check_encoder (ip, f->enc, &error));
  g_assert_no_error (error);
  return ip;
}

/* One UNet forward of unet.safetensors' sample at t = 500, with @tokens
 * (B, T, D) or none, in an arena of the planned size; returns the output
 * (g_free). With @exact the plan must be what the forward used. */
static float *
unet_forward (Fixture *f, const LfTensor *tokens, float scale, gboolean exact)
{
  const float t[2] = { 500.0f, 500.0f };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  const LfTensor    *x = &f->sample;
  const int64_t      n = lf_tensor_numel (x);
  const LfUnetExtras extras = { .ip_tokens = tokens, .ip_scale = scale };
  float             *y = lf_test_alloc_f32 (n);
  LfTensor           out;
  size_t             plan;

  plan = lf_unet_plan (f->unet, x->shape[0], x->shape[2], x->shape[3],
                       f->context.shape[1]);
  arena = lf_arena_new (plan, &error);
  g_assert_no_error (error);
  lf_test_poison (y, n);
  out = lf_tensor_4d (y, LF_DTYPE_F32, x->shape[0], 4, x->shape[2],
                      x->shape[3]);
  g_assert_true (lf_unet_forward_with (f->unet, x, t, &f->context, &extras,
                                       arena, &out, &error));
  g_assert_no_error (error);
  if (exact)
    g_assert_cmpuint (lf_arena_peak (arena), ==, plan);
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  return y;
}

/* The pipeline's tokens are [uncond, cond]; unet.safetensors' context rows
 * are [prompt 0, empty], so the forward takes them as [cond, uncond]. */
static LfTensor
swap_rows (const float *tokens, int64_t T, int64_t D, float *buf)
{
  memcpy (buf, tokens + T * D, (size_t)(T * D) * sizeof (float));
  memcpy (buf + T * D, tokens, (size_t)(T * D) * sizeof (float));
  return lf_tensor_3d (buf, LF_DTYPE_F32, 2, T, D);
}

/* tokens (2, T, D) of @ip for the fixture's pixels, compared with
 * @uncond and @cond of @st. */
static float *
encode_and_check (Fixture       *f,
                  LfIpAdapter   *ip,
                  LfSafetensors *st,
                  const char    *uncond,
                  const char    *cond)
{
  g_autoptr (GError) error = NULL;
  const int64_t T = lf_ip_adapter_get_n_tokens (ip);
  const int64_t D = lf_ip_adapter_get_token_dim (ip);
  float        *tok = lf_test_alloc_f32 (2 * T * D);
  LfTensor      t = lf_tensor_3d (tok, LF_DTYPE_F32, 2, T, D);

  lf_test_poison (tok, 2 * T * D);
  g_assert_true (lf_ip_adapter_encode (ip, f->enc, &f->pixels, &t, &error));
  g_assert_no_error (error);
  check_close (st, uncond, tok, T * D);
  check_close (st, cond, tok + T * D, T * D);
  return tok;
}

static gboolean
nothing_mounted (const LfUnet *unet)
{
  for (guint i = 0; i < unet->transformers->len; i++)
    {
      const UnetTransformer *t = g_ptr_array_index (unet->transformers, i);

      for (int b = 0; b < t->depth; b++)
        if (t->blocks[b].attn2.to_k_ip.data != NULL
            || t->blocks[b].attn2.to_v_ip.data != NULL
            || t->blocks[b].attn2.n_ip_tokens != 0)
          return FALSE;
    }
  return TRUE;
}

static void
assert_same (const float *a, const float *b, int64_t n)
{
  g_assert_cmpint (memcmp (a, b, (size_t)n * sizeof (float)), ==, 0);
}

/* ---- Conformance: ip-adapter_sd15 ------------------------------------ */

static void
test_encoder (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  g_autofree float *last = NULL, *embeds = NULL, *pen = NULL;
  LfTensor          tl, te, tp;

  if (!fixture_open (&f))
    return;
  g_assert_cmpint (lf_clip_vision_get_image_size (f.enc), ==, 32);
  g_assert_cmpint (clip_vision_get_n_tokens (f.enc), ==, 17);
  last = lf_test_alloc_f32 (17 * 32);
  embeds = lf_test_alloc_f32 (32);
  pen = lf_test_alloc_f32 (17 * 32);
  lf_test_poison (last, 17 * 32);
  lf_test_poison (embeds, 32);
  lf_test_poison (pen, 17 * 32);
  tl = lf_tensor_3d (last, LF_DTYPE_F32, 1, 17, 32);
  te = lf_tensor_2d (embeds, LF_DTYPE_F32, 1, 32);
  tp = lf_tensor_3d (pen, LF_DTYPE_F32, 1, 17, 32);
  arena = lf_arena_new (lf_clip_vision_plan (f.enc, 1), &error);
  g_assert_no_error (error);

  g_assert_true (
      clip_vision_forward_last (f.enc, &f.pixels, arena, &tl, &error));
  g_assert_no_error (error);
  check_close (f.parts, "image_encoder_last_hidden_state", last, 17 * 32);
  g_assert_true (
      lf_clip_vision_forward (f.enc, &f.pixels, arena, &te, &tp, &error));
  g_assert_no_error (error);
  check_close (f.parts, "image_embeds", embeds, 32);
  g_assert_cmpuint (lf_arena_peak (arena), ==, lf_clip_vision_plan (f.enc, 1));
  g_assert_cmpuint (lf_arena_used (arena), ==, 0);
  /* hidden_states[-2] alone runs one layer less, to the same values. */
  memset (last, 0xff, 17 * 32 * sizeof (float));
  g_assert_true (
      lf_clip_vision_forward (f.enc, &f.pixels, arena, NULL, &tl, &error));
  g_assert_no_error (error);
  assert_same (last, pen, 17 * 32);
  fixture_close (&f);
}

static void
test_plain (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfIpAdapter) ip = NULL;
  g_autoptr (LfModelFiles) lin = NULL;
  g_autofree char  *path = NULL, *lin_dir = NULL;
  g_autofree float *tok = NULL, *plain = NULL, *with = NULL, *zero = NULL,
                   *again = NULL;
  float              swapped[2 * 4 * 32];
  LfTensor           t;
  const LfComponent *lc;
  const int64_t      n = 2 * 4 * 16 * 8;

  if (!fixture_open (&f))
    return;
  path = adapter_path (&f);
  ip = open_adapter (&f, path);
  g_assert_cmpint (lf_ip_adapter_get_n_tokens (ip), ==, 4);
  g_assert_cmpint (lf_ip_adapter_get_token_dim (ip), ==, 32);
  tok = encode_and_check (&f, ip, f.parts, "image_tokens_uncond",
                          "image_tokens_cond");

  lin_dir = g_build_filename (f.dir, "linfusion", NULL);
  lin = lf_model_files_open (lin_dir, &error);
  g_assert_no_error (error);
  lc = lf_model_files_get_component (lin, 0);
  g_assert_true (lf_unet_mount_linfusion (
      f.unet, lc, lf_component_get_config (lc), &error));
  g_assert_no_error (error);
  plain = unet_forward (&f, NULL, 0.0f, TRUE);

  g_assert_true (lf_ip_adapter_mount (ip, f.unet, &error));
  g_assert_no_error (error);
  t = swap_rows (tok, 4, 32, swapped);
  with = unet_forward (&f, &t, 0.6f, TRUE);
  check_close (f.parts, "noise_pred_linfusion_ip", with, n);
  /* Scale 0 skips the branch, as diffusers does; no tokens run none. */
  zero = unet_forward (&f, &t, 0.0f, TRUE);
  assert_same (zero, plain, n);
  g_free (zero);
  zero = unet_forward (&f, NULL, 0.0f, FALSE);
  assert_same (zero, plain, n);

  /* Unmounted, the UNet is the plain one again, bit for bit. */
  lf_ip_adapter_unmount (f.unet);
  g_assert_true (nothing_mounted (f.unet));
  again = unet_forward (&f, NULL, 0.0f, TRUE);
  assert_same (again, plain, n);
  fixture_close (&f);
}

/* ---- IP-Adapter Plus (tests/data) ------------------------------------ */

static void
test_plus (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfIpAdapter) ip = NULL;
  g_autoptr (LfSafetensors) ref = NULL;
  g_autoptr (LfArena) arena = NULL;
  g_autofree char *path
      = lf_test_data_path ("ip-adapter-plus-tiny.safetensors");
  g_autofree char *ref_path = lf_test_data_path ("ip-adapter-plus.safetensors");
  g_autofree float *tok = NULL, *with = NULL, *plain = NULL, *again = NULL;
  float             pen[2 * 17 * 32], zeros[3 * 32 * 32] = { 0 };
  float             swapped[2 * 16 * 32];
  LfTensor          tp, tz, t, pixels;
  const int64_t     n = 2 * 4 * 16 * 8;
  const float      *scale;

  if (!fixture_open (&f))
    return;
  ref = lf_safetensors_open (ref_path, &error);
  g_assert_no_error (error);
  pixels = view (ref, "pixel_values");
  g_assert_cmpint (memcmp (pixels.data, f.pixels.data, sizeof zeros), ==, 0);
  ip = open_adapter (&f, path);
  g_assert_cmpint (lf_ip_adapter_get_n_tokens (ip), ==, 16);
  g_assert_cmpint (lf_ip_adapter_get_token_dim (ip), ==, 32);

  /* hidden_states[-2] of the image and of zeros (the negative). */
  lf_test_poison (pen, G_N_ELEMENTS (pen));
  arena = lf_arena_new (lf_clip_vision_plan (f.enc, 1), &error);
  tp = lf_tensor_3d (pen, LF_DTYPE_F32, 1, 17, 32);
  g_assert_true (
      lf_clip_vision_forward (f.enc, &f.pixels, arena, NULL, &tp, &error));
  tp.data = pen + 17 * 32;
  tz = lf_tensor_4d (zeros, LF_DTYPE_F32, 1, 3, 32, 32);
  g_assert_true (lf_clip_vision_forward (f.enc, &tz, arena, NULL, &tp, &error));
  g_assert_no_error (error);
  check_close (ref, "penultimate_cond", pen, 17 * 32);
  check_close (ref, "penultimate_uncond", pen + 17 * 32, 17 * 32);

  tok = encode_and_check (&f, ip, ref, "tokens_uncond", "tokens_cond");
  plain = unet_forward (&f, NULL, 0.0f, TRUE);
  g_assert_true (lf_ip_adapter_mount (ip, f.unet, &error));
  g_assert_no_error (error);
  t = swap_rows (tok, 16, 32, swapped);
  scale = view (ref, "ip_scale").data;
  with = unet_forward (&f, &t, *scale, TRUE);
  check_close (ref, "noise_pred_plus", with, n);
  lf_ip_adapter_unmount (f.unet);
  again = unet_forward (&f, NULL, 0.0f, TRUE);
  assert_same (again, plain, n);
  fixture_close (&f);
}

/* ---- Files that do not fit ------------------------------------------- */

static void
assert_error (GError *error, int code, const char *needle)
{
  g_assert_error (error, LF_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not name “%s”", error->message, needle);
}

/* @src's keys with random values, those starting with @skip left out; with @d >
 * 0 sized for
 * @d-wide tokens (ip_adapter.* columns, image_proj.norm.*, and the 4 · d
 * rows of image_proj.proj.*). */
static char *
write_variant (const char *tmp,
               const char *name,
               const char *src,
               const char *skip,
               int64_t     d)
{
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  LfTestSt *w = lf_test_st_new ();

  st = lf_safetensors_open (src, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      int64_t           shape[LF_ST_MAX_DIMS];
      g_autofree float *data = NULL;
      int64_t           numel = 1;

      if (skip != NULL && g_str_has_prefix (t->name, skip))
        continue;
      memcpy (shape, t->shape, sizeof shape);
      if (d > 0 && g_str_has_prefix (t->name, "ip_adapter."))
        shape[1] = d;
      else if (d > 0 && g_str_has_prefix (t->name, "image_proj.norm"))
        shape[0] = d;
      else if (d > 0 && g_str_has_prefix (t->name, "image_proj.proj."))
        shape[0] = 4 * d;
      for (int k = 0; k < t->ndim; k++)
        numel *= shape[k];
      data = lf_test_alloc_f32 (numel);
      lf_test_fill_uniform (data, numel, -0.5, 0.5);
      lf_test_st_add (w, t->name, "F32", t->ndim, shape, data,
                      (gsize)numel * sizeof (float));
    }
  return lf_test_write_file (tmp, name, lf_test_st_finish (w));
}

static void
assert_mount_fails (Fixture     *f,
                    const char  *path,
                    const char  *needle1,
                    const char  *needle2,
                    const float *plain)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfIpAdapter) ip = lf_ip_adapter_open (path, f->ops, &error);
  g_autofree float *after = NULL;

  g_assert_no_error (error);
  g_assert_false (lf_ip_adapter_mount (ip, f->unet, &error));
  assert_error (error, LF_ERROR_FORMAT, needle1);
  assert_error (error, LF_ERROR_FORMAT, needle2);
  g_assert_true (nothing_mounted (f->unet));
  after = unet_forward (f, NULL, 0.0f, TRUE);
  assert_same (after, plain, 2 * 4 * 16 * 8);
}

static void
test_mount_errors (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char  *src = NULL, *tmp = NULL, *wide = NULL, *short_ = NULL;
  g_autofree float *plain = NULL;

  if (!fixture_open (&f))
    return;
  src = adapter_path (&f);
  tmp = g_dir_make_tmp ("lf-ip-XXXXXX", &error);
  g_assert_no_error (error);
  plain = unet_forward (&f, NULL, 0.0f, TRUE);

  /* An adapter for 48-wide text: to_k_ip [16, 48] for [16, 32]. */
  wide = write_variant (tmp, "wide.safetensors", src, NULL, 48);
  assert_mount_fails (&f, wide, "ip_adapter.1.to_k_ip.weight is [16, 48]",
                      "[16, 32]", plain);
  /* One cross-attention layer short. */
  short_ = write_variant (tmp, "short.safetensors", src,
                          "ip_adapter.31.to_k_ip.weight", 0);
  assert_mount_fails (&f, short_, "15 cross-attention layers",
                      "the UNet has 16", plain);
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

/* The layer order is diffusers': down, up, then mid. A file whose
 * ip_adapter.7 (down_blocks.1.attentions.1, 16 channels) has 32 rows is
 * caught there, with the layer's name. */
static void
test_mount_order (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autofree char  *src = NULL, *tmp = NULL, *path = NULL;
  g_autofree float *plain = NULL, *rows = NULL;
  LfTestSt         *w;

  if (!fixture_open (&f))
    return;
  src = adapter_path (&f);
  tmp = g_dir_make_tmp ("lf-ip-XXXXXX", &error);
  st = lf_safetensors_open (src, &error);
  g_assert_no_error (error);
  w = lf_test_st_new ();
  rows = lf_test_alloc_f32 (32 * 32);
  lf_test_fill_uniform (rows, 32 * 32, -0.5, 0.5);
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);

      if (g_str_has_prefix (t->name, "ip_adapter.7."))
        lf_test_st_add (w, t->name, "F32", 2, (int64_t[]){ 32, 32 }, rows,
                        32 * 32 * sizeof (float));
      else
        lf_test_st_add (w, t->name, "F32", t->ndim, t->shape, t->data,
                        t->nbytes);
    }
  path = lf_test_write_file (tmp, "rows.safetensors", lf_test_st_finish (w));
  plain = unet_forward (&f, NULL, 0.0f, TRUE);
  assert_mount_fails (&f, path, "ip_adapter.7.to_k_ip.weight is [32, 32]",
                      "down_blocks.1.attentions.1.transformer_blocks.0.attn2 "
                      "needs [16, 32]",
                      plain);
  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

static void
test_file_errors (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *src = NULL, *tmp = NULL, *missing = NULL, *cut = NULL,
                  *bad = NULL, *bin = NULL, *nokind = NULL, *faceid = NULL,
                  *plus = NULL, *noplus = NULL, *narrow = NULL,
                  *contents = NULL;
  g_autoptr (LfIpAdapter) ip = NULL;
  gsize    len;
  float    tok[2 * 4 * 32];
  LfTensor t = lf_tensor_3d (tok, LF_DTYPE_F32, 2, 4, 32);

  if (!fixture_open (&f))
    return;
  src = adapter_path (&f);
  tmp = g_dir_make_tmp ("lf-ip-XXXXXX", &error);
  g_assert_no_error (error);

  /* A missing image encoder folder. */
  missing = g_build_filename (tmp, "no-image-encoder", NULL);
  g_assert_null (lf_clip_vision_open (missing, f.ops, &error));
  assert_error (error, LF_ERROR_IO, missing);
  g_clear_error (&error);

  /* Truncated, malformed, pickled. */
  g_file_get_contents (src, &contents, &len, &error);
  g_assert_no_error (error);
  cut = lf_test_write_file (tmp, "cut.safetensors",
                            g_bytes_new (contents, len / 2));
  g_assert_null (lf_ip_adapter_open (cut, f.ops, &error));
  assert_error (error, LF_ERROR_FORMAT, cut);
  g_clear_error (&error);
  bad = lf_test_write_file (
      tmp, "bad.safetensors",
      lf_test_st_raw ("{\"image_proj.proj.weight\": [", 0));
  g_assert_null (lf_ip_adapter_open (bad, f.ops, &error));
  assert_error (error, LF_ERROR_FORMAT, bad);
  g_clear_error (&error);
  bin = lf_test_write_file (tmp, "ip-adapter_sd15.bin",
                            g_bytes_new (contents, len));
  g_assert_null (lf_ip_adapter_open (bin, f.ops, &error));
  assert_error (error, LF_ERROR_UNSUPPORTED, ".safetensors");
  g_clear_error (&error);

  /* Keys of no known kind; FaceID's (image_proj.norm without
   * image_proj.proj); a Plus file short of one key. */
  nokind = write_variant (tmp, "nokind.safetensors", src, "image_proj.", 0);
  g_assert_null (lf_ip_adapter_open (nokind, f.ops, &error));
  assert_error (error, LF_ERROR_FORMAT, "image_proj.latents");
  g_clear_error (&error);
  faceid = write_variant (tmp, "faceid.safetensors", src,
                          "image_proj.proj.weight", 0);
  g_assert_null (lf_ip_adapter_open (faceid, f.ops, &error));
  assert_error (error, LF_ERROR_UNSUPPORTED, "FaceID");
  g_clear_error (&error);
  plus = lf_test_data_path ("ip-adapter-plus-tiny.safetensors");
  noplus = write_variant (tmp, "noplus.safetensors", plus,
                          "image_proj.layers.2.0.to_kv.weight", 0);
  g_assert_null (lf_ip_adapter_open (noplus, f.ops, &error));
  assert_error (error, LF_ERROR_FORMAT, "image_proj.layers.2.0.to_kv.weight");
  g_clear_error (&error);

  /* An adapter for 48-wide image embeddings on a 32-wide encoder. */
  {
    g_autoptr (LfSafetensors) st = lf_safetensors_open (src, &error);
    LfTestSt         *w = lf_test_st_new ();
    g_autofree float *proj = lf_test_alloc_f32 (128 * 48);

    g_assert_no_error (error);
    lf_test_fill_uniform (proj, 128 * 48, -0.5, 0.5);
    for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
      {
        const LfStTensor *s = lf_safetensors_get_tensor (st, i);

        if (strcmp (s->name, "image_proj.proj.weight") == 0)
          lf_test_st_add (w, s->name, "F32", 2, (int64_t[]){ 128, 48 }, proj,
                          128 * 48 * sizeof (float));
        else
          lf_test_st_add (w, s->name, "F32", s->ndim, s->shape, s->data,
                          s->nbytes);
      }
    narrow
        = lf_test_write_file (tmp, "narrow.safetensors", lf_test_st_finish (w));
  }
  ip = lf_ip_adapter_open (narrow, f.ops, &error);
  g_assert_no_error (error);
  g_assert_false (lf_ip_adapter_check_encoder (ip, f.enc, &error));
  assert_error (error, LF_ERROR_FORMAT, "48");
  assert_error (error, LF_ERROR_FORMAT, "projection_dim is 32");
  g_clear_error (&error);
  g_assert_false (lf_ip_adapter_encode (ip, f.enc, &f.pixels, &t, &error));
  assert_error (error, LF_ERROR_FORMAT, narrow);

  lf_test_remove_tree (tmp);
  fixture_close (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ip-adapter/encoder", test_encoder);
  g_test_add_func ("/ip-adapter/plain", test_plain);
  g_test_add_func ("/ip-adapter/plus", test_plus);
  g_test_add_func ("/ip-adapter/mount-errors", test_mount_errors);
  g_test_add_func ("/ip-adapter/mount-order", test_mount_order);
  g_test_add_func ("/ip-adapter/file-errors", test_file_errors);
  return g_test_run ();
}
