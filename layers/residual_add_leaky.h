// ResidualAddLeaky: the end of a bottleneck, out = leaky_relu(branch + shortcut, 0.01)
// (kernels/residual.h).
//
// forward:  out (=), a new tensor: it cannot overwrite the branch (bn3's saved output) nor the
//           shortcut (the block input, saved by conv1, or proj_bn's saved output). Saves out,
//           which the next block's convolutions also save as their input.
// backward: d (=), the gradient with respect to both inputs, into the caller's d, which may be
//           dout itself. Releases the saved output.
#pragma once

#include "tensor/tensor.h"

namespace pans {

class ResidualAddLeaky {
 public:
  Tensor forward(const Tensor& branch, const Tensor& shortcut);
  void backward(const Tensor& dout, Tensor& d);

 private:
  Tensor output_;
};

}  // namespace pans
