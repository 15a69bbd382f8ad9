// cuDNN batch norm for the iABN baseline; the contract is in iabn_cudnn.h.
#include "kernels/cuda/iabn_cudnn.h"

#include <cuda_runtime_api.h>

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "kernels/cuda/cudnn.h"
#include "tensor/cuda_check.h"
#include "tensor/tensor.h"

namespace pans::cuda {
namespace {

constexpr cudnnBatchNormMode_t kMode = CUDNN_BATCHNORM_SPATIAL_PERSISTENT;
constexpr cudnnBatchNormOps_t kOps = CUDNN_BATCHNORM_OPS_BN;
// Inference takes the plain spatial mode; its {1, C, 1, 1} scale descriptor is the one the
// persistent mode derives.
constexpr cudnnBatchNormMode_t kInferenceMode = CUDNN_BATCHNORM_SPATIAL;

// The descriptors and buffer sizes of one (shape, dtype, device), built once.
struct BatchNormPlan {
  CudnnTensorDescriptor x;   // also y, dy, dx
  CudnnTensorDescriptor bn;  // {1, C, 1, 1} float32, derived by cuDNN from x
  std::size_t forward_workspace = 0, backward_workspace = 0, reserve = 0;
};

const BatchNormPlan& plan_for(const BatchNormShape& shape, DType dtype) {
  static std::mutex mutex;
  static std::map<std::tuple<std::array<std::int64_t, 4>, DType, int>, std::unique_ptr<BatchNormPlan>> plans;
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  const auto key = std::make_tuple(std::array<std::int64_t, 4>{shape.batch, shape.height, shape.width, shape.channels},
                                   dtype, device);
  const std::lock_guard<std::mutex> lock(mutex);
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;

  auto plan = std::make_unique<BatchNormPlan>();
  plan->x.set_nhwc(cudnn_data_type(dtype, "cuDNN batch norm"), shape.batch, shape.channels, shape.height, shape.width);
  PANS_CUDNN_CHECK(cudnnDeriveBNTensorDescriptor(plan->bn.get(), plan->x.get(), kMode));
  cudnnHandle_t handle = cudnn_handle();
  PANS_CUDNN_CHECK(cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize(
      handle, kMode, kOps, plan->x.get(), nullptr, plan->x.get(), plan->bn.get(), nullptr, &plan->forward_workspace));
  PANS_CUDNN_CHECK(cudnnGetBatchNormalizationBackwardExWorkspaceSize(
      handle, kMode, kOps, plan->x.get(), nullptr, plan->x.get(), nullptr, plan->x.get(), plan->bn.get(), nullptr,
      &plan->backward_workspace));
  PANS_CUDNN_CHECK(cudnnGetBatchNormalizationTrainingExReserveSpaceSize(handle, kMode, kOps, nullptr, plan->x.get(),
                                                                        &plan->reserve));
  return *plans.emplace(key, std::move(plan)).first->second;
}

Tensor workspace_tensor(std::size_t bytes) {
  if (bytes == 0) return Tensor();
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  return Tensor::empty({std::int64_t(bytes)}, DType::U8, Device::cuda(device));
}

void check_reserve(const BatchNormPlan& plan, std::size_t reserve_bytes) {
  PANS_CHECK(reserve_bytes >= plan.reserve, "cuDNN batch norm: the reserve holds ", reserve_bytes,
             " bytes, cuDNN needs ", plan.reserve, " (cudnn_batch_norm_reserve_bytes)");
}

}  // namespace

std::size_t cudnn_batch_norm_reserve_bytes(const BatchNormShape& shape, DType dtype) {
  return plan_for(shape, dtype).reserve;
}

void cudnn_batch_norm_forward_training(const BatchNormShape& shape, DType dtype, const void* x, void* y,
                                       const float* scale, const float* bias, float* running_mean, float* running_var,
                                       float* save_mean, float* save_inv_std, double momentum, double eps,
                                       void* reserve, std::size_t reserve_bytes) {
  const BatchNormPlan& plan = plan_for(shape, dtype);
  check_reserve(plan, reserve_bytes);
  PANS_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "cuDNN batch norm: eps ", eps, " is below CUDNN_BN_MIN_EPSILON");
  Tensor workspace = workspace_tensor(plan.forward_workspace);
  const float one = 1.0f, zero = 0.0f;
  PANS_CUDNN_CHECK(cudnnBatchNormalizationForwardTrainingEx(
      cudnn_handle(), kMode, kOps, &one, &zero, plan.x.get(), x, nullptr, nullptr, plan.x.get(), y, plan.bn.get(),
      scale, bias, momentum, running_mean, running_var, eps, save_mean, save_inv_std, nullptr,
      workspace.defined() ? workspace.raw_data() : nullptr, plan.forward_workspace, reserve, plan.reserve));
}

void cudnn_batch_norm_forward_inference(const BatchNormShape& shape, DType dtype, const void* x, void* y,
                                        const float* scale, const float* bias, const float* running_mean,
                                        const float* running_var, double eps) {
  const BatchNormPlan& plan = plan_for(shape, dtype);
  PANS_CHECK(eps >= CUDNN_BN_MIN_EPSILON, "cuDNN batch norm: eps ", eps, " is below CUDNN_BN_MIN_EPSILON");
  const float one = 1.0f, zero = 0.0f;
  PANS_CUDNN_CHECK(cudnnBatchNormalizationForwardInference(cudnn_handle(), kInferenceMode, &one, &zero, plan.x.get(),
                                                           x, plan.x.get(), y, plan.bn.get(), scale, bias,
                                                           running_mean, running_var, eps));
}

void cudnn_batch_norm_backward(const BatchNormShape& shape, DType dtype, const void* x, const void* dy, void* dx,
                               const float* scale, const float* bias, float* dscale, float* dbias,
                               const float* save_mean, const float* save_inv_std, double eps, void* reserve,
                               std::size_t reserve_bytes) {
  const BatchNormPlan& plan = plan_for(shape, dtype);
  check_reserve(plan, reserve_bytes);
  Tensor workspace = workspace_tensor(plan.backward_workspace);
  const float one = 1.0f, zero = 0.0f;
  PANS_CUDNN_CHECK(cudnnBatchNormalizationBackwardEx(
      cudnn_handle(), kMode, kOps, &one, &zero, &one, &one, plan.x.get(), x, nullptr, nullptr, plan.x.get(), dy,
      nullptr, nullptr, plan.x.get(), dx, plan.bn.get(), scale, bias, dscale, dbias, eps, save_mean, save_inv_std,
      nullptr, workspace.defined() ? workspace.raw_data() : nullptr, plan.backward_workspace, reserve, plan.reserve));
}

}  // namespace pans::cuda
