#include "checkpoint/model_state.h"

#include <map>
#include <set>
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

PartialRestore restore_matching_tensors(const Checkpoint& checkpoint, const std::vector<NamedTensor>& destinations,
                                        const std::string& path) {
  std::map<std::string, const NamedTensor*> destination_of;
  for (const NamedTensor& destination : destinations) destination_of[destination.name] = &destination;
  PartialRestore restore;
  std::set<std::string> taken;
  for (const NamedTensor& stored : checkpoint.tensors) {
    if (is_momentum_tensor(stored)) continue;
    const auto found = destination_of.find(stored.name);
    if (found == destination_of.end()) {
      restore.unused.push_back(stored.name);
      continue;
    }
    Tensor target = found->second->value;
    PANS_CHECK(stored.value.same_shape(target), path, ": ", stored.value.describe(stored.name), " in the file, ",
               target.describe(stored.name), " in the model");
    target.copy_from(stored.value);
    taken.insert(stored.name);
  }
  for (const NamedTensor& destination : destinations)
    (taken.count(destination.name) ? restore.loaded : restore.kept).push_back(destination.name);
  return restore;
}

}  // namespace pans
