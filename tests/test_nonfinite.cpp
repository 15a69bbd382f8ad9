// The non-finite check (kernels/nonfinite.h) on the cpu: exact, so no tolerance.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/nonfinite.h"

using namespace pans;

TEST_CASE("nonfinite: NaN and both infinities are found, the largest and smallest finite values are not") {
  for (const DType dtype : {DType::F32, DType::F64}) {
    CAPTURE(std::string(dtype_name(dtype)));
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    const double largest = dtype == DType::F32 ? double(std::numeric_limits<float>::max())
                                               : std::numeric_limits<double>::max();
    const double tiny = dtype == DType::F32 ? double(std::numeric_limits<float>::denorm_min())
                                            : std::numeric_limits<double>::denorm_min();
    const auto tensor = [&](std::vector<double> values) {
      return Tensor::from_vector(values, {std::int64_t(values.size())}).cast(dtype);
    };
    const std::vector<Tensor> tensors = {tensor({1, -largest, largest, tiny, 0}), tensor({0, 2, nan}),
                                         tensor({inf}), Tensor::zeros({0}, dtype), tensor({-inf, 3}),
                                         tensor({-0.0})};
    CHECK(tensors_with_nonfinite(tensors) == std::vector<std::size_t>{1, 2, 4});
    CHECK(tensors_with_nonfinite({}).empty());
  }
}

TEST_CASE("nonfinite: tensors of mixed dtypes or devices are refused by name") {
  CHECK_THROWS_WITH_AS(tensors_with_nonfinite({Tensor::zeros({2}), Tensor::zeros({2}, DType::F64)}),
                       doctest::Contains("tensors_with_nonfinite"), Error);
  CHECK_THROWS_WITH_AS(tensors_with_nonfinite({Tensor::zeros({2}), Tensor::zeros({2}, DType::I32)}),
                       doctest::Contains("float32 or float64"), Error);
}
