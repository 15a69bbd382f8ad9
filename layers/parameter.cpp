#include "layers/parameter.h"

#include <algorithm>

#include "kernels/random.h"

namespace pans {

std::string child_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::uint64_t name_stream(const std::string& name) {
  std::uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a offset basis and prime
  for (unsigned char c : name) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

Tensor constant_tensor(const Shape& shape, double value, const LayerOptions& options) {
  Tensor host = Tensor::empty(shape, options.dtype);
  if (options.dtype == DType::F64) {
    std::fill(host.data<double>(), host.data<double>() + host.numel(), value);
  } else {
    PANS_CHECK(options.dtype == DType::F32, "constant_tensor: parameters are float32 or float64, not ",
               dtype_name(options.dtype));
    std::fill(host.data<float>(), host.data<float>() + host.numel(), float(value));
  }
  return options.device.is_cpu() ? host : host.to(options.device);
}

Parameter normal_parameter(const std::string& name, const Shape& shape, double stddev, const LayerOptions& options) {
  Tensor value = Tensor::empty(shape, options.dtype, options.device);
  fill_normal(value, options.seed, name_stream(name), 0.0, stddev);
  return {name, value, Tensor::zeros(shape, options.dtype, options.device)};
}

Parameter uniform_parameter(const std::string& name, const Shape& shape, double bound, const LayerOptions& options) {
  Tensor value = Tensor::empty(shape, options.dtype, options.device);
  fill_uniform(value, options.seed, name_stream(name), -bound, bound);
  return {name, value, Tensor::zeros(shape, options.dtype, options.device)};
}

Parameter constant_parameter(const std::string& name, const Shape& shape, double value, const LayerOptions& options) {
  return {name, constant_tensor(shape, value, options), Tensor::zeros(shape, options.dtype, options.device)};
}

std::int64_t total_elements(const std::vector<Parameter>& parameters) {
  std::int64_t total = 0;
  for (const Parameter& parameter : parameters) total += parameter.value.numel();
  return total;
}

}  // namespace pans
