#include "bench/gpu_bench.h"

#include <algorithm>
#include <exception>
#include <memory>

#include "bench/calibration.h"
#include "bench/device_data.h"
#include "bench/device_environment.h"
#include "bench/row_results.h"
#include "bench/runners/runner.h"
#include "bench/timer.h"
#include "kernels/configuration.h"
#include "kernels/cuda/conv2d_cudnn.h"
#include "tensor/cuda_check.h"
#include "tensor/cuda_runtime.h"

namespace pans::bench {
namespace {

using nlohmann::json;

Measured measure_row(const Row& row, Data& data, Timer& timer, const GpuOptions& options) {
  Measured m;
  m.has_library = !row.library.empty();
  std::unique_ptr<Runner> runner;
  try {
    runner = make_runner(row, data);
  } catch (const std::exception& error) {
    m.native.error = std::string("setup: ") + error.what();
    m.library.error = "not run: the row's setup failed";
    return m;
  }
  m.native.run = runner->native;
  m.library.run = runner->library;
  m.library_algo = runner->library_algo;
  std::vector<Side*> sides{&m.native};
  if (m.library.run) sides.push_back(&m.library);
  timer.measure(sides, options.warmup, options.runs);
  if (!runner->library_error.empty()) m.library.error = runner->library_error;
  if (runner->check && m.native.error.empty() && m.library.alive()) {
    try {
      m.check = runner->check();
    } catch (const std::exception& error) {
      m.check = {{"ok", false}, {"error", error.what()}};
    }
  }
  m.native.run = nullptr;  // the runner's tensors go with it
  m.library.run = nullptr;
  return m;
}

}  // namespace

GpuResults run_gpu_bench(const std::vector<Row>& rows, const GpuOptions& options,
                         void (*progress)(const std::string& line)) {
  PANS_CHECK(cuda_device_count() > options.device, "no CUDA device ", options.device, " (", cuda_device_count(),
             " usable; ", cuda_unavailable_reason(), ")");
  PANS_CHECK(options.runs >= 1 && options.warmup >= 0, "--runs must be >= 1, --warmup >= 0");
  CudaDeviceGuard guard(options.device);
  Implementations implementations = kernel_configuration();
  implementations.cudnn_search =
      options.cudnn_search == "heuristic" ? CudnnAlgoSearch::Heuristic : CudnnAlgoSearch::Find;
  configure_kernels(implementations);
  GpuResults results;
  results.environment = environment(options.device);
  Data data(options.device);
  Timer timer(options.device, std::max(options.runs, 20));
  results.environment["l2_flush_bytes"] = timer.flush_bytes();
  const int calibration_runs = 20;
  results.calibration["start"] = calibrate(data, timer, calibration_runs);
  Peaks peaks = peaks_of(results.calibration["start"], json());
  progress("calibration: copy " + std::to_string(int(peaks.copy_gbps)) + " GB/s, cuBLAS bf16 " +
           std::to_string(int(peaks.bf16_tflops)) + " TFLOP/s, tf32 " + std::to_string(int(peaks.tf32_tflops)) +
           " TFLOP/s");

  // A CUDA error surfacing at a synchronisation (an illegal address in a kernel, say) poisons the
  // context: every later call fails too. The row that met it and all after it are reported as
  // failed with that error, and the rows measured before keep their numbers.
  std::vector<Measured> measured(rows.size());
  std::string fatal;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (fatal.empty()) {
      try {
        measured[i] = measure_row(rows[i], data, timer, options);
      } catch (const std::exception& error) {
        fatal = std::string("the device failed while measuring ") + rows[i].id + ": " + error.what();
        measured[i].native.error = fatal;
      }
    } else {
      measured[i].native.error = "not run: " + fatal;
    }
    measured[i].has_library = !rows[i].library.empty();
    if (measured[i].has_library && measured[i].library.ms.empty() && measured[i].library.error.empty() &&
        !measured[i].native.error.empty())
      measured[i].library.error = "not run";
    int ignored_failures = 0, ignored_warnings = 0;
    progress(progress_line(rows[i], row_result(rows[i], measured[i], peaks, ignored_failures, ignored_warnings)));
  }
  if (fatal.empty()) {
    results.calibration["end"] = calibrate(data, timer, calibration_runs);
    results.environment["clocks_at_end"] = clocks_now(options.device);
  } else {
    results.error = fatal;
  }
  peaks =
      peaks_of(results.calibration["start"], results.calibration.contains("end") ? results.calibration["end"] : json());
  results.calibration["peaks_used"] = {{"copy_gbps", peaks.copy_gbps},
                                       {"gemm_tf32_tflops", peaks.tf32_tflops},
                                       {"gemm_bf16_tflops", peaks.bf16_tflops},
                                       {"rule", "the larger of the start and end calibrations"}};
  for (std::size_t i = 0; i < rows.size(); ++i)
    results.rows.push_back(row_result(rows[i], measured[i], peaks, results.failures, results.warnings));
  return results;
}

}  // namespace pans::bench
