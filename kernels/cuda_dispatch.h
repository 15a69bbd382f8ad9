// The device branch of every op's dispatch: CUDA tensors run `launch` on their GPU (float32 only),
// CPU tensors fall through to the CPU oracle. Called after the op's checks, which made all
// arguments share `tensor`'s device and dtype.
#pragma once

#include "kernels/op_check.h"

#ifdef PANS_WITH_CUDA
#include "tensor/cuda_check.h"
#endif

namespace pans {

// Returns true when it ran `launch` on the GPU, false for CPU tensors; throws for float64 CUDA
// tensors and, in a build without CUDA, for any CUDA tensor.
template <class Launch>
bool ran_on_cuda(const OpCheck& check, const Tensor& tensor, [[maybe_unused]] Launch launch) {
  if (!tensor.device().is_cuda()) return false;
#ifdef PANS_WITH_CUDA
  check.require(tensor.dtype() == DType::F32, "float64 is CPU-only; CUDA kernels take float32");
  CudaDeviceGuard guard(tensor.device().index);
  launch();
  return true;
#else
  fail_built_without_cuda(check);
#endif
}

}  // namespace pans
