/* test-generate.c: `linfusion generate` as users run it on the conformance
 * set: a PNG with its parameters, identical files for the same seed, the
 * fixture pipelines' latents through --init-noise/--save-latents, one-line
 * errors with exit status 1 for bad input, and Ctrl-C stopping between steps
 * without leaving a file. */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "linfusion.h"

#include "lf-test.h"
#include "safetensors.h"

#define SET    "sd15-tiny-seed0"
#define PROMPT "a photograph of an astronaut riding a horse"

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

/* @needle among @n bytes that may hold NULs (a PNG file). */
static gboolean
contains (const char *data, gsize n, const char *needle)
{
  const gsize k = strlen (needle);

  for (gsize i = 0; i + k <= n; i++)
    if (memcmp (data + i, needle, k) == 0)
      return TRUE;
  return FALSE;
}

static void
test_png_and_same_seed (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *lin = NULL, *a = tmp_path ("a.png"), *b = tmp_path ("b.png");
  g_autofree char *da = NULL, *db = NULL;
  g_auto (LfTestRun) r1 = { 0 }, r2 = { 0 };
  gsize na, nb;

  if (dir == NULL)
    return;
  lin = g_build_filename (dir, "linfusion", NULL);
  g_assert_true (lf_test_run_cli (
      &r1, "generate", "--model", dir, "--linfusion", lin, "--prompt", PROMPT,
      "--width", "64", "--height", "96", "--steps", "4", "--seed", "7",
      "--sampler", "dpmpp-2m-karras", "-o", a, NULL));
  g_assert_cmpint (r1.status, ==, 0);
  g_assert_true (lf_test_run_cli (
      &r2, "generate", "--model", dir, "--linfusion", lin, "--prompt", PROMPT,
      "--width", "64", "--height", "96", "--steps", "4", "--seed", "7",
      "--sampler", "dpmpp-2m-karras", "-o", b, NULL));
  g_assert_cmpint (r2.status, ==, 0);
  g_assert_true (g_file_get_contents (a, &da, &na, NULL));
  g_assert_true (g_file_get_contents (b, &db, &nb, NULL));
  g_assert_cmpmem (da, na, db, nb);
  g_assert_true (na > 8 && memcmp (da, "\x89PNG\r\n\x1a\n", 8) == 0);
  /* IHDR: width and height, big-endian, at bytes 16 and 20 */
  g_assert_cmpint (GUINT32_FROM_BE (*(guint32 *)(da + 16)), ==, 64);
  g_assert_cmpint (GUINT32_FROM_BE (*(guint32 *)(da + 20)), ==, 96);
  g_assert_true (contains (da, na, "parameters"));
  g_assert_true (contains (da, na, "Seed: 7, Size: 64x96"));
  g_assert_true (contains (da, na, "DPM++ 2M Karras"));
}

/* --init-noise and --save-latents reproduce a fixture pipeline's latents. */
static void
test_init_noise_save_latents (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *lin = NULL, *ref = NULL, *noise = NULL, *sched = NULL;
  g_autofree char *out = tmp_path ("n.png"), *lat = tmp_path ("n.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (LfSafetensors) want = NULL, got = NULL;
  g_auto (LfTestRun) run = { 0 };
  const LfStTensor  *w, *g, *n0;
  g_autofree double *wd = NULL;

  if (dir == NULL)
    return;
  lin = g_build_filename (dir, "linfusion", NULL);
  ref = g_build_filename (dir, "ref", "t2i_linfusion_euler.safetensors", NULL);
  noise = g_strdup_printf ("%s:init_noise", ref);
  sched = g_build_filename (dir, "schedulers", "euler", "scheduler_config.json",
                            NULL);
  g_assert_true (lf_test_run_cli (
      &run, "generate", "--model", dir, "--linfusion", lin, "--prompt", PROMPT,
      "--width", "64", "--height", "128", "--steps", "5", "--guidance", "7.5",
      "--scheduler-config", sched, "--init-noise", noise, "--save-latents", lat,
      "-o", out, NULL));
  g_assert_cmpint (run.status, ==, 0);
  want = lf_safetensors_open (ref, &error);
  got = lf_safetensors_open (lat, &error);
  g_assert_no_error (error);
  w = lf_safetensors_lookup (want, "final_latents");
  g = lf_safetensors_lookup (got, "latents");
  n0 = lf_safetensors_lookup (got, "initial_noise");
  g_assert_nonnull (w);
  g_assert_nonnull (g);
  g_assert_nonnull (n0);
  g_assert_cmpmem (n0->data, n0->nbytes,
                   lf_safetensors_lookup (want, "init_noise")->data,
                   lf_safetensors_lookup (want, "init_noise")->nbytes);
  wd = lf_test_alloc_f64 (lf_st_tensor_numel (w));
  for (int64_t i = 0; i < lf_st_tensor_numel (w); i++)
    wd[i] = ((const float *)w->data)[i];
  g_assert_cmpint (lf_st_tensor_numel (g), ==, lf_st_tensor_numel (w));
  lf_test_assert_close_scaled ("saved latents", g->data, wd,
                               lf_st_tensor_numel (w), 1e-3);
}

typedef struct
{
  const char *name;
  const char *args[8]; /* after --model DIR --prompt P -o OUT */
  const char *needle;
} BadCase;

static void
run_bad (const char *model, const BadCase *c)
{
  g_autofree char *out = tmp_path ("bad.png");
  const char *argv[16] = { "--model", model, "--prompt", PROMPT, "-o", out };
  int         n = 6;
  g_auto (LfTestRun) run = { 0 };

  for (int i = 0; c->args[i] != NULL; i++)
    argv[n++] = c->args[i];
  argv[n] = NULL;
  g_assert_true (lf_test_run_cli (
      &run, "generate", argv[0], argv[1], argv[2], argv[3], argv[4], argv[5],
      argv[6], argv[7], argv[8], argv[9], argv[10], argv[11], argv[12], NULL));
  g_test_message ("%s: %s", c->name, run.err);
  lf_test_assert_cli_error (&run, "generate", c->needle);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* A copy of the set whose @omit entry is missing and whose LinFusion config
 * names a module the UNet lacks. */
static char *
broken_copy (const char *dir, const char *omit)
{
  g_autofree char *copy = tmp_path (omit);
  const char      *entries[] = { "model_index.json", "unet",      "vae",
                                 "text_encoder",     "tokenizer", "scheduler" };

  g_mkdir (copy, 0755);
  for (gsize i = 0; i < G_N_ELEMENTS (entries); i++)
    if (!g_str_equal (entries[i], omit))
      {
        g_autofree char *src = g_build_filename (dir, entries[i], NULL);
        g_autofree char *dst = g_build_filename (copy, entries[i], NULL);

        g_assert_cmpint (symlink (src, dst), ==, 0);
      }
  return g_steal_pointer (&copy);
}

static char *
bad_linfusion (const char *dir)
{
  g_autofree char *copy = tmp_path ("linfusion-bad");
  g_autofree char *cfg = NULL, *src = NULL, *dst = NULL, *text = NULL;
  g_autofree char *fixed = NULL;

  g_mkdir (copy, 0755);
  cfg = g_build_filename (dir, "linfusion", "config.json", NULL);
  g_assert_true (g_file_get_contents (cfg, &text, NULL, NULL));
  /* Rename the first module to one the UNet does not have. */
  fixed = g_strdup (text);
  {
    char *at = strstr (fixed, "down_blocks.0");

    g_assert_nonnull (at);
    memcpy (at, "down_blocks.9", 13);
  }
  dst = g_build_filename (copy, "config.json", NULL);
  g_assert_true (g_file_set_contents (dst, fixed, -1, NULL));
  src = g_build_filename (dir, "linfusion",
                          "diffusion_pytorch_model.safetensors", NULL);
  g_free (dst);
  dst = g_build_filename (copy, "diffusion_pytorch_model.safetensors", NULL);
  g_assert_cmpint (symlink (src, dst), ==, 0);
  return g_steal_pointer (&copy);
}

static void
test_bad_input (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *no_tok = NULL, *lin = NULL, *fake = tmp_path ("fake.png");
  g_autofree char *nolin = NULL;
  const BadCase    simple[] = {
       { "width", { "--width", "100", NULL }, "100" },
       { "height", { "--height", "0", NULL }, "multiples of 8" },
       { "steps", { "--steps", "0", NULL }, "Steps" },
       { "strength", { "--strength", "1.5", NULL }, "Strength" },
       { "sampler", { "--sampler", "heun", NULL }, "heun" },
       { "init noise", { "--init-noise", "nothing-here", NULL }, "nothing-here" },
  };

  if (dir == NULL)
    return;
  g_assert_true (g_file_set_contents (fake, "not a png", -1, NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (simple); i++)
    run_bad (dir, &simple[i]);
  {
    const BadCase unreadable
        = { "init image", { "--init-image", fake, NULL }, "fake.png" };

    run_bad (dir, &unreadable);
  }
  no_tok = broken_copy (dir, "tokenizer");
  {
    const BadCase c = { "no tokenizer", { NULL }, "vocab.json" };

    run_bad (no_tok, &c);
  }
  lin = bad_linfusion (dir);
  nolin = g_strdup (lin);
  {
    const BadCase c
        = { "linfusion", { "--linfusion", nolin, NULL }, "down_blocks.9" };

    run_bad (dir, &c);
  }
}

/* Ctrl-C between steps: exit status 130, one line, no output file. */
static void
test_ctrl_c (void)
{
  g_autofree char *dir = lf_test_conformance_dir (SET);
  g_autofree char *out = tmp_path ("cancel.png");
  const char      *exe = g_getenv ("LINFUSION");
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) err = g_string_new (NULL);
  GPid    pid;
  int     fd, status;
  char    buf[256];
  ssize_t got;

  if (dir == NULL || exe == NULL)
    {
      if (dir != NULL)
        g_test_skip ("LINFUSION is not set");
      return;
    }
  {
    const char *argv[]
        = { exe,       "generate", "--model", dir,        "--prompt",
            PROMPT,    "--width",  "64",      "--height", "64",
            "--steps", "400",      "-o",      out,        NULL };

    g_spawn_async_with_pipes (NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL,
                              NULL, &fd, &error);
    g_assert_no_error (error);
  }
  /* Wait for the first step, then interrupt. */
  while (strstr (err->str, "step 2/") == NULL
         && (got = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (err, buf, got);
  kill (pid, SIGINT);
  while ((got = read (fd, buf, sizeof buf)) > 0)
    g_string_append_len (err, buf, got);
  close (fd);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_test_message ("%s", err->str);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 130);
  g_assert_nonnull (strstr (err->str, "linfusion generate: "));
  g_assert_null (strstr (err->str, "step 400/400"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("lf-generate-XXXXXX", NULL);
  g_test_add_func ("/cli/generate/png-and-same-seed", test_png_and_same_seed);
  g_test_add_func ("/cli/generate/init-noise-save-latents",
                   test_init_noise_save_latents);
  g_test_add_func ("/cli/generate/bad-input", test_bad_input);
  g_test_add_func ("/cli/generate/ctrl-c", test_ctrl_c);
  status = g_test_run ();
  lf_test_remove_tree (tmp_dir);
  g_free (tmp_dir);
  return status;
}
