#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/cosine_head.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

// Values far from any gradient, so an output that is not overwritten fails the check.
Tensor stale_values(const Shape& shape) { return test::random_tensor(shape, 99, 5.0, 10.0); }

double norm(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x * x;
  return std::sqrt(sum);
}

}  // namespace

TEST_CASE("gradcheck l2 normalize") {
  for (const Shape& shape : {Shape{2, 5, 7, 3}, Shape{4, 3}, Shape{3, 13}}) {
    CAPTURE(shape_str(shape));
    Tensor x = test::random_tensor(shape, 1);
    const Tensor g = test::random_tensor(shape, 2);
    Tensor dx = stale_values(shape);
    l2_normalize_backward(g, x, dx);
    CHECK(test::max_gradient_error(x, dx, [&] { return test::weighted_sum(l2_normalize_forward(x), g); }) <
          kGradientTolerance);
  }
}

TEST_CASE("l2 normalize gives unit rows and divides rows shorter than 1e-12 by 1e-12") {
  // Row 0 is ordinary, row 1 has norm sqrt(14)*1e-14 < 1e-12, F.normalize's floor.
  const Tensor x = Tensor::from_vector<double>({3, -4, 12, 1e-14, -2e-14, 3e-14}, {2, 3});
  const std::vector<double> y = l2_normalize_forward(x).to_vector<double>();
  // |(3,-4,12)| = 13. Quotients of doubles: within an ulp or two of the exact values.
  const double expected[] = {3.0 / 13, -4.0 / 13, 12.0 / 13, 0.01, -0.02, 0.03};
  for (int i = 0; i < 6; ++i) CHECK(y[i] == doctest::Approx(expected[i]).epsilon(1e-15));
  // Below the floor y = x / 1e-12 is linear, so dx = dy / 1e-12 exactly.
  const Tensor dy = Tensor::from_vector<double>({0, 0, 0, 1, -3, 0.5}, {2, 3});
  Tensor dx = stale_values({2, 3});
  l2_normalize_backward(dy, x, dx);
  const std::vector<double> grad = dx.to_vector<double>();
  CHECK(grad[3] == doctest::Approx(1e12).epsilon(1e-15));
  CHECK(grad[4] == doctest::Approx(-3e12).epsilon(1e-15));
  CHECK(grad[5] == doctest::Approx(0.5e12).epsilon(1e-15));
  for (int i = 0; i < 3; ++i) CHECK(grad[i] == 0.0);
}

TEST_CASE("gradcheck cosine classifier") {
  struct Case {
    Shape f_shape, w_shape;
    double tau;
  };
  for (const Case& c :
       {Case{{2, 5, 7, 3}, {4, 3}, 10.0}, Case{{1, 3, 5, 16}, {13, 16}, 10.0}, Case{{2, 3, 3, 5}, {2, 5}, 2.5}}) {
    CAPTURE(shape_str(c.f_shape));
    Tensor f = test::random_tensor(c.f_shape, 1), w = test::random_tensor(c.w_shape, 2);
    const Tensor g = test::random_tensor({c.f_shape[0], c.f_shape[1], c.f_shape[2], c.w_shape[0]}, 3);
    auto loss = [&] { return test::weighted_sum(cosine_classifier_forward(f, w, c.tau), g); };
    Tensor df = stale_values(f.shape()), dw = Tensor::zeros(w.shape(), DType::F64);
    cosine_classifier_backward(g, f, w, df, dw, c.tau);
    CHECK(test::max_gradient_error(f, df, loss) < kGradientTolerance);
    CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
  }
}

TEST_CASE("cosine classifier weight gradient accumulates") {
  const Tensor f = test::random_tensor({2, 5, 7, 3}, 1), w = test::random_tensor({4, 3}, 2);
  const Tensor g = test::random_tensor({2, 5, 7, 4}, 3);
  Tensor df = Tensor::empty(f.shape(), DType::F64), fresh = Tensor::zeros(w.shape(), DType::F64);
  cosine_classifier_backward(g, f, w, df, fresh);
  const Tensor start = test::random_tensor(w.shape(), 4);
  Tensor accumulated = start.clone();
  cosine_classifier_backward(g, f, w, df, accumulated);
  for (std::int64_t i = 0; i < w.numel(); ++i)
    CHECK(accumulated.data<double>()[i] == start.data<double>()[i] + fresh.data<double>()[i]);
}

TEST_CASE("cosine classifier logits are tau times the cosine") {
  const Tensor f = test::random_tensor({2, 5, 7, 3}, 1), w = test::random_tensor({4, 3}, 2);
  const double tau = 10.0;
  const std::vector<double> logits = cosine_classifier_forward(f, w).to_vector<double>();
  const std::vector<double> fv = f.to_vector<double>(), wv = w.to_vector<double>();
  double worst = 0;
  for (std::int64_t p = 0; p < 70; ++p)
    for (std::int64_t k = 0; k < 4; ++k) {
      const std::vector<double> fp(fv.begin() + p * 3, fv.begin() + p * 3 + 3),
          wk(wv.begin() + k * 3, wv.begin() + k * 3 + 3);
      const double cosine = (fp[0] * wk[0] + fp[1] * wk[1] + fp[2] * wk[2]) / (norm(fp) * norm(wk));
      const double logit = logits[std::size_t(p * 4 + k)];
      worst = std::max(worst, std::abs(logit - tau * cosine));
      // In [-tau, tau] up to the rounding of a 3-term dot product of unit vectors.
      CHECK(std::abs(logit) <= tau * (1 + 1e-15));
    }
  // Same cosine, normalised before rather than after the dot product: a few ulps of tau.
  CHECK(worst < 1e-14);
}

TEST_CASE("cosine classifier: parallel gives tau, orthogonal gives 0, scale does not matter") {
  const Tensor w = Tensor::from_vector<double>({2, 0, 0, 0, 0.5, 0, 1, 1, 0}, {3, 3});
  // Pixel 0 points along w_0, pixel 1 along w_1 (scaled by 7), pixel 2 along (1,1,0) = w_2.
  const Tensor f = Tensor::from_vector<double>({3, 0, 0, 0, 7, 0, 4, 4, 0}, {1, 1, 3, 3});
  const std::vector<double> logits = cosine_classifier_forward(f, w, 10.0).to_vector<double>();
  const double expected[] = {
      10, 0, 10 / std::sqrt(2.0), 0, 10, 10 / std::sqrt(2.0), 10 / std::sqrt(2.0), 10 / std::sqrt(2.0), 10};
  for (int i = 0; i < 9; ++i) {
    CAPTURE(i);
    CHECK(logits[i] == doctest::Approx(expected[i]).epsilon(1e-15));
  }

  const Tensor f_random = test::random_tensor({2, 5, 7, 3}, 1), w_random = test::random_tensor({4, 3}, 2);
  Tensor f_scaled = f_random.clone(), w_scaled = w_random.clone();
  for (std::int64_t i = 0; i < f_scaled.numel(); ++i) f_scaled.data<double>()[i] *= 3.7;
  for (std::int64_t i = 0; i < w_scaled.numel(); ++i) w_scaled.data<double>()[i] *= 0.2;
  const Tensor reference = cosine_classifier_forward(f_random, w_random);
  // Scaling changes only the rounding of the norms: a few ulps of tau.
  CHECK(test::max_relative_error(cosine_classifier_forward(f_scaled, w_random), reference) < 1e-14);
  CHECK(test::max_relative_error(cosine_classifier_forward(f_random, w_scaled), reference) < 1e-14);
}

TEST_CASE("cosine classifier float32 matches float64") {
  const Tensor f = test::random_tensor({2, 5, 7, 16}, 1), w = test::random_tensor({13, 16}, 2);
  const Tensor g = test::random_tensor({2, 5, 7, 13}, 3);
  const Tensor f32 = f.cast(DType::F32), w32 = w.cast(DType::F32), g32 = g.cast(DType::F32);
  // Logits up to 10 from 16-term dot products of unit vectors in float32: error ~ 16 * 2^-24 * 10 < 1e-4.
  CHECK(test::max_relative_error(cosine_classifier_forward(f32, w32), cosine_classifier_forward(f, w)) < 1e-4);
  Tensor df = Tensor::empty(f.shape(), DType::F64), dw = Tensor::zeros(w.shape(), DType::F64);
  Tensor df32 = Tensor::empty(f.shape(), DType::F32), dw32 = Tensor::zeros(w.shape(), DType::F32);
  cosine_classifier_backward(g, f, w, df, dw);
  cosine_classifier_backward(g32, f32, w32, df32, dw32);
  // dw sums 70 pixels of O(10) terms: float32 rounding ~ 70 * 10 * 2^-24, relative to |dw| ~ 10-100.
  CHECK(test::max_relative_error(df32, df) < 1e-4);
  CHECK(test::max_relative_error(dw32, dw) < 1e-4);
}

TEST_CASE("gradcheck linear classifier") {
  for (const bool with_bias : {true, false}) {
    CAPTURE(with_bias);
    Tensor f = test::random_tensor({2, 5, 7, 3}, 1), w = test::random_tensor({4, 3}, 2);
    Tensor bias = with_bias ? test::random_tensor({4}, 3) : Tensor();
    const Tensor g = test::random_tensor({2, 5, 7, 4}, 4);
    auto loss = [&] { return test::weighted_sum(linear_classifier_forward(f, w, bias), g); };
    Tensor df = stale_values(f.shape()), dw = Tensor::zeros(w.shape(), DType::F64);
    Tensor dbias = with_bias ? Tensor::zeros({4}, DType::F64) : Tensor();
    linear_classifier_backward(g, f, w, df, dw, dbias);
    CHECK(test::max_gradient_error(f, df, loss) < kGradientTolerance);
    CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
    if (with_bias) CHECK(test::max_gradient_error(bias, dbias, loss) < kGradientTolerance);
  }
}

TEST_CASE("linear classifier computes f w^T + bias and accumulates its parameter gradients") {
  // f = (1, 2): (3*1 + 4*2) + 0.5 = 11.5 and (5*1 + 6*2) - 1 = 16.
  const Tensor f = Tensor::from_vector<double>({1, 2}, {1, 1, 1, 2});
  const Tensor w = Tensor::from_vector<double>({3, 4, 5, 6}, {2, 2});
  const Tensor bias = Tensor::from_vector<double>({0.5, -1}, {2});
  const std::vector<double> logits = linear_classifier_forward(f, w, bias).to_vector<double>();
  CHECK(logits[0] == 11.5);
  CHECK(logits[1] == 16.0);
  // dlogits = (1, -2): df = 1*(3,4) - 2*(5,6) = (-7,-8); dw = (1,-2)^T (1,2) added to 1; dbias = (1,-2) added to 1.
  const Tensor dlogits = Tensor::from_vector<double>({1, -2}, {1, 1, 1, 2});
  Tensor df = stale_values({1, 1, 1, 2});
  Tensor dw = Tensor::from_vector<double>({1, 1, 1, 1}, {2, 2}), dbias = Tensor::from_vector<double>({1, 1}, {2});
  linear_classifier_backward(dlogits, f, w, df, dw, dbias);
  CHECK(df.to_vector<double>() == std::vector<double>{-7, -8});
  CHECK(dw.to_vector<double>() == std::vector<double>{2, 3, -1, -3});
  CHECK(dbias.to_vector<double>() == std::vector<double>{2, -1});
}

TEST_CASE("cosine max similarity is the largest logit over tau") {
  const Tensor logits = Tensor::from_vector<double>({-10, 5, 2, 3, -1, 7.5}, {1, 1, 2, 3});
  CHECK(cosine_max_similarity(logits).to_vector<double>() == std::vector<double>{0.5, 0.75});
  CHECK(cosine_max_similarity(logits, 2.5).to_vector<double>() == std::vector<double>{2.0, 3.0});
  // A pixel along a prototype has similarity 1, whatever the lengths.
  const Tensor w = Tensor::from_vector<double>({1, 0, 0, 2}, {2, 2});
  const Tensor f = Tensor::from_vector<double>({0, 5, -3, 0}, {1, 1, 2, 2});
  const std::vector<double> similarity = cosine_max_similarity(cosine_classifier_forward(f, w)).to_vector<double>();
  CHECK(similarity[0] == doctest::Approx(1.0).epsilon(1e-15));
  CHECK(similarity[1] == 0.0);  // (-1, 0) is at cos -1 and 0 with the prototypes
}

TEST_CASE("cosine head rejects bad arguments with the op name and shapes") {
  const Tensor f = Tensor::zeros({2, 5, 7, 3}), w = Tensor::zeros({4, 5});
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w),
                       doctest::Contains("cosine_classifier_forward(f [2,5,7,3] float32 cpu, w [4,5] float32 cpu"),
                       Error);
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w), doctest::Contains("w expects 5 channels, f has 3"), Error);
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, Tensor::zeros({4, 3}), 0.0),
                       doctest::Contains("tau must be positive"), Error);
  const Tensor w64 = Tensor::zeros({4, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w64), doctest::Contains("one dtype"), Error);
  const Tensor labels = Tensor::zeros({2, 5, 7, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(linear_classifier_forward(labels, Tensor::zeros({4, 3}), Tensor()),
                       doctest::Contains("f must be float32 or float64"), Error);
  Tensor df = Tensor::zeros({2, 5, 7, 3}), dw = Tensor::zeros({4, 3}), dbias = Tensor::zeros({5});
  CHECK_THROWS_WITH_AS(linear_classifier_backward(Tensor::zeros({2, 5, 7, 4}), f, dw, df, dw, dbias),
                       doctest::Contains("dbias must have shape [4]"), Error);
  Tensor y = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(l2_normalize_forward(f, y), doctest::Contains("y must have shape [2,5,7,3]"), Error);
  Tensor similarity = Tensor::zeros({2, 5, 7, 1});
  CHECK_THROWS_WITH_AS(cosine_max_similarity(y, similarity), doctest::Contains("similarity must have shape [2,5,7]"),
                       Error);
}

TEST_CASE("cosine head rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> weights(4 * 3);
  const Tensor f = Tensor::zeros({2, 5, 7, 3});
  const Tensor w_cuda = Tensor::wrap(weights.data(), {4, 3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w_cuda),
                       doctest::Contains("all tensors must be on one device, w is on cuda:0 and f on cpu"), Error);
}
