#include "tests/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/random.h"

namespace pans::test {
namespace {

double scaled_error(double a, double b) { return std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)}); }

std::vector<double> as_doubles(const Tensor& t) {
  return t.dtype() == DType::F64 ? t.to_vector<double>() : t.cast(DType::F64).to_vector<double>();
}

}  // namespace

Tensor random_tensor(const Shape& shape, std::uint64_t stream, double low, double high) {
  Tensor tensor = Tensor::empty(shape, DType::F64);
  fill_uniform(tensor, 1234, stream, low, high);
  return tensor;
}

double weighted_sum(const Tensor& output, const Tensor& g) {
  PANS_CHECK(output.same_shape(g), "weighted_sum: ", output.describe("output"), " vs ", g.describe("g"));
  const double* o = output.data<double>();
  const double* w = g.data<double>();
  double sum = 0.0;
  for (std::int64_t i = 0; i < output.numel(); ++i) sum += o[i] * w[i];
  return sum;
}

double max_gradient_error(Tensor& input, const Tensor& analytic, const std::function<double()>& loss, double step) {
  PANS_CHECK(input.same_shape(analytic), "max_gradient_error: ", input.describe("input"), " vs ",
             analytic.describe("analytic"));
  double* values = input.data<double>();
  const double* expected = analytic.data<double>();
  double worst = 0.0;
  for (std::int64_t i = 0; i < input.numel(); ++i) {
    const double saved = values[i];
    values[i] = saved + step;
    const double plus = loss();
    values[i] = saved - step;
    const double minus = loss();
    values[i] = saved;
    worst = std::max(worst, scaled_error(expected[i], (plus - minus) / (2 * step)));
  }
  return worst;
}

double max_relative_error(const Tensor& a, const Tensor& b) {
  PANS_CHECK(a.same_shape(b), "max_relative_error: ", a.describe("a"), " vs ", b.describe("b"));
  const std::vector<double> x = as_doubles(a), y = as_doubles(b);
  double worst = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) worst = std::max(worst, scaled_error(x[i], y[i]));
  return worst;
}

}  // namespace pans::test
