/* lf-test-sink.h: an LfSink that keeps the image in memory and asserts the
 * sink contract (begin once, strips top to bottom without gaps, then
 * finish or abort), and can be told to fail a write. */
#ifndef LF_TEST_SINK_H
#define LF_TEST_SINK_H

#include "linfusion.h"

typedef struct
{
  LfSink   sink;
  guint8  *rgb; /* (height, width, 3) once begun */
  int64_t  width, height;
  int64_t  next_row; /* rows received so far           */
  int      n_writes;
  gboolean begun, finished, aborted;
  int      fail_at_write; /* > 0: that write (1-based) fails */
} LfTestSink;

LfTestSink *lf_test_sink_new (void);
void        lf_test_sink_free (LfTestSink *sink);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LfTestSink, lf_test_sink_free)

#endif /* LF_TEST_SINK_H */
