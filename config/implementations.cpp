#include "config/implementations.h"

#include "tensor/error.h"

namespace pans {

ConvImplementation parse_conv_implementation(const std::string& text, const std::string& source) {
  if (text == "native") return ConvImplementation::Native;
  if (text == "cudnn") return ConvImplementation::Cudnn;
  PANS_FAIL(source, "='", text, "': expected native or cudnn");
}

NormImplementation parse_norm_implementation(const std::string& text, const std::string& source) {
  if (text == "native") return NormImplementation::Native;
  if (text == "cudnn") return NormImplementation::Cudnn;
  PANS_FAIL(source, "='", text, "': expected native or cudnn");
}

const char* implementation_name(ConvImplementation implementation) {
  return implementation == ConvImplementation::Cudnn ? "cudnn" : "native";
}

const char* implementation_name(NormImplementation implementation) {
  return implementation == NormImplementation::Cudnn ? "cudnn" : "native";
}

std::string describe(const Implementations& implementations) {
  return detail::concat(
      "conv ", implementation_name(implementations.conv), ", normalization ",
      implementation_name(implementations.normalization), ", cuDNN search ",
      implementations.cudnn_search == CudnnAlgoSearch::Find ? "find" : "heuristic", " within ",
      implementations.cudnn_workspace_bytes >> 20, " MiB, sync check ", implementations.sync_check ? "on" : "off",
      ", gradient overlap ", implementations.overlap_gradient_averaging ? "on" : "off", ", collective timeout ",
      implementations.collective_timeout_seconds, " s, CPU threads ",
      implementations.cpu_threads ? std::to_string(*implementations.cpu_threads) : std::string("one per core"));
}

}  // namespace pans
