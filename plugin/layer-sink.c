/* layer-sink.c: the GIMP LfSink (docs/style.md §6). begin inserts a new
 * layer before the first strip, write puts each strip into the layer's
 * GeglBuffer as "R'G'B' u8" (GEGL converts to the layer's gray or high
 * precision format) and flushes it, abort deletes the layer. No full-size
 * copy of the result exists in the plug-in: only the strips in flight. */
#include "config.h"

#include <gegl.h>
#include <glib/gi18n.h>
#include <inttypes.h>
#include <string.h>

#include "layer-sink.h"

/* Strips are whole plug-in tile rows, at most this many bytes each; with two
 * strips in flight (worker.c) the plug-in holds at most 2 × 32 MiB of
 * result, plus GEGL's tile cache, which each flush empties. */
#define STRIP_BYTES_MAX (32 << 20)

#define PARASITE_NAME "linfusion-parameters"

typedef enum
{
  STATE_NEW,
  STATE_OPEN,
  STATE_DONE,
} SinkState;

typedef struct
{
  LfSink        sink;  /* first member: the engine's view */
  GimpImage    *image; /* NULL until begin for a new image */
  GimpDrawable *above;
  char         *name, *parameters;
  gboolean      live, new_image, was_dirty;
  SinkState     state;
  gint          width, height;
  GimpLayer    *layer;
  GeglBuffer   *buffer;
} LayerSink;

static gboolean
libgimp_failed (const char *what, GError **error)
{
  g_set_error (error, GIMP_PLUG_IN_ERROR, 0, "%s: %s", what,
               gimp_pdb_get_last_error (gimp_get_pdb ()));
  return FALSE;
}

/* Where a layer goes so that it is above @above: its parent and index. */
static void
insert_position (GimpImage    *image,
                 GimpDrawable *above,
                 GimpLayer   **parent,
                 gint         *position)
{
  GimpItem *item = GIMP_ITEM (above);

  *parent = NULL;
  *position = 0;
  if (item != NULL && GIMP_IS_LAYER_MASK (item))
    item = GIMP_ITEM (gimp_layer_from_mask (GIMP_LAYER_MASK (item)));
  if (item == NULL || !GIMP_IS_LAYER (item))
    return; /* a channel: the top of the layer stack */
  *parent = (GimpLayer *)gimp_item_get_parent (item);
  *position = gimp_image_get_item_position (image, item);
}

static GimpImageType
layer_type (LayerSink *s)
{
  const gboolean gray = gimp_image_get_base_type (s->image) == GIMP_GRAY;

  /* A new image's only layer is a background; others get alpha, as GIMP's
   * "New Layer" does. */
  if (s->new_image)
    return gray ? GIMP_GRAY_IMAGE : GIMP_RGB_IMAGE;
  return gray ? GIMP_GRAYA_IMAGE : GIMP_RGBA_IMAGE;
}

static gboolean
add_layer (LayerSink *s, GError **error)
{
  GimpLayer *parent;
  gint       position, x = 0, y = 0;

  s->layer = gimp_layer_new (s->image, s->name, s->width, s->height,
                             layer_type (s), 100.0,
                             gimp_image_get_default_new_layer_mode (s->image));
  if (s->layer == NULL)
    return libgimp_failed (_ ("Creating the layer failed"), error);
  insert_position (s->image, s->above, &parent, &position);
  if (!gimp_image_insert_layer (s->image, s->layer, parent, position))
    {
      gimp_item_delete (GIMP_ITEM (s->layer));
      s->layer = NULL;
      return libgimp_failed (_ ("Adding the layer failed"), error);
    }
  if (s->above != NULL)
    gimp_drawable_get_offsets (s->above, &x, &y);
  if ((x != 0 || y != 0) && !gimp_layer_set_offsets (s->layer, x, y))
    return libgimp_failed (_ ("Placing the layer failed"), error);
  s->buffer = gimp_drawable_get_buffer (GIMP_DRAWABLE (s->layer));
  return TRUE;
}

static gboolean
open_image (LayerSink *s, GError **error)
{
  if (s->new_image)
    {
      s->image = gimp_image_new_with_precision (s->width, s->height, GIMP_RGB,
                                                GIMP_PRECISION_U8_NON_LINEAR);
      if (s->image == NULL)
        return libgimp_failed (_ ("Creating the image failed"), error);
      gimp_image_undo_disable (s->image);
    }
  else
    {
      s->was_dirty = gimp_image_is_dirty (s->image);
      gimp_image_undo_group_start (s->image);
    }
  s->state = STATE_OPEN;
  return TRUE;
}

static int64_t
choose_strip_height (int64_t width, int64_t suggested)
{
  const int64_t tile = gimp_tile_height ();
  const int64_t budget = MAX (1, STRIP_BYTES_MAX / (width * 3) / tile);
  const int64_t want = MAX (1, suggested / tile);

  return MIN (want, budget) * tile;
}

static gboolean
sink_begin (LfSink       *sink,
            int64_t       width,
            int64_t       height,
            LfPixelFormat format,
            int64_t      *strip_height,
            GError      **error)
{
  LayerSink *s = (LayerSink *)sink;

  g_return_val_if_fail (s->state == STATE_NEW && format == LF_PIXEL_RGB8,
                        FALSE);
  if (width > GIMP_MAX_IMAGE_SIZE || height > GIMP_MAX_IMAGE_SIZE)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_INVALID_REQUEST,
                   _ ("%" PRId64 "×%" PRId64
                      " pixels is more than GIMP's largest image (%d)"),
                   width, height, GIMP_MAX_IMAGE_SIZE);
      return FALSE;
    }
  s->width = (gint)width;
  s->height = (gint)height;
  *strip_height = choose_strip_height (width, *strip_height);
  return open_image (s, error) && add_layer (s, error);
}

static gboolean
sink_write (LfSink       *sink,
            int64_t       y,
            int64_t       rows,
            const guint8 *pixels,
            size_t        stride,
            GError      **error)
{
  LayerSink *s = (LayerSink *)sink;

  (void)error;
  gegl_buffer_set (s->buffer, GEGL_RECTANGLE (0, (gint)y, s->width, (gint)rows),
                   0, babl_format ("R'G'B' u8"), pixels, (gint)stride);
  /* Sends the band's tiles to the core now, so the plug-in's tile cache
   * never holds the whole layer. */
  gegl_buffer_flush (s->buffer);
  if (s->live)
    {
      gimp_drawable_update (GIMP_DRAWABLE (s->layer), 0, (gint)y, s->width,
                            (gint)rows);
      gimp_displays_flush ();
    }
  return TRUE;
}

static void
attach_parameters (LayerSink *s)
{
  GimpParasite *parasite = gimp_parasite_new (
      PARASITE_NAME, GIMP_PARASITE_PERSISTENT | GIMP_PARASITE_UNDOABLE,
      (guint32)strlen (s->parameters) + 1, s->parameters);

  gimp_item_attach_parasite (GIMP_ITEM (s->layer), parasite);
  gimp_parasite_free (parasite);
}

static gboolean
sink_finish (LfSink *sink, GError **error)
{
  LayerSink *s = (LayerSink *)sink;

  (void)error;
  gegl_buffer_flush (s->buffer);
  g_clear_object (&s->buffer);
  gimp_drawable_update (GIMP_DRAWABLE (s->layer), 0, 0, s->width, s->height);
  attach_parameters (s);
  if (s->new_image)
    gimp_image_undo_enable (s->image);
  else
    gimp_image_undo_group_end (s->image);
  s->state = STATE_DONE;
  return TRUE;
}

static void
sink_abort (LfSink *sink)
{
  LayerSink *s = (LayerSink *)sink;

  if (s->state != STATE_OPEN)
    {
      s->state = STATE_DONE;
      return;
    }
  g_clear_object (&s->buffer);
  if (s->new_image)
    {
      gimp_image_delete (s->image);
      s->image = NULL;
    }
  else
    {
      if (s->layer != NULL)
        gimp_image_remove_layer (s->image, s->layer);
      gimp_image_undo_group_end (s->image);
      /* The undo group is a no-op now; do not leave the image dirty. */
      if (!s->was_dirty)
        gimp_image_clean_all (s->image);
    }
  s->layer = NULL;
  s->state = STATE_DONE;
}

static LayerSink *
sink_new (const char *name, const char *parameters)
{
  LayerSink *s = g_new0 (LayerSink, 1);

  s->sink.begin = sink_begin;
  s->sink.write = sink_write;
  s->sink.finish = sink_finish;
  s->sink.abort = sink_abort;
  s->name = g_strdup (name);
  s->parameters = g_strdup (parameters);
  s->state = STATE_NEW;
  return s;
}

LfSink *
lf_layer_sink_new (GimpImage    *image,
                   GimpDrawable *above,
                   const char   *name,
                   const char   *parameters,
                   gboolean      live)
{
  LayerSink *s = sink_new (name, parameters);

  s->image = image;
  s->above = above;
  s->live = live;
  return &s->sink;
}

LfSink *
lf_image_sink_new (const char *name, const char *parameters)
{
  LayerSink *s = sink_new (name, parameters);

  s->new_image = TRUE;
  return &s->sink;
}

GimpLayer *
lf_layer_sink_get_layer (LfSink *sink)
{
  LayerSink *s = (LayerSink *)sink;

  return s->state == STATE_DONE ? s->layer : NULL;
}

GimpImage *
lf_layer_sink_get_image (LfSink *sink)
{
  LayerSink *s = (LayerSink *)sink;

  return s->state == STATE_DONE && s->layer != NULL ? s->image : NULL;
}

void
lf_layer_sink_free (LfSink *sink)
{
  LayerSink *s = (LayerSink *)sink;

  if (s == NULL)
    return;
  if (s->state == STATE_OPEN)
    sink_abort (sink);
  g_free (s->name);
  g_free (s->parameters);
  g_free (s);
}
