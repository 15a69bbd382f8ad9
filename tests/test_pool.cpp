#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>
#include <vector>

#include "kernels/pool.h"
#include "kernels/shared/max_pool_window.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct OutputSize {
  std::int64_t height, width;
};
// On a 7x9 input: the PSP pyramid sizes (bins overlap for 2, 3 and 6 since 7 and 9 are odd), a
// non-square output, and one larger than the input.
const OutputSize kAdaptiveOutputSizes[] = {{1, 1}, {2, 2}, {3, 3}, {6, 6}, {2, 6}, {9, 11}};

// A random permutation of evenly spaced values in [-1, 1): no two lie within 2/numel of each
// other, far more than the finite-difference step, so no perturbation changes a window's maximum.
Tensor distinct_values(const Shape& shape, std::uint64_t stream) {
  const std::vector<double> keys = test::random_tensor(shape, stream).to_vector<double>();
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  std::vector<double> values(keys.size());
  for (std::size_t rank = 0; rank < order.size(); ++rank) values[order[rank]] = -1.0 + 2.0 * rank / order.size();
  return Tensor::from_vector(values, shape);
}

// Max pooling by definition: pad with -inf, then keep the first strictly larger value.
void max_pool_definition(const Tensor& x, const MaxPool2dParams& p, Tensor& y, std::vector<std::int32_t>& argmax) {
  const std::int64_t n_ = x.dim(0), h = x.dim(1), w = x.dim(2), c_ = x.dim(3);
  const std::int64_t ho = (h + 2 * p.padding - p.kernel_size) / p.stride + 1;
  const std::int64_t wo = (w + 2 * p.padding - p.kernel_size) / p.stride + 1;
  y = Tensor::empty({n_, ho, wo, c_}, DType::F64);
  argmax.assign(std::size_t(y.numel()), -1);
  const double* xv = x.data<double>();
  double* yv = y.data<double>();
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t oy = 0; oy < ho; ++oy)
      for (std::int64_t ox = 0; ox < wo; ++ox)
        for (std::int64_t c = 0; c < c_; ++c) {
          const std::int64_t out = ((n * ho + oy) * wo + ox) * c_ + c;
          double best = -kInf;
          for (std::int64_t ky = 0; ky < p.kernel_size; ++ky)
            for (std::int64_t kx = 0; kx < p.kernel_size; ++kx) {
              const std::int64_t iy = oy * p.stride - p.padding + ky, ix = ox * p.stride - p.padding + kx;
              const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
              const double value = inside ? xv[((n * h + iy) * w + ix) * c_ + c] : -kInf;
              if (value > best) {
                best = value;
                argmax[std::size_t(out)] = std::int32_t(iy * w + ix);
              }
            }
          yv[out] = best;
        }
}

// Adaptive average pooling by definition, with PyTorch's older floating-point bin formula.
Tensor adaptive_avg_pool_definition(const Tensor& x, std::int64_t oh, std::int64_t ow) {
  const std::int64_t n_ = x.dim(0), h = x.dim(1), w = x.dim(2), c_ = x.dim(3);
  auto start = [](std::int64_t o, std::int64_t in, std::int64_t out) {
    return std::int64_t(std::floor(double(o) * in / out));
  };
  auto end = [](std::int64_t o, std::int64_t in, std::int64_t out) {
    return std::int64_t(std::ceil(double(o + 1) * in / out));
  };
  Tensor y = Tensor::empty({n_, oh, ow, c_}, DType::F64);
  const double* xv = x.data<double>();
  double* yv = y.data<double>();
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t oy = 0; oy < oh; ++oy)
      for (std::int64_t ox = 0; ox < ow; ++ox)
        for (std::int64_t c = 0; c < c_; ++c) {
          double sum = 0.0;
          std::int64_t count = 0;
          for (std::int64_t iy = start(oy, h, oh); iy < end(oy, h, oh); ++iy)
            for (std::int64_t ix = start(ox, w, ow); ix < end(ox, w, ow); ++ix, ++count)
              sum += xv[((n * h + iy) * w + ix) * c_ + c];
          yv[((n * oh + oy) * ow + ox) * c_ + c] = sum / double(count);
        }
  return y;
}

}  // namespace

TEST_CASE("max pool output size is floor((in + 2p - k) / s) + 1") {
  CHECK(max_pool2d_output_size(225, {}) ==
        113);  // the ResNet stem at a 450 crop (docs/method.md#spatial-sizes)
  CHECK(max_pool2d_output_size(256, {}) == 128);
  CHECK(max_pool2d_output_size(257, {}) == 129);
  CHECK(max_pool2d_output_size(9, {}) == 5);
  CHECK(max_pool2d_output_size(2, {2, 2, 0}) == 1);
  CHECK(max_pool2d_output_size(1, {3, 1, 0}) == 0);
}

TEST_CASE("max pool 3x3 stride 2 pad 1 on a hand-checked 4x4 example") {
  // Channel 0 holds these values and channel 1 their negation:
  //   1 5 2 0
  //   3 4 8 6
  //   7 0 9 1
  //   2 6 3 5
  // Windows (rows x cols inside the image): [0,2)x[0,2), [0,2)x[1,4), [1,4)x[0,2), [1,4)x[1,4).
  const std::vector<double> image = {1, 5, 2, 0, 3, 4, 8, 6, 7, 0, 9, 1, 2, 6, 3, 5};
  std::vector<double> values;
  for (double v : image) values.insert(values.end(), {v, -v});
  const Tensor x = Tensor::from_vector(values, {1, 4, 4, 2});
  const MaxPool2dOutput out = max_pool2d_forward(x);
  REQUIRE(out.y.shape() == Shape{1, 2, 2, 2});
  // Channel 0: 5 at (0,1), 8 at (1,2), 7 at (2,0), 9 at (2,2). Channel 1: -1 at (0,0), 0 at (0,3),
  // then the 0 at (2,1) for both lower windows (the 0 at (0,3) lies outside them).
  CHECK(out.y.to_vector<double>() == std::vector<double>{5, -1, 8, 0, 7, 0, 9, 0});
  CHECK(out.argmax.to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 0, 6, 3, 8, 9, 10, 9});

  const Tensor dy = Tensor::from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 2, 2});
  Tensor dx = Tensor::from_vector(std::vector<double>(32, 99.0), {1, 4, 4, 2});  // stale values to overwrite
  max_pool2d_backward(dy, out.argmax, dx);
  std::vector<double> expected(32, 0.0);
  for (auto [pixel, channel, gradient] :
       {std::tuple{1, 0, 1.0}, {6, 0, 3.0}, {8, 0, 5.0}, {10, 0, 7.0}, {0, 1, 2.0}, {3, 1, 4.0}, {9, 1, 6.0 + 8.0}})
    expected[std::size_t(pixel * 2 + channel)] = gradient;
  CHECK(dx.to_vector<double>() == expected);
}

TEST_CASE("max pool ties go to the first element in row-major window order and padding never wins") {
  // A constant image: every window is one big tie, won by its first element inside the image.
  const MaxPool2dOutput constant = max_pool2d_forward(Tensor::zeros({1, 4, 4, 1}, DType::F64));
  CHECK(constant.argmax.to_vector<std::int32_t>() == std::vector<std::int32_t>{0, 1, 4, 5});
  // Two maxima in one window: (0,2) comes before (1,1) in row-major order.
  const std::vector<double> two_maxima = {0, 0, 3, 0, 0, 3, 0, 0, 0};
  const MaxPool2dOutput first = max_pool2d_forward(Tensor::from_vector(two_maxima, {1, 3, 3, 1}), {3, 1, 0});
  CHECK(first.argmax.to_vector<std::int32_t>() == std::vector<std::int32_t>{2});
  // All -inf: padding (also -inf) must still not be chosen, so argmax stays inside the image.
  const MaxPool2dOutput minus_inf =
      max_pool2d_forward(Tensor::from_vector(std::vector<double>(16, -kInf), {1, 4, 4, 1}));
  CHECK(minus_inf.argmax.to_vector<std::int32_t>() == std::vector<std::int32_t>{0, 1, 4, 5});
  CHECK(minus_inf.y.to_vector<double>() == std::vector<double>(4, -kInf));
}

TEST_CASE("max pool propagates NaN like PyTorch") {
  std::vector<double> values(9, 1.0);
  values[4] = std::nan("");
  const MaxPool2dOutput out = max_pool2d_forward(Tensor::from_vector(values, {1, 3, 3, 1}), {3, 1, 0});
  CHECK(std::isnan(out.y.to_vector<double>()[0]));
  CHECK(out.argmax.to_vector<std::int32_t>()[0] == 4);
}

TEST_CASE("max pool equals the padded definition") {
  const MaxPool2dParams cases[] = {{3, 2, 1}, {2, 2, 0}, {3, 1, 1}, {5, 3, 2}};
  for (const MaxPool2dParams& p : cases) {
    CAPTURE(p.kernel_size);
    CAPTURE(p.stride);
    CAPTURE(p.padding);
    const Tensor x = test::random_tensor({2, 9, 7, 3}, 1);
    Tensor expected_y;
    std::vector<std::int32_t> expected_argmax;
    max_pool_definition(x, p, expected_y, expected_argmax);
    const MaxPool2dOutput out = max_pool2d_forward(x, p);
    CHECK(out.y.to_vector<double>() == expected_y.to_vector<double>());
    CHECK(out.argmax.to_vector<std::int32_t>() == expected_argmax);
  }
}

TEST_CASE("gradcheck max pool 3x3 stride 2") {
  Tensor x = distinct_values({2, 9, 7, 3}, 1);
  const MaxPool2dOutput out = max_pool2d_forward(x);
  const Tensor g = test::random_tensor(out.y.shape(), 2);
  auto loss = [&] { return test::weighted_sum(max_pool2d_forward(x).y, g); };
  Tensor dx = Tensor::empty(x.shape(), DType::F64);
  max_pool2d_backward(g, out.argmax, dx);
  CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
}

TEST_CASE("adaptive pool bins for 57 -> 1, 2, 3, 6") {
  // The PSP pyramid on a 450 crop (57x57 features); the table of docs/method.md#resampling-formulas,
  // computed with PyTorch's integer START_IND / END_IND formulas.
  auto bins = [](std::int64_t out_size) {
    std::vector<std::pair<std::int64_t, std::int64_t>> result;
    for (std::int64_t o = 0; o < out_size; ++o) {
      const PoolBin bin = adaptive_pool_bin(o, 57, out_size);
      result.emplace_back(bin.start, bin.end);
    }
    return result;
  };
  using Bins = std::vector<std::pair<std::int64_t, std::int64_t>>;
  CHECK(bins(1) == Bins{{0, 57}});
  CHECK(bins(2) == Bins{{0, 29}, {28, 57}});
  CHECK(bins(3) == Bins{{0, 19}, {19, 38}, {38, 57}});
  CHECK(bins(6) == Bins{{0, 10}, {9, 19}, {19, 29}, {28, 38}, {38, 48}, {47, 57}});
}

TEST_CASE("adaptive average pool equals the mean over PyTorch's bins") {
  const Tensor x = test::random_tensor({2, 7, 9, 3}, 1);
  for (const OutputSize& size : kAdaptiveOutputSizes) {
    const std::int64_t oh = size.height, ow = size.width;
    CAPTURE(oh);
    CAPTURE(ow);
    // Float64 means of at most 63 values below 1 in magnitude: any summation order agrees within
    // ~63 ulps ~ 1e-14, while a wrong bin moves a mean by O(0.1).
    CHECK(test::max_relative_error(adaptive_avg_pool2d_forward(x, oh, ow), adaptive_avg_pool_definition(x, oh, ow)) <
          1e-13);
  }
}

TEST_CASE("gradcheck adaptive average pool") {
  for (const OutputSize& size : kAdaptiveOutputSizes) {
    const std::int64_t oh = size.height, ow = size.width;
    CAPTURE(oh);
    CAPTURE(ow);
    Tensor x = test::random_tensor({2, 7, 9, 3}, 1);
    const Tensor g = test::random_tensor({2, oh, ow, 3}, 2);
    auto loss = [&] { return test::weighted_sum(adaptive_avg_pool2d_forward(x, oh, ow), g); };
    Tensor dx = Tensor::empty(x.shape(), DType::F64);
    adaptive_avg_pool2d_backward(g, dx);
    CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);
  }
}

TEST_CASE("pool float32 matches float64") {
  const Tensor x = test::random_tensor({2, 9, 7, 3}, 1);
  // Max pool only selects: the float32 result is the rounded float64 one, within 2^-24 relative.
  CHECK(test::max_relative_error(max_pool2d_forward(x.cast(DType::F32)).y, max_pool2d_forward(x).y) < 1e-7);
  // Means of at most 63 values of magnitude < 1 in float32: error below 63 * 2^-24 ~ 4e-6.
  CHECK(test::max_relative_error(adaptive_avg_pool2d_forward(x.cast(DType::F32), 2, 3),
                                 adaptive_avg_pool2d_forward(x, 2, 3)) < 1e-5);
}

TEST_CASE("pool rejects bad arguments with the op name and shapes") {
  const Tensor x = Tensor::zeros({2, 9, 7, 3});
  Tensor y = Tensor::zeros({2, 5, 4, 3}), argmax = Tensor::zeros({2, 5, 4, 3}, DType::I32);
  Tensor wrong_y = Tensor::zeros({2, 4, 4, 3});
  CHECK_THROWS_WITH_AS(
      max_pool2d_forward(x, wrong_y, argmax),
      doctest::Contains("max_pool2d_forward(x [2,9,7,3] float32 cpu, y [2,4,4,3] float32 cpu, argmax [2,5,4,3] int32 "
                        "cpu): y must have shape [2,5,4,3]"),
      Error);
  Tensor y64 = Tensor::zeros({2, 5, 4, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x, y64, argmax), doctest::Contains("must share one dtype"), Error);
  Tensor float_argmax = Tensor::zeros({2, 5, 4, 3});
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x, y, float_argmax), doctest::Contains("argmax must be int32"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d_forward(Tensor::zeros({2, 9, 7, 3}, DType::U8), y, argmax),
                       doctest::Contains("x must be float32 or float64"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x, y, argmax, {3, 2, 2}),
                       doctest::Contains("invalid kernel_size 3, stride 2, padding 2"), Error);
  CHECK_THROWS_WITH_AS(max_pool2d_forward(Tensor::zeros({1, 1, 1, 1}), {3, 1, 0}),
                       doctest::Contains("window does not fit"), Error);
  Tensor dx = Tensor::zeros({2, 9, 9, 3});
  CHECK_THROWS_WITH_AS(max_pool2d_backward(y, argmax, dx),
                       doctest::Contains("max_pool2d_backward(dy [2,5,4,3] float32 cpu, argmax [2,5,4,3] int32 cpu, dx "
                                         "[2,9,9,3] float32 cpu): dy must have shape [2,5,5,3]"),
                       Error);

  Tensor pooled = Tensor::zeros({1, 2, 2, 3});
  CHECK_THROWS_WITH_AS(
      adaptive_avg_pool2d_forward(x, pooled),
      doctest::Contains(
          "adaptive_avg_pool2d_forward(x [2,9,7,3] float32 cpu, y [1,2,2,3] float32 cpu): y must have the batch "
          "and channels of x"),
      Error);
  Tensor pooled64 = Tensor::zeros({2, 2, 2, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d_forward(x, pooled64), doctest::Contains("one dtype"), Error);
  Tensor dx_wrong_channels = Tensor::zeros({2, 9, 7, 4});
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d_backward(Tensor::zeros({2, 2, 2, 3}), dx_wrong_channels),
                       doctest::Contains("dy must have the batch and channels of dx"), Error);
}

TEST_CASE("pool rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> input(2 * 9 * 7 * 3), output(2 * 5 * 4 * 3);
  const Tensor x_cuda = Tensor::wrap(input.data(), {2, 9, 7, 3}, DType::F32, Device::cuda(0));
  Tensor y_cuda = Tensor::wrap(output.data(), {2, 5, 4, 3}, DType::F32, Device::cuda(0));
  Tensor argmax_cpu = Tensor::zeros({2, 5, 4, 3}, DType::I32);
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x_cuda, y_cuda, argmax_cpu),
                       doctest::Contains("all tensors must be on one device, argmax is on cpu and x on cuda:0"), Error);
  Tensor pooled = Tensor::zeros({2, 2, 2, 3});
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d_forward(x_cuda, pooled),
                       doctest::Contains("all tensors must be on one device, y is on cpu and x on cuda:0"), Error);
}

// The gathers of the CUDA backward passes visit, per input index, the outputs these inverses
// name; checked here against the forward geometry over many sizes, larger than the CUDA tests run.
TEST_CASE("adaptive_pool_cells_covering is exactly the cells whose bins contain the index") {
  for (std::int64_t in_size = 1; in_size <= 70; ++in_size)
    for (std::int64_t out_size = 1; out_size <= 70; ++out_size)
      for (std::int64_t i = 0; i < in_size; ++i) {
        std::int64_t first = -1, last = -1;
        for (std::int64_t o = 0; o < out_size; ++o) {
          const PoolBin bin = adaptive_pool_bin(o, in_size, out_size);
          if (bin.start <= i && i < bin.end) {
            CHECK((first < 0 || last == o - 1));  // contiguous
            if (first < 0) first = o;
            last = o;
          }
        }
        const PoolBin cells = adaptive_pool_cells_covering(i, in_size, out_size);
        if (cells.start != first || cells.end != last + 1) {
          CAPTURE(in_size);
          CAPTURE(out_size);
          CAPTURE(i);
          CHECK(cells.start == first);
          CHECK(cells.end == last + 1);
        }
      }
}

TEST_CASE("max_pool_windows_covering is exactly the windows that contain the index") {
  for (int kernel_size = 1; kernel_size <= 5; ++kernel_size)
    for (int stride = 1; stride <= 4; ++stride)
      for (int padding = 0; padding <= kernel_size / 2; ++padding)
        for (std::int64_t in_size = 1; in_size <= 20; ++in_size) {
          const MaxPool2dParams params{kernel_size, stride, padding};
          const std::int64_t out_size = max_pool2d_output_size(in_size, params);
          for (std::int64_t i = 0; i < in_size; ++i) {
            std::int64_t first = out_size, last = out_size - 1;  // an empty range if no window has i
            for (std::int64_t o = 0; o < out_size; ++o) {
              const PoolBin window = max_pool_window(o, in_size, kernel_size, stride, padding);
              if (window.start <= i && i < window.end) {
                if (first == out_size) first = o;
                last = o;
              }
            }
            const PoolBin windows = max_pool_windows_covering(i, out_size, kernel_size, stride, padding);
            const bool empty = first == out_size;
            if (empty ? windows.start < windows.end : (windows.start != first || windows.end != last + 1)) {
              CAPTURE(kernel_size);
              CAPTURE(stride);
              CAPTURE(padding);
              CAPTURE(in_size);
              CAPTURE(i);
              CHECK(windows.start == first);
              CHECK(windows.end == last + 1);
            }
          }
        }
}
