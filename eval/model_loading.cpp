#include "eval/model_loading.h"

#include <algorithm>
#include <array>

#include "train/checkpoint.h"

namespace pans {
namespace {

// trainer.cpp names each momentum buffer "momentum." + its parameter's name.
constexpr const char* kMomentumPrefix = "momentum.";

ClassifierKind classifier_from_name(const std::string& name, const std::string& path) {
  for (const ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear})
    if (name == classifier_kind_name(kind)) return kind;
  PANS_FAIL(path, ": unknown classifier \"", name, "\" in the recipe");
}

}  // namespace

PspNetConfig pspnet_config_from_recipe(const nlohmann::json& recipe, const std::string& path) {
  PANS_CHECK(recipe.is_object() && recipe.contains("model") && recipe["model"].is_object(), path,
             ": the checkpoint's recipe has no \"model\" object (not written by train_pans?)");
  const nlohmann::json& m = recipe["model"];
  PspNetConfig config;
  try {
    config.stem_channels = m.at("stem_channels").get<std::int64_t>();
    config.widths = m.at("widths").get<std::array<std::int64_t, 4>>();
    config.blocks = m.at("blocks").get<std::array<int, 4>>();
    config.head_channels = m.at("head_channels").get<std::int64_t>();
    config.pyramid_bins = m.at("pyramid_bins").get<std::vector<int>>();
    config.classes = m.at("classes").get<std::int64_t>();
    config.classifier = classifier_from_name(m.at("classifier").get<std::string>(), path);
    config.deep_supervision = m.at("deep_supervision").get<bool>();
    config.dropout = m.at("dropout").get<double>();
  } catch (const nlohmann::json::exception& error) {
    PANS_FAIL(path, ": the recipe's model fields are incomplete: ", error.what());
  }
  return config;
}

LoadedModel load_model(const std::string& checkpoint_path, Device device) {
  Checkpoint checkpoint = read_checkpoint(checkpoint_path);
  LoadedModel loaded;
  loaded.recipe = checkpoint.config;
  loaded.iteration = checkpoint.iteration;
  loaded.model = std::make_unique<PspNet>(pspnet_config_from_recipe(checkpoint.config, checkpoint_path),
                                          LayerOptions{DType::F32, device, 0});
  std::vector<NamedTensor> destinations;
  for (const Parameter& p : loaded.model->parameters()) destinations.push_back({p.name, p.value});
  for (const Buffer& b : loaded.model->buffers()) destinations.push_back({b.name, b.value});
  std::vector<NamedTensor>& stored = checkpoint.tensors;
  stored.erase(std::remove_if(stored.begin(), stored.end(),
                              [](const NamedTensor& t) { return t.name.rfind(kMomentumPrefix, 0) == 0; }),
               stored.end());
  restore_tensors(checkpoint, destinations, checkpoint_path);
  return loaded;
}

}  // namespace pans
