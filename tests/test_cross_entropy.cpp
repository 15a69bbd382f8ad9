#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cross_entropy.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

Tensor stale_values(const Shape& shape) { return test::random_tensor(shape, 99, 5.0, 10.0); }

// Labels 0..classes-1 in a fixed pattern, with every fifth pixel set to the ignore label.
Tensor some_ignored_labels(const Shape& shape, int classes) {
  Tensor labels = Tensor::zeros(shape, DType::U8);
  std::uint8_t* values = labels.data<std::uint8_t>();
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    values[i] = i % 5 == 2 ? kIgnoreLabel : std::uint8_t((i * 7) % classes);
  return labels;
}

// Mean over non-ignored pixels of log(sum_k exp(l_k)) - l_label, straight from the definition
// (no max subtraction: the test logits are small).
double cross_entropy_by_definition(const Tensor& logits, const Tensor& labels) {
  const std::int64_t classes = logits.dim(3);
  const std::vector<double> l = logits.to_vector<double>();
  const std::vector<std::uint8_t> y = labels.to_vector<std::uint8_t>();
  double sum = 0;
  int counted = 0;
  for (std::size_t p = 0; p < y.size(); ++p) {
    if (y[p] == kIgnoreLabel) continue;
    double partition = 0;
    for (std::int64_t k = 0; k < classes; ++k) partition += std::exp(l[p * classes + k]);
    sum += std::log(partition) - l[p * classes + y[p]];
    ++counted;
  }
  return sum / counted;
}

}  // namespace

TEST_CASE("gradcheck softmax") {
  for (const Shape& shape : {Shape{2, 5, 7, 3}, Shape{3, 13}}) {
    CAPTURE(shape_str(shape));
    Tensor logits = test::random_tensor(shape, 1, -3.0, 3.0);
    const Tensor g = test::random_tensor(shape, 2);
    Tensor dlogits = stale_values(shape);
    softmax_backward(softmax_forward(logits), g, dlogits);
    CHECK(test::max_gradient_error(logits, dlogits, [&] { return test::weighted_sum(softmax_forward(logits), g); }) <
          kGradientTolerance);
  }
}

TEST_CASE("softmax rows sum to 1 and large logits stay finite") {
  const Tensor logits = test::random_tensor({2, 5, 7, 4}, 1, -3.0, 3.0);
  const std::vector<double> probs = softmax_forward(logits).to_vector<double>();
  for (std::size_t p = 0; p < probs.size(); p += 4) {
    double sum = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      CHECK(probs[p + k] > 0);
      sum += probs[p + k];
    }
    // Four quotients by the same sum: a few ulps from 1.
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-15));
  }
  // exp(1000) overflows even double; with the max subtracted the row is (1, e^-1000, e^-2000) / sum = (1, 0, 0).
  for (const DType dtype : {DType::F64, DType::F32}) {
    const Tensor large = Tensor::from_vector<double>({1000, 0, -1000}, {1, 1, 1, 3}).cast(dtype);
    CHECK(softmax_forward(large).cast(DType::F64).to_vector<double>() == std::vector<double>{1, 0, 0});
  }
}

TEST_CASE("gradcheck softmax cross entropy") {
  for (const double loss_scale : {1.0, 0.4}) {
    CAPTURE(loss_scale);
    Tensor logits = test::random_tensor({2, 5, 7, 4}, 1, -3.0, 3.0);
    const Tensor labels = some_ignored_labels({2, 5, 7}, 4);
    Tensor scratch = Tensor::empty(logits.shape(), DType::F64);
    auto loss = [&] { return softmax_cross_entropy(logits, labels, scratch, kIgnoreLabel, loss_scale); };
    Tensor dlogits = stale_values(logits.shape());
    softmax_cross_entropy(logits, labels, dlogits, kIgnoreLabel, loss_scale);
    CHECK(test::max_gradient_error(logits, dlogits, loss) < kGradientTolerance);
  }
}

TEST_CASE("softmax cross entropy is the mean of -log softmax over pixels not ignored") {
  const Tensor logits = test::random_tensor({2, 5, 7, 4}, 1, -3.0, 3.0);
  const Tensor labels = some_ignored_labels({2, 5, 7}, 4);
  Tensor dlogits = stale_values(logits.shape());
  const double loss = softmax_cross_entropy(logits, labels, dlogits);
  // Same double terms, shifted by the max or not: a few ulps of the O(1) loss.
  CHECK(loss == doctest::Approx(cross_entropy_by_definition(logits, labels)).epsilon(1e-14));
  const std::vector<std::uint8_t> y = labels.to_vector<std::uint8_t>();
  const std::vector<double> grad = dlogits.to_vector<double>();
  for (std::size_t p = 0; p < y.size(); ++p) {
    double row_sum = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      if (y[p] == kIgnoreLabel) CHECK(grad[p * 4 + k] == 0.0);
      row_sum += grad[p * 4 + k];
    }
    // (softmax - onehot) sums to 0 over the classes.
    CHECK(std::abs(row_sum) < 1e-16);
  }

  Tensor scaled_grad = Tensor::empty(logits.shape(), DType::F64);
  CHECK(softmax_cross_entropy(logits, labels, scaled_grad, kIgnoreLabel, 0.4) ==
        doctest::Approx(0.4 * loss).epsilon(1e-15));
  const std::vector<double> scaled = scaled_grad.to_vector<double>();
  for (std::size_t i = 0; i < grad.size(); ++i) CHECK(scaled[i] == doctest::Approx(0.4 * grad[i]).epsilon(1e-15));
}

TEST_CASE("softmax cross entropy of large logits stays finite") {
  // Pixel 0: label 1 with logits (1000, 0, -1000): -log p_1 = 1000 + log(1 + e^-1000 + e^-2000) = 1000.
  // Pixel 1: label 0: -log p_0 = log(1 + e^-1000 + e^-2000) = 0. Mean 500; the gradient is (p - onehot)/2.
  for (const DType dtype : {DType::F64, DType::F32}) {
    const Tensor logits = Tensor::from_vector<double>({1000, 0, -1000, 1000, 0, -1000}, {1, 1, 2, 3}).cast(dtype);
    const Tensor labels = Tensor::from_vector<std::uint8_t>({1, 0}, {1, 1, 2});
    Tensor dlogits = Tensor::empty(logits.shape(), dtype);
    CHECK(softmax_cross_entropy(logits, labels, dlogits) == 500.0);
    CHECK(dlogits.cast(DType::F64).to_vector<double>() == std::vector<double>{0.5, -0.5, 0, 0, 0, 0});
  }
}

TEST_CASE("softmax cross entropy over only ignored pixels is zero") {
  const Tensor logits = test::random_tensor({1, 3, 5, 4}, 1);
  const Tensor labels = Tensor::from_vector<std::uint8_t>(std::vector<std::uint8_t>(15, kIgnoreLabel), {1, 3, 5});
  Tensor dlogits = stale_values(logits.shape());
  CHECK(softmax_cross_entropy(logits, labels, dlogits) == 0.0);
  for (const double g : dlogits.to_vector<double>()) CHECK(g == 0.0);
}

TEST_CASE("softmax cross entropy honours another ignore index") {
  // With ignore_index 0 only pixel 1 (label 2) counts; 255 is then an out-of-range label.
  const Tensor logits = Tensor::from_vector<double>({0, 0, 0, 1, 2, 3}, {1, 1, 2, 3});
  Tensor dlogits = Tensor::empty(logits.shape(), DType::F64);
  const double expected = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  CHECK(softmax_cross_entropy(logits, Tensor::from_vector<std::uint8_t>({0, 2}, {1, 1, 2}), dlogits, 0) ==
        doctest::Approx(expected).epsilon(1e-15));
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy(logits, Tensor::from_vector<std::uint8_t>({255, 2}, {1, 1, 2}), dlogits, 0),
      doctest::Contains("label 255 at pixel 0 is neither a class below 3 nor the ignore index 0"), Error);
}

TEST_CASE("cross entropy rejects bad arguments with the op name and shapes") {
  const Tensor logits = Tensor::zeros({2, 5, 7, 4});
  Tensor dlogits = Tensor::zeros({2, 5, 7, 4});
  Tensor labels = Tensor::zeros({2, 5, 7}, DType::U8);
  labels.data<std::uint8_t>()[3] = 4;
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy(logits, labels, dlogits),
      doctest::Contains("softmax_cross_entropy(logits [2,5,7,4] float32 cpu, labels [2,5,7] uint8 cpu, "
                        "dlogits [2,5,7,4] float32 cpu): label 4 at pixel 3"),
      Error);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, Tensor::zeros({2, 5, 6}, DType::U8), dlogits),
                       doctest::Contains("labels must have shape [2,5,7]"), Error);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, Tensor::zeros({2, 5, 7}), dlogits),
                       doctest::Contains("labels must be uint8"), Error);
  Tensor dlogits64 = Tensor::zeros({2, 5, 7, 4}, DType::F64);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, Tensor::zeros({2, 5, 7}, DType::U8), dlogits64),
                       doctest::Contains("all tensors must share one dtype, dlogits is float64 and logits is float32"),
                       Error);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(Tensor::zeros({2, 5, 7, 4}, DType::U8), labels, dlogits),
                       doctest::Contains("logits must be float32 or float64"), Error);
  Tensor probs = Tensor::zeros({2, 5, 7, 3});
  CHECK_THROWS_WITH_AS(softmax_forward(logits, probs), doctest::Contains("probs must have shape [2,5,7,4]"), Error);
  CHECK_THROWS_WITH_AS(softmax_backward(logits, dlogits64, dlogits), doctest::Contains("one dtype"), Error);
}

TEST_CASE("cross entropy rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> logit_memory(2 * 5 * 7 * 4), grad_memory(2 * 5 * 7 * 4);
  const Tensor logits_cuda = Tensor::wrap(logit_memory.data(), {2, 5, 7, 4}, DType::F32, Device::cuda(0));
  Tensor dlogits_cuda = Tensor::wrap(grad_memory.data(), {2, 5, 7, 4}, DType::F32, Device::cuda(0));
  const Tensor labels_cpu = Tensor::zeros({2, 5, 7}, DType::U8);
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits_cuda, labels_cpu, dlogits_cuda),
                       doctest::Contains("all tensors must be on one device"), Error);
  Tensor probs = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(softmax_forward(logits_cuda, probs),
                       doctest::Contains("all tensors must be on one device, probs is on cpu and logits on cuda:0"),
                       Error);
}
