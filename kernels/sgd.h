// One step of SGD with Nesterov momentum, exactly torch.optim.SGD(momentum, dampening=0,
// nesterov=True, weight_decay), elementwise over a parameter tensor:
//   d   = grad + weight_decay * param        (skipped when weight_decay is 0, as PyTorch does)
//   buf = momentum * buf + d
//   d   = d + momentum * buf
//   param = param - lr * d
// param (updated in place), grad (read), momentum_buffer (updated in place), all of one shape,
// dtype (float32 or float64; CUDA tensors float32 only) and device. The CUDA kernels round every
// operation on its own, as the CPU does, so both devices give identical bits.
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

#include <vector>

#include "tensor/tensor.h"

namespace pans {

struct SgdParams {
  double lr = 0.0;
  double momentum = 0.9;
  double weight_decay = 0.0;
};

void sgd_nesterov_step(Tensor& param, const Tensor& grad, Tensor& momentum_buffer, const SgdParams& params);

// sgd_nesterov_step on every (params[i], grads[i], momentum_buffers[i]), with the same results bit
// for bit. All tensors on one device; every triple is checked before any is updated. On the CPU it
// is the loop over the triples; on CUDA one fused kernel launch steps them all. No two of the
// tensors may share memory.
void sgd_nesterov_step_all(std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                           std::vector<Tensor>& momentum_buffers, const SgdParams& params_of_step);

}  // namespace pans
