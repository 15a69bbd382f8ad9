// The elementwise kernels of the cuDNN paths (kernels/cuda/cudnn_elementwise.h) against their
// definitions computed on the host. Tolerance: none. Each output element is one float32 operation
// (a multiply by the slope, an add) or one round-to-nearest-even conversion, which the host performs
// identically, so results must match bit for bit. Counts of 1003 elements leave a tail after the
// 16-byte vectors; inputs hold ±0, halfway cases of the bf16 rounding and a subnormal (and, for the
// conversion, infinities and NaN).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cuda/cudnn_elementwise.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr std::int64_t kCount = 1003;
constexpr float kSlope = 0.01f;

// Uniform values in [-4, 4) with special values planted at the start: ±0, halfway cases of the
// bf16 rounding and a subnormal always; infinities and NaN only where no arithmetic touches them
// (a GPU returns its canonical NaN from arithmetic, the host propagates the operand's payload).
std::vector<float> test_values(std::uint64_t stream, bool with_non_finite = false) {
  std::vector<float> values = uniform_f32({kCount}, stream, -4.0, 4.0, 99).to_vector<float>();
  std::vector<float> specials = {0.0f, -0.0f, 1.00390625f /* 1 + 2^-8: halfway, rounds to even 1 */,
                                 1.01171875f /* 1 + 3*2^-8: halfway, rounds up */, -1e-40f /* subnormal */};
  if (with_non_finite)
    for (const float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()})
      specials.push_back(v);
  for (std::size_t i = 0; i < specials.size(); ++i) values[i] = specials[i];
  return values;
}

Tensor on_gpu(const std::vector<float>& values) { return Tensor::from_vector(values, {kCount}).to(gpu()); }

Tensor as_bf16_on_gpu(const std::vector<float>& values) {
  std::vector<bf16> rounded;
  for (const float v : values) rounded.push_back(float_to_bf16(v));
  return Tensor::from_vector(rounded, {kCount}).to(gpu());
}

float leaky(float v) { return v >= 0.0f ? v : v * kSlope; }
float leaky_grad(float z, float dz) { return z > 0.0f ? dz : dz * kSlope; }

}  // namespace

TEST_CASE("cudnn elementwise: float32 to bf16 rounds to nearest even, as the host does") {
  const std::vector<float> values = test_values(1, true);
  const Tensor src = on_gpu(values);
  Tensor dst = nan_tensor({kCount}, DType::BF16);
  cuda::convert_float_to_bf16(src.data<float>(), dst.data<bf16>(), kCount);
  CHECK(same_bits(dst, as_bf16_on_gpu(values)));
}

TEST_CASE("cudnn elementwise: bf16 accumulated into float32") {
  const std::vector<float> addends = test_values(2), start = test_values(3);
  const Tensor src = as_bf16_on_gpu(addends);
  Tensor dst = on_gpu(start);
  cuda::accumulate_bf16_into_float(src.data<bf16>(), dst.data<float>(), kCount);
  std::vector<float> expected(start);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += bf16_to_float(float_to_bf16(addends[i]));
  CHECK(same_bits(dst, Tensor::from_vector(expected, {kCount})));
}

TEST_CASE("cudnn elementwise: leaky ReLU forward and backward, float32 and bf16, in place too") {
  const std::vector<float> x = test_values(4), dz = test_values(5);
  std::vector<float> y, dx;
  for (std::size_t i = 0; i < x.size(); ++i) {
    y.push_back(leaky(x[i]));
    dx.push_back(leaky_grad(y[i], dz[i]));
  }
  SUBCASE("float32, separate outputs") {
    const Tensor gx = on_gpu(x), gdz = on_gpu(dz);
    Tensor gy = nan_tensor({kCount}), gdx = nan_tensor({kCount});
    cuda::leaky_relu_forward(gx.data<float>(), gy.data<float>(), kCount, kSlope);
    CHECK(same_bits(gy, Tensor::from_vector(y, {kCount})));
    cuda::leaky_relu_backward(gy.data<float>(), gdz.data<float>(), gdx.data<float>(), kCount, kSlope);
    CHECK(same_bits(gdx, Tensor::from_vector(dx, {kCount})));
  }
  SUBCASE("float32, outputs over their inputs") {
    Tensor g = on_gpu(x), gd = on_gpu(dz);
    cuda::leaky_relu_forward(g.data<float>(), g.data<float>(), kCount, kSlope);
    CHECK(same_bits(g, Tensor::from_vector(y, {kCount})));
    cuda::leaky_relu_backward(g.data<float>(), gd.data<float>(), gd.data<float>(), kCount, kSlope);
    CHECK(same_bits(gd, Tensor::from_vector(dx, {kCount})));
  }
  SUBCASE("bf16: float32 arithmetic on the stored values, one rounding when stored") {
    std::vector<float> yb, dxb;
    for (std::size_t i = 0; i < x.size(); ++i) {
      yb.push_back(bf16_to_float(float_to_bf16(leaky(bf16_to_float(float_to_bf16(x[i]))))));
      dxb.push_back(leaky_grad(yb[i], bf16_to_float(float_to_bf16(dz[i]))));
    }
    const Tensor gx = as_bf16_on_gpu(x), gdz = as_bf16_on_gpu(dz);
    Tensor gy = nan_tensor({kCount}, DType::BF16), gdx = nan_tensor({kCount}, DType::BF16);
    cuda::leaky_relu_forward(gx.data<bf16>(), gy.data<bf16>(), kCount, kSlope);
    CHECK(same_bits(gy, as_bf16_on_gpu(yb)));
    cuda::leaky_relu_backward(gy.data<bf16>(), gdz.data<bf16>(), gdx.data<bf16>(), kCount, kSlope);
    CHECK(same_bits(gdx, as_bf16_on_gpu(dxb)));
  }
}

TEST_CASE("cudnn elementwise: InPlace-ABN's scale |w| + eps and dw += sign(w) dscale, sign(0) = +1") {
  const float eps = 1e-5f;
  const std::vector<float> w = test_values(7), dscale = test_values(8), dw_start = test_values(9);
  std::vector<float> scale, dw(dw_start);
  for (std::size_t i = 0; i < w.size(); ++i) {
    scale.push_back(std::fabs(w[i]) + eps);
    dw[i] += w[i] < 0.0f ? -dscale[i] : dscale[i];
  }
  const Tensor gw = on_gpu(w), gdscale = on_gpu(dscale);
  Tensor gscale = nan_tensor({kCount}), gdw = on_gpu(dw_start);
  cuda::iabn_scale_from_weight(gw.data<float>(), gscale.data<float>(), kCount, eps);
  CHECK(same_bits(gscale, Tensor::from_vector(scale, {kCount})));
  cuda::accumulate_weight_gradient_from_scale(gw.data<float>(), gdscale.data<float>(), gdw.data<float>(), kCount);
  CHECK(same_bits(gdw, Tensor::from_vector(dw, {kCount})));
}

TEST_CASE("cudnn elementwise: a pointer off the 16-byte grid is refused by name") {
  const Tensor src = on_gpu(test_values(6));
  Tensor dst = nan_tensor({kCount});
  CHECK_THROWS_WITH_AS(cuda::leaky_relu_forward(src.data<float>() + 1, dst.data<float>(), kCount - 1, kSlope),
                       doctest::Contains("leaky_relu_forward: pointer"), Error);
}
