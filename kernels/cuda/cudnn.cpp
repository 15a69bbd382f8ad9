#include "kernels/cuda/cudnn.h"

#include <cuda_runtime_api.h>
#include <library_types.h>

#include <climits>
#include <cstdio>
#include <mutex>
#include <vector>

#include "tensor/cuda_check.h"

namespace pans::cuda {

std::string cudnn_last_error_detail() {
  char message[1024] = {};
  cudnnGetLastErrorString(message, sizeof(message));
  return message[0] == '\0' ? std::string() : std::string("; cuDNN: ") + message;
}

cudnnDataType_t cudnn_data_type(DType dtype, const char* what) {
  switch (dtype) {
    case DType::F32:
      return CUDNN_DATA_FLOAT;
    case DType::BF16:
      return CUDNN_DATA_BFLOAT16;
    default:
      PANS_FAIL(what, ": dtype ", dtype_name(dtype), " is not supported by the cuDNN path (float32 or bfloat16)");
  }
}

int cudnn_dim(std::int64_t value, const char* what) {
  PANS_CHECK(value >= 0 && value <= INT_MAX, "cuDNN: ", what, " = ", value, " does not fit cuDNN's int descriptors");
  return int(value);
}

void CudnnTensorDescriptor::set_nhwc(cudnnDataType_t type, std::int64_t n, std::int64_t c, std::int64_t h,
                                     std::int64_t w) {
  PANS_CUDNN_CHECK(cudnnSetTensor4dDescriptor(desc_, CUDNN_TENSOR_NHWC, type, cudnn_dim(n, "batch"),
                                              cudnn_dim(c, "channels"), cudnn_dim(h, "height"), cudnn_dim(w, "width")));
}

CudnnHandle::CudnnHandle() {
  PANS_CUDNN_CHECK(cudnnCreate(&handle_));
  PANS_CUDNN_CHECK(cudnnSetStream(handle_, nullptr));
}

CudnnHandle::~CudnnHandle() {
  if (handle_ != nullptr && cudnnDestroy(handle_) != CUDNN_STATUS_SUCCESS)
    std::fprintf(stderr, "pans: cudnnDestroy failed\n");
}

CublasHandle::CublasHandle() {
  PANS_CUBLAS_CHECK(cublasCreate(&handle_));
  PANS_CUBLAS_CHECK(cublasSetStream(handle_, nullptr));
}

CublasHandle::~CublasHandle() {
  if (handle_ != nullptr && cublasDestroy(handle_) != CUBLAS_STATUS_SUCCESS)
    std::fprintf(stderr, "pans: cublasDestroy failed\n");
}

namespace {

// One handle per device, created when a device first asks; the vectors of pointers are leaked on
// purpose (see cudnn.h).
template <class Handle>
Handle& handle_of_current_device() {
  static std::mutex mutex;
  static auto* handles = new std::vector<Handle*>();
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  const std::lock_guard<std::mutex> lock(mutex);
  if (handles->size() <= std::size_t(device)) handles->resize(std::size_t(device) + 1, nullptr);
  Handle*& handle = (*handles)[std::size_t(device)];
  if (handle == nullptr) handle = new Handle();
  return *handle;
}

}  // namespace

cudnnHandle_t cudnn_handle() { return handle_of_current_device<CudnnHandle>().get(); }
cublasHandle_t cublas_handle() { return handle_of_current_device<CublasHandle>().get(); }

std::string cudnn_version_string() {
  const std::size_t runtime = cudnnGetVersion();
  return std::to_string(runtime / 10000) + "." + std::to_string(runtime / 100 % 100) + "." +
         std::to_string(runtime % 100) + " (runtime " + std::to_string(runtime) + ", header " +
         std::to_string(CUDNN_VERSION) + ")";
}

std::string cublas_version_string() {
  int major = 0, minor = 0, patch = 0;
  PANS_CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  PANS_CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  PANS_CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch) + " (header " +
         std::to_string(CUBLAS_VERSION) + ")";
}

}  // namespace pans::cuda
