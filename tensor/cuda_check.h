// Checks for CUDA runtime return codes: evaluate the call once and throw pans::Error naming the
// call, the runtime's message, file and line. Include only from CUDA-enabled translation units.
#pragma once

#include <cuda_runtime_api.h>

#include "tensor/error.h"

#define PANS_CUDA_CHECK(call)                                                                                       \
  do {                                                                                                              \
    const cudaError_t pans_cuda_status = (call);                                                                    \
    if (pans_cuda_status != cudaSuccess)                                                                            \
      PANS_FAIL(#call, " failed: ", cudaGetErrorName(pans_cuda_status), " (", cudaGetErrorString(pans_cuda_status), \
                ")");                                                                                               \
  } while (0)

namespace pans {

// Makes `index` the current device for the guard's lifetime and restores the previous one, so a
// library call never leaves the caller on another GPU.
class CudaDeviceGuard {
 public:
  explicit CudaDeviceGuard(int index) {
    PANS_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != index) PANS_CUDA_CHECK(cudaSetDevice(index));
  }
  ~CudaDeviceGuard() { cudaSetDevice(previous_); }
  CudaDeviceGuard(const CudaDeviceGuard&) = delete;
  CudaDeviceGuard& operator=(const CudaDeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

}  // namespace pans
