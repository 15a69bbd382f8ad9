// The inputs of the benchmark's rows and calibrations: tensors on the measured device, random from
// one seed, so that every run of the benchmark measures the same values.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace pans::bench {

constexpr std::uint64_t kSeed = 2024;

class Data {
 public:
  explicit Data(int device) : device_(Device::cuda(device)) {}

  Device device() const { return device_; }

  Tensor empty(const Shape& shape, DType dtype) const { return Tensor::empty(shape, dtype, device_); }
  Tensor zeros(const Shape& shape, DType dtype) const { return Tensor::zeros(shape, dtype, device_); }

  // Uniform in [low, high), drawn on the device (a fresh Philox stream per tensor); bfloat16 by
  // rounding a float32 draw.
  Tensor uniform(const Shape& shape, DType dtype, double low = -1.0, double high = 1.0);

  // Labels in [0, classes) with about 5% ignored (255), as padded crops have; drawn on the host.
  Tensor labels(const Shape& shape, std::int64_t classes);

 private:
  Device device_;
  std::uint64_t next_stream_ = 1;
};

}  // namespace pans::bench
