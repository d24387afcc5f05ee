/* lf-test-sink.c: see lf-test-sink.h. */
#include "config.h"

#include <string.h>

#include "lf-test-sink.h"

static gboolean
sink_begin (LfSink       *sink,
            int64_t       width,
            int64_t       height,
            LfPixelFormat format,
            int64_t      *strip_height,
            GError      **error)
{
  LfTestSink *s = (LfTestSink *)sink;

  (void)error;
  g_assert_false (s->begun);
  g_assert_cmpint (format, ==, LF_PIXEL_RGB8);
  g_assert_cmpint (*strip_height, >, 0);
  /* An odd strip height, so the last strip is short. */
  *strip_height = 7;
  s->begun = TRUE;
  s->width = width;
  s->height = height;
  s->rgb = g_malloc0 ((size_t)(width * height * 3));
  return TRUE;
}

static gboolean
sink_write (LfSink       *sink,
            int64_t       y,
            int64_t       rows,
            const guint8 *pixels,
            size_t        stride,
            GError      **error)
{
  LfTestSink *s = (LfTestSink *)sink;

  g_assert_true (s->begun && !s->finished && !s->aborted);
  g_assert_cmpint (y, ==, s->next_row);
  g_assert_cmpint (rows, >, 0);
  g_assert_cmpint (y + rows, <=, s->height);
  g_assert_cmpint (rows, <=, 7);
  if (++s->n_writes == s->fail_at_write)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
      return FALSE;
    }
  for (int64_t r = 0; r < rows; r++)
    memcpy (s->rgb + (y + r) * s->width * 3, pixels + (size_t)r * stride,
            (size_t)(s->width * 3));
  s->next_row += rows;
  return TRUE;
}

static gboolean
sink_finish (LfSink *sink, GError **error)
{
  LfTestSink *s = (LfTestSink *)sink;

  (void)error;
  g_assert_cmpint (s->next_row, ==, s->height);
  s->finished = TRUE;
  return TRUE;
}

static void
sink_abort (LfSink *sink)
{
  LfTestSink *s = (LfTestSink *)sink;

  g_assert_false (s->finished);
  s->aborted = TRUE;
}

LfTestSink *
lf_test_sink_new (void)
{
  LfTestSink *s = g_new0 (LfTestSink, 1);

  s->sink.begin = sink_begin;
  s->sink.write = sink_write;
  s->sink.finish = sink_finish;
  s->sink.abort = sink_abort;
  return s;
}

void
lf_test_sink_free (LfTestSink *s)
{
  if (s == NULL)
    return;
  g_free (s->rgb);
  g_free (s);
}
