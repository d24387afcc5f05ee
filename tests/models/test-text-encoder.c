/* test-text-encoder.c: the CLIP text encoder against transformers'
 * CLIPTextModel (ref/text_encoder.safetensors of the sd15-tiny-seed0 set:
 * every hidden state, the output, clip skip 1), the prompt → embedding path
 * against the tokenizer fixture, A1111 emphasis and long prompts against
 * tests/data/prompt-embeddings.safetensors
 * (tests/tools/make-prompt-embedding-fixture.py), and the load/request errors.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "linfusion.h"

#include "backend.h"
#include "diffusers-folder.h"
#include "lf-test-model.h"
#include "lf-test.h"
#include "safetensors.h"
#include "text-encoder.h"

#define SET  "sd15-tiny-seed0"
#define RTOL 1e-4
#define N    LF_TOKENS_PER_CHUNK

typedef struct
{
  char          *dir;
  LfModelFiles  *files;
  LfComponent   *comp; /* text_encoder */
  LfOps         *ops;
  LfTextEncoder *te;
  LfSafetensors *ref; /* ref/text_encoder.safetensors */
} Fx;

static gboolean
fx_open (Fx *fx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ref = NULL;

  memset (fx, 0, sizeof *fx);
  fx->dir = lf_test_conformance_dir (SET);
  if (fx->dir == NULL)
    return FALSE;
  fx->files = lf_model_files_open (fx->dir, &error);
  g_assert_no_error (error);
  fx->comp = lf_model_files_lookup (fx->files, "text_encoder");
  g_assert_nonnull (fx->comp);
  fx->ops = lf_test_cpu_ops_new (2, 0);
  fx->te = lf_text_encoder_load (fx->comp, lf_component_get_config (fx->comp),
                                 fx->ops, &error);
  g_assert_no_error (error);
  ref = g_build_filename (fx->dir, "ref", "text_encoder.safetensors", NULL);
  fx->ref = lf_safetensors_open (ref, &error);
  g_assert_no_error (error);
  return TRUE;
}

static void
fx_close (Fx *fx)
{
  g_clear_pointer (&fx->te, lf_text_encoder_free);
  g_clear_pointer (&fx->ops, lf_test_cpu_ops_free);
  g_clear_pointer (&fx->files, lf_model_files_free);
  g_clear_pointer (&fx->ref, lf_safetensors_free);
  g_clear_pointer (&fx->dir, g_free);
}

static const LfStTensor *
lookup (LfSafetensors *st, const char *name, LfStDtype dtype)
{
  const LfStTensor *t = lf_safetensors_lookup (st, name);

  if (t == NULL)
    g_error ("no tensor %s", name);
  g_assert_cmpint (t->dtype, ==, dtype);
  return t;
}

/* Elements [from, from + n) of an F32 reference, in double. */
static double *
ref_f64 (LfSafetensors *st, const char *name, int64_t from, int64_t n)
{
  const LfStTensor *t = lookup (st, name, LF_ST_F32);
  const float      *f = t->data;
  double           *d = lf_test_alloc_f64 (n);

  g_assert_cmpint (from + n, <=, lf_st_tensor_numel (t));
  for (int64_t i = 0; i < n; i++)
    d[i] = f[from + i];
  return d;
}

static void
check (LfSafetensors *st,
       const char    *name,
       int64_t        from,
       const float   *got,
       int64_t        n)
{
  g_autofree double *ref = ref_f64 (st, name, from, n);
  double             err = 0.0;

  for (int64_t i = 0; i < n; i++)
    err = MAX (err, fabs (got[i] - ref[i]));
  g_test_message ("%s [%" G_GINT64_FORMAT ", +%" G_GINT64_FORMAT
                  "): max|diff| / max|ref| = %.2e",
                  name, from, n, err / lf_test_max_abs (ref, n));
  lf_test_assert_close_scaled (name, got, ref, n, RTOL);
}

/* input_ids (6, 77) as int32. */
static int32_t *
input_ids (Fx *fx, int64_t *batch)
{
  const LfStTensor *t = lookup (fx->ref, "input_ids", LF_ST_I64);
  const int64_t    *ids = t->data;
  int32_t          *out;

  g_assert_cmpint (t->ndim, ==, 2);
  g_assert_cmpint (t->shape[1], ==, N);
  *batch = t->shape[0];
  out = g_new (int32_t, *batch * N);
  for (int64_t i = 0; i < *batch * N; i++)
    out[i] = (int32_t)ids[i];
  return out;
}

static void
forward (Fx            *fx,
         const int32_t *ids,
         int64_t        batch,
         int            clip_skip,
         LfTensor      *hidden,
         float         *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = NULL;
  const int64_t D = lf_text_encoder_get_hidden_size (fx->te);
  LfTensor      o = lf_tensor_3d (out, LF_DTYPE_F32, batch, N, D);

  arena = lf_arena_new (lf_text_encoder_plan (fx->te, batch), &error);
  g_assert_no_error (error);
  lf_test_poison (out, batch * N * D);
  lf_text_encoder_forward (fx->te, ids, batch, clip_skip, arena, hidden, &o,
                           &error);
  g_assert_no_error (error);
  lf_test_assert_ops_ok (fx->ops);
}

/* Batch 6 in one call: every hidden state, the output; clip skip 1 with and
 * without the hidden states asked for. */
static void
test_batch (void)
{
  Fx                   fx;
  g_autofree int32_t  *ids = NULL;
  int64_t              B, D, L, n;
  g_autofree float    *out = NULL, *hs = NULL;
  g_autofree LfTensor *hidden = NULL;

  if (!fx_open (&fx))
    return;
  ids = input_ids (&fx, &B);
  D = lf_text_encoder_get_hidden_size (fx.te);
  L = lf_text_encoder_get_n_layers (fx.te);
  g_assert_cmpint (D, ==, 32);
  g_assert_cmpint (L, ==, 3);
  n = B * N * D;
  out = lf_test_alloc_f32 (n);
  hs = lf_test_alloc_f32 (n * (L + 1));
  hidden = g_new (LfTensor, L + 1);
  for (int64_t l = 0; l <= L; l++)
    hidden[l] = lf_tensor_3d (hs + l * n, LF_DTYPE_F32, B, N, D);
  lf_test_poison (hs, n * (L + 1));

  forward (&fx, ids, B, 0, hidden, out);
  check (fx.ref, "last_hidden_state", 0, out, n);
  for (int64_t l = 0; l <= L; l++)
    {
      g_autofree char *name = g_strdup_printf ("hidden_states_%d", (int)l);

      check (fx.ref, name, 0, hs + l * n, n);
    }
  forward (&fx, ids, B, 1, NULL, out);
  check (fx.ref, "clip_skip_1", 0, out, n);
  forward (&fx, ids, B, 1, hidden, out);
  check (fx.ref, "clip_skip_1", 0, out, n);
  check (fx.ref, "hidden_states_3", 0, hs + L * n, n);
  fx_close (&fx);
}

/* The same rows one sequence at a time. */
static void
test_one_by_one (void)
{
  Fx                  fx;
  g_autofree int32_t *ids = NULL;
  g_autofree float   *out = NULL;
  int64_t             B, D;

  if (!fx_open (&fx))
    return;
  ids = input_ids (&fx, &B);
  D = lf_text_encoder_get_hidden_size (fx.te);
  out = lf_test_alloc_f32 (N * D);
  for (int64_t b = 0; b < B; b++)
    {
      forward (&fx, ids + b * N, 1, 0, NULL, out);
      check (fx.ref, "last_hidden_state", b * N * D, out, N * D);
      forward (&fx, ids + b * N, 1, 1, NULL, out);
      check (fx.ref, "clip_skip_1", b * N * D, out, N * D);
    }
  fx_close (&fx);
}

static float *
encode (Fx          *fx,
        LfTokenizer *tok,
        const char  *prompt,
        int          flags,
        int          clip_skip,
        int64_t     *tokens)
{
  g_autoptr (GError) error = NULL;
  float *z = lf_text_encoder_encode_prompt (fx->te, tok, prompt, flags,
                                            clip_skip, tokens, &error);

  g_assert_no_error (error);
  g_assert_nonnull (z);
  g_assert_cmpint (*tokens % N, ==, 0);
  return z;
}

/* The row of input_ids equal to @ids77, or -1. */
static int64_t
find_row (const int32_t *ids, int64_t B, const gint64 *ids77)
{
  for (int64_t b = 0; b < B; b++)
    {
      int64_t j = 0;

      while (j < N && ids[b * N + j] == ids77[j])
        j++;
      if (j == N)
        return b;
    }
  return -1;
}

/* Each reference prompt through tokenizer and encoder equals the
 * last_hidden_state row with its ids; LONG leaves a short prompt unchanged,
 * and so does WEIGHTS when it has no emphasis syntax. */
static void
test_prompts (void)
{
  Fx fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autofree char    *path = NULL;
  g_autofree int32_t *ids = NULL;
  int64_t             B, D;

  if (!fx_open (&fx))
    return;
  tok = lf_tokenizer_new (fx.dir, &error);
  g_assert_no_error (error);
  path = g_build_filename (fx.dir, "ref", "tokenizer.safetensors", NULL);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);
  ids = input_ids (&fx, &B);
  D = lf_text_encoder_get_hidden_size (fx.te);

  for (int i = 0; i < 6; i++)
    {
      g_autofree char  *pname = g_strdup_printf ("prompt_utf8_%d", i);
      g_autofree char  *iname = g_strdup_printf ("ids_77_%d", i);
      g_autofree char  *fname = g_strdup_printf ("ids_full_%d", i);
      const LfStTensor *p = lookup (st, pname, LF_ST_U8);
      g_autofree char  *prompt = g_strndup (p->data, p->shape[0]);
      const int64_t     row
          = find_row (ids, B, lookup (st, iname, LF_ST_I64)->data);
      g_autofree float *z = NULL, *zl = NULL;
      int64_t           tokens;

      g_assert_cmpint (row, >=, 0);
      z = encode (&fx, tok, prompt, 0, 0, &tokens);
      g_assert_cmpint (tokens, ==, N);
      check (fx.ref, "last_hidden_state", row * N * D, z, N * D);
      if (lookup (st, fname, LF_ST_I64)->shape[0] > N)
        continue;
      zl = encode (&fx, tok, prompt, LF_PROMPT_LONG, 0, &tokens);
      g_assert_cmpint (tokens, ==, N);
      check (fx.ref, "last_hidden_state", row * N * D, zl, N * D);
      if (strpbrk (prompt, "()[]\\") != NULL)
        continue;
      g_free (zl);
      zl = encode (&fx, tok, prompt, LF_PROMPT_LONG | LF_PROMPT_WEIGHTS, 0,
                   &tokens);
      g_assert_cmpint (tokens, ==, N);
      check (fx.ref, "last_hidden_state", row * N * D, zl, N * D);
    }
  fx_close (&fx);
}

/* A1111 emphasis, long prompts (BREAK, comma backtracking) and both, against
 * the Python reimplementation's output. */
static void
test_emphasis_long (void)
{
  Fx fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autofree char *path = lf_test_data_path ("prompt-embeddings.safetensors");
  int              n_cases = 0;

  if (!fx_open (&fx))
    return;
  tok = lf_tokenizer_new (fx.dir, &error);
  g_assert_no_error (error);
  st = lf_safetensors_open (path, &error);
  g_assert_no_error (error);

  for (int i = 0;; i++, n_cases++)
    {
      g_autofree char  *pname = g_strdup_printf ("prompt_utf8_%d", i);
      g_autofree char  *fname = g_strdup_printf ("flags_%d", i);
      g_autofree char  *ename = g_strdup_printf ("embedding_%d", i);
      const LfStTensor *p = lf_safetensors_lookup (st, pname);
      g_autofree char  *prompt = NULL;
      g_autofree float *z = NULL;
      const int32_t    *flags;
      const LfStTensor *e;
      int64_t           tokens;

      if (p == NULL)
        break;
      prompt = g_strndup (p->data, p->shape[0]);
      flags = lookup (st, fname, LF_ST_I32)->data;
      e = lookup (st, ename, LF_ST_F32);
      z = encode (&fx, tok, prompt, flags[0], flags[1], &tokens);
      g_test_message ("case %d: flags %d, clip skip %d, %" G_GINT64_FORMAT
                      " tokens",
                      i, flags[0], flags[1], tokens);
      g_assert_cmpint (tokens, ==, e->shape[1]);
      check (st, ename, 0, z, lf_st_tensor_numel (e));
    }
  g_assert_cmpint (n_cases, >=, 4);
  fx_close (&fx);
}

/* "" gives one chunk, whatever the flags: what the pipeline repeats to pad
 * a shorter negative prompt. */
static void
test_empty_prompt (void)
{
  Fx fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = NULL;
  g_autofree float  *z0 = NULL;
  g_autofree double *ref = NULL;
  int64_t            t0, t1, D;

  if (!fx_open (&fx))
    return;
  tok = lf_tokenizer_new (fx.dir, &error);
  g_assert_no_error (error);
  D = lf_text_encoder_get_hidden_size (fx.te);
  z0 = encode (&fx, tok, "", 0, 0, &t0);
  g_assert_cmpint (t0, ==, N);
  ref = lf_test_alloc_f64 (N * D);
  for (int64_t i = 0; i < N * D; i++)
    ref[i] = z0[i];
  for (int flags = 1; flags <= (LF_PROMPT_LONG | LF_PROMPT_WEIGHTS); flags++)
    {
      g_autofree float *z1 = encode (&fx, tok, "", flags, 0, &t1);

      g_assert_cmpint (t1, ==, N);
      lf_test_assert_close_scaled ("empty prompt", z1, ref, N * D, RTOL);
    }
  fx_close (&fx);
}

static void
assert_error (GError *error, int code, const char *needle)
{
  g_assert_error (error, LF_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("“%s” does not name “%s”", error->message, needle);
}

static const char *config_text
    = "{\"hidden_size\": 32, \"intermediate_size\": %d, "
      "\"num_hidden_layers\": 3, \"num_attention_heads\": 4, "
      "\"max_position_embeddings\": 77, \"vocab_size\": 49408, "
      "\"hidden_act\": \"%s\", \"layer_norm_eps\": 1e-05}";

static void
load_with_config (Fx *fx, int intermediate, const char *act, GError **error)
{
  g_autofree char *text = g_strdup_printf (config_text, intermediate, act);
  g_autoptr (LfConfig) cfg
      = lf_config_new_from_data (text, -1, "config.json", NULL);
  g_autoptr (LfTextEncoder) te = NULL;

  g_assert_nonnull (cfg);
  te = lf_text_encoder_load (fx->comp, cfg, fx->ops, error);
  g_assert_null (te);
}

/* The text encoder folder again, without one tensor. */
static char *
write_folder_without (Fx *fx, const char *skip)
{
  g_autofree char *tmp = g_dir_make_tmp ("lf-te-XXXXXX", NULL);
  g_autofree char *src = NULL, *config = NULL;
  g_autofree char *cfg_path = NULL;
  g_autoptr (LfSafetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  LfTestSt *w = lf_test_st_new ();
  gsize     len;

  src = g_build_filename (fx->dir, "text_encoder", "model.safetensors", NULL);
  st = lf_safetensors_open (src, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);

      if (strcmp (t->name, skip) != 0)
        lf_test_st_add (w, t->name, lf_st_dtype_name (t->dtype), t->ndim,
                        t->shape, t->data, t->nbytes);
    }
  g_free (lf_test_write_file (tmp, "model.safetensors", lf_test_st_finish (w)));
  cfg_path = g_build_filename (fx->dir, "text_encoder", "config.json", NULL);
  g_file_get_contents (cfg_path, &config, &len, &error);
  g_assert_no_error (error);
  g_free (lf_test_write_file (
      tmp, "config.json", g_bytes_new_take (g_steal_pointer (&config), len)));
  return g_steal_pointer (&tmp);
}

static void
remove_folder (const char *dir)
{
  const char *names[] = { "model.safetensors", "config.json" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_remove (path);
    }
  g_rmdir (dir);
}

static void
test_load_errors (void)
{
  Fx          fx;
  const char *missing = "text_model.encoder.layers.1.mlp.fc1.bias";
  g_autoptr (GError) error = NULL;
  g_autoptr (LfModelFiles) files = NULL;
  g_autofree char *tmp = NULL;
  LfComponent     *comp;
  LfTextEncoder   *te;

  if (!fx_open (&fx))
    return;
  load_with_config (&fx, 128, "swish", &error);
  assert_error (error, LF_ERROR_UNSUPPORTED, "swish");
  g_clear_error (&error);
  load_with_config (&fx, 64, "gelu", &error);
  assert_error (error, LF_ERROR_FORMAT,
                "text_model.encoder.layers.0.mlp.fc1.weight");
  g_clear_error (&error);

  tmp = write_folder_without (&fx, missing);
  files = lf_model_files_open (tmp, &error);
  g_assert_no_error (error);
  comp = lf_model_files_get_component (files, 0);
  te = lf_text_encoder_load (comp, lf_component_get_config (comp), fx.ops,
                             &error);
  g_assert_null (te);
  assert_error (error, LF_ERROR_FORMAT, missing);
  remove_folder (tmp);
  fx_close (&fx);
}

static void
test_request_errors (void)
{
  Fx fx;
  g_autoptr (GError) error = NULL;
  g_autoptr (LfTokenizer) tok = NULL;
  g_autoptr (LfArena) arena = NULL;
  const int flags[] = { 0, LF_PROMPT_WEIGHTS, LF_PROMPT_LONG,
                        LF_PROMPT_WEIGHTS | LF_PROMPT_LONG };
  int32_t   ids[N];
  float    *out;
  LfTensor  o;
  int64_t   tokens = -1, D;

  if (!fx_open (&fx))
    return;
  tok = lf_tokenizer_new (fx.dir, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_assert_null (lf_text_encoder_encode_prompt (
          fx.te, tok, "a \xff photo", flags[i], 0, &tokens, &error));
      g_assert_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST);
      g_clear_error (&error);
    }
  g_assert_null (lf_text_encoder_encode_prompt (fx.te, tok, "a photo", 0, 4,
                                                &tokens, &error));
  assert_error (error, LF_ERROR_INVALID_REQUEST, "4");
  g_clear_error (&error);

  D = lf_text_encoder_get_hidden_size (fx.te);
  out = lf_test_alloc_f32 (N * D);
  o = lf_tensor_3d (out, LF_DTYPE_F32, 1, N, D);
  arena = lf_arena_new (lf_text_encoder_plan (fx.te, 1), &error);
  for (int i = 0; i < N; i++)
    ids[i] = LF_TOKEN_EOS;
  ids[5] = 49408;
  g_assert_false (
      lf_text_encoder_forward (fx.te, ids, 1, 0, arena, NULL, &o, &error));
  assert_error (error, LF_ERROR_INVALID_REQUEST, "49408");
  g_assert_cmpint (lf_arena_used (arena), ==, 0);
  g_free (out);
  fx_close (&fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/text-encoder/reference/batch", test_batch);
  g_test_add_func ("/text-encoder/reference/one-by-one", test_one_by_one);
  g_test_add_func ("/text-encoder/prompts", test_prompts);
  g_test_add_func ("/text-encoder/emphasis-long", test_emphasis_long);
  g_test_add_func ("/text-encoder/empty-prompt", test_empty_prompt);
  g_test_add_func ("/text-encoder/errors/load", test_load_errors);
  g_test_add_func ("/text-encoder/errors/request", test_request_errors);
  return g_test_run ();
}
