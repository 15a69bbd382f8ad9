#include "bench/device_environment.h"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <string>

#include "bench/environment.h"
#include "kernels/cuda/cudnn.h"
#include "tensor/cuda_check.h"

namespace pans::bench {

using nlohmann::json;

json clocks_now(int device) {
  const std::string query = run_command(
      "nvidia-smi -i " + std::to_string(device) +
      " --query-gpu=clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,power.draw,power.limit,temperature.gpu,pstate"
      " --format=csv");
  return query.empty() ? json("unavailable (nvidia-smi)") : json(query);
}

json environment(int device) {
  cudaDeviceProp prop{};
  PANS_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  auto attribute = [&](cudaDeviceAttr which) {
    int value = 0;
    return cudaDeviceGetAttribute(&value, which, device) == cudaSuccess ? value : -1;
  };
  int runtime = 0, driver = 0;
  PANS_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  PANS_CUDA_CHECK(cudaDriverGetVersion(&driver));
  const char* tf32_override = std::getenv("NVIDIA_TF32_OVERRIDE");
  return {{"index", device},
          {"name", prop.name},
          {"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
          {"sms", prop.multiProcessorCount},
          {"memory_bytes", prop.totalGlobalMem},
          {"memory_bus_bits", prop.memoryBusWidth},
          {"l2_bytes", prop.l2CacheSize},
          {"sm_clock_peak_khz", attribute(cudaDevAttrClockRate)},
          {"memory_clock_peak_khz", attribute(cudaDevAttrMemoryClockRate)},
          {"clocks_at_start", clocks_now(device)},
          {"driver_version", run_command("nvidia-smi -i " + std::to_string(device) +
                                         " --query-gpu=driver_version --format=csv,noheader")},
          {"cuda_driver_api", driver},
          {"cuda_runtime", runtime},
          {"cudnn", cuda::cudnn_version_string()},
          {"cublas", cuda::cublas_version_string()},
          {"NVIDIA_TF32_OVERRIDE", tf32_override == nullptr ? json(nullptr) : json(tf32_override)}};
}

}  // namespace pans::bench
