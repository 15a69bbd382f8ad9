// Which implementation pans runs wherever it has a choice, and the settings that tune them: one
// value, filled once by an app (from its flags and, through config/environment.h, the
// environment) and handed down. Nothing below the apps decides these on its own:
//   kernels/  take the kernel part process-wide from configure_kernels (kernels/configuration.h):
//             the convolution family and its log, cuDNN's algorithm search and workspace, the
//             synchronising launch check, the CPU kernels' threads;
//   layers/   build their normalisation layers from LayerOptions::normalization (layers/parameter.h);
//   dist/, train/  take the collective timeout and the gradient overlap as arguments.
// The defaults are pans' own kernels, with no extra checks: what a run gets when nothing asks for
// anything else.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace pans {

// native: pans' CUDA kernels; cudnn: cuDNN, as a cross-check and a speed baseline (never chosen
// silently). cpu tensors have one implementation, the CPU reference, whatever is chosen.
enum class ConvImplementation { Native, Cudnn };
enum class NormImplementation { Native, Cudnn };
// How cuDNN picks a convolution algorithm: find (time the candidates, once per shape) or
// heuristic (cuDNN's ranked guess, nothing run).
enum class CudnnAlgoSearch { Find, Heuristic };

struct Implementations {
  ConvImplementation conv = ConvImplementation::Native;
  bool log_conv_algorithms = true;  // one stderr line per distinct CUDA convolution chosen
  NormImplementation normalization = NormImplementation::Native;
  CudnnAlgoSearch cudnn_search = CudnnAlgoSearch::Find;
  std::size_t cudnn_workspace_bytes = std::size_t(4096) << 20;
  bool sync_check = false;                 // synchronise after every CUDA launch, pinning a fault on its kernel
  bool overlap_gradient_averaging = true;  // data parallelism: bucket all-reduces during the backward
  double collective_timeout_seconds = 600;
  std::optional<int> cpu_threads;  // threads of the CPU kernels (kernels/cpu_fast/parallel.h); unset: one per core
};

// "native" or "cudnn"; throws pans::Error naming `source` (a flag or variable) otherwise.
ConvImplementation parse_conv_implementation(const std::string& text, const std::string& source);
NormImplementation parse_norm_implementation(const std::string& text, const std::string& source);
const char* implementation_name(ConvImplementation implementation);
const char* implementation_name(NormImplementation implementation);

// One line for a run's log: "conv native, normalization native, ...".
std::string describe(const Implementations& implementations);

}  // namespace pans
