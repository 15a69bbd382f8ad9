// Where two paths of the network meet in backward, their gradients add: a block input feeds both
// conv1 and the shortcut, the PSP head's input feeds the concat and every pyramid branch, the
// layer3 output feeds layer4 and the deep-supervision branch.
#pragma once

#include "tensor/tensor.h"

namespace pans {

// sum += addend, elementwise; one shape, dtype and device. Runs on every device through the
// residual op with slope 1 (kernels/residual.h): a leaky ReLU with slope 1 is the identity, so
// residual_add_leaky_forward(sum, addend, sum, 1) computes exactly sum + addend, in place.
void add_into(Tensor& sum, const Tensor& addend);

}  // namespace pans
