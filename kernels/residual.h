// The end of a ResNet block: the residual add followed by leaky ReLU
// (docs/method.md#backbone-resnet-50-d8),
//   out = leaky_relu(branch + shortcut, slope),   slope > 0 (0.01 in the model).
// All tensors share one shape and dtype (float32 or float64; CUDA tensors float32 or bfloat16
// storage) and one device; activations are {N,H,W,C}. CPU and CUDA float32 results are identical
// bit for bit; bfloat16 tensors get the float32 result rounded to bfloat16 (nearest even).
//
// Backward needs only the output: out >= 0 exactly where branch + shortcut >= 0 (slope > 0), so
//   d = dout where out >= 0, slope * dout elsewhere,
// is the gradient with respect to BOTH inputs. It is written (=) once; the caller passes it on to
// both the branch and the shortcut path.
#pragma once

#include "tensor/tensor.h"

namespace pans {

// out (=) may be the same tensor as branch or shortcut (in place).
void residual_add_leaky_forward(const Tensor& branch, const Tensor& shortcut, Tensor& out, double slope = 0.01);

// dbranch_and_shortcut (=) from the forward output and its gradient; it may be the same tensor as dout.
void residual_add_leaky_backward(const Tensor& out, const Tensor& dout, Tensor& dbranch_and_shortcut,
                                 double slope = 0.01);

}  // namespace pans
