/* test-bad-model-files.c: `linfusion inspect` on malformed model files and
 * folders: exit status 1, exactly one line on stderr naming the file and
 * the problem, and never a crash (the engine runs inside GIMP).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "lf-test-model.h"
#include "lf-test.h"

static char *tmp;

typedef struct
{
  const char *file;   /* under tmp; NULL entries are built by hand   */
  const char *header; /* raw safetensors header                       */
  gsize       data_len;
  const char *word; /* what the message must say about the problem */
} BadFile;

/* clang-format off */
static const BadFile bad_files[] = {
  { "overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap" },
  { "out-of-range.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "past" },
  { "unknown-dtype.safetensors", "{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "dtype" },
  { "shape-mismatch.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,20]}}", 20, "bytes" },
  { "invalid-json.safetensors", "{\"a\":{\"dtype\":", 0, "JSON" },
};
/* clang-format on */

static void
run_inspect (const char *path, const char *name, const char *word)
{
  g_auto (LfTestRun) run = { 0 };

  if (!lf_test_run_cli (&run, "inspect", path, NULL))
    return;
  lf_test_assert_cli_error (&run, "inspect", name);
  g_assert_nonnull (strstr (run.err, word));
}

static void
test_bad_headers (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autoptr (GBytes) bytes
          = lf_test_st_raw (bad_files[i].header, bad_files[i].data_len);
      g_autofree char *path
          = lf_test_write_file (tmp, bad_files[i].file, bytes);

      run_inspect (path, bad_files[i].file, bad_files[i].word);
    }
}

static void
test_bad_lengths (void)
{
  const float   x[8] = { 0 };
  const int64_t shape[1] = { 8 };
  LfTestSt     *w = lf_test_st_new ();
  g_autoptr (GBytes) valid = NULL;
  g_autoptr (GBytes) cut = NULL;
  g_autoptr (GBytes) past = NULL;
  g_autofree char *cut_path = NULL;
  g_autofree char *past_path = NULL;
  guint8           lie[16] = { 0xe8, 0x03, 0, 0, 0, 0, 0, 0, '{', '}' };

  lf_test_st_add (w, "x", "F32", 1, shape, x, sizeof x);
  valid = lf_test_st_finish (w);
  cut = g_bytes_new_from_bytes (valid, 0, g_bytes_get_size (valid) - 9);
  cut_path = lf_test_write_file (tmp, "truncated.safetensors", cut);
  run_inspect (cut_path, "truncated.safetensors", "past");
  past = g_bytes_new (lie, 10); /* header length 1000 in a 10-byte file */
  past_path = lf_test_write_file (tmp, "header-past-end.safetensors", past);
  run_inspect (past_path, "header-past-end.safetensors", "header length");
}

static void
test_bad_folders (void)
{
  g_autofree char *pipe = g_build_filename (tmp, "pipe", NULL);
  g_autofree char *unet = g_build_filename (pipe, "unet", NULL);
  g_autofree char *index = g_build_filename (pipe, "model_index.json", NULL);
  g_autofree char *missing = g_build_filename (tmp, "no-such-model", NULL);

  g_mkdir_with_parents (unet, 0700);
  g_assert_true (g_file_set_contents (
      index, "{\"unet\": [\"diffusers\", \"UNet2DConditionModel\"]}", -1,
      NULL));
  run_inspect (pipe, "pipe/unet/config.json", "missing");
  run_inspect (missing, "no-such-model", "no such");
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp = g_dir_make_tmp ("lf-bad-XXXXXX", NULL);
  g_test_add_func ("/cli/bad-model-files/headers", test_bad_headers);
  g_test_add_func ("/cli/bad-model-files/lengths", test_bad_lengths);
  g_test_add_func ("/cli/bad-model-files/folders", test_bad_folders);
  rc = g_test_run ();
  lf_test_remove_tree (tmp);
  g_free (tmp);
  return rc;
}
