#include "config/environment.h"

#include <cstdlib>

#include "tensor/error.h"

namespace pans {
namespace {

// A value of "0" or "1" of `name`.
bool switch_value(const std::string& name, const std::string& text, const char* meaning_of_1,
                  const char* meaning_of_0) {
  PANS_CHECK(text == "0" || text == "1", name, "=\"", text, "\": expected 1 (", meaning_of_1, ") or 0 (", meaning_of_0,
             ")");
  return text == "1";
}

// The whole text of `name` as a number (strtod's syntax).
double number_value(const std::string& name, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  PANS_CHECK(!text.empty() && *end == '\0', name, "=\"", text, "\" is not a number");
  return value;
}

}  // namespace

EnvironmentValues read_environment(const std::vector<const char*>& names) {
  EnvironmentValues values;
  for (const char* name : names)
    if (const char* value = std::getenv(name)) values[name] = value;
  return values;
}

namespace {

// Each variable of Implementations and how its text sets it: implementations_from applies them,
// implementations_from_environment reads exactly these names.
struct Variable {
  const char* name;
  void (*apply)(Implementations& result, const std::string& name, const std::string& text);
};

const Variable kVariables[] = {
    {"PANS_CONV", [](Implementations& result, const std::string& name,
                     const std::string& text) { result.conv = parse_conv_implementation(text, name); }},
    {"PANS_CONV_LOG", [](Implementations& result, const std::string&,
                         const std::string& text) { result.log_conv_algorithms = text != "0"; }},
    {"PANS_BN", [](Implementations& result, const std::string& name,
                   const std::string& text) { result.normalization = parse_norm_implementation(text, name); }},
    {"PANS_CUDNN_SEARCH",
     [](Implementations& result, const std::string& name, const std::string& text) {
       PANS_CHECK(text == "find" || text == "heuristic", name, "=\"", text, "\": expected find or heuristic");
       result.cudnn_search = text == "find" ? CudnnAlgoSearch::Find : CudnnAlgoSearch::Heuristic;
     }},
    {"PANS_CUDNN_WORKSPACE_MB",
     [](Implementations& result, const std::string& name, const std::string& text) {
       const double megabytes = number_value(name, text);
       PANS_CHECK(megabytes >= 0 && megabytes == double(std::size_t(megabytes)), name, "=\"", text,
                  "\": expected a whole number of MiB");
       result.cudnn_workspace_bytes = std::size_t(megabytes) << 20;
     }},
    {"PANS_SYNC_CHECK",
     [](Implementations& result, const std::string& name, const std::string& text) {
       result.sync_check = switch_value(name, text, "synchronise after every CUDA launch", "do not");
     }},
    {"PANS_DIST_OVERLAP",
     [](Implementations& result, const std::string& name, const std::string& text) {
       result.overlap_gradient_averaging =
           switch_value(name, text, "overlap the gradient all-reduces with the backward", "average after it");
     }},
    {"PANS_DIST_TIMEOUT",
     [](Implementations& result, const std::string& name, const std::string& text) {
       const double seconds = number_value(name, text);
       PANS_CHECK(seconds > 0, name, "=\"", text, "\" is not a positive number of seconds");
       result.collective_timeout_seconds = seconds;
     }},
};

}  // namespace

Implementations implementations_from(const EnvironmentValues& values, Implementations defaults) {
  Implementations result = defaults;
  for (const Variable& variable : kVariables) {
    const auto found = values.find(variable.name);
    if (found != values.end()) variable.apply(result, found->first, found->second);
  }
  return result;
}

Implementations implementations_from_environment(Implementations defaults) {
  std::vector<const char*> names;
  for (const Variable& variable : kVariables) names.push_back(variable.name);
  return implementations_from(read_environment(names), defaults);
}

Implementations app_implementations(std::optional<int> threads_flag) {
  Implementations defaults;
  defaults.cpu_threads = threads_flag;
  return implementations_from_environment(defaults);
}

}  // namespace pans
