// The library paths in builds without them: CPU-only builds, the SIMT emulator (which cannot run
// library kernels) and native CUDA builds where CMake found no cuDNN. Every entry point throws, so
// PANS_CONV=cudnn or PANS_BN=cudnn fails loudly instead of linking differently per build.
#include <string>

#include "kernels/cuda/conv2d_cudnn.h"
#include "kernels/cuda/gemm_cublas.h"
#include "kernels/cuda/iabn_cudnn.h"
#include "tensor/error.h"

namespace pans::cuda {
namespace {

[[noreturn]] void fail_without_libraries(const char* what) {
  PANS_FAIL(what,
            ": cuDNN/cuBLAS are not part of this build (native CUDA builds with cuDNN only; the SIMT "
            "emulator cannot run library kernels)");
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

Conv2dCudnnChoice conv2d_cudnn_choice(const Conv2dGeometry&, DType, Conv2dPass) {
  fail_without_libraries("conv2d_cudnn_choice");
}

void conv2d_forward_cudnn(const Conv2dGeometry&, DType, const void*, const void*, const float*, void*) {
  fail_without_libraries("conv2d_forward_cudnn");
}

void conv2d_backward_input_cudnn(const Conv2dGeometry&, DType, const void*, const void*, void*) {
  fail_without_libraries("conv2d_backward_input_cudnn");
}

void conv2d_backward_weight_cudnn(const Conv2dGeometry&, DType, const void*, const void*, void*, void*, DType) {
  fail_without_libraries("conv2d_backward_weight_cudnn");
}

std::size_t cudnn_batch_norm_reserve_bytes(const BatchNormShape&, DType) {
  fail_without_libraries("cudnn_batch_norm_reserve_bytes");
}

void cudnn_batch_norm_forward_training(const BatchNormShape&, DType, const void*, void*, const float*, const float*,
                                       float*, float*, float*, float*, double, double, void*, std::size_t) {
  fail_without_libraries("cudnn_batch_norm_forward_training");
}

void cudnn_batch_norm_forward_inference(const BatchNormShape&, DType, const void*, void*, const float*, const float*,
                                        const float*, const float*, double) {
  fail_without_libraries("cudnn_batch_norm_forward_inference");
}

void cudnn_batch_norm_backward(const BatchNormShape&, DType, const void*, const void*, void*, const float*,
                               const float*, float*, float*, const float*, const float*, double, void*, std::size_t) {
  fail_without_libraries("cudnn_batch_norm_backward");
}

const char* gemm_math_name(GemmMath math) {
  switch (math) {
    case GemmMath::Tf32:
      return "tf32";
    case GemmMath::Fp32:
      return "fp32";
    case GemmMath::Bf16:
      return "bf16";
  }
  return "?";
}

void gemm_cublas(GemmMath, std::int64_t, std::int64_t, std::int64_t, const void*, const void*, void*) {
  fail_without_libraries("gemm_cublas");
}

}  // namespace pans::cuda
