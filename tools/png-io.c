/* png-io.c: libpng reading and writing for the CLI (see png-io.h). libpng
 * reports errors by longjmp; every entry point here sets its jump target
 * and turns the message into a GError. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "png-io.h"

typedef struct
{
  jmp_buf jump;
  char    message[256];
} PngError;

static void
on_png_error (png_structp png, png_const_charp msg)
{
  PngError *e = png_get_error_ptr (png);

  g_strlcpy (e->message, msg, sizeof e->message);
  longjmp (e->jump, 1);
}

static void
on_png_warning (png_structp png, png_const_charp msg)
{
  (void)png;
  (void)msg;
}

static guint8 *
read_rows (png_structp png,
           png_infop   info,
           const char *path,
           int64_t    *width,
           int64_t    *height,
           GError    **error)
{
  const int64_t w = png_get_image_width (png, info);
  const int64_t h = png_get_image_height (png, info);
  guint8       *rgb;
  png_bytep    *rows;

  if (w <= 0 || h <= 0 || w > (1 << 20) || h > (1 << 20))
    {
      g_set_error (
          error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
          _ ("“%s” is %" PRId64 "×%" PRId64 " pixels, which is not supported"),
          path, w, h);
      return NULL;
    }
  png_set_expand (png);   /* palette, low-bit gray, tRNS */
  png_set_scale_16 (png); /* 16 → 8 bits with rounding    */
  png_set_gray_to_rgb (png);
  png_set_strip_alpha (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  rgb = g_malloc ((size_t)(w * h * 3));
  rows = g_new (png_bytep, h);
  for (int64_t y = 0; y < h; y++)
    rows[y] = rgb + y * w * 3;
  png_read_image (png, rows);
  png_read_end (png, NULL);
  g_free (rows);
  *width = w;
  *height = h;
  return rgb;
}

guint8 *
lf_png_read_rgb8 (const char *path,
                  int64_t    *width,
                  int64_t    *height,
                  GError    **error)
{
  FILE *volatile fp = g_fopen (path, "rb");
  guint8 *volatile rgb = NULL;
  png_structp png;
  png_infop   info;
  PngError    e = { 0 };
  guint8      sig[8];

  if (fp == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO, _ ("Cannot open “%s”: %s"),
                   path, g_strerror (errno));
      return NULL;
    }
  if (fread (sig, 1, 8, fp) != 8 || png_sig_cmp (sig, 0, 8) != 0)
    {
      fclose (fp);
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a PNG image"), path);
      return NULL;
    }
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &e, on_png_error,
                                on_png_warning);
  info = png_create_info_struct (png);
  if (setjmp (e.jump))
    {
      g_free (rgb);
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("“%s” is not a readable PNG image: %s"), path, e.message);
      rgb = NULL;
    }
  else
    {
      png_init_io (png, fp);
      png_set_sig_bytes (png, 8);
      png_read_info (png, info);
      rgb = read_rows (png, info, path, width, height, error);
    }
  png_destroy_read_struct (&png, &info, NULL);
  fclose (fp);
  return rgb;
}

typedef struct
{
  LfSink      sink;
  char       *path, *tmp_path, *parameters;
  FILE       *fp;
  png_structp png;
  png_infop   info;
  PngError    e;
} PngSink;

static gboolean
png_fail (PngSink *s, GError **error)
{
  g_set_error (error, LF_ERROR, LF_ERROR_IO, _ ("Writing “%s”: %s"), s->path,
               s->e.message);
  return FALSE;
}

static gboolean
sink_begin (LfSink       *sink,
            int64_t       width,
            int64_t       height,
            LfPixelFormat format,
            int64_t      *strip_height,
            GError      **error)
{
  PngSink         *s = (PngSink *)sink;
  g_autofree char *dir = g_path_get_dirname (s->path);
  int              fd;
  png_text         text;

  g_return_val_if_fail (format == LF_PIXEL_RGB8, FALSE);
  s->tmp_path = g_build_filename (dir, ".linfusion-XXXXXX.png", NULL);
  fd = g_mkstemp_full (s->tmp_path, O_WRONLY, 0666);
  if (fd < 0 || (s->fp = fdopen (fd, "wb")) == NULL)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_IO,
                   _ ("Cannot create a file next to “%s”: %s"), s->path,
                   g_strerror (errno));
      g_clear_pointer (&s->tmp_path, g_free);
      return FALSE;
    }
  s->png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &s->e, on_png_error,
                                    on_png_warning);
  s->info = png_create_info_struct (s->png);
  if (setjmp (s->e.jump))
    return png_fail (s, error);
  png_init_io (s->png, s->fp);
  png_set_IHDR (s->png, s->info, (png_uint_32)width, (png_uint_32)height, 8,
                PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  memset (&text, 0, sizeof text);
  text.compression = PNG_TEXT_COMPRESSION_NONE;
  text.key = "parameters";
  text.text = s->parameters;
  text.text_length = strlen (s->parameters);
  png_set_text (s->png, s->info, &text, 1);
  png_write_info (s->png, s->info);
  (void)strip_height; /* PNG takes rows in any batch: keep the engine's */
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
  PngSink *s = (PngSink *)sink;

  (void)y;
  if (setjmp (s->e.jump))
    return png_fail (s, error);
  for (int64_t r = 0; r < rows; r++)
    png_write_row (s->png, pixels + (size_t)r * stride);
  return TRUE;
}

static void
close_png (PngSink *s)
{
  if (s->png != NULL)
    png_destroy_write_struct (&s->png, &s->info);
  if (s->fp != NULL)
    fclose (s->fp);
  s->fp = NULL;
}

static gboolean
sink_finish (LfSink *sink, GError **error)
{
  PngSink *s = (PngSink *)sink;

  if (setjmp (s->e.jump))
    return png_fail (s, error);
  png_write_end (s->png, NULL);
  png_destroy_write_struct (&s->png, &s->info);
  if (fclose (s->fp) != 0 || g_rename (s->tmp_path, s->path) != 0)
    {
      s->fp = NULL;
      g_set_error (error, LF_ERROR, LF_ERROR_IO, _ ("Writing “%s”: %s"),
                   s->path, g_strerror (errno));
      return FALSE;
    }
  s->fp = NULL;
  g_clear_pointer (&s->tmp_path, g_free);
  return TRUE;
}

static void
sink_abort (LfSink *sink)
{
  PngSink *s = (PngSink *)sink;

  close_png (s);
  if (s->tmp_path != NULL)
    g_unlink (s->tmp_path);
  g_clear_pointer (&s->tmp_path, g_free);
}

LfSink *
lf_png_sink_new (const char *path, const char *parameters)
{
  PngSink *s = g_new0 (PngSink, 1);

  s->sink.begin = sink_begin;
  s->sink.write = sink_write;
  s->sink.finish = sink_finish;
  s->sink.abort = sink_abort;
  s->path = g_strdup (path);
  s->parameters = g_strdup (parameters);
  return &s->sink;
}

void
lf_png_sink_free (LfSink *sink)
{
  PngSink *s = (PngSink *)sink;

  if (s == NULL)
    return;
  sink_abort (sink);
  g_free (s->path);
  g_free (s->parameters);
  g_free (s);
}
