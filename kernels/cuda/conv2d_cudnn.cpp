// cuDNN convolution through the legacy (v7-style) descriptor API, which cuDNN 9 still ships (its
// declarations are marked deprecated, silently unless CUDNN_WARN_DEPRECATED is defined): a few
// calls per problem, enough for a baseline. See conv2d_cudnn.h for the contract.
#include "kernels/cuda/conv2d_cudnn.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/configuration.h"
#include "kernels/cuda/cudnn.h"
#include "kernels/cuda/cudnn_elementwise.h"
#include "tensor/cuda_check.h"
#include "tensor/tensor.h"

namespace pans::cuda {
namespace {

// Descriptors as RAII members; destructors only log.
class FilterDescriptor {
 public:
  FilterDescriptor() { PANS_CUDNN_CHECK(cudnnCreateFilterDescriptor(&desc_)); }
  ~FilterDescriptor() {
    if (cudnnDestroyFilterDescriptor(desc_) != CUDNN_STATUS_SUCCESS)
      std::fprintf(stderr, "pans: cudnnDestroyFilterDescriptor failed\n");
  }
  FilterDescriptor(const FilterDescriptor&) = delete;
  FilterDescriptor& operator=(const FilterDescriptor&) = delete;
  cudnnFilterDescriptor_t get() const { return desc_; }

 private:
  cudnnFilterDescriptor_t desc_ = nullptr;
};

class ConvolutionDescriptor {
 public:
  ConvolutionDescriptor() { PANS_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&desc_)); }
  ~ConvolutionDescriptor() {
    if (cudnnDestroyConvolutionDescriptor(desc_) != CUDNN_STATUS_SUCCESS)
      std::fprintf(stderr, "pans: cudnnDestroyConvolutionDescriptor failed\n");
  }
  ConvolutionDescriptor(const ConvolutionDescriptor&) = delete;
  ConvolutionDescriptor& operator=(const ConvolutionDescriptor&) = delete;
  cudnnConvolutionDescriptor_t get() const { return desc_; }

 private:
  cudnnConvolutionDescriptor_t desc_ = nullptr;
};

const char* math_name(cudnnMathType_t math) {
  switch (math) {
    case CUDNN_DEFAULT_MATH:
      return "default";
    case CUDNN_TENSOR_OP_MATH:
      return "tensor_op";
    case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION:
      return "tensor_op_allow_conversion";
    case CUDNN_FMA_MATH:
      return "fma";
  }
  return "unknown";
}

const char* algo_name(cudnnConvolutionFwdAlgo_t algo) {
  static constexpr std::array<const char*, 8> names = {
      "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM", "CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM",
      "CUDNN_CONVOLUTION_FWD_ALGO_GEMM",          "CUDNN_CONVOLUTION_FWD_ALGO_DIRECT",
      "CUDNN_CONVOLUTION_FWD_ALGO_FFT",           "CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING",
      "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD",      "CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED"};
  return std::size_t(algo) < names.size() ? names[std::size_t(algo)] : "CUDNN_CONVOLUTION_FWD_ALGO_?";
}
const char* algo_name(cudnnConvolutionBwdDataAlgo_t algo) {
  static constexpr std::array<const char*, 6> names = {
      "CUDNN_CONVOLUTION_BWD_DATA_ALGO_0",        "CUDNN_CONVOLUTION_BWD_DATA_ALGO_1",
      "CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT",      "CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING",
      "CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD", "CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED"};
  return std::size_t(algo) < names.size() ? names[std::size_t(algo)] : "CUDNN_CONVOLUTION_BWD_DATA_ALGO_?";
}
const char* algo_name(cudnnConvolutionBwdFilterAlgo_t algo) {
  static constexpr std::array<const char*, 7> names = {
      "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0",         "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1",
      "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT",       "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3",
      "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD",  "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED",
      "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING"};
  return std::size_t(algo) < names.size() ? names[std::size_t(algo)] : "CUDNN_CONVOLUTION_BWD_FILTER_ALGO_?";
}

// One problem's descriptors and chosen algorithm; built once per key, then only read.
struct Plan {
  CudnnTensorDescriptor input;   // x or dx
  CudnnTensorDescriptor output;  // y or dy
  CudnnTensorDescriptor bias;    // bias or dbias, {1, Cout, 1, 1}
  FilterDescriptor filter;       // w or dw
  ConvolutionDescriptor conv;
  int algo = 0;  // the cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t of the pass
  Conv2dCudnnChoice choice;
};

using PlanKey = std::tuple<std::array<std::int64_t, 12>, DType, Conv2dPass, int>;

PlanKey plan_key(const Conv2dGeometry& g, DType dtype, Conv2dPass pass, int device) {
  return {{g.batch, g.in_height, g.in_width, g.in_channels, g.out_channels, g.kernel_height, g.kernel_width,
           g.out_height, g.out_width, g.stride, g.padding, g.dilation},
          dtype,
          pass,
          device};
}

void describe(Plan& plan, const Conv2dGeometry& g, DType dtype) {
  const cudnnDataType_t type = cudnn_data_type(dtype, "cuDNN convolution");
  plan.input.set_nhwc(type, g.batch, g.in_channels, g.in_height, g.in_width);
  plan.output.set_nhwc(type, g.batch, g.out_channels, g.out_height, g.out_width);
  plan.bias.set_nhwc(type, 1, g.out_channels, 1, 1);
  PANS_CUDNN_CHECK(
      cudnnSetFilter4dDescriptor(plan.filter.get(), type, CUDNN_TENSOR_NHWC, cudnn_dim(g.out_channels, "out channels"),
                                 cudnn_dim(g.in_channels, "in channels"), cudnn_dim(g.kernel_height, "kernel height"),
                                 cudnn_dim(g.kernel_width, "kernel width")));
  PANS_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(plan.conv.get(), g.padding, g.padding, g.stride, g.stride,
                                                   g.dilation, g.dilation, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
  PANS_CUDNN_CHECK(cudnnSetConvolutionMathType(plan.conv.get(), CUDNN_TENSOR_OP_MATH));
  int n = 0, c = 0, h = 0, w = 0;
  PANS_CUDNN_CHECK(
      cudnnGetConvolution2dForwardOutputDim(plan.conv.get(), plan.input.get(), plan.filter.get(), &n, &c, &h, &w));
  PANS_CHECK(n == g.batch && c == g.out_channels && h == g.out_height && w == g.out_width,
             "cuDNN convolution: cuDNN's output ", n, "x", h, "x", w, "x", c, " differs from pans' ", g.batch, "x",
             g.out_height, "x", g.out_width, "x", g.out_channels);
}

// The three passes' cuDNN entry points, behind one shape so choose() is written once.
struct ForwardApi {
  using Perf = cudnnConvolutionFwdAlgoPerf_t;
  static cudnnStatus_t max_count(cudnnHandle_t h, int* count) {
    return cudnnGetConvolutionForwardAlgorithmMaxCount(h, count);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnFindConvolutionForwardAlgorithm(h, p.input.get(), p.filter.get(), p.conv.get(), p.output.get(), n,
                                                returned, perf);
  }
  static cudnnStatus_t heuristic(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnGetConvolutionForwardAlgorithm_v7(h, p.input.get(), p.filter.get(), p.conv.get(), p.output.get(), n,
                                                  returned, perf);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, decltype(Perf::algo) algo, std::size_t* bytes) {
    return cudnnGetConvolutionForwardWorkspaceSize(h, p.input.get(), p.filter.get(), p.conv.get(), p.output.get(), algo,
                                                   bytes);
  }
};

struct BackwardInputApi {
  using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
  static cudnnStatus_t max_count(cudnnHandle_t h, int* count) {
    return cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, count);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnFindConvolutionBackwardDataAlgorithm(h, p.filter.get(), p.output.get(), p.conv.get(), p.input.get(), n,
                                                     returned, perf);
  }
  static cudnnStatus_t heuristic(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p.filter.get(), p.output.get(), p.conv.get(), p.input.get(),
                                                       n, returned, perf);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, decltype(Perf::algo) algo, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardDataWorkspaceSize(h, p.filter.get(), p.output.get(), p.conv.get(), p.input.get(),
                                                        algo, bytes);
  }
};

struct BackwardWeightApi {
  using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
  static cudnnStatus_t max_count(cudnnHandle_t h, int* count) {
    return cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, count);
  }
  static cudnnStatus_t find(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnFindConvolutionBackwardFilterAlgorithm(h, p.input.get(), p.output.get(), p.conv.get(), p.filter.get(),
                                                       n, returned, perf);
  }
  static cudnnStatus_t heuristic(cudnnHandle_t h, const Plan& p, int n, int* returned, Perf* perf) {
    return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p.input.get(), p.output.get(), p.conv.get(), p.filter.get(),
                                                         n, returned, perf);
  }
  static cudnnStatus_t workspace(cudnnHandle_t h, const Plan& p, decltype(Perf::algo) algo, std::size_t* bytes) {
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p.input.get(), p.output.get(), p.conv.get(),
                                                          p.filter.get(), algo, bytes);
  }
};

// Ranks candidates by Find (timed) or by the heuristic, then takes the first that succeeded and
// fits the workspace limit, with the math type cuDNN reported for it.
template <class Api>
void choose(cudnnHandle_t handle, Plan& plan, CudnnAlgoSearch search) {
  int max_count = 0;
  PANS_CUDNN_CHECK(Api::max_count(handle, &max_count));
  PANS_CHECK(max_count > 0, "cuDNN convolution: no algorithms");
  std::vector<typename Api::Perf> perf(static_cast<std::size_t>(max_count));
  int returned = 0;
  std::string how = "heuristic";
  if (search == CudnnAlgoSearch::Find) {
    const cudnnStatus_t status = Api::find(handle, plan, max_count, &returned, perf.data());
    if (status == CUDNN_STATUS_SUCCESS) {
      how = "find";
    } else {
      // Find allocates with cudaMalloc outside the caching pool and can run out of memory there;
      // the heuristic needs nothing. Clear the sticky error Find may leave behind.
      how = std::string("heuristic (find failed: ") + cudnnGetErrorString(status) + ")";
      returned = 0;
      (void)cudaGetLastError();
    }
  }
  if (returned == 0) PANS_CUDNN_CHECK(Api::heuristic(handle, plan, max_count, &returned, perf.data()));

  std::string rejected;
  for (int i = 0; i < returned; ++i) {
    const auto& candidate = perf[std::size_t(i)];
    if (candidate.status != CUDNN_STATUS_SUCCESS) continue;
    PANS_CUDNN_CHECK(cudnnSetConvolutionMathType(plan.conv.get(), candidate.mathType));
    std::size_t bytes = 0;
    if (Api::workspace(handle, plan, candidate.algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
    if (bytes > kernel_configuration().cudnn_workspace_bytes) {
      rejected += std::string(" ") + algo_name(candidate.algo) + " (" + std::to_string(bytes >> 20) + " MiB)";
      continue;
    }
    plan.algo = int(candidate.algo);
    plan.choice.algo = algo_name(candidate.algo);
    plan.choice.math = math_name(candidate.mathType);
    plan.choice.workspace_bytes = bytes;
    plan.choice.deterministic = candidate.determinism == CUDNN_DETERMINISTIC;
    plan.choice.search = how;
    if (how == "find") {
      char time[32];
      std::snprintf(time, sizeof(time), " (%.3f ms)", double(candidate.time));
      plan.choice.search += time;
    }
    return;
  }
  PANS_FAIL("cuDNN convolution: no usable algorithm among ", returned, " candidates (", how, ")",
            rejected.empty() ? std::string() : "; over the workspace limit:" + rejected);
}

const Plan& plan_for(const Conv2dGeometry& g, DType dtype, Conv2dPass pass) {
  static std::mutex mutex;
  static std::map<PlanKey, std::unique_ptr<Plan>> plans;
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  const PlanKey key = plan_key(g, dtype, pass, device);
  const std::lock_guard<std::mutex> lock(mutex);
  auto found = plans.find(key);
  if (found != plans.end()) return *found->second;

  auto plan = std::make_unique<Plan>();
  describe(*plan, g, dtype);
  const CudnnAlgoSearch search = kernel_configuration().cudnn_search;
  cudnnHandle_t handle = cudnn_handle();
  switch (pass) {
    case Conv2dPass::Forward:
      choose<ForwardApi>(handle, *plan, search);
      break;
    case Conv2dPass::BackwardInput:
      choose<BackwardInputApi>(handle, *plan, search);
      break;
    case Conv2dPass::BackwardWeight:
      choose<BackwardWeightApi>(handle, *plan, search);
      break;
  }
  return *plans.emplace(key, std::move(plan)).first->second;
}

// Workspace from the caching allocator; released (stream-ordered) when the caller's scope ends.
Tensor workspace_tensor(std::size_t bytes) {
  if (bytes == 0) return Tensor();
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  return Tensor::empty({std::int64_t(bytes)}, DType::U8, Device::cuda(device));
}

void* workspace_pointer(Tensor& workspace) { return workspace.defined() ? workspace.raw_data() : nullptr; }

// A temporary of `count` elements on the current device (caching allocator, stream-ordered free).
Tensor device_tensor(std::int64_t count, DType dtype) {
  int device = 0;
  PANS_CUDA_CHECK(cudaGetDevice(&device));
  return Tensor::empty({count}, dtype, Device::cuda(device));
}

}  // namespace

const char* conv2d_pass_name(Conv2dPass pass) {
  switch (pass) {
    case Conv2dPass::Forward:
      return "fwd";
    case Conv2dPass::BackwardInput:
      return "dgrad";
    case Conv2dPass::BackwardWeight:
      return "wgrad";
  }
  return "?";
}

Conv2dCudnnChoice conv2d_cudnn_choice(const Conv2dGeometry& g, DType dtype, Conv2dPass pass) {
  return plan_for(g, dtype, pass).choice;
}

void conv2d_forward_cudnn(const Conv2dGeometry& g, DType dtype, const void* x, const void* w, const float* bias,
                          void* y) {
  const Plan& plan = plan_for(g, dtype, Conv2dPass::Forward);
  cudnnHandle_t handle = cudnn_handle();
  Tensor workspace = workspace_tensor(plan.choice.workspace_bytes);
  const float one = 1.0f, zero = 0.0f;
  PANS_CUDNN_CHECK(cudnnConvolutionForward(handle, &one, plan.input.get(), x, plan.filter.get(), w, plan.conv.get(),
                                           cudnnConvolutionFwdAlgo_t(plan.algo), workspace_pointer(workspace),
                                           plan.choice.workspace_bytes, &zero, plan.output.get(), y));
  if (bias == nullptr) return;
  if (dtype == DType::F32) {
    PANS_CUDNN_CHECK(cudnnAddTensor(handle, &one, plan.bias.get(), bias, &one, plan.output.get(), y));
    return;
  }
  Tensor rounded = device_tensor(g.out_channels, DType::BF16);
  convert_float_to_bf16(bias, rounded.data<bf16>(), g.out_channels);
  PANS_CUDNN_CHECK(cudnnAddTensor(handle, &one, plan.bias.get(), rounded.raw_data(), &one, plan.output.get(), y));
}

void conv2d_backward_input_cudnn(const Conv2dGeometry& g, DType dtype, const void* dy, const void* w, void* dx) {
  const Plan& plan = plan_for(g, dtype, Conv2dPass::BackwardInput);
  cudnnHandle_t handle = cudnn_handle();
  Tensor workspace = workspace_tensor(plan.choice.workspace_bytes);
  const float one = 1.0f, zero = 0.0f;
  PANS_CUDNN_CHECK(cudnnConvolutionBackwardData(handle, &one, plan.filter.get(), w, plan.output.get(), dy,
                                                plan.conv.get(), cudnnConvolutionBwdDataAlgo_t(plan.algo),
                                                workspace_pointer(workspace), plan.choice.workspace_bytes, &zero,
                                                plan.input.get(), dx));
}

void conv2d_backward_weight_cudnn(const Conv2dGeometry& g, DType dtype, const void* dy, const void* x, void* dw,
                                  void* dbias, DType grad_dtype) {
  PANS_CHECK(grad_dtype == dtype || grad_dtype == DType::F32, "conv2d_backward_weight_cudnn: gradients of ",
             dtype_name(grad_dtype), " beside ", dtype_name(dtype), " activations (expected ", dtype_name(dtype),
             " or float32)");
  const Plan& plan = plan_for(g, dtype, Conv2dPass::BackwardWeight);
  cudnnHandle_t handle = cudnn_handle();
  Tensor workspace = workspace_tensor(plan.choice.workspace_bytes);
  const float one = 1.0f, zero = 0.0f;
  // cuDNN writes dw and dbias in dtype: accumulate directly (beta = 1) when that is what the caller
  // keeps, else write (beta = 0) a bfloat16 temporary and add it into the float32 gradient.
  const bool direct = grad_dtype == dtype;
  const std::int64_t weights = g.out_channels * g.kernel_height * g.kernel_width * g.in_channels;
  Tensor dw_rounded = direct ? Tensor() : device_tensor(weights, dtype);
  PANS_CUDNN_CHECK(cudnnConvolutionBackwardFilter(
      handle, &one, plan.input.get(), x, plan.output.get(), dy, plan.conv.get(),
      cudnnConvolutionBwdFilterAlgo_t(plan.algo), workspace_pointer(workspace), plan.choice.workspace_bytes,
      direct ? &one : &zero, plan.filter.get(), direct ? dw : dw_rounded.raw_data()));
  if (!direct) accumulate_bf16_into_float(dw_rounded.data<bf16>(), static_cast<float*>(dw), weights);
  if (dbias == nullptr) return;
  Tensor dbias_rounded = direct ? Tensor() : device_tensor(g.out_channels, dtype);
  PANS_CUDNN_CHECK(cudnnConvolutionBackwardBias(handle, &one, plan.output.get(), dy, direct ? &one : &zero,
                                                plan.bias.get(), direct ? dbias : dbias_rounded.raw_data()));
  if (!direct) accumulate_bf16_into_float(dbias_rounded.data<bf16>(), static_cast<float*>(dbias), g.out_channels);
}

}  // namespace pans::cuda
