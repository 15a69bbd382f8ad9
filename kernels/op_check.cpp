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

void fail_not_implemented_on_cuda(const OpCheck& check) {
  check.fail("not implemented on CUDA yet (see the CUDA backend issue); move the tensors to the cpu");
}

}  // namespace pans
