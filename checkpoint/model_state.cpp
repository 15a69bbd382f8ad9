#include "checkpoint/model_state.h"

#include <string>

namespace pans {
namespace {

constexpr const char* kMomentumPrefix = "momentum.";

}  // namespace

std::vector<NamedTensor> model_tensors(const PspNet& model) {
  std::vector<NamedTensor> tensors;
  for (const Parameter& p : model.parameters()) tensors.push_back({p.name, p.value});
  for (const Buffer& b : model.buffers()) tensors.push_back({b.name, b.value});
  return tensors;
}

std::vector<NamedTensor> training_state_tensors(const PspNet& model, const SgdOptimizer& optimizer) {
  std::vector<NamedTensor> tensors = model_tensors(model);
  const std::vector<Parameter> parameters = model.parameters();
  const std::vector<Tensor> momentum = optimizer.momentum_buffers();
  for (std::size_t i = 0; i < momentum.size(); ++i)
    tensors.push_back({kMomentumPrefix + parameters[i].name, momentum[i]});
  return tensors;
}

bool is_momentum_tensor(const NamedTensor& tensor) { return tensor.name.rfind(kMomentumPrefix, 0) == 0; }

}  // namespace pans
