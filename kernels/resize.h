// Bilinear resize of NHWC activations, matching PyTorch's
// F.interpolate(x, size=(OH, OW), mode='bilinear', align_corners=False), the upsampling of the PSP
// pyramid branches and of the logits to the input size.
//
// Per axis, output index dst reads the two source taps of bilinear_tap(dst, in, out):
//   scale = in / out (float division in the accumulation type T)
//   src   = max(scale * (dst + 0.5) - 0.5, 0),  i0 = floor(src),  i1 = i0 + (i0 < in - 1 ? 1 : 0)
//   lambda1 = src - i0,  lambda0 = 1 - lambda1
// and the value is, in this order of operations (PyTorch's CUDA kernel, for bit-equal results):
//   y = h0lambda * (w0lambda * x[h0][w0] + w1lambda * x[h0][w1])
//     + h1lambda * (w0lambda * x[h1][w0] + w1lambda * x[h1][w1])
// Equal input and output sizes copy x.
//
// Gradient: dx is written (=); each input pixel receives the sum over the outputs that read it of
// (its weight) * dy.
//
// dtypes: x, y (dy, dx) share one, float32 or float64 on the cpu, float32 or bfloat16 storage on
// CUDA (computed in float32 and rounded once to bfloat16 when stored).
#pragma once

#include <cstdint>

#include "kernels/shared/bilinear_tap.h"
#include "tensor/tensor.h"

namespace pans {

// x {N,H,W,C}, y {N,OH,OW,C} (=); the output size is y's.
void resize_bilinear_forward(const Tensor& x, Tensor& y);
Tensor resize_bilinear_forward(const Tensor& x, std::int64_t out_height, std::int64_t out_width);

// dx {N,H,W,C} (=) from dy {N,OH,OW,C}.
void resize_bilinear_backward(const Tensor& dy, Tensor& dx);

}  // namespace pans
