#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/dropout.h"
#include "tensor/philox.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

constexpr std::uint64_t kSeed = 42, kStream = 7;

Tensor make_mask(std::int64_t batch, std::int64_t channels, double p, DType dtype = DType::F64,
                 std::uint64_t seed = kSeed, std::uint64_t stream = kStream) {
  Tensor mask = Tensor::empty({batch, channels}, dtype);
  dropout2d_mask(mask, p, seed, stream);
  return mask;
}

Tensor forward(const Tensor& x, const Tensor& mask) {
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dropout2d_forward(x, mask, y);
  return y;
}

std::int64_t count_zeros(const Tensor& mask) {
  std::int64_t zeros = 0;
  for (float value : mask.to_vector<float>()) zeros += value == 0.0f;
  return zeros;
}

}  // namespace

TEST_CASE("gradcheck dropout2d") {
  Tensor x = test::random_tensor({2, 5, 7, 3}, 1);
  const Tensor mask = make_mask(2, 3, 0.5);
  const std::int64_t dropped = count_zeros(mask.cast(DType::F32));
  REQUIRE(dropped > 0);  // both kinds of channel must be present for the check to mean anything
  REQUIRE(dropped < 6);
  const Tensor g = test::random_tensor({2, 5, 7, 3}, 4);
  auto loss = [&] { return test::weighted_sum(forward(x, mask), g); };
  Tensor dx = Tensor::empty({2, 5, 7, 3}, DType::F64);
  dropout2d_backward(g, mask, dx);
  CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
}

TEST_CASE("dropout2d mask statistics") {
  const std::int64_t batch = 64, channels = 512, total = batch * channels;
  for (double p : {0.1, 0.5}) {
    CAPTURE(p);
    const Tensor mask = make_mask(batch, channels, p, DType::F32);
    for (float value : mask.to_vector<float>()) REQUIRE((value == 0.0f || value == float(1.0 / (1.0 - p))));
    // The dropped count is Binomial(total, p): mean total*p, standard deviation sqrt(total p (1-p))
    // (54 for p = 0.1, 91 for p = 0.5). Five deviations: a fair generator fails with probability
    // below 1e-6, a biased one (say p off by 0.01, i.e. 328 channels) fails.
    const double expected = double(total) * p, deviation = std::sqrt(double(total) * p * (1 - p));
    CHECK(std::abs(double(count_zeros(mask)) - expected) < 5 * deviation);
  }
}

TEST_CASE("dropout2d drops whole channels and scales kept ones exactly") {
  const std::int64_t batch = 3, height = 4, width = 5, channels = 6;
  const double p = 0.4;
  // Inputs away from 0, so a zero output can only come from the mask.
  const Tensor x = test::random_tensor({batch, height, width, channels}, 1, 0.5, 1.5);
  const Tensor mask = make_mask(batch, channels, p);
  const Tensor y = forward(x, mask);
  const std::vector<double> input = x.to_vector<double>(), output = y.to_vector<double>();
  std::int64_t dropped_channels = 0;
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t c = 0; c < channels; ++c) {
      // The mask's definition, restated: channel (n,c) is dropped iff draw n*C + c is below p.
      const bool dropped = double(philox_uniform(kSeed, kStream, std::uint64_t(n * channels + c))) < p;
      dropped_channels += dropped;
      for (std::int64_t pixel = 0; pixel < height * width; ++pixel) {
        const std::size_t i = std::size_t((n * height * width + pixel) * channels + c);
        CHECK(output[i] == (dropped ? 0.0 : input[i] * (1.0 / (1.0 - p))));
      }
    }
  CHECK(dropped_channels > 0);
  CHECK(dropped_channels < batch * channels);

  Tensor in_place = x.clone();
  dropout2d_forward(in_place, mask, in_place);
  CHECK(in_place.to_vector<double>() == output);
  Tensor gradient_in_place = x.clone();
  dropout2d_backward(gradient_in_place, mask, gradient_in_place);
  CHECK(gradient_in_place.to_vector<double>() == output);
}

TEST_CASE("dropout2d mask is determined by seed and stream") {
  const std::vector<float> mask = make_mask(8, 16, 0.5, DType::F32).to_vector<float>();
  CHECK(make_mask(8, 16, 0.5, DType::F32).to_vector<float>() == mask);
  CHECK(make_mask(8, 16, 0.5, DType::F32, kSeed, kStream + 1).to_vector<float>() != mask);
  CHECK(make_mask(8, 16, 0.5, DType::F32, kSeed + 1, kStream).to_vector<float>() != mask);
  // The float32 and float64 masks drop the same channels.
  const std::vector<double> mask64 = make_mask(8, 16, 0.5).to_vector<double>();
  for (std::size_t i = 0; i < mask.size(); ++i) CHECK((mask[i] == 0.0f) == (mask64[i] == 0.0));
  for (double value : make_mask(8, 16, 0.0).to_vector<double>()) CHECK(value == 1.0);
}

TEST_CASE("dropout2d rejects bad arguments with the op name and shapes") {
  Tensor mask = Tensor::zeros({2, 3});
  for (double p : {-0.1, 1.0, 1.5}) {
    CAPTURE(p);
    CHECK_THROWS_WITH_AS(dropout2d_mask(mask, p, kSeed, kStream),
                         doctest::Contains("the drop probability p must be in [0, 1)"), Error);
  }
  const Tensor x = Tensor::zeros({2, 5, 7, 3}), mask_wrong = Tensor::zeros({2, 4});
  Tensor y = Tensor::zeros({2, 5, 7, 3});
  CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask_wrong, y),
                       doctest::Contains("dropout2d_forward(x [2,5,7,3] float32 cpu, mask [2,4] float32 cpu"), Error);
  CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask_wrong, y), doctest::Contains("mask must have shape [2,3]"), Error);
  Tensor dx_wrong = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(dropout2d_backward(x, mask, dx_wrong), doctest::Contains("dx must have shape [2,5,7,3]"), Error);
  const Tensor mask64 = Tensor::zeros({2, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask64, y), doctest::Contains("one dtype"), Error);
  Tensor labels = Tensor::zeros({2, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(dropout2d_mask(labels, 0.1, kSeed, kStream),
                       doctest::Contains("mask must be float32 or float64"), Error);
}

TEST_CASE("dropout2d rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> memory(2 * 3);
  const Tensor x = Tensor::zeros({2, 5, 7, 3});
  Tensor y = Tensor::zeros({2, 5, 7, 3});
  Tensor mask_cuda = Tensor::wrap(memory.data(), {2, 3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask_cuda, y),
                       doctest::Contains("all tensors must be on one device, mask is on cuda:0 and x on cpu"), Error);
  CHECK_THROWS_WITH_AS(dropout2d_backward(x, mask_cuda, y),
                       doctest::Contains("all tensors must be on one device, mask is on cuda:0 and dy on cpu"), Error);
}
