// 2-D convolution (cross-correlation, as in every DL framework), NHWC activations and
// {out, kh, kw, in} weights:
//   y[n,oy,ox,co] = bias[co] + sum_{ky,kx,ci} x[n, oy*s - p + ky*d, ox*s - p + kx*d, ci] * w[co,ky,kx,ci]
// with zeros outside the input. Output size per axis: (in + 2p - d(k-1) - 1) / s + 1.
//
// Gradients: the input gradient is written (=); the weight and bias gradients accumulate (+=), so
// a parameter used twice, or gradients over several micro-batches, add up.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace pans {

struct Conv2dParams {
  int stride = 1;
  int padding = 0;
  int dilation = 1;
};

std::int64_t conv2d_output_size(std::int64_t input_size, std::int64_t kernel_size, const Conv2dParams& params);

// x {N,H,W,Cin}, w {Cout,KH,KW,Cin}, bias {Cout} or undefined, y {N,Ho,Wo,Cout} (=).
void conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y, const Conv2dParams& params);
Tensor conv2d_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& params);

// dx {N,H,W,Cin} (=) from dy {N,Ho,Wo,Cout} and w.
void conv2d_backward_input(const Tensor& dy, const Tensor& w, Tensor& dx, const Conv2dParams& params);

// dw {Cout,KH,KW,Cin} (+=) and, if defined, dbias {Cout} (+=) from dy and the forward input x.
void conv2d_backward_weight(const Tensor& dy, const Tensor& x, Tensor& dw, Tensor& dbias, const Conv2dParams& params);

}  // namespace pans
