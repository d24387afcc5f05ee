/* replay-main.c: runs a libFuzzer target over its corpus without libFuzzer,
 * so every `meson test` replays the corpus (libvips fuzz/
 * StandaloneFuzzTargetMain.c does the same). Arguments: files or folders.
 */
#include "config.h"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize            size = 0;
  g_autoptr (GError) error = NULL;

  if (!g_file_get_contents (path, &data, &size, &error))
    {
      fprintf (stderr, "replay: %s\n", error->message);
      return 0;
    }
  LLVMFuzzerTestOneInput ((const uint8_t *)data, size);
  return 1;
}

static int
replay_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  int         n = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_REGULAR))
        n += replay_file (child);
    }
  return n;
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int i = 1; i < argc; i++)
    n += g_file_test (argv[i], G_FILE_TEST_IS_DIR) ? replay_dir (argv[i])
                                                   : replay_file (argv[i]);
  printf ("1..1\n%s 1 - replayed %d inputs\n", n > 0 ? "ok" : "not ok", n);
  return n > 0 ? 0 : 1;
}
