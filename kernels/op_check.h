// Argument validation shared by every op's public entry point. A failed check throws pans::Error
// whose message names the op and every argument with its shape, dtype and device, e.g.
//   conv2d_forward(x [2,5,7,3] float32 cpu, w [4,3,3,5] float32 cpu): w expects 5 input channels, x has 3
#pragma once

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "kernels/shared/resample_geometry.h"
#include "tensor/tensor.h"

namespace pans {

class OpCheck {
 public:
  // Undefined tensors in `arguments` are optional arguments left out (a missing bias, say).
  OpCheck(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> arguments);

  template <class... Parts>
  void require(bool condition, const Parts&... parts) const {
    if (!condition) fail(detail::concat(parts...));
  }
  [[noreturn]] void fail(const std::string& what) const;

  const char* op() const { return op_; }

  // Each defined argument: on one device and contiguous. The arguments named in `integer_arguments`
  // (labels, argmax indices) must have the dtype given there. The other, floating, arguments are
  // float32, float64 or (CUDA tensors only) bfloat16 storage; a bfloat16 tensor on the cpu fails
  // with "bfloat16 tensors are CUDA-only storage". The floating arguments not named in
  // `master_arguments` (the activations and their gradients) share one dtype. The master arguments
  // (parameters, statistics and their gradients: mixed precision keeps them float32) share the
  // activations' dtype, except beside bfloat16 activations, where they must be float32; with no
  // activation among the arguments, they share one another's dtype.
  void same_device_float_contiguous(std::initializer_list<std::pair<const char*, DType>> integer_arguments = {},
                                    std::initializer_list<const char*> master_arguments = {}) const;
  void rank(const char* name, const Tensor& tensor, int expected) const;
  void shape(const char* name, const Tensor& tensor, const Shape& expected) const;
  void dtype(const char* name, const Tensor& tensor, DType expected) const;

 private:
  const char* op_;
  std::vector<std::pair<const char*, const Tensor*>> arguments_;
};

[[noreturn]] void fail_not_implemented_on_cuda(const OpCheck& check);
// For a bfloat16 tensor reaching an op that has no bfloat16 kernel; names the op.
[[noreturn]] void fail_no_bf16_kernel(const OpCheck& check);
// For CUDA ops whose kernels take float32 only: fails for float64 (CPU-only) and for bfloat16 (no
// bfloat16 kernel for this op).
void require_cuda_float32(const OpCheck& check, const Tensor& tensor);
// For CUDA tensors in a build without CUDA (they can only come from Tensor::wrap).
[[noreturn]] void fail_built_without_cuda(const OpCheck& check);

// For ops mapping {N,H,W,C} to {N,OH,OW,C} (adaptive pooling, resizing): both rank 4, nonempty
// images, the same batch and channels.
ResampleGeometry resample_geometry(const OpCheck& check, const char* input_name, const Tensor& input,
                                   const char* output_name, const Tensor& output);

// A new {N,OH,OW,C} tensor for x's resampled output, on x's device and dtype.
Tensor resampled_output(const char* op, const Tensor& x, std::int64_t out_height, std::int64_t out_width);

// Calls body(T{}) with T the C++ type of a floating dtype (float or double): the CPU oracle's
// types. bfloat16 never gets here from an op's CPU path (the checks refuse bfloat16 cpu tensors);
// an op that dispatches CUDA tensors through it too (random) has no bfloat16 kernel.
template <class Body>
void dispatch_floating(const OpCheck& check, DType dtype, Body&& body) {
  switch (dtype) {
    case DType::F32:
      body(float{});
      return;
    case DType::F64:
      body(double{});
      return;
    case DType::BF16:
      fail_no_bf16_kernel(check);
    default:
      check.fail(std::string("unsupported dtype ") + dtype_name(dtype) + " (expected float32 or float64)");
  }
}

}  // namespace pans
