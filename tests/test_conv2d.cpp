#include <doctest/doctest.h>

#include "kernels/conv2d.h"
#include "tests/gradcheck.h"

using namespace pans;
using pans::test::kGradientTolerance;

namespace {

// The definition of convolution as a plain loop nest, independent of the im2col + GEMM code.
Tensor conv2d_loop_nest(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p) {
  const std::int64_t n_ = x.dim(0), h = x.dim(1), wd = x.dim(2), ci_ = x.dim(3);
  const std::int64_t co_ = w.dim(0), kh = w.dim(1), kw = w.dim(2);
  const std::int64_t ho = (h + 2 * p.padding - p.dilation * (kh - 1) - 1) / p.stride + 1;
  const std::int64_t wo = (wd + 2 * p.padding - p.dilation * (kw - 1) - 1) / p.stride + 1;
  Tensor y = Tensor::zeros({n_, ho, wo, co_}, DType::F64);
  const double* xv = x.data<double>();
  const double* wv = w.data<double>();
  double* yv = y.data<double>();
  for (std::int64_t n = 0; n < n_; ++n)
    for (std::int64_t oy = 0; oy < ho; ++oy)
      for (std::int64_t ox = 0; ox < wo; ++ox)
        for (std::int64_t co = 0; co < co_; ++co) {
          double sum = bias.defined() ? bias.data<double>()[co] : 0.0;
          for (std::int64_t ky = 0; ky < kh; ++ky)
            for (std::int64_t kx = 0; kx < kw; ++kx) {
              const std::int64_t iy = oy * p.stride - p.padding + ky * p.dilation;
              const std::int64_t ix = ox * p.stride - p.padding + kx * p.dilation;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (std::int64_t ci = 0; ci < ci_; ++ci)
                sum += xv[((n * h + iy) * wd + ix) * ci_ + ci] * wv[((co * kh + ky) * kw + kx) * ci_ + ci];
            }
          yv[((n * ho + oy) * wo + ox) * co_ + co] = sum;
        }
  return y;
}

struct Case {
  const char* name;
  Shape x_shape, w_shape;
  Conv2dParams params;
  bool with_bias;
};

// Odd sizes everywhere; the shapes of ResNet-50-D8 + PSP in miniature.
const Case kCases[] = {
    {"3x3 stride 2 dilation 2 pad 2", {2, 5, 7, 3}, {4, 3, 3, 3}, {2, 2, 2}, true},
    {"3x3 stride 1 dilation 1 pad 1", {2, 5, 7, 3}, {5, 3, 3, 3}, {1, 1, 1}, false},
    {"3x3 dilation 4 pad 4", {1, 9, 6, 2}, {3, 3, 3, 2}, {1, 4, 4}, false},
    {"1x1 pointwise", {2, 5, 7, 3}, {4, 1, 1, 3}, {1, 0, 1}, true},
    {"1x1 stride 2 projection", {2, 5, 7, 3}, {4, 1, 1, 3}, {2, 0, 1}, false},
    {"7x7 stride 2 pad 3 stem", {1, 9, 11, 3}, {2, 7, 7, 3}, {2, 3, 1}, false},
};

}  // namespace

TEST_CASE("conv2d forward equals the loop-nest definition") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    const Tensor x = test::random_tensor(c.x_shape, 1), w = test::random_tensor(c.w_shape, 2);
    const Tensor bias = c.with_bias ? test::random_tensor({c.w_shape[0]}, 3) : Tensor();
    const Tensor y = conv2d_forward(x, w, bias, c.params);
    // Same float64 products, summed in another order: agreement to a few ulps of the O(10) sums.
    CHECK(test::max_relative_error(y, conv2d_loop_nest(x, w, bias, c.params)) < 1e-13);
  }
}

TEST_CASE("gradcheck conv2d") {
  for (const Case& c : kCases) {
    CAPTURE(c.name);
    Tensor x = test::random_tensor(c.x_shape, 1), w = test::random_tensor(c.w_shape, 2);
    Tensor bias = c.with_bias ? test::random_tensor({c.w_shape[0]}, 3) : Tensor();
    const Tensor g = test::random_tensor(conv2d_forward(x, w, bias, c.params).shape(), 4);
    auto loss = [&] { return test::weighted_sum(conv2d_forward(x, w, bias, c.params), g); };

    Tensor dx = Tensor::empty(x.shape(), DType::F64);
    conv2d_backward_input(g, w, dx, c.params);
    CHECK(test::max_gradient_error(x, dx, loss) < kGradientTolerance);

    Tensor dw = Tensor::zeros(w.shape(), DType::F64);
    Tensor dbias = c.with_bias ? Tensor::zeros(bias.shape(), DType::F64) : Tensor();
    conv2d_backward_weight(g, x, dw, dbias, c.params);
    CHECK(test::max_gradient_error(w, dw, loss) < kGradientTolerance);
    if (c.with_bias) CHECK(test::max_gradient_error(bias, dbias, loss) < kGradientTolerance);
  }
}

TEST_CASE("conv2d weight and bias gradients accumulate") {
  const Conv2dParams params{1, 1, 1};
  const Tensor x = test::random_tensor({2, 5, 7, 3}, 1), g = test::random_tensor({2, 5, 7, 4}, 4);
  Tensor once = Tensor::zeros({4, 3, 3, 3}, DType::F64), once_bias = Tensor::zeros({4}, DType::F64);
  conv2d_backward_weight(g, x, once, once_bias, params);
  Tensor twice = once.clone(), twice_bias = once_bias.clone();
  conv2d_backward_weight(g, x, twice, twice_bias, params);
  for (std::int64_t i = 0; i < once.numel(); ++i) CHECK(twice.data<double>()[i] == 2 * once.data<double>()[i]);
  for (std::int64_t i = 0; i < 4; ++i) CHECK(twice_bias.data<double>()[i] == 2 * once_bias.data<double>()[i]);
}

TEST_CASE("conv2d float32 matches float64") {
  const Conv2dParams params{2, 2, 2};
  const Tensor x = test::random_tensor({2, 5, 7, 3}, 1), w = test::random_tensor({4, 3, 3, 3}, 2);
  const Tensor y64 = conv2d_forward(x, w, Tensor(), params);
  const Tensor y32 = conv2d_forward(x.cast(DType::F32), w.cast(DType::F32), Tensor(), params);
  // Sums of at most 27 products of O(1) values in float32: error ~ 27 * 2^-24 * O(1) < 1e-5.
  CHECK(test::max_relative_error(y32, y64) < 1e-5);
}

TEST_CASE("conv2d rejects bad arguments with the op name and shapes") {
  const Tensor x = Tensor::zeros({2, 5, 7, 3}), w = Tensor::zeros({4, 3, 3, 5});
  CHECK_THROWS_WITH_AS(conv2d_forward(x, w, Tensor(), Conv2dParams{}),
                       doctest::Contains("conv2d_forward(x [2,5,7,3] float32 cpu, w [4,3,3,5] float32 cpu"), Error);
  CHECK_THROWS_WITH_AS(conv2d_forward(x, w, Tensor(), Conv2dParams{}), doctest::Contains("5 input channels"), Error);
  const Tensor w64 = Tensor::zeros({4, 3, 3, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(conv2d_forward(x, w64, Tensor(), Conv2dParams{}), doctest::Contains("one dtype"), Error);
  const Tensor labels = Tensor::zeros({2, 5, 7, 3}, DType::U8);
  CHECK_THROWS_WITH_AS(conv2d_forward(labels, w, Tensor(), Conv2dParams{}),
                       doctest::Contains("x must be float32 or float64"), Error);
  Tensor y = Tensor::zeros({2, 5, 7, 4});
  CHECK_THROWS_WITH_AS(conv2d_forward(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), y, Conv2dParams{}),
                       doctest::Contains("y must have shape [2,3,5,4]"), Error);
  CHECK_THROWS_WITH_AS(conv2d_forward(x, Tensor::zeros({4, 3, 3, 3}), Tensor(), Conv2dParams{0, 0, 1}),
                       doctest::Contains("invalid stride 0"), Error);
  // A 5-wide kernel on a 2-wide input with stride 4: no output, not a rounded-up single pixel.
  CHECK(conv2d_output_size(2, 5, Conv2dParams{4, 0, 1}) == 0);
  CHECK_THROWS_WITH_AS(
      conv2d_forward(Tensor::zeros({1, 2, 2, 3}), Tensor::zeros({4, 5, 5, 3}), Tensor(), Conv2dParams{4, 0, 1}),
      doctest::Contains("does not fit"), Error);
}

TEST_CASE("conv2d rejects mixed devices") {
  // Borrowed host memory labelled cuda:0: the checks reject it before any pointer is used.
  std::vector<float> memory(4 * 3 * 3 * 3);
  const Tensor x = Tensor::zeros({2, 5, 7, 3});
  const Tensor w_cuda = Tensor::wrap(memory.data(), {4, 3, 3, 3}, DType::F32, Device::cuda(0));
  CHECK_THROWS_WITH_AS(conv2d_forward(x, w_cuda, Tensor(), Conv2dParams{}),
                       doctest::Contains("all tensors must be on one device, w is on cuda:0 and x on cpu"), Error);
}
