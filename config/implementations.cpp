#include "config/implementations.h"

#include "tensor/error.h"

namespace pans {

namespace {

// Both choices are pans' kernels or cuDNN, spelled alike.
template <class Choice>
Choice native_or_cudnn(const std::string& text, const std::string& source) {
  if (text == "native") return Choice::Native;
  if (text == "cudnn") return Choice::Cudnn;
  PANS_FAIL(source, "='", text, "': expected native or cudnn");
}

template <class Choice>
const char* native_or_cudnn_name(Choice choice) {
  return choice == Choice::Cudnn ? "cudnn" : "native";
}

}  // namespace

ConvImplementation parse_conv_implementation(const std::string& text, const std::string& source) {
  return native_or_cudnn<ConvImplementation>(text, source);
}

NormImplementation parse_norm_implementation(const std::string& text, const std::string& source) {
  return native_or_cudnn<NormImplementation>(text, source);
}

const char* implementation_name(ConvImplementation implementation) { return native_or_cudnn_name(implementation); }
const char* implementation_name(NormImplementation implementation) { return native_or_cudnn_name(implementation); }

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
