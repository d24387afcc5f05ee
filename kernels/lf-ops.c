/* lf-ops.c: the sticky status every backend records failures in. */
#include "lf-ops.h"

#include <stdarg.h>
#include <stdio.h>

void
lf_ops_fail (LfOps *ops, LfStatus status, const char *fmt, ...)
{
  va_list args;

  if (ops->status != LF_STATUS_OK)
    return;
  ops->status = status;
  va_start (args, fmt);
  vsnprintf (ops->message, sizeof ops->message, fmt, args);
  va_end (args);
}

void
lf_ops_clear (LfOps *ops)
{
  ops->status = LF_STATUS_OK;
  ops->message[0] = '\0';
}
