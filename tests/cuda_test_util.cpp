#include "tests/cuda_test_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/random.h"

namespace pans::test {

Tensor nan_tensor(const Shape& shape, DType dtype, Device device) {
  Tensor host = Tensor::empty(shape, DType::F64);
  std::fill(host.data<double>(), host.data<double>() + host.numel(), std::numeric_limits<double>::quiet_NaN());
  return host.cast(dtype).to(device);
}

Tensor on_cpu(const Tensor& tensor) { return tensor.to(Device::cpu()); }

Tensor f64(const Tensor& tensor) { return on_cpu(tensor).cast(DType::F64); }

Tensor uniform_f32(const Shape& shape, std::uint64_t stream, double low, double high, std::uint64_t seed) {
  Tensor values = Tensor::empty(shape, DType::F32);
  fill_uniform(values, seed, stream, low, high);
  return values;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.same_shape(y) && x.dtype() == y.dtype() && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

double peak_error(const Tensor& a, const Tensor& reference) {
  PANS_CHECK(a.same_shape(reference), "peak_error: ", a.describe("a"), " vs ", reference.describe("reference"));
  const std::vector<double> u = f64(a).to_vector<double>(), v = f64(reference).to_vector<double>();
  double worst = 0, peak = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (std::isnan(u[i]) || std::isnan(v[i])) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, std::abs(u[i] - v[i]));
    peak = std::max(peak, std::abs(v[i]));
  }
  return peak > 0 ? worst / peak : worst;
}

double max_scaled_error(const Tensor& a, const Tensor& b) {
  PANS_CHECK(a.same_shape(b), "max_scaled_error: ", a.describe("a"), " vs ", b.describe("b"));
  const Tensor x = on_cpu(a), y = on_cpu(b);
  const std::vector<double> u =
      x.dtype() == DType::F64 ? x.to_vector<double>() : x.cast(DType::F64).to_vector<double>();
  const std::vector<double> v =
      y.dtype() == DType::F64 ? y.to_vector<double>() : y.cast(DType::F64).to_vector<double>();
  double worst = 0;
  for (std::size_t i = 0; i < u.size(); ++i) {
    if (std::isnan(u[i]) || std::isnan(v[i])) return std::numeric_limits<double>::infinity();
    worst = std::max(worst, std::abs(u[i] - v[i]) / std::max({1.0, std::abs(u[i]), std::abs(v[i])}));
  }
  return worst;
}

}  // namespace pans::test
