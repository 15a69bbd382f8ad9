// A trained network from a train_pans checkpoint (checkpoint/checkpoint.h), ready for evaluation:
// the network is rebuilt from the recipe's "model" fields (checkpoint/recipe.h), then its
// parameters and running statistics are restored by name. The optimizer's momentum buffers, which a
// training checkpoint also holds, are left out.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "models/pspnet.h"

namespace pans {

struct LoadedModel {
  std::unique_ptr<PspNet> model;  // float32 on the requested device
  nlohmann::json recipe;          // the checkpoint's "config"
  std::int64_t iteration = 0;     // training iterations completed
};

// Throws pans::Error naming `checkpoint_path` when it is missing, damaged (read_checkpoint), holds no
// model recipe, or lacks a tensor of the model it describes. `normalization` picks the CUDA
// normalisation layers (layers/norm_activation.h; their tensors are the same either way).
LoadedModel load_model(const std::string& checkpoint_path, Device device,
                       NormImplementation normalization = NormImplementation::Native);

}  // namespace pans
