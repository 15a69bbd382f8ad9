#include "eval/model_loading.h"

#include <algorithm>

#include "checkpoint/checkpoint.h"
#include "checkpoint/model_state.h"
#include "checkpoint/recipe.h"

namespace pans {

LoadedModel load_model(const std::string& checkpoint_path, Device device, NormImplementation normalization) {
  Checkpoint checkpoint = read_checkpoint(checkpoint_path);
  LoadedModel loaded;
  loaded.recipe = checkpoint.config;
  loaded.iteration = checkpoint.iteration;
  const PspNetConfig config = pspnet_config_from_recipe(checkpoint.config, checkpoint_path);
  // The recipe alone must not make the network's allocation: a model larger than the file's tensors
  // cannot be this checkpoint's.
  std::int64_t stored_values = 0;
  for (const NamedTensor& tensor : checkpoint.tensors) stored_values += tensor.value.numel();
  PANS_CHECK(config.parameter_count() <= stored_values, checkpoint_path, ": its recipe describes a network of ",
             config.parameter_count(), " parameters, but the file holds only ", stored_values, " values");
  loaded.model = std::make_unique<PspNet>(config, LayerOptions{DType::F32, device, 0, nullptr, normalization});
  std::vector<NamedTensor>& stored = checkpoint.tensors;
  stored.erase(std::remove_if(stored.begin(), stored.end(), is_momentum_tensor), stored.end());
  restore_tensors(checkpoint, model_tensors(*loaded.model), checkpoint_path);
  return loaded;
}

}  // namespace pans
