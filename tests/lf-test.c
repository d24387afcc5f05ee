/* lf-test.c: see lf-test.h. */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cpu-ops.h"
#include "lf-test.h"

float *
lf_test_alloc_f32 (int64_t n)
{
  return g_new (float, MAX (n, 1));
}

double *
lf_test_alloc_f64 (int64_t n)
{
  return g_new (double, MAX (n, 1));
}

void
lf_test_fill_uniform (float *x, int64_t n, double lo, double hi)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = (float)g_test_rand_double_range (lo, hi);
}

void
lf_test_poison (float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = NAN;
}

double
lf_test_max_abs (const double *x, int64_t n)
{
  double m = 0.0;

  for (int64_t i = 0; i < n; i++)
    m = MAX (m, fabs (x[i]));
  return m;
}

void
lf_test_assert_close (const char   *what,
                      const float  *got,
                      const double *ref,
                      int64_t       n,
                      double        rtol,
                      double        atol)
{
  int64_t first_bad = -1;
  double  max_abs = 0.0, max_rel = 0.0;

  for (int64_t i = 0; i < n; i++)
    {
      const double d = fabs ((double)got[i] - ref[i]);

      if (isnan (got[i]) || isnan (d) || d > atol + rtol * fabs (ref[i]))
        if (first_bad < 0)
          first_bad = i;
      if (!isnan (d))
        {
          max_abs = MAX (max_abs, d);
          if (ref[i] != 0.0)
            max_rel = MAX (max_rel, d / fabs (ref[i]));
        }
    }
  if (first_bad >= 0)
    {
      g_test_message ("%s: mismatch at %" G_GINT64_FORMAT
                      " of %" G_GINT64_FORMAT
                      ": got %.9g, expected %.9g (rtol %g, atol %g); "
                      "max abs err %.3g, max rel err %.3g",
                      what, first_bad, n, (double)got[first_bad],
                      ref[first_bad], rtol, atol, max_abs, max_rel);
      g_test_fail_printf ("%s: %" G_GINT64_FORMAT " differs: got %.9g, "
                          "expected %.9g",
                          what, first_bad, (double)got[first_bad],
                          ref[first_bad]);
    }
}

void
lf_test_assert_close_scaled (const char   *what,
                             const float  *got,
                             const double *ref,
                             int64_t       n,
                             double        rtol)
{
  double err = 0.0, scale = lf_test_max_abs (ref, n);

  for (int64_t i = 0; i < n; i++)
    err = MAX (err, fabs ((double)got[i] - ref[i]));
  /* The margin is part of the result: TAP shows it with --verbose. */
  g_test_message ("%s: max |diff| %.3g, max |ref| %.3g (%.2g relative)", what,
                  err, scale, scale > 0.0 ? err / scale : err);
  lf_test_assert_close (what, got, ref, n, rtol,
                        rtol * lf_test_max_abs (ref, n));
}

LfOps *
lf_test_cpu_ops_new (int n_threads, size_t scratch_bytes)
{
  LfOps *ops = g_new0 (LfOps, 1);
  void  *scratch = NULL;

  lf_cpu_ops_init (ops, n_threads);
  if (scratch_bytes == 0)
    scratch_bytes = lf_cpu_ops_scratch_hint (n_threads);
  g_assert_cmpint (posix_memalign (&scratch, 64, scratch_bytes), ==, 0);
  ops->scratch = scratch;
  ops->scratch_bytes = scratch_bytes;
  return ops;
}

void
lf_test_cpu_ops_free (LfOps *ops)
{
  if (ops == NULL)
    return;
  free (ops->scratch);
  g_free (ops);
}

void
lf_test_assert_ops_ok (LfOps *ops)
{
  if (ops->status != LF_STATUS_OK)
    g_test_fail_printf ("op failed (status %d): %s", (int)ops->status,
                        ops->message);
}

char *
lf_test_data_path (const char *name)
{
  const char *dir = g_getenv ("LF_TEST_DATA_DIR");

  return g_build_filename (dir != NULL && *dir != '\0' ? dir : LF_TEST_DATA_DIR,
                           name, NULL);
}

char *
lf_test_conformance_dir (const char *set)
{
  const char *root = g_getenv ("LF_CONFORMANCE_DIR");
  char       *dir;

  if (root == NULL || *root == '\0')
    root = LF_TEST_CONFORMANCE_DIR;
  dir = g_build_filename (root, set, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *msg = g_strdup_printf (
          "conformance set %s not found (set LF_CONFORMANCE_DIR)", dir);
      g_test_skip (msg);
      g_free (dir);
      return NULL;
    }
  return dir;
}

void
lf_test_run_clear (LfTestRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

gboolean
lf_test_run_cli (LfTestRun *run, const char *command, ...)
{
  const char *exe = g_getenv ("LINFUSION");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int         wait_status = 0;
  const char *arg;
  va_list     args;

  if (exe == NULL)
    {
      g_test_skip ("LINFUSION is not set (run through meson test)");
      return FALSE;
    }
  g_ptr_array_add (argv, (char *)exe);
  g_ptr_array_add (argv, (char *)command);
  va_start (args, command);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (char *)arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                &run->out, &run->err, &wait_status, &error);
  g_assert_no_error (error);
  g_test_message ("linfusion %s: status %d\n%s%s", command, wait_status,
                  run->out, run->err);
  g_assert_false (WIFSIGNALED (wait_status));
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  return TRUE;
}

void
lf_test_assert_cli_error (const LfTestRun *run,
                          const char      *command,
                          const char      *needle)
{
  g_autofree char *prefix = g_strdup_printf ("linfusion %s: ", command);

  g_assert_cmpint (run->status, ==, 1);
  g_assert_cmpstr (run->out, ==, "");
  g_assert_true (g_str_has_prefix (run->err, prefix));
  /* Exactly one line: a single newline, at the end. */
  g_assert_true (g_str_has_suffix (run->err, "\n"));
  g_assert_true (strchr (run->err, '\n') == run->err + strlen (run->err) - 1);
  g_assert_nonnull (strstr (run->err, needle));
}

void
lf_test_remove_tree (const char *path)
{
  GDir       *dir;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_SYMLINK)
      && g_file_test (path, G_FILE_TEST_IS_DIR)
      && (dir = g_dir_open (path, 0, NULL)) != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          lf_test_remove_tree (child);
        }
      g_dir_close (dir);
      g_rmdir (path);
    }
  else
    g_remove (path);
}
