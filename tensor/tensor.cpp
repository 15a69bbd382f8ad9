#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "tensor/allocator.h"
#include "tensor/cuda_runtime.h"

namespace pans {

struct Tensor::Storage {
  Storage(std::size_t bytes, Device device)
      : allocator(&allocator_for(device)), pointer(allocator->allocate(bytes)), bytes(bytes) {}
  explicit Storage(void* borrowed) : allocator(nullptr), pointer(borrowed), bytes(0) {}
  ~Storage() {
    if (allocator != nullptr) allocator->deallocate(pointer, bytes);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  Allocator* allocator;  // null for borrowed memory
  void* pointer;
  std::size_t bytes;
};

namespace {

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

std::int64_t element_count(const Shape& shape) {
  std::int64_t count = 1;
  for (std::int64_t extent : shape) count *= extent;
  return count;
}

// Calls visit(element_offset) for every element of a strided view, in row-major order.
template <class Visit>
void for_each_offset(const Shape& shape, const Shape& strides, std::int64_t base, Visit visit) {
  const std::int64_t count = element_count(shape);
  std::vector<std::int64_t> index(shape.size(), 0);
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t offset = base;
    for (std::size_t axis = 0; axis < shape.size(); ++axis) offset += index[axis] * strides[axis];
    visit(i, offset);
    for (std::size_t axis = shape.size(); axis-- > 0;) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
}

}  // namespace

std::string shape_str(const Shape& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (std::int64_t extent : shape)
    PANS_CHECK(extent >= 0, "Tensor::empty: negative extent in shape ", shape_str(shape));
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.strides_ = contiguous_strides(shape);
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.storage_ = std::make_shared<Storage>(std::size_t(element_count(shape)) * dtype_size(dtype), device);
  return tensor;
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dtype, Device device) {
  PANS_CHECK(data != nullptr || element_count(shape) == 0, "Tensor::wrap: null data for shape ", shape_str(shape));
  Tensor tensor;
  tensor.shape_ = shape;
  tensor.strides_ = contiguous_strides(shape);
  tensor.dtype_ = dtype;
  tensor.device_ = device;
  tensor.storage_ = std::make_shared<Storage>(data);
  return tensor;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor tensor = empty(shape, dtype, device);
  tensor.zero_();
  return tensor;
}

std::int64_t Tensor::dim(int axis) const {
  const int resolved = axis < 0 ? axis + ndim() : axis;
  PANS_CHECK(resolved >= 0 && resolved < ndim(), "Tensor::dim: axis ", axis, " out of range for shape ",
             shape_str(shape_));
  return shape_[resolved];
}

std::int64_t Tensor::numel() const { return element_count(shape_); }

bool Tensor::is_contiguous() const {
  const Shape expected = contiguous_strides(shape_);
  for (std::size_t i = 0; i < shape_.size(); ++i)
    if (shape_[i] != 1 && strides_[i] != expected[i]) return false;
  return true;
}

void Tensor::check_dtype(DType requested) const {
  PANS_CHECK(defined(), "Tensor::data: the tensor is undefined");
  PANS_CHECK(requested == dtype_, "Tensor::data<", dtype_name(requested), ">: ", describe("tensor"), " holds ",
             dtype_name(dtype_));
}

void* Tensor::raw_data() {
  PANS_CHECK(defined(), "Tensor::raw_data: the tensor is undefined");
  return static_cast<char*>(storage_->pointer) + offset_ * std::int64_t(dtype_size(dtype_));
}

const void* Tensor::raw_data() const { return const_cast<Tensor*>(this)->raw_data(); }

Tensor Tensor::to(Device device) const {
  PANS_CHECK(defined(), "Tensor::to: the tensor is undefined");
  Tensor result = empty(shape_, dtype_, device);
  result.copy_from(*this);
  return result;
}

void Tensor::copy_from(const Tensor& source) {
  PANS_CHECK(defined() && source.defined(), "Tensor::copy_from: undefined tensor");
  PANS_CHECK(same_shape(source) && dtype_ == source.dtype_, "Tensor::copy_from: ", source.describe("source"), " into ",
             describe("destination"));
  if (is_contiguous() && source.is_contiguous()) {
    copy_bytes(raw_data(), device_, source.raw_data(), source.device_, nbytes());
    return;
  }
  // Strided views are gathered element by element on the host.
  PANS_CHECK(device_.is_cpu() && source.device_.is_cpu(), "Tensor::copy_from: strided copies need cpu tensors, got ",
             source.describe("source"), " and ", describe("destination"));
  const std::size_t element = dtype_size(dtype_);
  const char* source_bytes = static_cast<const char*>(source.storage_->pointer);
  char* destination_bytes = static_cast<char*>(storage_->pointer);
  std::vector<std::int64_t> destination_offsets(static_cast<std::size_t>(numel()));
  for_each_offset(shape_, strides_, offset_,
                  [&](std::int64_t i, std::int64_t offset) { destination_offsets[std::size_t(i)] = offset; });
  for_each_offset(source.shape_, source.strides_, source.offset_, [&](std::int64_t i, std::int64_t offset) {
    std::memcpy(destination_bytes + destination_offsets[std::size_t(i)] * std::int64_t(element),
                source_bytes + offset * std::int64_t(element), element);
  });
}

void Tensor::zero_() {
  PANS_CHECK(defined(), "Tensor::zero_: the tensor is undefined");
  PANS_CHECK(is_contiguous(), "Tensor::zero_: ", describe("tensor"), " is not contiguous");
  zero_bytes(raw_data(), device_, nbytes());
}

namespace {

template <class To, class From>
To convert(From value) {
  if constexpr (std::is_same_v<From, To>)
    return value;
  else if constexpr (std::is_same_v<From, bf16>)
    return To(bf16_to_float(value));
  else if constexpr (std::is_same_v<To, bf16>)
    return float_to_bf16(float(value));
  else
    return To(value);
}

template <class From>
void cast_from(const Tensor& source, Tensor& result) {
  const From* in = source.data<From>();
  const std::int64_t count = source.numel();
  switch (result.dtype()) {
    case DType::F32:
      std::transform(in, in + count, result.data<float>(), convert<float, From>);
      break;
    case DType::F64:
      std::transform(in, in + count, result.data<double>(), convert<double, From>);
      break;
    case DType::BF16:
      std::transform(in, in + count, result.data<bf16>(), convert<bf16, From>);
      break;
    default:
      PANS_FAIL("Tensor::cast: unsupported target ", dtype_name(result.dtype()));
  }
}

}  // namespace

Tensor Tensor::cast(DType dtype) const {
  PANS_CHECK(device_.is_cpu(), "Tensor::cast: ", describe("tensor"), " is not on the cpu");
  const Tensor source = is_contiguous() ? *this : clone();
  Tensor result = empty(shape_, dtype, device_);
  switch (dtype_) {
    case DType::F32:
      cast_from<float>(source, result);
      break;
    case DType::F64:
      cast_from<double>(source, result);
      break;
    case DType::BF16:
      cast_from<bf16>(source, result);
      break;
    default:
      PANS_FAIL("Tensor::cast: ", describe("tensor"), " cannot be cast to ", dtype_name(dtype));
  }
  return result;
}

Tensor Tensor::reshape(const Shape& shape) const {
  PANS_CHECK(is_contiguous(), "Tensor::reshape: ", describe("tensor"), " is not contiguous");
  PANS_CHECK(element_count(shape) == numel(), "Tensor::reshape: ", describe("tensor"), " cannot become ",
             shape_str(shape));
  Tensor view = *this;
  view.shape_ = shape;
  view.strides_ = contiguous_strides(shape);
  return view;
}

Tensor Tensor::narrow(int axis, std::int64_t start, std::int64_t length) const {
  const int resolved = axis < 0 ? axis + ndim() : axis;
  PANS_CHECK(resolved >= 0 && resolved < ndim(), "Tensor::narrow: axis ", axis, " out of range for ",
             describe("tensor"));
  PANS_CHECK(start >= 0 && length >= 0 && start + length <= shape_[resolved], "Tensor::narrow: [", start, ", ",
             start + length, ") outside axis ", axis, " of ", describe("tensor"));
  Tensor view = *this;
  view.offset_ += start * strides_[resolved];
  view.shape_[resolved] = length;
  return view;
}

std::string Tensor::describe(const std::string& name) const {
  if (!defined()) return name + " (undefined)";
  return name + " " + shape_str(shape_) + " " + dtype_name(dtype_) + " " + device_.str();
}

}  // namespace pans
