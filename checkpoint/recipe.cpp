#include "checkpoint/recipe.h"

#include <sstream>
#include <vector>

#include "checkpoint/json_integer.h"
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
  // Sizes far beyond any network's, refused before a network of that size is allocated.
  constexpr std::int64_t kMaxChannels = 1 << 16, kMaxBlocks = 1 << 10, kMaxBins = 1 << 10;
  const auto field = [&](const char* name) -> const nlohmann::json& {
    PANS_CHECK(m.contains(name), path, ": the recipe's model has no ", name);
    return m[name];
  };
  const auto size = [&](const nlohmann::json& value, const std::string& name, std::int64_t limit) {
    const auto number = json_integer<std::int64_t>(value, path, "the recipe's model." + name);
    PANS_CHECK(number >= 1 && number <= limit, path, ": the recipe's model.", name, " is ", number, ", outside [1, ",
               limit, "]");
    return number;
  };
  const auto sizes = [&](const char* name, std::size_t count, std::int64_t limit) {
    const nlohmann::json& values = field(name);
    PANS_CHECK(values.is_array() && (count == 0 ? !values.empty() : values.size() == count), path,
               ": the recipe's model.", name, " is ", values.dump(), ", not ",
               count == 0 ? std::string("a list") : "a list of " + std::to_string(count), " of integers");
    std::vector<std::int64_t> numbers;
    for (const nlohmann::json& value : values) numbers.push_back(size(value, name, limit));
    return numbers;
  };
  config.stem_channels = size(field("stem_channels"), "stem_channels", kMaxChannels);
  const std::vector<std::int64_t> widths = sizes("widths", 4, kMaxChannels), blocks = sizes("blocks", 4, kMaxBlocks);
  for (std::size_t i = 0; i < 4; ++i) {
    config.widths[i] = widths[i];
    config.blocks[i] = int(blocks[i]);
  }
  config.head_channels = size(field("head_channels"), "head_channels", kMaxChannels);
  config.pyramid_bins.clear();
  for (const std::int64_t bins : sizes("pyramid_bins", 0, kMaxBins)) config.pyramid_bins.push_back(int(bins));
  config.classes = size(field("classes"), "classes", kMaxChannels);
  PANS_CHECK(field("classifier").is_string(), path, ": the recipe's model.classifier is not a string");
  config.classifier = classifier_from_name(field("classifier").get<std::string>(), path);
  PANS_CHECK(field("deep_supervision").is_boolean(), path,
             ": the recipe's model.deep_supervision is not true or false");
  config.deep_supervision = field("deep_supervision").get<bool>();
  const nlohmann::json& dropout = field("dropout");
  PANS_CHECK(dropout.is_number() && dropout.get<double>() >= 0 && dropout.get<double>() < 1, path,
             ": the recipe's model.dropout is ", dropout.dump(), ", not a number in [0, 1)");
  config.dropout = dropout.get<double>();
  return config;
}

std::int64_t recipe_global_batch(const nlohmann::json& recipe, const std::string& path) {
  PANS_CHECK(recipe.is_object(), path, ": the recipe is a JSON ", recipe.type_name(), ", not an object");
  const auto batch = recipe.find("batch");
  if (batch == recipe.end()) return 0;
  PANS_CHECK(batch->is_number_integer(), path, ": the recipe's batch is ", batch->dump(), ", not an integer");
  return batch->get<std::int64_t>();
}

std::string recipe_differences(const nlohmann::json& stored, const nlohmann::json& current) {
  if (!stored.is_object())
    return std::string("the checkpoint's recipe is a JSON ") + stored.type_name() + ", not an object";
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
