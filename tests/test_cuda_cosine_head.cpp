// The cosine and linear heads and the L2 normalisation on CUDA (a GPU or the SIMT emulator)
// against the CPU oracle in float64, run on the same float32 inputs.
//
// Error measure, peak_error: max |cuda - reference| / max |reference| over a tensor. Float32
// kernels round each operation relative to the magnitudes in play, which are those of the tensor's
// largest elements, so the error is measured against the peak rather than elementwise (an element
// near zero that came out of a cancellation has a large relative error and no meaning).
// Tolerances (2^-24 = 6e-8 is float32's unit roundoff):
//   kForwardTolerance 1e-5: a logit is tau * (a dot product of <= 1000 terms) / |f|, and a
//     normalised element one quotient by a <= 1000-term norm; a float32 sum of n terms is off by
//     ~sqrt(n) * 2^-24 of the sum of |terms| (n * 2^-24 = 6e-5 at worst, for n = 1000, never met by
//     random signs): 2e-6 typical for n = 1000, and the peak logit is ~tau/3 of tau.
//   kGradientTolerance 2e-5: df adds a K-term sum and a second C-term reduction to that; dw and
//     dbias sum up to 198 pixels per element, in chunks and a different order from the oracle.
//   A wrong index or a missing term is off by O(1) of the peak.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cosine_head.h"
#include "kernels/random.h"
#include "tensor/tensor.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr double kForwardTolerance = 1e-5;
constexpr double kGradientTolerance = 2e-5;

Tensor random_f32(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0) {
  return uniform_f32(shape, stream, low, high, 2024);
}

// max |a - reference| / max |reference|; NaN anywhere is infinite.
bool bitwise_equal(const Tensor& a, const Tensor& b) {
  return on_cpu(a).to_vector<float>() == on_cpu(b).to_vector<float>();
}

// a + b elementwise in float32: what a (+=) of b onto a gives when b is computed the same way.
std::vector<float> float_sum(const Tensor& a, const Tensor& b) {
  std::vector<float> sum = on_cpu(a).to_vector<float>();
  const std::vector<float> addend = on_cpu(b).to_vector<float>();
  for (std::size_t i = 0; i < sum.size(); ++i) sum[i] += addend[i];
  return sum;
}

struct HeadCase {
  Shape f_shape;
  std::int64_t classes;
};

// Odd pixel counts and channels not multiples of 32; K = 13 as in PAnS and K = 4; K = 21 takes two
// class groups of the logits kernel; C = 1000 makes K*C too big to stage the prototypes in shared
// memory. 198 pixels are ~12 per warp on the emulator's 4 blocks: the grid-stride loops run.
const HeadCase kHeadCases[] = {
    {{1, 3, 5, 37}, 13}, {{3, 7, 5, 64}, 4}, {{2, 9, 11, 100}, 13}, {{1, 2, 7, 33}, 21}, {{1, 2, 3, 1000}, 13}};

Shape logits_shape(const HeadCase& c) { return {c.f_shape[0], c.f_shape[1], c.f_shape[2], c.classes}; }

}  // namespace

TEST_CASE("cuda l2 normalize forward and backward match the cpu") {
  for (const Shape& shape : {Shape{1, 3, 5, 37}, Shape{3, 7, 5, 64}, Shape{2, 9, 11, 100}, Shape{13, 512}}) {
    CAPTURE(shape_str(shape));
    const Tensor x = random_f32(shape, 1), dy = random_f32(shape, 2);
    Tensor y = nan_tensor(shape), dx = nan_tensor(shape);
    l2_normalize_forward(x.to(gpu()), y);
    l2_normalize_backward(dy.to(gpu()), x.to(gpu()), dx);
    Tensor dx_reference = Tensor::empty(shape, DType::F64);
    l2_normalize_backward(f64(dy), f64(x), dx_reference);
    CHECK(peak_error(y, l2_normalize_forward(f64(x))) < kForwardTolerance);
    CHECK(peak_error(dx, dx_reference) < kGradientTolerance);
  }
}

TEST_CASE("cuda l2 normalize divides rows shorter than 1e-12 by 1e-12") {
  // Row 0 is ordinary; row 1 has norm sqrt(14) * 1e-14, below the floor, where y = x / 1e-12 and
  // dx = dy / 1e-12 (~1e12): compared elementwise, relative to max(1, |value|).
  const Tensor x = Tensor::from_vector<float>({3, -4, 12, 1e-14f, -2e-14f, 3e-14f}, {2, 3});
  const Tensor dy = Tensor::from_vector<float>({0.5f, 1, -1, 1, -3, 0.5f}, {2, 3});
  Tensor y = nan_tensor({2, 3}), dx = nan_tensor({2, 3});
  l2_normalize_forward(x.to(gpu()), y);
  l2_normalize_backward(dy.to(gpu()), x.to(gpu()), dx);
  Tensor y_reference = Tensor::empty({2, 3}, DType::F64), dx_reference = Tensor::empty({2, 3}, DType::F64);
  l2_normalize_forward(f64(x), y_reference);
  l2_normalize_backward(f64(dy), f64(x), dx_reference);
  CHECK(max_scaled_error(y, y_reference) < kForwardTolerance);
  CHECK(max_scaled_error(dx, dx_reference) < kGradientTolerance);
}

TEST_CASE("cuda cosine classifier forward matches the cpu") {
  for (const HeadCase& c : kHeadCases) {
    CAPTURE(shape_str(c.f_shape));
    CAPTURE(c.classes);
    const Tensor f = random_f32(c.f_shape, 1), w = random_f32({c.classes, c.f_shape[3]}, 2);
    for (const double tau : {10.0, 2.5}) {
      CAPTURE(tau);
      Tensor logits = nan_tensor(logits_shape(c));
      cosine_classifier_forward(f.to(gpu()), w.to(gpu()), logits, tau);
      CHECK(peak_error(logits, cosine_classifier_forward(f64(f), f64(w), tau)) < kForwardTolerance);
    }
  }
}

TEST_CASE("cuda cosine classifier backward matches the cpu, and dw accumulates") {
  for (const HeadCase& c : kHeadCases) {
    // PAnS's tau, and another one on the K = 4 case (tau scales every term of both gradients).
    const double tau = c.classes == 4 ? 2.5 : 10.0;
    CAPTURE(shape_str(c.f_shape));
    CAPTURE(c.classes);
    const Shape w_shape{c.classes, c.f_shape[3]};
    const Tensor f = random_f32(c.f_shape, 1), w = random_f32(w_shape, 2);
    const Tensor dlogits = random_f32(logits_shape(c), 3);
    Tensor df_reference = Tensor::empty(c.f_shape, DType::F64), dw_reference = Tensor::zeros(w_shape, DType::F64);
    cosine_classifier_backward(f64(dlogits), f64(f), f64(w), df_reference, dw_reference, tau);

    Tensor df = nan_tensor(c.f_shape), dw = Tensor::zeros(w_shape, DType::F32, gpu());
    cosine_classifier_backward(dlogits.to(gpu()), f.to(gpu()), w.to(gpu()), df, dw, tau);
    CHECK(peak_error(df, df_reference) < kGradientTolerance);
    CHECK(peak_error(dw, dw_reference) < kGradientTolerance);

    // dw (+=): the same deterministic sum added once to each start value, so exactly the float
    // sum start + fresh (no tolerance).
    const Tensor dw_start = random_f32(w_shape, 4);
    Tensor accumulated = dw_start.to(gpu());
    cosine_classifier_backward(dlogits.to(gpu()), f.to(gpu()), w.to(gpu()), df, accumulated, tau);
    CHECK(on_cpu(accumulated).to_vector<float>() == float_sum(dw_start, dw));
  }
}

TEST_CASE("cuda cosine classifier handles a zero feature pixel and a zero prototype") {
  // |f| = 0 at pixel 4 and |w| = 0 for class 2: logits 0 there, and the gradients of that pixel and
  // that prototype go through the 1e-12 floor (~1e12 large), so they are compared apart from the
  // others, each against its own peak.
  Tensor f = random_f32({1, 3, 5, 37}, 1), w = random_f32({13, 37}, 2);
  std::fill(f.data<float>() + 4 * 37, f.data<float>() + 5 * 37, 0.0f);
  std::fill(w.data<float>() + 2 * 37, w.data<float>() + 3 * 37, 0.0f);
  const Tensor dlogits = random_f32({1, 3, 5, 13}, 3);
  Tensor logits = nan_tensor({1, 3, 5, 13});
  cosine_classifier_forward(f.to(gpu()), w.to(gpu()), logits);
  CHECK(peak_error(logits, cosine_classifier_forward(f64(f), f64(w))) < kForwardTolerance);
  Tensor df_reference = Tensor::empty(f.shape(), DType::F64), dw_reference = Tensor::zeros(w.shape(), DType::F64);
  cosine_classifier_backward(f64(dlogits), f64(f), f64(w), df_reference, dw_reference);
  Tensor df = nan_tensor(f.shape()), dw = Tensor::zeros(w.shape(), DType::F32, gpu());
  cosine_classifier_backward(dlogits.to(gpu()), f.to(gpu()), w.to(gpu()), df, dw);
  // Rows [begin, end) of a {rows, C} view.
  auto rows = [](const Tensor& t, std::int64_t begin, std::int64_t end) {
    return on_cpu(t).reshape({t.numel() / 37, 37}).narrow(0, begin, end - begin).clone();
  };
  CHECK(peak_error(rows(df, 0, 4), rows(df_reference, 0, 4)) < kGradientTolerance);
  CHECK(peak_error(rows(df, 4, 5), rows(df_reference, 4, 5)) < kGradientTolerance);
  CHECK(peak_error(rows(df, 5, 15), rows(df_reference, 5, 15)) < kGradientTolerance);
  CHECK(peak_error(rows(dw, 0, 2), rows(dw_reference, 0, 2)) < kGradientTolerance);
  CHECK(peak_error(rows(dw, 2, 3), rows(dw_reference, 2, 3)) < kGradientTolerance);
  CHECK(peak_error(rows(dw, 3, 13), rows(dw_reference, 3, 13)) < kGradientTolerance);
  CHECK(std::abs(on_cpu(df).to_vector<float>()[4 * 37]) > 1e10);  // the floor branch did run
  CHECK(std::abs(on_cpu(dw).to_vector<float>()[2 * 37]) > 1e10);
}

TEST_CASE("cuda linear classifier forward and backward match the cpu, and dw, dbias accumulate") {
  for (const HeadCase& c : kHeadCases) {
    for (const bool with_bias : {true, false}) {
      CAPTURE(shape_str(c.f_shape));
      CAPTURE(c.classes);
      CAPTURE(with_bias);
      const Shape w_shape{c.classes, c.f_shape[3]};
      const Tensor f = random_f32(c.f_shape, 1), w = random_f32(w_shape, 2), dlogits = random_f32(logits_shape(c), 3);
      const Tensor bias = with_bias ? random_f32({c.classes}, 4) : Tensor();
      const Tensor bias_gpu = with_bias ? bias.to(gpu()) : Tensor();

      Tensor logits = nan_tensor(logits_shape(c));
      linear_classifier_forward(f.to(gpu()), w.to(gpu()), bias_gpu, logits);
      CHECK(peak_error(logits, linear_classifier_forward(f64(f), f64(w), with_bias ? f64(bias) : Tensor())) <
            kForwardTolerance);

      Tensor df_reference = Tensor::empty(c.f_shape, DType::F64), dw_reference = Tensor::zeros(w_shape, DType::F64);
      Tensor dbias_reference = with_bias ? Tensor::zeros({c.classes}, DType::F64) : Tensor();
      linear_classifier_backward(f64(dlogits), f64(f), f64(w), df_reference, dw_reference, dbias_reference);
      Tensor df = nan_tensor(c.f_shape), dw = Tensor::zeros(w_shape, DType::F32, gpu());
      Tensor dbias = with_bias ? Tensor::zeros({c.classes}, DType::F32, gpu()) : Tensor();
      linear_classifier_backward(dlogits.to(gpu()), f.to(gpu()), w.to(gpu()), df, dw, dbias);
      CHECK(peak_error(df, df_reference) < kGradientTolerance);
      CHECK(peak_error(dw, dw_reference) < kGradientTolerance);
      if (with_bias) CHECK(peak_error(dbias, dbias_reference) < kGradientTolerance);

      const Tensor dw_start = random_f32(w_shape, 5), dbias_start = random_f32({c.classes}, 6);
      Tensor dw_sum = dw_start.to(gpu()), dbias_sum = with_bias ? dbias_start.to(gpu()) : Tensor();
      linear_classifier_backward(dlogits.to(gpu()), f.to(gpu()), w.to(gpu()), df, dw_sum, dbias_sum);
      CHECK(on_cpu(dw_sum).to_vector<float>() == float_sum(dw_start, dw));
      if (with_bias) CHECK(on_cpu(dbias_sum).to_vector<float>() == float_sum(dbias_start, dbias));
    }
  }
}

TEST_CASE("cuda head backward is deterministic: two runs give the same bits") {
  const Tensor f = random_f32({2, 9, 11, 100}, 1).to(gpu()), w = random_f32({13, 100}, 2).to(gpu());
  const Tensor dlogits = random_f32({2, 9, 11, 13}, 3).to(gpu()), bias = random_f32({13}, 4).to(gpu());
  Tensor df_first = nan_tensor(f.shape()), df_second = nan_tensor(f.shape());
  Tensor dw_first = Tensor::zeros(w.shape(), DType::F32, gpu()),
         dw_second = Tensor::zeros(w.shape(), DType::F32, gpu());
  cosine_classifier_backward(dlogits, f, w, df_first, dw_first);
  cosine_classifier_backward(dlogits, f, w, df_second, dw_second);
  CHECK(bitwise_equal(df_first, df_second));
  CHECK(bitwise_equal(dw_first, dw_second));

  Tensor dbias_first = Tensor::zeros({13}, DType::F32, gpu()), dbias_second = Tensor::zeros({13}, DType::F32, gpu());
  dw_first.zero_();
  dw_second.zero_();
  linear_classifier_backward(dlogits, f, w, df_first, dw_first, dbias_first);
  linear_classifier_backward(dlogits, f, w, df_second, dw_second, dbias_second);
  CHECK(bitwise_equal(df_first, df_second));
  CHECK(bitwise_equal(dw_first, dw_second));
  CHECK(bitwise_equal(dbias_first, dbias_second));
}

TEST_CASE("cuda cosine max similarity is the cpu's, bit for bit") {
  // A max is exact and the division by tau correctly rounded on both sides.
  for (const Shape& shape : {Shape{2, 9, 11, 13}, Shape{1, 3, 5, 1}, Shape{2, 23, 29, 4}}) {
    CAPTURE(shape_str(shape));
    const Tensor logits = random_f32(shape, 1, -10.0, 10.0);
    Tensor similarity = nan_tensor({shape[0], shape[1], shape[2]});
    cosine_max_similarity(logits.to(gpu()), similarity, 2.5);
    CHECK(on_cpu(similarity).to_vector<float>() == cosine_max_similarity(logits, 2.5).to_vector<float>());
  }
}

TEST_CASE("cuda cosine head rejects float64") {
  const Tensor f = Tensor::zeros({1, 2, 3, 5}, DType::F64, gpu()), w = Tensor::zeros({4, 5}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  CHECK_THROWS_WITH_AS(l2_normalize_forward(f), doctest::Contains("float64 is CPU-only"), Error);
}

TEST_CASE("cuda cosine head has no bfloat16 kernels and says so") {
  const Tensor f = Tensor::zeros({1, 2, 3, 5}, DType::BF16, gpu()), w = Tensor::zeros({4, 5}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(cosine_classifier_forward(f, w),
                       doctest::Contains("cosine_classifier_forward has no bfloat16 kernel"), Error);
  CHECK_THROWS_WITH_AS(l2_normalize_forward(f), doctest::Contains("l2_normalize_forward has no bfloat16 kernel"),
                       Error);
}
