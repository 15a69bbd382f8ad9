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

namespace {

bool is_floating(DType dtype) { return dtype == DType::F32 || dtype == DType::F64 || dtype == DType::BF16; }

template <class List>
bool named_in(const List& names, const char* name) {
  return std::any_of(names.begin(), names.end(), [&](const char* entry) { return std::string(entry) == name; });
}

}  // namespace

void OpCheck::same_device_float_contiguous(std::initializer_list<std::pair<const char*, DType>> integer_arguments,
                                           std::initializer_list<const char*> master_arguments) const {
  const auto integer_dtype = [&](const char* name) -> const DType* {
    const auto entry = std::find_if(integer_arguments.begin(), integer_arguments.end(),
                                    [&](const auto& candidate) { return std::string(candidate.first) == name; });
    return entry == integer_arguments.end() ? nullptr : &entry->second;
  };
  // The dtype every floating argument is compared with: the first activation's (the first master's
  // when there is no activation). Only picked here; the loop below reports in argument order.
  const char* reference_name = nullptr;
  const Tensor* reference = nullptr;
  for (bool masters : {false, true})
    for (const auto& [name, tensor] : arguments_)
      if (reference == nullptr && tensor->defined() && integer_dtype(name) == nullptr &&
          named_in(master_arguments, name) == masters && is_floating(tensor->dtype())) {
        reference_name = name;
        reference = tensor;
      }
  const bool mixed_precision =
      reference != nullptr && reference->dtype() == DType::BF16 && !named_in(master_arguments, reference_name);

  const Tensor* first = nullptr;
  const char* first_name = nullptr;
  for (const auto& [name, tensor] : arguments_) {
    if (!tensor->defined()) continue;
    require(tensor->is_contiguous(), name, " must be contiguous");
    if (first == nullptr) {
      first = tensor;
      first_name = name;
    }
    require(tensor->device() == first->device(), "all tensors must be on one device, ", name, " is on ",
            tensor->device().str(), " and ", first_name, " on ", first->device().str());
    if (const DType* integer = integer_dtype(name)) {
      require(tensor->dtype() == *integer, name, " must be ", dtype_name(*integer));
      continue;
    }
    require(is_floating(tensor->dtype()), name, " must be float32 or float64 (or bfloat16 on CUDA)");
    require(tensor->dtype() != DType::BF16 || tensor->device().is_cuda(), name,
            " is bfloat16 on the cpu: bfloat16 tensors are CUDA-only storage (the CPU oracle computes in float32 "
            "or float64; cast first)");
    if (mixed_precision && named_in(master_arguments, name))
      require(tensor->dtype() == DType::F32, name, " must be float32 beside bfloat16 activations (", reference_name,
              " is bfloat16; parameters and statistics stay float32), ", name, " is ", dtype_name(tensor->dtype()));
    else
      require(tensor->dtype() == reference->dtype(), "all tensors must share one dtype, ", name, " is ",
              dtype_name(tensor->dtype()), " and ", reference_name, " is ", dtype_name(reference->dtype()));
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

ResampleGeometry resample_geometry(const OpCheck& check, const char* input_name, const Tensor& input,
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

void fail_no_bf16_kernel(const OpCheck& check) {
  check.fail(std::string(check.op()) +
             " has no bfloat16 kernel (bfloat16 is activation storage for the ops that declare it); give it float32 "
             "tensors");
}

void require_cuda_float32(const OpCheck& check, const Tensor& tensor) {
  if (tensor.dtype() == DType::BF16) fail_no_bf16_kernel(check);
  check.require(tensor.dtype() == DType::F32, "float64 is CPU-only; CUDA kernels take float32");
}

void fail_not_implemented_on_cuda(const OpCheck& check) {
  check.fail("has no CUDA kernel; move the tensors to the cpu");
}

}  // namespace pans
