#include "tests/kink_gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tests/gradcheck.h"

namespace pans::test {
namespace {

double scaled_error(double a, double b) { return std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)}); }

// L at values[i] + offset, restoring values[i].
double loss_at(double* values, std::int64_t i, double offset, const std::function<double()>& loss) {
  const double saved = values[i];
  values[i] = saved + offset;
  const double result = loss();
  values[i] = saved;
  return result;
}

}  // namespace

KinkAwareResult check_gradients_near_kinks(const std::vector<CheckedTensor>& tensors,
                                           const std::function<double()>& loss, double step) {
  KinkAwareResult result;
  const double base = loss();
  for (const CheckedTensor& tensor : tensors) {
    PANS_CHECK(tensor.value.same_shape(tensor.analytic) && tensor.value.dtype() == DType::F64 &&
                   tensor.analytic.dtype() == DType::F64,
               "check_gradients_near_kinks: ", tensor.value.describe(tensor.name), " vs ",
               tensor.analytic.describe("analytic"));
    Tensor value = tensor.value;
    double* values = value.data<double>();
    const double* analytic = tensor.analytic.data<double>();
    for (std::int64_t i = 0; i < value.numel(); ++i, ++result.checked) {
      const double plus = loss_at(values, i, step, loss), minus = loss_at(values, i, -step, loss);
      const double central = (plus - minus) / (2 * step);
      const double error = scaled_error(analytic[i], central);
      if (error <= kGradientTolerance) {
        if (error > result.max_error) {
          result.max_error = error;
          std::ostringstream where;
          where << tensor.name << "[" << i << "]: analytic " << analytic[i] << ", central " << central;
          result.worst = where.str();
        }
        continue;
      }
      const double right = (-3 * base + 4 * plus - loss_at(values, i, 2 * step, loss)) / (2 * step);
      const double left = (3 * base - 4 * minus + loss_at(values, i, -2 * step, loss)) / (2 * step);
      if (std::min(scaled_error(analytic[i], right), scaled_error(analytic[i], left)) <= kGradientTolerance) {
        ++result.near_kink;
        continue;
      }
      if (error > result.max_error) {
        result.max_error = error;
        std::ostringstream where;
        where << tensor.name << "[" << i << "]: analytic " << analytic[i] << ", central " << central << ", one-sided "
              << left << " / " << right;
        result.worst = where.str();
      }
    }
  }
  return result;
}

}  // namespace pans::test
