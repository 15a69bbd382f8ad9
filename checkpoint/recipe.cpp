#include "checkpoint/recipe.h"

#include <array>
#include <sstream>
#include <vector>

#include "tensor/error.h"

namespace pans {
namespace {

ClassifierKind classifier_from_name(const std::string& name, const std::string& path) {
  for (const ClassifierKind kind : {ClassifierKind::Cosine, ClassifierKind::Linear})
    if (name == classifier_kind_name(kind)) return kind;
  PANS_FAIL(path, ": unknown classifier \"", name, "\" in the recipe");
}

}  // namespace

nlohmann::json pspnet_config_json(const PspNetConfig& model) {
  return {{"stem_channels", model.stem_channels},
          {"widths", model.widths},
          {"blocks", model.blocks},
          {"head_channels", model.head_channels},
          {"pyramid_bins", model.pyramid_bins},
          {"classes", model.classes},
          {"classifier", classifier_kind_name(model.classifier)},
          {"deep_supervision", model.deep_supervision},
          {"dropout", model.dropout}};
}

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

std::string recipe_differences(const nlohmann::json& stored, const nlohmann::json& current) {
  std::ostringstream out;
  const auto differ = [&](const std::string& key, const nlohmann::json& a, const nlohmann::json& b) {
    if (a == b) return;
    if (out.tellp() > 0) out << "; ";
    out << key << ": " << (a.is_null() ? "absent" : a.dump()) << " in the checkpoint, "
        << (b.is_null() ? "absent" : b.dump()) << " now";
  };
  for (const auto& [key, value] : current.items()) {
    if (key == "model" && stored.contains("model") && stored["model"].is_object()) {
      for (const auto& [field, setting] : value.items())
        differ("model." + field, stored["model"].value(field, nlohmann::json()), setting);
      continue;
    }
    differ(key, stored.value(key, nlohmann::json()), value);
  }
  for (const auto& [key, value] : stored.items())
    if (!current.contains(key)) differ(key, value, nlohmann::json());
  return out.str();
}

}  // namespace pans
