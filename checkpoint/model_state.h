// What a train_pans checkpoint holds of a run, under which names: the model's parameters and running
// statistics by their own names, and each parameter's momentum buffer as "momentum.<name>". The
// trainer writes and restores all of them; evaluation restores the model's alone.
#pragma once

#include <vector>

#include "checkpoint/checkpoint.h"
#include "models/pspnet.h"
#include "optim/sgd.h"

namespace pans {

// The parameters, then the running statistics.
std::vector<NamedTensor> model_tensors(const PspNet& model);

// model_tensors, then the momentum buffers of `optimizer` (which holds the model's parameters in
// their order).
std::vector<NamedTensor> training_state_tensors(const PspNet& model, const SgdOptimizer& optimizer);

// Whether a checkpoint tensor is a momentum buffer rather than part of the model.
bool is_momentum_tensor(const NamedTensor& tensor);

// What a start from pretrained weights took: the destinations restored and those left as they
// were, by name in the destinations' order, and the file's tensors nothing took, in the file's order.
struct PartialRestore {
  std::vector<std::string> loaded, kept, unused;
};

// Copies each of the checkpoint's model tensors into the destination of its name, if there is one
// (any subset: the backbone alone, say); a tensor of a destination's name but another shape is an
// error naming it and `path`. Momentum buffers are never taken (a start from weights starts with no
// momentum) and not counted unused.
PartialRestore restore_matching_tensors(const Checkpoint& checkpoint, const std::vector<NamedTensor>& destinations,
                                        const std::string& path);

}  // namespace pans
