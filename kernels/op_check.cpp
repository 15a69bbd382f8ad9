#include "kernels/op_check.h"

#include <algorithm>

namespace pans {

OpCheck::OpCheck(const char* op, std::initializer_list<std::pair<const char*, const Tensor*>> arguments)
    : op_(op), arguments_(arguments) {}

void OpCheck::fail(const std::string& what) const {
  std::string message = std::string(op_) + "(";
  for (std::size_t i = 0; i < arguments_.size(); ++i)
    message += (i ? ", " : "") + arguments_[i].second->describe(arguments_[i].first);
  throw Error(message + "): " + what);
}

void OpCheck::same_device_float_contiguous(
    std::initializer_list<std::pair<const char*, DType>> integer_arguments) const {
  const Tensor* first = nullptr;
  const Tensor* first_float = nullptr;
  const char* first_name = nullptr;
  const char* first_float_name = nullptr;
  for (const auto& [name, tensor] : arguments_) {
    if (!tensor->defined()) continue;
    require(tensor->is_contiguous(), name, " must be contiguous");
    if (first == nullptr) {
      first = tensor;
      first_name = name;
    }
    require(tensor->device() == first->device(), "all tensors must be on one device, ", name, " is on ",
            tensor->device().str(), " and ", first_name, " on ", first->device().str());
    const auto integer = std::find_if(integer_arguments.begin(), integer_arguments.end(),
                                      [&](const auto& entry) { return std::string(entry.first) == name; });
    if (integer != integer_arguments.end()) {
      require(tensor->dtype() == integer->second, name, " must be ", dtype_name(integer->second));
      continue;
    }
    require(tensor->dtype() == DType::F32 || tensor->dtype() == DType::F64, name, " must be float32 or float64");
    if (first_float == nullptr) {
      first_float = tensor;
      first_float_name = name;
    }
    require(tensor->dtype() == first_float->dtype(), "all tensors must share one dtype, ", name, " is ",
            dtype_name(tensor->dtype()), " and ", first_float_name, " is ", dtype_name(first_float->dtype()));
  }
}

void OpCheck::rank(const char* name, const Tensor& tensor, int expected) const {
  require(tensor.defined(), name, " is undefined");
  require(tensor.ndim() == expected, name, " must have ", expected, " dimensions, it has ", tensor.ndim());
}

void OpCheck::shape(const char* name, const Tensor& tensor, const Shape& expected) const {
  require(tensor.defined(), name, " is undefined");
  require(tensor.shape() == expected, name, " must have shape ", shape_str(expected));
}

void OpCheck::dtype(const char* name, const Tensor& tensor, DType expected) const {
  require(tensor.defined(), name, " is undefined");
  require(tensor.dtype() == expected, name, " must be ", dtype_name(expected));
}

cpu::ResampleGeometry resample_geometry(const OpCheck& check, const char* input_name, const Tensor& input,
                                        const char* output_name, const Tensor& output) {
  check.rank(input_name, input, 4);
  check.rank(output_name, output, 4);
  check.require(input.dim(1) > 0 && input.dim(2) > 0, input_name, " must have a nonempty image");
  check.require(output.dim(1) > 0 && output.dim(2) > 0, output_name, " must have a nonempty image");
  check.require(output.dim(0) == input.dim(0) && output.dim(3) == input.dim(3), output_name,
                " must have the batch and channels of ", input_name);
  return {input.dim(0), input.dim(1), input.dim(2), input.dim(3), output.dim(1), output.dim(2)};
}

Tensor resampled_output(const char* op, const Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  PANS_CHECK(x.ndim() == 4 && out_height > 0 && out_width > 0, op, ": ", x.describe("x"),
             " must have 4 dimensions and the output size ", out_height, "x", out_width, " must be positive");
  return Tensor::empty({x.dim(0), out_height, out_width, x.dim(3)}, x.dtype(), x.device());
}

void fail_built_without_cuda(const OpCheck& check) {
  check.fail("pans was built without CUDA (-DPANS_CUDA=OFF and no SIMT emulator); move the tensors to the cpu");
}

void fail_not_implemented_on_cuda(const OpCheck& check) {
  check.fail("not implemented on CUDA yet (see the CUDA backend issue); move the tensors to the cpu");
}

}  // namespace pans
