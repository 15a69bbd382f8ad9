// config/: the implementations an app runs with, read from the environment in one place, and the
// kernels' process-wide share of them (kernels/configuration.h).
#include <doctest/doctest.h>

#include <string>

#include "config/environment.h"
#include "kernels/configuration.h"
#include "tensor/error.h"

using namespace pans;

TEST_CASE("implementations: the defaults are pans' kernels without extra checks") {
  const Implementations defaults = implementations_from({});
  CHECK(defaults.conv == ConvImplementation::Native);
  CHECK(defaults.normalization == NormImplementation::Native);
  CHECK(defaults.log_conv_algorithms);
  CHECK(defaults.cudnn_search == CudnnAlgoSearch::Find);
  CHECK(defaults.cudnn_workspace_bytes == std::size_t(4096) << 20);
  CHECK_FALSE(defaults.sync_check);
  CHECK(defaults.overlap_gradient_averaging);
  CHECK(defaults.collective_timeout_seconds == 600.0);
  CHECK_FALSE(defaults.cpu_threads.has_value());
  CHECK(describe(defaults) ==
        "conv native, normalization native, cuDNN search find within 4096 MiB, sync check off, gradient overlap on, "
        "collective timeout 600 s, CPU threads one per core");
}

TEST_CASE("implementations: every variable is read, over the app's defaults") {
  Implementations flags;
  flags.cpu_threads = 3;
  const Implementations read = implementations_from({{"PANS_CONV", "cudnn"},
                                                     {"PANS_CONV_LOG", "0"},
                                                     {"PANS_BN", "cudnn"},
                                                     {"PANS_CUDNN_SEARCH", "heuristic"},
                                                     {"PANS_CUDNN_WORKSPACE_MB", "64"},
                                                     {"PANS_SYNC_CHECK", "1"},
                                                     {"PANS_DIST_OVERLAP", "0"},
                                                     {"PANS_DIST_TIMEOUT", "2.5"},
                                                     {"UNRELATED", "x"}},
                                                    flags);
  CHECK(read.conv == ConvImplementation::Cudnn);
  CHECK_FALSE(read.log_conv_algorithms);
  CHECK(read.normalization == NormImplementation::Cudnn);
  CHECK(read.cudnn_search == CudnnAlgoSearch::Heuristic);
  CHECK(read.cudnn_workspace_bytes == std::size_t(64) << 20);
  CHECK(read.sync_check);
  CHECK_FALSE(read.overlap_gradient_averaging);
  CHECK(read.collective_timeout_seconds == 2.5);
  CHECK(read.cpu_threads == 3);
  CHECK(implementations_from({{"PANS_DIST_OVERLAP", "1"}, {"PANS_SYNC_CHECK", "0"}}).overlap_gradient_averaging);
}

TEST_CASE("implementations: a value that cannot be used is an error naming the variable and the value") {
  const std::pair<const char*, const char*> bad[] = {
      {"PANS_CONV", "cuDNN"},           {"PANS_BN", "cudnn "},         {"PANS_BN", ""},
      {"PANS_CUDNN_SEARCH", "fast"},    {"PANS_CUDNN_WORKSPACE_MB", "-1"}, {"PANS_CUDNN_WORKSPACE_MB", "1.5"},
      {"PANS_CUDNN_WORKSPACE_MB", "x"}, {"PANS_SYNC_CHECK", "yes"},    {"PANS_DIST_OVERLAP", "no"},
      {"PANS_DIST_TIMEOUT", "0"},       {"PANS_DIST_TIMEOUT", "5s"}};
  for (const auto& [name, value] : bad) {
    CAPTURE(name);
    CAPTURE(value);
    const std::string named = std::string(name) + (std::string(name) == "PANS_CONV" || std::string(name) == "PANS_BN"
                                                       ? "='"
                                                       : "=\"") + value;
    CHECK_THROWS_WITH_AS(implementations_from({{name, value}}), doctest::Contains(named.c_str()), Error);
  }
}

TEST_CASE("kernels: configure_kernels sets what the kernels read, and refuses fewer than 1 thread by flag") {
  const Implementations before = kernel_configuration();
  Implementations asked;
  asked.conv = ConvImplementation::Cudnn;
  asked.cpu_threads = 1;
  CHECK(configure_kernels(asked) == 1);
  CHECK(kernel_configuration().conv == ConvImplementation::Cudnn);
  asked.cpu_threads = 0;
  CHECK_THROWS_WITH_AS(configure_kernels(asked), doctest::Contains("--threads 0: at least 1"), Error);
  CHECK(kernel_configuration().cpu_threads == 1);  // a refused configuration changes nothing
  configure_kernels(before);
}
