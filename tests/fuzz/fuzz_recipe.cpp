// The recipe a checkpoint records (checkpoint/recipe.h), as any JSON text: what evaluation rebuilds
// the network from, and what a resume reads from it: its global batch and its differences from the
// current recipe.
// Text that is not JSON is skipped (read_checkpoint refuses it before a recipe reader sees it).
#include "checkpoint/recipe.h"
#include "models/pspnet_config.h"
#include "tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json recipe = nlohmann::json::parse(data, data + size, nullptr, false);
  if (recipe.is_discarded()) return 0;
  static const nlohmann::json current = {
      {"model", pans::pspnet_config_json(pans::PspNetConfig::small())}, {"batch", 8}, {"lr", 0.01}, {"crop", 192}};
  try {
    pans::recipe_differences(recipe, current);
    pans::recipe_global_batch(recipe, "recipe.json");
    pans::pspnet_config_from_recipe(recipe, "recipe.json");
  } catch (const pans::Error&) {
  }
  return 0;
}
