// Channel concatenation of NHWC tensors (the PSP head's [conv5, p1, p2, p3, p6]) and its gradient,
// the split:
//   out[n,h,w, offset_i + c] = inputs[i][n,h,w,c],  offset_i = channels of inputs[0..i)
// All inputs share N, H, W, device and dtype (float32 or float64; on CUDA float32 or bfloat16
// storage, copied bit for bit); out has the sum of their channels.
//
// Gradient: split_channels writes (=) every dinputs[i] from dout.
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace pans {

// inputs[i] {N,H,W,C_i} (at least one), out {N,H,W,sum C_i} (=).
void concat_channels(const std::vector<Tensor>& inputs, Tensor& out);
Tensor concat_channels(const std::vector<Tensor>& inputs);

// dout {N,H,W,sum C_i}, dinputs[i] {N,H,W,C_i} (=). The tensors in dinputs are views whose memory
// receives the gradient.
void split_channels(const Tensor& dout, std::vector<Tensor>& dinputs);

}  // namespace pans
