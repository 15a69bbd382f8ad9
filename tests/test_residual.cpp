#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/residual.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

const Shape kShape = {2, 5, 7, 3};

Tensor forward(const Tensor& branch, const Tensor& shortcut, double slope = 0.01) {
  Tensor out = Tensor::empty(branch.shape(), branch.dtype());
  residual_add_leaky_forward(branch, shortcut, out, slope);
  return out;
}

double min_abs_sum(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double smallest = INFINITY;
  for (std::size_t i = 0; i < x.size(); ++i) smallest = std::min(smallest, std::abs(x[i] + y[i]));
  return smallest;
}

}  // namespace

TEST_CASE("gradcheck residual add leaky relu") {
  Tensor branch = test::random_tensor(kShape, 1), shortcut = test::random_tensor(kShape, 2);
  // Central differences across the kink at branch + shortcut = 0 are wrong; one 1e-6 step cannot
  // cross it when every sum lies farther than 1e-3 from 0 (true for these inputs).
  REQUIRE(min_abs_sum(branch, shortcut) > 1e-3);
  const Tensor g = test::random_tensor(kShape, 4);
  auto loss = [&] { return test::weighted_sum(forward(branch, shortcut), g); };

  Tensor d = Tensor::empty(kShape, DType::F64);
  residual_add_leaky_backward(forward(branch, shortcut), g, d, 0.01);
  CHECK(test::max_gradient_error(branch, d, loss) < kGradientTolerance);
  CHECK(test::max_gradient_error(shortcut, d, loss) < kGradientTolerance);
}

TEST_CASE("residual add leaky relu values by hand") {
  // Sums 1, -1, 0, 2.5: the negative one is scaled by the slope, and 0 counts as non-negative in
  // backward (the gradient passes unscaled), as in the leaky ReLU of iABN.
  const Tensor branch = Tensor::from_vector(std::vector<double>{1.5, -2, 0.25, -0.5}, {1, 1, 2, 2});
  const Tensor shortcut = Tensor::from_vector(std::vector<double>{-0.5, 1, -0.25, 3}, {1, 1, 2, 2});
  const std::vector<double> out = forward(branch, shortcut, 0.01).to_vector<double>();
  CHECK(out == std::vector<double>{1, -1 * 0.01, 0, 2.5});

  const Tensor dout = Tensor::from_vector(std::vector<double>{2, 3, 4, 5}, {1, 1, 2, 2});
  Tensor d = Tensor::empty({1, 1, 2, 2}, DType::F64);
  residual_add_leaky_backward(forward(branch, shortcut, 0.01), dout, d, 0.01);
  CHECK(d.to_vector<double>() == std::vector<double>{2, 0.01 * 3, 4, 5});
}

TEST_CASE("residual add leaky relu works in place") {
  const Tensor branch = test::random_tensor(kShape, 1).cast(DType::F32);
  const Tensor shortcut = test::random_tensor(kShape, 2).cast(DType::F32);
  const Tensor dout = test::random_tensor(kShape, 4).cast(DType::F32);
  const Tensor out = forward(branch, shortcut);
  Tensor d = Tensor::empty(kShape);
  residual_add_leaky_backward(out, dout, d, 0.01);

  Tensor in_place = branch.clone();
  residual_add_leaky_forward(in_place, shortcut, in_place, 0.01);
  CHECK(in_place.to_vector<float>() == out.to_vector<float>());
  Tensor gradient_in_place = dout.clone();
  residual_add_leaky_backward(out, gradient_in_place, gradient_in_place, 0.01);
  CHECK(gradient_in_place.to_vector<float>() == d.to_vector<float>());
}

TEST_CASE("residual add leaky relu rejects bad arguments with the op name and shapes") {
  const Tensor branch = Tensor::zeros(kShape), shortcut = Tensor::zeros({2, 5, 7, 4});
  Tensor out = Tensor::zeros(kShape);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, shortcut, out),
                       doctest::Contains("residual_add_leaky_forward(branch [2,5,7,3] float32 cpu, shortcut "
                                         "[2,5,7,4] float32 cpu"),
                       Error);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, shortcut, out),
                       doctest::Contains("shortcut must have shape [2,5,7,3]"), Error);
  Tensor d_wrong = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(residual_add_leaky_backward(out, branch, d_wrong, 0.01),
                       doctest::Contains("dbranch_and_shortcut must have shape [2,5,7,3]"), Error);
  const Tensor shortcut64 = Tensor::zeros(kShape, DType::F64);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, shortcut64, out), doctest::Contains("one dtype"), Error);
  const Tensor labels = Tensor::zeros(kShape, DType::U8);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(labels, branch, out),
                       doctest::Contains("branch must be float32 or float64"), Error);
  const Tensor branch16 = branch.cast(DType::BF16);
  Tensor out16 = out.cast(DType::BF16);
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch16, branch16, out16),
                       doctest::Contains("branch is bfloat16 on the cpu: bfloat16 tensors are CUDA-only storage"),
                       Error);
  for (double slope : {0.0, -0.01}) {
    CAPTURE(slope);
    CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, branch, out, slope),
                         doctest::Contains("the leaky ReLU slope must be > 0"), Error);
    CHECK_THROWS_WITH_AS(residual_add_leaky_backward(out, branch, out, slope),
                         doctest::Contains("the leaky ReLU slope must be > 0"), Error);
  }
}

TEST_CASE("residual add leaky relu rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> memory(2 * 5 * 7 * 3);
  const Tensor branch = Tensor::zeros(kShape);
  Tensor out = Tensor::zeros(kShape);
  const Tensor shortcut_cuda = Tensor::wrap(memory.data(), kShape, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(residual_add_leaky_forward(branch, shortcut_cuda, out),
                       doctest::Contains("all tensors must be on one device, shortcut is on cuda:0 and branch on cpu"),
                       Error);
  CHECK_THROWS_WITH_AS(residual_add_leaky_backward(branch, shortcut_cuda, out),
                       doctest::Contains("all tensors must be on one device, dout is on cuda:0 and out on cpu"), Error);
}
