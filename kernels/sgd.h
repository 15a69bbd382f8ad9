// One step of SGD with Nesterov momentum, exactly torch.optim.SGD(momentum, dampening=0,
// nesterov=True, weight_decay), elementwise over a parameter tensor:
//   d   = grad + weight_decay * param        (skipped when weight_decay is 0, as PyTorch does)
//   buf = momentum * buf + d
//   d   = d + momentum * buf
//   param = param - lr * d
// param (updated in place), grad (read), momentum_buffer (updated in place), all of one shape.
//
// PyTorch sets buf = d on the first step; pans starts from a zero buffer instead, which gives the
// same value: momentum * 0 + d == d exactly (only a zero d may come out as +0 where PyTorch has
// -0, and that sign never changes a later nonzero value).
// The arithmetic runs in the tensor's type with PyTorch's order of operations and the scalars
// rounded to that type, as PyTorch's scalar CPU loop does. Results agree with PyTorch to the last
// bit where neither side fuses a*x + y into one FMA: PyTorch's vectorised CPU loops do, and so
// does the compiler here if the target has FMA (e.g. -march=haswell; the default x86-64 build has
// none).
#pragma once

#include "tensor/tensor.h"

namespace pans {

struct SgdParams {
  double lr = 0.0;
  double momentum = 0.9;
  double weight_decay = 0.0;
};

void sgd_nesterov_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& params);

}  // namespace pans
