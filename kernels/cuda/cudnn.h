// cuDNN and cuBLAS plumbing: return-code checks and move-only handle wrappers. The libraries are
// alternative implementations (PANS_CONV=cudnn, PANS_BN=cudnn) and the benchmark's baselines, never
// silent substitutes for pans' own kernels. Native CUDA builds with cuDNN only (PANS_WITH_CUDNN):
// the SIMT emulator cannot run library kernels.
//
// PANS_CUDNN_CHECK(call) / PANS_CUBLAS_CHECK(call) evaluate the call once and throw pans::Error
// naming the call, the library's message, file and line, like PANS_CUDA_CHECK.
#pragma once

#include <cublas_v2.h>
#include <cudnn.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>

#include "tensor/dtype.h"
#include "tensor/error.h"

#define PANS_CUDNN_CHECK(call)                                                                      \
  do {                                                                                              \
    const cudnnStatus_t pans_cudnn_status = (call);                                                 \
    if (pans_cudnn_status != CUDNN_STATUS_SUCCESS)                                                  \
      PANS_FAIL(#call, " failed: ", ::cudnnGetErrorString(pans_cudnn_status), " (status ",          \
                static_cast<int>(pans_cudnn_status), ")", ::pans::cuda::cudnn_last_error_detail()); \
  } while (0)

#define PANS_CUBLAS_CHECK(call)                                                      \
  do {                                                                               \
    const cublasStatus_t pans_cublas_status = (call);                                \
    if (pans_cublas_status != CUBLAS_STATUS_SUCCESS)                                 \
      PANS_FAIL(#call, " failed: ", ::cublasGetStatusName(pans_cublas_status), " (", \
                ::cublasGetStatusString(pans_cublas_status), ")");                   \
  } while (0)

namespace pans::cuda {

// "; cuDNN: <the library's last error message>", or "" when it has none (cudnnGetLastErrorString).
std::string cudnn_last_error_detail();

// A cuDNN handle bound to the current device at construction and to the NULL stream, which for the
// libraries (built without per-thread default streams) is the legacy default stream: the stream
// every pans kernel and the caching allocator use (cudaStreamLegacy), so library calls are ordered
// with them and a workspace freed after a call is reused only after the call ran.
class CudnnHandle {
 public:
  CudnnHandle();
  ~CudnnHandle();
  CudnnHandle(CudnnHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  CudnnHandle& operator=(CudnnHandle&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  CudnnHandle(const CudnnHandle&) = delete;
  CudnnHandle& operator=(const CudnnHandle&) = delete;

  cudnnHandle_t get() const { return handle_; }

 private:
  cudnnHandle_t handle_ = nullptr;
};

// The same for cuBLAS; tensor-op math is chosen per call (cublasGemmEx's compute type).
class CublasHandle {
 public:
  CublasHandle();
  ~CublasHandle();
  CublasHandle(CublasHandle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  CublasHandle& operator=(CublasHandle&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;

  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_ = nullptr;
};

// The process-wide handle of the current device, created on first use (thread-safe). These live
// until the process exits and are deliberately never destroyed: destroying them from static
// destructors would race the CUDA runtime's own teardown.
cudnnHandle_t cudnn_handle();
cublasHandle_t cublas_handle();

// CUDNN_DATA_FLOAT or CUDNN_DATA_BFLOAT16; throws naming `what` for other dtypes.
cudnnDataType_t cudnn_data_type(DType dtype, const char* what);

// A tensor descriptor as a move-less RAII member; the destructor only logs.
class CudnnTensorDescriptor {
 public:
  CudnnTensorDescriptor() { PANS_CUDNN_CHECK(cudnnCreateTensorDescriptor(&desc_)); }
  ~CudnnTensorDescriptor() {
    if (cudnnDestroyTensorDescriptor(desc_) != CUDNN_STATUS_SUCCESS)
      std::fprintf(stderr, "pans: cudnnDestroyTensorDescriptor failed\n");
  }
  CudnnTensorDescriptor(const CudnnTensorDescriptor&) = delete;
  CudnnTensorDescriptor& operator=(const CudnnTensorDescriptor&) = delete;

  // An NHWC tensor of logical dims (n, c, h, w); throws if a dim exceeds cuDNN's int.
  void set_nhwc(cudnnDataType_t type, std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w);
  cudnnTensorDescriptor_t get() const { return desc_; }

 private:
  cudnnTensorDescriptor_t desc_ = nullptr;
};

// An int64 dimension as cuDNN's int; throws naming `what` when it does not fit.
int cudnn_dim(std::int64_t value, const char* what);

// "9.19.0 (runtime 91900, header 91900)" and "13.0.2": what the benchmark records.
std::string cudnn_version_string();
std::string cublas_version_string();

}  // namespace pans::cuda
