/* test-catalogs.c: the translations in po/ are complete and usable. For each
 * language of po/LINGUAS:
 *   check    msgfmt --check --check-accelerators=_ passes and reports no
 *            fuzzy or untranslated message;
 *   current  every message xgettext finds in the files of po/POTFILES has a
 *            translation (msgcmp), so a new source string fails until it is
 *            translated (meson compile gimp-linfusion-update-po merges it);
 *   lookup   the built catalog answers at run time, also for the messages
 *            with <inttypes.h> conversions (%<PRId64> in the .po).
 * The gettext programs and the built catalogs come from meson through the
 * environment; a test skips when one is missing.
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <libintl.h>
#include <locale.h>
#include <string.h>

static const char *
env_or_skip (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || *value == '\0')
    {
      g_autofree char *msg = g_strdup_printf ("%s is not set", name);

      g_test_skip (msg);
      return NULL;
    }
  return value;
}

/* Runs @argv; returns its exit status, its stderr in @err. */
static int
run (const char *const *argv, char **err)
{
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     NULL, err, &status, &error))
    g_error ("%s: %s", argv[0], error->message);
  return g_spawn_check_wait_status (status, NULL) ? 0 : 1;
}

static void
test_check (gconstpointer data)
{
  const char      *lang = data;
  const char      *msgfmt = env_or_skip ("LF_MSGFMT");
  const char      *po_dir = g_getenv ("LF_PO_DIR");
  g_autofree char *po = g_strdup_printf ("%s/%s.po", po_dir, lang);
  g_autofree char *err = NULL;
  const char      *argv[] = { msgfmt,
                              "--check",
                              "--check-accelerators=_",
                              "--statistics",
                              "-o",
                              "/dev/null",
                              po,
                              NULL };

  if (msgfmt == NULL)
    return;
  if (run (argv, &err) != 0)
    g_error ("msgfmt --check %s failed:\n%s", po, err);
  g_test_message ("%s: %s", lang, g_strstrip (err));
  g_assert_null (strstr (err, "fuzzy"));
  g_assert_null (strstr (err, "untranslated"));
}

static void
test_current (gconstpointer data)
{
  const char      *lang = data;
  const char      *xgettext = env_or_skip ("LF_XGETTEXT");
  const char      *msgcmp = xgettext ? env_or_skip ("LF_MSGCMP") : NULL;
  const char      *po_dir = g_getenv ("LF_PO_DIR");
  const char      *root = g_getenv ("LF_SOURCE_ROOT");
  g_autofree char *tmp = NULL;
  g_autofree char *pot = NULL;
  g_autofree char *po = g_strdup_printf ("%s/%s.po", po_dir, lang);
  g_autofree char *list = g_strdup_printf ("%s/POTFILES", po_dir);
  g_autofree char *err = NULL;

  if (xgettext == NULL || msgcmp == NULL)
    return;
  tmp = g_dir_make_tmp ("lf-catalogs-XXXXXX", NULL);
  g_assert_nonnull (tmp);
  pot = g_build_filename (tmp, "sources.pot", NULL);
  {
    /* the keywords of po/meson.build (meson's glib preset) */
    const char *argv[] = { xgettext,
                           "--from-code=UTF-8",
                           "-k_",
                           "-kN_",
                           "-kC_:1c,2",
                           "-kNC_:1c,2",
                           "-kngettext:1,2",
                           "-D",
                           root,
                           "-f",
                           list,
                           "-o",
                           pot,
                           NULL };

    if (run (argv, &err) != 0)
      g_error ("xgettext failed:\n%s", err);
  }
  {
    const char *argv[] = { msgcmp, po, pot, NULL };

    g_clear_pointer (&err, g_free);
    if (run (argv, &err) != 0)
      g_error ("%s.po lacks translations of the current sources "
               "(meson compile gimp-linfusion-update-po, then translate):\n%s",
               lang, err);
  }
  g_unlink (pot);
  g_rmdir (tmp);
}

static void
expect_translated (const char *msgid)
{
  const char *got = dgettext (GETTEXT_PACKAGE, msgid);

  if (got == msgid || strcmp (got, msgid) == 0)
    g_error ("“%s” is not translated", msgid);
}

/* Sets a locale in which dgettext answers from @lang's catalog. */
static gboolean
use_locale_for (const char *lang)
{
  g_autofree char *own = NULL;
  const char      *candidates[] = { NULL, "en_US.UTF-8", "C.UTF-8", NULL };

  if (strchr (lang, '_') != NULL)
    own = g_strdup_printf ("%s.UTF-8", lang);
  else
    own = g_strdup_printf ("%s_%c%c.UTF-8", lang, g_ascii_toupper (lang[0]),
                           g_ascii_toupper (lang[1]));
  candidates[0] = own;
  for (const char **c = candidates; *c != NULL; c++)
    if (setlocale (LC_ALL, *c) != NULL
        && strcmp (dgettext (GETTEXT_PACKAGE, "_Steps"), "_Steps") != 0)
      {
        g_test_message ("%s: locale %s", lang, *c);
        return TRUE;
      }
  setlocale (LC_ALL, "C");
  return FALSE;
}

static void
test_lookup (gconstpointer data)
{
  const char      *lang = data;
  const char      *locale_dir = env_or_skip ("LF_LOCALE_BUILD_DIR");
  g_autofree char *mo = NULL;
  const char      *one, *many;

  if (locale_dir == NULL)
    return;
  mo = g_strdup_printf ("%s/%s/LC_MESSAGES/%s.mo", locale_dir, lang,
                        GETTEXT_PACKAGE);
  if (!g_file_test (mo, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("the catalog is not built");
      return;
    }
  /* LANGUAGE picks the catalog, but glibc ignores it in the C locale and,
   * from 2.35, in C.UTF-8 too: take the language's own locale if it is
   * generated, else any that makes the lookup work. */
  g_setenv ("LANGUAGE", lang, TRUE);
  bindtextdomain (GETTEXT_PACKAGE, locale_dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  if (!use_locale_for (lang))
    {
      g_unsetenv ("LANGUAGE");
      g_test_skip ("no locale here in which glibc uses the catalog");
      return;
    }

  /* the messages with <inttypes.h> conversions are the fragile ones */
  expect_translated ("Size %" PRId64 "×%" PRId64
                     " is not possible: width and height must be multiples "
                     "of 8 between 8 and %d");
  expect_translated ("data_offsets [%" PRIu64 ", %" PRIu64 "] begin after end");
  expect_translated ("data is not aligned to its %zu-byte elements");
  one = dngettext (GETTEXT_PACKAGE, "≈ %s, %s on %d thread",
                   "≈ %s, %s on %d threads", 1);
  many = dngettext (GETTEXT_PACKAGE, "≈ %s, %s on %d thread",
                    "≈ %s, %s on %d threads", 2);
  g_assert_cmpstr (one, !=, "≈ %s, %s on %d thread");
  g_assert_cmpstr (many, !=, "≈ %s, %s on %d threads");
  g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "C");
}

static void
test_no_po_dir (void)
{
  g_test_skip ("LF_PO_DIR is not set (run through meson test)");
}

int
main (int argc, char **argv)
{
  g_autofree char *linguas = NULL;
  g_autofree char *path = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray  *langs = g_ptr_array_new_with_free_func (g_free);
  const char *po_dir;
  int         status;

  g_test_init (&argc, &argv, NULL);
  po_dir = g_getenv ("LF_PO_DIR");
  if (po_dir == NULL)
    g_test_add_func ("/catalogs/skip", test_no_po_dir);
  else
    {
      path = g_build_filename (po_dir, "LINGUAS", NULL);
      if (!g_file_get_contents (path, &linguas, NULL, NULL))
        g_error ("cannot read %s", path);
      lines = g_strsplit (linguas, "\n", -1);
    }
  for (char **l = lines; l != NULL && *l != NULL; l++)
    {
      g_auto (GStrv) words = NULL;

      if (g_strstrip (*l)[0] == '#')
        continue;
      words = g_strsplit_set (*l, " \t", -1);
      for (char **w = words; *w != NULL; w++)
        if (**w != '\0')
          g_ptr_array_add (langs, g_strdup (*w));
    }
  for (guint i = 0; i < langs->len; i++)
    {
      const char      *lang = langs->pdata[i];
      g_autofree char *check = g_strdup_printf ("/catalogs/%s/check", lang);
      g_autofree char *current = g_strdup_printf ("/catalogs/%s/current", lang);
      g_autofree char *lookup = g_strdup_printf ("/catalogs/%s/lookup", lang);

      g_test_add_data_func (check, lang, test_check);
      g_test_add_data_func (current, lang, test_current);
      g_test_add_data_func (lookup, lang, test_lookup);
    }
  status = g_test_run ();
  g_ptr_array_unref (langs);
  return status;
}
