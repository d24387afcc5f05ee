/* test-arena.c: the activation arena reuses the same bytes every step and
 * refuses, with a sized message, what does not fit. */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "linfusion.h"

#include "arena.h"

static void
test_steps_reuse_memory (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = lf_arena_new (1 << 20, &error);
  const int64_t shape[4] = { 2, 4, 16, 8 };
  void         *first[3] = { NULL, NULL, NULL };
  size_t        mark, peak_after_first = 0;

  g_assert_no_error (error);
  g_assert_nonnull (lf_arena_alloc (arena, 100, &error)); /* weights-like */
  mark = lf_arena_mark (arena);
  for (int step = 0; step < 5; step++)
    {
      LfTensor a, b;
      void    *c;

      g_assert_true (
          lf_arena_tensor (arena, LF_DTYPE_F32, 4, shape, &a, &error));
      g_assert_true (
          lf_arena_tensor (arena, LF_DTYPE_F16, 4, shape, &b, &error));
      c = lf_arena_alloc (arena, 3, &error);
      g_assert_no_error (error);
      g_assert_cmpuint ((guintptr)a.data % LF_ARENA_ALIGN, ==, 0);
      g_assert_cmpuint ((guintptr)b.data % LF_ARENA_ALIGN, ==, 0);
      g_assert_cmpuint ((guintptr)c % LF_ARENA_ALIGN, ==, 0);
      g_assert_true ((char *)b.data >= (char *)a.data + lf_tensor_nbytes (&a));
      if (step == 0)
        {
          first[0] = a.data, first[1] = b.data, first[2] = c;
          peak_after_first = lf_arena_peak (arena);
        }
      else
        {
          g_assert_true (a.data == first[0] && b.data == first[1]
                         && c == first[2]);
          g_assert_cmpuint (lf_arena_peak (arena), ==, peak_after_first);
        }
      lf_arena_reset (arena, mark);
      g_assert_cmpuint (lf_arena_used (arena), ==, mark);
    }
}

static void
test_exhaustion_is_an_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LfArena) arena = lf_arena_new (4096, &error);
  const int64_t huge[2]
      = { G_GINT64_CONSTANT (1) << 40, G_GINT64_CONSTANT (1) << 40 };
  LfTensor t;

  g_assert_nonnull (lf_arena_alloc (arena, 4000, &error));
  g_assert_null (lf_arena_alloc (arena, 200, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
  g_assert_nonnull (strstr (error->message, "MiB"));
  g_clear_error (&error);

  g_assert_false (lf_arena_tensor (arena, LF_DTYPE_F32, 2, huge, &t, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
  g_clear_error (&error);

  /* An absurd capacity fails cleanly instead of aborting. */
  g_assert_null (lf_arena_new (G_MAXSIZE / 2, &error));
  g_assert_error (error, LF_ERROR, LF_ERROR_OUT_OF_MEMORY);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/arena/steps-reuse-memory", test_steps_reuse_memory);
  g_test_add_func ("/arena/exhaustion", test_exhaustion_is_an_error);
  return g_test_run ();
}
