// Softmax and softmax cross-entropy on CUDA (a GPU or the SIMT emulator) against the CPU oracle,
// run on the same float32 logits.
//
// Error measure, peak_error: max |cuda - reference| / max |reference| over a tensor (float32
// rounds relative to the magnitudes in play; the gradients are O(1/count), so an elementwise
// max(1, |x|) measure would be an absolute one and far too lax).
// Tolerances (2^-24 = 6e-8 is float32's unit roundoff; the reference is the float64 oracle):
//   kTolerance 1e-5 for probabilities and gradients: each is a float32 expf (<= 2 ulp on a GPU)
//     over a sum of K <= 300 exponentials, ~sqrt(K) * 2^-24 typical, K * 2^-24 = 1.8e-5 at worst
//     for K = 300 (random signs never approach it), 1e-6 for K = 13;
//   kLossTolerance 1e-6 relative for the loss: its terms log(sum) - (l_y - max) are O(1..3) floats
//     with a few ulps each (~3e-7 absolute), averaged, the average accumulated in double.
// On the emulator the kernels call the host's expf/logf, so dlogits equals the CPU float32
// oracle bit for bit: the kernel repeats its float operations in order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cross_entropy.h"
#include "kernels/random.h"
#include "tensor/tensor.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr double kTolerance = 1e-5;
constexpr double kLossTolerance = 1e-6;

Tensor random_f32(const Shape& shape, std::uint64_t stream, double low = -3.0, double high = 3.0) {
  return uniform_f32(shape, stream, low, high, 2024);
}

// Labels 0..classes-1 in a fixed pattern, every fifth pixel ignored (as tests/test_cross_entropy.cpp).
Tensor some_ignored_labels(const Shape& shape, int classes) {
  Tensor labels = Tensor::zeros(shape, DType::U8);
  std::uint8_t* values = labels.data<std::uint8_t>();
  for (std::int64_t i = 0; i < labels.numel(); ++i)
    values[i] = i % 5 == 2 ? kIgnoreLabel : std::uint8_t((i * 7) % classes);
  return labels;
}

bool all_nan(const Tensor& t) {
  const std::vector<float> v = on_cpu(t).to_vector<float>();
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isnan(x); });
}

}  // namespace

TEST_CASE("cuda softmax forward and backward match the cpu") {
  // {5, 300}: rows much longer than pans' 13 classes; {2,23,29,13}: 1334 rows, more than the
  // emulator's 4 blocks of 256 threads, so the grid-stride loop runs.
  for (const Shape& shape :
       {Shape{1, 3, 5, 13}, Shape{3, 7, 5, 4}, Shape{2, 9, 11, 13}, Shape{5, 300}, Shape{2, 23, 29, 13}}) {
    CAPTURE(shape_str(shape));
    const Tensor logits = random_f32(shape, 1), dprobs = random_f32(shape, 2, -1.0, 1.0);
    Tensor probs = nan_tensor(shape), dlogits = nan_tensor(shape);
    softmax_forward(logits.to(gpu()), probs);
    const Tensor probs_reference = softmax_forward(f64(logits));
    CHECK(peak_error(probs, probs_reference) < kTolerance);
    // Backward from the same float32 probabilities on both sides, so only the backward is compared.
    const Tensor probs_f32 = on_cpu(probs);
    softmax_backward(probs_f32.to(gpu()), dprobs.to(gpu()), dlogits);
    Tensor dlogits_reference = Tensor::empty(shape, DType::F64);
    softmax_backward(f64(probs_f32), f64(dprobs), dlogits_reference);
    CHECK(peak_error(dlogits, dlogits_reference) < kTolerance);
  }
}

TEST_CASE("cuda softmax of large logits stays finite") {
  const Tensor large = Tensor::from_vector<float>({1000, 0, -1000}, {1, 1, 1, 3});
  Tensor probs = nan_tensor({1, 1, 1, 3});
  softmax_forward(large.to(gpu()), probs);
  CHECK(on_cpu(probs).to_vector<float>() == std::vector<float>{1, 0, 0});
}

TEST_CASE("cuda softmax cross entropy matches the cpu") {
  struct Case {
    Shape shape;
    double loss_scale;
  };
  for (const Case& c : {Case{{1, 3, 5, 13}, 1.0}, Case{{3, 7, 5, 4}, 0.4}, Case{{2, 9, 11, 13}, 1.0},
                        Case{{2, 9, 11, 13}, 0.4}, Case{{2, 23, 29, 13}, 1.0}}) {
    CAPTURE(shape_str(c.shape));
    CAPTURE(c.loss_scale);
    const int classes = int(c.shape[3]);
    const Tensor logits = random_f32(c.shape, 1);
    const Tensor labels = some_ignored_labels({c.shape[0], c.shape[1], c.shape[2]}, classes);
    Tensor dlogits_reference = Tensor::empty(c.shape, DType::F64);
    const double loss_reference =
        softmax_cross_entropy(f64(logits), labels, dlogits_reference, kIgnoreLabel, c.loss_scale);

    Tensor dlogits = nan_tensor(c.shape);
    const double loss = softmax_cross_entropy(logits.to(gpu()), labels.to(gpu()), dlogits, kIgnoreLabel, c.loss_scale);
    CHECK(std::abs(loss - loss_reference) <= kLossTolerance * std::abs(loss_reference));
    CHECK(peak_error(dlogits, dlogits_reference) < kTolerance);
    // Ignored pixels get exact zeros.
    const std::vector<float> grad = on_cpu(dlogits).to_vector<float>();
    const std::vector<std::uint8_t> y = labels.to_vector<std::uint8_t>();
    bool ignored_are_zero = true;
    for (std::size_t i = 0; i < grad.size(); ++i)
      if (y[i / std::size_t(classes)] == kIgnoreLabel && grad[i] != 0.0f) ignored_are_zero = false;
    CHECK(ignored_are_zero);
#ifdef PANS_SIMT_EMU
    Tensor dlogits_cpu32 = Tensor::empty(c.shape, DType::F32);
    softmax_cross_entropy(logits, labels, dlogits_cpu32, kIgnoreLabel, c.loss_scale);
    CHECK(grad == dlogits_cpu32.to_vector<float>());
#endif
  }
}

TEST_CASE("cuda softmax cross entropy of large logits stays finite") {
  // As the CPU test: -log p = 1000 and 0, mean 500 exactly; gradient (p - onehot) / 2.
  const Tensor logits = Tensor::from_vector<float>({1000, 0, -1000, 1000, 0, -1000}, {1, 1, 2, 3});
  const Tensor labels = Tensor::from_vector<std::uint8_t>({1, 0}, {1, 1, 2});
  Tensor dlogits = nan_tensor({1, 1, 2, 3});
  CHECK(softmax_cross_entropy(logits.to(gpu()), labels.to(gpu()), dlogits) == 500.0);
  CHECK(on_cpu(dlogits).to_vector<float>() == std::vector<float>{0.5f, -0.5f, 0, 0, 0, 0});
}

TEST_CASE("cuda softmax cross entropy over only ignored pixels is zero") {
  const Tensor logits = random_f32({2, 9, 11, 13}, 1);
  const Tensor labels = Tensor::from_vector<std::uint8_t>(std::vector<std::uint8_t>(198, kIgnoreLabel), {2, 9, 11});
  Tensor dlogits = nan_tensor(logits.shape());
  CHECK(softmax_cross_entropy(logits.to(gpu()), labels.to(gpu()), dlogits) == 0.0);
  const std::vector<float> grad = on_cpu(dlogits).to_vector<float>();
  CHECK(std::all_of(grad.begin(), grad.end(), [](float g) { return g == 0.0f; }));
}

TEST_CASE("cuda softmax cross entropy reports the first bad label and writes nothing") {
  const Tensor logits = random_f32({2, 9, 11, 13}, 1);
  Tensor labels = some_ignored_labels({2, 9, 11}, 13);
  labels.data<std::uint8_t>()[150] = 200;
  labels.data<std::uint8_t>()[37] = 13;  // the first bad one
  Tensor dlogits = nan_tensor(logits.shape());
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits.to(gpu()), labels.to(gpu()), dlogits),
                       doctest::Contains("softmax_cross_entropy(logits [2,9,11,13] float32 cuda:0, labels [2,9,11] "
                                         "uint8 cuda:0, dlogits [2,9,11,13] float32 cuda:0): label 13 at pixel 37 is "
                                         "neither a class below 13 nor the ignore index 255"),
                       Error);
  CHECK(all_nan(dlogits));

  // With ignore_index 0, 255 is a bad label, as on the cpu.
  const Tensor small = Tensor::from_vector<float>({0, 0, 0, 1, 2, 3}, {1, 1, 2, 3});
  Tensor small_grad = nan_tensor({1, 1, 2, 3});
  CHECK_THROWS_WITH_AS(
      softmax_cross_entropy(small.to(gpu()), Tensor::from_vector<std::uint8_t>({255, 2}, {1, 1, 2}).to(gpu()),
                            small_grad, 0),
      doctest::Contains("label 255 at pixel 0 is neither a class below 3 nor the ignore index 0"), Error);
  const double expected = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  CHECK(softmax_cross_entropy(small.to(gpu()), Tensor::from_vector<std::uint8_t>({0, 2}, {1, 1, 2}).to(gpu()),
                              small_grad, 0) == doctest::Approx(expected).epsilon(kLossTolerance));
}

TEST_CASE("cuda softmax cross entropy is deterministic: two runs give the same bits") {
  const Tensor logits = random_f32({2, 23, 29, 13}, 1).to(gpu());
  const Tensor labels = some_ignored_labels({2, 23, 29}, 13).to(gpu());
  Tensor first = nan_tensor(logits.shape()), second = nan_tensor(logits.shape());
  const double loss_first = softmax_cross_entropy(logits, labels, first, kIgnoreLabel, 0.4);
  const double loss_second = softmax_cross_entropy(logits, labels, second, kIgnoreLabel, 0.4);
  CHECK(loss_first == loss_second);  // == on doubles: the same bits (neither is NaN)
  CHECK(on_cpu(first).to_vector<float>() == on_cpu(second).to_vector<float>());
}

TEST_CASE("cuda cross entropy rejects float64") {
  const Tensor logits = Tensor::zeros({1, 2, 3, 4}, DType::F64, gpu());
  Tensor dlogits = Tensor::zeros({1, 2, 3, 4}, DType::F64, gpu());
  const Tensor labels = Tensor::zeros({1, 2, 3}, DType::U8, gpu());
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, labels, dlogits),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  CHECK_THROWS_WITH_AS(softmax_forward(logits), doctest::Contains("float64 is CPU-only"), Error);
}

TEST_CASE("cuda cross entropy has no bfloat16 kernels and says so") {
  const Tensor logits = Tensor::zeros({1, 2, 3, 4}, DType::BF16, gpu());
  Tensor dlogits = Tensor::zeros({1, 2, 3, 4}, DType::BF16, gpu());
  const Tensor labels = Tensor::zeros({1, 2, 3}, DType::U8, gpu());
  CHECK_THROWS_WITH_AS(softmax_cross_entropy(logits, labels, dlogits),
                       doctest::Contains("softmax_cross_entropy has no bfloat16 kernel"), Error);
  CHECK_THROWS_WITH_AS(softmax_forward(logits), doctest::Contains("softmax_forward has no bfloat16 kernel"), Error);
}
