// The recipe a checkpoint records as its "config" (written by train/train_config.h's recipe_json):
// the parts its readers share with its writer. Evaluation rebuilds from the "model" object the
// network that a checkpoint's tensors belong to; a resume refuses a recipe that differs from its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "models/pspnet_config.h"

namespace pans {

// The recipe's "model" object.
nlohmann::json pspnet_config_json(const PspNetConfig& model);

// The inverse of pspnet_config_json, from a recipe's "model" object. Throws pans::Error naming
// `path` and the field that is missing or of the wrong type.
PspNetConfig pspnet_config_from_recipe(const nlohmann::json& recipe, const std::string& path);

// The recipe's global batch (train/train_config.h recipe_json), 0 when it records none. Throws
// pans::Error naming `path` when the recipe is not an object or its batch not an integer.
std::int64_t recipe_global_batch(const nlohmann::json& recipe, const std::string& path);

// "crop: 192 in the checkpoint, 256 now; lr: ..." for every key whose value differs; empty when
// the recipes are equal. A stored recipe that is not a JSON object differs from any, and says so.
std::string recipe_differences(const nlohmann::json& stored, const nlohmann::json& current);

}  // namespace pans
