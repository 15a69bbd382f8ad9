#include <doctest/doctest.h>

#include <vector>

#include "kernels/concat.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

std::vector<Tensor> three_inputs() {
  return {test::random_tensor({2, 5, 7, 2}, 1), test::random_tensor({2, 5, 7, 3}, 2),
          test::random_tensor({2, 5, 7, 1}, 3)};
}

std::vector<Tensor> empty_like(const std::vector<Tensor>& tensors) {
  std::vector<Tensor> result;
  for (const Tensor& t : tensors) result.push_back(Tensor::empty(t.shape(), t.dtype()));
  return result;
}

}  // namespace

TEST_CASE("channel concat places each input at its channel offset") {
  const std::vector<Tensor> inputs = three_inputs();
  const Tensor out = concat_channels(inputs);
  REQUIRE(out.shape() == Shape{2, 5, 7, 6});
  const std::int64_t offsets[] = {0, 2, 5};
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    const Tensor& input = inputs[i];
    bool equal = true;
    for (std::int64_t p = 0; p < 2 * 5 * 7; ++p)
      for (std::int64_t c = 0; c < input.dim(3); ++c)
        equal &= out.data<double>()[p * 6 + offsets[i] + c] == input.data<double>()[p * input.dim(3) + c];
    CHECK(equal);
  }
}

TEST_CASE("gradcheck channel concat") {
  std::vector<Tensor> inputs = three_inputs();
  const Tensor g = test::random_tensor({2, 5, 7, 6}, 4);
  auto loss = [&] { return test::weighted_sum(concat_channels(inputs), g); };
  std::vector<Tensor> dinputs = empty_like(inputs);
  split_channels(g, dinputs);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    CHECK(test::max_gradient_error(inputs[i], dinputs[i], loss) < kGradientTolerance);
  }
}

TEST_CASE("split of concat returns the inputs exactly") {
  for (DType dtype : {DType::F32, DType::F64}) {
    std::vector<Tensor> inputs;
    for (const Tensor& input : three_inputs()) inputs.push_back(input.cast(dtype));
    std::vector<Tensor> parts = empty_like(inputs);
    split_channels(concat_channels(inputs), parts);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      CAPTURE(i);
      // Pure copies: bit-equal.
      CHECK(test::max_relative_error(parts[i], inputs[i]) == 0.0);
    }
  }
}

TEST_CASE("concat of one input is a copy") {
  const Tensor x = test::random_tensor({2, 5, 7, 3}, 1);
  CHECK(concat_channels({x}).to_vector<double>() == x.to_vector<double>());
}

TEST_CASE("concat rejects bad arguments with the op name and shapes") {
  const std::vector<Tensor> mismatched_h = {Tensor::zeros({2, 5, 7, 2}), Tensor::zeros({2, 4, 7, 3})};
  CHECK_THROWS_WITH_AS(concat_channels(mismatched_h),
                       doctest::Contains("concat_channels(inputs[1] [2,4,7,3] float32 cpu, out [2,5,7,5] float32 cpu): "
                                         "inputs[1] must have the N, H, W of out, [2,5,7]"),
                       Error);
  const std::vector<Tensor> mixed_dtypes = {Tensor::zeros({2, 5, 7, 2}), Tensor::zeros({2, 5, 7, 3}, DType::F64)};
  CHECK_THROWS_WITH_AS(concat_channels(mixed_dtypes), doctest::Contains("one dtype"), Error);
  const std::vector<Tensor> labels = {Tensor::zeros({2, 5, 7, 2}, DType::U8)};
  CHECK_THROWS_WITH_AS(concat_channels(labels), doctest::Contains("must be float32 or float64"), Error);
  Tensor too_narrow = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(concat_channels({Tensor::zeros({2, 5, 7, 2}), Tensor::zeros({2, 5, 7, 3})}, too_narrow),
                       doctest::Contains("concat_channels(out [2,5,7,4] float32 cpu): out must have 5 channels, the "
                                         "sum of the inputs channels [2,3]"),
                       Error);
  Tensor out = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(concat_channels({}, out), doctest::Contains("needs at least one tensor in inputs"), Error);
  std::vector<Tensor> dinputs = {Tensor::zeros({2, 5, 7, 2}), Tensor::zeros({2, 5, 6, 2})};
  CHECK_THROWS_WITH_AS(
      split_channels(Tensor::zeros({2, 5, 7, 4}), dinputs),
      doctest::Contains("split_channels(dinputs[1] [2,5,6,2] float32 cpu, dout [2,5,7,4] float32 cpu): "
                        "dinputs[1] must have the N, H, W of dout"),
      Error);
}

TEST_CASE("concat rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> input(2 * 5 * 7 * 3);
  const Tensor x_cuda = Tensor::wrap(input.data(), {2, 5, 7, 3}, DType::F32, Device::cuda(0));
  Tensor out = Tensor::zeros({2, 5, 7, 3});
  CHECK_THROWS_WITH_AS(concat_channels({x_cuda}, out),
                       doctest::Contains("all tensors must be on one device, out is on cpu and inputs[0] on cuda:0"),
                       Error);
}
