// checkpoint/checkpoint.h on any bytes, then what its readers do with a checkpoint that passed
// (eval/model_loading.cpp rebuilds the model from its recipe, train/trainer.cpp compares recipes):
// each must succeed or throw pans::Error.
#include "checkpoint/checkpoint.h"
#include "checkpoint/recipe.h"
#include "tensor/error.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = pans::fuzz::write_input("checkpoint_00000001.bin", data, size);
  try {
    const pans::Checkpoint checkpoint = pans::read_checkpoint(path);
    pans::recipe_global_batch(checkpoint.config, path);
    pans::recipe_differences(checkpoint.config, checkpoint.config);
    pans::pspnet_config_from_recipe(checkpoint.config, path);
  } catch (const pans::Error&) {
  }
  return 0;
}
