// 2-D pooling on NHWC activations, matching PyTorch's nn.MaxPool2d (ceil_mode=False, dilation 1)
// and nn.AdaptiveAvgPool2d.
//
// Max pool (the ResNet stem's 3x3 stride 2 pad 1 by default):
//   y[n,oy,ox,c] = max over ky,kx < k of x[n, oy*s - p + ky, ox*s - p + kx, c]
// with padding treated as -inf, so it is never selected. argmax[n,oy,ox,c] is the flat index
// iy*W + ix of the chosen element; among equal values the first in row-major window order wins,
// and a NaN wins over any number (PyTorch propagates NaN). Output size per axis: (in + 2p - k)/s + 1.
//
// Adaptive average pool: output cell o of out_size covers the input range adaptive_pool_bin(o, in,
// out) = [floor(o*in/out), ceil((o+1)*in/out)) on each axis, and y is the mean over that window.
// Bins overlap when in is not a multiple of out (57 -> 6 gives [0,10) [9,19) ...).
//
// Gradients: every input gradient is written (=); these ops have no parameters.
//
// dtypes: x, y, dy, dx share one, float32 or float64 on the cpu, float32 or bfloat16 storage on
// CUDA (computed in float32 and rounded once to bfloat16 when stored); argmax is int32.
#pragma once

#include <cstdint>

#include "kernels/shared/adaptive_pool_bin.h"
#include "tensor/tensor.h"

namespace pans {

struct MaxPool2dParams {
  int kernel_size = 3;
  int stride = 2;
  int padding = 1;  // at most kernel_size / 2, as in PyTorch, so every window holds an input element
};

std::int64_t max_pool2d_output_size(std::int64_t input_size, const MaxPool2dParams& params);

// x {N,H,W,C}; y {N,Ho,Wo,C} (=) and argmax int32 {N,Ho,Wo,C} (=).
void max_pool2d_forward(const Tensor& x, Tensor& y, Tensor& argmax, const MaxPool2dParams& params = {});

struct MaxPool2dOutput {
  Tensor y;
  Tensor argmax;
};
MaxPool2dOutput max_pool2d_forward(const Tensor& x, const MaxPool2dParams& params = {});

// dx {N,H,W,C} (=): zero except dx[argmax] += dy, summed where windows chose the same element.
void max_pool2d_backward(const Tensor& dy, const Tensor& argmax, Tensor& dx, const MaxPool2dParams& params = {});

// x {N,H,W,C}, y {N,OH,OW,C} (=); the output size is y's.
void adaptive_avg_pool2d_forward(const Tensor& x, Tensor& y);
Tensor adaptive_avg_pool2d_forward(const Tensor& x, std::int64_t out_height, std::int64_t out_width);

// dx {N,H,W,C} (=): each input pixel receives, for every output cell whose bin covers it, that
// cell's dy divided by the cell's bin area.
void adaptive_avg_pool2d_backward(const Tensor& dy, Tensor& dx);

}  // namespace pans
