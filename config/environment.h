// The process environment, read here and nowhere else in pans' libraries (apps and benchmarks may
// record it). What pans reads:
//
//   PANS_CONV=native|cudnn         Implementations::conv (default native)
//   PANS_CONV_LOG=0                silences the per-shape log of CUDA convolution algorithms
//   PANS_BN=native|cudnn           Implementations::normalization (default native)
//   PANS_CUDNN_SEARCH=find|heuristic   cuDNN's convolution algorithm search (default find)
//   PANS_CUDNN_WORKSPACE_MB=<MiB>  the largest cuDNN workspace an algorithm may take (default 4096)
//   PANS_SYNC_CHECK=1              synchronise after every CUDA launch
//   PANS_DIST_OVERLAP=1|0          overlap the gradient all-reduces with the backward (default 1)
//   PANS_DIST_TIMEOUT=<seconds>    how long a collective may take (default 600)
//   the launcher's variables (dist/launch_environment.h) and the SIMT emulator's schedule
//   (kernels/emu/scheduler.h), through read_environment.
//
// The libraries pans calls read their own (OPENBLAS_*, OMP_*, NCCL_*, CUDA_VISIBLE_DEVICES,
// NVIDIA_TF32_OVERRIDE); pans does not interpret those.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/implementations.h"

namespace pans {

using EnvironmentValues = std::map<std::string, std::string>;

// The values of those of `names` that are set in this process's environment.
EnvironmentValues read_environment(const std::vector<const char*>& names);

// `defaults` (an app's flags) with what the PANS_* variables above in `values` ask for; throws
// pans::Error naming the variable for a value it cannot use. A pure function, for tests.
Implementations implementations_from(const EnvironmentValues& values, Implementations defaults = {});

// The same from this process's environment.
Implementations implementations_from_environment(Implementations defaults = {});

// What an app runs with: the CPU threads of its --threads flag (unset: one per core), the rest as
// the environment asks.
Implementations app_implementations(std::optional<int> threads_flag);

}  // namespace pans
