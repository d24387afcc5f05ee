/* ref-conv2d.c: naive double reference of conv2d (lf-ops.h), the direct
 * sum of torch.nn.functional.conv2d with zero padding and groups 1.
 */
#include "config.h"

#include "ref-gemm-ops.h"

static double
conv_one (const LfTensor       *x,
          const LfTensor       *w,
          const LfConv2dParams *p,
          int64_t               b,
          int64_t               co,
          int64_t               oh,
          int64_t               ow)
{
  const float  *xd = x->data, *wd = w->data;
  const int64_t C_in = x->shape[1], H = x->shape[2], W = x->shape[3];
  const int64_t KH = w->shape[2], KW = w->shape[3];
  double        acc = 0.0;

  for (int64_t ci = 0; ci < C_in; ci++)
    for (int64_t kh = 0; kh < KH; kh++)
      for (int64_t kw = 0; kw < KW; kw++)
        {
          const int64_t ih = oh * p->stride - p->pad_top + kh * p->dilation;
          const int64_t iw = ow * p->stride - p->pad_left + kw * p->dilation;

          if (ih < 0 || ih >= H || iw < 0 || iw >= W)
            continue; /* zero padding */
          acc += (double)xd[((b * C_in + ci) * H + ih) * W + iw]
                 * wd[((co * C_in + ci) * KH + kh) * KW + kw];
        }
  return acc;
}

void
lf_ref_conv2d (const LfTensor       *x,
               const LfTensor       *w,
               const LfTensor       *b,
               const LfConv2dParams *p,
               int64_t               H_out,
               int64_t               W_out,
               double               *y)
{
  const int64_t B = x->shape[0], C_out = w->shape[0];

  for (int64_t bi = 0; bi < B; bi++)
    for (int64_t co = 0; co < C_out; co++)
      for (int64_t oh = 0; oh < H_out; oh++)
        for (int64_t ow = 0; ow < W_out; ow++)
          *y++ = (b != NULL ? ((const float *)b->data)[co] : 0.0)
                 + conv_one (x, w, p, bi, co, oh, ow);
}
