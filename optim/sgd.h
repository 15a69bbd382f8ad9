// torch.optim.SGD with Nesterov momentum over a fixed list of (param, grad) pairs, one momentum
// buffer per parameter, owned here. The learning rate is given per step (from the schedule).
// Each step is kernels/sgd.h's sgd_nesterov_step on every pair, in the order they were added.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/sgd.h"
#include "tensor/tensor.h"

namespace pans {

class SgdOptimizer {
 public:
  SgdOptimizer(double momentum, double weight_decay) : momentum_(momentum), weight_decay_(weight_decay) {
    PANS_CHECK(momentum > 0 && momentum < 1 && weight_decay >= 0, "SgdOptimizer: invalid momentum ", momentum,
               ", weight_decay ", weight_decay);
  }

  // param and grad are shared views: the optimizer updates the caller's parameter memory and reads
  // the gradients the backward pass accumulates into. The momentum buffer starts at zero.
  void add(const Tensor& param, const Tensor& grad) {
    PANS_CHECK(param.defined() && grad.defined() && param.same_shape(grad) && param.dtype() == grad.dtype() &&
                   param.device() == grad.device(),
               "SgdOptimizer::add: ", grad.describe("grad"), " must match ", param.describe("param"));
    slots_.push_back({param, grad, Tensor::zeros(param.shape(), param.dtype(), param.device())});
  }

  void step(double lr) {
    const SgdParams params{lr, momentum_, weight_decay_};
    for (Slot& slot : slots_) sgd_nesterov_step(slot.param, slot.grad, slot.momentum_buffer, params);
  }

  void zero_grad() {
    for (Slot& slot : slots_) slot.grad.zero_();
  }

  std::size_t size() const { return slots_.size(); }
  // Views of the buffers in the order of add(), for checkpoints: copy_from() into them restores a state.
  std::vector<Tensor> momentum_buffers() const {
    std::vector<Tensor> buffers;
    for (const Slot& slot : slots_) buffers.push_back(slot.momentum_buffer);
    return buffers;
  }

 private:
  struct Slot {
    Tensor param, grad, momentum_buffer;
  };
  double momentum_, weight_decay_;
  std::vector<Slot> slots_;
};

}  // namespace pans
