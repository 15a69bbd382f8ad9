// torch.optim.SGD with Nesterov momentum over a fixed list of (param, grad) pairs, one momentum
// buffer per parameter, owned here. The learning rate is given per step (from the schedule).
// Each step is kernels/sgd.h's sgd_nesterov_step_all over every pair: on CUDA one fused launch for
// all parameters, on the CPU sgd_nesterov_step on each pair in the order they were added.
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
    PANS_CHECK(params_.empty() || param.device() == params_[0].device(), "SgdOptimizer::add: ", param.describe("param"),
               " is not on ", params_.empty() ? "" : params_[0].device().str(),
               " with the parameters added before (one step updates all of them on one device)");
    params_.push_back(param);
    grads_.push_back(grad);
    momentum_buffers_.push_back(Tensor::zeros(param.shape(), param.dtype(), param.device()));
  }

  void step(double lr) { sgd_nesterov_step_all(params_, grads_, momentum_buffers_, {lr, momentum_, weight_decay_}); }

  void zero_grad() {
    for (Tensor& grad : grads_) grad.zero_();
  }

  std::size_t size() const { return params_.size(); }
  // Views of the buffers in the order of add(), for checkpoints: copy_from() into them restores a state.
  std::vector<Tensor> momentum_buffers() const { return momentum_buffers_; }

 private:
  double momentum_, weight_decay_;
  // Parallel lists, one entry per add(), in the shape sgd_nesterov_step_all takes.
  std::vector<Tensor> params_, grads_, momentum_buffers_;
};

}  // namespace pans
