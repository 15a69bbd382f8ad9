// Random fills from the counter-based Philox stream (tensor/philox.h): element i of the tensor
// (row-major) receives draw i of stream (seed, stream), on every device alike.
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace pans {

// Uniform in [low, high). Float32 or float64 tensors.
void fill_uniform(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double low, double high);
// Normal with the given mean and standard deviation. Float32 or float64 tensors.
void fill_normal(Tensor& tensor, std::uint64_t seed, std::uint64_t stream, double mean, double stddev);

}  // namespace pans
