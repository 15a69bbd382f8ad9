// The measuring half of bench_kernels: the device's peaks (a device-to-device copy and cuBLAS
// GEMMs) and every row, pans against its library baseline, by the protocol of
// docs/benchmarks.md#protocol: CUDA events on the legacy default stream (the one every pans kernel
// and the libraries use here), warm-up, then `runs` interleaved timings (native, library, native,
// library, ...), each preceded by an L2 flush. Built only with CUDA and cuDNN (PANS_BENCH_GPU).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/rows.h"

namespace pans::bench {

struct GpuOptions {
  int device = 0;
  int runs = 50;
  int warmup = 10;
  std::string cudnn_search = "find";  // or "heuristic"
};

struct GpuResults {
  nlohmann::json environment;        // device, clocks, versions
  nlohmann::json calibration;        // copy bandwidth and GEMM peaks, at the start and the end
  std::vector<nlohmann::json> rows;  // measurements, in the order of the rows given
  int failures = 0;                  // native errors and failed cross-checks
  int warnings = 0;                  // library errors (a baseline missing is reported, not failed)
  std::string error;                 // set when the device failed mid-run and the remaining rows were not run
};

// Throws pans::Error when the device cannot be used at all; a row's failure is recorded in its
// result and counted instead. `progress` receives one human-readable line per row.
GpuResults run_gpu_bench(const std::vector<Row>& rows, const GpuOptions& options,
                         void (*progress)(const std::string& line));

}  // namespace pans::bench
