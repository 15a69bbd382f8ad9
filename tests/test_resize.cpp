#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/resize.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

// PyTorch's align_corners=False source coordinate, written out in double for one output index.
struct ExpectedTap {
  std::int64_t i0, i1;
  double lambda1;
};
ExpectedTap expected_tap(std::int64_t dst, std::int64_t in_size, std::int64_t out_size) {
  const double src = std::max(double(in_size) / double(out_size) * (dst + 0.5) - 0.5, 0.0);
  const double floor = std::floor(src);
  const std::int64_t i0 = std::int64_t(floor);
  return {i0, std::min(i0 + 1, in_size - 1), src - floor};
}

// Bilinear interpolation by definition: each output pixel weighs its four neighbours by the
// products of the per-axis weights.
Tensor bilinear_definition(const Tensor& x, std::int64_t oh, std::int64_t ow) {
  const std::int64_t n_ = x.dim(0), h = x.dim(1), w = x.dim(2), c_ = x.dim(3);
  Tensor y = Tensor::zeros({n_, oh, ow, c_}, DType::F64);
  const double* xv = x.data<double>();
  double* yv = y.data<double>();
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox) {
        const ExpectedTap r = expected_tap(oy, h, oh), q = expected_tap(ox, w, ow);
        const std::int64_t rows[] = {r.i0, r.i1}, cols[] = {q.i0, q.i1};
        const double row_weights[] = {1 - r.lambda1, r.lambda1}, col_weights[] = {1 - q.lambda1, q.lambda1};
        for (int a = 0; a < 2; ++a)
          for (int b = 0; b < 2; ++b)
            for (std::int64_t c = 0; c < c_; ++c)
              yv[((n * oh + oy) * ow + ox) * c_ + c] +=
                  row_weights[a] * col_weights[b] * xv[((n * h + rows[a]) * w + cols[b]) * c_ + c];
      }
  return y;
}

template <class T>
void check_taps_against_formula(std::int64_t in_size, std::int64_t out_size, double lambda_tolerance) {
  for (std::int64_t dst = 0; dst < out_size; ++dst) {
    CAPTURE(dst);
    const BilinearTap<T> tap = bilinear_tap<T>(dst, in_size, out_size);
    const ExpectedTap expected = expected_tap(dst, in_size, out_size);
    CHECK(tap.i0 == expected.i0);
    CHECK(tap.i1 == expected.i1);
    CHECK(std::abs(double(tap.lambda1) - expected.lambda1) < lambda_tolerance);
  }
}

}  // namespace

TEST_CASE("bilinear source indices and weights for 8 -> 57") {
  // src = (8 dst - 24.5) / 57 is never within 0.5/57 of an integer, so float32 rounding (~1e-6)
  // cannot move i0; lambda1 then differs from the double value by a few float32 ulps of src < 8.
  check_taps_against_formula<double>(8, 57, 1e-14);
  check_taps_against_formula<float>(8, 57, 1e-5);
}

TEST_CASE("bilinear taps for 6 -> 57 and 1 -> 57 match the worked values of docs/method.md#resampling-formulas") {
  const BilinearTap<double> first = bilinear_tap<double>(0, 6, 57);
  CHECK(first.i0 == 0);
  CHECK(first.i1 == 1);
  CHECK(first.lambda1 == 0.0);  // src = 6/57 * 0.5 - 0.5 < 0 clamps to exactly 0
  const BilinearTap<double> fifth = bilinear_tap<double>(5, 6, 57);
  CHECK(fifth.i0 == 0);
  CHECK(fifth.i1 == 1);
  CHECK(fifth.lambda1 == doctest::Approx(33.0 / 57 - 0.5).epsilon(1e-12));  // 0.0789...
  const BilinearTap<float> middle = bilinear_tap<float>(28, 6, 57);
  CHECK(middle.i0 == 2);
  CHECK(middle.i1 == 3);
  CHECK(middle.lambda1 == doctest::Approx(0.5).epsilon(1e-6));  // src = 6/57 * 28.5 - 0.5 = 2.5
  const BilinearTap<double> last = bilinear_tap<double>(56, 6, 57);
  CHECK(last.i0 == 5);
  CHECK(last.i1 == 5);  // the last row has no successor: both taps read it
  for (std::int64_t dst = 0; dst < 57; ++dst) {
    const BilinearTap<float> tap = bilinear_tap<float>(dst, 1, 57);
    CHECK(tap.i0 == 0);
    CHECK(tap.i1 == 0);
  }
}

TEST_CASE("bilinear resize of a 1x1 image is constant") {
  const Tensor x = Tensor::from_vector(std::vector<double>{0.3, -1.7}, {1, 1, 1, 2});
  const std::vector<double> y = resize_bilinear_forward(x, 57, 57).to_vector<double>();
  // (1 - lambda) v + lambda v rounds to within a few ulps of v, not always to v itself
  // (docs/method.md#resampling-formulas).
  for (std::size_t i = 0; i < y.size(); i += 2) {
    CHECK(y[i] == doctest::Approx(0.3).epsilon(1e-14));
    CHECK(y[i + 1] == doctest::Approx(-1.7).epsilon(1e-14));
  }
}

TEST_CASE("bilinear resize to the same size is an exact copy") {
  const Tensor x = test::random_tensor({2, 5, 7, 3}, 1);
  CHECK(resize_bilinear_forward(x, 5, 7).to_vector<double>() == x.to_vector<double>());
  Tensor dx = Tensor::empty(x.shape(), DType::F64);
  resize_bilinear_backward(x, dx);
  CHECK(dx.to_vector<double>() == x.to_vector<double>());
}

TEST_CASE("bilinear resize equals the interpolation definition") {
  const Tensor small = test::random_tensor({2, 3, 4, 3}, 1), large = test::random_tensor({2, 9, 7, 3}, 2);
  // Float64 sums of four products with weights in [0, 1] in another order: a few ulps of O(1) values.
  CHECK(test::max_relative_error(resize_bilinear_forward(small, 7, 9), bilinear_definition(small, 7, 9)) < 1e-14);
  CHECK(test::max_relative_error(resize_bilinear_forward(large, 4, 5), bilinear_definition(large, 4, 5)) < 1e-14);
  CHECK(test::max_relative_error(resize_bilinear_forward(small, 3, 11), bilinear_definition(small, 3, 11)) < 1e-14);
}

TEST_CASE("gradcheck bilinear resize") {
  struct Case {
    const char* name;
    Shape x_shape;
    std::int64_t out_height, out_width;
  };
  const Case cases[] = {{"upsample 3x4 -> 7x9", {2, 3, 4, 3}, 7, 9},
                        {"downsample 9x7 -> 4x5", {2, 9, 7, 3}, 4, 5},
                        {"one axis kept 3x4 -> 3x11", {2, 3, 4, 3}, 3, 11}};
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Tensor x = test::random_tensor(c.x_shape, 1);
    const Tensor g = test::random_tensor({c.x_shape[0], c.out_height, c.out_width, c.x_shape[3]}, 2);
    auto loss = [&] { return test::weighted_sum(resize_bilinear_forward(x, c.out_height, c.out_width), g); };
    Tensor dx = Tensor::empty(x.shape(), DType::F64);
    resize_bilinear_backward(g, dx);
    CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
  }
}

TEST_CASE("bilinear resize float32 matches float64") {
  const Tensor x = test::random_tensor({2, 6, 6, 3}, 1);
  // Four float32 products with weights in [0, 1] of values below 1, plus float32 weights: ~1e-6.
  CHECK(test::max_relative_error(resize_bilinear_forward(x.cast(DType::F32), 57, 57),
                                 resize_bilinear_forward(x, 57, 57)) < 1e-5);
}

TEST_CASE("resize rejects bad arguments with the op name and shapes") {
  const Tensor x = Tensor::zeros({2, 5, 7, 3});
  Tensor y = Tensor::zeros({2, 9, 9, 4});
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, y),
                       doctest::Contains("resize_bilinear_forward(x [2,5,7,3] float32 cpu, y [2,9,9,4] float32 cpu): "
                                         "y must have the batch and channels of x"),
                       Error);
  Tensor y64 = Tensor::zeros({2, 9, 9, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, y64), doctest::Contains("one dtype"), Error);
  Tensor labels_out = Tensor::zeros({2, 9, 9, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(Tensor::zeros({2, 5, 7, 3}, DType::U8), labels_out),
                       doctest::Contains("x must be float32 or float64"), Error);
  Tensor flat = Tensor::zeros({2, 9, 3});
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, flat), doctest::Contains("y must have 4 dimensions"), Error);
  Tensor dx = Tensor::zeros({1, 5, 7, 3});
  CHECK_THROWS_WITH_AS(resize_bilinear_backward(Tensor::zeros({2, 9, 9, 3}), dx),
                       doctest::Contains("resize_bilinear_backward(dy [2,9,9,3] float32 cpu, dx [1,5,7,3] float32 "
                                         "cpu): dy must have the batch and channels of dx"),
                       Error);
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, 0, 4), doctest::Contains("output size 0x4 must be positive"), Error);
}

TEST_CASE("resize rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> input(2 * 5 * 7 * 3);
  const Tensor x_cuda = Tensor::wrap(input.data(), {2, 5, 7, 3}, DType::F32, Device::cuda(0));
  Tensor y = Tensor::zeros({2, 9, 9, 3});
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x_cuda, y),
                       doctest::Contains("all tensors must be on one device, y is on cpu and x on cuda:0"), Error);
}

// The CUDA backward gathers, per input index, over bilinear_readers_superset and keeps the outputs
// whose taps read the index; the range must hold all of them, for float and double taps, on
// PSP-sized axes and far larger ones than the CUDA tests run.
template <class T>
void check_readers_superset(std::int64_t in_size, std::int64_t out_size) {
  std::vector<std::int64_t> first(std::size_t(in_size), out_size), last(std::size_t(in_size), -1);
  for (std::int64_t dst = 0; dst < out_size; ++dst) {
    const BilinearTap<T> tap = bilinear_tap<T>(dst, in_size, out_size);
    for (std::int64_t i : {tap.i0, tap.i1}) {
      first[std::size_t(i)] = std::min(first[std::size_t(i)], dst);
      last[std::size_t(i)] = std::max(last[std::size_t(i)], dst);
    }
  }
  for (std::int64_t i = 0; i < in_size; ++i) {
    const BilinearReaders readers = bilinear_readers_superset(i, in_size, out_size);
    const bool holds_all =
        last[std::size_t(i)] < 0 || (readers.start <= first[std::size_t(i)] && last[std::size_t(i)] < readers.end);
    // Tight too: at most the two widening steps per side beyond the exact src interval, and for
    // i <= 1 the outputs whose src clamps to 0.
    const std::int64_t clamped = i <= 1 ? (out_size + in_size - 1) / in_size : 0;
    const bool tight = readers.end - readers.start <= (2 * out_size + in_size - 1) / in_size + 6 + clamped;
    if (!holds_all || !tight) {
      CAPTURE(in_size);
      CAPTURE(out_size);
      CAPTURE(i);
      CAPTURE(readers.start);
      CAPTURE(readers.end);
      CAPTURE(first[std::size_t(i)]);
      CAPTURE(last[std::size_t(i)]);
      CHECK(holds_all);
      CHECK(tight);
    }
  }
}

TEST_CASE("bilinear_readers_superset holds every output that reads an input index") {
  for (std::int64_t in_size = 1; in_size <= 40; ++in_size)
    for (std::int64_t out_size = 1; out_size <= 70; ++out_size) {
      check_readers_superset<float>(in_size, out_size);
      check_readers_superset<double>(in_size, out_size);
    }
  const std::pair<std::int64_t, std::int64_t> large[] = {{57, 450},   {57, 513},   {65, 513},   {90, 720},
                                                         {160, 1280}, {1, 1000},   {6, 1280},   {450, 57},
                                                         {1280, 7},   {999, 1000}, {1000, 999}, {3000, 4001}};
  for (const auto& [in_size, out_size] : large) {
    check_readers_superset<float>(in_size, out_size);
    check_readers_superset<double>(in_size, out_size);
  }
}
