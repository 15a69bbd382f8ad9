// The device branch of every op's dispatch: CUDA tensors run a launch on their GPU, CPU tensors
// fall through to the CPU oracle. Called after the op's checks (OpCheck::same_device_float_contiguous),
// which made all arguments share `tensor`'s device and the activations share its dtype.
//
// Two forms, by what kernels an op has:
//   ran_on_cuda(check, x, [&] { cuda::op(x.data<float>(), ...); })              float32 kernels only;
//   ran_on_cuda_with_bf16(check, x, [&](auto storage) {                         float32 and bfloat16
//     using S = decltype(storage);                                              storage kernels: S is
//     cuda::op<S>(x.data<S>(), w.data<float>(), ...);                           float or pans::bf16
//   });
// Both refuse float64 CUDA tensors; the first also refuses bfloat16 ones, naming the op.
#pragma once

#include "kernels/op_check.h"
#include "tensor/dtype.h"

#ifdef PANS_WITH_CUDA
#include "tensor/cuda_check.h"
#endif

namespace pans {

// Returns true when it ran `launch()` on the GPU, false for CPU tensors; throws for float64 and
// bfloat16 CUDA tensors and, in a build without CUDA, for any CUDA tensor.
template <class Launch>
bool ran_on_cuda(const OpCheck& check, const Tensor& tensor, [[maybe_unused]] Launch launch) {
  if (!tensor.device().is_cuda()) return false;
#ifdef PANS_WITH_CUDA
  require_cuda_float32(check, tensor);
  CudaDeviceGuard guard(tensor.device().index);
  launch();
  return true;
#else
  fail_built_without_cuda(check);
#endif
}

// Returns true when it ran `launch(float{})` (float32 `tensor`) or `launch(bf16{})` (bfloat16
// `tensor`) on the GPU, false for CPU tensors; throws for float64 CUDA tensors and, in a build
// without CUDA, for any CUDA tensor. `tensor` is an activation: its dtype picks the storage type.
template <class Launch>
bool ran_on_cuda_with_bf16(const OpCheck& check, const Tensor& tensor, [[maybe_unused]] Launch launch) {
  if (!tensor.device().is_cuda()) return false;
#ifdef PANS_WITH_CUDA
  check.require(tensor.dtype() == DType::F32 || tensor.dtype() == DType::BF16,
                "float64 is CPU-only; CUDA kernels take float32 (or bfloat16 storage)");
  CudaDeviceGuard guard(tensor.device().index);
  if (tensor.dtype() == DType::BF16)
    launch(bf16{});
  else
    launch(float{});
  return true;
#else
  fail_built_without_cuda(check);
#endif
}

}  // namespace pans
