// A Tensor is a view (shape, strides, element offset, dtype) of a reference-counted block of
// memory on one device. Copying a Tensor shares the memory, as in PyTorch; clone() copies it.
//
// Conventions used by every op in pans:
//   activations are NHWC (channels last): shape {N, H, W, C};
//   convolution weights are {out, kh, kw, in};
//   per-pixel labels are uint8 {N, H, W}.
// No accessor moves data between devices behind the caller's back: to() and copy_from() are the
// only transfers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/error.h"

namespace pans {

using Shape = std::vector<std::int64_t>;

std::string shape_str(const Shape& shape);  // "[2,5,7,3]"

class Tensor {
 public:
  Tensor() = default;  // undefined: holds no memory

  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::cpu());
  // A CPU tensor holding `values` (row-major); values.size() must equal the shape's element count.
  template <class T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // A contiguous view of memory owned elsewhere (a pinned buffer, a communication buffer, a mapped
  // file); the caller keeps it alive while the tensor exists.
  static Tensor wrap(void* data, const Shape& shape, DType dtype, Device device);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }  // in elements
  int ndim() const { return int(shape_.size()); }
  std::int64_t dim(int axis) const;  // negative axes count from the end
  std::int64_t numel() const;
  std::size_t nbytes() const { return std::size_t(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool is_contiguous() const;
  bool same_shape(const Tensor& other) const { return shape_ == other.shape_; }

  // Typed pointer to the first element (host or device address). Throws if T is not the dtype.
  template <class T>
  T* data();
  template <class T>
  const T* data() const;
  void* raw_data();
  const void* raw_data() const;

  // Host-side element access for tests and small setup code; CPU tensors only, row-major index.
  template <class T>
  std::vector<T> to_vector() const;

  Tensor to(Device device) const;  // a contiguous copy on `device` (a copy even if already there)
  Tensor clone() const { return to(device_); }
  Tensor cast(DType dtype) const;        // CPU only: float32/float64/bfloat16 conversions
  void copy_from(const Tensor& source);  // same shape and dtype, any devices
  void zero_();

  // Views sharing memory.
  Tensor reshape(const Shape& shape) const;  // contiguous tensors only
  Tensor narrow(int axis, std::int64_t start, std::int64_t length) const;

  // "x [2,5,7,3] float32 cpu": how error messages name an argument.
  std::string describe(const std::string& name) const;

 private:
  struct Storage;
  std::shared_ptr<Storage> storage_;
  std::int64_t offset_ = 0;  // in elements
  Shape shape_;
  Shape strides_;
  DType dtype_ = DType::F32;
  Device device_;

  void check_dtype(DType requested) const;
};

template <class T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  Tensor result = empty(shape, dtype_of<T>);
  PANS_CHECK(std::int64_t(values.size()) == result.numel(), "Tensor::from_vector: ", values.size(),
             " values for shape ", shape_str(shape));
  std::copy(values.begin(), values.end(), result.data<T>());
  return result;
}

template <class T>
T* Tensor::data() {
  check_dtype(dtype_of<T>);
  return static_cast<T*>(raw_data());
}

template <class T>
const T* Tensor::data() const {
  check_dtype(dtype_of<T>);
  return static_cast<const T*>(raw_data());
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  PANS_CHECK(device_.is_cpu(), "Tensor::to_vector: ", describe("tensor"), " is not on the cpu; call to() first");
  const Tensor dense = is_contiguous() ? *this : clone();
  const T* begin = dense.data<T>();
  return std::vector<T>(begin, begin + numel());
}

}  // namespace pans
