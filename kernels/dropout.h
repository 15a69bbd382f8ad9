// Dropout2d (channel dropout, as torch.nn.Dropout2d): each channel of each image is dropped whole
// with probability p, and kept channels are scaled by 1/(1 - p) so the expectation is unchanged:
//   y[n,h,w,c] = x[n,h,w,c] * mask[n,c],   mask[n,c] = 0 (dropped) or 1/(1 - p) (kept),
// i.e. noise of shape (N,1,1,C) in NHWC. Channel (n,c) is dropped iff
//   philox_uniform(seed, stream, n*C + c) < p            (tensor/philox.h),
// so a CUDA kernel with any thread mapping draws the identical mask (the comparison is in double: a
// kernel must not round p to float first). 0 <= p < 1; p = 0 keeps every channel.
//
// x, y, dy, dx are {N,H,W,C}, mask is {N,C}; all share one dtype (float32 or float64; CUDA
// tensors float32) and one device; CPU and CUDA masks and outputs are identical. Mixed precision:
// on CUDA, x, y (and dy, dx) may be bfloat16 storage beside a float32 mask (the mask itself is
// float32 only), the product taken in float32 and rounded once to bfloat16. The mask, y and dx
// are written (=).
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace pans {

void dropout2d_mask(Tensor& mask, double p, std::uint64_t seed, std::uint64_t stream);

// y (=) may be the same tensor as x.
void dropout2d_forward(const Tensor& x, const Tensor& mask, Tensor& y);

// dx (=) may be the same tensor as dy.
void dropout2d_backward(const Tensor& dy, const Tensor& mask, Tensor& dx);

}  // namespace pans
