#include "bench/calibration.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>

#include "kernels/cuda/gemm_cublas.h"
#include "tensor/cuda_check.h"

namespace pans::bench {

using nlohmann::json;

json calibrate(Data& data, Timer& timer, int runs) {
  json result;
  {
    std::size_t free_bytes = 0, total_bytes = 0;
    PANS_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const std::int64_t bytes = std::int64_t(std::min<std::size_t>(std::size_t(1) << 30, free_bytes / 8));
    Tensor src = data.zeros({bytes}, DType::U8), dst = data.empty({bytes}, DType::U8);
    Side copy;
    copy.run = [=]() mutable {
      PANS_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), std::size_t(bytes), cudaMemcpyDeviceToDevice,
                                      cudaStreamLegacy));
    };
    timer.measure({&copy}, 3, runs);
    PANS_CHECK(copy.error.empty(), "bench: the copy calibration failed: ", copy.error);
    const Stats s = stats_of(copy.ms);
    result["copy"] = {{"bytes", bytes},
                      {"ms", stats_json(s)},
                      {"gbps", 2.0 * double(bytes) / (s.median * 1e-3) / 1e9},
                      {"how", "cudaMemcpyAsync device to device; read + write bytes / median time"}};
  }
  const std::int64_t n = 8192;
  for (cuda::GemmMath math : {cuda::GemmMath::Bf16, cuda::GemmMath::Tf32}) {
    const DType dt = math == cuda::GemmMath::Bf16 ? DType::BF16 : DType::F32;
    Tensor a = data.uniform({n, n}, dt), b = data.uniform({n, n}, dt), c = data.empty({n, n}, dt);
    Side gemm;
    gemm.run = [=]() mutable { cuda::gemm_cublas(math, n, n, n, a.raw_data(), b.raw_data(), c.raw_data()); };
    timer.measure({&gemm}, 3, runs);
    PANS_CHECK(gemm.error.empty(), "bench: the ", cuda::gemm_math_name(math), " GEMM calibration failed: ", gemm.error);
    const Stats s = stats_of(gemm.ms);
    result[std::string("gemm_") + cuda::gemm_math_name(math)] = {
        {"m", n},
        {"n", n},
        {"k", n},
        {"ms", stats_json(s)},
        {"tflops", 2.0 * double(n * n) * double(n) / (s.median * 1e-3) / 1e12},
        {"how",
         std::string("cublasGemmEx, ") + (math == cuda::GemmMath::Bf16 ? "bf16 in/out, CUBLAS_COMPUTE_32F"
                                                                       : "fp32 in/out, CUBLAS_COMPUTE_32F_FAST_TF32")}};
  }
  return result;
}

Peaks peaks_of(const json& start, const json& end) {
  auto best = [&](const char* what, const char* field) {
    double value = start[what][field].get<double>();
    if (!end.is_null()) value = std::max(value, end[what][field].get<double>());
    return value;
  };
  return {best("copy", "gbps"), best("gemm_tf32", "tflops"), best("gemm_bf16", "tflops")};
}

}  // namespace pans::bench
